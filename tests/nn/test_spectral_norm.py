"""nn.utils.spectral_norm / remove_spectral_norm: power iteration, train/eval, gradients and removal vs torch."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn


def test_by_hand():
    lin = nn.Linear(2, 2, bias=False)
    with tinytorch.no_grad():
        lin.weight.copy_(tinytorch.tensor([[3.0, 0.0], [0.0, 1.0]]))  # spectral norm 3
    nn.utils.spectral_norm(lin, n_power_iterations=20)
    assert sorted(lin.state_dict()) == ["weight_orig", "weight_u", "weight_v"]
    out = lin(tinytorch.tensor([[1.0, 1.0]]))
    np.testing.assert_allclose(out.detach().numpy(), [[1.0, 1.0 / 3.0]], rtol=1e-5)
    lin.eval()
    u = lin.weight_u.clone()
    lin(tinytorch.ones(1, 2))
    assert (lin.weight_u == u).all().item()  # no power iteration in eval mode
    with pytest.raises(RuntimeError, match="two spectral_norm hooks"):
        nn.utils.spectral_norm(lin)
    nn.utils.remove_spectral_norm(lin)
    assert sorted(lin.state_dict()) == ["weight"]
    np.testing.assert_allclose(lin.weight.detach().numpy(), [[1.0, 0.0], [0.0, 1.0 / 3.0]], rtol=1e-5)
    with pytest.raises(ValueError, match="n_power_iterations"):
        nn.utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


@pytest.mark.parametrize("cls,args", [("Linear", (4, 3)), ("Conv2d", (2, 3, 2)), ("ConvTranspose2d", (2, 3, 2))])
def test_matches_torch(cls, args):
    torch = pytest.importorskip("torch")
    tl, ol = getattr(torch.nn, cls)(*args).double(), getattr(nn, cls)(*args).double()
    ol.load_state_dict({k: tinytorch.tensor(v.numpy()) for k, v in tl.state_dict().items()})
    tl, ol = torch.nn.utils.spectral_norm(tl), nn.utils.spectral_norm(ol)
    assert sorted(tl.state_dict()) == sorted(ol.state_dict())
    ol.weight_u.copy_(tinytorch.tensor(tl.weight_u.numpy()))  # the random start vectors differ: share torch's
    ol.weight_v.copy_(tinytorch.tensor(tl.weight_v.numpy()))
    x = np.random.default_rng(0).standard_normal((2, 4) if cls == "Linear" else (2, 2, 5, 5))
    for mode in ("train", "train", "eval"):
        getattr(tl, mode)()
        getattr(ol, mode)()
        ty, oy = tl(torch.tensor(x)), ol(tinytorch.tensor(x))
        np.testing.assert_allclose(oy.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ol.weight_u.numpy(), tl.weight_u.numpy(), rtol=1e-10, atol=1e-12)
    tl.train()
    ol.train()
    ty, oy = tl(torch.tensor(x)), ol(tinytorch.tensor(x))
    (ty ** 2).sum().backward()
    (oy ** 2).sum().backward()
    np.testing.assert_allclose(ol.weight_orig.grad.numpy(), tl.weight_orig.grad.numpy(), rtol=1e-9, atol=1e-12)
    torch.nn.utils.remove_spectral_norm(tl)
    nn.utils.remove_spectral_norm(ol)
    np.testing.assert_allclose(ol.weight.detach().numpy(), tl.weight.detach().numpy(), rtol=1e-10, atol=1e-12)
