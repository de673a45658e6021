"""The NumPy references themselves agree with torch.nn.functional and torch.optim."""
from __future__ import annotations

import numpy as np
import pytest

from tests.kernels import reference as ref

torch = pytest.importorskip("torch")
F = torch.nn.functional


@pytest.mark.parametrize("case", [
    ((2, 3, 7, 6), (5, 3, 3, 2), 1, 1, 1, 1),
    ((2, 4, 9, 8), (6, 2, 3, 3), (2, 1), (1, 2), (1, 2), 2),
    ((1, 6, 6, 7), (6, 1, 3, 3), 2, 1, 1, 6),
])
def test_conv2d_reference_matches_torch(rng, case):
    xs, ws, stride, padding, dilation, groups = case
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = F.conv2d(tx, tw, tb, stride, padding, dilation, groups)
    y = ref.conv2d_forward(x, w, b, stride, padding, dilation, groups)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    dy = rng.standard_normal(y.shape)
    relu_out = np.maximum(y, 0)
    F.relu(ty).backward(torch.tensor(dy))
    gx, gw, gb = ref.conv2d_backward(x, w, dy, stride, padding, dilation, groups, relu_out=relu_out)
    for got, t in ((gx, tx), (gw, tw), (gb, tb)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("activation,torch_act", [
    ("relu", F.relu), ("gelu", F.gelu), ("gelu_tanh", lambda z: F.gelu(z, approximate="tanh")),
    (None, lambda z: z),
])
def test_linear_act_reference_matches_torch(rng, activation, torch_act):
    z = torch.tensor(rng.standard_normal((6, 5)), requires_grad=True)
    b = torch.tensor(rng.standard_normal(5), requires_grad=True)
    g = rng.standard_normal((6, 5))
    torch_act(z + b).backward(torch.tensor(g))
    dz, db = ref.linear_act_backward(g, (z + b).detach().numpy(), activation)
    np.testing.assert_allclose(dz, z.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, b.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_softmax_cross_entropy_reference_matches_torch(rng):
    x = torch.tensor(rng.standard_normal((6, 4)) * 5, requires_grad=True)
    t = torch.tensor([0, 3, -100, 2, 1, -100])
    loss = F.cross_entropy(x, t, ignore_index=-100, reduction="none")
    loss.sum().backward()
    rl, rg = ref.softmax_cross_entropy(x.detach().numpy(), t.numpy(), -100)
    np.testing.assert_allclose(rl, loss.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rg, x.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("opts", [
    dict(momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=False, maximize=True),
    dict(momentum=0.8, dampening=0.0, weight_decay=0.1, nesterov=True, maximize=False),
])
def test_sgd_reference_matches_torch(rng, opts):
    p0 = rng.standard_normal(5)
    tp = torch.tensor(p0.copy(), requires_grad=True)
    opt = torch.optim.SGD([tp], lr=0.1, **opts)
    p, buf = p0, None
    for _ in range(3):
        g = rng.standard_normal(5)
        tp.grad = torch.tensor(g)
        opt.step()
        p, buf = ref.sgd_step(p, g, buf, lr=0.1, **opts)
    np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(buf, opt.state[tp]["momentum_buffer"].numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls,decoupled", [("Adam", False), ("AdamW", True)])
@pytest.mark.parametrize("amsgrad,maximize", [(False, False), (True, True)])
def test_adam_reference_matches_torch(rng, cls, decoupled, amsgrad, maximize):
    p0 = rng.standard_normal(5)
    tp = torch.tensor(p0.copy(), requires_grad=True)
    opt = getattr(torch.optim, cls)([tp], lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1,
                                    amsgrad=amsgrad, maximize=maximize)
    p, m, v, vmax = p0, np.zeros(5), np.zeros(5), np.zeros(5)
    for step in range(1, 4):
        g = rng.standard_normal(5)
        tp.grad = torch.tensor(g)
        opt.step()
        p, m, v, vmax = ref.adam_step(p, g, m, v, vmax, step, 0.01, (0.8, 0.95), 1e-6, 0.1, amsgrad, maximize,
                                      decoupled)
    np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(m, opt.state[tp]["exp_avg"].numpy(), rtol=1e-12, atol=1e-12)
