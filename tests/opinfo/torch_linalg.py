"""The op registry entries for tinytorch/linalg.py: sample inputs, NumPy references, PyTorch counterparts."""
from __future__ import annotations

import math
import numpy as np
import tinytorch.ops.elementwise as _ew

from tinytorch.ops._linalg import _const, _eye_like_n, _mT
from tinytorch.linalg import (
    cholesky, cross, det, eigh, eigvalsh, inv, matrix_norm, multi_dot, norm, pinv, qr,
    slogdet, solve, svd, svdvals, vector_norm,
)
from tinytorch.ops.linalg import matmul
from tests.opinfo.registry import away_from, OpInfo, randn, register, SampleInput


def _well_conditioned(rng, *shape):
    n = shape[-1]
    return rng.standard_normal(shape) * 0.5 + 2.0 * np.eye(n)


def _spd(x):
    """x x^T + n I: symmetric positive-definite whatever x is (gradcheck perturbs entries freely)."""
    n = x._data.shape[-1]
    return _ew.add(matmul(x, _mT(x)), _const(_eye_like_n(x) * n))


def _np_spd(x):
    return x @ np.swapaxes(x, -1, -2) + x.shape[-1] * np.eye(x.shape[-1])


def _sym(x):
    return _ew.mul(_ew.add(x, _mT(x)), 0.5)


def _np_sym(x):
    return (x + np.swapaxes(x, -1, -2)) / 2


def _away(rng, *shape):
    return away_from(rng, shape, margin=0.2)


def _reg(name, fn, samples, ref, torch_fn, **kw):
    register(OpInfo(name, fn, samples, ref=ref, torch_fn=torch_fn, **kw))


def _np_vector_norm(x, ord, dim, keepdim):
    a = np.abs(x)
    if math.isinf(ord):
        return a.max(axis=dim, keepdims=keepdim) if ord > 0 else a.min(axis=dim, keepdims=keepdim)
    return (a ** ord).sum(axis=dim, keepdims=keepdim) ** (1 / ord)


_reg("linalg.vector_norm", vector_norm, lambda rng: [
    SampleInput((randn(rng, 3, 4),), name="all"),
    SampleInput((randn(rng, 3, 4), 2, 1, True), name="dim_keepdim"),
    SampleInput((_away(rng, 3, 4), 1, (0, 1)), name="ord1"),
    SampleInput((_away(rng, 2, 3, 4), 3, -1), name="ord3"),
    SampleInput((_away(rng, 3, 4), math.inf, 0), name="inf")],
    lambda x, ord=2, dim=None, keepdim=False: _np_vector_norm(x, ord, dim, keepdim),
    lambda torch, x, ord=2, dim=None, keepdim=False: torch.linalg.vector_norm(x, ord, dim, keepdim))
_reg("linalg.matrix_norm", matrix_norm, lambda rng: [
    SampleInput((randn(rng, 2, 3, 4),), name="fro"),
    SampleInput((randn(rng, 3, 4), "nuc"), name="nuc"),
    SampleInput((randn(rng, 3, 4), 2), name="spectral"),
    SampleInput((_away(rng, 3, 4), 1), name="one"),
    SampleInput((_away(rng, 2, 3, 4), -math.inf, (-1, -2), True), name="neg_inf_keepdim")],
    lambda x, ord="fro", dim=(-2, -1), keepdim=False: np.linalg.norm(x, ord=ord, axis=dim, keepdims=keepdim),
    lambda torch, x, ord="fro", dim=(-2, -1), keepdim=False: torch.linalg.matrix_norm(x, ord, dim, keepdim))
_reg("linalg.norm", norm, lambda rng: [
    SampleInput((randn(rng, 3, 4),), name="default"),
    SampleInput((randn(rng, 3, 4), None, 1), name="dim"),
    SampleInput((randn(rng, 3, 4), "fro"), name="fro")],
    lambda x, ord=None, dim=None: np.asarray(np.linalg.norm(x.reshape(-1) if (dim is None and ord is None) else x, ord=ord, axis=dim)),
    lambda torch, x, ord=None, dim=None: torch.linalg.norm(x, ord, dim))
_reg("linalg.inv", inv, lambda rng: [SampleInput((_well_conditioned(rng, 3, 3),)), SampleInput((_well_conditioned(rng, 2, 2, 2),), name="batched")],
     np.linalg.inv, lambda torch, a: torch.linalg.inv(a))
_reg("linalg.solve", solve, lambda rng: [
    SampleInput((_well_conditioned(rng, 2, 3, 3), randn(rng, 2, 3, 2)), name="batched"),
    SampleInput((_well_conditioned(rng, 3, 3), randn(rng, 3)), name="vector"),
    SampleInput((_well_conditioned(rng, 3, 3), randn(rng, 2, 3, 1)), name="broadcast_A"),
    SampleInput((_well_conditioned(rng, 3, 3), randn(rng, 2, 3)), {"left": False}, name="right")],
    lambda a, b, left=True: np.linalg.solve(a, b[..., None])[..., 0] if b.ndim == 1 else (np.linalg.solve(a, b) if left else np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)),
    lambda torch, a, b, left=True: torch.linalg.solve(a, b, left=left))
_reg("linalg.det", det, lambda rng: [SampleInput((_well_conditioned(rng, 3, 3),)), SampleInput((randn(rng, 2, 2, 2),), name="batched")],
     np.linalg.det, lambda torch, a: torch.linalg.det(a))
_reg("linalg.slogdet", slogdet, lambda rng: [SampleInput((randn(rng, 3, 3),)), SampleInput((randn(rng, 2, 2, 2),), name="batched")],
     lambda a: np.linalg.slogdet(a), lambda torch, a: torch.linalg.slogdet(a))
_reg("linalg.cholesky", lambda x, upper=False: cholesky(_spd(x), upper=upper), lambda rng: [
    SampleInput((randn(rng, 3, 3),)), SampleInput((randn(rng, 2, 2, 2),), {"upper": True}, name="batched_upper")],
    lambda x, upper=False: (lambda low: np.swapaxes(low, -1, -2) if upper else low)(np.linalg.cholesky(_np_spd(x))),
    lambda torch, x, upper=False: torch.linalg.cholesky(x @ x.mT + x.shape[-1] * torch.eye(x.shape[-1], dtype=x.dtype), upper=upper))
_reg("linalg.qr", qr, lambda rng: [SampleInput((randn(rng, 4, 3),), name="tall"), SampleInput((randn(rng, 2, 3, 3),), name="square_batched")],
     lambda a: np.linalg.qr(a), lambda torch, a: torch.linalg.qr(a))


def _svd_invariant(a):
    u, s, vh = svd(a, full_matrices=False)
    return _ew.mul(u, u), s, _ew.mul(vh, vh)


def _np_svd_invariant(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return u * u, s, vh * vh


def _eigh_invariant(a):
    w, v = eigh(_sym(a))
    return w, _ew.mul(v, v)


def _np_eigh_invariant(a):
    w, v = np.linalg.eigh(_np_sym(a))
    return w, v * v


_reg("linalg.svd", _svd_invariant, lambda rng: [SampleInput((randn(rng, 4, 3),), name="tall"), SampleInput((randn(rng, 2, 4),), name="wide"),
                                                SampleInput((randn(rng, 2, 3, 3),), name="batched")],
     _np_svd_invariant, lambda torch, a: (lambda usv: (usv[0] * usv[0], usv[1], usv[2] * usv[2]))(torch.linalg.svd(a, full_matrices=False)))
_reg("linalg.svdvals", svdvals, lambda rng: [SampleInput((randn(rng, 3, 4),))],
     lambda a: np.linalg.svd(a, compute_uv=False), lambda torch, a: torch.linalg.svdvals(a))
_reg("linalg.eigh", _eigh_invariant, lambda rng: [SampleInput((randn(rng, 3, 3),)), SampleInput((randn(rng, 2, 2, 2),), name="batched")],
     _np_eigh_invariant, lambda torch, a: (lambda wv: (wv[0], wv[1] * wv[1]))(torch.linalg.eigh((a + a.mT) / 2)))
_reg("linalg.eigvalsh", lambda a: eigvalsh(_sym(a)), lambda rng: [SampleInput((randn(rng, 3, 3),))],
     lambda a: np.linalg.eigvalsh(_np_sym(a)), lambda torch, a: torch.linalg.eigvalsh((a + a.mT) / 2))
_reg("linalg.pinv", pinv, lambda rng: [SampleInput((randn(rng, 3, 4),)), SampleInput((randn(rng, 4, 2),), name="tall")],
     np.linalg.pinv, lambda torch, a: torch.linalg.pinv(a))
_reg("linalg.multi_dot", lambda a, b, c: multi_dot([a, b, c]), lambda rng: [SampleInput((randn(rng, 3), randn(rng, 3, 4), randn(rng, 4, 2)))],
     lambda a, b, c: np.linalg.multi_dot([a, b, c]), lambda torch, a, b, c: torch.linalg.multi_dot([a, b, c]))
_reg("linalg.cross", cross, lambda rng: [SampleInput((randn(rng, 2, 3), randn(rng, 1, 3)))],
     lambda a, b: np.cross(a, b), lambda torch, a, b: torch.linalg.cross(a, b))
