"""Shape ops: reshape/view, expand, permute/transpose, cat/stack/split, squeeze, flip, roll ..."""
from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from .. import _arrays
from .._arrays.strides import as_strided
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import wrap_dim, inplace
from ..amp.autocast_mode import autocast_op
from .. import _dtype as dtypes
from .convert import to_dtype, clone
from . import index as _index
from . import reduce as _reduce

__all__ = [
    "reshape", "view", "view_as", "reshape_as", "flatten", "unflatten", "squeeze", "unsqueeze", "permute",
    "transpose", "swapaxes", "swapdims", "t", "movedim", "moveaxis", "expand", "expand_as", "broadcast_to",
    "broadcast_shapes", "broadcast_tensors", "repeat", "tile", "cat", "concat", "concatenate", "stack",
    "hstack", "vstack", "row_stack", "dstack", "column_stack", "split", "chunk", "unbind", "narrow", "flip",
    "fliplr", "flipud", "roll", "diagonal", "diag_embed", "diag", "trace", "tril", "triu", "tril_", "triu_",
    "meshgrid", "atleast_1d", "atleast_2d", "atleast_3d", "select", "repeat_interleave", "rot90",
]

# torch.* functions that are not Tensor methods
_FUNCTIONS_ONLY = (
    "broadcast_shapes", "broadcast_tensors", "cat", "concat", "concatenate", "stack", "hstack", "vstack", "row_stack",
    "dstack", "column_stack", "meshgrid", "atleast_1d", "atleast_2d", "atleast_3d",
)
TENSOR_METHODS = tuple(n for n in __all__ if n not in _FUNCTIONS_ONLY)


def _shape_arg(shape, op):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    out = []
    for pos, s in enumerate(shape):
        try:
            out.append(operator.index(s))  # 2.5 is an error, not 2 (torch: TypeError)
        except TypeError:
            raise TypeError(f"{op}(): argument 'shape' must be a tuple of ints, but found element of type "
                            f"{type(s).__name__} at pos {pos} (got {shape!r})") from None
    return tuple(out)


def _int_arg(v, op, name):
    """``v`` as an int; 1.5 is a TypeError (torch's), never silently truncated to 1."""
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(v).__name__} ({v!r})") from None


def _infer_shape(shape, numel, op, src):
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred, got shape {shape}")
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        if known == 0 or numel % known:
            raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel} (input shape {src})")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    if math.prod(shape) != numel or builtins.any(s < 0 for s in shape):
        raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel} (input shape {src})")
    return shape


class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x._data.shape
        a = x._data
        out = a.reshape(shape)
        # a view shares a's memory; a reshape that must copy also returns an array with a base (the fresh
        # copy). NumPy: a view's base is a, or a's own base (bases collapse to the owner); CuPy: a view
        # starts at a's first element, a copy in a new allocation
        b = out.base
        if b is None:
            ctx.is_view = False
        elif isinstance(a, np.ndarray):
            ctx.is_view = b is a or b is a.base
        else:
            ctx.is_view = _arrays.is_cupy_array(out) and out.data.ptr == a.data.ptr
        return out

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, ctx.in_shape)


def reshape(input, *shape):
    """``input`` with a new shape of the same number of elements (a view when possible; -1 infers)."""
    shape = _infer_shape(_shape_arg(shape, "reshape"), input._data.size, "reshape", tuple(input._data.shape))
    return Reshape.apply(input, shape)  # a new view even for the same shape, as torch


def _viewable(old_shape, old_strides, new_shape) -> bool:
    """Whether ``new_shape`` can share the storage of an array with these shape and strides.

    Old dims are merged into chunks that are contiguous with each other (stride[i] ==
    stride[i+1] * shape[i+1]); a view exists iff the new dims split exactly at chunk borders.
    """
    if math.prod(old_shape) == 0:
        return True
    chunks = []  # [size, innermost stride]
    for size, stride in zip(old_shape, old_strides):
        if size == 1:
            continue
        if chunks and chunks[-1][1] == stride * size:
            chunks[-1] = [chunks[-1][0] * size, stride]
        else:
            chunks.append([size, stride])
    new = [s for s in new_shape if s != 1]
    i = 0
    for size, _ in chunks:
        acc = 1
        while acc < size and i < len(new):
            acc *= new[i]
            i += 1
        if acc != size:
            return False
    return i == len(new)


def view(input, *shape):
    """``input`` with a new shape sharing its storage; raises like torch when no view exists."""
    if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
        raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
    shape = _infer_shape(_shape_arg(shape, "view"), input._data.size, "view", tuple(input._data.shape))
    a = input._data
    if not _viewable(a.shape, tuple(st // a.itemsize for st in a.strides), shape):
        raise RuntimeError(
            f"view size is not compatible with input tensor's size and stride (at least one dimension spans "
            f"across two contiguous subspaces): input shape {tuple(a.shape)}, strides "
            f"{tuple(st // a.itemsize for st in a.strides)}, requested {shape}. Use .reshape(...) instead."
        )
    return Reshape.apply(input, shape)


class Expand(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x._data.shape
        return ctx.xp.broadcast_to(x._data, shape)

    @staticmethod
    def backward(ctx, grad):
        return _reduce.sum_to_size(grad, ctx.in_shape)


def expand(input, *sizes):
    """Broadcast ``input`` to ``sizes`` without copying (-1 keeps a dim)."""
    sizes = _shape_arg(sizes, "expand")
    src = tuple(input._data.shape)
    if len(sizes) < len(src):
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the number of dimensions in the tensor ({len(src)})"
        )
    lead = len(sizes) - len(src)
    out = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing dimension (sizes {sizes})")
            out.append(s)
            continue
        d = src[i - lead]
        if s == -1:
            s = d
        if d != s and d != 1:
            raise RuntimeError(
                f"expand: the expanded size of the tensor ({s}) must match the existing size ({d}) at non-singleton dimension {i}. Target sizes: {list(sizes)}. Tensor sizes: {list(src)}"
            )
        out.append(s)
    return Expand.apply(input, tuple(out))  # a new view even for the same shape, as torch


class Permute(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x._data.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        inv = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inv[d] = i
        return permute(grad, tuple(inv))


def permute(input, *dims):
    """Reorder dimensions: ``out.shape[i] == input.shape[dims[i]]``."""
    dims = _shape_arg(dims, "permute")
    n = input._data.ndim
    if len(dims) != n:
        raise RuntimeError(f"permute: number of dims don't match: got {len(dims)} dims for a tensor of shape {tuple(input.shape)}")
    dims = tuple(wrap_dim(d, n, "permute") for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError(f"permute: repeated dim in {dims}")
    return Permute.apply(input, dims)


def transpose(input, dim0, dim1):
    """Swap two dimensions."""
    n = input._data.ndim
    if n == 0:  # torch accepts dims 0 and -1 here and returns a new view
        wrap_dim(dim0, n, "transpose"), wrap_dim(dim1, n, "transpose")
        return Permute.apply(input, ())
    d0, d1 = wrap_dim(dim0, n, "transpose"), wrap_dim(dim1, n, "transpose")
    dims = list(range(n))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(input, tuple(dims))


class Unbind(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        ctx.is_view = True
        return tuple(x._data[(slice(None),) * dim + (i,)] for i in range(x._data.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return stack(list(grads), ctx.dim)


def unbind(input, dim=0):
    """Split ``input`` into a tuple of slices along ``dim`` (that dim removed)."""
    dim = wrap_dim(dim, input._data.ndim, "unbind")
    if input._data.shape[dim] == 0:
        return ()
    return Unbind.apply(input, dim)


class Stack(Function):
    @staticmethod
    def forward(ctx, tensors, dim):
        ctx.dim = dim
        ctx.n = len(tensors)
        return ctx.xp.stack([t._data for t in tensors], axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return (*unbind(grad, ctx.dim), None)


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dimension."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"stack(): argument 'tensors' must be a tuple or list of Tensors, not {type(tensors).__name__}")
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"stack: expected a sequence of Tensors, got {type(t).__name__} at position {i}")
        if t.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {tuple(tensors[0].shape)} at entry 0 and {tuple(t.shape)} at entry {i}"
            )

    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = dtypes.promote_types(dt, t.dtype)
    tensors = [to_dtype(t, dt) for t in tensors]
    dim = wrap_dim(dim, tensors[0]._data.ndim + 1, "stack")
    return Stack.apply(tensors, dim)


# ---- reshaping conveniences (compositions of reshape/permute/expand) ------------------------------

def view_as(input, other):
    """``input.view(other.shape)``."""
    return view(input, tuple(other.shape))


def reshape_as(input, other):
    """``input.reshape(other.shape)``."""
    return reshape(input, tuple(other.shape))


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim`` into one (a 0-d input becomes 1-d)."""
    n = input._data.ndim
    if n == 0:
        return reshape(input, (1,))
    s = wrap_dim(start_dim, n, "flatten")
    e = wrap_dim(end_dim, n, "flatten")
    if s > e:
        raise RuntimeError(f"flatten: start_dim ({start_dim}) cannot come after end_dim ({end_dim}) for shape {tuple(input.shape)}")
    if s == e:
        return input  # torch returns the input itself when no dims merge
    shp = tuple(input._data.shape)
    return reshape(input, shp[:s] + (math.prod(shp[s:e + 1]),) + shp[e + 1:])


def unflatten(input, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one entry may be -1)."""
    n = input._data.ndim
    d = wrap_dim(dim, n, "unflatten")
    sizes = tuple(builtins.int(s) for s in sizes)
    shp = tuple(input._data.shape)
    try:
        inner = _infer_shape(sizes, shp[d], "unflatten", shp)
    except RuntimeError:
        raise RuntimeError(
            f"unflatten: provided sizes {list(sizes)} don't multiply up to the size of dim {dim} ({shp[d]}) in the input tensor of shape {shp}"
        ) from None
    return reshape(input, shp[:d] + inner + shp[d + 1:])


def squeeze(input, dim=None):
    """Remove dims of size 1 (all of them, or those among ``dim``: int or tuple)."""
    shp = tuple(input._data.shape)
    if dim is None:
        axes = {i for i, s in enumerate(shp) if s == 1}
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        axes = {wrap_dim(d, len(shp), "squeeze") for d in dims}
        axes = {a for a in axes if len(shp) and shp[a] == 1}
    if not axes:
        return Reshape.apply(input, shp)  # torch returns a new view even when nothing changes
    return Reshape.apply(input, tuple(s for i, s in enumerate(shp) if i not in axes))


def unsqueeze(input, dim):
    """Insert a dim of size 1 at position ``dim`` (-ndim-1 <= dim <= ndim)."""
    shp = tuple(input._data.shape)
    d = wrap_dim(dim, len(shp) + 1, "unsqueeze")
    return Reshape.apply(input, shp[:d] + (1,) + shp[d:])


def swapaxes(input, axis0, axis1):
    """Alias of ``transpose``."""
    return transpose(input, axis0, axis1)


def swapdims(input, dim0, dim1):
    """Alias of ``transpose``."""
    return transpose(input, dim0, dim1)


def t(input):
    """Transpose a 2-D tensor (0-D and 1-D are returned as they are)."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D (shape {tuple(input.shape)})")
    if input._data.ndim < 2:
        return Reshape.apply(input, tuple(input._data.shape))
    return transpose(input, 0, 1)


def movedim(input, source, destination):
    """Move dim(s) ``source`` to position(s) ``destination``, keeping the others in order."""
    n = input._data.ndim
    src = tuple(source) if isinstance(source, (tuple, list)) else (source,)
    dst = tuple(destination) if isinstance(destination, (tuple, list)) else (destination,)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should contain the same number of dims as destination ({list(dst)} dims)")
    src = tuple(wrap_dim(d, n, "movedim") for d in src)
    dst = tuple(wrap_dim(d, n, "movedim") for d in dst)
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in source {list(src)} or destination {list(dst)}")
    if n == 0:  # dims 0/-1 of a 0-d tensor: a new view of it
        return Permute.apply(input, ())
    order = [None] * n
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(n) if i not in src)
    order = tuple(o if o is not None else next(rest) for o in order)
    return Permute.apply(input, order)


moveaxis = movedim


def expand_as(input, other):
    """``input.expand(other.shape)``."""
    return expand(input, tuple(other.shape))


def broadcast_to(input, size):
    """Broadcast ``input`` to ``size`` (a view, like ``expand``)."""
    return expand(input, tuple(size))


def broadcast_shapes(*shapes):
    """The shape that all ``shapes`` broadcast to (RuntimeError naming them when they don't)."""
    out = []
    for shp in shapes:
        shp = (shp,) if isinstance(shp, builtins.int) else tuple(shp)
        for i in range(1, len(shp) + 1):
            s = shp[-i]
            if i > len(out):
                out.insert(0, s)
            elif out[-i] == 1:
                out[-i] = s
            elif s != 1 and s != out[-i]:
                raise RuntimeError(f"shape mismatch: objects cannot be broadcast to a single shape: {[tuple(s) if not isinstance(s, builtins.int) else (s,) for s in shapes]}")
    return tuple(out)


def broadcast_tensors(*tensors):
    """Expand every tensor to their common broadcast shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    shape = broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return tuple(t if tuple(t.shape) == shape else expand(t, shape) for t in tensors)  # torch returns those as they are


def repeat(input, *sizes):
    """Tile ``input`` ``sizes[i]`` times along each dim (``len(sizes) >= input.ndim``; copies)."""
    sizes = _shape_arg(sizes, "repeat")
    shp = tuple(input._data.shape)
    if len(sizes) < len(shp):
        raise RuntimeError(
            f"repeat: Number of dimensions of repeat dims ({len(sizes)}) can not be smaller than number of dimensions of tensor ({len(shp)})"
        )
    if builtins.any(s < 0 for s in sizes):
        raise RuntimeError(f"repeat: repeats can not be negative, got {list(sizes)}")
    shp = (1,) * (len(sizes) - len(shp)) + shp
    # (.., 1, s_i, ..) expanded to (.., r_i, s_i, ..) then merged: each dim repeated r_i times
    inter = tuple(v for s in shp for v in (1, s))
    big = tuple(v for r, s in zip(sizes, shp) for v in (r, s))
    x = reshape(input, inter) if inter != tuple(input._data.shape) else input

    out = clone(expand(x, big))
    return reshape(out, tuple(r * s for r, s in zip(sizes, shp)))


def tile(input, dims):
    """Like ``repeat``, but ``dims`` shorter than ``input.ndim`` is padded with leading 1s."""
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, dims)


# ---- cat / split ----------------------------------------------------------------------------------

class Cat(Function):
    @staticmethod
    def forward(ctx, tensors, dim):
        ctx.dim = dim
        ctx.sizes = [t._data.shape[dim] for t in tensors]
        return ctx.xp.concatenate([t._data for t in tensors], axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return (*split(grad, ctx.sizes, ctx.dim), None)


def cat(tensors, dim=0):
    """Join tensors along an existing dim (type promotion; 1-D empty tensors are skipped like torch)."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"cat: expected a sequence of Tensors, got {type(tensors).__name__}")
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"cat: expected a sequence of Tensors, got {type(t).__name__} at position {i}")

    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = dtypes.promote_types(dt, t.dtype)
    # legacy rule: 1-D tensors of size 0 may be concatenated with anything
    kept = [t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)]
    if not kept:
        return to_dtype(tensors[0], dt)
    ref = kept[0]
    if ref._data.ndim == 0:
        raise RuntimeError("cat: zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, ref._data.ndim, "cat")
    for i, t in enumerate(kept):
        if t._data.ndim != ref._data.ndim:
            raise RuntimeError(
                f"cat: Tensors must have same number of dimensions: got {ref._data.ndim} (shape {tuple(ref.shape)}) and {t._data.ndim} (shape {tuple(t.shape)})"
            )
        for k in range(ref._data.ndim):
            if k != d and t._data.shape[k] != ref._data.shape[k]:
                raise RuntimeError(
                    f"cat: Sizes of tensors must match except in dimension {d}. Expected size {ref._data.shape[k]} but got size {t._data.shape[k]} for tensor number {i} in the list (shapes {tuple(ref.shape)} and {tuple(t.shape)})"
                )
    kept = [to_dtype(t, dt) for t in kept]
    if len(kept) == 1:
        return clone(kept[0])
    return Cat.apply(kept, d)


concat = cat
concatenate = cat


class Split(Function):
    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        ctx.is_view = True
        outs = []
        start = 0
        pre = (slice(None),) * dim
        for s in sizes:
            outs.append(x._data[pre + (slice(start, start + s),)])
            start += s
        return tuple(outs)

    @staticmethod
    def backward(ctx, *grads):
        return Cat.apply(list(grads), ctx.dim)


def split(tensor, split_size_or_sections, dim=0):
    """Split into chunks of ``split_size`` (the last may be smaller) or of the listed sizes."""
    n = tensor._data.ndim
    d = wrap_dim(dim, n, "split")
    size = tensor._data.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [_int_arg(s, "split", "split_sizes") for s in split_size_or_sections]
        if builtins.sum(sizes) != size or builtins.any(s < 0 for s in sizes):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at dimension {d}), but got split_sizes={sizes}"
            )
    else:
        step = _int_arg(split_size_or_sections, "split", "split_size")
        if step <= 0 and not (step == 0 and size == 0):
            raise RuntimeError(f"split: split_size can only be 0 if dimension size is 0, got split_size={step} for size {size}")
        if size == 0:
            sizes = [0]
        else:
            sizes = [builtins.min(step, size - i) for i in range(0, size, step)]
    return Split.apply(tensor, tuple(sizes), d)


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` pieces of ``ceil(size / chunks)`` (possibly fewer pieces)."""
    chunks = _int_arg(chunks, "chunk", "chunks")
    if chunks <= 0:
        raise RuntimeError(f"chunk: chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = wrap_dim(dim, input._data.ndim, "chunk")
    size = input._data.shape[d]
    step = builtins.max(-(-size // chunks), 1) if size else 1
    if size == 0:
        return Split.apply(input, (0,) * chunks, d) if chunks > 1 else (Split.apply(input, (0,), d)[0],)
    return split(input, step, d)


def narrow(input, dim, start, length):
    """The slice ``start:start+length`` of dim ``dim`` (a view)."""
    d = wrap_dim(dim, input._data.ndim, "narrow")
    size = input._data.shape[d]
    start = _int_arg(start, "narrow", "start")
    if start < 0:
        start += size
    length = _int_arg(length, "narrow", "length")
    if start < 0 or start > size or length < 0 or start + length > size:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({size}) of dim {d} (shape {tuple(input.shape)})")

    return _index.getitem(input, (slice(None),) * d + (slice(start, start + length),))


def hstack(tensors):
    """Concatenate column-wise (along dim 1; along dim 0 for 1-D tensors)."""
    tensors = atleast_1d(*tensors) if len(tensors) != 1 else (atleast_1d(tensors[0]),)
    return cat(list(tensors), 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors):
    """Concatenate row-wise after making every tensor at least 2-D."""
    tensors = [atleast_2d(t) for t in tensors]
    return cat(tensors, 0)


row_stack = vstack


def dstack(tensors):
    """Concatenate along dim 2 after making every tensor at least 3-D."""
    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    """Stack 1-D tensors as columns (2-D ones are concatenated along dim 1)."""
    cols = [reshape(t, (-1, 1)) if t._data.ndim <= 1 else t for t in tensors]
    return cat(cols, 1)


def _atleast(nd, shape_of, tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        return tuple(_atleast(nd, shape_of, tuple(tensors[0])))
    outs = tuple(t if t._data.ndim >= nd else reshape(t, shape_of(tuple(t._data.shape))) for t in tensors)
    return outs[0] if len(outs) == 1 else outs


def atleast_1d(*tensors):
    """Tensors with at least one dim (0-d become shape (1,))."""
    return _atleast(1, lambda s: (1,), tensors)


def atleast_2d(*tensors):
    """Tensors with at least two dims (a 1-D (n,) becomes (1, n))."""
    return _atleast(2, lambda s: (1,) * (2 - len(s)) + s, tensors)


def atleast_3d(*tensors):
    """Tensors with at least three dims ((n,) -> (1, n, 1); (m, n) -> (m, n, 1))."""
    return _atleast(3, lambda s: {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)], tensors)


def select(input, dim, index):
    """The slice at ``index`` of dim ``dim``, that dim removed (a view)."""
    d = wrap_dim(dim, input._data.ndim, "select")
    size = input._data.shape[d]
    index = builtins.int(index)
    if index < -size or index >= size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {tuple(input.shape)} at dimension {d}")
    return _index.getitem(input, (slice(None),) * d + (index,))


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times (an int or a per-element tensor) along ``dim`` (flattened if None).

    ``repeat_interleave(repeats)`` with a single integer tensor returns ``arange(len(repeats))`` repeated.
    """
    xp = _arrays.array_module(input._data)
    if repeats is None:  # the one-argument form: input holds the repeat counts
        counts = input._data
        return Tensor._make(xp.repeat(xp.arange(counts.shape[0]), counts).astype("int64"))
    x = input
    if dim is None:
        x = reshape(x, (-1,))
        d = 0
    else:
        d = wrap_dim(dim, x._data.ndim, "repeat_interleave")
    n = x._data.shape[d] if x._data.ndim else 1
    if isinstance(repeats, Tensor):
        if repeats._data.ndim > 1 or (repeats._data.ndim == 1 and repeats._data.shape[0] not in (1, n)):
            raise RuntimeError(f"repeat_interleave: repeats must have the same size as input along dim {d} ({n}), got shape {tuple(repeats.shape)}")
        r = repeats._data.reshape(-1)
        if r.size == 1:
            r = builtins.int(r[0])
    else:
        r = builtins.int(repeats)
    negative = r < 0 if isinstance(r, builtins.int) else builtins.bool(r.size) and builtins.int(r.min()) < 0
    if negative:
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    idx = xp.repeat(xp.arange(n), r)
    return _index.GetItem.apply(x, (slice(None),) * d + (idx,))


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane ``dims`` (from the first towards the second axis)."""
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    d0, d1 = (wrap_dim(d, input._data.ndim, "rot90") for d in dims)
    if d0 == d1:
        raise RuntimeError(f"rot90: expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k = builtins.int(k) % 4
    if k == 0:
        return clone(input)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 1:
        return transpose(flip(input, (d1,)), d0, d1)
    return flip(transpose(input, d0, d1), (d1,))

# ---- flip / roll --------------------------------------------------------------------------------

class Flip(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return ctx.xp.flip(x._data, dims).copy()  # torch's flip copies

    @staticmethod
    def backward(ctx, grad):
        return Flip.apply(grad, ctx.dims)


def flip(input, dims):
    """Reverse the order of elements along ``dims`` (int or tuple; a copy)."""
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    axes = tuple(wrap_dim(d, input._data.ndim, "flip") for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"flip: dim {list(dims)} appears multiple times in the list of dims")
    if input._data.ndim == 0:
        return clone(input)
    return Flip.apply(input, axes)


def fliplr(input):
    """Flip dim 1 (needs at least 2 dims)."""
    if input._data.ndim < 2:
        raise RuntimeError(f"fliplr: Input must be >= 2-d, got shape {tuple(input.shape)}")
    return flip(input, (1,))


def flipud(input):
    """Flip dim 0 (needs at least 1 dim)."""
    if input._data.ndim < 1:
        raise RuntimeError(f"flipud: Input must be >= 1-d, got shape {tuple(input.shape)}")
    return flip(input, (0,))


class Roll(Function):
    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return ctx.xp.roll(x._data, shifts, dims)

    @staticmethod
    def backward(ctx, grad):
        return Roll.apply(grad, tuple(-s for s in ctx.shifts), ctx.dims)


def roll(input, shifts, dims=None):
    """Shift elements circularly along ``dims`` (the flattened tensor when ``dims`` is None)."""
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    shifts = tuple(_int_arg(s, "roll", "shifts") for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: shifts {list(shifts)} need matching dims when dims is None")
        flat = reshape(input, (-1,))
        return reshape(Roll.apply(flat, shifts, (0,)), tuple(input._data.shape))
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(dims) != len(shifts):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}")
    dims = tuple(wrap_dim(d, input._data.ndim, "roll") for d in dims)
    return Roll.apply(input, shifts, dims)


# ---- diagonals and triangles -----------------------------------------------------------------

class Diagonal(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.args = (offset, dim1, dim2)
        ctx.in_shape = x._data.shape
        return _writable_diagonal(ctx.xp, x._data, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, grad):
        return DiagScatter.apply(grad, ctx.in_shape, *ctx.args)


def _writable_diagonal(xp, a, offset, dim1, dim2):
    """``a.diagonal(...)`` as a strided view that stays writable (``x.diagonal().fill_(0)`` works, like torch)."""
    shape = a.diagonal(offset, dim1, dim2).shape
    sl = [slice(None)] * a.ndim
    sl[dim1] = slice(builtins.max(0, -offset), None)
    sl[dim2] = slice(builtins.max(0, offset), None)
    b = a[tuple(sl)]
    strides = tuple(st for i, st in enumerate(b.strides) if i not in (dim1, dim2)) + (b.strides[dim1] + b.strides[dim2],)
    return as_strided(xp, b, shape, strides, writeable=True)


class DiagScatter(Function):
    """zeros(shape) with ``g`` written on the (offset, dim1, dim2) diagonal: diagonal's backward."""

    @staticmethod
    def forward(ctx, g, shape, offset, dim1, dim2):
        ctx.args = (offset, dim1, dim2)
        out = ctx.xp.zeros(shape, dtype=g._data.dtype)
        # NumPy/CuPy diagonals are read-only views; write through an index instead
        idx = _diag_index(ctx.xp, shape, offset, dim1, dim2)
        # advanced indices at dim1/dim2 put the diagonal dim in place when they are adjacent, first otherwise
        adjacent = builtins.abs(dim1 - dim2) == 1
        out[idx] = ctx.xp.moveaxis(g._data, -1, builtins.min(dim1, dim2) if adjacent else 0)
        return out

    @staticmethod
    def backward(ctx, grad):
        return Diagonal.apply(grad, *ctx.args)


def _diag_index(xp, shape, offset, dim1, dim2):
    n = builtins.max(0, builtins.min(shape[dim1] - builtins.max(0, -offset), shape[dim2] - builtins.max(0, offset)))
    r = xp.arange(n)
    idx = [slice(None)] * len(shape)
    idx[dim1] = r + builtins.max(0, -offset)
    idx[dim2] = r + builtins.max(0, offset)
    return tuple(idx)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of the (dim1, dim2) planes, appended as the last dim (a view)."""
    n = input._data.ndim
    if n < 2:
        raise RuntimeError(f"diagonal: expected a tensor with at least 2 dimensions, got shape {tuple(input.shape)}")
    d1, d2 = wrap_dim(dim1, n, "diagonal"), wrap_dim(dim2, n, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal: diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, builtins.int(offset), d1, d2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices whose (dim1, dim2) diagonals are the last dim of ``input`` (zeros elsewhere)."""
    n = input._data.ndim + 1
    d1, d2 = wrap_dim(dim1, n, "diag_embed"), wrap_dim(dim2, n, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2}")
    m = input._data.shape[-1] + builtins.abs(builtins.int(offset))
    batch = list(input._data.shape[:-1])
    shape = []
    for i in range(n):
        shape.append(m if i in (d1, d2) else batch.pop(0))
    g = input
    # DiagScatter writes the diagonal's last dim; the batch dims of g are in order already
    return DiagScatter.apply(g, tuple(shape), builtins.int(offset), d1, d2)


def diag(input, diagonal=0):
    """1-D input: the square matrix with it on the ``diagonal``-th diagonal; 2-D input: that diagonal."""
    if input._data.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input._data.ndim == 2:
        return clone(Diagonal.apply(input, builtins.int(diagonal), 0, 1))
    raise RuntimeError(f"diag: expected a 1-D or 2-D tensor, got shape {tuple(input.shape)}")


@autocast_op("trace")
def trace(input):
    """Sum of the main diagonal of a 2-D tensor."""
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix (2-D tensor), got shape {tuple(input.shape)}")

    return _reduce.sum(Diagonal.apply(input, 0, 0, 1))


class Tri(Function):
    @staticmethod
    def forward(ctx, x, k, lower):
        ctx.k, ctx.lower = k, lower
        return ctx.xp.where(_tri_mask(ctx.xp, x._data.shape, k, lower), x._data, x._data.dtype.type(0))

    @staticmethod
    def backward(ctx, grad):
        return Tri.apply(grad, ctx.k, ctx.lower)


def _tri_mask(xp, shape, k, lower):
    m, n = shape[-2], shape[-1]
    below = xp.tri(m, n, k, dtype=bool)  # j <= i + k
    return below if lower else ~xp.tri(m, n, k - 1, dtype=bool)


def tril(input, diagonal=0):
    """Keep the lower triangle (``j <= i + diagonal``) of the last two dims, zero the rest."""
    if input._data.ndim < 2:
        raise RuntimeError(f"tril: input tensor must have at least 2 dimensions, got shape {tuple(input.shape)}")
    return Tri.apply(input, _int_arg(diagonal, "tril", "diagonal"), True)


def triu(input, diagonal=0):
    """Keep the upper triangle (``j >= i + diagonal``) of the last two dims, zero the rest."""
    if input._data.ndim < 2:
        raise RuntimeError(f"triu: input tensor must have at least 2 dimensions, got shape {tuple(input.shape)}")
    return Tri.apply(input, _int_arg(diagonal, "triu", "diagonal"), False)


def tril_(input, diagonal=0):
    """In-place ``tril``."""
    return inplace(input, lambda: tril(input, diagonal), "tril_")


def triu_(input, diagonal=0):
    """In-place ``triu``."""
    return inplace(input, lambda: triu(input, diagonal), "triu_")


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors: ``indexing='ij'`` (matrix) or ``'xy'`` (Cartesian)."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for i, t in enumerate(tensors):
        if t._data.ndim > 1:
            raise RuntimeError(f"meshgrid: Expected 0D or 1D tensor in the tensor list but got shape {tuple(t.shape)} at position {i}")
    ts = [reshape(t, (-1,)) for t in tensors]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t._data.shape[0] for t in ts)
    n = len(ts)
    outs = [expand(reshape(t, tuple(-1 if k == i else 1 for k in range(n))), shape) for i, t in enumerate(ts)]
    if swap:
        outs[0], outs[1] = outs[1], outs[0]
    return tuple(outs)
