"""The implementation of ``tinytorch.linalg``: norms, inverses, solves, determinants and matrix factorizations.

``tinytorch/linalg.py`` is the torch.linalg-named façade over this module (ops never import the façade).

Each factorization is a ``Function`` whose backward is the closed-form adjoint written with
tinytorch ops (matmul, inv, tril ...), so second derivatives work too. Decompositions that
are only defined up to sign/rotation (svd, eigh) are differentiable for distinct
singular values / eigenvalues, as in PyTorch.
"""
from __future__ import annotations

import builtins
import math
import numbers
from collections import namedtuple

import numpy as np

from .. import _arrays
from ..autograd.function import Function, OUTPUT, output_ref
from ..tensor import Tensor
from . import elementwise as _ew
from . import shape as _sh
from . import index as _ix
from . import reduce as _reduce
from .convert import to_dtype
from . import linalg as _ops_linalg  # matmul; ops.linalg imports this module, so looked up at call time
from ._common import normalize_dims
from ..amp.autocast_mode import autocast_op

__all__ = [
    "vector_norm", "matrix_norm", "norm", "inv", "inv_ex", "solve", "det", "slogdet", "cholesky", "qr", "svd",
    "svdvals", "eigh", "eigvalsh", "matrix_rank", "pinv", "multi_dot", "diagonal", "vecdot", "cross",
]

slogdet_result = namedtuple("slogdet", ["sign", "logabsdet"])
qr_result = namedtuple("qr", ["Q", "R"])
svd_result = namedtuple("svd", ["U", "S", "Vh"])
eigh_result = namedtuple("eigh", ["eigenvalues", "eigenvectors"])
inv_ex_result = namedtuple("inv_ex", ["inverse", "info"])


def _mT(x):
    return _sh.transpose(x, -2, -1)


def _const(xp_arr):
    return Tensor._make(xp_arr)


def _check_square(a, op):
    if a._data.ndim < 2 or a._data.shape[-1] != a._data.shape[-2]:
        raise RuntimeError(f"linalg.{op}: A must be batches of square matrices, but they are {tuple(a.shape)[-2:] if a._data.ndim >= 2 else tuple(a.shape)} matrices (shape {tuple(a.shape)})")
    if a._data.dtype.kind not in "f":
        raise RuntimeError(f"linalg.{op}: Expected a floating point tensor as input, got {a.dtype}")


def _linalg_error(op, exc, a):
    return RuntimeError(f"linalg.{op}: the input of shape {tuple(a.shape)} is singular or not positive-definite ({exc})")


# ---- norms ----------------------------------------------------------------------------------------

class VectorNorm2(Function):
    """sqrt(sum(x**2)) over ``axes``; its gradient is 0 (not nan) where the norm is 0, like torch."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.axes, ctx.keepdim, ctx.in_shape = axes, keepdim, x._data.shape
        ctx.save_for_backward(x, OUTPUT)
        return ctx.xp.sqrt((x._data * x._data).sum(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        x, n = ctx.saved_tensors
        if not ctx.keepdim:
            keep = tuple(1 if i in ctx.axes else s for i, s in enumerate(ctx.in_shape))
            grad, n = _sh.reshape(grad, keep), _sh.reshape(n, keep)
        zero = _const(n._data == 0)
        scale = _ix.masked_fill(_ew.div(grad, _ix.masked_fill(n, zero, 1.0)), zero, 0.0)
        return _ew.mul(x, scale)


class VectorNormInf(Function):
    """max (or min) of |x| over ``axes``; the gradient is shared evenly among tied extrema."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, largest):
        xp = ctx.xp
        a = xp.abs(x._data)
        r = a.max(axis=axes, keepdims=True) if largest else a.min(axis=axes, keepdims=True)
        hit = (a == r)
        w = hit * xp.sign(x._data) / hit.sum(axis=axes, keepdims=True)
        ctx.w = w.astype(x._data.dtype)
        ctx.axes, ctx.keepdim, ctx.in_shape = axes, keepdim, x._data.shape
        return r if keepdim else r.reshape(tuple(s for i, s in enumerate(r.shape) if i not in axes))

    @staticmethod
    def backward(ctx, grad):
        if not ctx.keepdim:
            grad = _sh.reshape(grad, tuple(1 if i in ctx.axes else s for i, s in enumerate(ctx.in_shape)))
        return _ew.mul(grad, _const(ctx.w))


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002 - torch's name
    """The ``ord``-norm of ``x`` over ``dim`` (all elements when None): sum(|x|**ord)**(1/ord), inf, -inf, 0."""

    if dtype is not None:
        x = to_dtype(x, dtype)
    if x._data.dtype.kind not in "fV":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {x.dtype}")
    axes = normalize_dims(dim, x._data.ndim, "linalg.vector_norm")
    if x._data.ndim == 0:
        x = _sh.reshape(x, (1,))
        axes = (0,)
        if not keepdim:
            return _sh.reshape(vector_norm(x, ord, 0, True), ())
    if not isinstance(ord, numbers.Real):
        raise TypeError(f"linalg.vector_norm(): argument 'ord' must be a number, not {type(ord).__name__}")
    ord = builtins.float(ord)
    if ord == 2:
        return VectorNorm2.apply(x, axes, builtins.bool(keepdim))
    if math.isinf(ord):
        return VectorNormInf.apply(x, axes, builtins.bool(keepdim), ord > 0)
    if ord == 0:
        nz = _ew.ne(x, 0) if hasattr(_ew, "ne") else _const(x._data != 0)
        return _reduce.sum(to_dtype(nz, x.dtype), dim=axes, keepdim=keepdim)
    a = _ew.abs(x)
    if ord == 1:
        return _reduce.sum(a, dim=axes, keepdim=keepdim)
    return _ew.pow(_reduce.sum(_ew.pow(a, ord), dim=axes, keepdim=keepdim), 1.0 / ord)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):  # noqa: A002
    """Matrix norm over the two dims ``dim``: 'fro', 'nuc', 2, -2, 1, -1, inf, -inf."""

    if dtype is not None:
        A = to_dtype(A, dtype)
    if A._data.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 dimensions, got shape {tuple(A.shape)}")
    d = normalize_dims(dim, A._data.ndim, "linalg.matrix_norm")
    if len(d) != 2 or not isinstance(dim, (tuple, list)):
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple of distinct dims, got {dim!r}")
    d0, d1 = (normalize_dims(dim[0], A._data.ndim, "matrix_norm")[0], normalize_dims(dim[1], A._data.ndim, "matrix_norm")[0])
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        M = _sh.movedim(A, (d0, d1), (-2, -1))
        s = svdvals(M)
        if ord == "nuc":
            out = _reduce.sum(s, dim=-1)
        else:
            k = 0 if ord == 2 else s._data.shape[-1] - 1
            out = _ix.getitem(s, (Ellipsis, k))
    elif ord in (1, -1, math.inf, -math.inf):
        # 1: max column sum (sum over rows d0); inf: max row sum (sum over columns d1)
        sums = _reduce.sum(_ew.abs(A), dim=d0 if ord in (1, -1) else d1, keepdim=True)
        other = d1 if ord in (1, -1) else d0
        out = _ix.topk(sums, 1, other, largest=ord > 0).values
        out = _sh.squeeze(out, (d0, d1))
        if keepdim:
            out = _sh.unsqueeze(_sh.unsqueeze(out, builtins.min(d0, d1)), builtins.max(d0, d1))
        return out
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord!r} not supported.")
    if keepdim:
        out = _sh.unsqueeze(_sh.unsqueeze(out, builtins.min(d0, d1)), builtins.max(d0, d1))
    return out


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """``vector_norm`` or ``matrix_norm``, chosen like torch.linalg.norm from ``ord`` and ``dim``."""
    if isinstance(dim, builtins.int):
        dim = (dim,)
    if isinstance(ord, str) or (dim is not None and len(dim) == 2) or (dim is None and ord is not None and A._data.ndim == 2):
        if dim is None:
            if A._data.ndim != 2:
                raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A._data.ndim}D (shape {tuple(A.shape)})")
            dim = (-2, -1)
        return matrix_norm(A, "fro" if ord is None else ord, tuple(dim), keepdim, dtype=dtype)
    if dim is None and ord is not None and A._data.ndim != 1:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A._data.ndim}D (shape {tuple(A.shape)})")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


# ---- inverse, solve, determinants ---------------------------------------------------------------

class Inv(Function):
    _node_name = "LinalgInvExBackward0"  # torch's grad_fn name
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(OUTPUT)
        try:
            with _arrays.linalg_errors(ctx.xp):
                return ctx.xp.linalg.inv(a._data)
        except Exception as exc:  # noqa: BLE001 - numpy/cupy raise their own LinAlgError types
            raise _linalg_error("inv", exc, a) from None

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        yt = _mT(y)
        return _ew.neg(_ops_linalg.matmul(_ops_linalg.matmul(yt, grad), yt))


@autocast_op("linalg_inv")
def inv(A):
    """Inverse of square matrices (*, n, n)."""
    _check_square(A, "inv")
    return Inv.apply(A)


@autocast_op("linalg_inv_ex")
def inv_ex(A, *, check_errors=False):
    """``(inverse, info)`` (info is 0: tinytorch raises on singular input)."""

    out = inv(A)
    return inv_ex_result(out, _const(_arrays.array_module(A._data).zeros(A._data.shape[:-2], dtype="int32")))


class Solve(Function):
    _node_name = "LinalgSolveExBackward0"  # torch's grad_fn name
    @staticmethod
    def forward(ctx, a, b):
        try:
            with _arrays.linalg_errors(ctx.xp):
                x = ctx.xp.linalg.solve(a._data, b._data)
        except Exception as exc:  # noqa: BLE001
            raise _linalg_error("solve", exc, a) from None
        ctx.save_for_backward(a, OUTPUT)
        return x

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        gb = Solve.apply(_mT(a), grad)
        ga = _ew.neg(_ops_linalg.matmul(gb, _mT(x))) if ctx.needs_input_grad[0] else None
        return ga, gb


@autocast_op("linalg_solve")
def solve(A, B, *, left=True):
    """X with ``A @ X = B`` (``X @ A = B`` when left=False); B is a vector when it is (*, n) with A's batch."""
    _check_square(A, "solve")
    if not left:
        return _mT(solve(_mT(A), _mT(B)))
    n = A._data.shape[-1]
    vector = B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1 and tuple(B._data.shape) == tuple(A._data.shape[:-1]))
    b = _sh.unsqueeze(B, -1) if vector else B
    if b._data.shape[-2] != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B ({tuple(A.shape)} and {tuple(B.shape)})")
    try:
        batch = tuple(np.broadcast_shapes(tuple(A._data.shape[:-2]), tuple(b._data.shape[:-2])))
    except ValueError:
        raise RuntimeError(f"linalg.solve: batch dims of A {tuple(A.shape)} and B {tuple(B.shape)} cannot be broadcast") from None
    a = _sh.expand(A, batch + (n, n))
    b = _sh.expand(b, batch + tuple(b._data.shape[-2:]))
    x = Solve.apply(a, b)
    return _sh.squeeze(x, -1) if vector else x


class Det(Function):
    _node_name = "LinalgDetBackward0"  # torch's grad_fn name
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a, OUTPUT)
        return ctx.xp.linalg.det(a._data)

    @staticmethod
    def backward(ctx, grad):
        a, d = ctx.saved_tensors
        # d det / dA = det * inv(A)^T (invertible A)
        return _ew.mul(_sh.unsqueeze(_sh.unsqueeze(_ew.mul(grad, d), -1), -1), _mT(inv(a)))


def det(A):
    """Determinant of square matrices (*, n, n) -> (*)."""
    _check_square(A, "det")
    return Det.apply(A)


class SlogDet(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        sign, logabs = ctx.xp.linalg.slogdet(a._data)
        return sign.astype(a._data.dtype), logabs.astype(a._data.dtype)

    @staticmethod
    def backward(ctx, gsign, glog):
        (a,) = ctx.saved_tensors
        return _ew.mul(_sh.unsqueeze(_sh.unsqueeze(glog, -1), -1), _mT(inv(a)))


def slogdet(A):
    """``(sign, logabsdet)`` of the determinant; differentiable through ``logabsdet``."""
    _check_square(A, "slogdet")
    sign, logabs = SlogDet.apply(A)
    return slogdet_result(sign.detach(), logabs)


# ---- factorizations -----------------------------------------------------------------------------

def _phi(m):
    """Lower triangle with the diagonal halved (the Cholesky adjoint's projection)."""
    return _ew.sub(_sh.tril(m), _ew.mul(_sh.diag_embed(_sh.diagonal(m, 0, -2, -1)), 0.5))


class Cholesky(Function):
    _node_name = "LinalgCholeskyExBackward0"  # torch's grad_fn name
    @staticmethod
    def forward(ctx, a):
        try:
            with _arrays.linalg_errors(ctx.xp):
                low = ctx.xp.linalg.cholesky(a._data)
        except Exception as exc:  # noqa: BLE001
            raise RuntimeError(
                f"linalg.cholesky: The factorization could not be completed because the input of shape {tuple(a.shape)} is not positive-definite ({exc})"
            ) from None
        ctx.save_for_backward(OUTPUT)
        return low

    @staticmethod
    def backward(ctx, grad):
        (low,) = ctx.saved_tensors
        # A = L L^T: gA = sym(L^{-T} Phi(L^T gL) L^{-1})
        li = inv(low)
        g = _ops_linalg.matmul(_ops_linalg.matmul(_mT(li), _phi(_ops_linalg.matmul(_mT(low), grad))), li)
        return _ew.mul(_ew.add(g, _mT(g)), 0.5)


@autocast_op("linalg_cholesky")
def cholesky(A, *, upper=False):
    """Cholesky factor of symmetric positive-definite matrices: lower L with A = L L^T (U = L^T if upper)."""
    _check_square(A, "cholesky")
    low = Cholesky.apply(A)
    return _mT(low) if upper else low


class QR(Function):
    _node_name = "LinalgQrBackward0"  # torch's grad_fn name
    @staticmethod
    def forward(ctx, a, mode):
        q, r = ctx.xp.linalg.qr(a._data, mode=mode)
        ctx.mode = mode
        ctx.m, ctx.n = a._data.shape[-2:]
        ctx.save_for_backward(output_ref(0), output_ref(1))
        return q, r

    @staticmethod
    def backward(ctx, gq, gr):
        if ctx.mode == "complete" and ctx.m > ctx.n or ctx.m < ctx.n:
            raise NotImplementedError(
                f"linalg.qr: the derivative is only implemented for m >= n with mode='reduced' (got {ctx.m}x{ctx.n}, mode={ctx.mode!r})"
            )
        q, r = ctx.saved_tensors
        # M = gR R^T - Q^T gQ; gA = (gQ + Q copyutl(M)) R^{-T}, copyutl mirrors the upper triangle down
        m = _ew.sub(_ops_linalg.matmul(gr, _mT(r)), _ops_linalg.matmul(_mT(q), gq))
        sym = _ew.add(_sh.triu(m), _mT(_sh.triu(m, 1)))
        return _ops_linalg.matmul(_ew.add(gq, _ops_linalg.matmul(q, sym)), _mT(inv(r))), None


@autocast_op("linalg_qr")
def qr(A, mode="reduced"):
    """``(Q, R)`` with A = Q R, Q orthonormal columns, R upper triangular; mode 'reduced' | 'complete' | 'r'."""
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"linalg.qr: qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or 'complete'")
    if A._data.ndim < 2:
        raise RuntimeError(f"linalg.qr: The input tensor A must have at least 2 dimensions, got shape {tuple(A.shape)}")
    if mode == "r":
        q, r = QR.apply(A, "reduced")

        return qr_result(_const(_arrays.array_module(A._data).empty((0,), dtype=A._data.dtype)), r)
    return qr_result(*QR.apply(A, mode))


def _pair_factor(v):
    """F[..., i, j] = 1 / (v_j - v_i) off the diagonal, 0 on it (differentiable in v)."""
    diff = _ew.sub(_sh.unsqueeze(v, -2), _sh.unsqueeze(v, -1))
    eye = _const(_eye_like_n(v))
    return _ew.mul(_ew.div(1.0, _ew.add(diff, eye)), _ew.sub(1.0, eye))


def _eye_like_n(v):
    return _arrays.array_module(v._data).eye(v._data.shape[-1], dtype=v._data.dtype)


class SVD(Function):
    _node_name = "LinalgSvdBackward0"  # torch's grad_fn name
    @staticmethod
    def forward(ctx, a, full_matrices):
        ctx.set_materialize_grads(False)
        u, s, vh = ctx.xp.linalg.svd(a._data, full_matrices=full_matrices)
        ctx.full = full_matrices
        ctx.m, ctx.n = a._data.shape[-2:]
        ctx.save_for_backward(output_ref(0), output_ref(1), output_ref(2))
        return u, s, vh

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        u, s, vh = ctx.saved_tensors
        k = builtins.min(ctx.m, ctx.n)
        if ctx.full and ctx.m != ctx.n and (gu is not None or gvh is not None):
            raise NotImplementedError(
                "linalg.svd: the derivative of U or Vh with full_matrices=True is not defined for non-square inputs; use full_matrices=False"
            )
        if ctx.full:
            u, vh = _sh.narrow(u, -1, 0, k), _sh.narrow(vh, -2, 0, k)
            gu = None if gu is None else _sh.narrow(gu, -1, 0, k)
            gvh = None if gvh is None else _sh.narrow(gvh, -2, 0, k)
        v = _mT(vh)
        inner = _sh.diag_embed(gs) if gs is not None else None
        if gu is not None or gvh is not None:
            s2 = _ew.mul(s, s)
            f = _pair_factor(s2)  # 1 / (s_j^2 - s_i^2)
            s_row = _sh.unsqueeze(s, -2)  # scales columns: X S
            s_col = _sh.unsqueeze(s, -1)  # scales rows:    S X
            terms = []
            if gu is not None:
                ut_gu = _ops_linalg.matmul(_mT(u), gu)
                j = _ew.mul(f, _ew.sub(ut_gu, _mT(ut_gu)))
                terms.append(_ew.mul(j, s_row))
            if gvh is not None:
                gv = _mT(gvh)
                vt_gv = _ops_linalg.matmul(_mT(v), gv)
                kk = _ew.mul(f, _ew.sub(vt_gv, _mT(vt_gv)))
                terms.append(_ew.mul(s_col, kk))
            for t in terms:
                inner = t if inner is None else _ew.add(inner, t)
        ga = _ops_linalg.matmul(_ops_linalg.matmul(u, inner), vh)
        inv_s = _ew.div(1.0, s)
        if gu is not None and ctx.m > k:
            # (I - U U^T) gU S^{-1} V^T
            proj = _ew.sub(gu, _ops_linalg.matmul(u, _ops_linalg.matmul(_mT(u), gu)))
            ga = _ew.add(ga, _ops_linalg.matmul(_ew.mul(proj, _sh.unsqueeze(inv_s, -2)), vh))
        if gvh is not None and ctx.n > k:
            # U S^{-1} gV^T (I - V V^T)
            gv = _mT(gvh)
            proj = _ew.sub(gv, _ops_linalg.matmul(v, _ops_linalg.matmul(vh, gv)))
            ga = _ew.add(ga, _ops_linalg.matmul(_ew.mul(u, _sh.unsqueeze(inv_s, -2)), _mT(proj)))
        return ga, None


@autocast_op("linalg_svd")
def svd(A, full_matrices=True, *, driver=None):
    """``(U, S, Vh)`` with A = U diag(S) Vh, S descending; differentiable for distinct singular values."""
    if A._data.ndim < 2:
        raise RuntimeError(f"linalg.svd: The input tensor A must have at least 2 dimensions, got shape {tuple(A.shape)}")
    return svd_result(*SVD.apply(A, builtins.bool(full_matrices)))


@autocast_op("linalg_svdvals")
def svdvals(A, *, driver=None):
    """Singular values of A (*, m, n) -> (*, min(m, n)), descending."""
    return svd(A, full_matrices=False).S


class Eigh(Function):
    _node_name = "LinalgEighBackward0"  # torch's grad_fn name
    @staticmethod
    def forward(ctx, a, uplo):
        ctx.set_materialize_grads(False)
        w, v = ctx.xp.linalg.eigh(a._data, UPLO=uplo)
        ctx.save_for_backward(output_ref(0), output_ref(1))
        return w, v

    @staticmethod
    def backward(ctx, gw, gv):
        w, v = ctx.saved_tensors
        inner = _sh.diag_embed(gw) if gw is not None else None
        if gv is not None:
            t = _ew.mul(_pair_factor(w), _ops_linalg.matmul(_mT(v), gv))  # F_ij = 1 / (w_j - w_i)
            inner = t if inner is None else _ew.add(inner, t)
        return _ops_linalg.matmul(_ops_linalg.matmul(v, inner), _mT(v)), None


@autocast_op("linalg_eigh")
def eigh(A, UPLO="L"):  # noqa: N803 - torch's name
    """``(eigenvalues, eigenvectors)`` of symmetric matrices (ascending); uses the ``UPLO`` triangle."""
    _check_square(A, "eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    return eigh_result(*Eigh.apply(A, UPLO))


@autocast_op("linalg_eigvalsh")
def eigvalsh(A, UPLO="L"):  # noqa: N803
    """Eigenvalues of symmetric matrices, ascending."""
    return eigh(A, UPLO).eigenvalues


@autocast_op("linalg_matrix_rank")
def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None):
    """Number of singular values above max(atol, rtol * largest singular value)."""

    s = svdvals(A.detach())._data
    xp = _arrays.array_module(s)
    if tol is not None:
        atol = tol
    smax = s[..., :1] if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), dtype=s.dtype)
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else builtins.max(A._data.shape[-2:]) * np.finfo(s.dtype).eps
    thresh = xp.maximum(atol or 0.0, rtol * smax)
    return _const((s > thresh).sum(-1).astype("int64"))


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """Moore-Penrose pseudo-inverse via the SVD (singular values under the tolerance are dropped)."""

    u, s, vh = svd(A, full_matrices=False)
    xp = _arrays.array_module(s._data)
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else builtins.max(A._data.shape[-2:]) * np.finfo(s._data.dtype).eps
    smax = s._data[..., :1] if s._data.shape[-1] else xp.zeros(s._data.shape[:-1] + (1,), dtype=s._data.dtype)
    keep = _const(s._data > xp.maximum(atol or 0.0, rtol * smax))
    drop = _const(~keep._data)
    s_inv = _ix.masked_fill(_ew.div(1.0, _ix.masked_fill(s, drop, 1.0)), drop, 0.0)
    return _ops_linalg.matmul(_ew.mul(_mT(vh), _sh.unsqueeze(s_inv, -2)), _mT(u))


def multi_dot(tensors):
    """``tensors[0] @ tensors[1] @ ...`` (first may be 1-D, last may be 1-D)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"linalg.multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    out = tensors[0]
    for t in tensors[1:]:
        out = _ops_linalg.matmul(out, t)
    return out


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """``torch.diagonal`` with the last two dims as defaults."""
    return _sh.diagonal(A, offset, dim1, dim2)


@autocast_op("linalg_vecdot")
def vecdot(x, y, *, dim=-1):
    """Dot product of vectors along ``dim`` (with broadcasting)."""

    return _reduce.sum(_ew.mul(x, y), dim=dim)


def cross(input, other, *, dim=-1):
    """Cross product of 3-vectors along ``dim`` (with broadcasting)."""
    a, b = _sh.broadcast_tensors(input, other)
    d = normalize_dims(dim, a._data.ndim, "linalg.cross")[0]
    if a._data.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {a._data.shape[d]} (shapes {tuple(input.shape)} and {tuple(other.shape)})")
    a0, a1, a2 = _sh.unbind(a, d)
    b0, b1, b2 = _sh.unbind(b, d)
    c = [_ew.sub(_ew.mul(a1, b2), _ew.mul(a2, b1)), _ew.sub(_ew.mul(a2, b0), _ew.mul(a0, b2)),
         _ew.sub(_ew.mul(a0, b1), _ew.mul(a1, b0))]
    return _sh.stack(c, d)
