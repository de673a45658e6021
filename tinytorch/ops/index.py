"""Indexing ops: ``__getitem__``/``__setitem__``, gather/scatter, index_select/index_add, masks, tril/triu."""
from __future__ import annotations

import builtins

import numpy as np

from .. import backend
from ..autograd import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import ensure_tensor, inplace, is_scalar
from .registry import OpInfo, SampleInput, register, randn

TENSOR_METHODS = ("getitem",)


def _normalize_index(index, x, op="index"):
    """Turn a user index into one NumPy/CuPy understands on ``x``'s device.

    Tensors and lists become integer arrays on the device; boolean masks are expanded to
    integer arrays (``nonzero``) so backward can scatter-add with repeated indices.
    """
    if not isinstance(index, tuple):
        index = (index,)
    xp = backend.array_module(x._data)
    out = []
    dim = 0
    n_ell = builtins.sum(1 for i in index if i is Ellipsis)
    if n_ell > 1:
        raise IndexError(f"{op}: an index can only have a single ellipsis ('...')")
    consumed = builtins.sum(
        (i.ndim if isinstance(i, (Tensor, np.ndarray)) and _is_bool(i) else 1)
        for i in index if i is not None and i is not Ellipsis
    )
    if consumed > x._data.ndim:
        raise IndexError(
            f"{op}: too many indices for tensor of dimension {x._data.ndim} (got {consumed}, tensor shape {tuple(x.shape)})"
        )
    for i in index:
        if i is None:
            out.append(None)
            continue
        if i is Ellipsis:
            out.append(Ellipsis)
            dim += x._data.ndim - consumed
            continue
        if isinstance(i, builtins.bool):
            raise IndexError(f"{op}: bool scalar indices are not supported")
        if isinstance(i, (builtins.int, np.integer)):
            size = x._data.shape[dim]
            if i < -size or i >= size:
                raise IndexError(f"{op}: index {i} is out of bounds for dimension {dim} with size {size}")
            out.append(builtins.int(i))
            dim += 1
            continue
        if isinstance(i, slice):
            out.append(i)
            dim += 1
            continue
        if isinstance(i, Tensor):
            arr = i._data
        elif isinstance(i, (list, np.ndarray, tuple)):
            arr = np.asarray(i)
        else:
            raise IndexError(f"{op}: unsupported index type {type(i).__name__}")
        if arr.dtype.kind == "b":
            if tuple(arr.shape) != tuple(x._data.shape[dim:dim + arr.ndim]):
                raise IndexError(
                    f"{op}: the shape of the mask {tuple(arr.shape)} does not match the shape of the indexed tensor "
                    f"{tuple(x._data.shape)} starting at dimension {dim}"
                )
            arr = backend.to_device(arr, x.device)
            out.extend(xp.nonzero(arr))
            dim += arr.ndim
            continue
        if arr.dtype.kind not in "iu":
            raise IndexError(f"{op}: tensors used as indices must be long, int or bool tensors, got {arr.dtype}")
        arr = backend.to_device(arr.astype(np.int64, copy=False), x.device)
        size = x._data.shape[dim]
        if arr.size and (builtins.int(arr.max()) >= size or builtins.int(arr.min()) < -size):
            raise IndexError(f"{op}: index {builtins.int(arr.max()) if builtins.int(arr.max()) >= size else builtins.int(arr.min())} is out of bounds for dimension {dim} with size {size}")
        out.append(arr)
        dim += 1
    return tuple(out)


def _is_bool(i):
    d = i._data.dtype if isinstance(i, Tensor) else i.dtype
    return d.kind == "b"


def _is_basic(idx):
    return builtins.all(i is None or i is Ellipsis or isinstance(i, (builtins.int, slice)) for i in idx)


class GetItem(Function):
    @staticmethod
    def forward(ctx, x, idx):
        ctx.idx = idx
        ctx.in_shape = x._data.shape
        ctx.is_view = _is_basic(idx)
        return x._data[idx]

    @staticmethod
    def backward(ctx, grad):
        return IndexAccumulate.apply(grad, ctx.idx, ctx.in_shape), None


class IndexAccumulate(Function):
    """zeros(shape) with ``grad`` added at ``idx`` (repeated indices accumulate): getitem's backward."""

    @staticmethod
    def forward(ctx, g, idx, shape):
        ctx.idx = idx
        out = ctx.xp.zeros(shape, dtype=g._data.dtype)
        if _is_basic(idx):
            out[idx] = g._data
        else:
            backend.scatter_add(ctx.xp, out, idx, g._data)
        return out

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, ctx.idx), None, None


def getitem(input, index):
    """``input[index]``: ints, slices (negative steps too), None, Ellipsis, integer arrays, masks."""
    idx = _normalize_index(index, input, "index")
    return GetItem.apply(input, idx)


class IndexPut(Function):
    @staticmethod
    def forward(ctx, x, v, idx):
        ctx.idx = idx
        out = x._data.copy()
        out[idx] = v._data
        return out

    @staticmethod
    def backward(ctx, grad):
        gx = gv = None
        if ctx.needs_input_grad[0]:
            zero = Tensor._make(ctx.xp.zeros((), dtype=grad._data.dtype))
            gx = IndexPut.apply(grad, zero, ctx.idx)
        if ctx.needs_input_grad[1]:
            gv = GetItem.apply(grad, ctx.idx)
        return gx, gv, None


def index_put(input, index, value):
    """Out-of-place ``input[index] = value``; gradients flow to both ``input`` and ``value``."""
    idx = _normalize_index(index, input, "index_put")
    v = ensure_tensor(value, "index_put", like=input)
    if v._data.dtype != input._data.dtype:
        from .convert import to_dtype

        v = to_dtype(v, input._data.dtype)
    try:
        np.broadcast_shapes(tuple(v._data.shape), np.empty(input._data.shape, dtype=np.bool_)[_host_idx(idx)].shape)
    except ValueError:
        raise RuntimeError(
            f"index_put: shape mismatch: value tensor of shape {tuple(v.shape)} cannot be broadcast to indexing result"
        ) from None
    except Exception:  # noqa: BLE001 - device index arrays; the backend reports its own error
        pass
    return IndexPut.apply(input, v, idx)


def _host_idx(idx):
    return tuple(backend.as_numpy(i) if hasattr(i, "dtype") else i for i in idx)


def setitem_(input, index, value):
    """``input[index] = value`` in place (recorded when autograd is on)."""
    recording = grad_mode.is_grad_enabled() and (
        input._requires_grad or (isinstance(value, Tensor) and value._requires_grad)
    )
    if not recording:
        idx = _normalize_index(index, input, "index_put")
        if not input._data.flags.writeable:
            raise RuntimeError("index_put: the tensor being written to is an expanded/read-only view; call .clone() first")
        val = value._data if isinstance(value, Tensor) else (value if is_scalar(value) else np.asarray(value))
        if isinstance(value, Tensor) and value.device != input.device:
            raise RuntimeError(f"index_put: value is on {value.device} but the tensor is on {input.device}")
        try:
            input._data[idx] = val
        except ValueError as e:
            raise RuntimeError(f"index_put: cannot assign value of shape {np.shape(val)} to tensor of shape {tuple(input.shape)}: {e}") from None
        input._vc[0] += 1
        return input
    return inplace(input, lambda: index_put(input, index, value), "index_put_")


register(OpInfo(
    "getitem", getitem,
    lambda rng: [
        SampleInput((randn(rng, 4, 5), (1, slice(None, None, -2))), name="basic_negstep"),
        SampleInput((randn(rng, 4, 5), (Ellipsis, None, 2)), name="ellipsis_none"),
        SampleInput((randn(rng, 4, 5), (np.array([0, 2, 2, 3]),)), name="repeated_int_array"),
        SampleInput((randn(rng, 4, 5), (np.array([[True, False, True, False, True]] * 4),)), name="bool_mask"),
    ],
    ref=lambda x, idx: x[idx], torch_fn=None))
register(OpInfo(
    "index_put", index_put,
    lambda rng: [SampleInput((randn(rng, 4, 5), (slice(1, 3),), randn(rng, 5)), name="broadcast_value"),
                 SampleInput((randn(rng, 4, 5), (np.array([0, 3]),), randn(rng, 2, 5)), name="int_array")],
    ref=lambda x, idx, v: _np_index_put(x, idx, v), torch_fn=None))


def _np_index_put(x, idx, v):
    out = x.copy()
    out[idx] = v
    return out
