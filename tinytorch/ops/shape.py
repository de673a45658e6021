"""Shape ops: reshape/view, expand, permute/transpose, cat/stack/split, squeeze, flip, roll ..."""
from __future__ import annotations

import builtins
import math

from ..autograd.function import Function
from ..tensor import Tensor
from ._common import wrap_dim
from .registry import OpInfo, SampleInput, TensorList, register, randn

TENSOR_METHODS = ("reshape", "view", "expand", "permute", "transpose", "unbind")


def _shape_arg(shape, op):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        return tuple(builtins.int(s) for s in shape)
    except TypeError:
        raise TypeError(f"{op}: shape must be ints, got {shape!r}") from None


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
        out = x._data.reshape(shape)
        ctx.is_view = out.base is not None
        return out

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, ctx.in_shape)


def reshape(input, *shape):
    """``input`` with a new shape of the same number of elements (a view when possible; -1 infers)."""
    shape = _infer_shape(_shape_arg(shape, "reshape"), input._data.size, "reshape", tuple(input._data.shape))
    if shape == tuple(input._data.shape):
        return input
    return Reshape.apply(input, shape)


def view(input, *shape):
    """Like ``reshape`` (tinytorch copies when NumPy cannot make a view, instead of raising)."""
    from .. import _dtype as dtypes

    if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
        raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
    shape = _infer_shape(_shape_arg(shape, "view"), input._data.size, "view", tuple(input._data.shape))
    return Reshape.apply(input, shape)


class Expand(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x._data.shape
        return ctx.xp.broadcast_to(x._data, shape)

    @staticmethod
    def backward(ctx, grad):
        from .reduce import sum_to_size

        return sum_to_size(grad, ctx.in_shape)


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
    out = tuple(out)
    if out == src:
        return input
    return Expand.apply(input, out)


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
    if n == 0:
        return input
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
    from .. import _dtype as dtypes
    from .convert import to_dtype

    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = dtypes.promote_types(dt, t.dtype)
    tensors = [to_dtype(t, dt) for t in tensors]
    dim = wrap_dim(dim, tensors[0]._data.ndim + 1, "stack")
    return Stack.apply(tensors, dim)


register(OpInfo("reshape", reshape, lambda rng: [SampleInput((randn(rng, 3, 4), (2, 6))), SampleInput((randn(rng, 3, 4), (-1,)))],
                ref=lambda x, s: x.reshape(s), torch_fn=lambda torch, x, s: x.reshape(s)))
register(OpInfo("expand", expand, lambda rng: [SampleInput((randn(rng, 3, 1), (2, 3, 4)))],
                ref=lambda x, s: __import__("numpy").broadcast_to(x, s), torch_fn=lambda torch, x, s: x.expand(s)))
register(OpInfo("permute", permute, lambda rng: [SampleInput((randn(rng, 2, 3, 4), (2, 0, 1)))],
                ref=lambda x, d: x.transpose(d), torch_fn=lambda torch, x, d: x.permute(d)))
register(OpInfo("transpose", transpose, lambda rng: [SampleInput((randn(rng, 2, 3, 4), 0, -1))],
                ref=lambda x, a, b: x.swapaxes(a, b), torch_fn=lambda torch, x, a, b: x.transpose(a, b)))
register(OpInfo("stack", stack, lambda rng: [SampleInput((TensorList([randn(rng, 3, 4), randn(rng, 3, 4)]), 1))],
                ref=lambda ts, d: __import__("numpy").stack(ts, d), torch_fn=lambda torch, ts, d: torch.stack(ts, d)))
register(OpInfo("unbind", unbind, lambda rng: [SampleInput((randn(rng, 3, 4), 1))],
                ref=lambda x, d: tuple(__import__("numpy").moveaxis(x, d, 0)), torch_fn=lambda torch, x, d: torch.unbind(x, d)))
