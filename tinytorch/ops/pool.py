"""Pooling, padding and resampling: max/avg pools, adaptive pools, pad, interpolate, pixel_shuffle.

Fixed-window pools run as one vectorized step per kernel offset over strided slices of the
padded input (never a loop over pixels); their gradients scatter back the same way. Every
backward is built from a pair of mutually adjoint ops, so higher-order gradients work:

* max pools:   ``_FlatGather`` (pick by index) and ``_FlatScatter`` (add back by index)
* avg pools:   ``AvgPool2d`` and ``AvgPool2dAdjoint``
* adaptive avg pools and interpolate(mode='area'): ``Separable`` (x -> A @ x @ B^T with small dense
  matrices; its adjoint is itself with A^T, B^T)
* pad, interpolate: ``ConstantPad`` (its own adjoint with negated pads) and ``AxisTaps`` /
  ``AxisTapsAdjoint`` (a few weighted taps per output along one axis)
"""
from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from ..autograd.function import Function
from .._arrays.strides import kernel_offsets, window_slices
from ..tensor import Tensor
from .conv import _ntuple, _pad_array
from ..amp.autocast_mode import autocast_op
from ._common import matmul_acc32
from . import shape as _shape
from . import elementwise as _ew

__all__ = [
    "max_pool1d", "max_pool2d", "max_unpool1d", "max_unpool2d", "avg_pool1d", "avg_pool2d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    "lp_pool1d", "lp_pool2d", "pad", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
    "pixel_shuffle", "pixel_unshuffle",
]

TENSOR_METHODS = ()


# ---- helpers ----------------------------------------------------------------------------------------

def _check_input(input, op, nd):
    """Validate a pooling input: (N, C, *spatial) or unbatched (C, *spatial) with ``nd`` spatial dims."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        layout = "(N, C, L)" if nd == 1 else "(N, C, H, W)"
        raise RuntimeError(
            f"{op}: expected {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input {layout}, got shape {tuple(input.shape)}"
        )
    if builtins.any(n == 0 for n in input.shape[-nd:]):
        raise RuntimeError(f"{op}: expected non-empty spatial dims, got input of shape {tuple(input.shape)}")


def _check_float(input, op):
    if input._data.dtype.kind not in "fV":
        raise RuntimeError(f"{op}: expected a floating point input, got {input.dtype}")


def _add_h(t):
    """(..., L) viewed as (..., 1, L): 1-D pools run as 2-D ones."""
    return _shape.reshape(t, tuple(t.shape)[:-1] + (1, t.shape[-1]))


def _drop_h(t):
    s = tuple(t.shape)
    return _shape.reshape(t, s[:-2] + s[-1:])


def _pool_geometry(op, in_size, kernel, stride, padding, dilation, ceil_mode, input_shape):
    """Output size and per-dim (before, after) padding; ceil_mode may need extra padding after."""
    out, pads = [], []
    for n, k, s, p, d in zip(in_size, kernel, stride, padding, dilation):
        eff = d * (k - 1) + 1
        span = n + 2 * p - eff
        o = (span + (s - 1 if ceil_mode else 0)) // s + 1 if span >= 0 else 0
        if ceil_mode and o > 0 and (o - 1) * s >= n + p:
            o -= 1  # the last window must start inside the input or the left padding
        out.append(o)
        pads.append((p, builtins.max(p, (o - 1) * s + eff - n - p) if o > 0 else p))
    if builtins.any(o <= 0 for o in out):
        raise RuntimeError(
            f"{op}: given input of shape {tuple(input_shape)}, kernel_size={kernel}, stride={stride}, padding={padding}, "
            f"dilation={dilation}: calculated output size {tuple(out)} is too small"
        )
    return tuple(out), tuple(pads)


def _pool_args(op, nd, kernel_size, stride, padding, dilation=1):
    kernel = _ntuple(kernel_size, nd, "kernel_size", op, minimum=1)
    if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0):
        stride = kernel
    stride = _ntuple(stride, nd, "stride", op, minimum=1)
    padding = _ntuple(padding, nd, "padding", op, minimum=0)
    dilation = _ntuple(dilation, nd, "dilation", op, minimum=1)
    return kernel, stride, padding, dilation


# ---- gather / scatter by per-plane flat index (max pools) -------------------------------------------

def _global_index(xp, idx, plane):
    """Per-plane flat indices (..., OH, OW) -> indices into the flattened whole tensor."""
    lead = int(np.prod(idx.shape[:-2], dtype=np.int64))
    base = xp.arange(lead, dtype=np.int64).reshape(idx.shape[:-2] + (1, 1)) * plane
    return (idx + base).ravel()


def _scatter_arrays(xp, g, idx, in_shape):
    plane = in_shape[-1] * in_shape[-2]
    total = int(np.prod(in_shape, dtype=np.int64))
    out = xp.bincount(_global_index(xp, idx, plane), weights=g.ravel(), minlength=total)
    return out.astype(g.dtype, copy=False).reshape(in_shape)


class _FlatGather(Function):
    """out[..., i, j] = x[..., idx[..., i, j] // W, idx[..., i, j] % W]."""

    @staticmethod
    def forward(ctx, x, idx):
        ctx.idx, ctx.in_shape = idx, x._data.shape
        plane = x._data.shape[-1] * x._data.shape[-2]
        return x._data.ravel()[_global_index(ctx.xp, idx, plane)].reshape(idx.shape)

    @staticmethod
    def backward(ctx, grad):
        return _FlatScatter.apply(grad, ctx.idx, ctx.in_shape)


class _FlatScatter(Function):
    """The adjoint of ``_FlatGather``: values added back at their indices (repeats accumulate)."""

    @staticmethod
    def forward(ctx, g, idx, in_shape):
        ctx.idx = idx
        return _scatter_arrays(ctx.xp, g._data, idx, in_shape)

    @staticmethod
    def backward(ctx, grad):
        return _FlatGather.apply(grad, ctx.idx)


# ---- max pooling ----------------------------------------------------------------------------------

def _max_pool_arrays(xp, x, kernel, stride, dilation, out_size, pads):
    """(max, local argmax in [0, kH*kW)) over each window, with torch's choices: the first max
    wins ties and a NaN wins over numbers (the last NaN when there are several)."""
    lowest = -np.inf if x.dtype.kind in "fV" else (np.iinfo(x.dtype).min if x.dtype.kind in "iu" else False)
    xpad = _pad_array(xp, x, pads, lowest)
    views = [xpad[(Ellipsis,) + window_slices(off, stride, dilation, out_size)] for off in kernel_offsets(kernel)]
    kk = len(views)
    arg_dtype = np.int8 if kk <= 127 else np.int64
    if kk == 1:
        out, arg = views[0].copy(), xp.zeros(views[0].shape, dtype=arg_dtype)
    elif builtins.any(lo or hi for lo, hi in pads):
        out, arg = _max_arg_masked(xp, views, arg_dtype, x.shape[-2:], kernel, stride, dilation, pads, out_size)
    else:
        out, arg = _max_arg_tree(xp, views, 0, kk, arg_dtype)
    nan = out != out
    # the NaN fix-up is skipped only on the CPU when there is no NaN: on CUDA asking would be a host sync
    # per call (and one that breaks CUDA graph capture), so the fix-up always runs there; under the compile
    # recorder (an ndarray subclass) it always runs too, so the replayed program has no value guard
    if out.dtype.kind in "fV" and (xp is not np or type(nan) is not np.ndarray or bool(nan.any())):
        for k, v in enumerate(views):
            arg = xp.where(nan & (v != v), arg_dtype(k), arg)
    return out, arg


def _max_arg_tree(xp, views, lo, hi, arg_dtype):
    """(max, argmax) of views[lo:hi] by a pairwise tree; strict '>' keeps the earlier offset on ties."""
    if hi - lo == 2:
        a, b = views[lo], views[lo + 1]
        arg = (b > a).astype(arg_dtype)
        if lo:
            arg += arg_dtype(lo)
        return xp.maximum(a, b), arg
    if hi - lo == 1:
        return views[lo].copy(), xp.full(views[lo].shape, lo, dtype=arg_dtype)
    mid = (lo + hi) // 2
    m1, a1 = _max_arg_tree(xp, views, lo, mid, arg_dtype)
    m2, a2 = _max_arg_tree(xp, views, mid, hi, arg_dtype)
    return xp.maximum(m1, m2), xp.where(m2 > m1, a2, a1)


def _max_arg_masked(xp, views, arg_dtype, in_size, kernel, stride, dilation, pads, out_size):
    """(max, argmax) when windows overlap the padding: a padding element may tie with the max
    (integer dtypes pad with their minimum) and must never be picked."""
    out = views[0].copy()
    for v in views[1:]:
        xp.maximum(out, v, out=out)  # propagates NaN
    kk = len(views)
    offsets = kernel_offsets(kernel)
    arg = xp.full(out.shape, kk - 1, dtype=arg_dtype)
    for k in range(kk - 2, -1, -1):  # backwards, so the first offset holding the max is kept
        hit = (views[k] == out) & xp.asarray(_inside(offsets[k], in_size, stride, dilation, pads, out_size))
        arg = xp.where(hit, arg_dtype(k), arg)
    return out, arg


def _inside(offset, in_size, stride, dilation, pads, out_size):
    """(OH, OW) bools: does kernel offset ``offset`` of each window land inside the unpadded input?"""
    ok = [((np.arange(o) * s - p[0] + a * d) >= 0) & ((np.arange(o) * s - p[0] + a * d) < n)
          for a, n, s, d, p, o in zip(offset, in_size, stride, dilation, pads, out_size)]
    return ok[0][:, None] & ok[1][None, :]


def _flat_indices(xp, arg, kernel, stride, dilation, pads, in_size, out_size):
    """torch's indices: the argmax's position in the (H*W) plane of the unpadded input."""
    kw = kernel[1]
    arg = arg.astype(np.int64)
    a, b = arg // kw, arg % kw
    rows = xp.arange(out_size[0], dtype=np.int64).reshape(-1, 1) * stride[0] - pads[0][0]
    cols = xp.arange(out_size[1], dtype=np.int64).reshape(1, -1) * stride[1] - pads[1][0]
    return (rows + a * dilation[0]) * in_size[1] + cols + b * dilation[1]


class MaxPool2d(Function):
    _node_name = "MaxPool2DWithIndicesBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, x, kernel, stride, dilation, out_size, pads, with_indices):
        ctx.geom = (kernel, stride, dilation, out_size, pads)
        ctx.in_shape = x._data.shape
        out, arg = _max_pool_arrays(ctx.xp, x._data, kernel, stride, dilation, out_size, pads)
        ctx.arg = arg
        if with_indices:
            idx = _flat_indices(ctx.xp, arg, kernel, stride, dilation, pads, x._data.shape[-2:], out_size)
            ctx.idx = idx
            return out, idx
        ctx.idx = None
        return out

    @staticmethod
    def backward(ctx, grad, *unused):
        kernel, stride, dilation, out_size, pads = ctx.geom
        idx = ctx.idx
        if idx is None:
            idx = _flat_indices(ctx.xp, ctx.arg, kernel, stride, dilation, pads, ctx.in_shape[-2:], out_size)
        return _FlatScatter.apply(grad, idx, ctx.in_shape)

    @staticmethod
    def backward_arrays(ctx, grad, *unused):
        # one masked strided write per kernel offset: no scatter, no index arithmetic
        kernel, stride, dilation, out_size, pads = ctx.geom
        xp = ctx.xp
        shape = ctx.in_shape
        arg = ctx.arg
        offsets = kernel_offsets(kernel)
        tiles = (not builtins.any(lo or hi for lo, hi in pads) and tuple(stride) == tuple(kernel)
                 and dilation == (1, 1) and tuple(shape[-2:]) == (out_size[0] * kernel[0], out_size[1] * kernel[1]))
        if tiles:
            # the windows partition the input exactly: every element is written once
            gx = xp.empty(shape, dtype=grad.dtype)
            for k, off in enumerate(offsets):
                xp.multiply(grad, arg == k, out=gx[(Ellipsis,) + window_slices(off, stride, dilation, out_size)])
            return gx
        hp, wp = shape[-2] + pads[0][0] + pads[0][1], shape[-1] + pads[1][0] + pads[1][1]
        gxp = xp.zeros(shape[:-2] + (hp, wp), dtype=grad.dtype)
        for k, off in enumerate(offsets):
            gxp[(Ellipsis,) + window_slices(off, stride, dilation, out_size)] += grad * (arg == k)
        return gxp[..., pads[0][0]:pads[0][0] + shape[-2], pads[1][0]:pads[1][0] + shape[-1]]


def _max_pool(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    _check_input(input, op, nd)
    kernel, stride, padding, dilation = _pool_args(op, nd, kernel_size, stride, padding, dilation)
    for k, p, d in zip(kernel, padding, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(
                f"{op}: pad should be at most half of effective kernel size, but got padding={padding}, "
                f"kernel_size={kernel} and dilation={dilation}"
            )
    x = _add_h(input) if nd == 1 else input
    lift = (lambda v, f: (f,) + v) if nd == 1 else (lambda v, f: v)
    kernel, stride, padding, dilation = lift(kernel, 1), lift(stride, 1), lift(padding, 0), lift(dilation, 1)
    out_size, pads = _pool_geometry(op, x.shape[-2:], kernel, stride, padding, dilation, ceil_mode, input.shape)
    res = MaxPool2d.apply(x, kernel, stride, dilation, out_size, pads, builtins.bool(return_indices))
    if nd == 1:
        res = tuple(_drop_h(r) for r in res) if return_indices else _drop_h(res)
    return res


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling over an (N, C, H, W) or (C, H, W) input.

    stride defaults to kernel_size; padding is implicit -inf. With ``return_indices`` also
    returns the argmax positions as flat indices into each (H, W) plane (int64), as torch.
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling over an (N, C, L) or (C, L) input (see ``max_pool2d``)."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _max_unpool(op, nd, input, indices, kernel_size, stride, padding, output_size):
    _check_input(input, op, nd)
    _check_float(input, op)
    if not isinstance(indices, Tensor) or indices._data.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected indices to be an integer Tensor (from return_indices=True)")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{op}: expected indices of the input's shape {tuple(input.shape)}, got {tuple(indices.shape)}")
    kernel, stride, padding, _ = _pool_args(op, nd, kernel_size, stride, padding)
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(input.shape[-nd:], stride, padding, kernel))
    if output_size is None:
        size = default
    else:
        size = tuple(output_size)[-nd:]
        size = _ntuple(size, nd, "output_size", op, minimum=1)
        for o, d, s in zip(size, default, stride):
            if not d - s < o < d + s:
                raise ValueError(f"{op}: invalid output_size {tuple(output_size)}: expected sizes between "
                                 f"{tuple(x - s for x, s in zip(default, stride))} and {tuple(x + s for x, s in zip(default, stride))} (exclusive)")
    plane = int(np.prod(size))
    idx = indices._data
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= plane):
        raise RuntimeError(f"{op}: found an invalid max index (must lie in [0, {plane}) for output size {size})")
    x = _add_h(input) if nd == 1 else input
    idx = idx.reshape(x._data.shape).astype(np.int64, copy=False)
    out_shape = tuple(x.shape[:-2]) + ((1,) + size if nd == 1 else size)
    y = _FlatScatter.apply(x, idx, out_shape)
    return _drop_h(y) if nd == 1 else y


@autocast_op("max_unpool2d")
def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool2d``: values put back at their ``return_indices`` positions, zeros elsewhere.

    input, indices: (N, C, H, W) or (C, H, W); output (N, C, OH, OW) with
    ``OH = (H - 1)*sH - 2*pH + kH`` unless ``output_size`` says otherwise. An index repeated by
    overlapping windows receives the sum of its values (torch keeps one of them, unspecified which).
    """
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


@autocast_op("max_unpool2d")
def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool1d`` over (N, C, L) or (C, L) inputs."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


# ---- average pooling -----------------------------------------------------------------------------

def _avg_inverse_divisor(in_size, kernel, stride, padding, out_size, count_include_pad, divisor_override):
    """1 / divisor per output position, (OH, OW), with torch's rules (separable in h and w)."""
    if divisor_override is not None:
        return np.full(out_size, 1.0 / divisor_override)
    per_dim = []
    for n, k, s, p, o in zip(in_size, kernel, stride, padding, out_size):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if count_include_pad:
            cnt = end - start
        else:
            cnt = np.minimum(end, n) - np.maximum(start, 0)
        per_dim.append(cnt.astype(np.float64))
    return 1.0 / np.outer(per_dim[0], per_dim[1])


def _avg_pool_arrays(xp, x, kernel, stride, out_size, pads, inv):
    xpad = _pad_array(xp, x, pads, 0.0)
    acc = None
    for off in kernel_offsets(kernel):
        v = xpad[(Ellipsis,) + window_slices(off, stride, (1, 1), out_size)]
        if acc is None:
            acc = v.copy()
        else:
            acc += v
    return acc * xp.asarray(inv, dtype=acc.dtype)


def _avg_pool_adjoint_arrays(xp, g, kernel, stride, out_size, pads, inv, in_size):
    gs = g * xp.asarray(inv, dtype=g.dtype)
    hp, wp = in_size[0] + pads[0][0] + pads[0][1], in_size[1] + pads[1][0] + pads[1][1]
    gxp = xp.zeros(g.shape[:-2] + (hp, wp), dtype=g.dtype)
    for off in kernel_offsets(kernel):
        gxp[(Ellipsis,) + window_slices(off, stride, (1, 1), out_size)] += gs
    return gxp[..., pads[0][0]:pads[0][0] + in_size[0], pads[1][0]:pads[1][0] + in_size[1]]


class AvgPool2d(Function):
    _node_name = "AvgPool2DBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, x, kernel, stride, out_size, pads, inv):
        ctx.geom = (kernel, stride, out_size, pads, inv, x._data.shape[-2:])
        return _avg_pool_arrays(ctx.xp, x._data, kernel, stride, out_size, pads, inv)

    @staticmethod
    def backward(ctx, grad):
        return AvgPool2dAdjoint.apply(grad, *ctx.geom)

    @staticmethod
    def backward_arrays(ctx, grad):
        return _avg_pool_adjoint_arrays(ctx.xp, grad, *ctx.geom)


class AvgPool2dAdjoint(Function):
    @staticmethod
    def forward(ctx, g, kernel, stride, out_size, pads, inv, in_size):
        ctx.geom = (kernel, stride, out_size, pads, inv)
        return _avg_pool_adjoint_arrays(ctx.xp, g._data, kernel, stride, out_size, pads, inv, in_size)

    @staticmethod
    def backward(ctx, grad):
        return AvgPool2d.apply(grad, *ctx.geom)


def _avg_pool(op, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    _check_input(input, op, nd)
    _check_float(input, op)
    kernel, stride, padding, _ = _pool_args(op, nd, kernel_size, stride, padding)
    for k, p in zip(kernel, padding):
        if p > k // 2:
            raise RuntimeError(f"{op}: pad should be at most half of kernel size, but got padding={padding}, kernel_size={kernel}")
    if divisor_override is not None and (isinstance(divisor_override, builtins.bool) or not isinstance(divisor_override, (builtins.int, np.integer)) or divisor_override == 0):
        raise RuntimeError(f"{op}: divisor_override must be a non-zero integer, got {divisor_override!r}")
    x = _add_h(input) if nd == 1 else input
    if nd == 1:
        kernel, stride, padding = (1,) + kernel, (1,) + stride, (0,) + padding
    out_size, pads = _pool_geometry(op, x.shape[-2:], kernel, stride, padding, (1, 1), ceil_mode, input.shape)
    inv = _avg_inverse_divisor(x.shape[-2:], kernel, stride, padding, out_size, count_include_pad, divisor_override)
    y = AvgPool2d.apply(x, kernel, stride, out_size, pads, inv)
    return _drop_h(y) if nd == 1 else y


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """2-D average pooling over an (N, C, H, W) or (C, H, W) input.

    ``count_include_pad`` counts the zero padding in the divisor; ``divisor_override`` replaces
    the divisor altogether.
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling over an (N, C, L) or (C, L) input (see ``avg_pool2d``)."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def _lp_pool(op, nd, input, norm_type, kernel_size, stride, ceil_mode):
    """(sum over each window of x^p)^(1/p), composed from avg_pool so it needs no backward of its own."""
    if not isinstance(norm_type, (int, float)) or norm_type <= 0:
        raise ValueError(f"{op}: norm_type must be a positive number, got {norm_type!r}")
    kernel = _ntuple(kernel_size, nd, "kernel_size", op, minimum=1)
    pooled = _avg_pool(op, nd, _ew.pow(input, norm_type), kernel_size, stride, 0, ceil_mode, True, None)
    # torch keeps the sign so a negative window mean (odd p) does not produce NaN from the root
    window = math.prod(kernel)
    return _ew.pow(_ew.mul(_ew.mul(_ew.sign(pooled), _ew.relu(_ew.abs(pooled))), window), 1.0 / norm_type)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-D power-average pooling over (N, C, H, W): ``(sum_window x^p)^(1/p)``."""
    return _lp_pool("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """1-D power-average pooling over (N, C, L) (see ``lp_pool2d``)."""
    return _lp_pool("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


# ---- separable linear resampling (adaptive avg pools, interpolate) -------------------------------

class Separable(Function):
    """y = A @ x @ B^T over the last two dims (``A``/``B`` None: that dim untouched)."""

    @staticmethod
    def forward(ctx, x, a, b):
        ctx.mats = (a, b)
        xp = ctx.xp
        y = x._data
        if a is not None:
            y = matmul_acc32(xp, xp.asarray(a, dtype=y.dtype), y)
        if b is not None:
            y = matmul_acc32(xp, y, xp.asarray(b.T, dtype=y.dtype))
        return xp.ascontiguousarray(y)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.mats
        return Separable.apply(grad, None if a is None else a.T, None if b is None else b.T)


def _adaptive_bounds(n, o):
    i = np.arange(o)
    return (i * n) // o, -((-(i + 1) * n) // o)  # floor(i*n/o), ceil((i+1)*n/o)


def _adaptive_avg_matrix(n, o):
    start, end = _adaptive_bounds(n, o)
    m = np.zeros((o, n))
    for i, (s, e) in enumerate(zip(start, end)):
        m[i, s:e] = 1.0 / (e - s)
    return m


def _output_size_arg(output_size, spatial, nd, op):
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != nd:
            raise RuntimeError(f"{op}: output_size must be an int or a tuple of {nd} ints (None keeps a dim), "
                               f"got {output_size!r}")
        vals = tuple(n if o is None else o for o, n in zip(output_size, spatial))
    else:
        vals = (output_size,) * nd
    out = _ntuple(vals, nd, "output_size", op, minimum=0)
    if builtins.any(o == 0 for o in out):
        raise RuntimeError(f"{op}: output_size must be positive, got {output_size!r}")
    return out


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (OH, OW) output (an int or a pair; None keeps that dim)."""
    _check_input(input, "adaptive_avg_pool2d", 2)
    _check_float(input, "adaptive_avg_pool2d")
    oh, ow = _output_size_arg(output_size, input.shape[-2:], 2, "adaptive_avg_pool2d")
    h, w = input.shape[-2:]
    return Separable.apply(input, _adaptive_avg_matrix(h, oh), _adaptive_avg_matrix(w, ow))


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of an (N, C, L) or (C, L) input to a fixed length."""
    _check_input(input, "adaptive_avg_pool1d", 1)
    _check_float(input, "adaptive_avg_pool1d")
    (o,) = _output_size_arg(output_size, input.shape[-1:], 1, "adaptive_avg_pool1d")
    return Separable.apply(input, None, _adaptive_avg_matrix(input.shape[-1], o))


def _adaptive_max_arrays(xp, x, out_size):
    """(max, flat index into the (H, W) plane) for adaptive windows, via a padded gather."""
    h, w = x.shape[-2:]
    idx_dims = []
    for n, o in zip((h, w), out_size):
        start, end = _adaptive_bounds(n, o)
        kmax = int((end - start).max())
        # indices past a window's end repeat its last element: harmless for a max, and the
        # first occurrence (the real element) still wins ties
        idx_dims.append(np.minimum(start[:, None] + np.arange(kmax)[None, :], end[:, None] - 1))
    rows, cols = idx_dims
    flat = rows[:, None, :, None] * w + cols[None, :, None, :]  # (OH, OW, kh, kw)
    flat = flat.reshape(out_size[0], out_size[1], -1)
    vals = x.reshape(x.shape[:-2] + (h * w,))[..., xp.asarray(flat)]  # (..., OH, OW, K)
    nan = xp.isnan(vals)
    arg = xp.argmax(xp.where(nan, np.inf, vals), axis=-1)
    idx = xp.take_along_axis(xp.broadcast_to(xp.asarray(flat), vals.shape), arg[..., None], -1)[..., 0]
    out = xp.take_along_axis(vals, arg[..., None], -1)[..., 0]
    return out, idx


class AdaptiveMaxPool2d(Function):
    _node_name = "AdaptiveMaxPool2DBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, x, out_size, with_indices):
        out, idx = _adaptive_max_arrays(ctx.xp, x._data, out_size)
        ctx.idx, ctx.in_shape = idx, x._data.shape
        return (out, idx) if with_indices else out

    @staticmethod
    def backward(ctx, grad, *unused):
        return _FlatScatter.apply(grad, ctx.idx, ctx.in_shape)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed (OH, OW) output; with ``return_indices`` also the flat argmax indices."""
    _check_input(input, "adaptive_max_pool2d", 2)
    _check_float(input, "adaptive_max_pool2d")
    out_size = _output_size_arg(output_size, input.shape[-2:], 2, "adaptive_max_pool2d")
    return AdaptiveMaxPool2d.apply(input, out_size, builtins.bool(return_indices))


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of an (N, C, L) or (C, L) input to a fixed length."""
    _check_input(input, "adaptive_max_pool1d", 1)
    _check_float(input, "adaptive_max_pool1d")
    (o,) = _output_size_arg(output_size, input.shape[-1:], 1, "adaptive_max_pool1d")
    res = AdaptiveMaxPool2d.apply(_add_h(input), (1, o), builtins.bool(return_indices))
    return tuple(_drop_h(r) for r in res) if return_indices else _drop_h(res)


# ---- pad ------------------------------------------------------------------------------------------

class ConstantPad(Function):
    """Pad (or, for negative amounts, crop) the last dims with a constant."""

    _node_name = "ConstantPadNdBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, x, pads, value):
        ctx.pads = pads
        xd = x._data
        lead = xd.ndim - len(pads)
        out_shape = tuple(xd.shape[:lead]) + tuple(n + lo + hi for n, (lo, hi) in zip(xd.shape[lead:], pads))
        out = ctx.xp.full(out_shape, value, dtype=xd.dtype)
        src, dst = [], []
        for n, (lo, hi) in zip(xd.shape[lead:], pads):
            s0, s1 = builtins.max(-lo, 0), n - builtins.max(-hi, 0)
            d0 = builtins.max(lo, 0)
            if s1 <= s0:
                return out
            src.append(slice(s0, s1))
            dst.append(slice(d0, d0 + s1 - s0))
        out[(Ellipsis,) + tuple(dst)] = xd[(Ellipsis,) + tuple(src)]
        return out

    @staticmethod
    def backward(ctx, grad):
        return ConstantPad.apply(grad, tuple((-lo, -hi) for lo, hi in ctx.pads), 0)


class AxisTaps(Function):
    """Resample one axis: ``y[..., j, ...] = sum_t w[t, j] * x[..., idx[t, j], ...]`` (w None: all ones).

    A few taps per output (1 for nearest and the pad modes, 2 linear, 4 cubic): cost linear in
    the output, unlike a dense resampling matrix.
    """

    @staticmethod
    def forward(ctx, x, axis, idx, w, size):
        ctx.args = (axis, idx, w, size)
        return _taps_arrays(ctx.xp, x._data, axis, idx, w)

    @staticmethod
    def backward(ctx, grad):
        return AxisTapsAdjoint.apply(grad, *ctx.args)


class AxisTapsAdjoint(Function):
    """The adjoint of ``AxisTaps``: each output's value added back to its taps (repeats accumulate)."""

    @staticmethod
    def forward(ctx, g, axis, idx, w, size):
        ctx.args = (axis, idx, w, size)
        xp = ctx.xp
        if w is None and len(idx) == 1:
            fast = _single_tap_adjoint(xp, g._data, axis, idx[0], size)
            if fast is not None:
                return fast
        gm = xp.moveaxis(g._data, axis, -1)
        lead = gm.shape[:-1]
        rows = int(np.prod(lead, dtype=np.int64))
        gm = gm.reshape(rows, gm.shape[-1])
        base = xp.arange(rows, dtype=np.int64).reshape(-1, 1) * size
        index = xp.concatenate([(base + xp.asarray(i)).ravel() for i in idx])
        vals = xp.concatenate([(gm if w is None else gm * xp.asarray(wt, dtype=gm.dtype)).ravel()
                               for wt in (w if w is not None else [None] * len(idx))])
        out = xp.bincount(index, weights=vals, minlength=rows * size).astype(gm.dtype, copy=False)
        return xp.ascontiguousarray(xp.moveaxis(out.reshape(lead + (size,)), -1, axis))

    @staticmethod
    def backward(ctx, grad):
        return AxisTaps.apply(grad, *ctx.args)


def _single_tap_adjoint(xp, g, axis, idx, size):
    """Structured single-tap adjoints without a scatter, or None.

    Nearest upsampling by an integer factor k (each input repeated k times in a row) is a
    reshape-and-sum; a pad (an identity run of all ``size`` inputs, plus a few border taps)
    is a copy of the run plus a small scatter of the borders.
    """
    o = len(idx)
    lead, trail = g.shape[:axis], g.shape[axis + 1:]
    if o % size == 0 and np.array_equal(idx, np.repeat(np.arange(size), o // size)):
        return g.reshape(lead + (size, o // size) + trail).sum(axis=axis + 1)
    ident = np.arange(size)
    for c0 in np.flatnonzero(idx == 0):
        if c0 + size <= o and np.array_equal(idx[c0:c0 + size], ident):
            out = xp.ascontiguousarray(g[(slice(None),) * axis + (slice(c0, c0 + size),)])
            for j in np.concatenate([np.arange(c0), np.arange(c0 + size, o)]):
                out[(slice(None),) * axis + (int(idx[j]),)] += g[(slice(None),) * axis + (int(j),)]
            return out
    return None


def _taps_arrays(xp, x, axis, idx, w):
    shape = (-1,) + (1,) * (x.ndim - axis - 1)
    out = None
    for t, i in enumerate(idx):
        v = xp.take(x, xp.asarray(i), axis=axis)
        if w is not None:
            v *= xp.asarray(w[t], dtype=x.dtype).reshape(shape)
        if out is None:
            out = v
        else:
            out += v
    return out


def _pad_index(n, lo, hi, mode):
    j = np.arange(-lo, n + hi)
    if mode == "reflect":
        period = 2 * (n - 1)
        j = np.abs(j) if period == 0 else np.abs((j + period) % period)
        return np.where(j >= n, period - j, j) if period else np.zeros_like(j)
    if mode == "replicate":
        return np.clip(j, 0, n - 1)
    return j % n  # circular


def _pad_op(input, pad, mode="constant", value=None):
    """torch's op behind ``F.pad``: reflection_pad2d, replication_pad1d ... (constant_pad_nd has no policy)."""
    kind = {"reflect": "reflection_pad", "replicate": "replication_pad"}.get(mode)
    return (f"{kind}{len(pad) // 2}d",) if kind and isinstance(pad, (tuple, list)) else ()


@autocast_op(select=_pad_op)
def pad(input, pad, mode="constant", value=None):  # noqa: A002 - torch's name
    """Pad the last ``len(pad) // 2`` dims; ``pad = (left, right, top, bottom, ...)`` from the last dim backwards.

    mode: 'constant' (fill ``value``, default 0; negative amounts crop), 'reflect' (mirror without
    repeating the edge), 'replicate' (repeat the edge) or 'circular' (wrap around).
    """
    op = "pad"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    if not isinstance(pad, (list, tuple)):
        raise TypeError(f"{op}: pad must be a tuple of ints, got {type(pad).__name__}")
    amounts = _ntuple(tuple(pad), len(pad), "pad", op) if len(pad) else ()
    if len(amounts) % 2:
        raise RuntimeError(f"{op}: Padding length must be divisible by 2, got pad={tuple(pad)}")
    k = len(amounts) // 2
    if k > input.ndim:
        raise RuntimeError(f"{op}: Padding length should be less than or equal to two times the input dimension: "
                           f"pad={tuple(pad)} pads {k} dims of a {input.ndim}-D input {tuple(input.shape)}")
    # pairs for the padded dims in natural order (first padded dim first)
    pairs = tuple((amounts[2 * i], amounts[2 * i + 1]) for i in reversed(range(k)))
    shape = tuple(input.shape)
    if mode == "constant":
        for n, (lo, hi) in zip(shape[input.ndim - k:], pairs):
            if n + lo + hi < 0:
                raise RuntimeError(f"{op}: the input size {n}, plus negative padding {lo} and {hi}, resulted in a negative output size")
        if not builtins.any(lo or hi for lo, hi in pairs):
            return input
        return ConstantPad.apply(input, pairs, 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"{op}: unsupported padding mode {mode!r}; expected 'constant', 'reflect', 'replicate' or 'circular'")
    if value is not None and value != 0:
        raise ValueError(f"{op}: padding mode {mode!r} doesn't take in value argument")
    if k == 0 or k > 3 or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"{op}: mode {mode!r} pads the last 1-3 dims of a (N, C, *) or (C, *) input; got pad={tuple(pad)} "
            f"for input of shape {shape}"
        )
    y = input
    for axis, (n, (lo, hi)) in zip(range(input.ndim - k, input.ndim), zip(shape[input.ndim - k:], pairs)):
        if lo < 0 or hi < 0:
            raise RuntimeError(f"{op}: negative padding {tuple(pad)} is only supported in 'constant' mode")
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(
                f"{op}: padding size should be less than the corresponding input dimension, but got padding ({lo}, {hi}) "
                f"at dimension {axis} of input {shape}"
            )
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError(f"{op}: padding value causes wrapping around more than once: ({lo}, {hi}) at dimension {axis} of input {shape}")
        if lo or hi:
            y = AxisTaps.apply(y, axis, (_pad_index(n, lo, hi, mode),), None, n)
    return y


# ---- interpolate ----------------------------------------------------------------------------------

_INTERP_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "area")


def _nearest_taps(n, o, scale, exact):
    # torch computes the source coordinate in float32
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(n) / np.float32(o)
    dst = np.arange(o, dtype=np.float32)
    src = np.floor(((dst + np.float32(0.5)) if exact else dst) * s).astype(np.int64)
    return (np.minimum(src, n - 1),), None


def _source_coords(n, o, scale, align_corners, cubic=False):
    if align_corners:
        s = (n - 1) / (o - 1) if o > 1 else 0.0
        return np.arange(o) * s
    s = 1.0 / scale if scale is not None and scale > 0 else n / o
    src = s * (np.arange(o) + 0.5) - 0.5
    return src if cubic else np.maximum(src, 0.0)


def _linear_taps(n, o, scale, align_corners):
    src = _source_coords(n, o, scale, align_corners)
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    lam = src - i0
    return (i0, i1), (1.0 - lam, lam)


def _cubic_taps(n, o, scale, align_corners, a=-0.75):
    src = _source_coords(n, o, scale, align_corners, cubic=True)
    i = np.floor(src).astype(np.int64)
    t = src - i

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    # taps past the border read the border element (torch clamps the index)
    return tuple(np.clip(i - 1 + k, 0, n - 1) for k in range(4)), (far(t + 1), near(t), near(1 - t), far(2 - t))


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of an (N, C, L) or (N, C, H, W) input.

    mode: 'nearest', 'nearest-exact', 'linear' (3-D), 'bilinear'/'bicubic' (4-D) or 'area'.
    Give exactly one of ``size`` and ``scale_factor`` (output = floor(input * scale)).
    """
    op = "interpolate"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    if mode not in _INTERP_MODES:
        raise NotImplementedError(f"{op}: unsupported mode {mode!r}; supported: {', '.join(_INTERP_MODES)}")
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not supported")
    nd = input.ndim - 2
    if nd not in (1, 2):
        raise NotImplementedError(f"{op}: expected a 3-D (N, C, L) or 4-D (N, C, H, W) input, got shape {tuple(input.shape)}")
    needs = {"linear": 1, "bilinear": 2, "bicubic": 2}
    if mode in needs and needs[mode] != nd:
        raise NotImplementedError(f"{op}: mode {mode!r} expects a {needs[mode] + 2}-D input, got shape {tuple(input.shape)}")
    interpolating = mode in ("linear", "bilinear", "bicubic")
    if align_corners is not None and not interpolating:
        raise ValueError(f"{op}: align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear")
    align_corners = builtins.bool(align_corners) if interpolating else False
    if mode not in ("nearest", "nearest-exact"):  # nearest also resizes integer images, like torch
        _check_float(input, op)
    spatial = tuple(input.shape[2:])
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: only one of size or scale_factor should be defined")
    if size is not None:
        out = _ntuple(size, nd, "size", op, minimum=1)
        scales = (None,) * nd
    else:
        sf = tuple(scale_factor) if isinstance(scale_factor, (list, tuple)) else (scale_factor,) * nd
        if len(sf) != nd:
            raise ValueError(f"{op}: scale_factor shape must match input shape: input is {nd}-D spatial, scale_factor={scale_factor!r}")
        sf = tuple(builtins.float(s) for s in sf)
        if builtins.any(s <= 0 for s in sf):
            raise RuntimeError(f"{op}: Input and output sizes should be greater than 0: scale_factor must be positive, "
                               f"got {scale_factor!r}")
        out = tuple(builtins.int(math.floor(n * s)) for n, s in zip(spatial, sf))
        if builtins.any(o <= 0 for o in out):
            raise ValueError(f"{op}: scale_factor {scale_factor!r} gives an empty output {out} for input {tuple(input.shape)}")
        scales = (None,) * nd if recompute_scale_factor else sf
    if mode == "area":
        mats = [_adaptive_avg_matrix(n, o) for n, o in zip(spatial, out)]
        return Separable.apply(input, *(([None] + mats) if nd == 1 else mats))
    y = input
    for axis, (n, o, sc) in enumerate(zip(spatial, out, scales), start=2):
        if mode in ("nearest", "nearest-exact"):
            idx, w = _nearest_taps(n, o, sc, mode == "nearest-exact")
        elif mode == "bicubic":
            idx, w = _cubic_taps(n, o, sc, align_corners)
        else:
            idx, w = _linear_taps(n, o, sc, align_corners)
        y = AxisTaps.apply(y, axis, idx, w, n)
    return y


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate``."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated alias of ``interpolate(mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated alias of ``interpolate(mode='bilinear', align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- pixel shuffle ----------------------------------------------------------------------------------

def pixel_shuffle(input, upscale_factor):
    """(*, C*r^2, H, W) -> (*, C, H*r, W*r): move channel blocks into space."""
    r = _ntuple(upscale_factor, 1, "upscale_factor", "pixel_shuffle", minimum=1)[0]
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle: expected a tensor of at least 3 dims (*, C, H, W), got {getattr(input, 'shape', input)!r}")
    *lead, c, h, w = tuple(input.shape)
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle: expected the channel dim {c} of input {tuple(input.shape)} to be divisible by upscale_factor^2 = {r * r}")
    nl = len(lead)
    y = _shape.reshape(input, tuple(lead) + (c // (r * r), r, r, h, w))
    perm = tuple(range(nl)) + (nl, nl + 3, nl + 1, nl + 4, nl + 2)
    return _shape.reshape(_shape.permute(y, perm), tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r^2, H, W): the inverse of ``pixel_shuffle``."""
    r = _ntuple(downscale_factor, 1, "downscale_factor", "pixel_unshuffle", minimum=1)[0]
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle: expected a tensor of at least 3 dims (*, C, H, W), got {getattr(input, 'shape', input)!r}")
    *lead, c, h, w = tuple(input.shape)
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle: expected height {h} and width {w} of input {tuple(input.shape)} to be divisible by downscale_factor {r}")
    nl = len(lead)
    y = _shape.reshape(input, tuple(lead) + (c, h // r, r, w // r, r))
    perm = tuple(range(nl)) + (nl, nl + 2, nl + 4, nl + 1, nl + 3)
    return _shape.reshape(_shape.permute(y, perm), tuple(lead) + (c * r * r, h // r, w // r))
