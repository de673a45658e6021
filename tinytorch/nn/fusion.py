"""Linear+activation and Conv2d+ReLU as single ops, used transparently by ``nn.Sequential``.

``linear_act(x, w, b, "relu" | "gelu" | "gelu_tanh")`` and ``conv2d_relu(x, w, b, ...)`` compute
the same values as ``relu(linear(x, w, b))`` / ``relu(conv2d(...))`` with one graph node instead of
two. Their first-order backward (``backward_arrays``) hands the activation gradient to the fused
CUDA kernels (``kernels.linear_act_backward``: activation and bias gradient in one pass over dY;
``kernels.conv2d_backward(relu_out=...)``: the ReLU mask as the kernel's prologue) and, where a
kernel does not apply (CPU, kernels off, unsupported dtype), runs the same math on ``xp``. Their
``backward`` is composed of tinytorch ops, so higher-order gradients work.

``Sequential.forward`` calls :func:`run_sequential`, which fuses a ``Linear`` directly followed by
``ReLU``/``GELU`` (and a ``Conv2d`` by ``ReLU``) when fusion is enabled and neither module has a
hook (a hook must see the intermediate tensor, so hooked modules run one by one). The environment
variable ``TINYTORCH_FUSION`` chooses: unset (default) fuses CUDA inputs only, ``1`` fuses on every
device, ``0`` never. CPU graphs therefore keep PyTorch's node names (``ReluBackward0`` ...) unless
asked otherwise: fusion gains 4-30 % there (see benchmarks/results/README.md), a fused kernel far more.
"""
from __future__ import annotations

import math
import os

import numpy as np

from .. import _arrays, ops
from ..autograd.function import OUTPUT, Function
from .._arrays import kernels
from .._arrays import special as _special
from ..ops import conv as _conv
from ..ops.activation import NormalCdf, _erf_array, _normal_pdf
from ..tensor import Tensor
from ..amp.autocast_mode import autocast_op
from .modules.activation import GELU, ReLU
from .modules.conv import Conv2d
from .modules.linear import Linear

__all__ = ["enabled", "linear_act", "conv2d_relu", "run_sequential", "ACTIVATIONS"]

ACTIVATIONS = ("relu", "gelu", "gelu_tanh")
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


def enabled() -> bool:
    """False when the environment sets ``TINYTORCH_FUSION=0`` (read at each call, so tests can flip it)."""
    return os.environ.get("TINYTORCH_FUSION", "") not in ("0", "false", "False")


def _fuse_on(input) -> bool:
    """Fuse for this input: always on CUDA; on the CPU only when ``TINYTORCH_FUSION=1`` asks for it."""
    if os.environ.get("TINYTORCH_FUSION", "") in ("1", "true", "True"):
        return True
    return _arrays.is_cupy_array(input._data)


# ---- activation math on arrays ---------------------------------------------------------------------

def _act_array(xp, z, activation):
    """act(z) for a fresh array z (relu works in place)."""
    if activation == "relu":
        return xp.maximum(z, 0, out=z)
    if activation == "gelu":
        return (z * _special.normal_cdf(z)).astype(z.dtype, copy=False)  # as F.gelu computes it
    th = xp.tanh(_SQRT_2_OVER_PI * (z + _GELU_C * z * z * z))
    return (0.5 * z * (1.0 + th)).astype(z.dtype, copy=False)


def _act_grad_array(xp, a, activation, grad):
    """act'(z) * grad; ``a`` is the ReLU output for relu (same sign as z) and z for the gelus."""
    if activation == "relu":
        return grad * (a > 0)
    if activation == "gelu":
        d = 0.5 * (1.0 + _erf_array(a * (1.0 / math.sqrt(2.0)))) + a * xp.exp(-0.5 * a * a) / math.sqrt(2 * math.pi)
    else:
        th = xp.tanh(_SQRT_2_OVER_PI * (a + _GELU_C * a * a * a))
        d = 0.5 * (1.0 + th) + 0.5 * a * (1.0 - th * th) * _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_C * a * a)
    return (grad * d).astype(grad.dtype, copy=False)


def _act_grad(z, y, activation, grad):
    """The same as ``_act_grad_array`` with tinytorch ops (z: the pre-activation as a differentiable tensor)."""
    if activation == "relu":
        return ops.where(ops.gt(y, 0), grad, 0.0)
    if activation == "gelu":
        d = ops.add(NormalCdf.apply(z), ops.mul(z, _normal_pdf(z)))
    else:
        th = ops.tanh(ops.mul(ops.add(z, ops.mul(ops.mul(ops.mul(z, z), z), _GELU_C)), _SQRT_2_OVER_PI))
        inner = ops.mul(ops.add(ops.mul(ops.mul(z, z), 3.0 * _GELU_C), 1.0), _SQRT_2_OVER_PI)
        d = ops.add(ops.mul(ops.add(th, 1.0), 0.5),
                    ops.mul(ops.mul(ops.mul(z, 0.5), ops.sub(1.0, ops.mul(th, th))), inner))
    return ops.mul(grad, d)


# ---- Linear + activation -------------------------------------------------------------------------

class LinearAct(Function):
    """``act(x @ W.T + b)``: x (*, in), W (out, in), b (out,) or None -> (*, out)."""

    @staticmethod
    def forward(ctx, x, w, b, activation):
        xp = ctx.xp
        ctx.activation = activation
        z = xp.matmul(x._data, w._data.T)
        if b is not None:
            z += b._data
        if activation == "relu":
            ctx.save_for_backward(x, w, b, OUTPUT)  # the mask is y > 0: no copy of z kept
            return _act_array(xp, z, activation)
        ctx.save_for_backward(x, w, b, Tensor._make(z))
        return _act_array(xp, z, activation)

    @staticmethod
    def backward(ctx, grad):
        x, w, b, a = ctx.saved_tensors
        act = ctx.activation
        # the gelus' derivative depends on z: rebuild it from x, w, b so a further backward reaches them
        z = None if act == "relu" else ops.linear(x, w, b)
        gz = _act_grad(z, a, act, grad)
        need = ctx.needs_input_grad
        gx = ops.matmul(gz, w) if need[0] else None
        gw = None
        if need[1]:
            g2 = ops.reshape(gz, (-1, gz.shape[-1]))
            gw = ops.matmul(ops.transpose(g2, 0, 1), ops.reshape(x, (-1, x.shape[-1])))
        gb = gz if b is not None and need[2] else None  # the engine sums the leading dims away
        return gx, gw, gb

    @staticmethod
    def backward_arrays(ctx, grad):
        x, w, b, a = ctx.saved_tensors
        xp, act, need = ctx.xp, ctx.activation, ctx.needs_input_grad
        need_bias = b is not None and need[2]
        got = kernels.linear_act_backward(grad, a._data, act, need_bias)
        if got is not None:
            gz, gb = got
        else:
            gz = _act_grad_array(xp, a._data, act, grad)
            gb = gz.reshape(-1, gz.shape[-1]).sum(0) if need_bias else None
        gx = xp.matmul(gz, w._data) if need[0] else None
        gw = None
        if need[1]:
            gw = xp.matmul(gz.reshape(-1, gz.shape[-1]).T, x._data.reshape(-1, x._data.shape[-1]))
        return gx, gw, gb


def _unfused_act(y, activation):
    if activation == "relu":
        return ops.relu(y)
    return ops.gelu(y, approximate="none" if activation == "gelu" else "tanh")


@autocast_op("linear")
def linear_act(input, weight, bias=None, activation: str = "relu"):
    """``activation(linear(input, weight, bias))`` as one op.

    input (*, in_features), weight (out_features, in_features), bias (out_features,) or None;
    activation ``"relu"``, ``"gelu"`` (erf form) or ``"gelu_tanh"``. Returns (*, out_features).
    Cases the fused op does not cover (1-D weight, odd bias shapes) run the unfused pair, which
    also reports invalid arguments.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"linear_act: activation must be one of {ACTIVATIONS}, got {activation!r}")
    simple = (isinstance(input, Tensor) and isinstance(weight, Tensor)
              and (bias is None or isinstance(bias, Tensor))
              and input._data.ndim >= 1 and weight._data.ndim == 2
              and input._data.shape[-1] == weight._data.shape[1]
              and input._data.dtype.kind == "f" and input._data.dtype == weight._data.dtype
              and (bias is None or (bias._data.shape == (weight._data.shape[0],)
                                    and bias._data.dtype == weight._data.dtype)))
    if not simple:
        return _unfused_act(ops.linear(input, weight, bias), activation)
    return LinearAct.apply(input, weight, bias, activation)


# ---- Conv2d + ReLU -------------------------------------------------------------------------------

class ConvReLU(Function):
    """``relu(conv2d(x, w, b))``: x (N, C, H, W), w (K, C/groups, R, S) -> (N, K, OH, OW)."""

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups, out_size):
        y = _conv.Conv2d.forward(ctx, x, w, b, stride, padding, dilation, groups, out_size)
        ctx.save_for_backward(x, w, OUTPUT)  # replaces Conv2d's (x, w): the output gives the ReLU mask
        return ctx.xp.maximum(y, 0, out=y)

    @staticmethod
    def backward(ctx, grad):
        x, w, y = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.geom
        need = ctx.needs_input_grad
        g = ops.where(ops.gt(y, 0), grad, 0.0)
        gx = _conv.ConvTranspose2d.apply(g, w, None, stride, padding, dilation, groups, ctx.x_size) if need[0] else None
        gw = _conv.Conv2dWeight.apply(x, g, ctx.w_shape[2:], stride, padding, dilation, groups) if need[1] else None
        gb = _conv._bias_grad(g) if need[2] else None
        return gx, gw, gb

    @staticmethod
    def backward_arrays(ctx, grad):
        x, w, y = ctx.saved_tensors
        xd, wd, yd = x._data, w._data, y._data
        stride, padding, dilation, groups = ctx.geom
        need = ctx.needs_input_grad
        got = kernels.conv2d_backward(xd, wd, grad, stride, padding, dilation, groups, need[0], need[1], need[2],
                                      relu_out=yd)
        if got is not None:
            return got
        xp = ctx.xp
        g = grad * (yd > 0)
        gx = _conv._conv_input_grad(xp, g, wd, ctx.x_size, stride, padding, dilation, groups) if need[0] else None
        gw = None
        if need[1]:
            gw = _conv._conv_weight_grad(xp, xd, g, ctx.w_shape[2:], stride, padding, dilation, groups)
        gb = g.sum(axis=(0, 2, 3)) if need[2] else None
        return gx, gw, gb


def _pair(v, minimum):
    """``v`` as a validated pair of ints (None when it is not one)."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        v = (int(v), int(v))
    if not (isinstance(v, (tuple, list)) and len(v) == 2
            and all(isinstance(e, (int, np.integer)) and not isinstance(e, bool) for e in v)):
        return None
    v = (int(v[0]), int(v[1]))
    return v if min(v) >= minimum else None


def _plain_conv_config(input, weight, bias, stride, padding, dilation, groups):
    """(stride, padding, dilation, groups, out_size) when ConvReLU covers the call, else None."""
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor) and (bias is None or isinstance(bias, Tensor))):
        return None
    x, w = input._data, weight._data
    if x.ndim != 4 or w.ndim != 4 or x.dtype.kind != "f" or x.dtype != w.dtype:
        return None
    if bias is not None and (bias._data.shape != (w.shape[0],) or bias._data.dtype != w.dtype):
        return None
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        return None
    groups = int(groups)
    if w.shape[0] % groups or w.shape[1] * groups != x.shape[1]:
        return None
    stride, padding, dilation = _pair(stride, 1), _pair(padding, 0), _pair(dilation, 1)
    if stride is None or padding is None or dilation is None:
        return None
    out_size = []
    for n, k, s, p, d in zip(x.shape[2:], w.shape[2:], stride, padding, dilation):
        if n + 2 * p < d * (k - 1) + 1:
            return None
        out_size.append((n + 2 * p - d * (k - 1) - 1) // s + 1)
    return stride, padding, dilation, groups, tuple(out_size)


@autocast_op("conv2d")
def conv2d_relu(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """``relu(conv2d(input, weight, bias, ...))`` as one op; arguments as ``conv2d``.

    input (N, C, H, W), weight (out_channels, C/groups, kH, kW), bias (out_channels,) or None.
    Calls the fused op does not cover (3-D input, string padding, invalid arguments) run the
    unfused pair, which also reports the errors.
    """
    cfg = _plain_conv_config(input, weight, bias, stride, padding, dilation, groups)
    if cfg is None:
        return ops.relu(_conv.conv2d(input, weight, bias, stride, padding, dilation, groups))
    return ConvReLU.apply(input, weight, bias, *cfg)


# ---- Sequential ----------------------------------------------------------------------------------

_types = {}


def _module_types():
    """(Linear, ReLU, GELU, Conv2d), imported on first use (nn.modules imports this module)."""
    if not _types:
        _types.update(Linear=Linear, ReLU=ReLU, GELU=GELU, Conv2d=Conv2d)
    return _types


def _hooked(m) -> bool:
    return bool(m._forward_hooks or m._forward_pre_hooks or m._backward_hooks)


def _try_fused(first, second, input):
    """The fused output of ``second(first(input))``, or None when the pair is not fusable."""
    t = _module_types()
    if type(second) is t["ReLU"]:
        activation = "relu"
    elif type(second) is t["GELU"]:
        activation = "gelu" if second.approximate == "none" else "gelu_tanh"
    else:
        return None
    if _hooked(first) or _hooked(second) or not isinstance(input, Tensor) or not _fuse_on(input):
        return None
    if type(first) is t["Linear"]:
        return linear_act(input, first.weight, first.bias, activation)
    if type(first) is t["Conv2d"] and activation == "relu":
        x, pad = first._pad_input(input)
        return conv2d_relu(x, first.weight, first.bias, first.stride, pad, first.dilation, first.groups)
    return None


def run_sequential(modules, input):
    """``Sequential.forward``: each module on the last output, fusable pairs as one op."""
    if not enabled():
        for m in modules:
            input = m(input)
        return input
    mods = list(modules)
    i, n = 0, len(mods)
    while i < n:
        if i + 1 < n:
            y = _try_fused(mods[i], mods[i + 1], input)
            if y is not None:
                input = y
                i += 2
                continue
        input = mods[i](input)
        i += 1
    return input
