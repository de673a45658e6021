"""Row statistics over trailing axes as BLAS matrix-vector products.

NumPy reduces a short last axis (a 64- or 128-wide row of softmax or layer_norm) with one reduction loop per
row, 4x slower than ``rows @ ones``; a product then a mean reads the data twice where ``vecdot`` reads it once.
Each function falls back to the plain NumPy/CuPy expression it stands for whenever the fast form does not apply
(CuPy, non-float, non-contiguous, axes that are not the trailing ones), and tests/ops/test_norm_rows.py holds the
two equal.
"""
from __future__ import annotations

import builtins

import numpy as np

_vecdot = getattr(np, "vecdot", None)  # NumPy 2


def rows(xp, a, axes):
    """``a`` as a (rows, K) view when ``axes`` are its trailing dims and it is a contiguous NumPy float array."""
    nd = a.ndim
    if xp is not np or a.dtype.kind != "f" or a.size == 0 or not a.flags.c_contiguous:
        return None
    if sorted(ax % nd for ax in axes) != list(range(nd - len(axes), nd)):
        return None
    return a.reshape(-1, builtins.int(np.prod(a.shape[nd - len(axes):])))


def _keep_shape(a, axes):
    reduced = {ax % a.ndim for ax in axes}
    return tuple(1 if i in reduced else n for i, n in enumerate(a.shape))


def sum_keep(xp, a, axes):
    """``a.sum(axis=axes, keepdims=True)``."""
    r = rows(xp, a, axes)
    if r is None:
        return a.sum(axis=axes, keepdims=True)
    return (r @ np.ones(r.shape[1], dtype=r.dtype)).reshape(_keep_shape(a, axes))


def mean_keep(xp, a, axes):
    """``a.mean(axis=axes, keepdims=True)``."""
    r = rows(xp, a, axes)
    if r is None:
        return a.mean(axis=axes, keepdims=True)
    m = r @ np.ones(r.shape[1], dtype=r.dtype)
    m *= 1.0 / r.shape[1]
    return m.reshape(_keep_shape(a, axes))


def dot_keep(xp, a, b, axes, mean=False):
    """``(a * b).sum(axis=axes, keepdims=True)`` (``.mean`` with ``mean``) for same-shape a, b."""
    ra, rb = rows(xp, a, axes), rows(xp, b, axes)
    if ra is None or rb is None or a.dtype != b.dtype:
        p = a * b
        return p.mean(axis=axes, keepdims=True) if mean else p.sum(axis=axes, keepdims=True)
    m = _vecdot(ra, rb) if _vecdot is not None else np.einsum("ij,ij->i", ra, rb)
    if mean:
        m *= 1.0 / ra.shape[1]
    return m.reshape(_keep_shape(a, axes))


def sum_leading(xp, a, lead):
    """``a.sum(axis=tuple(range(lead)))`` (the gradient of a broadcast bias) as ``ones @ rows``; None where that
    form does not apply."""
    if xp is not np or a.dtype.kind != "f" or a.size == 0 or not a.flags.c_contiguous or not 0 < lead < a.ndim:
        return None
    r = a.reshape(builtins.int(np.prod(a.shape[:lead])), -1)
    return (np.ones(r.shape[0], dtype=r.dtype) @ r).reshape(a.shape[lead:])
