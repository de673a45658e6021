"""Convolutions: conv1d/conv2d, their transposes, and unfold/fold (im2col / col2im).

The CPU path is im2col + GEMM over chunks of a few samples: a strided view of the zero-padded
chunk is copied into a column matrix laid out (C, KH, KW, B, OH, OW), one GEMM with the weight
reshaped to (O, C*KH*KW) gives the chunk's output, copied into (N, O, OH, OW) in the pass that adds
the bias. Chunks keep the columns in cache and the buffers (allocated once per call, reused by
every chunk) small; the weight gradient recomputes the columns chunk by chunk (no whole-batch
column cache: measured no slower, and it keeps the training step's peak memory at PyTorch's level).
The input gradient is a GEMM followed by a col2im that adds one strided block per kernel offset.
Three ops close under differentiation and are each other's backward, so create_graph works
to any order:

* ``Conv2d``          y  = conv(x, w)
* ``ConvTranspose2d`` x' = conv^T(g, w)  (the input gradient of a conv)
* ``Conv2dWeight``    w' = the weight gradient of a conv, bilinear in (x, g)

1-D convolutions run as 2-D ones over a height of 1.
"""
from __future__ import annotations

import builtins

import numpy as np

from ..autograd.function import Function
from .._arrays import kernels, threads
from .._arrays.strides import as_strided, kernel_offsets, sliding_windows, window_slices
from ..tensor import Tensor
from ..amp.autocast_mode import autocast_op
from . import reduce as _reduce
from . import shape as _shape
from .. import ops  # the package namespace: pool (imported after conv, importing conv) is looked up at call time

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold"]

TENSOR_METHODS = ()


# ---- argument helpers --------------------------------------------------------------------------

def _ntuple(v, n, name, op, minimum=None):
    """An int or a length-n sequence of ints as an n-tuple, checked against ``minimum``."""
    if isinstance(v, (list, tuple)):
        if len(v) == 1 and n > 1:
            v = tuple(v) * n
        if len(v) != n:
            raise RuntimeError(f"{op}: expected {name} to be a single int or a tuple of {n} ints, got {v!r}")
        vals = tuple(v)
    else:
        vals = (v,) * n
    out = []
    for e in vals:
        if isinstance(e, Tensor):
            e = e.item()
        if isinstance(e, builtins.bool) or not isinstance(e, (builtins.int, np.integer)):
            raise TypeError(f"{op}: {name} must be an int or a tuple of ints, got {v!r}")
        out.append(builtins.int(e))
    if minimum is not None and builtins.any(e < minimum for e in out):  # torch: RuntimeError at the call
        what = "greater than zero" if minimum == 1 else "non-negative (negative padding is not supported)"
        raise RuntimeError(f"{op}: {name} must be {what}, got {v!r}")
    return tuple(out)


def _check_kernel(op, weight):
    if builtins.any(k <= 0 for k in weight.shape[2:]):
        raise RuntimeError(f"{op}: kernel size must be greater than zero, got weight of shape {tuple(weight.shape)} "
                           f"(kernel {tuple(weight.shape[2:])})")


def _out_size(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _pad_array(xp, x, pads, value=0.0):
    """``x`` padded on its last ``len(pads)`` dims by ``pads[i] = (before, after)`` (>= 0)."""
    if not builtins.any(lo or hi for lo, hi in pads):
        return x
    lead = x.ndim - len(pads)
    shape = tuple(x.shape[:lead]) + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[lead:], pads))
    out = xp.full(shape, value, dtype=x.dtype)
    inner = tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[lead:], pads))
    out[(Ellipsis,) + inner] = x
    return out


# ---- array kernels (CPU/CuPy through xp) ---------------------------------------------------------
# _batch_last_padded/_im2col/_grad_batch_last: the whole-batch, batch-last helpers of the small-conv path
# (_pick_path chooses it by size); larger convolutions use the chunked kernels below.


def _batch_last_padded(xp, x, padding):
    """(N, C, H, W) -> contiguous zero-padded (C, H + 2pH, W + 2pW, N), in one copy."""
    n, c, h, w = x.shape
    ph, pw = padding
    out = xp.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=x.dtype) if (ph or pw) else xp.empty((c, h, w, n), dtype=x.dtype)
    out[:, ph:ph + h, pw:pw + w, :] = x.transpose(1, 2, 3, 0)
    return out


def _im2col(xp, x, kernel, stride, padding, dilation, out_size):
    """(N, C, H, W) -> contiguous columns (C, KH, KW, OH, OW, N)."""
    xt = _batch_last_padded(xp, x, padding)
    sc, sh, sw, sn = xt.strides
    shape = (xt.shape[0], kernel[0], kernel[1], out_size[0], out_size[1], xt.shape[3])
    strides = (sc, sh * dilation[0], sw * dilation[1], sh * stride[0], sw * stride[1], sn)
    cols = xp.empty(shape, dtype=x.dtype)
    _copy_rows(xp, cols, as_strided(xp, xt, shape, strides))
    return cols


def _copy_rows(xp, dst, src):
    """``dst[...] = src``, split over the first axis across tinytorch's intra-op threads on the CPU."""
    if xp is np:
        threads.parallel_rows(lambda a, b: np.copyto(dst[a:b], src[a:b]), dst.shape[0], dst.size)
    else:
        xp.copyto(dst, src)


def _grad_batch_last(xp, g, groups):
    """(N, O, OH, OW) -> (G, O/G, OH*OW*N)."""
    n, o, oh, ow = g.shape
    return xp.ascontiguousarray(g.transpose(1, 2, 3, 0)).reshape(groups, o // groups, oh * ow * n)


# The batch is processed in chunks of a few samples: each chunk's columns (C, KH, KW, B, OH, OW)
# stay in the CPU cache between the im2col copy and the GEMM that reads them, and no step allocates
# whole-batch column matrices (which, freed and re-faulted every step, cost more than the copies).
_CHUNK_BYTES = 1 << 20  # target size of one chunk's column matrix (measured best on LeNet: 256 KiB-16 MiB tried)
# On a GPU there is no cache to fit and each chunk costs ~20 kernel launches: chunks as large as memory
# comfortably allows (a LeNet batch of 64 is one chunk), still bounded so a huge batch cannot OOM on columns.
_CUDA_CHUNK_BYTES = 64 << 20


def _chunk_size(xp, n, rows, cols_per_sample, itemsize):
    """Samples per im2col chunk: cache-sized on the CPU, launch-count-sized on CUDA."""
    target = _CHUNK_BYTES if xp is np else _CUDA_CHUNK_BYTES
    per_sample = rows * cols_per_sample * itemsize
    return builtins.max(1, builtins.min(n, target // builtins.max(per_sample, 1)))


class _Im2col:
    """im2col of batch chunks into buffers allocated once per call and reused by every chunk.

    Columns come out (C, KH, KW, B, OH, OW) = (G, K, B*OH*OW); fresh whole-size temporaries per
    chunk would cost page faults that exceed the copies themselves.
    """

    def __init__(self, xp, x, kernel, stride, padding, dilation, out_size, step):
        n, c, h, w = x.shape
        self.xp, self.x, self.kernel, self.stride, self.dilation, self.out_size = xp, x, kernel, stride, dilation, out_size
        self.padding = padding
        ph, pw = padding
        # the zero border is written once; each chunk only overwrites the interior
        self.padbuf = xp.zeros((step, c, h + 2 * ph, w + 2 * pw), dtype=x.dtype) if (ph or pw) else None
        self.colbuf = xp.empty(c * kernel[0] * kernel[1] * step * out_size[0] * out_size[1], dtype=x.dtype)

    def __call__(self, n0, bs):
        xp, x = self.xp, self.x
        (ph, pw), (kh, kw), (oh, ow) = self.padding, self.kernel, self.out_size
        xs = x[n0:n0 + bs]
        if self.padbuf is not None:
            xpd = self.padbuf[:bs]
            xpd[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]] = xs
        else:
            xpd = xs
        sb, sc, sh, sw = xpd.strides
        shape = (x.shape[1], kh, kw, bs, oh, ow)
        strides = (sc, sh * self.dilation[0], sw * self.dilation[1], sb, sh * self.stride[0], sw * self.stride[1])
        cols = self.colbuf[:x.shape[1] * kh * kw * bs * oh * ow].reshape(shape)
        _copy_rows(xp, cols, as_strided(xp, xpd, shape, strides))
        return cols


def _chunk_grad(xp, gs, groups, buf):
    """Output-gradient chunk (B, O, OH, OW) -> (G, O/G, B*OH*OW) in ``buf``: runs of OH*OW contiguous."""
    b, o, oh, ow = gs.shape
    out = buf[:o * b * oh * ow].reshape(o, b, oh * ow)
    xp.copyto(out, gs.reshape(b, o, oh * ow).transpose(1, 0, 2))
    return out.reshape(groups, o // groups, b * oh * ow)


def _gemm(xp, a, b, out):
    """(G, M, K) @ (G, K, N) -> ``out`` (G, M, N); a plain 2-D GEMM when G == 1."""
    if a.shape[0] == 1:
        xp.matmul(a[0], b[0], out=out[0])
    else:
        xp.matmul(a, b, out=out)
    return out


def _conv_forward(xp, x, w, b, stride, padding, dilation, groups, out_size, path=None):
    """conv2d on arrays: x (N, C, H, W), w (O, C/g, KH, KW) -> (N, O, OH, OW).

    ``path`` ("batch_last" or "chunked") overrides the choice by size (tests hold the paths equal).
    """
    if (path or _pick_path(xp, x.shape, w.shape, stride, padding, dilation, groups)) == "batch_last":
        out = _batch_last_forward(xp, x, w, b, stride, padding, dilation, out_size)
    else:
        out = _chunked_forward(xp, x, w, b, stride, padding, dilation, groups, out_size)
    return out


def _chunked_forward(xp, x, w, b, stride, padding, dilation, groups, out_size):
    n = x.shape[0]
    o, cg, kh, kw = w.shape
    oh, ow = out_size
    og, k, p = o // groups, cg * kh * kw, oh * ow
    w2 = w.reshape(groups, og, k)
    dt = xp.result_type(x.dtype, w.dtype)
    out = xp.empty((n, o, oh, ow), dtype=dt)
    out4 = out.reshape(n, groups, og, p)
    bias = None if b is None else b.reshape(groups, og, 1)
    step = _chunk_size(xp, n, groups * k, p, x.dtype.itemsize)
    im2col = _Im2col(xp, x, (kh, kw), stride, padding, dilation, out_size, step)
    ybuf = xp.empty(o * step * p, dtype=dt)
    for n0 in range(0, n, step):
        bs = builtins.min(step, n - n0)
        cols = im2col(n0, bs).reshape(groups, k, bs * p)
        y = _gemm(xp, w2, cols, ybuf[:o * bs * p].reshape(groups, og, bs * p))
        y = y.reshape(groups, og, bs, p).transpose(2, 0, 1, 3)  # (B, G, og, P) view
        if bias is not None:
            xp.add(y, bias, out=out4[n0:n0 + bs])
        else:
            out4[n0:n0 + bs] = y
    return out


def _conv_input_grad(xp, g, w, in_size, stride, padding, dilation, groups, path=None):
    """The adjoint of conv2d in x: g (N, O, OH, OW), w (O, C/g, KH, KW) -> (N, C, H, W)."""
    kh, kw = w.shape[2:]
    back_pad = (dilation[0] * (kh - 1) - padding[0], dilation[1] * (kw - 1) - padding[1])
    if stride == (1, 1) and groups == 1 and back_pad[0] >= 0 and back_pad[1] >= 0:
        # stride 1: the input gradient is the convolution of g with the flipped, transposed kernel,
        # chosen by that convolution's own size
        wt_shape = (w.shape[1], w.shape[0], kh, kw)
        if (path or _pick_path(xp, g.shape, wt_shape, (1, 1), back_pad, dilation, 1)) == "batch_last":
            wt = xp.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
            return _batch_last_forward(xp, g, wt, None, (1, 1), back_pad, dilation, tuple(in_size))
    return _chunked_input_grad(xp, g, w, in_size, stride, padding, dilation, groups)


def _chunked_input_grad(xp, g, w, in_size, stride, padding, dilation, groups):
    n, o, oh, ow = g.shape
    _, cg, kh, kw = w.shape
    og = o // groups
    ph, pw = padding
    h, w_ = in_size
    # weight reordered so the column gradient comes out (G, KH, KW, Cg, B, OH, OW): each kernel
    # offset is then one block for col2im
    wt = w.reshape(groups, og, cg, kh, kw).transpose(0, 3, 4, 2, 1).reshape(groups, kh * kw * cg, og)
    dt = xp.result_type(g.dtype, w.dtype)
    gx = xp.empty((n, groups * cg, h, w_), dtype=dt)
    step = _chunk_size(xp, n, groups * kh * kw * cg, oh * ow, g.dtype.itemsize)
    gbuf = xp.empty(o * step * oh * ow, dtype=g.dtype)
    colbuf = xp.empty(groups * kh * kw * cg * step * oh * ow, dtype=dt)
    padbuf = xp.empty(groups * cg * step * (h + 2 * ph) * (w_ + 2 * pw), dtype=dt)
    for n0 in range(0, n, step):
        bs = builtins.min(step, n - n0)
        gt = _chunk_grad(xp, g[n0:n0 + bs], groups, gbuf)
        gcols = _gemm(xp, wt, gt, colbuf[:groups * kh * kw * cg * bs * oh * ow].reshape(groups, kh * kw * cg, bs * oh * ow))
        gcols = gcols.reshape(groups, kh, kw, cg, bs, oh, ow)
        gxp = padbuf[:groups * cg * bs * (h + 2 * ph) * (w_ + 2 * pw)].reshape(groups, cg, bs, h + 2 * ph, w_ + 2 * pw)
        gxp[...] = 0
        for a, c in kernel_offsets((kh, kw)):
            gxp[(Ellipsis,) + window_slices((a, c), stride, dilation, (oh, ow))] += gcols[:, a, c]
        gxp = gxp.reshape(groups * cg, bs, h + 2 * ph, w_ + 2 * pw)[:, :, ph:ph + h, pw:pw + w_]
        gx[n0:n0 + bs] = gxp.transpose(1, 0, 2, 3)
    return gx


def _conv_weight_grad(xp, x, g, kernel, stride, padding, dilation, groups, path=None):
    """The adjoint of conv2d in w: x (N, C, H, W), g (N, O, OH, OW) -> (O, C/g, KH, KW); columns recomputed.
    """
    w_shape = (g.shape[1], x.shape[1] // groups) + tuple(kernel)
    if (path or _pick_path(xp, x.shape, w_shape, stride, padding, dilation, groups)) == "batch_last":
        return _batch_last_weight_grad(xp, x, g, kernel, stride, padding, dilation)
    return _chunked_weight_grad(xp, x, g, kernel, stride, padding, dilation, groups)


def _chunked_weight_grad(xp, x, g, kernel, stride, padding, dilation, groups):
    n, c = x.shape[:2]
    o, oh, ow = g.shape[1], g.shape[2], g.shape[3]
    kh, kw = kernel
    cg = c // groups
    k, p = cg * kh * kw, oh * ow
    dt = xp.result_type(x.dtype, g.dtype)
    gw = xp.zeros((groups, o // groups, k), dtype=dt)
    part = xp.empty_like(gw)
    step = _chunk_size(xp, n, groups * k, p, x.dtype.itemsize)
    im2col = _Im2col(xp, x, kernel, stride, padding, dilation, (oh, ow), step)
    gbuf = xp.empty(o * step * p, dtype=g.dtype)
    for n0 in range(0, n, step):
        bs = builtins.min(step, n - n0)
        cols = im2col(n0, bs).reshape(groups, k, bs * p)
        gw += _gemm(xp, _chunk_grad(xp, g[n0:n0 + bs], groups, gbuf), cols.transpose(0, 2, 1), part)
    return gw.reshape(o, cg, kh, kw)


# ---- the batch-last path for small maps (groups 1) -----------------------------------------------
# The chunked im2col copies runs of OW elements: on a 4x4 map (a digit after one pooling) that is 4
# floats per run and the copy costs twice the GEMM. With the whole (small) batch padded batch-last,
# (C, Hp, Wp, N), every run is N samples long: the columns (C*KH*KW, OH*OW*N) are one fast strided
# copy, and one GEMM covers the batch. The price is the output's transpose back to (N, O, OH, OW)
# (runs of 1), so the path pays where the columns (C*KH*KW rows) outweigh the output (O rows) and
# runs of OW are short; and only while the whole-batch columns stay cache-sized (larger ones were
# the page-fault cost that made the chunked path necessary).
_BATCH_LAST_MAX_COLS = 4 << 20  # bytes of whole-batch columns


def _pick_path(xp, x_shape, w_shape, stride, padding, dilation, groups):
    """ "batch_last" for small one-group convolutions on the CPU, "chunked" im2col + GEMM otherwise."""
    if xp is not np or groups != 1:
        return "chunked"
    n, c, h, w = x_shape
    o, _, kh, kw = w_shape
    oh = _out_size(h, kh, stride[0], padding[0], dilation[0])
    ow = _out_size(w, kw, stride[1], padding[1], dilation[1])
    k = c * kh * kw
    if k * oh * ow * n * 4 > _BATCH_LAST_MAX_COLS or n < 4 * ow or k < 2 * o:
        return "chunked"
    return "batch_last"


def _batch_last_forward(xp, x, w, b, stride, padding, dilation, out_size):
    """One-group conv2d through whole-batch batch-last columns: (N, C, H, W) -> (N, O, OH, OW)."""
    n = x.shape[0]
    o = w.shape[0]
    oh, ow = out_size
    cols = _im2col(xp, x, w.shape[2:], stride, padding, dilation, out_size).reshape(-1, oh * ow * n)
    y = xp.matmul(w.reshape(o, -1), cols).reshape(o, oh, ow, n).transpose(3, 0, 1, 2)
    out = xp.empty((n, o, oh, ow), dtype=xp.result_type(x.dtype, w.dtype))
    if b is None:
        xp.copyto(out, y)
    else:
        xp.add(y, b.reshape(1, o, 1, 1), out=out)
    return out


def _batch_last_weight_grad(xp, x, g, kernel, stride, padding, dilation):
    """One-group weight gradient through batch-last columns: -> (O, C, KH, KW)."""
    o, oh, ow = g.shape[1:]
    cols = _im2col(xp, x, kernel, stride, padding, dilation, (oh, ow)).reshape(-1, oh * ow * x.shape[0])
    gt = _grad_batch_last(xp, g, 1)[0]  # (O, OH*OW*N)
    return xp.matmul(gt, cols.T).reshape(o, x.shape[1], *kernel)


def _bias_grad(grad):
    return _reduce.sum(grad, (0, 2, 3))


# ---- the three mutually-adjoint ops ------------------------------------------------------------

class Conv2d(Function):
    _node_name = "ConvolutionBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups, out_size):
        ctx.geom = (stride, padding, dilation, groups)
        ctx.save_for_backward(x, w)  # both, whatever is needed: the CUDA backward kernel takes both
        ctx.x_size = x._data.shape[2:]
        ctx.w_shape = w._data.shape
        bd = None if b is None else b._data
        y = kernels.conv2d_forward(x._data, w._data, bd, stride, padding, dilation, groups)
        if y is not None:
            return y
        return _conv_forward(ctx.xp, x._data, w._data, bd, stride, padding, dilation, groups, out_size)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.geom
        need = ctx.needs_input_grad
        gx = ConvTranspose2d.apply(grad, w, None, stride, padding, dilation, groups, ctx.x_size) if need[0] else None
        gw = Conv2dWeight.apply(x, grad, ctx.w_shape[2:], stride, padding, dilation, groups) if need[1] else None
        gb = _bias_grad(grad) if need[2] else None
        return gx, gw, gb

    @staticmethod
    def backward_arrays(ctx, grad):
        x, w = ctx.saved_tensors
        xd, wd = x._data, w._data
        stride, padding, dilation, groups = ctx.geom
        need = ctx.needs_input_grad
        got = kernels.conv2d_backward(xd, wd, grad, stride, padding, dilation, groups, need[0], need[1], need[2])
        if got is not None:
            return got
        xp = ctx.xp
        gx = _conv_input_grad(xp, grad, wd, ctx.x_size, stride, padding, dilation, groups) if need[0] else None
        gw = None
        if need[1]:
            gw = _conv_weight_grad(xp, xd, grad, ctx.w_shape[2:], stride, padding, dilation, groups)
        gb = grad.sum(axis=(0, 2, 3)) if need[2] else None
        return gx, gw, gb


class ConvTranspose2d(Function):
    """y = conv^T(g, w) + b: g (N, O, H, W), w (O, C/g, KH, KW) -> (N, C, *out_size)."""

    _node_name = "ConvolutionBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, g, w, b, stride, padding, dilation, groups, out_size):
        ctx.geom = (stride, padding, dilation, groups)
        ctx.save_for_backward(g if ctx.needs_input_grad[1] else None, w if ctx.needs_input_grad[0] else None)
        ctx.g_size = g._data.shape[2:]
        ctx.w_shape = w._data.shape
        y = _conv_input_grad(ctx.xp, g._data, w._data, out_size, stride, padding, dilation, groups)
        if b is not None:
            y += b._data.reshape(1, -1, 1, 1)
        return y

    @staticmethod
    def backward(ctx, grad):
        g, w = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.geom
        need = ctx.needs_input_grad
        gg = Conv2d.apply(grad, w, None, stride, padding, dilation, groups, ctx.g_size) if need[0] else None
        gw = Conv2dWeight.apply(grad, g, ctx.w_shape[2:], stride, padding, dilation, groups) if need[1] else None
        gb = _bias_grad(grad) if need[2] else None
        return gg, gw, gb

    @staticmethod
    def backward_arrays(ctx, grad):
        g, w = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.geom
        need = ctx.needs_input_grad
        xp = ctx.xp
        gg = _conv_forward(xp, grad, w._data, None, stride, padding, dilation, groups, ctx.g_size) if need[0] else None
        gw = _conv_weight_grad(xp, grad, g._data, ctx.w_shape[2:], stride, padding, dilation, groups) if need[1] else None
        gb = grad.sum(axis=(0, 2, 3)) if need[2] else None
        return gg, gw, gb


class Conv2dWeight(Function):
    """The weight gradient of conv2d: bilinear in the input x and the output gradient g."""

    @staticmethod
    def forward(ctx, x, g, kernel, stride, padding, dilation, groups):
        ctx.geom = (stride, padding, dilation, groups)
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, g if ctx.needs_input_grad[0] else None)
        ctx.x_size = x._data.shape[2:]
        ctx.g_size = g._data.shape[2:]
        return _conv_weight_grad(ctx.xp, x._data, g._data, kernel, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, grad):
        x, g = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.geom
        need = ctx.needs_input_grad
        gx = ConvTranspose2d.apply(g, grad, None, stride, padding, dilation, groups, ctx.x_size) if need[0] else None
        gg = Conv2d.apply(x, grad, None, stride, padding, dilation, groups, ctx.g_size) if need[1] else None
        return gx, gg


# ---- validation and the public functions ----------------------------------------------------------

def _check_tensor(t, name, op):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(t).__name__}")
    if t._data.dtype.kind not in "fV":
        raise RuntimeError(f"{op}: expected a floating point {name}, got {t.dtype}")


def _batched(input, nd, op, layout):
    """(input as a batched tensor, whether a batch dim was added)."""
    if input.ndim == nd + 2:
        return input, False
    if input.ndim == nd + 1:
        return _shape.reshape(input, (1,) + tuple(input.shape)), True
    raise RuntimeError(
        f"{op}: expected {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input {layout}, got shape {tuple(input.shape)}"
    )


def _check_same_dtype(op, input, weight, bias):
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t._data.dtype != input._data.dtype:
            raise RuntimeError(f"{op}: input type ({input.dtype}) and {name} type ({t.dtype}) should be the same")


def _to_4d(t, nd):
    """A 1-D-conv tensor (N, C, L) viewed as (N, C, 1, L)."""
    if nd == 2:
        return t

    s = tuple(t.shape)
    return _shape.reshape(t, s[:2] + (1,) + s[2:])


def _lift(v, nd, fill):
    """A 1-D hyper-parameter lifted to 2-D (height 1 takes ``fill``)."""
    return v if nd == 2 else (fill,) + v


def _conv(op, nd, input, weight, bias, stride, padding, dilation, groups):
    layout = "(N, C, L)" if nd == 1 else "(N, C, H, W)"
    _check_tensor(input, "input", op)
    _check_tensor(weight, "weight", op)
    if bias is not None:
        _check_tensor(bias, "bias", op)
    _check_same_dtype(op, input, weight, bias)
    x, unbatched = _batched(input, nd, op, layout)
    if weight.ndim != nd + 2:
        wl = "(out_channels, in_channels/groups, kL)" if nd == 1 else "(out_channels, in_channels/groups, kH, kW)"
        raise RuntimeError(f"{op}: expected {nd + 2}-D weight {wl}, got shape {tuple(weight.shape)}")
    if isinstance(groups, builtins.bool) or not isinstance(groups, (builtins.int, np.integer)) or groups < 1:
        raise RuntimeError(f"{op}: groups must be a positive integer, got {groups!r}")
    groups = builtins.int(groups)
    o, cg = weight.shape[0], weight.shape[1]
    c = x.shape[1]
    if o % groups:
        raise RuntimeError(f"{op}: out_channels (weight {tuple(weight.shape)}) must be divisible by groups={groups}")
    if cg * groups != c:
        raise RuntimeError(
            f"{op}: expected input with {cg * groups} channels (weight {tuple(weight.shape)}, groups={groups}), "
            f"got {c} channels (input {tuple(input.shape)})"
        )
    if bias is not None and tuple(bias.shape) != (o,):
        raise RuntimeError(f"{op}: expected bias of shape ({o},), got {tuple(bias.shape)}")
    stride = _ntuple(stride, nd, "stride", op, minimum=1)
    dilation = _ntuple(dilation, nd, "dilation", op, minimum=1)
    kernel = tuple(weight.shape[2:])
    _check_kernel(op, weight)
    extra = None  # asymmetric 'same' padding: (per-dim extra zeros after)
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * nd
        elif padding == "same":
            if builtins.any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions (stride={stride})")
            totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
            padding = tuple(t // 2 for t in totals)
            extra = tuple(t - 2 * (t // 2) for t in totals)
            if not builtins.any(extra):
                extra = None
        else:
            raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of 'valid', 'same'")
    else:
        padding = _ntuple(padding, nd, "padding", op, minimum=0)
    spatial = tuple(x.shape[2:])
    if extra is not None:
        x = _zero_pad_after(x, extra)
        spatial = tuple(x.shape[2:])
    for n, k, p, d in zip(spatial, kernel, padding, dilation):
        if n + 2 * p < d * (k - 1) + 1:
            raise RuntimeError(
                f"{op}: calculated padded input size per channel {tuple(n + 2 * p for n, p in zip(spatial, padding))} "
                f"is smaller than the (dilated) kernel size {tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))} "
                f"(input {tuple(input.shape)}, weight {tuple(weight.shape)}, padding={padding}, dilation={dilation})"
            )
    out_size = tuple(_out_size(n, k, s, p, d) for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation))
    y = Conv2d.apply(_to_4d(x, nd), _to_4d(weight, nd), bias, _lift(stride, nd, 1), _lift(padding, nd, 0),
                     _lift(dilation, nd, 1), groups, _lift(out_size, nd, 1))
    return _finish(y, nd, unbatched)


def _zero_pad_after(x, extra):
    pads = []
    for e in reversed(extra):
        pads.extend((0, e))
    return ops.pad(x, tuple(pads))


def _finish(y, nd, unbatched):
    if nd == 1:
        s = tuple(y.shape)
        y = _shape.reshape(y, s[:2] + s[3:])
    if unbatched:
        y = _shape.reshape(y, tuple(y.shape)[1:])
    return y


@autocast_op("conv2d")
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) over an (N, C, H, W) or (C, H, W) input.

    weight: (out_channels, in_channels/groups, kH, kW); bias: (out_channels,) or None.
    padding: int, pair, ``'valid'`` or ``'same'`` (stride 1 only; even kernels pad one more
    element after than before, like PyTorch). Returns (N, out_channels, OH, OW) with
    ``OH = (H + 2*pH - dH*(kH-1) - 1) // sH + 1``.
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


@autocast_op("conv1d")
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over an (N, C, L) or (C, L) input; weight (out_channels, in_channels/groups, kL)."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(op, nd, input, weight, bias, stride, padding, output_padding, groups, dilation):
    layout = "(N, C, L)" if nd == 1 else "(N, C, H, W)"
    _check_tensor(input, "input", op)
    _check_tensor(weight, "weight", op)
    if bias is not None:
        _check_tensor(bias, "bias", op)
    _check_same_dtype(op, input, weight, bias)
    x, unbatched = _batched(input, nd, op, layout)
    if weight.ndim != nd + 2:
        raise RuntimeError(
            f"{op}: expected {nd + 2}-D weight (in_channels, out_channels/groups, *kernel), got shape {tuple(weight.shape)}"
        )
    if isinstance(groups, builtins.bool) or not isinstance(groups, (builtins.int, np.integer)) or groups < 1:
        raise RuntimeError(f"{op}: groups must be a positive integer, got {groups!r}")
    groups = builtins.int(groups)
    cin, cout_g = weight.shape[0], weight.shape[1]
    if cin % groups:
        raise RuntimeError(f"{op}: in_channels (weight {tuple(weight.shape)}) must be divisible by groups={groups}")
    if x.shape[1] != cin:
        raise RuntimeError(
            f"{op}: expected input with {cin} channels (weight {tuple(weight.shape)}, groups={groups}), "
            f"got {x.shape[1]} channels (input {tuple(input.shape)})"
        )
    cout = cout_g * groups
    if bias is not None and tuple(bias.shape) != (cout,):
        raise RuntimeError(f"{op}: expected bias of shape ({cout},), got {tuple(bias.shape)}")
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a tuple of ints, got {padding!r}")
    stride = _ntuple(stride, nd, "stride", op, minimum=1)
    padding = _ntuple(padding, nd, "padding", op, minimum=0)
    output_padding = _ntuple(output_padding, nd, "output_padding", op, minimum=0)
    dilation = _ntuple(dilation, nd, "dilation", op, minimum=1)
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= s and op_ >= d:
            raise RuntimeError(
                f"{op}: output padding must be smaller than either stride or dilation, got output_padding="
                f"{output_padding}, stride={stride}, dilation={dilation}"
            )
    kernel = tuple(weight.shape[2:])
    _check_kernel(op, weight)
    out_size = tuple((n - 1) * s - 2 * p + d * (k - 1) + op_ + 1
                     for n, s, p, d, k, op_ in zip(x.shape[2:], stride, padding, dilation, kernel, output_padding))
    if builtins.any(n <= 0 for n in out_size):
        raise RuntimeError(
            f"{op}: output size {out_size} is too small (input {tuple(input.shape)}, weight {tuple(weight.shape)}, "
            f"stride={stride}, padding={padding}, dilation={dilation}, output_padding={output_padding})"
        )
    y = ConvTranspose2d.apply(_to_4d(x, nd), _to_4d(weight, nd), bias, _lift(stride, nd, 1), _lift(padding, nd, 0),
                              _lift(dilation, nd, 1), groups, _lift(out_size, nd, 1))
    return _finish(y, nd, unbatched)


@autocast_op("conv_transpose2d")
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution ("deconvolution") over an (N, C_in, H, W) or (C_in, H, W) input.

    weight: (in_channels, out_channels/groups, kH, kW). Output height
    ``(H - 1)*sH - 2*pH + dH*(kH - 1) + output_padding_H + 1`` (width likewise).
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation)


@autocast_op("conv_transpose1d")
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution over an (N, C_in, L) or (C_in, L) input; weight (in_channels, out_channels/groups, kL)."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation)


# ---- unfold / fold ------------------------------------------------------------------------------

class Unfold(Function):
    _node_name = "Im2ColBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, x, kernel, dilation, padding, stride, out_size):
        ctx.args = (kernel, dilation, padding, stride, out_size, x._data.shape[2:])
        n, c = x._data.shape[:2]
        xpad = _pad_array(ctx.xp, x._data, [(p, p) for p in padding])
        win = sliding_windows(ctx.xp, xpad, kernel, stride, dilation, out_size)  # (N, C, OH, OW, KH, KW)
        cols = ctx.xp.ascontiguousarray(win.transpose(0, 1, 4, 5, 2, 3))
        return cols.reshape(n, c * kernel[0] * kernel[1], out_size[0] * out_size[1])

    @staticmethod
    def backward(ctx, grad):
        kernel, dilation, padding, stride, out_size, in_size = ctx.args
        return Fold.apply(grad, in_size, kernel, dilation, padding, stride, out_size)


class Fold(Function):
    _node_name = "Col2ImBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, cols, output_size, kernel, dilation, padding, stride, blocks):
        ctx.args = (kernel, dilation, padding, stride, blocks)
        xp = ctx.xp
        n = cols._data.shape[0]
        c = cols._data.shape[1] // (kernel[0] * kernel[1])
        g = cols._data.reshape(n, c, kernel[0], kernel[1], blocks[0], blocks[1])
        hp, wp = output_size[0] + 2 * padding[0], output_size[1] + 2 * padding[1]
        out = xp.zeros((n, c, hp, wp), dtype=cols._data.dtype)
        for a, b in kernel_offsets(kernel):
            out[(Ellipsis,) + window_slices((a, b), stride, dilation, blocks)] += g[:, :, a, b]
        return xp.ascontiguousarray(out[:, :, padding[0]:padding[0] + output_size[0], padding[1]:padding[1] + output_size[1]])

    @staticmethod
    def backward(ctx, grad):
        kernel, dilation, padding, stride, blocks = ctx.args
        return Unfold.apply(grad, kernel, dilation, padding, stride, blocks)


def _fold_args(op, kernel_size, dilation, padding, stride):
    return (_ntuple(kernel_size, 2, "kernel_size", op, minimum=1), _ntuple(dilation, 2, "dilation", op, minimum=1),
            _ntuple(padding, 2, "padding", op, minimum=0), _ntuple(stride, 2, "stride", op, minimum=1))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding blocks (im2col): (N, C, H, W) -> (N, C*kH*kW, L), L the number of blocks.

    Also accepts an unbatched (C, H, W) input, giving (C*kH*kW, L).
    """
    _check_tensor(input, "input", "unfold")
    kernel, dilation, padding, stride = _fold_args("unfold", kernel_size, dilation, padding, stride)
    x, unbatched = _batched(input, 2, "unfold", "(N, C, H, W)")
    out_size = tuple(_out_size(n, k, s, p, d) for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation))
    if builtins.any(n <= 0 for n in out_size):
        raise RuntimeError(
            f"unfold: the kernel {kernel} (dilation {dilation}) does not fit the padded input: input {tuple(input.shape)}, "
            f"padding={padding}, stride={stride} give {out_size} blocks"
        )
    y = Unfold.apply(x, kernel, dilation, padding, stride, out_size)
    if unbatched:
        y = _shape.reshape(y, tuple(y.shape)[1:])
    return y


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding blocks (col2im, summing overlaps): (N, C*kH*kW, L) -> (N, C, *output_size).

    The adjoint of ``unfold``; also accepts an unbatched (C*kH*kW, L) input.
    """
    _check_tensor(input, "input", "fold")
    output_size = _ntuple(output_size, 2, "output_size", "fold", minimum=1)
    kernel, dilation, padding, stride = _fold_args("fold", kernel_size, dilation, padding, stride)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"fold: expected 2-D (unbatched) or 3-D (batched) input (N, C*kH*kW, L), got shape {tuple(input.shape)}")
    x = input
    unbatched = input.ndim == 2
    if unbatched:
        x = _shape.reshapereshape(input, (1,) + tuple(input.shape))
    kk = kernel[0] * kernel[1]
    if x.shape[1] % kk:
        raise RuntimeError(
            f"fold: expected size of input's dimension 1 to be divisible by the product of kernel_size {kernel}, "
            f"but got input of shape {tuple(input.shape)}"
        )
    blocks = tuple(_out_size(n, k, s, p, d) for n, k, s, p, d in zip(output_size, kernel, stride, padding, dilation))
    if builtins.any(b <= 0 for b in blocks) or blocks[0] * blocks[1] != x.shape[2]:
        raise RuntimeError(
            f"fold: given output_size={output_size}, kernel_size={kernel}, dilation={dilation}, padding={padding}, "
            f"stride={stride}, expected size of input's dimension 2 to match the calculated number of sliding blocks "
            f"{blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got input of shape {tuple(input.shape)}"
        )
    y = Fold.apply(x, output_size, kernel, dilation, padding, stride, blocks)
    if unbatched:
        y = _shape.reshapereshape(y, tuple(y.shape)[1:])
    return y
