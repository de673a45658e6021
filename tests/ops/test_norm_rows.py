"""The BLAS row statistics of the normalization op are held equal to NumPy's mean (its plain path)."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as torch
from tinytorch.ops import normalization as N


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, axes", [((6, 5, 7), (2,)), ((6, 5, 7), (1, 2)), ((6, 5, 7), (-1,)), ((3, 128), (1,)),
                                         ((6, 5, 7), (0, 2)), ((4, 1), (1,))])
def test_row_means_match_numpy(shape, axes, dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(shape).astype(dtype)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    got = N._mean_keep(np, a, axes)
    assert got.shape == a.mean(axis=axes, keepdims=True).shape and got.dtype == dtype
    np.testing.assert_allclose(got, a.mean(axis=axes, keepdims=True), rtol=tol, atol=tol)
    got = N._mean_prod_keep(np, a, b, axes)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, (a * b).mean(axis=axes, keepdims=True), rtol=tol, atol=tol)


def test_rows_only_for_trailing_contiguous_float_arrays():
    a = np.zeros((4, 5, 6), dtype=np.float32)
    assert N._rows(np, a, (2,)).shape == (20, 6)
    assert N._rows(np, a, (-2, -1)).shape == (4, 30)
    assert N._rows(np, a, (0, 2)) is None            # not trailing: NumPy's mean
    assert N._rows(np, a.transpose(0, 2, 1), (2,)) is None  # not contiguous
    assert N._rows(np, a.astype(np.int64), (2,)) is None


def test_layer_norm_fast_path_equals_plain_path():
    # a transposed (non-contiguous) input takes NumPy's mean; its contiguous copy takes the BLAS rows
    rng = np.random.default_rng(1)
    base = rng.standard_normal((32, 6, 4)).astype(np.float32)
    w = torch.tensor(rng.standard_normal(32).astype(np.float32), requires_grad=True)
    b = torch.tensor(rng.standard_normal(32).astype(np.float32), requires_grad=True)
    g = rng.standard_normal((4, 6, 32)).astype(np.float32)
    results = []
    for arr in (base.transpose(2, 1, 0), np.ascontiguousarray(base.transpose(2, 1, 0))):
        x = torch.tensor(arr, requires_grad=True)
        assert x._data.flags.c_contiguous == (len(results) == 1)
        y = torch.nn.functional.layer_norm(x, (32,), w, b)
        y.backward(torch.tensor(g))
        results.append((y.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()))
        w.grad = b.grad = None
    for plain, fast in zip(*results):
        np.testing.assert_allclose(fast, plain, rtol=1e-5, atol=2e-5)
