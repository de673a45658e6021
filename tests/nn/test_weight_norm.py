"""nn.utils.weight_norm / remove_weight_norm (the hook API): parameters, forward and gradients vs torch."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn

pytestmark = pytest.mark.filterwarnings("ignore:torch.nn.utils.weight_norm is deprecated:FutureWarning")


def test_by_hand():
    lin = nn.Linear(2, 2)
    with tinytorch.no_grad():
        lin.weight.copy_(tinytorch.tensor([[3.0, 4.0], [0.0, 2.0]]))
    nn.utils.weight_norm(lin)
    assert sorted(n for n, _ in lin.named_parameters()) == ["bias", "weight_g", "weight_v"]
    assert lin.weight_g.detach().flatten().tolist() == [5.0, 2.0]
    with tinytorch.no_grad():
        lin.weight_g.mul_(2.0)
    lin(tinytorch.zeros(1, 2))  # the pre-hook recomputes weight = g * v / ||v||
    assert lin.weight.detach().tolist() == [[6.0, 8.0], [0.0, 4.0]]
    with pytest.raises(RuntimeError, match="two weight_norm hooks"):
        nn.utils.weight_norm(lin)
    nn.utils.remove_weight_norm(lin)
    assert sorted(n for n, _ in lin.named_parameters()) == ["bias", "weight"]
    assert lin.weight.detach().tolist() == [[6.0, 8.0], [0.0, 4.0]]
    with pytest.raises(ValueError, match="not found"):
        nn.utils.remove_weight_norm(lin)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_matches_torch(dim):
    torch = pytest.importorskip("torch")
    tl, ol = torch.nn.Conv1d(3, 4, 2).double(), nn.Conv1d(3, 4, 2).double()
    ol.load_state_dict({k: tinytorch.tensor(v.numpy()) for k, v in tl.state_dict().items()})
    with pytest.warns(FutureWarning):
        tl = torch.nn.utils.weight_norm(tl, dim=dim)
    ol = nn.utils.weight_norm(ol, dim=dim)
    assert sorted(tl.state_dict()) == sorted(ol.state_dict())
    assert tuple(ol.weight_g.shape) == tuple(tl.weight_g.shape)
    with torch.no_grad():
        tl.weight_g.mul_(1.5)
    with tinytorch.no_grad():
        ol.weight_g.mul_(1.5)
    x = np.random.default_rng(0).standard_normal((2, 3, 5))
    ty, oy = tl(torch.tensor(x)), ol(tinytorch.tensor(x))
    np.testing.assert_allclose(oy.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    (ty ** 2).sum().backward()
    (oy ** 2).sum().backward()
    np.testing.assert_allclose(ol.weight_g.grad.numpy(), tl.weight_g.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ol.weight_v.grad.numpy(), tl.weight_v.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_dim_minus_one_is_one_norm_over_the_whole_tensor_like_torch():
    torch = pytest.importorskip("torch")
    import tinytorch as tt

    lin = tt.nn.utils.weight_norm(tt.nn.Linear(3, 4), dim=-1)
    ref = torch.nn.utils.weight_norm(torch.nn.Linear(3, 4), dim=-1)
    assert tuple(lin.weight_g.shape) == tuple(ref.weight_g.shape) == ()
    np.testing.assert_allclose(lin.weight_g.detach().numpy(), np.linalg.norm(lin.weight_v.detach().numpy()),
                               rtol=1e-6)
