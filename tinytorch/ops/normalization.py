"""Normalization, vector distances and embedding lookups (``tinytorch.nn.functional``).

batch_norm, layer_norm, instance_norm and group_norm share one ``Standardize`` op: a single
forward over the reduced axes and an analytic backward — on arrays for plain training
steps (``backward_arrays``), and in tinytorch ops (stats recomputed from x) when a graph of
the backward is wanted. Running statistics are updated in place outside autograd, with the
unbiased batch variance, as PyTorch does.
"""
from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from .. import _arrays
from .._arrays.scatter import row_sums
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import check_float, wrap_dim
from .elementwise import add, mul, div, sub
from .. import ops  # the package namespace: ops of other families are looked up at call time
from ..amp.autocast_mode import autocast_op
from . import index as _index
from . import _rows

__all__ = [
    "batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm", "local_response_norm",
    "normalize", "cosine_similarity", "pairwise_distance", "embedding", "one_hot",
]

TENSOR_METHODS = ()


def _const(arr) -> Tensor:
    return Tensor._make(arr)


def _mean(x, axes):
    n = builtins.int(np.prod([x.shape[a] for a in axes]))
    return div(ops.sum(x, axes, keepdim=True), n)


# ---- the shared normalization op ---------------------------------------------------------------------------

class Standardize(Function):
    """``(x - mean) / sqrt(var + eps) * weight + bias`` with mean/var (biased) over ``axes``.

    ``weight``/``bias`` are None or broadcastable to x. ``stats`` may pass the batch
    ``(mean, var)`` arrays already computed (keepdims) by the caller.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps, stats=None):
        xp = ctx.xp
        a = x._data
        if a.dtype.itemsize == 2 and a.dtype.kind in "fV":  # float16/bfloat16: statistics in float32, one rounding
            a = a.astype(np.float32)
        if stats is None:
            mean = _rows.mean_keep(xp, a, axes)
            xc = a - mean
            var = _rows.dot_keep(xp, xc, xc, axes, mean=True)
        else:
            mean, var = stats
            xc = a - mean
        invstd = 1.0 / xp.sqrt(var + eps)
        y = xc * invstd
        if weight is not None:
            y = y * weight._data
        if bias is not None:
            y = y + bias._data
        ctx.axes, ctx.eps = axes, eps
        ctx.mean, ctx.invstd = mean, invstd
        ctx.save_for_backward(x, weight)
        return y.astype(x._data.dtype, copy=False)

    @staticmethod
    def backward_arrays(ctx, grad):
        x, w = ctx.saved_tensors
        axes = ctx.axes
        xhat = (x._data - ctx.mean) * ctx.invstd
        gxhat = grad if w is None else grad * w._data
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            xp = ctx.xp
            gx = ctx.invstd * (gxhat - _rows.mean_keep(xp, gxhat, axes)
                               - xhat * _rows.dot_keep(xp, gxhat, xhat, axes, mean=True))
        if ctx.needs_input_grad[1]:
            gw = grad * xhat
        if ctx.needs_input_grad[2]:
            gb = grad
        return gx, gw, gb

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        axes = ctx.axes
        # statistics recomputed with tinytorch ops so that the backward is differentiable in x
        xc = sub(x, _mean(x, axes))
        invstd = ops.rsqrt(add(_mean(mul(xc, xc), axes), ctx.eps))
        xhat = mul(xc, invstd)
        gxhat = grad if w is None else mul(grad, w)
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = mul(invstd, sub(sub(gxhat, _mean(gxhat, axes)), mul(xhat, _mean(mul(gxhat, xhat), axes))))
        if ctx.needs_input_grad[1]:
            gw = mul(grad, xhat)
        if ctx.needs_input_grad[2]:
            gb = grad
        return gx, gw, gb


def _check_input(input, op, min_dim=1):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    check_float(input, op)
    if input.ndim < min_dim:
        raise ValueError(f"{op}: expected at least {min_dim}-D input, got shape {tuple(input.shape)}")


def _channel_param(t, name, c, ndim, op):
    """A per-channel (C,) tensor viewed as (1, C, 1, ...) to broadcast against (N, C, *) input."""
    if t is None:
        return None
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor or None, got {type(t).__name__}")
    if t.numel() != c:
        raise RuntimeError(f"{op}: expected {name} with {c} elements (one per channel), got shape {tuple(t.shape)}")
    return ops.reshape(t, (1, c) + (1,) * (ndim - 2))


def _update_running(running, new_value, momentum):
    """``running = (1 - momentum) * running + momentum * new`` in place, outside autograd."""
    r = running._data
    r *= (1.0 - momentum)
    r += (momentum * new_value).astype(r.dtype, copy=False)
    running._vc[0] += 1


def _affine_eval(input, mean, var, weight_b, bias_b, eps):
    """Normalize with fixed (constant) statistics, then the affine map; all recorded ops."""
    xp = _arrays.array_module(input._data)
    invstd = (1.0 / xp.sqrt(var + eps)).astype(input._data.dtype, copy=False)
    y = mul(sub(input, _const(mean.astype(input._data.dtype, copy=False))), _const(invstd))
    if weight_b is not None:
        y = mul(y, weight_b)
    if bias_b is not None:
        y = add(y, bias_b)
    return y


def _in_input_dtype(y, input):
    """torch's norms return a float16/bfloat16 input's dtype even with float32 weights (mixed precision)."""
    d = input._data.dtype
    if d.itemsize == 2 and d.kind in "fV" and y._data.dtype != d:
        return ops.to_dtype(y, d)
    return y


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-05):
    """Normalize each channel of (N, C), (N, C, L) or (N, C, H, W) input over the batch (and spatial dims).

    Training: batch statistics, and ``running_mean``/``running_var`` (if given) updated in place with
    ``momentum`` and the unbiased batch variance. Eval: the running statistics.
    """
    op = "batch_norm"
    _check_input(input, op, 2)
    c = input.shape[1]
    nd = input.ndim
    for name, r in (("running_mean", running_mean), ("running_var", running_var)):
        if r is not None and (not isinstance(r, Tensor) or r.numel() != c):
            raise RuntimeError(f"{op}: expected {name} of shape ({c},), got {getattr(r, 'shape', type(r).__name__)}")
    w = _channel_param(weight, "weight", c, nd, op)
    b = _channel_param(bias, "bias", c, nd, op)
    axes = (0,) + tuple(range(2, nd))
    bshape = (1, c) + (1,) * (nd - 2)
    if not training:
        if running_mean is None or running_var is None:
            raise RuntimeError(f"{op}: running_mean and running_var must be defined in evaluation mode")
        y = _affine_eval(input, running_mean._data.reshape(bshape), running_var._data.reshape(bshape), w, b, eps)
        return _in_input_dtype(y, input)
    count = input.numel() // c
    if count <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {tuple(input.shape)}")
    a = input._data
    if a.dtype.itemsize == 2 and a.dtype.kind in "fV":  # float16/bfloat16: statistics in float32
        a = a.astype(np.float32)
    mean = a.mean(axis=axes, keepdims=True)
    var = a.var(axis=axes, keepdims=True)
    if not isinstance(momentum, (builtins.int, builtins.float)):
        raise TypeError(f"{op}: momentum must be a float, got {type(momentum).__name__}")
    if running_mean is not None:
        _update_running(running_mean, mean.reshape(c), momentum)
    if running_var is not None:
        _update_running(running_var, var.reshape(c) * (count / (count - 1)), momentum)
    return Standardize.apply(input, w, b, axes, float(eps), (mean, var))


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-05):
    """Normalize each (sample, channel) of (N, C, *spatial) input over its spatial dims."""
    op = "instance_norm"
    _check_input(input, op, 3)
    c = input.shape[1]
    nd = input.ndim
    w = _channel_param(weight, "weight", c, nd, op)
    b = _channel_param(bias, "bias", c, nd, op)
    bshape = (1, c) + (1,) * (nd - 2)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError(f"{op}: Expected running_mean and running_var to be defined when use_input_stats is false")
        return _affine_eval(input, running_mean._data.reshape(bshape), running_var._data.reshape(bshape), w, b, eps)
    axes = tuple(range(2, nd))
    count = builtins.int(np.prod(input.shape[2:]))
    if count <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {tuple(input.shape)}")
    a = input._data
    mean = a.mean(axis=axes, keepdims=True)
    var = a.var(axis=axes, keepdims=True)
    if running_mean is not None:
        _update_running(running_mean, mean.reshape(input.shape[0], c).mean(axis=0), momentum)
    if running_var is not None:
        _update_running(running_var, var.reshape(input.shape[0], c).mean(axis=0) * (count / (count - 1)), momentum)
    return Standardize.apply(input, w, b, axes, float(eps), (mean, var))


def _normalized_shape(normalized_shape):
    if isinstance(normalized_shape, (builtins.int, np.integer)):
        return (builtins.int(normalized_shape),)
    return tuple(builtins.int(s) for s in normalized_shape)


def _check_trailing(input, shape, op):
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(
            f"{op}: Given normalized_shape={list(shape)}, expected input with shape [*, {', '.join(map(str, shape))}], "
            f"but got input of size {list(input.shape)}"
        )


def _check_param_shape(t, name, shape, op):
    if t is None:
        return
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor or None, got {type(t).__name__}")
    if tuple(t.shape) != shape:
        raise RuntimeError(f"{op}: expected {name} of shape {list(shape)}, got {list(t.shape)}")


@autocast_op("layer_norm")
def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-05):
    """Normalize over the trailing ``normalized_shape`` dims; ``weight``/``bias`` have that shape."""
    op = "layer_norm"
    _check_input(input, op)
    shape = _normalized_shape(normalized_shape)
    _check_trailing(input, shape, op)
    _check_param_shape(weight, "weight", shape, op)
    _check_param_shape(bias, "bias", shape, op)
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    return Standardize.apply(input, weight, bias, axes, float(eps))


@autocast_op("group_norm")
def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-05):
    """Split the C channels of (N, C, *) input into ``num_groups`` groups and normalize each group per sample."""
    op = "group_norm"
    _check_input(input, op, 2)
    n, c = input.shape[0], input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(
            f"{op}: Expected number of channels in input to be divisible by num_groups, but got input of shape "
            f"{list(input.shape)} and num_groups={num_groups}"
        )
    w = _channel_param(weight, "weight", c, input.ndim, op)
    b = _channel_param(bias, "bias", c, input.ndim, op)
    grouped = ops.reshape(input, (n, num_groups, -1))
    y = ops.reshape(Standardize.apply(grouped, None, None, (2,), float(eps)), tuple(input.shape))
    if w is not None:
        y = mul(y, w)
    if b is not None:
        y = add(y, b)
    return _in_input_dtype(y, input)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``x / sqrt(mean(x^2) + eps) * weight`` over the trailing ``normalized_shape`` dims (eps: dtype's eps by default)."""
    op = "rms_norm"
    _check_input(input, op)
    shape = _normalized_shape(normalized_shape)
    _check_trailing(input, shape, op)
    _check_param_shape(weight, "weight", shape, op)
    if eps is None:
        eps = builtins.float(np.finfo(input._data.dtype).eps) if input._data.dtype.kind == "f" else 1e-6
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    y = mul(input, ops.rsqrt(add(_mean(mul(input, input), axes), builtins.float(eps))))
    return y if weight is None else _in_input_dtype(mul(y, weight), input)


# torch pools 4-D and larger inputs through avg_pool3d, which CPU autocast runs in float32
@autocast_op(select=lambda input, *a, **k: None if input.ndim == 3 else ("avg_pool3d",))
def local_response_norm(input, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
    """``x / (k + alpha / size * sum of x^2 over ``size`` neighbouring channels) ** beta`` for (N, C, *) input."""
    op = "local_response_norm"
    _check_input(input, op, 3)
    if size <= 0:
        raise RuntimeError(f"{op}: size (the kernel size) should be greater than zero, got {size}")
    c = input.shape[1]
    sq = mul(input, input)
    # channel window [i - size//2, i + (size-1)//2], zero-padded like torch's avg_pool over padded channels
    before, after = size // 2, (size - 1) // 2
    xp = _arrays.array_module(input._data)
    rest = tuple(input.shape[2:])
    parts = []
    if before:
        parts.append(_const(xp.zeros((input.shape[0], before) + rest, dtype=input._data.dtype)))
    parts.append(sq)
    if after:
        parts.append(_const(xp.zeros((input.shape[0], after) + rest, dtype=input._data.dtype)))
    padded = ops.cat(parts, 1) if len(parts) > 1 else sq
    window = None
    for s in range(size):
        piece = ops.getitem(padded, (slice(None), slice(s, s + c)))
        window = piece if window is None else add(window, piece)
    denom = ops.pow(add(mul(window, alpha / size), k), beta)
    return div(input, denom)


# ---- vector norms and distances ------------------------------------------------------------------------------

def _vector_norm(x, p, dim, keepdim):
    """The p-norm along ``dim``; its gradient is 0, not NaN, where the norm is 0 (as torch's norm backward)."""
    if p == 2:
        return ops.norm(x, 2, dim, keepdim)
    if p == 1:
        return ops.sum(ops.abs(x), dim, keepdim=keepdim)
    if p == math.inf:
        return ops.amax(ops.abs(x), dim, keepdim=keepdim)
    if p == -math.inf:
        return ops.amin(ops.abs(x), dim, keepdim=keepdim)
    if p == 0:
        return ops.sum(_const((x._data != 0).astype(x._data.dtype)), dim, keepdim=keepdim)
    s = ops.sum(ops.pow(ops.abs(x), p), dim, keepdim=keepdim)
    zero = _const(s._data == 0)
    # pow(0, 1/p) has an infinite slope: take it at 1 where s is 0 and mask the result (and so its gradient)
    return ops.masked_fill(ops.pow(ops.masked_fill(s, zero, 1.0), 1.0 / p), zero, 0.0)


def _clamp_min_keep_grad(n, eps):
    """``max(n, eps)`` in value with the gradient of ``n``: torch's cosine_similarity clamps its norms in place
    under no_grad, so near-zero vectors still get the norm's gradient."""
    xp = _arrays.array_module(n._data)
    return add(n, _const(xp.maximum(n._data, eps) - n._data))


@autocast_op("normalize")
def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None):
    """``input / max(||input||_p, eps)`` along ``dim``."""
    op = "normalize"
    _check_input(input, op, 0)
    d = wrap_dim(dim, input.ndim, op)
    norm = ops.clamp(_vector_norm(input, p, d, True), min=eps)
    res = div(input, norm)
    if out is not None:
        out.copy_(res)
        return out
    return res


@autocast_op("cosine_similarity")
def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """Cosine of the angle between x1 and x2 (broadcast) along ``dim``; each norm is clamped to ``eps``."""
    op = "cosine_similarity"
    for t in (x1, x2):
        _check_input(t, op, 0)
    try:
        shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    except ValueError:
        raise RuntimeError(f"{op}: x1 of shape {tuple(x1.shape)} and x2 of shape {tuple(x2.shape)} are not broadcastable") from None
    x1, x2 = ops.expand(x1, shape), ops.expand(x2, shape)
    d = wrap_dim(dim, len(shape), op)
    n1 = _clamp_min_keep_grad(_vector_norm(x1, 2, d, True), eps)
    n2 = _clamp_min_keep_grad(_vector_norm(x2, 2, d, True), eps)
    return ops.sum(mul(div(x1, n1), div(x2, n2)), d)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """``||x1 - x2 + eps||_p`` over the last dim (inputs broadcast)."""
    op = "pairwise_distance"
    for t in (x1, x2):
        _check_input(t, op, 0)
    diff = add(sub(x1, x2), eps)
    if diff.ndim == 0:
        return ops.abs(diff)
    return _vector_norm(diff, p, diff.ndim - 1, keepdim)


# ---- embedding -----------------------------------------------------------------------------------------------------

class EmbeddingLookup(Function):
    """``weight[indices]``; gradient rows scatter-added, the ``padding_idx`` row left without gradient."""

    _node_name = "EmbeddingBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq=False):
        ctx.indices, ctx.padding_idx, ctx.scale_grad_by_freq = indices, padding_idx, scale_grad_by_freq
        ctx.num = weight._data.shape[0]
        ctx.wshape = weight._data.shape
        return weight._data[indices]

    @staticmethod
    def backward(ctx, grad):
        if ctx.padding_idx is not None:
            keep = (ctx.indices != ctx.padding_idx).astype(grad._data.dtype)[..., None]
            grad = mul(grad, _const(keep))
        if ctx.scale_grad_by_freq:  # each row's gradient divided by how often its index occurs in the batch
            xp = ctx.xp
            counts = xp.bincount(ctx.indices.reshape(-1), minlength=ctx.num)
            grad = mul(grad, _const((1.0 / counts[ctx.indices]).astype(grad._data.dtype)[..., None]))
        return _index.IndexAccumulate.apply(grad, (ctx.indices,), ctx.wshape), None, None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        xp, idx = ctx.xp, ctx.indices.reshape(-1)
        d = ctx.wshape[1]
        g = grad.reshape(idx.size, d)
        if ctx.padding_idx is not None:
            g = g * (idx != ctx.padding_idx).astype(g.dtype)[:, None]
        if ctx.scale_grad_by_freq:  # each row's gradient divided by how often its index occurs in the batch
            counts = xp.bincount(idx, minlength=ctx.num)
            g = g * (1.0 / counts[idx]).astype(g.dtype)[:, None]
        if xp is np:
            return row_sums(idx, g, ctx.num), None, None, None
        out = xp.zeros(ctx.wshape, dtype=g.dtype)
        _arrays.scatter_add(xp, out, idx, g)
        return out, None, None, None


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
              sparse: bool = False):
    """Rows of ``weight`` (num_embeddings, D) picked by integer ``input`` (*) -> (*, D).

    ``padding_idx``: that row gets no gradient. ``max_norm``: rows looked up whose ``norm_type``-norm
    exceeds it are renormalized in place first.
    """
    op = "embedding"
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: expected input and weight to be Tensors, got {type(input).__name__} and {type(weight).__name__}")
    if input._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: Expected tensor for argument #1 'indices' to have an integer type (Long or Int), but got {input.dtype}")
    if weight.ndim != 2:
        raise RuntimeError(f"{op}: 'weight' must be 2-D (num_embeddings, embedding_dim), got shape {tuple(weight.shape)}")
    if sparse:  # no sparse tensors: the gradient is dense, zero in unused rows (what SparseAdam expects)
        warnings.warn(f"{op}: sparse=True gives a dense gradient in tinytorch (zeros in the rows not looked up); "
                      "SGD and optim.SparseAdam take the same steps as with torch's sparse gradient", UserWarning,
                      stacklevel=2)
    num = weight.shape[0]
    if padding_idx is not None:
        if padding_idx >= num or padding_idx < -num:
            raise AssertionError(f"{op}: Padding_idx must be within num_embeddings ({num}), got {padding_idx}")
        padding_idx = builtins.int(padding_idx) % num
    idx = input._data
    if idx.size:
        def error():
            lo, hi = builtins.int(idx.min()), builtins.int(idx.max())
            return IndexError(f"{op}: index out of range in self (index {lo if lo < 0 else hi}, num_embeddings {num})")
        # on CUDA: checked on the device, raised at the next host sync (_arrays.device_check)
        _arrays.device_check(_arrays.array_module(idx), (idx < 0) | (idx >= num), error)
    if max_norm is not None:
        _embedding_renorm(weight, idx, builtins.float(max_norm), builtins.float(norm_type))
    return EmbeddingLookup.apply(weight, idx, padding_idx, builtins.bool(scale_grad_by_freq))


def _bags(input, offsets, include_last_offset, op):
    """Flat indices (N,) and each bag's [start, end) from 2-D ``input`` or 1-D ``input`` + ``offsets``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: if input is 2D, then offsets has to be None, as input is treated is a "
                             f"mini-batch of fixed length sequences. However, found offsets of type "
                             f"{type(offsets).__name__}")
        b, n = input.shape
        starts = list(range(0, b * n, n))
        return input.reshape(-1), starts, [s + n for s in starts]
    if input.ndim != 1:
        raise ValueError(f"{op}: input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    if offsets is None:
        raise ValueError(f"{op}: offsets has to be a 1D Tensor but got None")
    if not isinstance(offsets, Tensor) or offsets.ndim != 1:
        raise ValueError(f"{op}: offsets has to be a 1D Tensor, got "
                         f"{tuple(offsets.shape) if isinstance(offsets, Tensor) else type(offsets).__name__}")
    off = [builtins.int(v) for v in _arrays.as_numpy(offsets._data).tolist()]
    n = input.shape[0]
    if off and off[0] != 0:
        raise RuntimeError(f"{op}: offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to "
                           f"start from position 0. However, got {off[0]}")
    if any(a > c for a, c in zip(off, off[1:])) or (off and off[-1] > n):
        raise RuntimeError(f"{op}: offsets must be non-decreasing and at most the input length {n}, got {off}")
    if include_last_offset:
        if not off:
            raise RuntimeError(f"{op}: include_last_offset needs at least one offset")
        return input, off[:-1], off[1:]
    return input, off, off[1:] + [n]


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type: float = 2, scale_grad_by_freq: bool = False,
                  mode: str = "mean", sparse: bool = False, per_sample_weights=None, include_last_offset: bool = False,
                  padding_idx=None):
    """Sums, means or maxima of bags of embedding rows: (B, N) or (N,) with ``offsets`` (B,) -> (B, D).

    A 2-D ``input`` holds B bags of N indices each; a 1-D ``input`` is cut into bags starting at ``offsets``
    (with ``include_last_offset`` the last offset ends the last bag). Indices equal to ``padding_idx`` are left
    out (a mean divides by the bag's other entries); an empty bag gives zeros. ``per_sample_weights`` (same
    shape as ``input``) scales each row first, ``mode="sum"`` only.
    """
    op = "embedding_bag"
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{op}: mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"{op}: per_sample_weights was not None. per_sample_weights is only supported "
                                  f"for mode='sum' (got mode='{mode}'). Please open a feature request on GitHub.")
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ValueError(f"{op}: per_sample_weights has to be of the same shape as input {tuple(input.shape)}, got "
                         f"{tuple(per_sample_weights.shape)}")
    flat, starts, ends = _bags(input, offsets, include_last_offset, op)
    rows = embedding(flat, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse)  # (N, D)
    num = weight.shape[0]
    idx = _arrays.as_numpy(flat._data)
    keep = np.ones(idx.shape, dtype=bool) if padding_idx is None else idx != builtins.int(padding_idx) % num
    b, d = len(starts), weight.shape[1]
    xp = _arrays.array_module(weight._data)
    if mode == "max":
        out = []
        for s, e in zip(starts, ends):
            sel = np.nonzero(keep[s:e])[0] + s
            if sel.size:
                out.append(ops.max(ops.index_select(rows, 0, _const(xp.asarray(sel))), 0).values)
            else:
                out.append(_const(xp.zeros((d,), dtype=weight._data.dtype)))
        return ops.stack(out, 0) if out else _const(xp.zeros((0, d), dtype=weight._data.dtype))
    if per_sample_weights is not None:
        rows = mul(rows, per_sample_weights.reshape(-1, 1))
    seg = np.zeros(idx.shape, dtype=np.int64)  # each entry's bag; entries in no bag get scale 0
    scale = np.zeros(idx.shape, dtype=weight._data.dtype)
    for k, (s, e) in enumerate(zip(starts, ends)):
        seg[s:e] = k
        count = builtins.int(keep[s:e].sum())
        if count:
            scale[s:e] = keep[s:e] / (count if mode == "mean" else 1)
    rows = mul(rows, _const(xp.asarray(scale[:, None])))
    zeros = _const(xp.zeros((b, d), dtype=weight._data.dtype))
    return ops.index_add(zeros, 0, _const(xp.asarray(seg)), rows)


def _embedding_renorm(weight, idx, max_norm, norm_type):
    """Scale the referenced rows whose norm exceeds ``max_norm`` down to it, in place without autograd."""
    xp = _arrays.array_module(weight._data)
    rows = xp.unique(idx.reshape(-1))
    w = weight._data
    sel = w[rows]
    norms = xp.linalg.norm(sel, ord=norm_type, axis=1) if norm_type not in (math.inf,) else xp.abs(sel).max(axis=1)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
    w[rows] = sel * scale[:, None]
    weight._vc[0] += 1


def one_hot(tensor, num_classes: int = -1):
    """int64 (*, num_classes) with a 1 at each index of the integer ``tensor`` (*); -1 infers max + 1."""
    op = "one_hot"
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(tensor).__name__}")
    if tensor._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: one_hot is only applicable to index tensor of integer dtype, got {tensor.dtype}")
    if isinstance(num_classes, builtins.bool) or not isinstance(num_classes, (builtins.int, np.integer)):
        raise TypeError(f"{op}(): argument 'num_classes' must be int, not {type(num_classes).__name__}")
    xp = _arrays.array_module(tensor._data)
    idx = tensor._data.astype(np.int64)
    if idx.size:
        lo, hi = builtins.int(idx.min()), builtins.int(idx.max())
        if lo < 0:
            raise RuntimeError(f"{op}: Class values must be non-negative, got {lo}.")
    else:
        hi = -1
        if num_classes == -1:
            raise RuntimeError(f"{op}: Can not infer total number of classes from empty tensor.")
    if num_classes == -1:
        num_classes = hi + 1
    elif hi >= num_classes:
        raise RuntimeError(f"{op}: Class values must be smaller than num_classes ({num_classes}), got {hi}.")
    out = (idx[..., None] == xp.arange(num_classes)).astype(np.int64)
    return Tensor._make(out)
