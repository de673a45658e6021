"""Activation functions, dropout and scaled dot-product attention (``tinytorch.nn.functional``).

Pointwise activations compute their forward on raw arrays; their backward multiplies the
incoming gradient by the derivative written with tinytorch ops, so higher-order gradients
work. Piecewise-linear ones (hardtanh, leaky_relu, shrinks ...) keep only the slope array:
their second derivative is zero. relu/sigmoid/tanh and softmax/log_softmax live in the
elementwise and reduce families; relu, sigmoid and tanh are re-exported here for ``F``.
"""
from __future__ import annotations

import builtins
import math

from .. import _arrays
from .. import random as _random
from ..autograd import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import check_float, inplace, wrap_dim
from .convert import clone
from .elementwise import add, mul, div, neg, exp, sub
from .elementwise import relu, sigmoid, tanh  # re-exported for nn.functional
from .. import ops  # the package namespace: ops of other families are looked up at call time
from ..amp.autocast_mode import autocast_op
from .._arrays import special

__all__ = [
    "relu", "relu_", "sigmoid", "tanh", "relu6", "rrelu", "rrelu_", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_", "celu", "celu_", "gelu", "silu",
    "mish", "softplus", "softsign", "hardtanh", "hardtanh_", "hardsigmoid", "hardswish", "logsigmoid", "glu",
    "prelu", "threshold", "threshold_", "tanhshrink", "softshrink", "hardshrink", "softmin",
    "dropout", "alpha_dropout", "feature_alpha_dropout", "gumbel_softmax", "dropout1d", "dropout2d", "dropout3d", "scaled_dot_product_attention",
]

TENSOR_METHODS = ()

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _const(arr) -> Tensor:
    """A tensor that never requires grad (masks, slopes, targets)."""
    return Tensor._make(arr)


def _maybe_inplace(input, inplace_flag, compute, op):
    """``compute(input)``, or its in-place form when ``inplace_flag``.

    A recorded in-place op bumps ``input``'s version, which would invalidate it as a saved
    tensor of ``compute``'s own graph; so then the graph is built on a copy of ``input``.
    """
    if not inplace_flag:
        return compute(input)
    if grad_mode.is_grad_enabled() and input.requires_grad:
        src = clone(input)
        return inplace(input, lambda: compute(src), op + "_")
    return inplace(input, lambda: compute(input), op + "_")


# ---- piecewise-linear activations: forward and slope on arrays ------------------------------------

class PiecewiseLinear(Function):
    """``y = f(x)`` with a piecewise-constant slope; ``rule(xp, x) -> (y, slope)`` on arrays."""

    @staticmethod
    def forward(ctx, x, rule):
        y, slope = rule(ctx.xp, x._data)
        ctx.slope = slope
        return y

    @staticmethod
    def backward(ctx, grad):
        return mul(grad, _const(ctx.slope.astype(grad._data.dtype, copy=False))), None


def _float_input(input, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(input).__name__}")
    check_float(input, op)


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """Clamp to ``[min_val, max_val]``; gradient 1 strictly inside, 0 outside."""
    _float_input(input, "hardtanh")
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    lo, hi = float(min_val), float(max_val)

    def rule(xp, x):
        y = xp.clip(x, lo, hi).astype(x.dtype, copy=False)
        return y, ((x > lo) & (x < hi)).astype(x.dtype)

    return _maybe_inplace(input, inplace, lambda x: PiecewiseLinear.apply(x, rule), "hardtanh")


def hardtanh_(input, min_val: float = -1.0, max_val: float = 1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace: bool = False):
    """``min(max(input, 0), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """``input`` where positive, ``negative_slope * input`` elsewhere."""
    _float_input(input, "leaky_relu")
    s = float(negative_slope)

    def rule(xp, x):
        pos = x > 0
        slope = xp.where(pos, 1.0, s).astype(x.dtype)
        return x * slope, slope

    return _maybe_inplace(input, inplace, lambda x: PiecewiseLinear.apply(x, rule), "leaky_relu")


def leaky_relu_(input, negative_slope: float = 0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def relu_(input):
    """In-place ``relu``."""
    return inplace(input, lambda: relu(input), "relu_")


@_arrays.on_device_of
def rrelu(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False, inplace: bool = False):
    """Randomized leaky ReLU: negative slope drawn uniformly from [lower, upper] per element when training,
    ``(lower + upper) / 2`` otherwise."""
    _float_input(input, "rrelu")
    if lower > upper:
        raise RuntimeError(f"rrelu: lower bound ({lower}) should be less than or equal to upper bound ({upper})")
    if not training:
        return leaky_relu(input, (lower + upper) / 2.0, inplace)
    gen = _random.default_generator.for_device(input.device)
    xp = _arrays.array_module(input._data)
    slopes = xp.asarray(gen.uniform(lower, upper, size=tuple(input.shape))).astype(input._data.dtype)

    def rule(xp_, x):
        slope = xp_.where(x >= 0, 1.0, slopes).astype(x.dtype)
        return x * slope, slope

    return _maybe_inplace(input, inplace, lambda x: PiecewiseLinear.apply(x, rule), "rrelu")


def rrelu_(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False):
    return rrelu(input, lower, upper, training, inplace=True)


def threshold(input, threshold: float, value: float, inplace: bool = False):  # noqa: A002 - torch's names
    """``input`` where ``input > threshold``, ``value`` elsewhere."""
    _float_input(input, "threshold")
    th, val = float(threshold), float(value)

    def rule(xp, x):
        keep = x > th
        return xp.where(keep, x, val).astype(x.dtype, copy=False), keep.astype(x.dtype)

    return _maybe_inplace(input, inplace, lambda x: PiecewiseLinear.apply(x, rule), "threshold")


def threshold_(input, threshold: float, value: float):  # noqa: A002
    return globals()["threshold"](input, threshold, value, inplace=True)


def _check_lambd(lambd, op):
    if lambd < 0:
        raise RuntimeError(f"{op}: lambda must be greater or equal to 0, but found to be {lambd}.")
    return float(lambd)


def softshrink(input, lambd: float = 0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 in between."""
    _float_input(input, "softshrink")
    lam = _check_lambd(lambd, "softshrink")

    def rule(xp, x):
        out = (xp.abs(x) > lam)
        y = xp.where(out, x - xp.sign(x) * lam, 0.0).astype(x.dtype, copy=False)
        return y, out.astype(x.dtype)

    return PiecewiseLinear.apply(input, rule)


def hardshrink(input, lambd: float = 0.5):
    """``x`` where ``|x| > lambd``, 0 elsewhere."""
    _float_input(input, "hardshrink")
    lam = float(lambd)

    def rule(xp, x):
        out = (x > lam) | (x < -lam)
        return xp.where(out, x, 0.0).astype(x.dtype, copy=False), out.astype(x.dtype)

    return PiecewiseLinear.apply(input, rule)


def hardsigmoid(input, inplace: bool = False):
    """``relu6(x + 3) / 6``; gradient 1/6 strictly inside (-3, 3)."""
    _float_input(input, "hardsigmoid")

    def rule(xp, x):
        y = (xp.clip(x + 3.0, 0.0, 6.0) / 6.0).astype(x.dtype, copy=False)
        return y, (((x > -3.0) & (x < 3.0)) / 6.0).astype(x.dtype)

    return _maybe_inplace(input, inplace, lambda x: PiecewiseLinear.apply(x, rule), "hardsigmoid")


# ---- smooth activations -----------------------------------------------------------------------------

class EluFamily(Function):
    """``scale * x`` for x > 0, ``scale * alpha * (exp(input_scale * x) - 1)`` otherwise (elu, selu, celu)."""

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        ctx.save_for_backward(x)
        ctx.consts = (alpha, scale, input_scale)
        xp = ctx.xp
        a = x._data
        neg_part = xp.expm1(xp.minimum(a, 0) * input_scale) * (alpha * scale)
        return xp.where(a > 0, a * scale, neg_part).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        alpha, scale, input_scale = ctx.consts
        xp = ctx.xp
        pos = x._data > 0
        # exp of x with the positive side zeroed: no overflow there, and d/dx stays right on the negative side
        negmask = _const((~pos).astype(x._data.dtype))
        e = exp(mul(mul(x, negmask), input_scale))
        slope = add(mul(mul(e, negmask), alpha * scale * input_scale), _const(xp.where(pos, scale, 0.0).astype(x._data.dtype)))
        return mul(grad, slope), None, None, None


def elu(input, alpha: float = 1.0, inplace: bool = False):
    """``x`` for x > 0, ``alpha * (exp(x) - 1)`` otherwise."""
    _float_input(input, "elu")
    return _maybe_inplace(input, inplace, lambda x: EluFamily.apply(x, float(alpha), 1.0, 1.0), "elu")


def elu_(input, alpha: float = 1.0):
    return elu(input, alpha, inplace=True)


def selu(input, inplace: bool = False):
    """``scale * elu(x, alpha)`` with the self-normalizing constants (alpha≈1.6733, scale≈1.0507)."""
    _float_input(input, "selu")
    return _maybe_inplace(input, inplace, lambda x: EluFamily.apply(x, _SELU_ALPHA, _SELU_SCALE, 1.0), "selu")


def selu_(input):
    return selu(input, inplace=True)


def celu(input, alpha: float = 1.0, inplace: bool = False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    _float_input(input, "celu")
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError: alpha must not be 0")
    return _maybe_inplace(input, inplace, lambda x: EluFamily.apply(x, float(alpha), 1.0, 1.0 / float(alpha)), "celu")


def celu_(input, alpha: float = 1.0):
    return celu(input, alpha, inplace=True)


def _erf_array(a):
    return special.erf(a)


class NormalCdf(Function):
    """``Phi(x) = (1 + erf(x / sqrt(2))) / 2``, the standard normal CDF (gelu's gate)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)

        return special.normal_cdf(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return mul(grad, _normal_pdf(x))


def _normal_pdf(x):
    return mul(exp(mul(mul(x, x), -0.5)), 1.0 / math.sqrt(2.0 * math.pi))


class Gelu(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)

        a = x._data
        cdf = special.normal_cdf(a)
        if ctx.needs_input_grad[0]:  # kept for backward_arrays: recomputing Phi costs ~20 passes over x
            ctx.cdf = cdf
            return (cdf * a).astype(a.dtype, copy=False)
        cdf *= a  # x * Phi(x), in place on the fresh Phi array
        return cdf.astype(a.dtype, copy=False)  # bfloat16 Phi comes back wider

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # d/dx x*Phi(x) = Phi(x) + x*phi(x)
        return mul(grad, add(NormalCdf.apply(x), mul(x, _normal_pdf(x))))

    @staticmethod
    def backward_arrays(ctx, grad):
        (a,) = ctx.saved_arrays
        cdf = getattr(ctx, "cdf", None)
        # a fresh array: the rest of the gradient is added into it in place
        d = special.normal_cdf(a) if cdf is None else cdf.copy()
        t = a * a
        t *= -0.5
        ctx.xp.exp(t, out=t)
        t *= 1.0 / math.sqrt(2.0 * math.pi)
        t *= a  # x * phi(x)
        d += t
        d *= grad
        return d.astype(grad.dtype, copy=False)


def gelu(input, approximate: str = "none"):
    """``x * Phi(x)`` (``approximate='none'``) or its tanh approximation (``'tanh'``)."""
    _float_input(input, "gelu")
    if approximate == "none":
        return Gelu.apply(input)
    if approximate == "tanh":
        # 0.5 * (1 + tanh(u)) == sigmoid(2u), u = sqrt(2/pi) * (x + 0.044715 x^3)
        k = 2.0 * math.sqrt(2.0 / math.pi)
        u = mul(add(input, mul(mul(mul(input, input), input), 0.044715)), k)
        return mul(input, ops.sigmoid(u))
    raise RuntimeError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input, inplace: bool = False):
    """``x * sigmoid(x)`` (swish)."""
    _float_input(input, "silu")
    return _maybe_inplace(input, inplace, lambda x: mul(x, ops.sigmoid(x)), "silu")


class Softplus(Function):
    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        xp = ctx.xp
        a = x._data
        bx = a * beta
        linear = bx > threshold
        # log(1 + e^z) = max(z, 0) + log1p(e^-|z|): finite for any z
        soft = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / beta
        return xp.where(linear, a, soft).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        linear = (x._data * ctx.beta) > ctx.threshold
        soft = _const((~linear).astype(x._data.dtype))
        slope = add(mul(ops.sigmoid(mul(x, ctx.beta)), soft), _const(linear.astype(x._data.dtype)))
        return mul(grad, slope), None, None


def softplus(input, beta: float = 1.0, threshold: float = 20.0):  # noqa: A002
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""
    _float_input(input, "softplus")
    if beta == 0:
        raise ValueError("softplus: beta must be non-zero")
    return Softplus.apply(input, float(beta), float(threshold))


class LogSigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xp = ctx.xp
        a = x._data
        return (xp.minimum(a, 0) - xp.log1p(xp.exp(-xp.abs(a)))).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return mul(grad, ops.sigmoid(neg(x)))


def logsigmoid(input):
    """``log(sigmoid(x))``, finite for any x."""
    _float_input(input, "logsigmoid")
    return LogSigmoid.apply(input)


def mish(input, inplace: bool = False):
    """``x * tanh(softplus(x))``."""
    _float_input(input, "mish")
    return _maybe_inplace(input, inplace, lambda x: mul(x, ops.tanh(softplus(x))), "mish")


def softsign(input):
    """``x / (1 + |x|)``."""
    _float_input(input, "softsign")
    return div(input, add(ops.abs(input), 1.0))


def tanhshrink(input):
    """``x - tanh(x)``."""
    _float_input(input, "tanhshrink")
    return sub(input, ops.tanh(input))


class HardSwish(Function):
    _node_name = "HardswishBackward0"  # torch's grad_fn name

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        a = x._data
        return (a * ctx.xp.clip(a + 3.0, 0.0, 6.0) / 6.0).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        a = x._data
        # torch's convention at the kinks: slope 0 for x < -3, x/3 + 1/2 up to 3 included, 1 beyond
        mid = _const(((a >= -3.0) & (a <= 3.0)).astype(a.dtype))
        hi = _const((a > 3.0).astype(a.dtype))
        slope = add(mul(add(mul(x, 1.0 / 3.0), 0.5), mid), hi)
        return mul(grad, slope)


def hardswish(input, inplace: bool = False):
    """``x * relu6(x + 3) / 6``."""
    _float_input(input, "hardswish")
    return _maybe_inplace(input, inplace, lambda x: HardSwish.apply(x), "hardswish")


def glu(input, dim: int = -1):
    """Gated linear unit: split ``input`` in halves ``a, b`` along ``dim``; ``a * sigmoid(b)``."""
    _float_input(input, "glu")
    if input.ndim == 0:
        raise RuntimeError("glu: does not support scalars because halving size must be even")
    d = wrap_dim(dim, input.ndim, "glu")
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {d} is size {n} (input shape {tuple(input.shape)})")
    lead = (slice(None),) * d
    a = ops.getitem(input, lead + (slice(0, n // 2),))
    b = ops.getitem(input, lead + (slice(n // 2, n),))
    return mul(a, ops.sigmoid(b))


@autocast_op("prelu")
def prelu(input, weight):
    """``x`` where positive, ``weight * x`` elsewhere; ``weight`` has 1 or C (= input.shape[1]) elements."""
    _float_input(input, "prelu")
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu: expected weight to be a Tensor, got {type(weight).__name__}")
    nw = weight.numel()
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: weight must be 0-D or 1-D, got shape {tuple(weight.shape)}")
    if nw != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if nw != channels:
            raise RuntimeError(
                f"prelu: Mismatch of parameter numbers and input channel size. Found parameter numbers = {nw} and "
                f"channel size = {channels} (input shape {tuple(input.shape)})."
            )
        w = ops.reshape(weight, (1, nw) + (1,) * (input.ndim - 2))
    else:
        w = weight
    return ops.where(ops.gt(input, 0), input, mul(input, w))


@autocast_op("softmin")
def softmin(input, dim=None, _stacklevel: int = 3, dtype=None):
    """``softmax(-input, dim)``."""
    if dim is None:
        # torch's legacy implicit choice: dim 0 for 0-D, 1-D and 3-D inputs, else dim 1
        dim = 0 if input.ndim in (0, 1, 3) else 1
    x = neg(input)
    return ops.softmax(x, dim, dtype=dtype) if dtype is not None else ops.softmax(x, dim)


# ---- dropout -------------------------------------------------------------------------------------------

def _check_p(p, op):
    if not isinstance(p, (int, float)) or p < 0.0 or p > 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _keep_mask(input, shape, p):
    """Bernoulli(1 - p) keep mask of ``shape`` in input's dtype, drawn from the default generator on its device."""
    gen = _random.default_generator.for_device(input.device)
    u = gen.uniform(0.0, 1.0, size=tuple(shape))
    xp = _arrays.array_module(input._data)
    return xp.asarray(u >= p).astype(input._data.dtype)


class ScaleByMask(Function):
    """``x * m`` for a fixed array ``m`` (broadcastable to x): dropout's op."""

    @staticmethod
    def forward(ctx, x, m):
        ctx.m = m
        return (x._data * m).astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return mul(grad, _const(ctx.m.astype(grad._data.dtype, copy=False))), None


@_arrays.on_device_of
def _dropout_impl(input, p, training, inplace_flag, op, mask_shape):
    _float_input(input, op)
    p = _check_p(p, op)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        m = _arrays.array_module(input._data).zeros(mask_shape, dtype=input._data.dtype)
    else:
        m = _keep_mask(input, mask_shape, p) * (1.0 / (1.0 - p))
        m = m.astype(input._data.dtype, copy=False)
    return _maybe_inplace(input, inplace_flag, lambda x: ScaleByMask.apply(x, m), op)


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``; identity when not training."""
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout(): argument 'input' must be Tensor, not {type(input).__name__}")
    return _dropout_impl(input, p, training, inplace, "dropout", tuple(input.shape))


def _feature_dropout(input, p, training, inplace_flag, op, spatial):
    """Zero whole channels: input (N, C, *spatial) or unbatched (C, *spatial)."""
    if input.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(
            f"{op}: Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) input, but received "
            f"input of shape {tuple(input.shape)}"
        )
    lead = input.ndim - spatial
    mask_shape = tuple(input.shape[:lead]) + (1,) * spatial
    return _dropout_impl(input, p, training, inplace_flag, op, mask_shape)


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Channel dropout for (N, C, L) or (C, L) inputs."""
    return _feature_dropout(input, p, training, inplace, "dropout1d", 1)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Channel dropout for (N, C, H, W) or (C, H, W) inputs."""
    return _feature_dropout(input, p, training, inplace, "dropout2d", 2)


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Channel dropout for (N, C, D, H, W) or (C, D, H, W) inputs."""
    return _feature_dropout(input, p, training, inplace, "dropout3d", 3)


def _alpha_dropout_impl(input, p, training, inplace_flag, op, mask_shape):
    _float_input(input, op)
    p = _check_p(p, op)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _maybe_inplace(input, inplace_flag, lambda x: mul(x, 0.0), op)
    alpha = _SELU_ALPHA * _SELU_SCALE
    a = 1.0 / math.sqrt((alpha * alpha * p + 1.0) * (1.0 - p))
    keep = _keep_mask(input, mask_shape, p)
    b = ((keep - 1.0) * (alpha * a) + alpha * a * p).astype(input._data.dtype, copy=False)
    m = (keep * a).astype(input._data.dtype, copy=False)
    return _maybe_inplace(input, inplace_flag, lambda x: add(ScaleByMask.apply(x, m), _const(b)), op)


def alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False):
    """Dropout that keeps SELU's zero mean and unit variance: dropped units go to selu's negative saturation."""
    return _alpha_dropout_impl(input, p, training, inplace, "alpha_dropout", tuple(input.shape))


def feature_alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False):
    """``alpha_dropout`` of whole channels of (N, C, *) input."""
    _float_input(input, "feature_alpha_dropout")
    mask_shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _alpha_dropout_impl(input, p, training, inplace, "feature_alpha_dropout", mask_shape)


def gumbel_softmax(logits, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1):
    """A sample of the Gumbel-softmax distribution: ``softmax((logits + g) / tau)``, g ~ Gumbel(0, 1).

    ``hard=True`` returns one-hot samples whose gradient is the soft sample's (straight-through).
    """
    _float_input(logits, "gumbel_softmax")
    if tau <= 0:
        raise ValueError(f"gumbel_softmax: tau must be positive, got {tau}")
    d = wrap_dim(dim, logits.ndim, "gumbel_softmax")
    gen = _random.default_generator.for_device(logits.device)
    xp = _arrays.array_module(logits._data)
    g = -xp.log(xp.asarray(gen.exponential(1.0, size=tuple(logits.shape)))).astype(logits._data.dtype)
    y = ops.softmax(div(add(logits, _const(g)), float(tau)), d)
    if not hard:
        return y
    shape = [1] * logits.ndim
    shape[d] = logits.shape[d]
    idx = xp.expand_dims(xp.argmax(y._data, axis=d), d)
    onehot = (idx == xp.arange(logits.shape[d]).reshape(shape)).astype(logits._data.dtype)
    return add(sub(_const(onehot), y.detach()), y)


# ---- attention ---------------------------------------------------------------------------------------------

@autocast_op("scaled_dot_product_attention")
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0, is_causal: bool = False,
                                 scale=None, enable_gqa: bool = False):
    """``softmax(Q K^T * scale + mask) V`` over the last two dims.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev). ``attn_mask``
    broadcastable to (..., L, S): bool (True = may attend) or float (added to the scores).
    ``is_causal`` masks position j > i. ``scale`` defaults to 1/sqrt(E).
    """
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise RuntimeError(f"{op}: expected {name} with at least 2 dims (..., L, E), got shape {tuple(t.shape)}")
        check_float(t, op)
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(
            f"{op}: query and key must share the embedding size, got query {tuple(query.shape)} and key {tuple(key.shape)}"
        )
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"{op}: key and value must have the same sequence length, got key {tuple(key.shape)} and value {tuple(value.shape)}"
        )
    if is_causal and attn_mask is not None:
        raise RuntimeError(f"{op}: Explicit attn_mask should not be set when is_causal=True")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        key, value = _repeat_kv(key, query.shape[-3], op), _repeat_kv(value, query.shape[-3], op)
    L, S = query.shape[-2], key.shape[-2]
    s = (1.0 / math.sqrt(query.shape[-1])) if scale is None else float(scale)
    scores = mul(ops.matmul(query, ops.transpose(key, -2, -1)), s)
    xp = _arrays.array_module(query._data)
    dt = scores._data.dtype
    bias = None
    # masks are built with ops (not raw arrays) so that a traced forward (onnx.export) can follow their size
    if is_causal:
        allowed = ops.tril(Tensor._make(xp.ones((L, S), dtype=bool)))
        bias = ops.masked_fill(Tensor._make(xp.zeros((L, S), dtype=dt)), ops.logical_not(allowed), -math.inf)
    elif attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            raise TypeError(f"{op}: attn_mask must be a Tensor or None, got {type(attn_mask).__name__}")
        if attn_mask._data.dtype.kind == "b":
            zeros = Tensor._make(xp.zeros(attn_mask._data.shape, dtype=dt))
            bias = ops.masked_fill(zeros, ops.logical_not(attn_mask), -math.inf)
        else:
            bias = attn_mask
    empty = None
    if bias is not None:
        # rows that may attend to nothing give zeros, as torch's safe softmax does, instead of NaN
        full = xp.isneginf(bias._data).all(axis=-1, keepdims=True)
        if builtins.bool(full.any()):
            empty = full
            bias = ops.where(_const(xp.broadcast_to(full, bias._data.shape)), _const(xp.zeros((), dtype=dt)), bias)
        scores = add(scores, bias)
    attn = ops.softmax(scores, -1)
    if empty is not None:
        attn = mul(attn, _const((~empty).astype(dt)))
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, training=True)
    return ops.matmul(attn, value)


def _repeat_kv(t, heads, op):
    """(..., Hkv, S, E) -> (..., heads, S, E), each kv head shared by heads // Hkv query heads."""
    hkv = t.shape[-3]
    if heads % hkv:
        raise RuntimeError(f"{op}: number of query heads ({heads}) must be divisible by key/value heads ({hkv})")
    lead = tuple(t.shape[:-3])
    g = heads // hkv
    e = ops.expand(ops.reshape(t, lead + (hkv, 1) + tuple(t.shape[-2:])), lead + (hkv, g) + tuple(t.shape[-2:]))
    return ops.reshape(e, lead + (heads,) + tuple(t.shape[-2:]))
