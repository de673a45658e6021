"""Reductions over dims: sum, mean, max/min, var/std, logsumexp, cumulative ops, softmax.

``dim`` is an int, a tuple of ints or None (all dims) unless torch says otherwise; ``keepdim``
keeps reduced dims as size 1. Backward passes reshape the incoming gradient to the keepdim
shape so that it broadcasts back over the reduced dims.
"""
from __future__ import annotations

import builtins
import math
import warnings
from collections import namedtuple

import numpy as np

from .. import _dtype as dtypes
from ..autograd.function import Function, OUTPUT
from ..tensor import Tensor
from ._common import normalize_dims, numpy_names, wrap_dim
from . import shape as _shape
from . import elementwise as _ew
from . import _rows
from .convert import to_dtype, clone
from .. import _arrays

__all__ = [
    "sum", "sum_to_size", "mean", "prod", "max", "min", "amax", "amin", "aminmax", "argmax", "argmin",
    "var", "std", "var_mean", "std_mean", "norm", "logsumexp", "all", "any", "count_nonzero",
    "cumsum", "cumprod", "softmax", "log_softmax", "nansum", "nanmean",
]
# torch.* functions that are not Tensor methods
_FUNCTIONS_ONLY = ("var_mean", "std_mean")
TENSOR_METHODS = tuple(n for n in __all__ if n not in _FUNCTIONS_ONLY)

# torch.return_types equivalents: tuples whose fields are also reachable by name
max_return = namedtuple("max", ["values", "indices"])
min_return = namedtuple("min", ["values", "indices"])
aminmax_return = namedtuple("aminmax", ["min", "max"])


def _keepdim_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _check_tensor(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(x).__name__}")


def _to_keepdim(grad, ctx):
    """The incoming gradient reshaped so that it broadcasts over the reduced dims."""
    if ctx.keepdim:
        return grad
    return _shape.reshape(grad, _keepdim_shape(ctx.in_shape, ctx.axes))


class _NonDiff(Function):
    """Reductions with integer/bool results (argmax, all, count_nonzero)."""

    @staticmethod
    def forward(ctx, fn, x):
        return fn(ctx.xp, x._data)


# ---- sum, mean, prod --------------------------------------------------------------------------------

def _low(a) -> bool:
    """float16/bfloat16: sums accumulate in float32 and round once, as torch's kernels do."""
    return a.dtype.itemsize == 2 and a.dtype.kind in "fV"


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim, np_dtype):
        ctx.in_shape = x._data.shape
        ctx.axes = axes
        ctx.keepdim = keepdim
        if np_dtype is None and _low(x._data):
            return x._data.sum(axis=axes, keepdims=keepdim, dtype=np.float32).astype(x._data.dtype)
        return x._data.sum(axis=axes, keepdims=keepdim, dtype=np_dtype)

    @staticmethod
    def backward(ctx, grad):
        return _shape.expand(_to_keepdim(grad, ctx), ctx.in_shape)

    @staticmethod
    def backward_arrays(ctx, grad):
        if not ctx.keepdim:
            grad = grad.reshape(_keepdim_shape(ctx.in_shape, ctx.axes))
        return ctx.xp.broadcast_to(grad, ctx.in_shape)  # a read-only view: the engine copies before writing


def _accumulation_dtype(input, dtype):
    """NumPy dtype for sum/prod/cumsum/cumprod: ``dtype=`` if given, int64 for bool and integer
    inputs (torch never accumulates those in their own width), else None (the input's)."""
    if dtype is not None:
        return dtypes.to_dtype(dtype).np
    if input._data.dtype.kind in "biu":
        return dtypes.int64.np
    return None


@numpy_names
def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001 - torch's name
    """Sum over ``dim`` (int, tuple, or None for all). Integer and bool inputs sum to int64."""
    _check_tensor(input, "sum")
    axes = normalize_dims(dim, input._data.ndim, "sum")
    npd = _accumulation_dtype(input, dtype)
    return Sum.apply(input, axes, builtins.bool(keepdim), npd)


@numpy_names
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """``sum`` treating NaN as zero."""
    if input.is_floating_point():
        input = _ew.where(_ew.isnan(input), 0.0, input)
    return sum(input, dim, keepdim, dtype=dtype)


class SumToSize(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x._data.shape
        lead = x._data.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, s in enumerate(shape) if s == 1 and x._data.shape[lead + i] != 1
        )
        if axes == tuple(range(lead)) and lead:  # a broadcast bias: one BLAS matvec
            out = _rows.sum_leading(ctx.xp, x._data, lead)
            if out is not None:
                return out.reshape(shape)
        out = x._data.sum(axis=axes, keepdims=True) if axes else x._data
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return _shape.expand(grad, ctx.in_shape)


def sum_to_size(input, *size):
    """Sum ``input`` down to ``size`` (the inverse of broadcasting ``size`` to ``input.shape``)."""
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    if tuple(input._data.shape) == shape:
        return input
    src = tuple(input._data.shape)
    ok = len(shape) <= len(src) and builtins.all(
        s == 1 or s == d for s, d in zip(shape, src[len(src) - len(shape):])
    )
    if not ok:
        raise RuntimeError(f"sum_to_size: size {shape} is not expandable to size {src}")
    return SumToSize.apply(input, shape)


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x._data.shape, axes, keepdim
        ctx.count = math.prod(x._data.shape[a] for a in axes)
        if _low(x._data):
            return x._data.mean(axis=axes, keepdims=keepdim, dtype=np.float32).astype(x._data.dtype)
        return x._data.mean(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return _ew.div(_shape.expand(_to_keepdim(grad, ctx), ctx.in_shape), builtins.max(ctx.count, 1))


@numpy_names
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Arithmetic mean over ``dim``; floating point inputs only unless ``dtype`` is given."""
    _check_tensor(input, "mean")
    if dtype is not None:
        input = to_dtype(input, dtypes.to_dtype(dtype))
    if input._data.dtype.kind not in "fV":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
            f"Got: {input.dtype}")
    axes = normalize_dims(dim, input._data.ndim, "mean")
    return Mean.apply(input, axes, builtins.bool(keepdim))


@numpy_names
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """``mean`` over the non-NaN elements."""
    count = sum(_ew.logical_not(_ew.isnan(input)), dim, keepdim)
    return _ew.div(nansum(input, dim, keepdim, dtype=dtype), count)


class Prod(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim, np_dtype):
        ctx.in_shape, ctx.axes, ctx.keepdim = x._data.shape, axes, keepdim
        ctx.save_for_backward(x, OUTPUT)
        return x._data.prod(axis=axes, keepdims=keepdim, dtype=np_dtype)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        g = _to_keepdim(grad, ctx)
        yk = y if ctx.keepdim else _shape.reshape(y, _keepdim_shape(ctx.in_shape, ctx.axes))
        zero = _ew.eq(x, 0)
        if not builtins.bool(zero._data.any()):
            return _ew.mul(g, _ew.div(yk, x))
        # with zeros, y / x is wrong: the gradient at the only zero of a slice is the product of the
        # others, and every other gradient of a slice holding a zero is 0 (y is 0 there already)
        x_nz = _ew.where(zero, 1.0, x)
        others = Prod.apply(x_nz, ctx.axes, True, None)
        one_zero = Tensor._make(zero._data.sum(axis=ctx.axes, keepdims=True) == 1)
        gx = _ew.where(zero, _ew.where(one_zero, others, 0.0), _ew.div(yk, x_nz))
        return _ew.mul(g, gx)


@numpy_names
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product over ``dim`` (None: all elements). Integer and bool inputs give int64."""
    _check_tensor(input, "prod")
    axes = normalize_dims(dim, input._data.ndim, "prod")
    npd = _accumulation_dtype(input, dtype)
    return Prod.apply(input, axes, builtins.bool(keepdim), npd)


# ---- max / min -----------------------------------------------------------------------------------------

class Extreme(Function):
    """amax/amin (and max/min without dim): ties share the gradient evenly, as in torch."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, largest):
        xp = ctx.xp
        xd = x._data
        ctx.in_shape, ctx.axes, ctx.keepdim = xd.shape, axes, keepdim
        if xd.size == 0:
            raise RuntimeError(f"{'amax' if largest else 'amin'}: expected a non-empty tensor to reduce over, "
                               f"got shape {tuple(xd.shape)}")
        out_k = xd.max(axis=axes, keepdims=True) if largest else xd.min(axis=axes, keepdims=True)
        if xd.dtype.kind in "fV" and builtins.any(ctx.needs_input_grad):
            hit = (xd == out_k) | (xp.isnan(xd) & xp.isnan(out_k))
            count = hit.sum(axis=axes, keepdims=True)
            ctx.share = (hit / xp.maximum(count, 1)).astype(xd.dtype)
        return out_k if keepdim else out_k.reshape(tuple(s for i, s in enumerate(xd.shape) if i not in axes))

    @staticmethod
    def backward(ctx, grad):
        return _ew.mul(_to_keepdim(grad, ctx), Tensor._make(ctx.share))


@numpy_names
def amax(input, dim=(), keepdim=False):
    """Largest value over ``dim`` (all dims when empty/None); ties share the gradient."""
    _check_tensor(input, "amax")
    axes = normalize_dims(_all_if_empty(dim), input._data.ndim, "amax")
    return Extreme.apply(input, axes, builtins.bool(keepdim), True)


@numpy_names
def amin(input, dim=(), keepdim=False):
    """Smallest value over ``dim`` (all dims when empty/None); ties share the gradient."""
    _check_tensor(input, "amin")
    axes = normalize_dims(_all_if_empty(dim), input._data.ndim, "amin")
    return Extreme.apply(input, axes, builtins.bool(keepdim), False)


def _all_if_empty(dim):
    return None if isinstance(dim, (tuple, list)) and len(dim) == 0 else dim


class ExtremeDim(Function):
    """max/min along one dim: (values, indices); the gradient goes to the selected index."""

    @staticmethod
    def forward(ctx, x, axis, keepdim, largest):
        xp = ctx.xp
        xd = x._data
        ctx.in_shape, ctx.axes, ctx.keepdim = xd.shape, (axis,), keepdim
        if xd.ndim and xd.shape[axis] == 0:
            raise IndexError(f"{'max' if largest else 'min'}(): Expected reduction dim {axis} to have non-zero size "
                             f"(input shape {tuple(xd.shape)})")
        src = xd if xd.ndim else xd.reshape(1)
        idx = (xp.argmax if largest else xp.argmin)(src, axis=axis)
        idx_k = xp.expand_dims(idx, axis)
        values_k = xp.take_along_axis(src, idx_k, axis=axis)
        if builtins.any(ctx.needs_input_grad):
            positions = xp.arange(src.shape[axis]).reshape([-1 if i == axis else 1 for i in range(src.ndim)])
            ctx.onehot = (positions == idx_k).reshape(xd.shape)
        if xd.ndim == 0:
            return values_k.reshape(()), idx.astype(np.int64).reshape(())
        if keepdim:
            return values_k, idx_k.astype(np.int64)
        return values_k.reshape(idx.shape), idx.astype(np.int64)

    @staticmethod
    def backward(ctx, grad, grad_indices):
        return _ew.where(Tensor._make(ctx.onehot), _to_keepdim(grad, ctx), 0.0)


def _max_min(input, dim, keepdim, largest, op):
    _check_tensor(input, op)
    if isinstance(dim, Tensor):  # max(a, b): the elementwise form

        return (_ew.maximum if largest else _ew.minimum)(input, dim)
    if dim is None:
        if keepdim:
            raise TypeError(f"{op}: keepdim=True needs a dim")
        if input._data.size == 0:
            raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0 "
                               f"(input shape {tuple(input.shape)})")
        return Extreme.apply(input, tuple(range(input._data.ndim)), False, largest)
    axis = wrap_dim(dim, input._data.ndim, op)
    values, indices = ExtremeDim.apply(input, axis, builtins.bool(keepdim), largest)
    return (max_return if largest else min_return)(values, indices)


@numpy_names
def max(input, dim=None, keepdim=False):  # noqa: A001 - torch's name
    """``max(input)``: the largest element; ``max(input, dim)``: (values, indices); ``max(a, b)``: ``maximum``."""
    return _max_min(input, dim, keepdim, True, "max")


@numpy_names
def min(input, dim=None, keepdim=False):  # noqa: A001 - torch's name
    """``min(input)``: the smallest element; ``min(input, dim)``: (values, indices); ``min(a, b)``: ``minimum``."""
    return _max_min(input, dim, keepdim, False, "min")


def aminmax(input, *, dim=None, keepdim=False):
    """``(amin, amax)`` over ``dim`` (None: all elements) as a named tuple ``(min, max)``."""
    d = () if dim is None else dim
    return aminmax_return(amin(input, d, keepdim), amax(input, d, keepdim))


def _arg_extreme(input, dim, keepdim, largest, op):
    _check_tensor(input, op)
    if input._data.size == 0:
        raise IndexError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0 "
                           f"(input shape {tuple(input.shape)})")
    if dim is None:
        def fn(xp, x):
            flat = (xp.argmax if largest else xp.argmin)(x.reshape(-1)).astype(np.int64)
            return flat.reshape((1,) * x.ndim) if keepdim else flat.reshape(())
        return _NonDiff.apply(fn, input)
    axis = wrap_dim(dim, input._data.ndim, op)

    def fn(xp, x):
        if x.ndim == 0:
            return xp.zeros((), dtype=np.int64)
        idx = (xp.argmax if largest else xp.argmin)(x, axis=axis).astype(np.int64)
        return xp.expand_dims(idx, axis) if keepdim else idx

    return _NonDiff.apply(fn, input)


@numpy_names
def argmax(input, dim=None, keepdim=False):
    """Index of the largest value (of the flattened tensor when ``dim`` is None); first one on ties."""
    return _arg_extreme(input, dim, keepdim, True, "argmax")


@numpy_names
def argmin(input, dim=None, keepdim=False):
    """Index of the smallest value (of the flattened tensor when ``dim`` is None); first one on ties."""
    return _arg_extreme(input, dim, keepdim, False, "argmin")


# ---- var / std / norm -------------------------------------------------------------------------------------

def _correction(op, dim, unbiased, correction):
    if isinstance(dim, builtins.bool):  # legacy var(input, unbiased)
        if unbiased is not None:
            raise TypeError(f"{op}: got unbiased twice")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise RuntimeError(f"{op}: can't specify both unbiased ({unbiased}) and correction ({correction})")
    if correction is None:
        correction = 0 if unbiased is False else 1
    return dim, correction


def _var_mean(input, dim, correction, keepdim, op):
    _check_tensor(input, op)
    if input._data.dtype.kind not in "fV":
        raise RuntimeError(f"{op}: std and var only support floating point and complex dtypes, got {input.dtype}")
    axes = normalize_dims(dim, input._data.ndim, op)
    count = math.prod(input._data.shape[a] for a in axes)
    m = mean(input, axes, keepdim=True)
    d = _ew.sub(input, m)
    # N - correction <= 0 gives inf/nan like torch (no warning: the division is quiet)
    v = _ew.div(sum(_ew.mul(d, d), axes, keepdim=keepdim), builtins.max(count - correction, 0))
    if not keepdim:
        m = _shape.reshape(m, tuple(s for i, s in enumerate(input._data.shape) if i not in axes))
    return v, m


@numpy_names
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with Bessel's ``correction`` (default 1; ``unbiased=False`` means 0)."""
    dim, correction = _correction("var", dim, unbiased, correction)
    return _var_mean(input, dim, correction, keepdim, "var")[0]


@numpy_names
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation: ``sqrt(var(...))`` with the same arguments."""
    dim, correction = _correction("std", dim, unbiased, correction)
    return _ew.sqrt(_var_mean(input, dim, correction, keepdim, "std")[0])


@numpy_names
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim`` in one pass."""
    dim, correction = _correction("var_mean", dim, unbiased, correction)
    return _var_mean(input, dim, correction, keepdim, "var_mean")


@numpy_names
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim``."""
    dim, correction = _correction("std_mean", dim, unbiased, correction)
    v, m = _var_mean(input, dim, correction, keepdim, "std_mean")
    return _ew.sqrt(v), m


class Norm2(Function):
    """The Euclidean norm; its gradient is 0 (not NaN) where the norm is 0, as in torch."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x._data.shape, axes, keepdim
        ctx.save_for_backward(x, OUTPUT)
        xd = x._data
        return ctx.xp.sqrt((xd * xd).sum(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        yk = _to_keepdim(y, ctx)
        safe = _ew.where(_ew.eq(yk, 0), 1.0, yk)
        return _ew.mul(_to_keepdim(grad, ctx), _ew.div(x, safe))


@numpy_names
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over ``dim`` (all elements when None): p = 'fro', 2, 1, inf, -inf, 0 or any float."""
    _check_tensor(input, "norm")
    if dtype is not None:
        input = to_dtype(input, dtypes.to_dtype(dtype))
    if input._data.dtype.kind not in "fV":
        raise RuntimeError(f"norm: expected a floating point input, got {input.dtype}")
    if p == "nuc":
        raise NotImplementedError("norm: the nuclear norm (p='nuc') is not supported; use linalg.svdvals(x).sum()")
    if isinstance(p, str) and p != "fro":
        raise ValueError(f"norm: unknown norm type p={p!r}")
    axes = normalize_dims(dim, input._data.ndim, "norm")
    keepdim = builtins.bool(keepdim)
    if p == "fro" or p == 2:
        return Norm2.apply(input, axes, keepdim)
    if p == math.inf:
        return amax(_ew.abs(input), axes, keepdim)
    if p == -math.inf:
        return amin(_ew.abs(input), axes, keepdim)
    if p == 0:
        return sum(_ew.ne(input, 0), axes, keepdim, dtype=input.dtype)
    if p == 1:
        return sum(_ew.abs(input), axes, keepdim)
    return _ew.pow(sum(_ew.pow(_ew.abs(input), p), axes, keepdim), 1.0 / p)


# ---- logsumexp, boolean reductions ------------------------------------------------------------------------------

class LogSumExp(Function):
    _node_name = "LogsumexpBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = ctx.xp
        xd = x._data
        ctx.in_shape, ctx.axes, ctx.keepdim = xd.shape, axes, keepdim
        ctx.save_for_backward(x, OUTPUT)
        m = xd.max(axis=axes, keepdims=True) if xd.size else xp.zeros(_keepdim_shape(xd.shape, axes), xd.dtype)
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf (or inf) slices: shifting by them would give NaN
        out = xp.log(xp.exp(xd - m).sum(axis=axes, keepdims=True)) + m
        return out if keepdim else out.reshape(tuple(s for i, s in enumerate(xd.shape) if i not in axes))

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return _ew.mul(_to_keepdim(grad, ctx), _ew.exp(_ew.sub(x, _to_keepdim(y, ctx))))


@numpy_names
def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(input), dim))``, computed stably (shifted by the max)."""
    _check_tensor(input, "logsumexp")
    axes = normalize_dims(dim, input._data.ndim, "logsumexp")
    return LogSumExp.apply(_ew._floatify(input), axes, builtins.bool(keepdim))


def _bool_reduce(name, method):
    def op(input, dim=None, keepdim=False):
        _check_tensor(input, name)
        axes = normalize_dims(dim, input._data.ndim, name)
        return _NonDiff.apply(lambda xp, x: getattr(x.astype(bool), method)(axis=axes, keepdims=builtins.bool(keepdim)),
                              input)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Whether {'all' if method == 'all' else 'any'} elements over ``dim`` are non-zero (bool)."
    return numpy_names(op)


all = _bool_reduce("all", "all")  # noqa: A001 - torch's name
any = _bool_reduce("any", "any")  # noqa: A001 - torch's name


def count_nonzero(input, dim=None):
    """Number of non-zero elements over ``dim`` (int64)."""
    _check_tensor(input, "count_nonzero")
    axes = normalize_dims(dim, input._data.ndim, "count_nonzero")
    return _NonDiff.apply(lambda xp, x: (x != 0).sum(axis=axes).astype(np.int64), input)


# ---- cumulative ops ---------------------------------------------------------------------------------------------

class Cumsum(Function):
    @staticmethod
    def forward(ctx, x, axis, np_dtype):
        ctx.axis = axis
        if np_dtype is None and _low(x._data):
            return x._data.cumsum(axis=axis, dtype=np.float32).astype(x._data.dtype)
        return x._data.cumsum(axis=axis, dtype=np_dtype)

    @staticmethod
    def backward(ctx, grad):
        return ReverseCumsum.apply(grad, ctx.axis)


class ReverseCumsum(Function):
    """``out[i] = sum_{j >= i} x[j]`` along ``axis``: the adjoint of cumsum."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        xp = ctx.xp
        acc = np.float32 if _low(x._data) else None
        return xp.flip(xp.flip(x._data, axis).cumsum(axis=axis, dtype=acc), axis).astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return Cumsum.apply(grad, ctx.axis, None)


def cumsum(input, dim, *, dtype=None):
    """Running sum along ``dim``; integer and bool inputs give int64."""
    _check_tensor(input, "cumsum")
    axis = wrap_dim(dim, input._data.ndim, "cumsum")
    npd = _accumulation_dtype(input, dtype)
    if input._data.ndim == 0:
        return clone(input) if npd is None else to_dtype(clone(input), npd)
    return Cumsum.apply(input, axis, npd)


class Cumprod(Function):
    @staticmethod
    def forward(ctx, x, axis, np_dtype):
        ctx.axis = axis
        ctx.save_for_backward(x, OUTPUT)
        return x._data.cumprod(axis=axis, dtype=np_dtype)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        if not builtins.bool((x._data == 0).any()):
            # d y_j / d x_k = y_j / x_k for j >= k
            return _ew.div(ReverseCumsum.apply(_ew.mul(grad, y), ctx.axis), x)
        return _cumprod_grad_with_zeros(x, grad, ctx.axis)


def _cumprod_grad_with_zeros(x, grad, axis):
    """O(n^2) exact gradient: row k is the cumprod of x with x_k replaced by 1, summed over j >= k."""
    xl = _shape.movedim(x, axis, -1)
    gl = _shape.movedim(grad, axis, -1)
    n = xl._data.shape[-1]
    lead = tuple(xl._data.shape[:-1])

    xp = _arrays.array_module(x._data)
    k = xp.arange(n).reshape(n, 1)
    j = xp.arange(n).reshape(1, n)
    rows = _shape.expand(_shape.reshape(xl, lead + (1, n)), lead + (n, n))
    rows = _ew.where(Tensor._make(k == j), 1.0, rows)
    partial = Cumprod.apply(rows, len(lead) + 1, None)
    terms = _ew.mul(_shape.reshape(gl, lead + (1, n)), partial)
    gk = sum(_ew.where(Tensor._make(j >= k), terms, 0.0), -1)
    return _shape.movedim(gk, -1, axis)


def cumprod(input, dim, *, dtype=None):
    """Running product along ``dim``; the gradient is exact with zeros in the input."""
    _check_tensor(input, "cumprod")
    axis = wrap_dim(dim, input._data.ndim, "cumprod")
    npd = _accumulation_dtype(input, dtype)
    if input._data.ndim == 0:
        return clone(input) if npd is None else to_dtype(clone(input), npd)
    return Cumprod.apply(input, axis, npd)


# ---- softmax -------------------------------------------------------------------------------------------------

class Softmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        ctx.save_for_backward(OUTPUT)
        xp = ctx.xp
        xd = x._data
        low = xd.dtype if _low(xd) else None
        if low is not None:  # float16/bfloat16: computed in float32 and rounded once, as torch's kernels
            xd = xd.astype(np.float32)
        e = xp.exp(xd - xd.max(axis=axis, keepdims=True))  # shifted: exp never overflows
        e /= _rows.sum_keep(xp, e, (axis,))
        return e if low is None else e.astype(low)

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return _ew.mul(y, _ew.sub(grad, sum(_ew.mul(grad, y), ctx.axis, keepdim=True)))

    @staticmethod
    def backward_arrays(ctx, grad):
        y = ctx.saved_tensors[0]._data  # unpacking checks the version counter
        if grad.dtype != y.dtype:
            gy = grad * y
            return gy - y * gy.sum(axis=ctx.axis, keepdims=True)
        gx = grad - _rows.dot_keep(ctx.xp, grad, y, (ctx.axis,))  # y * (grad - sum(grad * y))
        gx *= y
        return gx


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        ctx.save_for_backward(OUTPUT)
        xp = ctx.xp
        xd = x._data
        low = xd.dtype if _low(xd) else None
        if low is not None:  # float16/bfloat16: computed in float32 and rounded once
            xd = xd.astype(np.float32)
        shifted = xd - xd.max(axis=axis, keepdims=True)
        y = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        return y if low is None else y.astype(low)

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return _ew.sub(grad, _ew.mul(_ew.exp(y), sum(grad, ctx.axis, keepdim=True)))

    @staticmethod
    def backward_arrays(ctx, grad):
        y = ctx.saved_tensors[0]._data  # unpacking checks the version counter
        return grad - ctx.xp.exp(y) * grad.sum(axis=ctx.axis, keepdims=True)


def _softmax_args(input, dim, dtype, op, stacklevel):
    _check_tensor(input, op)
    if dtype is not None:
        input = to_dtype(input, dtypes.to_dtype(dtype))
    if dim is None:
        dim = 0 if input._data.ndim in (0, 1, 3) else 1
        warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call to include dim=X "
                      "as an argument.", UserWarning, stacklevel=stacklevel)
    x = _ew._floatify(input)
    if x._data.ndim == 0:
        return _shape.reshape(x, 1), 0, True
    return x, wrap_dim(dim, x._data.ndim, op), False


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``exp(x) / sum(exp(x), dim)``, stable for large inputs. ``dim`` should always be given.

    Example: ``softmax(logits, dim=-1)`` for logits of shape (N, C).
    """
    x, axis, scalar = _softmax_args(input, dim, dtype, "softmax", _stacklevel)
    out = Softmax.apply(x, axis)
    if scalar:
        out = _shape.reshape(out, ())
    return out


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``log(softmax(input, dim))`` computed directly (no log of a rounded-to-zero probability)."""
    x, axis, scalar = _softmax_args(input, dim, dtype, "log_softmax", _stacklevel)
    out = LogSoftmax.apply(x, axis)
    if scalar:
        out = _shape.reshape(out, ())
    return out
