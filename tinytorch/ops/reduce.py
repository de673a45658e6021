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
from .registry import OpInfo, SampleInput, register, randn, positive, away_from

__all__ = [
    "sum", "sum_to_size", "mean", "prod", "max", "min", "amax", "amin", "aminmax", "argmax", "argmin",
    "var", "std", "var_mean", "std_mean", "norm", "logsumexp", "all", "any", "count_nonzero",
    "cumsum", "cumprod", "softmax", "log_softmax", "nansum", "nanmean",
]
TENSOR_METHODS = (
    "sum", "sum_to_size", "mean", "prod", "max", "min", "amax", "amin", "aminmax", "argmax", "argmin",
    "var", "std", "norm", "logsumexp", "all", "any", "count_nonzero", "cumsum", "cumprod",
    "softmax", "log_softmax", "nansum", "nanmean",
)
F_EXPORTS = ("softmax", "log_softmax")

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
    from .shape import reshape

    if ctx.keepdim:
        return grad
    return reshape(grad, _keepdim_shape(ctx.in_shape, ctx.axes))


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
        from .shape import expand

        return expand(_to_keepdim(grad, ctx), ctx.in_shape)

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
    from .elementwise import where, isnan

    if input.is_floating_point():
        input = where(isnan(input), 0.0, input)
    return sum(input, dim, keepdim, dtype=dtype)


class SumToSize(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x._data.shape
        lead = x._data.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, s in enumerate(shape) if s == 1 and x._data.shape[lead + i] != 1
        )
        out = x._data.sum(axis=axes, keepdims=True) if axes else x._data
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        from .shape import expand

        return expand(grad, ctx.in_shape)


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
        with np.errstate(all="ignore"):  # the mean of an empty tensor is NaN, quietly, as in torch
            if _low(x._data):
                return x._data.mean(axis=axes, keepdims=keepdim, dtype=np.float32).astype(x._data.dtype)
            return x._data.mean(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        from .elementwise import div
        from .shape import expand

        return div(expand(_to_keepdim(grad, ctx), ctx.in_shape), builtins.max(ctx.count, 1))


@numpy_names
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Arithmetic mean over ``dim``; floating point inputs only unless ``dtype`` is given."""
    _check_tensor(input, "mean")
    if dtype is not None:
        from .convert import to_dtype

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
    from .elementwise import isnan, logical_not, div

    count = sum(logical_not(isnan(input)), dim, keepdim)
    return div(nansum(input, dim, keepdim, dtype=dtype), count)


class Prod(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim, np_dtype):
        ctx.in_shape, ctx.axes, ctx.keepdim = x._data.shape, axes, keepdim
        ctx.save_for_backward(x, OUTPUT)
        return x._data.prod(axis=axes, keepdims=keepdim, dtype=np_dtype)

    @staticmethod
    def backward(ctx, grad):
        from .elementwise import div, eq, mul, where
        from .shape import reshape

        x, y = ctx.saved_tensors
        g = _to_keepdim(grad, ctx)
        yk = y if ctx.keepdim else reshape(y, _keepdim_shape(ctx.in_shape, ctx.axes))
        zero = eq(x, 0)
        if not builtins.bool(zero._data.any()):
            return mul(g, div(yk, x))
        # with zeros, y / x is wrong: the gradient at the only zero of a slice is the product of the
        # others, and every other gradient of a slice holding a zero is 0 (y is 0 there already)
        x_nz = where(zero, 1.0, x)
        others = Prod.apply(x_nz, ctx.axes, True, None)
        one_zero = Tensor._make(zero._data.sum(axis=ctx.axes, keepdims=True) == 1)
        gx = where(zero, where(one_zero, others, 0.0), div(yk, x_nz))
        return mul(g, gx)


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
        from .elementwise import mul

        return mul(_to_keepdim(grad, ctx), Tensor._make(ctx.share))


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
        from .elementwise import where

        return where(Tensor._make(ctx.onehot), _to_keepdim(grad, ctx), 0.0)


def _max_min(input, dim, keepdim, largest, op):
    _check_tensor(input, op)
    if isinstance(dim, Tensor):  # max(a, b): the elementwise form
        from .elementwise import maximum, minimum

        return (maximum if largest else minimum)(input, dim)
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
    from .elementwise import div, mul, sub

    _check_tensor(input, op)
    if input._data.dtype.kind not in "fV":
        raise RuntimeError(f"{op}: std and var only support floating point and complex dtypes, got {input.dtype}")
    axes = normalize_dims(dim, input._data.ndim, op)
    count = math.prod(input._data.shape[a] for a in axes)
    m = mean(input, axes, keepdim=True)
    d = sub(input, m)
    # N - correction <= 0 gives inf/nan like torch (no warning: the division is quiet)
    v = div(sum(mul(d, d), axes, keepdim=keepdim), builtins.max(count - correction, 0))
    if not keepdim:
        from .shape import reshape

        m = reshape(m, tuple(s for i, s in enumerate(input._data.shape) if i not in axes))
    return v, m


@numpy_names
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with Bessel's ``correction`` (default 1; ``unbiased=False`` means 0)."""
    dim, correction = _correction("var", dim, unbiased, correction)
    return _var_mean(input, dim, correction, keepdim, "var")[0]


@numpy_names
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation: ``sqrt(var(...))`` with the same arguments."""
    from .elementwise import sqrt

    dim, correction = _correction("std", dim, unbiased, correction)
    return sqrt(_var_mean(input, dim, correction, keepdim, "std")[0])


@numpy_names
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim`` in one pass."""
    dim, correction = _correction("var_mean", dim, unbiased, correction)
    return _var_mean(input, dim, correction, keepdim, "var_mean")


@numpy_names
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim``."""
    from .elementwise import sqrt

    dim, correction = _correction("std_mean", dim, unbiased, correction)
    v, m = _var_mean(input, dim, correction, keepdim, "std_mean")
    return sqrt(v), m


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
        from .elementwise import div, eq, mul, where

        x, y = ctx.saved_tensors
        yk = _to_keepdim(y, ctx)
        safe = where(eq(yk, 0), 1.0, yk)
        return mul(_to_keepdim(grad, ctx), div(x, safe))


@numpy_names
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over ``dim`` (all elements when None): p = 'fro', 2, 1, inf, -inf, 0 or any float."""
    from .elementwise import abs as _abs, ne, pow as _pow

    _check_tensor(input, "norm")
    if dtype is not None:
        from .convert import to_dtype

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
        return amax(_abs(input), axes, keepdim)
    if p == -math.inf:
        return amin(_abs(input), axes, keepdim)
    if p == 0:
        return sum(ne(input, 0), axes, keepdim, dtype=input.dtype)
    if p == 1:
        return sum(_abs(input), axes, keepdim)
    return _pow(sum(_pow(_abs(input), p), axes, keepdim), 1.0 / p)


# ---- logsumexp, boolean reductions ------------------------------------------------------------------------------

class LogSumExp(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = ctx.xp
        xd = x._data
        ctx.in_shape, ctx.axes, ctx.keepdim = xd.shape, axes, keepdim
        ctx.save_for_backward(x, OUTPUT)
        m = xd.max(axis=axes, keepdims=True) if xd.size else xp.zeros(_keepdim_shape(xd.shape, axes), xd.dtype)
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf (or inf) slices: shifting by them would give NaN
        with np.errstate(divide="ignore"):
            out = xp.log(xp.exp(xd - m).sum(axis=axes, keepdims=True)) + m
        return out if keepdim else out.reshape(tuple(s for i, s in enumerate(xd.shape) if i not in axes))

    @staticmethod
    def backward(ctx, grad):
        from .elementwise import exp, mul, sub

        x, y = ctx.saved_tensors
        return mul(_to_keepdim(grad, ctx), exp(sub(x, _to_keepdim(y, ctx))))


@numpy_names
def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(input), dim))``, computed stably (shifted by the max)."""
    from .elementwise import _floatify

    _check_tensor(input, "logsumexp")
    axes = normalize_dims(dim, input._data.ndim, "logsumexp")
    return LogSumExp.apply(_floatify(input), axes, builtins.bool(keepdim))


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
        from .convert import clone, to_dtype

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
        from .elementwise import div, mul

        x, y = ctx.saved_tensors
        if not builtins.bool((x._data == 0).any()):
            # d y_j / d x_k = y_j / x_k for j >= k
            return div(ReverseCumsum.apply(mul(grad, y), ctx.axis), x)
        return _cumprod_grad_with_zeros(x, grad, ctx.axis)


def _cumprod_grad_with_zeros(x, grad, axis):
    """O(n^2) exact gradient: row k is the cumprod of x with x_k replaced by 1, summed over j >= k."""
    from .elementwise import mul, where
    from .shape import movedim, reshape, expand

    xl = movedim(x, axis, -1)
    gl = movedim(grad, axis, -1)
    n = xl._data.shape[-1]
    lead = tuple(xl._data.shape[:-1])
    from .. import _arrays

    xp = _arrays.array_module(x._data)
    k = xp.arange(n).reshape(n, 1)
    j = xp.arange(n).reshape(1, n)
    rows = expand(reshape(xl, lead + (1, n)), lead + (n, n))
    rows = where(Tensor._make(k == j), 1.0, rows)
    partial = Cumprod.apply(rows, len(lead) + 1, None)
    terms = mul(reshape(gl, lead + (1, n)), partial)
    gk = sum(where(Tensor._make(j >= k), terms, 0.0), -1)
    return movedim(gk, -1, axis)


def cumprod(input, dim, *, dtype=None):
    """Running product along ``dim``; the gradient is exact with zeros in the input."""
    _check_tensor(input, "cumprod")
    axis = wrap_dim(dim, input._data.ndim, "cumprod")
    npd = _accumulation_dtype(input, dtype)
    if input._data.ndim == 0:
        from .convert import clone, to_dtype

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
        y = e / e.sum(axis=axis, keepdims=True)
        return y if low is None else y.astype(low)

    @staticmethod
    def backward(ctx, grad):
        from .elementwise import mul, sub

        (y,) = ctx.saved_tensors
        return mul(y, sub(grad, sum(mul(grad, y), ctx.axis, keepdim=True)))

    @staticmethod
    def backward_arrays(ctx, grad):
        y = ctx.saved_tensors[0]._data  # unpacking checks the version counter
        gy = grad * y
        return gy - y * gy.sum(axis=ctx.axis, keepdims=True)


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
        from .elementwise import exp, mul, sub

        (y,) = ctx.saved_tensors
        return sub(grad, mul(exp(y), sum(grad, ctx.axis, keepdim=True)))

    @staticmethod
    def backward_arrays(ctx, grad):
        y = ctx.saved_tensors[0]._data  # unpacking checks the version counter
        return grad - ctx.xp.exp(y) * grad.sum(axis=ctx.axis, keepdims=True)


def _softmax_args(input, dim, dtype, op, stacklevel):
    from .elementwise import _floatify

    _check_tensor(input, op)
    if dtype is not None:
        from .convert import to_dtype

        input = to_dtype(input, dtypes.to_dtype(dtype))
    if dim is None:
        dim = 0 if input._data.ndim in (0, 1, 3) else 1
        warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call to include dim=X "
                      "as an argument.", UserWarning, stacklevel=stacklevel)
    x = _floatify(input)
    if x._data.ndim == 0:
        from .shape import reshape

        return reshape(x, 1), 0, True
    return x, wrap_dim(dim, x._data.ndim, op), False


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``exp(x) / sum(exp(x), dim)``, stable for large inputs. ``dim`` should always be given.

    Example: ``softmax(logits, dim=-1)`` for logits of shape (N, C).
    """
    x, axis, scalar = _softmax_args(input, dim, dtype, "softmax", _stacklevel)
    out = Softmax.apply(x, axis)
    if scalar:
        from .shape import reshape

        out = reshape(out, ())
    return out


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``log(softmax(input, dim))`` computed directly (no log of a rounded-to-zero probability)."""
    x, axis, scalar = _softmax_args(input, dim, dtype, "log_softmax", _stacklevel)
    out = LogSoftmax.apply(x, axis)
    if scalar:
        from .shape import reshape

        out = reshape(out, ())
    return out


# ---- registry ----------------------------------------------------------------------------------------------------

def _reduce_samples(rng):
    return [
        SampleInput((randn(rng, 3, 4),), name="all"),
        SampleInput((randn(rng, 3, 4),), {"dim": 1}, name="dim1"),
        SampleInput((randn(rng, 2, 3, 4),), {"dim": (0, 2), "keepdim": True}, name="tuple_keepdim"),
        SampleInput((randn(rng, 2, 3, 4),), {"dim": -1}, name="neg_dim"),
    ]


def _axis(dim):
    return tuple(dim) if isinstance(dim, (list, tuple)) else dim


def _np_sum(x, dim=None, keepdim=False):
    return x.sum(axis=_axis(dim), keepdims=keepdim)


def _torch_reduce(name):
    """torch.<name>(x) without dim, torch.<name>(x, dim, keepdim) with one."""
    def fn(torch, x, dim=None, keepdim=False, **kw):
        f = getattr(torch, name)
        return f(x, **kw) if dim is None else f(x, dim, keepdim=keepdim, **kw)
    return fn


register(OpInfo("sum", sum, _reduce_samples, ref=_np_sum, torch_fn=_torch_reduce("sum")))
register(OpInfo("sum_to_size", sum_to_size,
                lambda rng: [SampleInput((randn(rng, 2, 3, 4), (3, 1))), SampleInput((randn(rng, 3, 4), (1, 4)))],
                ref=lambda x, s: x.sum(axis=tuple(range(x.ndim - len(s))) + tuple(
                    x.ndim - len(s) + i for i, k in enumerate(s) if k == 1), keepdims=False).reshape(s),
                torch_fn=lambda torch, x, s: x.sum_to_size(s)))
register(OpInfo("mean", mean, _reduce_samples, ref=lambda x, dim=None, keepdim=False: x.mean(axis=_axis(dim),
                                                                                              keepdims=keepdim),
                torch_fn=_torch_reduce("mean")))


def _prod_samples(rng):
    x = positive(rng, 3, 4) * np.where(rng.random((3, 4)) < 0.5, -1, 1)
    one_zero = x.copy()
    one_zero[1, 2] = 0.0
    two_zeros = x.copy()
    two_zeros[0, 1] = two_zeros[0, 3] = 0.0
    return [
        SampleInput((x,), name="all"),
        SampleInput((x,), {"dim": 1}, name="dim1"),
        SampleInput((one_zero,), {"dim": 1, "keepdim": True}, name="one_zero"),
        SampleInput((two_zeros,), {"dim": 1}, name="two_zeros"),
        SampleInput((one_zero,), name="all_one_zero"),
    ]


register(OpInfo("prod", prod, _prod_samples, ref=lambda x, dim=None, keepdim=False: x.prod(axis=dim, keepdims=keepdim),
                torch_fn=_torch_reduce("prod")))


def _distinct(rng, *shape):
    """Values with no ties (max/min are not differentiable at ties)."""
    return rng.permutation(np.arange(np.prod(shape)) * 0.37 - 2.0).reshape(shape) + 0.01 * rng.random(shape)


def _extreme_samples(rng):
    return [
        SampleInput((_distinct(rng, 3, 4),), name="all"),
        SampleInput((_distinct(rng, 3, 4),), {"dim": 1}, name="dim1"),
        SampleInput((_distinct(rng, 2, 3, 4),), {"dim": (0, 2), "keepdim": True}, name="tuple_keepdim"),
    ]


register(OpInfo("amax", amax, _extreme_samples, ref=lambda x, dim=None, keepdim=False: x.max(axis=_axis(dim),
                                                                                               keepdims=keepdim),
                torch_fn=lambda torch, x, dim=(), keepdim=False: torch.amax(x, dim, keepdim), gradgradcheck=False))
register(OpInfo("amin", amin, _extreme_samples, ref=lambda x, dim=None, keepdim=False: x.min(axis=_axis(dim),
                                                                                               keepdims=keepdim),
                torch_fn=lambda torch, x, dim=(), keepdim=False: torch.amin(x, dim, keepdim), gradgradcheck=False))


def _max_dim_samples(rng):
    return [
        SampleInput((_distinct(rng, 3, 4),), name="all"),
        SampleInput((_distinct(rng, 3, 4), 1), name="dim1"),
        SampleInput((_distinct(rng, 2, 3, 4), 0, True), name="dim0_keepdim"),
    ]


def _np_max(largest):
    def ref(x, dim=None, keepdim=False):
        if dim is None:
            return x.max() if largest else x.min()
        idx = np.argmax(x, axis=dim) if largest else np.argmin(x, axis=dim)
        vals = np.take_along_axis(x, np.expand_dims(idx, dim), dim)
        if keepdim:
            return vals, np.expand_dims(idx, dim)
        return vals.squeeze(dim), idx
    return ref


register(OpInfo("max", max, _max_dim_samples, ref=_np_max(True), torch_fn=lambda torch, *a: torch.max(*a),
                gradgradcheck=False))
register(OpInfo("min", min, _max_dim_samples, ref=_np_max(False), torch_fn=lambda torch, *a: torch.min(*a),
                gradgradcheck=False))
register(OpInfo("max_binary", max, lambda rng: [SampleInput((_distinct(rng, 3, 4), _distinct(rng, 4)))],
                ref=np.maximum, torch_fn=lambda torch, a, b: torch.max(a, b), gradgradcheck=False))


def _var_samples(rng):
    return [
        SampleInput((randn(rng, 3, 4),), name="all"),
        SampleInput((randn(rng, 3, 4), 1), name="dim1"),
        SampleInput((randn(rng, 2, 3, 4), (0, 2)), {"keepdim": True, "correction": 0}, name="tuple_correction0"),
        SampleInput((randn(rng, 3, 4), 0), {"unbiased": False}, name="biased"),
    ]


def _np_var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    ddof = correction if correction is not None else (0 if unbiased is False else 1)
    return x.var(axis=_axis(dim), ddof=ddof, keepdims=keepdim)


register(OpInfo("var", var, _var_samples, ref=_np_var, torch_fn=lambda torch, *a, **k: torch.var(*a, **k)))
register(OpInfo("std", std, _var_samples, ref=lambda *a, **k: np.sqrt(_np_var(*a, **k)),
                torch_fn=lambda torch, *a, **k: torch.std(*a, **k)))
register(OpInfo("var_mean", var_mean, _var_samples,
                ref=lambda x, dim=None, *a, keepdim=False, **k: (_np_var(x, dim, *a, keepdim=keepdim, **k),
                                                                 x.mean(axis=_axis(dim), keepdims=keepdim)),
                torch_fn=lambda torch, *a, **k: torch.var_mean(*a, **k)))
register(OpInfo("std_mean", std_mean, _var_samples,
                ref=lambda x, dim=None, *a, keepdim=False, **k: (np.sqrt(_np_var(x, dim, *a, keepdim=keepdim, **k)),
                                                                 x.mean(axis=_axis(dim), keepdims=keepdim)),
                torch_fn=lambda torch, *a, **k: torch.std_mean(*a, **k)))


def _np_norm(x, p="fro", dim=None, keepdim=False):
    ax = _axis(dim)
    a = np.abs(x)
    if p in ("fro", 2):
        return np.sqrt((a * a).sum(axis=ax, keepdims=keepdim))
    if p == np.inf:
        return a.max(axis=ax, keepdims=keepdim)
    if p == -np.inf:
        return a.min(axis=ax, keepdims=keepdim)
    return (a ** p).sum(axis=ax, keepdims=keepdim) ** (1 / p)


def _norm_samples(rng):
    x = lambda *s: away_from(rng, s)  # noqa: E731 - |x| has a kink at 0
    return [
        SampleInput((x(3, 4),), name="fro"),
        SampleInput((x(3, 4), 2, 1), name="p2_dim1"),
        SampleInput((x(3, 4), 1, (0, 1), True), name="p1_keepdim"),
        SampleInput((_distinct(rng, 3, 4), np.inf, 1), name="inf"),
        SampleInput((_distinct(rng, 3, 4), -np.inf, 0), name="neg_inf"),
        SampleInput((x(3, 4), 3.0, 0), name="p3"),
    ]


register(OpInfo("norm", norm, _norm_samples, ref=_np_norm, torch_fn=lambda torch, *a: torch.norm(*a),
                gradgradcheck=False))
register(OpInfo("norm_smooth", norm, lambda rng: [SampleInput((randn(rng, 3, 4),)),
                                                  SampleInput((randn(rng, 3, 4), 2, 1))],
                ref=_np_norm, torch_fn=lambda torch, *a: torch.norm(*a)))


def _np_logsumexp(x, dim, keepdim=False):
    m = x.max(axis=_axis(dim), keepdims=True)
    out = np.log(np.exp(x - m).sum(axis=_axis(dim), keepdims=True)) + m
    return out if keepdim else np.squeeze(out, axis=_axis(dim))


register(OpInfo("logsumexp", logsumexp,
                lambda rng: [SampleInput((randn(rng, 3, 4), 1)), SampleInput((randn(rng, 2, 3, 4), (0, 2), True)),
                             SampleInput((randn(rng, 3, 4) * 30, -1), name="large")],
                ref=_np_logsumexp, torch_fn=lambda torch, *a: torch.logsumexp(*a)))
register(OpInfo("cumsum", cumsum,
                lambda rng: [SampleInput((randn(rng, 3, 4), 1)), SampleInput((randn(rng, 2, 3, 4), 0))],
                ref=lambda x, d: np.cumsum(x, axis=d), torch_fn=lambda torch, x, d: torch.cumsum(x, d)))


def _cumprod_samples(rng):
    x = positive(rng, 3, 4) * np.where(rng.random((3, 4)) < 0.5, -1, 1)
    z = x.copy()
    z[0, 1] = 0.0
    z[1, 0] = z[1, 2] = 0.0
    z[2, 3] = 0.0
    return [SampleInput((x, 1), name="no_zeros"), SampleInput((x[:2], 0), name="dim0"),
            SampleInput((z, 1), name="zeros")]


register(OpInfo("cumprod", cumprod, _cumprod_samples, ref=lambda x, d: np.cumprod(x, axis=d),
                torch_fn=lambda torch, x, d: torch.cumprod(x, d)))


def _np_softmax(x, dim, log=False):
    s = x - x.max(axis=dim, keepdims=True)
    lse = np.log(np.exp(s).sum(axis=dim, keepdims=True))
    return s - lse if log else np.exp(s - lse)


def _softmax_samples(rng):
    return [SampleInput((randn(rng, 3, 4),), {"dim": 1}), SampleInput((randn(rng, 2, 3, 4),), {"dim": 0}),
            SampleInput((randn(rng, 3, 4) * 20,), {"dim": -1}, name="large")]


register(OpInfo("softmax", softmax, _softmax_samples, ref=lambda x, dim: _np_softmax(x, dim),
                torch_fn=lambda torch, x, dim: torch.softmax(x, dim)))
register(OpInfo("log_softmax", log_softmax, _softmax_samples, ref=lambda x, dim: _np_softmax(x, dim, log=True),
                torch_fn=lambda torch, x, dim: torch.log_softmax(x, dim)))

# non-differentiable reductions: forward against NumPy and torch
register(OpInfo("argmax", argmax, lambda rng: [SampleInput((_distinct(rng, 3, 4),)), SampleInput((_distinct(rng, 3, 4), 1)),
                                               SampleInput((_distinct(rng, 3, 4), 0, True))],
                ref=lambda x, dim=None, keepdim=False: np.argmax(x, axis=dim, keepdims=keepdim),
                torch_fn=lambda torch, *a: torch.argmax(*a), gradcheck=False))
register(OpInfo("argmin", argmin, lambda rng: [SampleInput((_distinct(rng, 3, 4),)), SampleInput((_distinct(rng, 3, 4), 1))],
                ref=lambda x, dim=None, keepdim=False: np.argmin(x, axis=dim, keepdims=keepdim),
                torch_fn=lambda torch, *a: torch.argmin(*a), gradcheck=False))
for _name, _fn in (("all", all), ("any", any)):
    register(OpInfo(_name, _fn, lambda rng: [SampleInput((rng.random((3, 4)) < 0.7,)),
                                             SampleInput((rng.random((3, 4)) < 0.3, 1))],
                    ref=lambda x, dim=None, keepdim=False, m=_name: getattr(np, m)(x, axis=dim, keepdims=keepdim),
                    torch_fn=lambda torch, *a, m=_name: getattr(torch, m)(*a), gradcheck=False))
register(OpInfo("count_nonzero", count_nonzero,
                lambda rng: [SampleInput((np.round(randn(rng, 3, 4)),)), SampleInput((np.round(randn(rng, 3, 4)), 1))],
                ref=lambda x, dim=None: np.count_nonzero(x, axis=dim),
                torch_fn=lambda torch, *a: torch.count_nonzero(*a), gradcheck=False))
