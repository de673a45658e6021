"""Conversion ops: dtype casts, device moves, clone, contiguous — all differentiable."""
from __future__ import annotations

import numpy as np

from .. import _arrays
from .. import _dtype as dtypes
from ..autograd.function import Function
from ..tensor import Tensor

__all__ = ["to_dtype", "to", "clone", "contiguous", "as_tensor_like"]
TENSOR_METHODS = ("clone", "contiguous")


class ToDtype(Function):
    @staticmethod
    def forward(ctx, x, np_dtype):
        ctx.src = x._data.dtype
        return x._data.astype(np_dtype)

    @staticmethod
    def backward(ctx, grad):
        return to_dtype(grad, ctx.src), None


def to_dtype(x: Tensor, dtype) -> Tensor:
    """Cast ``x`` to ``dtype`` (a tinytorch dtype or NumPy dtype); gradients flow back in x's dtype."""
    npd = dtype.np if isinstance(dtype, dtypes.dtype) else np.dtype(dtype)
    if x._data.dtype == npd:
        return x
    return ToDtype.apply(x, npd)


class ToDevice(Function):
    @staticmethod
    def forward(ctx, x, device):
        ctx.src = x.device
        return _arrays.to_device(x._data, device)

    @staticmethod
    def backward(ctx, grad):
        return ToDevice.apply(grad, ctx.src), None


def to(x: Tensor, device=None, dtype=None, copy=False) -> Tensor:
    """``Tensor.to``: move and/or cast; returns ``x`` itself when nothing changes and copy is False."""
    out = x
    if device is not None:
        device = _arrays.parse_device(device)
        cur = x.device
        same = cur.type == device.type and (device.index is None or (cur.index or 0) == device.index)
        if not same:
            out = ToDevice.apply(out, device)
    if dtype is not None:
        out = to_dtype(out, dtypes.to_dtype(dtype))
    if copy and out is x:
        out = clone(x)
    return out


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return x._data.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


def clone(x: Tensor, *, memory_format=None) -> Tensor:
    """A copy of ``x`` with its own storage; the copy stays connected to the graph."""
    return Clone.apply(x)


class Contiguous(Function):
    _node_name = "CloneBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.ascontiguousarray(x._data)

    @staticmethod
    def backward(ctx, grad):
        return grad


def contiguous(x: Tensor, memory_format=None) -> Tensor:
    """``x`` itself when C-contiguous, otherwise a contiguous copy."""
    if x._data.flags.c_contiguous:
        return x
    return Contiguous.apply(x)


def as_tensor_like(value, like: Tensor) -> Tensor:
    """``value`` (array-like) as a tensor on ``like``'s device with ``like``'s dtype."""
    arr = _arrays.array_module(value).asarray(value, dtype=like._data.dtype)  # np.asarray refuses CuPy arrays
    return Tensor._make(_arrays.to_device(arr, like.device))
