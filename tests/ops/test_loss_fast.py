"""The one-op class-index losses (NllIndices, CrossEntropyIndices): array backward equal to the differentiable one and to torch."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F


@pytest.mark.parametrize("fn", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore", [None, 2])
def test_fast_backward_equals_graph_backward_and_torch(fn, reduction, ignore):
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((6, 5))
    t_np = np.array([0, 2, 4, 2, 1, 3])
    kw = {"reduction": reduction} | ({} if ignore is None else {"ignore_index": ignore})
    go_np = rng.standard_normal(6) if reduction == "none" else np.array(1.7)
    x = tinytorch.tensor(x_np, requires_grad=True)
    loss = getattr(F, fn)(x, tinytorch.tensor(t_np), **kw)
    (fast,) = tinytorch.autograd.grad(loss, [x], tinytorch.tensor(go_np))
    loss = getattr(F, fn)(x, tinytorch.tensor(t_np), **kw)
    go = tinytorch.tensor(go_np, requires_grad=True)  # nll's gradient is linear in it: the graph path must record
    (graph,) = tinytorch.autograd.grad(loss, [x], go, create_graph=True)
    assert graph.requires_grad  # really the differentiable backward
    np.testing.assert_allclose(fast.numpy(), graph.detach().numpy(), rtol=1e-12, atol=1e-14)
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x_np, requires_grad=True)
    lt = getattr(torch.nn.functional, fn)(xt, torch.tensor(t_np), **kw)
    lt.backward(torch.tensor(go_np))
    np.testing.assert_allclose(loss.detach().numpy(), lt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(fast.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_nll_loss_all_targets_ignored_is_nan_with_zero_grad():
    x = tinytorch.tensor(np.zeros((2, 3)), requires_grad=True)
    loss = F.nll_loss(x, tinytorch.tensor([1, 1]), ignore_index=1)
    assert np.isnan(loss.item())
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))
