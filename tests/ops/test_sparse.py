"""Targeted tests of the sparse/segment ops (the registry covers gradcheck and torch parity)."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import tinytorch
from tests.helpers import host


def test_segment_sum_values_and_grad(device):
    data = tinytorch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]], device=device, requires_grad=True)
    ids = tinytorch.tensor([2, 0, 2, 2], device=device)
    out = tinytorch.segment_sum(data, ids, 4)
    np.testing.assert_allclose(host(out), [[3, 4], [0, 0], [13, 16], [0, 0]])
    (out * tinytorch.arange(4.0, device=device).reshape(4, 1)).sum().backward()
    np.testing.assert_allclose(host(data.grad), [[2, 2], [0, 0], [2, 2], [2, 2]])


def test_segment_sum_is_deterministic_and_exact_order(device):
    rng = np.random.default_rng(0)
    x = tinytorch.tensor(rng.standard_normal((500, 3)).astype(np.float32), device=device)
    ids = tinytorch.tensor(rng.integers(0, 7, 500), device=device)
    a = host(tinytorch.segment_sum(x, ids, 7))
    b = host(tinytorch.segment_sum(x, ids, 7))
    assert np.array_equal(a, b)
    want = np.zeros((7, 3))
    np.add.at(want, host(ids), host(x).astype(np.float64))
    np.testing.assert_allclose(a, want, atol=1e-4)


def test_segment_sum_empty_and_errors():
    out = tinytorch.segment_sum(tinytorch.zeros(0, 3), tinytorch.zeros(0, dtype=tinytorch.int64), 2)
    assert tuple(out.shape) == (2, 3) and not host(out).any()
    x = tinytorch.ones(3, 2)
    with pytest.raises(IndexError, match=r"segment_sum: segment_ids must lie in \[0, 2\), got values in \[0, 5\]"):
        tinytorch.segment_sum(x, tinytorch.tensor([0, 5, 1]), 2)
    with pytest.raises(TypeError, match="segment_sum: segment_ids must be an integer Tensor"):
        tinytorch.segment_sum(x, tinytorch.tensor([0.0, 1.0, 1.0]), 2)
    with pytest.raises(ValueError, match=r"segment_ids must have shape \(3,\).*\(2,\)"):
        tinytorch.segment_sum(x, tinytorch.tensor([0, 1]), 2)
    with pytest.raises(ValueError, match="num_segments must be a non-negative int"):
        tinytorch.segment_sum(x, tinytorch.tensor([0, 1, 1]), -1)


def test_sparse_coo_roundtrip_and_mm(device):
    i = [[0, 1, 1, 1], [2, 0, 2, 2]]
    A = tinytorch.sparse_coo_tensor(i, [3.0, 4.0, 5.0, 1.0], (2, 3), device=device)
    assert A.is_sparse and tuple(A.shape) == (2, 3) and A._nnz() == 4
    dense = np.array([[0, 0, 3], [4, 0, 6]], dtype=np.float32)
    np.testing.assert_allclose(host(A.to_dense()), dense)
    C = A.coalesce()
    assert C._nnz() == 3
    np.testing.assert_allclose(host(C.to_dense()), dense)
    np.testing.assert_allclose(host(A.t().to_dense()), dense.T)
    x = tinytorch.randn(3, 4, device=device, requires_grad=True)
    y = tinytorch.sparse.mm(A, x)
    np.testing.assert_allclose(host(y), dense @ host(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(host(A @ x), host(y))
    y.sum().backward()
    np.testing.assert_allclose(host(x.grad), dense.T @ np.ones((2, 4)), rtol=1e-6)


def test_sparse_mm_grad_of_values_matches_dense():
    v = tinytorch.tensor([1.0, -2.0, 0.5], dtype=tinytorch.float64, requires_grad=True)
    A = tinytorch.sparse_coo_tensor([[0, 2, 1], [1, 0, 1]], v, (3, 2))
    x = tinytorch.randn(2, 3, dtype=tinytorch.float64)
    g = tinytorch.randn(3, 3, dtype=tinytorch.float64)
    (tinytorch.sparse.mm(A, x) * g).sum().backward()
    full = host(g) @ host(x).T  # dL/dA for a dense A
    np.testing.assert_allclose(host(v.grad), [full[0, 1], full[2, 0], full[1, 1]])


def test_sparse_errors():
    A = tinytorch.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 2.0], (2, 2))
    with pytest.raises(RuntimeError, match=r"sparse.mm: shapes cannot be multiplied: sparse \(2, 2\) @ dense \(3, 1\)"):
        tinytorch.sparse.mm(A, tinytorch.ones(3, 1))
    with pytest.raises(ValueError, match="expected a 2-D dense matrix"):
        tinytorch.sparse.mm(A, tinytorch.ones(2))
    with pytest.raises(TypeError, match="sparse COO matrix"):
        tinytorch.sparse.mm(tinytorch.ones(2, 2), tinytorch.ones(2, 2))
    with pytest.raises(IndexError, match=r"indices of dimension 1 must lie in \[0, 2\)"):
        tinytorch.sparse_coo_tensor([[0, 1], [1, 4]], [1.0, 2.0], (2, 2))
    with pytest.raises(ValueError, match=r"values must have shape \(2,\)"):
        tinytorch.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 2.0, 3.0], (2, 2))
    assert tuple(tinytorch.sparse_coo_tensor([[0, 3], [1, 0]], [1.0, 2.0]).shape) == (4, 2)


def test_dense_mm_is_not_shadowed():
    assert tinytorch.mm is not tinytorch.sparse.mm
    np.testing.assert_allclose(host(tinytorch.mm(tinytorch.eye(2), tinytorch.ones(2, 2))), np.ones((2, 2)))


def test_missing_scipy_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.sparse", None)
    A = tinytorch.sparse_coo_tensor([[0], [0]], [1.0], (1, 1))
    with pytest.raises(ImportError, match="pip install scipy"):
        tinytorch.sparse.mm(A, tinytorch.ones(1, 1))
