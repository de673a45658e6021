"""Reductions over dims: sum, mean, max/min, var/std, logsumexp, cumulative ops, softmax."""
from __future__ import annotations

import builtins

from .. import _dtype as dtypes
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import normalize_dims
from .registry import OpInfo, SampleInput, register, randn

TENSOR_METHODS = ("sum", "sum_to_size")


def _keepdim_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim, np_dtype):
        ctx.in_shape = x._data.shape
        ctx.axes = axes
        ctx.keepdim = keepdim
        return x._data.sum(axis=axes, keepdims=keepdim, dtype=np_dtype)

    @staticmethod
    def backward(ctx, grad):
        from .shape import reshape, expand

        if not ctx.keepdim:
            grad = reshape(grad, _keepdim_shape(ctx.in_shape, ctx.axes))
        return expand(grad, ctx.in_shape)


def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001 - torch's name
    """Sum over ``dim`` (int, tuple, or None for all). Integer and bool inputs sum to int64."""
    axes = normalize_dims(dim, input._data.ndim, "sum")
    if dtype is not None:
        npd = dtypes.to_dtype(dtype).np
    elif input._data.dtype.kind in "biu":
        npd = dtypes.int64.np
    else:
        npd = None
    return Sum.apply(input, axes, builtins.bool(keepdim), npd)


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
    ok = len(shape) <= len(src) and all(
        s == 1 or s == d for s, d in zip(shape, src[len(src) - len(shape):])
    )
    if not ok:
        raise RuntimeError(f"sum_to_size: size {shape} is not expandable to size {src}")
    return SumToSize.apply(input, shape)


def _reduce_samples(rng):
    return [
        SampleInput((randn(rng, 3, 4),), name="all"),
        SampleInput((randn(rng, 3, 4),), {"dim": 1}, name="dim1"),
        SampleInput((randn(rng, 2, 3, 4),), {"dim": (0, 2), "keepdim": True}, name="tuple_keepdim"),
        SampleInput((randn(rng, 2, 3, 4),), {"dim": -1}, name="neg_dim"),
    ]


def _np_sum(x, dim=None, keepdim=False):
    return x.sum(axis=dim if not isinstance(dim, list) else tuple(dim), keepdims=keepdim)


register(OpInfo("sum", sum, _reduce_samples, ref=_np_sum,
                torch_fn=lambda torch, x, dim=None, keepdim=False: torch.sum(x) if dim is None else torch.sum(x, dim, keepdim)))
register(OpInfo("sum_to_size", sum_to_size,
                lambda rng: [SampleInput((randn(rng, 2, 3, 4), (3, 1))), SampleInput((randn(rng, 3, 4), (1, 4)))],
                ref=lambda x, s: x.sum(axis=tuple(range(x.ndim - len(s))) + tuple(
                    x.ndim - len(s) + i for i, k in enumerate(s) if k == 1), keepdims=False).reshape(s),
                torch_fn=lambda torch, x, s: x.sum_to_size(s)))
