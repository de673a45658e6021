"""Gradients of basic-index views (``x[:, t]``, ``select``, ``narrow``) go into one shared buffer.

The engine adds each slice's first-order gradient into the slot of one full-size buffer for the
sliced tensor (``Function.grad_slice``), and adds later gradients for a node into a buffer it
allocated itself in place. These tests hold the results equal to PyTorch's and pin the allocation
count: a loop over T slices must allocate O(1) full-size arrays, not T.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import tinytorch


def _both(fn, *arrays):
    """Run ``fn`` on tinytorch and torch tensors made from ``arrays`` (float64); return both grads."""
    tt = [tinytorch.tensor(a, requires_grad=True) for a in arrays]
    pt = [torch.tensor(a, requires_grad=True) for a in arrays]
    fn(tinytorch, *tt).backward()
    fn(torch, *pt).backward()
    return [t.grad.numpy() for t in tt], [p.grad.numpy() for p in pt]


def _steps(lib, x):  # x (N, T, H): an RNN-style loop over x[:, t]
    h = x[:, 0] * 0.0
    for t in range(x.shape[1]):
        h = lib.tanh(x[:, t] + 0.5 * h)
    return h.sum()


INDEX_CASES = {
    "loop": _steps,
    "int-slices-none-ellipsis": lambda lib, x: (x[0, 1:3, None] * 2).sum() + x[..., -1].pow(2).sum() + x[1].sum(),
    "strided": lambda lib, x: (x[:, ::2] * x[:, ::2]).sum() + x[:, 1::2].sum() + x[:, 1:4:3].sum(),
    "overlapping": lambda lib, x: (x[:, :3] * 3).sum() + (x[:, 1:] * x[:, 1:]).sum(),
    "dense-and-slices": lambda lib, x: (x * x).sum() + x[:, 2].exp().sum() + x.select(1, 0).sum() + x.narrow(2, 1, 2).sum(),
    "slice-of-slice": lambda lib, x: x[1:][:, 2:][0, 0, 1] * 5 + x[:, 0].sum(),
    "broadcast-operand": lambda lib, x: (x[:, 1] + x[0, 0]).sum(),
}


@pytest.mark.parametrize("case", list(INDEX_CASES), ids=list(INDEX_CASES))
def test_slice_gradients_match_torch(case):
    x = np.random.default_rng(0).standard_normal((3, 5, 4))
    (gt,), (gp,) = _both(INDEX_CASES[case], x)
    np.testing.assert_allclose(gt, gp, rtol=1e-12, atol=1e-12)


def test_shared_leaf_and_multi_consumer_stay_separate():
    # add's backward hands one array to both inputs; in-place accumulation must not leak across them
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))

    def fn(lib, a, b):
        s = a + b
        return (s * s).sum() + a[1].sum() + (a * 3).sum() + b[:, 0].sum() + s[2].sum()

    gt, gp = _both(fn, a, b)
    for t, p in zip(gt, gp):
        np.testing.assert_allclose(t, p, rtol=1e-12, atol=1e-12)


def test_user_gradient_and_leaf_grad_are_not_overwritten():
    x = tinytorch.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x * 1.0
    seed = tinytorch.ones(2, 3, dtype=tinytorch.float64)
    y.backward(seed, retain_graph=True)
    first = x.grad
    (y[0].sum() + y[:, 1].sum()).backward()  # accumulates into .grad: a new array, first untouched
    np.testing.assert_array_equal(seed.numpy(), np.ones((2, 3)))
    np.testing.assert_array_equal(first.numpy(), np.ones((2, 3)))
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 3.0, 2.0], [1.0, 2.0, 1.0]])


def _slice_sum(y):
    return sum(y[i].sum() * (i + 1) for i in range(4)) + y[:, 0].sum()


def _expected_slice_sum_grad():
    expected = np.array([[1.0 + i] * 3 for i in range(4)])
    expected[:, 0] += 1
    return expected


def test_hooks_and_retain_grad_see_the_summed_gradient():
    x = tinytorch.zeros(4, 3, dtype=tinytorch.float64, requires_grad=True)
    y = x * 2.0
    y.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    _slice_sum(y).backward()
    np.testing.assert_array_equal(seen[0], _expected_slice_sum_grad())
    np.testing.assert_array_equal(y.grad.numpy(), _expected_slice_sum_grad())
    np.testing.assert_array_equal(x.grad.numpy(), 2 * _expected_slice_sum_grad())


def test_autograd_grad_of_a_sliced_tensor():
    x = tinytorch.zeros(4, 3, dtype=tinytorch.float64, requires_grad=True)
    y = x * 2.0
    gy, gx = tinytorch.autograd.grad(_slice_sum(y), [y, x])
    np.testing.assert_array_equal(gy.numpy(), _expected_slice_sum_grad())
    np.testing.assert_array_equal(gx.numpy(), 2 * _expected_slice_sum_grad())
    assert x.grad is None


def test_double_backward_through_slices():
    # create_graph takes the recorded path (IndexAccumulate): second derivatives still right
    xs = np.random.default_rng(2).standard_normal((2, 4, 3))
    x = tinytorch.tensor(xs, requires_grad=True)
    xt = torch.tensor(xs, requires_grad=True)
    for lib, v in ((tinytorch, x), (torch, xt)):
        (g,) = lib.autograd.grad(_steps(lib, v), [v], create_graph=True)
        (g[:, 1] ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_dtype_and_int_index_on_float32():
    x = tinytorch.ones(3, 2, requires_grad=True)  # float32
    (x[2, 1] * 4 + x[0].sum()).backward()
    assert x.grad.dtype == tinytorch.float32
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1], [0, 0], [0, 4]])


def _count_full_size_zeros(monkeypatch, shape):
    """Count calls of ``np.zeros`` (and ``zeros_like``) that allocate an array of ``shape``."""
    calls = []
    real_zeros, real_like = np.zeros, np.zeros_like

    def zeros(s, *args, **kwargs):
        if tuple(np.atleast_1d(s)) == shape:
            calls.append(s)
        return real_zeros(s, *args, **kwargs)

    def zeros_like(a, *args, **kwargs):
        if np.shape(a) == shape:
            calls.append(np.shape(a))
        return real_like(a, *args, **kwargs)

    monkeypatch.setattr(np, "zeros", zeros)
    monkeypatch.setattr(np, "zeros_like", zeros_like)
    return calls


@pytest.mark.parametrize("take", ["getitem", "select", "narrow"])
def test_backward_of_t_slices_allocates_one_full_size_buffer(monkeypatch, take):
    T = 16
    x = tinytorch.randn(4, T, 8, requires_grad=True)
    pick = {
        "getitem": lambda t: x[:, t],
        "select": lambda t: x.select(1, t),
        "narrow": lambda t: x.narrow(1, t, 1),
    }[take]
    out = sum((pick(t) * float(t)).sum() for t in range(T))
    calls = _count_full_size_zeros(monkeypatch, (4, T, 8))
    out.backward()
    assert len(calls) <= 1, f"{len(calls)} full-size zero arrays for {T} slices"
    expected = np.broadcast_to(np.arange(T, dtype=np.float32)[None, :, None], (4, T, 8))
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_slice_loop_on_every_device(device):
    xs = np.random.default_rng(3).standard_normal((2, 6, 3))
    x = tinytorch.tensor(xs, device=device, requires_grad=True)
    xt = torch.tensor(xs, requires_grad=True)
    _steps(tinytorch, x).backward()
    _steps(torch, xt).backward()
    assert x.grad.device == x.device
    np.testing.assert_allclose(x.grad.cpu().numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)
