"""Loss functions (``tinytorch.nn.functional``), with PyTorch's reductions, options and errors.

Most losses are compositions of differentiable ops (so they have every order of gradient for
free). Cross-entropy against class indices, on every training step's path, is one op with
a direct backward ``(softmax - one_hot) * grad`` (and a CUDA kernel hook); binary
cross-entropy is one op so that its log clamp and gradient match PyTorch's.
"""
from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from .. import _arrays
from ..autograd.function import Function
from .._arrays import kernels
from ..tensor import Tensor
from ._common import check_float
from .elementwise import add, mul, div, neg, sub
from .activation import logsigmoid
from .normalization import pairwise_distance
from .. import ops  # the package namespace: ops of other families are looked up at call time
from ..amp.autocast_mode import autocast_op
from .convert import to_dtype

__all__ = [
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "poisson_nll_loss", "gaussian_nll_loss", "cosine_embedding_loss",
    "margin_ranking_loss", "multi_margin_loss", "hinge_embedding_loss", "soft_margin_loss",
    "multilabel_soft_margin_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss", "multilabel_margin_loss",
]

TENSOR_METHODS = ()

_REDUCTIONS = ("none", "mean", "sum")


def _const(arr) -> Tensor:
    return Tensor._make(arr)


# ---- reductions -----------------------------------------------------------------------------------------------

def _legacy(size_average, reduce, reduction):
    """PyTorch's deprecated ``size_average``/``reduce`` flags mapped onto ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction instead.", stacklevel=3)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _check_reduction(reduction, op, allowed=_REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction (expected one of {', '.join(allowed)})")


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    total = ops.sum(loss)
    if reduction == "sum":
        return total
    return div(total, loss.numel()) if loss.numel() else div(total, float("nan"))


def _check_tensor(t, name, op):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(t).__name__}")


def _same_device(input, other, name, op):
    """Targets, weights and indices are used as raw arrays, so the autograd device check never sees them."""
    if other.device != input.device:
        raise RuntimeError(f"{op}: expected all tensors to be on the same device, but found at least two devices, "
                           f"{input.device} (input) and {other.device} ({name})")


def _pair(input, target, op, *, strict=False):
    """Validate (input, target) of a pointwise loss; returns the target as a tensor of input's dtype."""
    _check_tensor(input, "input", op)
    if not isinstance(target, Tensor):
        raise TypeError(f"{op}: expected target to be a Tensor, got {type(target).__name__}")
    check_float(input, op)
    if tuple(target.shape) != tuple(input.shape):
        if strict:
            raise ValueError(
                f"{op}: Using a target size ({tuple(target.shape)}) that is different to the input size "
                f"({tuple(input.shape)}) is deprecated. Please ensure they have the same size."
            )
        try:
            np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
        except ValueError:
            raise RuntimeError(
                f"{op}: The size of tensor input {tuple(input.shape)} must match the size of target {tuple(target.shape)}"
            ) from None
        warnings.warn(
            f"{op}: Using a target size ({tuple(target.shape)}) that is different to the input size ({tuple(input.shape)}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
            stacklevel=3,
        )
    if target._data.dtype != input._data.dtype:
        target = to_dtype(target, input._data.dtype)
    return target


def _widened(input, target):
    """``input`` cast up when ``target`` is a wider float (torch: mse_loss(float32, float64) is float64), so the
    target is not rounded down to the input's precision; the cast is recorded, so gradients come back in float32."""
    if (isinstance(input, Tensor) and isinstance(target, Tensor) and target._data.dtype.kind == "f"
            and input._data.dtype.kind == "f" and target._data.dtype.itemsize > input._data.dtype.itemsize):
        return to_dtype(input, target._data.dtype)
    return input


def _weighted(loss, weight, reduction, op, *, mean_by_weight):
    """Elementwise ``weight`` (same size as input) applied, then the reduction (torch 2.x's weighted losses)."""
    if weight is None:
        return _reduce(loss, reduction)
    _check_tensor(weight, "weight", op)
    if tuple(weight.shape) != tuple(loss.shape):
        raise ValueError(f"{op}: Weights and input must have the same size, got {tuple(weight.shape)} and {tuple(loss.shape)}")
    loss = mul(loss, weight)
    if reduction == "mean" and mean_by_weight:
        return div(ops.sum(loss), ops.sum(weight))
    return _reduce(loss, reduction)


def _unless_weighted(name):
    """torch's op ``name`` under autocast, except with ``weight=``: torch computes that one as a composite."""
    return lambda *args, weight=None, **kwargs: (name,) if weight is None else None


# ---- regression losses ---------------------------------------------------------------------------------------------

@autocast_op(select=_unless_weighted("mse_loss"))
@_arrays.on_device_of  # raw target/weight arrays: run on the input's GPU
def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", weight=None):
    """Mean squared error ``(input - target)^2`` (optionally weighted elementwise), reduced."""
    op = "mse_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    input = _widened(input, target)
    target = _pair(input, target, op)
    d = sub(input, target)
    return _weighted(mul(d, d), weight, reduction, op, mean_by_weight=True)


@autocast_op(select=_unless_weighted("l1_loss"))
@_arrays.on_device_of  # raw target/weight arrays: run on the input's GPU
def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", weight=None):
    """Mean absolute error ``|input - target|``, reduced."""
    op = "l1_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    input = _widened(input, target)
    target = _pair(input, target, op)
    return _weighted(ops.abs(sub(input, target)), weight, reduction, op, mean_by_weight=True)


def _huber(d, delta):
    """0.5 d^2 where |d| < delta, delta * (|d| - 0.5 delta) elsewhere."""
    small = _const((_arrays.array_module(d._data).abs(d._data) < delta).astype(d._data.dtype))
    big = _const(1.0 - small._data)
    quad = mul(mul(mul(d, d), 0.5), small)
    lin = mul(mul(sub(ops.abs(d), 0.5 * delta), delta), big)
    return add(quad, lin)


@autocast_op("smooth_l1_loss")
@_arrays.on_device_of  # raw target/weight arrays: run on the input's GPU
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
    """``0.5 d^2 / beta`` where ``|d| < beta``, ``|d| - 0.5 beta`` elsewhere (``d = input - target``)."""
    op = "smooth_l1_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    if beta < 0:
        raise RuntimeError(f"{op}: smooth_l1_loss does not support negative values for beta, got {beta}")
    input = _widened(input, target)
    target = _pair(input, target, op)
    d = sub(input, target)
    if beta == 0:
        return _reduce(ops.abs(d), reduction)
    return _reduce(div(_huber(d, float(beta)), float(beta)), reduction)


@autocast_op(select=_unless_weighted("huber_loss"))
@_arrays.on_device_of  # raw target/weight arrays: run on the input's GPU
def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """``0.5 d^2`` where ``|d| < delta``, ``delta (|d| - 0.5 delta)`` elsewhere."""
    op = "huber_loss"
    _check_reduction(reduction, op)
    if delta <= 0:
        raise RuntimeError(f"{op}: huber_loss does not support non-positive values for delta, got {delta}")
    target = _pair(input, target, op)
    return _weighted(_huber(sub(input, target), float(delta)), weight, reduction, op, mean_by_weight=False)


# ---- classification with class indices -------------------------------------------------------------------------

def _class_layout(input, target, op):
    """Validate (N, C, d1, ...) / (C,) input against integer target; returns (x2d (M, C), t1d (M,) array, out_shape)."""
    _check_tensor(input, "input", op)
    _check_tensor(target, "target", op)
    check_float(input, op)
    _same_device(input, target, "target", op)
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have at least 1 dimension (C) or (N, C, ...), got a 0-D tensor")
    if target._data.dtype not in (np.int64, np.uint8):
        raise RuntimeError(
            f"{op}: expected target dtype to be Long or Byte, but got {target.dtype} (class indices for input of shape "
            f"{tuple(input.shape)})"
        )
    if input.ndim == 1:
        if target.ndim != 0:
            raise ValueError(f"{op}: for unbatched input of shape {tuple(input.shape)} expected a 0-D target, "
                             f"got shape {tuple(target.shape)}")
        return ops.reshape(input, (1, input.shape[0])), target._data.reshape(1), ()
    n, c = input.shape[0], input.shape[1]
    want = (n,) + tuple(input.shape[2:])
    if tuple(target.shape) != want:
        if target.ndim >= 1 and target.shape[0] != n:
            raise ValueError(f"{op}: Expected input batch_size ({n}) to match target batch_size ({target.shape[0]}).")
        raise RuntimeError(f"{op}: expected target of shape {want} for input of shape {tuple(input.shape)}, got {tuple(target.shape)}")
    if input.ndim == 2:
        return input, target._data.reshape(n), want
    x = ops.movedim(input, 1, -1) if hasattr(ops, "movedim") else ops.permute(input, (0,) + tuple(range(2, input.ndim)) + (1,))
    return ops.reshape(x, (-1, c)), target._data.reshape(-1), want


def _check_targets(t, c, ignore_index, op):
    if t.size == 0:
        return
    xp = _arrays.array_module(t)
    bad = (t < 0) | (t >= c)
    if ignore_index is not None:
        bad &= t != ignore_index
    # on CUDA: checked on the device, raised at the next host sync (_arrays.device_check)
    _arrays.device_check(xp, bad, lambda: IndexError(
        f"{op}: Target {builtins.int(t[xp.argmax(bad)])} is out of bounds (number of classes {c})."))


class CrossEntropyIndices(Function):
    """Cross-entropy of (M, C) logits against class indices (M,) in one op: reduced per ``reduction``."""

    @staticmethod
    def forward(ctx, logits, target, ignore_index, reduction):
        xp = ctx.xp
        x = logits._data
        need = ctx.needs_input_grad[0]
        fused = kernels.softmax_cross_entropy(x, target, ignore_index, need)
        valid = target != ignore_index
        if fused is not None:
            # the kernel's contract: per-sample loss (0 at ignored rows) and, when asked,
            # d(per-sample loss)/d(logits) = softmax - one_hot (0 at ignored rows)
            loss, dlogits = fused
        else:
            # one (M, C) buffer, rewritten in place: shifted logits, their exp, then softmax - one_hot
            e = x - x.max(axis=1, keepdims=True)
            all_valid = xp is np and bool(valid.all())  # the common case skips the masking passes (no GPU sync)
            safe = target if all_valid else xp.where(valid, target, 0)
            rows = xp.arange(x.shape[0])
            picked = e[rows, safe]
            xp.exp(e, out=e)
            denom = e.sum(axis=1, keepdims=True)
            loss = xp.log(denom[:, 0]) - picked
            dlogits = None
            if need:
                e *= 1.0 / denom
                dlogits = e
                dlogits[rows, safe] -= 1.0
            if not all_valid:
                loss *= valid
                if need:
                    dlogits *= valid[:, None]
        ctx.dlogits = dlogits
        ctx.target, ctx.valid, ctx.reduction = target, valid, reduction
        # the count stays an array: no host sync on the GPU
        ctx.count = valid.sum().astype(x.dtype)
        ctx.save_for_backward(logits)
        loss = loss.astype(x.dtype, copy=False)
        if reduction == "none":
            return loss
        total = loss.sum()
        if reduction == "sum":
            return total
        return total / ctx.count  # 0 / 0 = nan when every target is ignored, like torch

    @staticmethod
    def backward_arrays(ctx, grad):
        if ctx.reduction == "none":
            return ctx.dlogits * grad[:, None], None
        scale = grad if ctx.reduction == "sum" else grad / ctx.xp.maximum(ctx.count, 1)
        return ctx.dlogits * scale, None

    @staticmethod
    def backward(ctx, grad):
        (logits,) = ctx.saved_tensors
        xp = ctx.xp
        m, c = logits._data.shape
        onehot = xp.zeros((m, c), dtype=logits._data.dtype)
        onehot[xp.arange(m), xp.where(ctx.valid, ctx.target, 0)] = 1.0
        d = mul(sub(ops.softmax(logits, 1), _const(onehot)), _const(ctx.valid.astype(logits._data.dtype)[:, None]))
        if ctx.reduction == "none":
            return mul(d, ops.reshape(grad, (m, 1))), None
        if ctx.reduction == "mean":
            grad = div(grad, _const(xp.maximum(ctx.count, 1)))
        return mul(d, grad), None


class NllIndices(Function):
    """Negative log-likelihood of (M, C) log-probabilities against class indices (M,), no class weights, in one op."""
    _node_name = "NllLossBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, x, target, ignore_index, reduction):
        xp = ctx.xp
        xd = x._data
        valid = target != ignore_index
        all_valid = xp is np and bool(valid.all())  # no GPU sync
        safe = target if all_valid else xp.where(valid, target, 0)
        rows = xp.arange(xd.shape[0])
        loss = -xd[rows, safe]
        if not all_valid:
            loss *= valid
        ctx.shape, ctx.rows, ctx.safe, ctx.valid, ctx.all_valid = xd.shape, rows, safe, valid, all_valid
        ctx.reduction = reduction
        ctx.count = valid.sum().astype(xd.dtype)  # an array: no host sync on the GPU
        if reduction == "none":
            return loss
        total = loss.sum()
        if reduction == "sum":
            return total
        return total / ctx.count  # 0 / 0 = nan when every target is ignored, like torch (apply silences it)

    @staticmethod
    def backward_arrays(ctx, grad):
        xp = ctx.xp
        g = xp.zeros(ctx.shape, dtype=grad.dtype)
        if ctx.reduction == "none":
            scale = -grad
        elif ctx.reduction == "sum":
            scale = -grad
        else:
            scale = -grad / xp.maximum(ctx.count, 1)
        if not ctx.all_valid:
            scale = scale * ctx.valid
        g[ctx.rows, ctx.safe] = scale
        return g, None

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        onehot = xp.zeros(ctx.shape, dtype=grad._data.dtype)
        onehot[ctx.rows, ctx.safe] = -1.0
        onehot *= ctx.valid[:, None]
        d = _const(onehot)
        if ctx.reduction == "none":
            return mul(d, ops.reshape(grad, (ctx.shape[0], 1))), None
        if ctx.reduction == "mean":
            grad = div(grad, _const(xp.maximum(ctx.count, 1)))
        return mul(d, grad), None


def _class_weight(weight, c, op, like):
    if weight is None:
        return None
    _check_tensor(weight, "weight", op)
    if weight.ndim != 1 or weight.shape[0] != c:
        raise RuntimeError(
            f"{op}: weight tensor should be defined either for all {c} classes or no classes but got weight tensor of shape: {list(weight.shape)}"
        )
    _same_device(like, weight, "weight", op)
    return weight._data


@autocast_op("nll_loss")
@_arrays.on_device_of  # raw target/weight arrays: run on the input's GPU
def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
             reduction: str = "mean"):
    """Negative log-likelihood: ``-weight[t] * input[n, t]`` for log-probabilities (N, C, d1, ...) and indices (N, d1, ...).

    ``ignore_index`` targets contribute 0; ``'mean'`` divides by the sum of the non-ignored targets' weights.
    """
    op = "nll_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    x2, t, out_shape = _class_layout(input, target, op)
    c = x2.shape[1]
    w = _class_weight(weight, c, op, input)
    _check_targets(t, c, ignore_index, op)
    if w is None:  # one node instead of getitem, mul, neg, sum and div
        out = NllIndices.apply(x2, t, ignore_index, reduction)
        return ops.reshape(out, out_shape) if reduction == "none" else out
    loss, wt = _nll_rows(x2, t, w, ignore_index)
    if reduction == "none":
        return ops.reshape(loss, out_shape)
    total = ops.sum(loss)
    if reduction == "sum":
        return total
    return div(total, _scalar(wt.sum(), x2))


def _scalar(value, like) -> Tensor:
    """A 0-d array (a count or weight sum, kept on the device) as a constant tensor of like's dtype."""
    return _const(_arrays.array_module(like._data).asarray(value, dtype=like._data.dtype))


def _nll_rows(x2, t, w, ignore_index):
    """Per-row ``-w[t] * x2[i, t]`` (0 at ignored rows) and the per-row weights array."""
    xp = _arrays.array_module(x2._data)
    valid = t != ignore_index
    safe = xp.where(valid, t, 0)
    wt = valid.astype(x2._data.dtype)
    if w is not None:
        wt = wt * w[safe].astype(x2._data.dtype)
    picked = ops.getitem(x2, (xp.arange(x2.shape[0]), safe))
    return neg(mul(picked, _const(wt))), wt


@autocast_op("cross_entropy", "cross_entropy_loss")
@_arrays.on_device_of  # raw target/weight arrays: run on the input's GPU
def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0):
    """Cross-entropy between logits (N, C, d1, ...) or (C,) and class indices (N, d1, ...) or class probabilities (same shape as input).

    ``weight`` (C,) rescales classes; ``ignore_index`` targets are skipped (``'mean'`` divides by the
    non-ignored weights); ``label_smoothing`` mixes the target with the uniform distribution.
    """
    op = "cross_entropy"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"{op}: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    _check_tensor(input, "input", op)
    _check_tensor(target, "target", op)
    if target._data.dtype.kind == "f":
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing, op)
    x2, t, out_shape = _class_layout(input, target, op)
    c = x2.shape[1]
    w = _class_weight(weight, c, op, input)
    _check_targets(t, c, ignore_index, op)
    if w is None and label_smoothing == 0.0:
        out = CrossEntropyIndices.apply(x2, t, ignore_index, reduction)
        return ops.reshape(out, out_shape) if reduction == "none" else out
    logp = ops.log_softmax(x2, 1)
    nll, wt = _nll_rows(logp, t, w, ignore_index)
    valid = (t != ignore_index).astype(x2._data.dtype)
    if label_smoothing > 0.0:
        wl = logp if w is None else mul(logp, _const(w.astype(x2._data.dtype)))
        smooth = mul(neg(ops.sum(wl, 1)), _const(valid))
    if reduction == "none":
        loss = nll if label_smoothing == 0.0 else add(mul(nll, 1.0 - label_smoothing), mul(smooth, label_smoothing / c))
        return ops.reshape(loss, out_shape)
    total = ops.sum(nll)
    if reduction == "mean":
        total = div(total, _scalar(wt.sum(), x2))
    if label_smoothing == 0.0:
        return total
    s = ops.sum(smooth)
    if reduction == "mean":
        s = div(s, _scalar(wt.sum() if w is not None else valid.sum(), x2))
    return add(mul(total, 1.0 - label_smoothing), mul(s, label_smoothing / c))


def _cross_entropy_probs(input, target, weight, reduction, label_smoothing, op):
    check_float(input, op)
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(
            f"{op}: expected class-probability target of the input's shape {tuple(input.shape)}, got {tuple(target.shape)}"
        )
    cdim = 0 if input.ndim == 1 else 1
    c = input.shape[cdim]
    w = _class_weight(weight, c, op, input)
    if target._data.dtype != input._data.dtype:
        target = to_dtype(target, input._data.dtype)
    if label_smoothing > 0.0:
        target = add(mul(target, 1.0 - label_smoothing), label_smoothing / c)
    logp = ops.log_softmax(input, cdim)
    prod = mul(logp, target)
    if w is not None:
        shape = [1] * input.ndim
        shape[cdim] = c
        prod = mul(prod, _const(w.astype(input._data.dtype).reshape(shape)))
    loss = neg(ops.sum(prod, cdim))
    if reduction == "none":
        return loss
    total = ops.sum(loss)
    if reduction == "sum":
        return total
    return div(total, input.numel() // c)


# ---- binary classification -------------------------------------------------------------------------------------------

_BCE_EPS = 1e-12


class BinaryCrossEntropy(Function):
    """Elementwise ``-(t log x + (1 - t) log(1 - x))`` with each log clamped to >= -100, like torch."""

    @staticmethod
    def forward(ctx, x, t):
        xp = ctx.xp
        a, b = x._data, t._data
        ctx.save_for_backward(x, t)
        log_x = xp.maximum(xp.log(a), -100.0)
        log_1mx = xp.maximum(xp.log1p(-a), -100.0)
        return (-(b * log_x + (1.0 - b) * log_1mx)).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        gx = gt = None
        if ctx.needs_input_grad[0]:
            # torch's gradient: (x - t) / max(x (1 - x), eps)
            gx = mul(grad, div(sub(x, t), ops.clamp(mul(x, sub(1.0, x)), min=_BCE_EPS)))
        if ctx.needs_input_grad[1]:
            gt = mul(grad, sub(ops.clamp(ops.log1p(neg(x)), min=-100.0), ops.clamp(ops.log(x), min=-100.0)))
        return gx, gt


@autocast_op("binary_cross_entropy")
@_arrays.on_device_of  # raw target/weight arrays: run on the input's GPU
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
    """Binary cross-entropy between probabilities ``input`` and ``target`` (same shape); ``weight`` broadcasts."""
    op = "binary_cross_entropy"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    if isinstance(target, Tensor) and isinstance(input, Tensor) and target.dtype != input.dtype:
        raise RuntimeError(f"{op}: Found dtype {target.dtype} but expected {input.dtype} (the target must have the "
                           f"input's dtype)")
    target = _pair(input, target, op, strict=True)
    a, t = input._data, target._data
    if a.size:  # value checks, as torch's; on CUDA checked on the device and raised at the next host sync
        xp = _arrays.array_module(a)
        for name, arr in (("input", a), ("target", t)):
            _arrays.device_check(xp, (arr < 0) | (arr > 1), lambda name=name, arr=arr: RuntimeError(
                f"{op}: all elements of {name} should be between 0 and 1 (got min {builtins.float(arr.min())}, "
                f"max {builtins.float(arr.max())})"))
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        _check_tensor(weight, "weight", op)
        loss = mul(loss, weight)
    return _reduce(loss, reduction)


@autocast_op("binary_cross_entropy_with_logits")
@_arrays.on_device_of  # raw target/weight arrays: run on the input's GPU
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction: str = "mean", pos_weight=None):
    """``binary_cross_entropy(sigmoid(input), target)`` computed stably from logits.

    ``pos_weight`` (broadcast along the last dim, e.g. (C,)) scales the positive term; ``weight`` the whole loss.
    """
    op = "binary_cross_entropy_with_logits"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    _check_tensor(input, "input", op)
    _check_tensor(target, "target", op)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{op}: Target size ({tuple(target.shape)}) must be the same as input size ({tuple(input.shape)})")
    target = _pair(input, target, op)
    # -log sigmoid(x) = softplus(-x); (1 - t) x + softplus(-x) is the plain loss
    sp = neg(logsigmoid(input))
    if pos_weight is not None:
        _check_tensor(pos_weight, "pos_weight", op)
        sp = mul(sp, add(mul(sub(pos_weight, 1.0), target), 1.0))
    loss = add(mul(sub(1.0, target), input), sp)
    if weight is not None:
        _check_tensor(weight, "weight", op)
        loss = mul(loss, weight)
    return _reduce(loss, reduction)


# ---- distribution losses ---------------------------------------------------------------------------------------------

def _xlogx(t):
    """``t * log(t)`` with 0 where t == 0 (gradient log t + 1 where t > 0)."""
    pos = (t._data > 0).astype(t._data.dtype)
    safe = add(mul(t, _const(pos)), _const(1.0 - pos))
    return mul(t, ops.log(safe))


@autocast_op("kl_div")
@_arrays.on_device_of  # raw target/weight arrays: run on the input's GPU
def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False):
    """KL divergence ``target * (log target - input)`` for log-probabilities ``input``.

    ``reduction='batchmean'`` divides the sum by the batch size (the mathematically right mean);
    ``log_target=True`` takes ``target`` as log-probabilities.
    """
    op = "kl_div"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op, _REDUCTIONS + ("batchmean",))
    target = _pair(input, target, op)
    if log_target:
        loss = mul(ops.exp(target), sub(target, input))
    else:
        loss = sub(_xlogx(target), mul(target, input))
    if reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
            "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
            stacklevel=2,
        )
    if reduction == "batchmean":
        total = ops.sum(loss)
        return div(total, input.shape[0]) if input.ndim else total
    return _reduce(loss, reduction)


@autocast_op("poisson_nll_loss")
@_arrays.on_device_of  # raw target/weight arrays: run on the input's GPU
def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False, size_average=None, eps: float = 1e-08,
                     reduce=None, reduction: str = "mean"):
    """Poisson negative log-likelihood: ``exp(input) - target * input`` (log_input) or ``input - target * log(input + eps)``."""
    op = "poisson_nll_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    target = _pair(input, target, op)
    if log_input:
        loss = sub(ops.exp(input), mul(target, input))
    else:
        loss = sub(input, mul(target, ops.log(add(input, eps))))
    if full:
        xp = _arrays.array_module(target._data)
        t = target._data
        with np.errstate(divide="ignore", invalid="ignore"):
            stirling = t * xp.log(t) - t + 0.5 * xp.log(2 * math.pi * t)
        loss = add(loss, _const(xp.where(t > 1, stirling, 0.0).astype(t.dtype)))
    return _reduce(loss, reduction)


@_arrays.on_device_of  # raw target/weight arrays: run on the input's GPU
def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-06, reduction: str = "mean"):
    """Gaussian negative log-likelihood ``0.5 (log var + (input - target)^2 / var)``, var clamped to >= eps."""
    op = "gaussian_nll_loss"
    _check_reduction(reduction, op)
    target = _pair(input, target, op)
    if not isinstance(var, Tensor):
        xp = _arrays.array_module(input._data)
        var = _const(xp.full(tuple(input.shape), builtins.float(var), dtype=input._data.dtype))
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = ops.unsqueeze(var, -1)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise ValueError(f"{op}: var is of incorrect size {tuple(var.shape)} for input of size {tuple(input.shape)}")
    if var._data.size and builtins.bool((var._data < 0).any()):
        raise ValueError(f"{op}: var has negative entry/entries")
    # torch clamps a copy of var without recording it: the value is clamped, the gradient passes as identity
    xp = _arrays.array_module(var._data)
    var = add(var, _const((xp.maximum(var._data, eps) - var._data).astype(var._data.dtype)))
    d = sub(input, target)
    loss = mul(add(ops.log(var), div(mul(d, d), var)), 0.5)
    if full:
        loss = add(loss, 0.5 * math.log(2 * math.pi))
    return _reduce(loss, reduction)


# ---- margin and embedding losses ---------------------------------------------------------------------------------------

def _mask_of(target, cond_fn, like):
    return _const(cond_fn(target._data).astype(like._data.dtype))


@autocast_op("cosine_embedding_loss")
@_arrays.on_device_of  # raw target/weight arrays: run on the input's GPU
def cosine_embedding_loss(input1, input2, target, margin: float = 0.0, size_average=None, reduce=None,
                          reduction: str = "mean"):
    """``1 - cos(x1, x2)`` where target is 1, ``max(0, cos(x1, x2) - margin)`` where it is -1; inputs (N, D) or (D,)."""
    op = "cosine_embedding_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    for name, t in (("input1", input1), ("input2", input2), ("target", target)):
        _check_tensor(t, name, op)
    if input1.ndim not in (1, 2) or tuple(input1.shape) != tuple(input2.shape):
        raise RuntimeError(f"{op}: expected 1-D or 2-D inputs of equal shape, got {tuple(input1.shape)} and {tuple(input2.shape)}")
    if target.ndim != input1.ndim - 1:
        raise RuntimeError(f"{op}: expected target of {input1.ndim - 1}-D for inputs of shape {tuple(input1.shape)}, got {tuple(target.shape)}")
    dim = input1.ndim - 1
    eps = 1e-12
    prod = ops.sum(mul(input1, input2), dim)
    m1 = add(ops.sum(mul(input1, input1), dim), eps)
    m2 = add(ops.sum(mul(input2, input2), dim), eps)
    cos = div(prod, ops.sqrt(mul(m1, m2)))
    pos = mul(sub(1.0, cos), _mask_of(target, lambda t: t == 1, input1))
    negp = mul(ops.clamp(sub(cos, margin), min=0.0), _mask_of(target, lambda t: t == -1, input1))
    return _reduce(add(pos, negp), reduction)


@autocast_op("margin_ranking_loss")
@_arrays.on_device_of  # raw target/weight arrays: run on the input's GPU
def margin_ranking_loss(input1, input2, target, margin: float = 0.0, size_average=None, reduce=None,
                        reduction: str = "mean"):
    """``max(0, -target * (input1 - input2) + margin)``."""
    op = "margin_ranking_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    for name, t in (("input1", input1), ("input2", input2), ("target", target)):
        _check_tensor(t, name, op)
    if not (input1.ndim == input2.ndim == target.ndim):
        raise RuntimeError(
            f"{op}: All input tensors should have same dimension but got sizes: input1: {tuple(input1.shape)}, "
            f"input2: {tuple(input2.shape)}, target: {tuple(target.shape)}"
        )
    loss = ops.clamp(add(mul(neg(target), sub(input1, input2)), margin), min=0.0)
    return _reduce(loss, reduction)


@autocast_op("hinge_embedding_loss")
@_arrays.on_device_of  # raw target/weight arrays: run on the input's GPU
def hinge_embedding_loss(input, target, margin: float = 1.0, size_average=None, reduce=None, reduction: str = "mean"):
    """``input`` where target is 1, ``max(0, margin - input)`` where target is -1."""
    op = "hinge_embedding_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    _check_tensor(input, "input", op)
    _check_tensor(target, "target", op)
    _same_device(input, target, "target", op)
    xp = _arrays.array_module(input._data)
    try:
        shape = np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
    except ValueError:
        raise RuntimeError(f"{op}: The size of tensor input {tuple(input.shape)} must match the size of target "
                           f"{tuple(target.shape)}") from None
    t = xp.broadcast_to(target._data, shape)
    dt = input._data.dtype
    margin_part = mul(ops.clamp(sub(margin, input), min=0.0), _const((t != 1).astype(dt)))
    self_part = mul(input, _const((t != -1).astype(dt)))
    return _reduce(add(margin_part, self_part), reduction)


@autocast_op("soft_margin_loss")
@_arrays.on_device_of  # raw target/weight arrays: run on the input's GPU
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """``log(1 + exp(-target * input))`` (targets ±1), computed stably."""
    op = "soft_margin_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    target = _pair(input, target, op)
    return _reduce(neg(logsigmoid(mul(target, input))), reduction)


@_arrays.on_device_of  # raw target/weight arrays: run on the input's GPU
def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
    """Per-class logistic loss of (N, C) logits against 0/1 targets, averaged over C, then reduced over N."""
    op = "multilabel_soft_margin_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    target = _pair(input, target, op)
    loss = neg(add(mul(target, logsigmoid(input)), mul(sub(1.0, target), logsigmoid(neg(input)))))
    if weight is not None:
        _check_tensor(weight, "weight", op)
        loss = mul(loss, weight)
    cdim = input.ndim - 1
    loss = div(ops.sum(loss, cdim), input.shape[cdim])
    return _reduce(loss, reduction)


@autocast_op("multi_margin_loss")
@_arrays.on_device_of  # raw target/weight arrays: run on the input's GPU
def multi_margin_loss(input, target, p: int = 1, margin: float = 1.0, weight=None, size_average=None, reduce=None,
                      reduction: str = "mean"):
    """Multi-class hinge: ``sum_{j != y} max(0, margin - x[y] + x[j])^p / C`` for (N, C) or (C,) input."""
    op = "multi_margin_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 supported, got {p}")
    x2, t, out_shape = _class_layout(input, target, op)
    if input.ndim > 2:
        raise RuntimeError(f"{op}: expected 1-D or 2-D input, got shape {tuple(input.shape)}")
    m, c = x2.shape
    w = _class_weight(weight, c, op, input)
    _check_targets(t, c, None, op)
    xp = _arrays.array_module(x2._data)
    rows = xp.arange(m)
    picked = ops.reshape(ops.getitem(x2, (rows, t)), (m, 1))
    z = ops.clamp(add(sub(x2, picked), margin), min=0.0)
    if p == 2:
        z = mul(z, z)
    others = xp.ones((m, c), dtype=x2._data.dtype)
    others[rows, t] = 0.0
    if w is not None:
        others = others * w[t].astype(x2._data.dtype)[:, None]
    loss = div(ops.sum(mul(z, _const(others)), 1), c)
    if reduction == "none":
        return ops.reshape(loss, out_shape)
    return _reduce(loss, reduction)


@autocast_op("triplet_margin_loss")
@_arrays.on_device_of  # raw target/weight arrays: run on the input's GPU
def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2, eps: float = 1e-06,
                        swap: bool = False, size_average=None, reduce=None, reduction: str = "mean"):
    """``max(0, margin + d(a, p) - d(a, n))`` with ``d`` the pairwise p-norm distance; ``swap`` uses min(d(a, n), d(p, n))."""
    op = "triplet_margin_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    for name, t in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        _check_tensor(t, name, op)
    if not (anchor.ndim == positive.ndim == negative.ndim):
        raise RuntimeError(
            f"{op}: The anchor, positive, and negative tensors are expected to have the same number of dimensions, but got: "
            f"anchor {anchor.ndim}D, positive {positive.ndim}D, and negative {negative.ndim}D inputs"
        )
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = ops.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(ops.clamp(sub(add(d_pos, margin), d_neg), min=0.0), reduction)


@_arrays.on_device_of  # raw target/weight arrays: run on the input's GPU
def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean"):
    """``max(0, margin + d(a, p) - d(a, n))`` for any ``distance_function`` (default: pairwise_distance)."""
    op = "triplet_margin_with_distance_loss"
    _check_reduction(reduction, op)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    for name, t in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        _check_tensor(t, name, op)
    dist = pairwise_distance if distance_function is None else distance_function
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = ops.minimum(d_neg, dist(positive, negative))
    return _reduce(ops.clamp(sub(add(d_pos, margin), d_neg), min=0.0), reduction)


@autocast_op("multilabel_margin_loss")
@_arrays.on_device_of  # raw target/weight arrays: run on the input's GPU
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """Multi-label hinge for (N, C) or (C,) input: ``sum_{j in y, k not in y} max(0, 1 - (x[j] - x[k])) / C``.

    ``target`` (same shape, int64) lists each sample's classes, ended by the first -1.
    """
    op = "multilabel_margin_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    _check_tensor(input, "input", op)
    _check_tensor(target, "target", op)
    check_float(input, op)
    _same_device(input, target, "target", op)
    if input.ndim not in (1, 2) or tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"{op}: expected 1-D or 2-D input and a target of the same shape, got {tuple(input.shape)} and {tuple(target.shape)}")
    if target._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected an integer (Long) target, got {target.dtype}")
    x2 = ops.reshape(input, (1, -1)) if input.ndim == 1 else input
    m, c = x2.shape
    t = _arrays.as_numpy(target._data).reshape(m, c)
    if t.size and (t.max() >= c or t.min() < -1):
        raise RuntimeError(f"{op}: target values must be in [-1, {c - 1}], got min {t.min()} and max {t.max()}")
    is_target = np.zeros((m, c), dtype=bool)
    for i in range(m):  # the target list of row i ends at its first -1
        row = t[i]
        stop = np.flatnonzero(row < 0)
        labels = row[: stop[0]] if stop.size else row
        is_target[i, labels] = True
    pairs = (is_target[:, :, None] & ~is_target[:, None, :]).astype(x2._data.dtype)
    pairs = _arrays.to_device(pairs, input.device)
    z = add(sub(ops.unsqueeze(x2, 1), ops.unsqueeze(x2, 2)), 1.0)  # z[i, j, k] = 1 - x[i, j] + x[i, k]
    loss = div(ops.sum(mul(ops.clamp(z, min=0.0), _const(pairs)), (1, 2)), c)
    if input.ndim == 1:
        loss = ops.reshape(loss, ())
    return _reduce(loss, reduction)
