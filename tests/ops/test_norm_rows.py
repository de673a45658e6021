"""The BLAS row statistics (ops/_rows.py: layer_norm, softmax) are held equal to NumPy's reductions."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as torch
from tinytorch.ops import _rows as R


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, axes", [((6, 5, 7), (2,)), ((6, 5, 7), (1, 2)), ((6, 5, 7), (-1,)), ((3, 128), (1,)),
                                         ((6, 5, 7), (0, 2)), ((4, 1), (1,))])
def test_row_means_match_numpy(shape, axes, dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(shape).astype(dtype)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    for got, want in ((R.mean_keep(np, a, axes), a.mean(axis=axes, keepdims=True)),
                      (R.sum_keep(np, a, axes), a.sum(axis=axes, keepdims=True)),
                      (R.dot_keep(np, a, b, axes, mean=True), (a * b).mean(axis=axes, keepdims=True)),
                      (R.dot_keep(np, a, b, axes), (a * b).sum(axis=axes, keepdims=True))):
        assert got.shape == want.shape and got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_rows_only_for_trailing_contiguous_float_arrays():
    a = np.zeros((4, 5, 6), dtype=np.float32)
    assert R.rows(np, a, (2,)).shape == (20, 6)
    assert R.rows(np, a, (-2, -1)).shape == (4, 30)
    assert R.rows(np, a, (0, 2)) is None            # not trailing: NumPy's mean
    assert R.rows(np, a.transpose(0, 2, 1), (2,)) is None  # not contiguous
    assert R.rows(np, a.astype(np.int64), (2,)) is None


def _fast_and_plain(monkeypatch, run):
    """``run()`` with the BLAS rows, then with them switched off (NumPy's reductions): both results."""
    fast = run()
    monkeypatch.setattr(R, "rows", lambda xp, a, axes: None)
    return fast, run()


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_fast_path_equals_plain_path(monkeypatch, affine):
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal((4, 6, 32)).astype(np.float32) * 3 + 1
    w_np, b_np = rng.standard_normal(32).astype(np.float32), rng.standard_normal(32).astype(np.float32)
    g = rng.standard_normal((4, 6, 32)).astype(np.float32)

    def run():
        x = torch.tensor(x_np, requires_grad=True)
        w = torch.tensor(w_np, requires_grad=True) if affine else None
        b = torch.tensor(b_np, requires_grad=True) if affine else None
        y = torch.nn.functional.layer_norm(x, (32,), w, b)
        y.backward(torch.tensor(g))
        return [y.detach().numpy(), x.grad.numpy()] + ([w.grad.numpy(), b.grad.numpy()] if affine else [])

    fast, plain = _fast_and_plain(monkeypatch, run)
    for f, p in zip(fast, plain):
        np.testing.assert_allclose(f, p, rtol=1e-5, atol=2e-5)


def test_softmax_fast_path_equals_plain_path(monkeypatch):
    rng = np.random.default_rng(2)
    x_np = rng.standard_normal((3, 5, 64)).astype(np.float32) * 4
    g = rng.standard_normal((3, 5, 64)).astype(np.float32)

    def run():
        x = torch.tensor(x_np, requires_grad=True)
        y = torch.softmax(x, -1)
        y.backward(torch.tensor(g))
        return y.detach().numpy(), x.grad.numpy()

    fast, plain = _fast_and_plain(monkeypatch, run)
    for f, p in zip(fast, plain):
        np.testing.assert_allclose(f, p, rtol=1e-5, atol=1e-6)
    e = np.exp(x_np - x_np.max(-1, keepdims=True))
    np.testing.assert_allclose(fast[0], e / e.sum(-1, keepdims=True), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sum_leading_matches_numpy_and_sum_to_size(dtype):
    a = np.random.default_rng(3).standard_normal((4, 6, 5)).astype(dtype)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    for lead in (1, 2):
        got = R.sum_leading(np, a, lead)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, a.sum(axis=tuple(range(lead))), rtol=tol, atol=tol)
    assert R.sum_leading(np, a, 0) is None and R.sum_leading(np, a, 3) is None
    assert R.sum_leading(np, a.transpose(1, 0, 2), 1) is None
    np.testing.assert_allclose(torch.tensor(a).sum_to_size(5).numpy(), a.sum(axis=(0, 1)), rtol=tol, atol=tol)
    np.testing.assert_allclose(torch.tensor(a).sum_to_size(1, 6, 5).numpy(), a.sum(axis=0, keepdims=True),
                               rtol=tol, atol=tol)


def test_broadcast_bias_gradient_fast_equals_plain(monkeypatch):
    rng = np.random.default_rng(4)
    x_np, b_np = rng.standard_normal((8, 3, 16)).astype(np.float32), rng.standard_normal(16).astype(np.float32)

    def run():
        b = torch.tensor(b_np, requires_grad=True)
        ((torch.tensor(x_np) + b) ** 2).sum().backward()
        return b.grad.numpy()

    fast = run()
    monkeypatch.setattr(R, "sum_leading", lambda xp, a, lead: None)
    np.testing.assert_allclose(fast, run(), rtol=1e-5, atol=1e-5)
