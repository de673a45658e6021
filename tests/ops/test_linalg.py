"""Products and tinytorch.linalg beyond the registry's generic checks."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tinytorch.autograd import gradcheck, gradgradcheck
from tests.helpers import host, tensor_of as _t


def _rand(rng, *shape):
    return rng.standard_normal(shape)


def test_matmul_shapes_and_error_message(device, rng):
    cases = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((5, 2, 3), (3, 4)), ((2, 1, 2, 3), (4, 3, 2))]
    for sa, sb in cases:
        a, b = _rand(rng, *sa), _rand(rng, *sb)
        out = tinytorch.matmul(_t(a, device), _t(b, device))
        np.testing.assert_allclose(host(out), np.matmul(a, b), atol=1e-12)
    with pytest.raises(RuntimeError, match=r"matmul: shapes \(3, 4\) and \(5, 6\) cannot be multiplied \(4 != 5\)"):
        tinytorch.matmul(_t(np.zeros((3, 4)), device), _t(np.zeros((5, 6)), device))
    with pytest.raises(RuntimeError, match="mm: mat1 and mat2 shapes cannot be multiplied"):
        tinytorch.mm(_t(np.zeros((3, 4)), device), _t(np.zeros((3, 4)), device))
    x = _t(np.ones((2, 2)), device)
    assert (x @ x).shape == (2, 2)


def test_matmul_batch_broadcast_gradient_reduces(device, rng):
    a = _t(_rand(rng, 2, 3), device, True)
    b = _t(_rand(rng, 4, 3, 2), device, True)
    (a @ b).sum().backward()
    assert a.grad.shape == (2, 3) and b.grad.shape == (4, 3, 2)
    want = (np.ones((4, 2, 2)) @ np.swapaxes(host(b.detach()), -1, -2)).sum(0)  # summed over the broadcast batch
    np.testing.assert_allclose(host(a.grad), want, atol=1e-12)


def test_linear_matches_torch_and_is_in_functional(device, rng):
    torch = pytest.importorskip("torch")
    x, w, b = _rand(rng, 2, 3, 4), _rand(rng, 5, 4), _rand(rng, 5)
    tx, tw, tb = (_t(v, device, True) for v in (x, w, b))
    out = F.linear(tx, tw, tb)
    ref = torch.nn.functional.linear(*(torch.tensor(v, requires_grad=True) for v in (x, w, b)))
    np.testing.assert_allclose(host(out.detach()), ref.detach().numpy(), atol=1e-12)
    (out * out).sum().backward()
    assert tw.grad.shape == (5, 4) and tb.grad.shape == (5,)
    with pytest.raises(RuntimeError, match=r"linear: input of shape \(2, 3, 4\) and weight of shape \(5, 3\)"):
        F.linear(tx, _t(np.zeros((5, 3)), device))
    assert F.bilinear is tinytorch.ops.linalg.bilinear


def test_einsum_forms(device, rng):
    a, b = _rand(rng, 3, 3), _rand(rng, 3, 4)
    ta, tb = _t(a, device), _t(b, device)
    for eq, ops in [("ii", (a,)), ("ij->ji", (a,)), ("ij,jk", (a, b)), ("i,i->", (a[0], a[1])), ("ij,ij->i", (a, a)),
                    ("...j,jk->...k", (a, b)), ("bij->b", (_rand(rng, 2, 2, 3),))]:
        got = tinytorch.einsum(eq, *[_t(o, device) for o in ops])
        np.testing.assert_allclose(host(got), np.einsum(eq, *ops), atol=1e-12, err_msg=eq)
    assert tinytorch.einsum("ij,jk->ik", [ta, tb]).shape == (3, 4)  # operands as a list
    with pytest.raises(RuntimeError, match="einsum"):
        tinytorch.einsum("ij,jk->ik", ta, ta[:2])


def test_einsum_double_backward_with_repeated_index(device, rng):
    x = _t(_rand(rng, 3, 3), device, True)
    v = _t(_rand(rng, 3), device, True)
    assert gradgradcheck(lambda a, b: tinytorch.einsum("ii,i->i", a, b), (x, v))


def test_addmm_family_beta_zero_ignores_nan(device, rng):
    inp = _t(np.full((2, 2), np.nan), device)
    out = tinytorch.addmm(inp, _t(np.eye(2), device), _t(np.eye(2), device), beta=0)
    np.testing.assert_array_equal(host(out), np.eye(2))


def test_linalg_namespace_vs_numpy(device, rng):
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    ta = _t(a, device)
    LA = tinytorch.linalg
    np.testing.assert_allclose(host(LA.inv(ta)), np.linalg.inv(a), atol=1e-10)
    np.testing.assert_allclose(host(LA.det(ta)), np.linalg.det(a), atol=1e-10)
    np.testing.assert_allclose(host(LA.solve(ta, _t([1.0, 2.0, 3.0], device))), np.linalg.solve(a, [1.0, 2.0, 3.0]), atol=1e-10)
    spd = a @ a.T
    np.testing.assert_allclose(host(LA.cholesky(_t(spd, device))), np.linalg.cholesky(spd), atol=1e-10)
    q, r = LA.qr(ta)
    np.testing.assert_allclose(host(q) @ host(r), a, atol=1e-10)
    u, s, vh = LA.svd(_t(_rand(rng, 4, 3), device), full_matrices=False)
    assert u.shape == (4, 3) and s.shape == (3,) and vh.shape == (3, 3)
    w, v = LA.eigh(_t(spd, device))
    np.testing.assert_allclose(host(w), np.linalg.eigvalsh(spd), atol=1e-10)
    assert LA.matrix_rank(_t(np.outer([1.0, 2.0], [3.0, 4.0]), device)).item() == 1
    np.testing.assert_allclose(host(LA.pinv(_t(a[:, :2], device))), np.linalg.pinv(a[:, :2]), atol=1e-10)
    np.testing.assert_allclose(host(LA.norm(ta)), np.linalg.norm(a), atol=1e-12)
    np.testing.assert_allclose(host(LA.norm(ta, 2)), np.linalg.norm(a, 2), atol=1e-10)
    np.testing.assert_allclose(host(LA.vector_norm(ta, 0.5, dim=1)), (np.abs(a) ** 0.5).sum(1) ** 2, atol=1e-10)


def test_namedtuples_and_errors(device, rng):
    LA = tinytorch.linalg
    a = _t(_rand(rng, 3, 3), device)
    sl = LA.slogdet(a)
    assert sl._fields == ("sign", "logabsdet")
    assert LA.qr(a)._fields == ("Q", "R")
    assert LA.svd(a)._fields == ("U", "S", "Vh")
    assert LA.eigh(a)._fields == ("eigenvalues", "eigenvectors")
    assert tinytorch.svd(a)._fields == ("U", "S", "V")
    with pytest.raises(RuntimeError, match=r"linalg.inv: A must be batches of square matrices.*\(2, 3\)"):
        LA.inv(_t(np.zeros((2, 3)), device))
    with pytest.raises(RuntimeError, match=r"linalg.cholesky.*not positive-definite"):
        LA.cholesky(_t(-np.eye(2), device))
    with pytest.raises(RuntimeError, match=r"linalg.inv: .*singular"):
        LA.inv(_t(np.zeros((2, 2)), device))


def test_norm_gradient_at_zero_is_zero(device):
    x = _t(np.zeros(3), device, True)
    tinytorch.linalg.vector_norm(x).backward()
    np.testing.assert_array_equal(host(x.grad), np.zeros(3))


def test_svd_full_and_legacy_forms(device, rng):
    a = _t(_rand(rng, 4, 3), device, True)
    u, s, vh = tinytorch.linalg.svd(a)  # full_matrices=True by default, like torch
    assert u.shape == (4, 4) and vh.shape == (3, 3)
    s.sum().backward()  # singular values stay differentiable with full matrices
    want_u, _, want_vh = np.linalg.svd(host(a.detach()), full_matrices=False)
    np.testing.assert_allclose(host(a.grad), want_u @ want_vh, atol=1e-10)
    U, S, V = tinytorch.svd(a.detach())
    np.testing.assert_allclose(host(U) * host(S) @ host(V).T, host(a.detach()), atol=1e-10)


def test_qr_gradcheck_square(device, rng):
    a = _t(_rand(rng, 3, 3), device, True)
    assert gradcheck(lambda x: tinytorch.linalg.qr(x).R, (a,))


def test_cdist_matches_torch(device, rng):
    torch = pytest.importorskip("torch")
    x1, x2 = _rand(rng, 2, 4, 3), _rand(rng, 2, 5, 3)
    for p in (1.0, 2.0, 3.0, float("inf")):
        got = tinytorch.cdist(_t(x1, device), _t(x2, device), p=p)
        np.testing.assert_allclose(host(got), torch.cdist(torch.from_numpy(x1), torch.from_numpy(x2), p=p).numpy(), atol=1e-10)
