"""Indexing ops: ``__getitem__``/``__setitem__``, gather/scatter, index_select/index_add, masks, tril/triu."""
from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from .. import _arrays
from ..autograd import grad_mode
from ..autograd.function import V_BASE, Function
from ..tensor import Tensor
from ._common import ensure_tensor, inplace, is_scalar, wrap_dim
from . import elementwise as _ew
from ..amp.autocast_mode import autocast_op
from .convert import to_dtype, clone
from . import shape as _shape

__all__ = [
    "getitem", "index_put", "index_put_", "gather", "scatter", "scatter_add", "index_select", "index_add",
    "index_fill", "index_copy", "masked_fill", "masked_select", "masked_scatter", "take", "take_along_dim",
    "nonzero", "argwhere", "scatter_", "scatter_add_", "index_add_", "index_fill_", "index_copy_",
    "masked_fill_", "masked_scatter_", "argsort", "sort", "msort", "topk", "kthvalue", "median", "mode",
    "unique", "unique_consecutive", "searchsorted", "bucketize", "bincount", "histc", "isin",
]

# torch.* functions that are not Tensor methods
_FUNCTIONS_ONLY = ("searchsorted", "bucketize", "isin")
TENSOR_METHODS = tuple(n for n in __all__ if n not in _FUNCTIONS_ONLY)


def _normalize_index(index, x, op="index"):
    """Turn a user index into one NumPy/CuPy understands on ``x``'s device.

    Tensors and lists become integer arrays on the device; boolean masks are expanded to
    integer arrays (``nonzero``) so backward can scatter-add with repeated indices.
    """
    if not isinstance(index, tuple):
        index = (index,)
    xp = _arrays.array_module(x._data)
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
            if i.step is not None and i.step <= 0:  # torch has no negative strides: refuse, don't reverse
                raise ValueError(f"{op}: slice step cannot be zero" if i.step == 0 else
                                 f"{op}: step must be greater than zero, got slice {i} on dimension {dim} "
                                 f"(tensor shape {tuple(x.shape)}); use flip() to reverse")
            out.append(i)
            dim += 1
            continue
        if isinstance(i, Tensor):
            arr = i._data
        elif _arrays.is_cupy_array(i):  # a raw device array (the loss functions pass these)
            arr = i
        elif isinstance(i, (list, np.ndarray, tuple)):
            arr = np.asarray(i)
        elif isinstance(i, (builtins.float, np.floating)):
            raise IndexError(f"{op}: only integers, slices (`:`), ellipsis (`...`), None and long or bool tensors "
                             f"are valid indices (got float {i})")
        else:
            raise TypeError(f"{op}: unsupported index type {type(i).__name__}: only integers, slices (`:`), "
                            f"ellipsis (`...`), None and long or bool tensors are valid indices")
        _check_index_device(arr, x, op)
        if arr.dtype.kind == "b":
            if tuple(arr.shape) != tuple(x._data.shape[dim:dim + arr.ndim]):
                raise IndexError(
                    f"{op}: the shape of the mask {tuple(arr.shape)} does not match the shape of the indexed tensor "
                    f"{tuple(x._data.shape)} starting at dimension {dim}"
                )
            arr = _arrays.to_device(arr, x.device)
            out.extend(xp.nonzero(arr))
            dim += arr.ndim
            continue
        if arr.dtype.kind not in "iu":
            raise IndexError(f"{op}: tensors used as indices must be long, int or bool tensors, got {arr.dtype}")
        size = x._data.shape[dim]
        _check_index_range(arr, size, op, dim)  # on the host when it is a host index: no sync
        arr = _arrays.to_device(arr.astype(np.int64, copy=False), x.device)
        out.append(arr)
        dim += 1
    return tuple(out)


def _check_index_device(arr, x, op):
    """Host indices may index any tensor (copied over, like torch); device indices only their own device's."""
    dev = _arrays.device_of(arr)
    if dev.type != "cpu" and dev != x.device:
        raise RuntimeError(f"{op}: indices should be either on cpu or on the same device as the indexed tensor "
                           f"({x.device}), got indices on {dev}")


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
        if ctx.is_view and Ellipsis not in idx:
            # NumPy turns all-int indexing into a scalar copy; the trailing ... keeps a 0-d view, so
            # ``counts[i, j] += 1`` writes through as in torch
            return x._data[idx + (Ellipsis,)]
        return x._data[idx]

    @staticmethod
    def backward(ctx, grad):
        return IndexAccumulate.apply(grad, ctx.idx, ctx.in_shape), None

    @staticmethod
    def grad_slice(ctx):
        # a basic index has no repeats: the engine may add the gradient into a shared buffer at idx
        return ctx.idx if ctx.is_view else None


class IndexAccumulate(Function):
    """zeros(shape) with ``grad`` added at ``idx`` (repeated indices accumulate): getitem's backward."""

    @staticmethod
    def forward(ctx, g, idx, shape):
        ctx.idx = idx
        out = ctx.xp.zeros(shape, dtype=g._data.dtype)
        if _is_basic(idx):
            out[idx] = g._data
        else:
            _arrays.scatter_add(ctx.xp, out, idx, g._data)  # NumPy: sorted level-wise adds, not np.add.at
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


def index_put(input, index, value, accumulate=False):
    """Out-of-place ``input[index] = value`` (``+=`` with repeats summed when ``accumulate``).

    Gradients flow to both ``input`` and ``value``. ``index`` is anything ``__getitem__`` takes
    (torch's tuple of index tensors included).
    """
    idx = _normalize_index(index, input, "index_put")
    v = ensure_tensor(value, "index_put", like=input)
    if v._data.dtype != input._data.dtype:
        v = to_dtype(v, input._data.dtype)
    # the shape input[index] would have, without touching (or copying) input's data
    target = np.broadcast_to(np.empty((), dtype=np.bool_), input._data.shape)[_host_idx(idx)].shape
    try:
        ok = np.broadcast_shapes(tuple(v._data.shape), target) == tuple(target)
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(
            f"index_put: shape mismatch: value tensor of shape {tuple(v.shape)} cannot be broadcast to indexing result of shape {tuple(target)}"
        )
    if accumulate:
        return _ew.add(input, IndexAccumulate.apply(_shape.expand(v, tuple(target)), idx, tuple(input._data.shape)))
    return IndexPut.apply(input, v, idx)


def index_put_(input, indices, values, accumulate=False):
    """In-place ``index_put``."""
    return inplace(input, lambda: index_put(input, indices, values, accumulate), "index_put_")


def _host_idx(idx):
    return tuple(_arrays.as_numpy(i) if hasattr(i, "dtype") else i for i in idx)


@_arrays.on_device_of
def setitem_(input, index, value):
    """``input[index] = value`` in place (recorded when autograd is on)."""
    if not isinstance(value, Tensor) and not is_scalar(value) and not isinstance(value, (list, tuple, np.ndarray)):
        raise TypeError(f"can't assign a {type(value).__name__} to a tensor of dtype {input.dtype} "
                        f"(expected a Tensor, a number or a sequence of numbers)")
    recording = grad_mode.is_grad_enabled() and (
        input._requires_grad or (isinstance(value, Tensor) and value._requires_grad)
        or (input._view is not None and input._view[V_BASE]._requires_grad)  # inplace() checks the view
    )
    if not recording:
        idx = _normalize_index(index, input, "index_put")
        if not _arrays.is_writeable(input._data):  # CuPy arrays have no writeable flag
            raise RuntimeError("index_put: the tensor being written to is an expanded/read-only view; call .clone() first")
        if isinstance(value, Tensor):
            if value.device != input.device:
                raise RuntimeError(f"index_put: value is on {value.device} but the tensor is on {input.device}")
            val = value._data
        elif is_scalar(value):
            val = value
        elif _arrays.is_cupy_array(value):
            _check_index_device(value, input, "index_put")
            val = value
        else:  # host data (list, NumPy array): CuPy accepts no host data in assignments, so copy it over first
            val = _arrays.to_device(np.asarray(value), input.device)
        try:
            input._data[idx] = val
        except ValueError as e:
            raise RuntimeError(f"index_put: cannot assign value of shape {np.shape(val)} to tensor of shape {tuple(input.shape)}: {e}") from None
        input._vc[0] += 1
        return input
    return inplace(input, lambda: index_put(input, index, value), "index_put_")


# ---- helpers for dim-wise index ops ------------------------------------------------------------

def _index_tensor(index, op, like):
    if not isinstance(index, Tensor):
        index = ensure_tensor(index, op, like=like)
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {index.dtype}")
    if index.device != like.device:
        raise RuntimeError(f"{op}: index is on {index.device} but the input is on {like.device}")
    return index


def _check_index_range(idx_arr, size, op, dim, exc=IndexError, low=None):
    """Indices must lie in [low, size) (low defaults to -size); torch raises ``exc`` (gather/scatter: RuntimeError).
    On CUDA checked on the device and raised at the next host sync."""
    low = -size if low is None else low
    if not idx_arr.size:
        return
    if type(idx_arr) is np.ndarray:
        hi, lo = builtins.int(idx_arr.max()), builtins.int(idx_arr.min())
        if hi >= size or lo < low:
            bad = hi if hi >= size else lo
            raise exc(f"{op}: index {bad} is out of bounds for dimension {dim} with size {size}")
        return

    def error():
        hi, lo = builtins.int(idx_arr.max()), builtins.int(idx_arr.min())
        return exc(f"{op}: index {hi if hi >= size else lo} is out of bounds for dimension {dim} with size {size}")
    _arrays.device_check(_arrays.array_module(idx_arr), (idx_arr >= size) | (idx_arr < low), error)


def _along_dim_index(xp, index, dim):
    """The full fancy index that addresses ``x[..., index[i, j, ...], ...]`` along ``dim``."""
    shape = index.shape
    idx = []
    for d in range(index.ndim):
        if d == dim:
            idx.append(index)
        else:
            idx.append(xp.arange(shape[d]).reshape(tuple(-1 if k == d else 1 for k in range(index.ndim))))
    return tuple(idx)


def _check_gather_shapes(op, input, index, dim, src=None):
    n = builtins.max(input._data.ndim, 1)
    if index._data.ndim != input._data.ndim and not (index._data.ndim <= 1 and input._data.ndim <= 1):
        raise RuntimeError(
            f"{op}: Index tensor must have the same number of dimensions as input tensor "
            f"(index shape {tuple(index.shape)}, input shape {tuple(input.shape)})"
        )
    for d in range(index._data.ndim):
        if d != dim and index._data.shape[d] > input._data.shape[d]:
            raise RuntimeError(
                f"{op}: Size does not match at dimension {d} expected index {tuple(index.shape)} to be smaller "
                f"than self {tuple(input.shape)} apart from dimension {dim}"
            )
        if src is not None and index._data.shape[d] > src._data.shape[d]:
            raise RuntimeError(
                f"{op}: Expected index {tuple(index.shape)} to be smaller than src {tuple(src.shape)} in every dimension"
            )
    _check_index_range(index._data, input._data.shape[dim] if input._data.ndim else 1, op, dim, RuntimeError, 0)
    return n


class Gather(Function):
    @staticmethod
    def forward(ctx, x, index, dim):
        ctx.dim = dim
        ctx.in_shape = x._data.shape
        ctx.save_for_backward(index)
        # index may be smaller than x in the non-gathered dims: address x through the full index
        return x._data[_along_dim_index(ctx.xp, index._data, dim)]

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        return ScatterAddInto.apply(grad, index, ctx.dim, ctx.in_shape), None, None


class ScatterAddInto(Function):
    """zeros(shape) plus ``src`` scatter-added along ``dim`` at ``index`` (gather's adjoint)."""

    @staticmethod
    def forward(ctx, src, index, dim, shape):
        ctx.dim = dim
        ctx.save_for_backward(index)
        out = ctx.xp.zeros(shape, dtype=src._data.dtype)
        sl = tuple(slice(0, s) for s in index._data.shape)
        _arrays.scatter_add(ctx.xp, out, _along_dim_index(ctx.xp, index._data, dim), src._data[sl])
        return out

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        return Gather.apply(grad, index, ctx.dim), None, None, None


def _src_slice(src, index):
    """``src`` cut to ``index``'s shape (scatter reads only that corner of src)."""
    if tuple(src._data.shape) == tuple(index._data.shape):
        return src
    return getitem(src, tuple(slice(0, s) for s in index._data.shape))


def gather(input, dim, index, *, sparse_grad=False):
    """``out[i][j][k] = input[index[i][j][k]][j][k]`` along ``dim`` (shape of ``index``)."""
    index = _index_tensor(index, "gather", input)
    d = wrap_dim(dim, input._data.ndim, "gather")
    _check_gather_shapes("gather", input, index, d)
    if input._data.ndim == 0:  # torch treats a 0-d input and index as 1-element vectors

        out = Gather.apply(_shape.reshape(input, (1,)), Tensor._make(index._data.reshape(-1)), 0)
        return _shape.reshape(out, tuple(index._data.shape))
    return Gather.apply(input, index, d)


class ScatterSet(Function):
    """``input`` with ``src`` written at ``index`` along ``dim`` (the last write wins on repeats)."""

    @staticmethod
    def forward(ctx, x, src, index, dim):
        ctx.dim = dim
        ctx.save_for_backward(index)
        out = x._data.copy()
        out[_along_dim_index(ctx.xp, index._data, dim)] = src._data
        return out

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        gx = gs = None
        if ctx.needs_input_grad[0]:
            zero = Tensor._make(ctx.xp.zeros(index._data.shape, dtype=grad._data.dtype))
            gx = ScatterSet.apply(grad, zero, index, ctx.dim)
        if ctx.needs_input_grad[1]:
            gs = Gather.apply(grad, index, ctx.dim)
        return gx, gs, None, None


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """Out-of-place ``input.scatter_``: write ``src`` (tensor) or ``value`` (number) at ``index`` along ``dim``.

    ``reduce='add'`` accumulates instead (``'multiply'`` is not supported).
    """
    if src is not None and value is not None:
        raise TypeError("scatter: give either src or value, not both")
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter: missing src (a tensor) or value (a number)")
    index = _index_tensor(index, "scatter", input)
    d = wrap_dim(dim, input._data.ndim, "scatter")
    is_value = not isinstance(src, Tensor)
    s = ensure_tensor(src, "scatter", like=input)
    if s._data.dtype != input._data.dtype:
        s = to_dtype(s, input._data.dtype)
    if is_value or s._data.ndim == 0:
        s = _shape.expand(s, tuple(index._data.shape))
    _check_gather_shapes("scatter", input, index, d, None if is_value else s)
    s = _src_slice(s, index)
    if reduce is None:
        return ScatterSet.apply(input, s, index, d)
    if reduce == "add":
        return _ew.add(input, ScatterAddInto.apply(s, index, d, tuple(input._data.shape)))
    if reduce == "multiply":
        raise NotImplementedError("scatter: reduce='multiply' is not supported in tinytorch")
    raise RuntimeError(f"scatter: reduce argument must be either add or multiply, got {reduce!r}")


def scatter_add(input, dim, index, src):
    """``input`` plus ``src`` accumulated at ``index`` along ``dim`` (repeated indices add up)."""
    index = _index_tensor(index, "scatter_add", input)
    d = wrap_dim(dim, input._data.ndim, "scatter_add")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add: src must be a Tensor, got {type(src).__name__}")
    _check_gather_shapes("scatter_add", input, index, d, src)
    if src._data.dtype != input._data.dtype:
        src = to_dtype(src, input._data.dtype)
    src = _src_slice(src, index)
    return _ew.add(input, ScatterAddInto.apply(src, index, d, tuple(input._data.shape)))


def _dim_index(input, dim, index, op, negative_ok=False):
    """(dim, 1-D index tensor, the getitem tuple selecting ``index`` along ``dim``); torch's index_fill alone
    takes negative indices."""
    index = _index_tensor(index, op, input)
    if index._data.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, got shape {tuple(index.shape)}")
    d = wrap_dim(dim, input._data.ndim, op)
    if input._data.ndim == 0:
        raise IndexError(f"{op}: cannot index a 0-d tensor along a dim")
    _check_index_range(index._data, input._data.shape[d], op, d, low=None if negative_ok else 0)
    idx = (slice(None),) * d + (index._data.reshape(-1).astype("int64", copy=False),)
    return d, index, idx


def index_select(input, dim, index):
    """The entries of ``input`` at the positions ``index`` (1-D) along ``dim``."""
    _, _, idx = _dim_index(input, dim, index, "index_select")
    return GetItem.apply(input, idx)


def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` added at ``index`` along ``dim`` (repeats accumulate)."""
    d, index, idx = _dim_index(input, dim, index, "index_add")
    want = tuple(input._data.shape[:d]) + (index._data.size,) + tuple(input._data.shape[d + 1:])
    if tuple(source._data.shape) != want and not (source._data.ndim == 0 and want == (1,)):
        raise RuntimeError(f"index_add: source of shape {tuple(source.shape)} does not match {want} (input {tuple(input.shape)}, dim {d}, {index._data.size} indices)")
    if source._data.dtype != input._data.dtype:
        source = to_dtype(source, input._data.dtype)
    if alpha != 1:
        source = _ew.mul(source, alpha)

    return _ew.add(input, IndexAccumulate.apply(_shape.reshape(source, want), idx, tuple(input._data.shape)))


def index_fill(input, dim, index, value):
    """``input`` with the slices at ``index`` along ``dim`` set to ``value`` (number or 0-d tensor)."""
    _, _, idx = _dim_index(input, dim, index, "index_fill", negative_ok=True)
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(f"index_fill: only supports a 0-dimensional value tensor, but got tensor with {value._data.ndim} dimension(s)")
    return _index_put_raw(input, idx, value, "index_fill")


@autocast_op("index_copy")
def index_copy(input, dim, index, source):
    """``input`` with the slices at ``index`` along ``dim`` replaced by those of ``source``."""
    d, index, idx = _dim_index(input, dim, index, "index_copy")
    want = tuple(input._data.shape[:d]) + (index._data.size,) + tuple(input._data.shape[d + 1:])
    if tuple(source._data.shape) != want:
        raise IndexError(f"index_copy: source of shape {tuple(source.shape)} does not match {want} (input {tuple(input.shape)}, dim {d})")
    return _index_put_raw(input, idx, source, "index_copy")


def _index_put_raw(input, idx, value, op):
    v = ensure_tensor(value, op, like=input)
    if v._data.dtype != input._data.dtype:
        v = to_dtype(v, input._data.dtype)
    return IndexPut.apply(input, v, idx)


class MaskedFill(Function):
    @staticmethod
    def forward(ctx, x, mask, v):
        ctx.save_for_backward(mask)
        return ctx.xp.where(mask._data, v._data, x._data)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        gx = gv = None
        zero = Tensor._make(ctx.xp.zeros((), dtype=grad._data.dtype))
        if ctx.needs_input_grad[0]:
            gx = MaskedFill.apply(grad, mask, zero)
        if ctx.needs_input_grad[2]:
            gv = MaskedFill.apply(grad, Tensor._make(~mask._data), zero)
        return gx, None, gv


def _bool_mask(mask, op, like):
    if not isinstance(mask, Tensor):
        mask = ensure_tensor(mask, op, like=like)
    if mask._data.dtype.kind != "b":
        raise RuntimeError(f"{op}: expected mask to be a bool tensor, got {mask.dtype}")
    if mask.device != like.device:
        raise RuntimeError(f"{op}: mask is on {mask.device} but the input is on {like.device}")
    return mask


def _broadcast_shape(op, *shapes):
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(f"{op}: shapes {' and '.join(str(tuple(s)) for s in shapes)} cannot be broadcast together") from None


def masked_fill(input, mask, value):
    """``input`` with ``value`` (number or 0-d tensor) where ``mask`` (broadcast) is True."""
    mask = _bool_mask(mask, "masked_fill", input)
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(f"masked_fill only supports a 0-dimensional value tensor, but got tensor with {value._data.ndim} dimension(s)")
    v = ensure_tensor(value, "masked_fill", like=input)
    if v._data.dtype != input._data.dtype:
        v = to_dtype(v, input._data.dtype)
    _broadcast_shape("masked_fill", tuple(input._data.shape), tuple(mask._data.shape))
    return MaskedFill.apply(input, mask, v)


def masked_select(input, mask):
    """1-D tensor of the elements of ``input`` where ``mask`` is True (both broadcast)."""
    mask = _bool_mask(mask, "masked_select", input)
    shape = _broadcast_shape("masked_select", tuple(input._data.shape), tuple(mask._data.shape))
    x = _shape.expand(input, shape)
    m = _arrays.array_module(mask._data).broadcast_to(mask._data, shape)
    return GetItem.apply(x, _arrays.array_module(m).nonzero(m))


def masked_scatter(input, mask, source):
    """``input`` with the True positions of ``mask`` filled, in order, by the elements of ``source``."""
    mask = _bool_mask(mask, "masked_scatter", input)
    shape = _broadcast_shape("masked_scatter", tuple(input._data.shape), tuple(mask._data.shape))
    xp = _arrays.array_module(mask._data)
    m = xp.broadcast_to(mask._data, shape)
    count = builtins.int(m.sum())
    if source._data.size < count:
        raise RuntimeError(f"masked_scatter: Number of elements of source ({source._data.size}) < number of ones in mask ({count})")
    src = getitem(_shape.reshape(source, (-1,)), slice(0, count))
    if src._data.dtype != input._data.dtype:
        src = to_dtype(src, input._data.dtype)
    x = _shape.expand(input, shape) if tuple(input._data.shape) != shape else input
    return IndexPut.apply(x, src, xp.nonzero(m))


def take(input, index):
    """Elements of the flattened ``input`` at ``index`` (output has ``index``'s shape)."""
    index = _index_tensor(index, "take", input)
    n = input._data.size
    _check_index_range(index._data, n, "take", 0)
    return GetItem.apply(_shape.reshape(input, (-1,)), (index._data.astype("int64", copy=False),))


def take_along_dim(input, indices, dim=None):
    """``gather`` with broadcasting of ``input`` and ``indices`` (flattened input when ``dim`` is None)."""
    indices = _index_tensor(indices, "take_along_dim", input)
    if dim is None:
        return take(input, _shape.reshape(indices, (-1,)))
    if input._data.ndim != indices._data.ndim:
        raise RuntimeError(
            f"take_along_dim: input and indices should have the same number of dimensions, but got {input._data.ndim} "
            f"dimensions for input (shape {tuple(input.shape)}), and {indices._data.ndim} dimensions for indices (shape {tuple(indices.shape)})"
        )
    d = wrap_dim(dim, input._data.ndim, "take_along_dim")
    a = list(input._data.shape)
    b = list(indices._data.shape)
    a[d] = b[d] = 1
    bs = list(_broadcast_shape("take_along_dim", tuple(a), tuple(b)))
    xs, is_ = list(bs), list(bs)
    xs[d] = input._data.shape[d]
    is_[d] = indices._data.shape[d]
    return gather(_shape.expand(input, tuple(xs)), d, _shape.expand(indices, tuple(is_)))


def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or a tuple of 1-D ones."""
    xp = _arrays.array_module(input._data)
    a = input._data if input._data.ndim else input._data.reshape(1)
    idx = xp.nonzero(a)
    if as_tuple:
        return tuple(Tensor._make(i.astype("int64")) for i in idx)
    if not idx:
        return Tensor._make(xp.zeros((builtins.int((a != 0).sum()), 0), dtype="int64"))
    out = xp.stack(idx, axis=1).astype("int64")
    if input._data.ndim == 0:
        out = out[:, :0]
    return Tensor._make(out)


def argwhere(input):
    """``nonzero(input)``: an (n, ndim) tensor of the indices of non-zero elements."""
    return nonzero(input)


# ---- in-place variants ----------------------------------------------------------------------------

def scatter_(input, dim, index, src=None, *, value=None, reduce=None):
    """In-place ``scatter``."""
    return inplace(input, lambda: scatter(input, dim, index, src, value=value, reduce=reduce), "scatter_")


def scatter_add_(input, dim, index, src):
    """In-place ``scatter_add``."""
    return inplace(input, lambda: scatter_add(input, dim, index, src), "scatter_add_")


def index_add_(input, dim, index, source, *, alpha=1):
    """In-place ``index_add``."""
    return inplace(input, lambda: index_add(input, dim, index, source, alpha=alpha), "index_add_")


def index_fill_(input, dim, index, value):
    """In-place ``index_fill``."""
    return inplace(input, lambda: index_fill(input, dim, index, value), "index_fill_")


def index_copy_(input, dim, index, source):
    """In-place ``index_copy``."""
    return inplace(input, lambda: index_copy(input, dim, index, source), "index_copy_")


def masked_fill_(input, mask, value):
    """In-place ``masked_fill``."""
    return inplace(input, lambda: masked_fill(input, mask, value), "masked_fill_")


def masked_scatter_(input, mask, source):
    """In-place ``masked_scatter``."""
    return inplace(input, lambda: masked_scatter(input, mask, source), "masked_scatter_")


# ---- sorting and selection --------------------------------------------------------------------

sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])
kthvalue_result = namedtuple("kthvalue", ["values", "indices"])
median_result = namedtuple("median", ["values", "indices"])
mode_result = namedtuple("mode", ["values", "indices"])


def _stable_argsort(xp, a, axis):
    try:
        return xp.argsort(a, axis=axis, kind="stable")
    except (NotImplementedError, ValueError, TypeError):  # CuPy sorts stably and accepts no kind
        return xp.argsort(a, axis=axis)


def _argsort_array(xp, a, axis, descending):
    if a.dtype.kind == "b":
        a = a.astype("int8")
    if not descending:
        return _stable_argsort(xp, a, axis)
    # stable descending: sort the reversed array, reverse back, and map positions (NaN comes first, like torch)
    n = a.shape[axis]
    r = _stable_argsort(xp, xp.flip(a, axis), axis)
    return (n - 1) - xp.flip(r, axis)


def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort ``input`` along ``dim`` (ties keep their order: always stable)."""
    xp = _arrays.array_module(input._data)
    if input._data.ndim == 0:
        return Tensor._make(xp.zeros((), dtype="int64"))
    d = wrap_dim(dim, input._data.ndim, "argsort")
    return Tensor._make(_argsort_array(xp, input._data, d, descending).astype("int64", copy=False))


def sort(input, dim=-1, descending=False, stable=False):
    """``(values, indices)`` of ``input`` sorted along ``dim``; values are differentiable."""
    idx = argsort(input, dim, descending)
    if input._data.ndim == 0:
        return sort_result(clone(input), idx)
    return sort_result(Gather.apply(input, idx, wrap_dim(dim, input._data.ndim, "sort")), idx)


def msort(input):
    """``sort(input, dim=0).values``."""
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - torch's name
    """The ``k`` largest (or smallest) entries along ``dim`` and their indices."""
    if input._data.ndim == 0:
        if k not in (0, 1):
            raise RuntimeError(f"topk: selected index k out of range (k={k}, input is 0-d)")
        return topk_result(*sort(input))
    d = wrap_dim(dim, input._data.ndim, "topk")
    n = input._data.shape[d]
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: selected index k={k} out of range for dimension {d} of size {n} (shape {tuple(input.shape)})")
    idx = argsort(input, d, descending=largest)
    idx = Tensor._make(idx._data[(slice(None),) * d + (slice(0, k),)])
    return topk_result(Gather.apply(input, idx, d), idx)


def _select_kth(input, k0, dim, keepdim, op):
    """Entry of rank ``k0`` (0-based, ascending) along ``dim``: (values, indices)."""
    d = wrap_dim(dim, input._data.ndim, op)
    if input._data.ndim == 0:
        return clone(input), Tensor._make(_arrays.array_module(input._data).zeros((), dtype="int64"))
    idx = argsort(input, d)
    sel = (slice(None),) * d + (slice(k0, k0 + 1),)
    idx = Tensor._make(idx._data[sel])
    vals = Gather.apply(input, idx, d)
    if not keepdim:
        vals = _shape.squeeze(vals, d)
        idx = Tensor._make(idx._data.squeeze(d))
    return vals, idx


def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest entry (1-based) along ``dim`` and its index."""
    n = input._data.shape[wrap_dim(dim, input._data.ndim, "kthvalue")] if input._data.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue: selected number k={k} out of range for dimension of size {n} (shape {tuple(input.shape)})")
    return kthvalue_result(*_select_kth(input, k - 1, dim, keepdim, "kthvalue"))


def median(input, dim=None, keepdim=False):
    """Lower median: of all elements (``dim=None``, a 0-d tensor) or ``(values, indices)`` along ``dim``."""
    if dim is None:
        flat = _shape.reshape(input, (-1,))
        n = flat._data.shape[0]
        if n == 0:
            raise RuntimeError("median: cannot compute the median of an empty tensor")
        return _select_kth(flat, (n - 1) // 2, 0, False, "median")[0]
    n = input._data.shape[wrap_dim(dim, input._data.ndim, "median")] if input._data.ndim else 1
    if n == 0:
        raise IndexError(f"median(): Expected reduction dim {dim} to have non-zero size (shape {tuple(input.shape)})")
    return median_result(*_select_kth(input, (n - 1) // 2, dim, keepdim, "median"))


def mode(input, dim=-1, keepdim=False):
    """Most frequent value along ``dim`` (the smallest among ties) and the index of its last occurrence."""
    xp = _arrays.array_module(input._data)
    if input._data.ndim == 0:
        return mode_result(clone(input), Tensor._make(xp.zeros((), dtype="int64")))
    d = wrap_dim(dim, input._data.ndim, "mode")
    a = xp.moveaxis(input._data, d, -1)
    n = a.shape[-1]
    order = _stable_argsort(xp, a, -1)
    s = xp.take_along_axis(a, order, -1)
    # run lengths over each sorted row: at position i, i - (start of i's run) + 1
    new_run = xp.concatenate([xp.ones(s.shape[:-1] + (1,), dtype=bool), s[..., 1:] != s[..., :-1]], -1)
    run_id = xp.cumsum(new_run, -1) - 1
    run_starts = _stable_argsort(xp, (~new_run).astype("int8"), -1)  # positions of run starts come first, in order
    pos = xp.arange(n)
    count = pos - xp.take_along_axis(run_starts, run_id, -1) + 1
    # the first maximal count ends the smallest value among the most frequent ones
    best = xp.argmax(count, -1)[..., None]
    val = xp.take_along_axis(s, best, -1)
    # last occurrence of val in the original row
    hit = a == val
    last = (n - 1) - xp.argmax(xp.flip(hit, -1), -1)
    vals = val[..., 0]
    if keepdim:
        vals = xp.expand_dims(vals, d)
        last = xp.expand_dims(last, d)
    return mode_result(Tensor._make(vals), Tensor._make(last.astype("int64")))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """Distinct elements (sorted), optionally with inverse indices and counts; ``dim`` for unique slices."""
    xp = _arrays.array_module(input._data)
    if dim is not None:
        dim = wrap_dim(dim, input._data.ndim, "unique")
        res = xp.unique(input._data, return_inverse=builtins.bool(return_inverse), return_counts=builtins.bool(return_counts), axis=dim)
    else:
        res = xp.unique(input._data, return_inverse=True, return_counts=True)
    if dim is None:
        vals, inv, counts = res
        inv = inv.reshape(input._data.shape)
    else:
        res = res if isinstance(res, tuple) else (res,)
        vals = res[0]
        k = 1
        inv = counts = None
        if return_inverse:
            inv = res[k].reshape(-1)
            k += 1
        if return_counts:
            counts = res[k]
    out = [Tensor._make(vals)]
    if return_inverse:
        out.append(Tensor._make(inv.astype("int64")))
    if return_counts:
        out.append(Tensor._make(counts.astype("int64")))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements of the flattened input (``dim=None`` only)."""
    if dim is not None:
        raise NotImplementedError("unique_consecutive: dim is not supported in tinytorch")
    xp = _arrays.array_module(input._data)
    a = input._data.reshape(-1)
    if a.size == 0:
        starts = xp.zeros(0, dtype=bool)
    else:
        starts = xp.concatenate([xp.ones(1, dtype=bool), a[1:] != a[:-1]])
    out = [Tensor._make(a[starts])]
    if return_inverse:
        out.append(Tensor._make((xp.cumsum(starts) - 1).reshape(input._data.shape).astype("int64")))
    if return_counts:
        pos = xp.nonzero(starts)[0]
        out.append(Tensor._make(xp.diff(xp.concatenate([pos, xp.asarray([a.size])])).astype("int64")))
    return out[0] if len(out) == 1 else tuple(out)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Insertion points of ``input`` into the (last-dim) sorted ``sorted_sequence``."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"searchsorted: side can only be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise RuntimeError("searchsorted: side and right can't be set to opposites, got side of left while right was True")
        right = side == "right"
    seq = sorted_sequence
    xp = _arrays.array_module(seq._data)
    scalar = not isinstance(input, Tensor)
    vals = xp.asarray(input) if scalar else input._data
    s = seq._data
    if sorter is not None:
        s = xp.take_along_axis(s, sorter._data, -1)
    how = "right" if right else "left"
    if s.ndim == 1:
        out = xp.searchsorted(s, vals, side=how)
    else:
        if vals.ndim != s.ndim or vals.shape[:-1] != s.shape[:-1]:
            raise RuntimeError(
                f"searchsorted: boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries tensor and "
                f"input value tensor must match, but we got boundaries tensor {tuple(s.shape)} and input value tensor {tuple(vals.shape)}"
            )
        rows_s = s.reshape(-1, s.shape[-1])
        rows_v = vals.reshape(-1, vals.shape[-1])
        out = xp.stack([xp.searchsorted(rows_s[i], rows_v[i], side=how) for i in range(rows_s.shape[0])]).reshape(vals.shape)
    return Tensor._make(xp.asarray(out).astype("int32" if out_int32 else "int64"))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """Index of the bucket (given by 1-D sorted ``boundaries``) each element of ``input`` falls in."""
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries tensor must be 1 dimension, but got shape {tuple(boundaries.shape)}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Bool tensor shaped like ``elements``: whether each element occurs in ``test_elements`` (either may be a scalar)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin: expected at least one of elements and test_elements to be a Tensor, got "
                        f"{type(elements).__name__} and {type(test_elements).__name__}")
    ref = elements if isinstance(elements, Tensor) else test_elements
    xp = _arrays.array_module(ref._data)
    a = elements._data if isinstance(elements, Tensor) else xp.asarray(elements)
    b = test_elements._data if isinstance(test_elements, Tensor) else xp.asarray(test_elements)
    if isinstance(elements, Tensor) and isinstance(test_elements, Tensor) and elements.device != test_elements.device:
        raise RuntimeError(f"isin: elements are on {elements.device} but test_elements on {test_elements.device}")
    return Tensor._make(xp.isin(a, b, assume_unique=assume_unique, invert=invert))


def bincount(input, weights=None, minlength=0):
    """Counts (or summed ``weights``) of each non-negative integer value of the 1-D ``input``."""
    if input._data.ndim != 1 or input._data.dtype.kind not in "iu":
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got {input.dtype} of shape {tuple(input.shape)}")
    xp = _arrays.array_module(input._data)
    if input._data.size and builtins.int(input._data.min()) < 0:
        raise RuntimeError("bincount: input must contain only non-negative integers")
    if weights is not None:
        if tuple(weights.shape) != tuple(input.shape):
            raise RuntimeError(f"bincount: weights of shape {tuple(weights.shape)} should have the same shape as input {tuple(input.shape)}")
        w = weights._data
        out = xp.bincount(input._data, weights=w, minlength=minlength)
        dt = w.dtype if w.dtype.kind == "f" else np.float64
        return Tensor._make(out.astype(dt))
    return Tensor._make(xp.bincount(input._data, minlength=minlength).astype("int64"))


def histc(input, bins=100, min=0, max=0):  # noqa: A002 - torch's names
    """Histogram of ``bins`` equal-width bins over [min, max] (the data's range when both are 0)."""
    if input._data.dtype.kind not in "fV":
        raise RuntimeError(f"histc: expected a floating point tensor, got {input.dtype}")
    if isinstance(bins, builtins.bool) or not isinstance(bins, (builtins.int, np.integer)) or bins <= 0:
        raise RuntimeError(f"histc: bins must be a positive int, got {bins!r}")
    xp = _arrays.array_module(input._data)
    a = input._data.reshape(-1)
    lo, hi = builtins.float(min), builtins.float(max)
    if lo == hi and a.size:
        lo, hi = builtins.float(a.min()), builtins.float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"histc: max must be larger than min, got min={min}, max={max}")
    inside = a[(a >= lo) & (a <= hi)]
    pos = ((inside - lo) * (bins / (hi - lo))).astype("int64")
    pos = xp.minimum(pos, bins - 1)  # the right edge belongs to the last bin
    return Tensor._make(xp.bincount(pos, minlength=bins).astype(input._data.dtype))
