"""Elementwise ops: arithmetic, unary math, comparisons and logic.

Binary ops promote their operands with PyTorch's rules (``binary_operands``) and return
gradients in the broadcast output shape; the engine sums them back to each input's shape.
Float functions (``exp``, ``sin`` ...) turn integer and bool inputs into the default float
dtype first, as torch does. Rounding ops (``floor``, ``sign`` ...) are recorded with a zero
gradient; comparisons and logical ops return bool tensors, which never require grad.
"""
from __future__ import annotations

import builtins
import math

import numpy as np

from .. import _dtype as dtypes
from ..autograd import grad_mode
from ..autograd.function import Function, OUTPUT
from .._arrays import special as _special
from ..tensor import Tensor
from . import _common
from ._common import binary_operands, is_scalar, quiet
from .registry import OpInfo, SampleInput, register, randn, positive, away_from
from .convert import to_dtype
from .. import _arrays

__all__ = [
    "add", "sub", "mul", "div", "floor_divide", "remainder", "fmod", "pow", "neg", "abs", "reciprocal",
    "eq", "ne", "lt", "le", "gt", "ge", "isclose", "allclose", "equal",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
    "logical_and", "logical_or", "logical_xor", "logical_not",
    "exp", "exp2", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "square",
    "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "sigmoid", "relu",
    "erf", "erfc", "erfinv", "sign", "floor", "ceil", "round", "trunc", "frac",
    "clamp", "clip", "clamp_min", "clamp_max", "maximum", "minimum", "fmax", "fmin", "where",
    "isnan", "isinf", "isfinite", "isposinf", "isneginf", "nan_to_num",
    "lerp", "addcmul", "addcdiv", "hypot", "logaddexp", "copysign",
    "subtract", "multiply", "divide", "true_divide", "negative", "absolute", "arctan2", "fix",
    "greater", "greater_equal", "less", "less_equal", "not_equal",
]

TENSOR_METHODS = tuple(__all__)  # every function here is also a Tensor method


_quiet = quiet  # a no-op (Function.apply silences NumPy's FP warnings); the unary forwards still say it


# ---- arithmetic ----------------------------------------------------------------------------------

# The arithmetic ops below run on every tiny step of a model, so they have backward_arrays fast paths
# (first-order only). Function.apply and the engine silence NumPy's inf/nan warnings around them.

class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a._data + b._data

    @staticmethod
    def backward(ctx, grad):
        return grad, grad

    @staticmethod
    def backward_arrays(ctx, grad):
        return grad, grad


def add(input, other, *, alpha=1):
    """``input + alpha * other`` with broadcasting and type promotion."""
    a, b, _ = binary_operands(input, other, "add")
    if alpha != 1:
        b = mul(b, alpha)
    return Add.apply(a, b)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a._data - b._data

    @staticmethod
    def backward(ctx, grad):
        return grad, (neg(grad) if ctx.needs_input_grad[1] else None)

    @staticmethod
    def backward_arrays(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


def _is_bool_operand(x):
    return isinstance(x, builtins.bool) or (isinstance(x, Tensor) and x._data.dtype.kind == "b")


def sub(input, other, *, alpha=1):
    """``input - alpha * other``."""
    a, b, dt = binary_operands(input, other, "sub")
    if dt.name == "bool":
        raise RuntimeError("sub: Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if _is_bool_operand(input) or _is_bool_operand(other):  # torch refuses any bool operand, not only two
        raise RuntimeError("sub: Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                           "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    if alpha != 1:
        b = mul(b, alpha)
    return Sub.apply(a, b)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[0] else None)
        return a._data * b._data

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (mul(grad, b) if ctx.needs_input_grad[0] else None,
                mul(grad, a) if ctx.needs_input_grad[1] else None)

    @staticmethod
    def backward_arrays(ctx, grad):
        a, b = ctx.saved_arrays
        return (grad * b if ctx.needs_input_grad[0] else None,
                grad * a if ctx.needs_input_grad[1] else None)


def mul(input, other):
    """Elementwise product with broadcasting."""
    a, b, _ = binary_operands(input, other, "mul")
    return Mul.apply(a, b)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        # the output, not a, is saved for b's gradient (-grad * y / b), so y.div_(t) works as in torch
        ctx.save_for_backward(OUTPUT if ctx.needs_input_grad[1] else None, b)
        return a._data / b._data

    @staticmethod
    def backward(ctx, grad):
        y, b = ctx.saved_tensors
        ga = div(grad, b) if ctx.needs_input_grad[0] else None
        gb = neg(div(mul(grad, y), b)) if ctx.needs_input_grad[1] else None
        return ga, gb

    @staticmethod
    def backward_arrays(ctx, grad):
        y, b = ctx.saved_arrays
        ga = grad / b if ctx.needs_input_grad[0] else None
        gb = -(grad * y / b) if ctx.needs_input_grad[1] else None
        return ga, gb


def div(input, other, *, rounding_mode=None):
    """True division (``rounding_mode=None``), or ``'trunc'``/``'floor'`` rounding."""
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        return trunc(div(input, other)) if _is_float(input, other) else _int_trunc_div(input, other)
    if rounding_mode is not None:
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    a, b, _ = binary_operands(input, other, "div", float_result=True)
    return Div.apply(a, b)


class _ZeroGrad(Function):
    """Piecewise-constant ops (floor, sign, floor division ...): recorded, with zero gradients."""

    @staticmethod
    def forward(ctx, fn, *args):
        return fn(ctx.xp, *[a._data if isinstance(a, Tensor) else a for a in args])

    @staticmethod
    def backward(ctx, grad):
        z = _zeros_like(grad)
        return (None,) + tuple(z for _ in ctx.needs_input_grad[1:])


class _NonDiff(Function):
    """Ops with bool/integer results (comparisons, logic, bit ops): never part of a gradient."""

    @staticmethod
    def forward(ctx, fn, *args):
        return fn(ctx.xp, *[a._data if isinstance(a, Tensor) else a for a in args])


def _check_int_zero_division(b, dt, op):
    if not dt.is_floating_point and bool((b._data == 0).any()):
        raise RuntimeError(f"{op}: ZeroDivisionError (integer division by zero)")


def floor_divide(input, other):
    """``input // other`` rounded toward negative infinity (Python's ``//``); zero gradient."""
    a, b, dt = binary_operands(input, other, "floor_divide")
    if dt.name == "bool":
        raise TypeError("floor_divide: not supported for two bool operands")
    _check_int_zero_division(b, dt, "floor_divide")
    return _ZeroGrad.apply(lambda xp, x, y: xp.floor_divide(x, y), a, b)


def _int_trunc_div(input, other):
    a, b, dt = binary_operands(input, other, "div")
    _check_int_zero_division(b, dt, "div")

    def trunc_div(xp, x, y):
        q = xp.floor_divide(x, y)
        # floor and trunc differ by one when the exact quotient is negative and not whole
        fix_up = (q * y != x) & ((x < 0) != (y < 0))
        return q + fix_up.astype(q.dtype)

    return _NonDiff.apply(trunc_div, a, b)


class Remainder(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[1] else None)
        return ctx.xp.remainder(a._data, b._data)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        gb = neg(mul(grad, floor_divide(a, b))) if ctx.needs_input_grad[1] else None
        return grad, gb


def remainder(input, other):
    """``input % other`` with the sign of ``other`` (Python's ``%``)."""
    a, b, dt = binary_operands(input, other, "remainder")
    _check_int_zero_division(b, dt, "remainder")
    return Remainder.apply(a, b)


class Fmod(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[1] else None)
        return ctx.xp.fmod(a._data, b._data)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        gb = neg(mul(grad, trunc(div(a, b)))) if ctx.needs_input_grad[1] else None
        return grad, gb


def fmod(input, other):
    """C's ``fmod``: the remainder with the sign of ``input``."""
    a, b, dt = binary_operands(input, other, "fmod")
    _check_int_zero_division(b, dt, "fmod")
    return Fmod.apply(a, b)


# ---- powers ------------------------------------------------------------------------------------------

class Pow(Function):
    """tensor ** tensor."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b, OUTPUT if ctx.needs_input_grad[1] else None)
        return ctx.xp.power(a._data, b._data)

    @staticmethod
    def backward(ctx, grad):
        a, b, y = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            # torch defines it as 0 where b == 0 (0 * 0**-1 would be NaN)
            ga = mul(grad, where(eq(b, 0), 0.0, mul(b, pow(a, sub(b, 1)))))
        if ctx.needs_input_grad[1]:
            # d/db a**b = a**b log(a); torch defines it as 0 where a == 0 and b >= 0
            mask = logical_and(eq(a, 0), ge(b, 0))
            gb = mul(grad, where(mask, 0.0, mul(y, log(a))))
        return ga, gb


class PowScalar(Function):
    """tensor ** number."""

    @staticmethod
    def forward(ctx, a, exponent):
        ctx.exponent = exponent
        ctx.save_for_backward(a)
        return ctx.xp.power(a._data, exponent).astype(a._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        e = ctx.exponent
        if e == 0:
            return _zeros_like(grad), None
        return mul(grad, mul(pow(a, e - 1), e)), None


class ScalarPow(Function):
    """number ** tensor."""

    @staticmethod
    def forward(ctx, base, b):
        ctx.log_base = math.log(base) if base > 0 else (float("-inf") if base == 0 else float("nan"))
        ctx.base = base
        ctx.save_for_backward(OUTPUT)
        return ctx.xp.power(b._data.dtype.type(base), b._data)

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        if ctx.base == 0:
            return None, _zeros_like(grad)
        return None, mul(grad, mul(y, ctx.log_base))


def _check_int_pow(a, b, dt):
    if dt.is_floating_point:
        return
    neg_exp = (b < 0) if is_scalar(b) else builtins.bool((b._data < 0).any())
    if neg_exp:
        raise RuntimeError("pow: Integers to negative integer powers are not allowed.")


def pow(input, exponent):  # noqa: A001 - torch's name
    """``input ** exponent``; either may be a number (``2 ** t`` and ``t ** 0.5`` both work)."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(f"pow: expected at least one Tensor, got {type(input).__name__} and {type(exponent).__name__}")
    dt = dtypes.result_type(input, exponent)

    if isinstance(input, Tensor) and is_scalar(exponent):
        _check_int_pow(input, exponent, dt)
        if dt.name == "bool":
            dt = dtypes.int64
        return PowScalar.apply(to_dtype(input, dt), exponent)
    if is_scalar(input):
        exp_t = to_dtype(exponent, dt)
        _check_int_pow(input, exp_t, dt)
        return ScalarPow.apply(input, exp_t)
    a, b, dt = binary_operands(input, exponent, "pow")
    _check_int_pow(a, b, dt)
    return Pow.apply(a, b)


def square(input):
    """``input * input`` (integer inputs stay integer)."""
    _check_tensor(input, "square")
    return pow(input, 2)


def reciprocal(input):
    """``1 / input``; integer inputs give floats."""
    _check_tensor(input, "reciprocal")
    return Reciprocal.apply(_floatify(input))


class Reciprocal(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(OUTPUT)
        return 1.0 / x._data

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return neg(mul(grad, mul(y, y)))


# ---- sign and magnitude --------------------------------------------------------------------------------

class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x._data

    @staticmethod
    def backward(ctx, grad):
        return neg(grad)


def neg(input):
    """``-input``."""
    _check_tensor(input, "neg")
    if input._data.dtype.kind == "b":
        raise RuntimeError("neg: Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
                           "to invert a mask, use the `~` or `logical_not()` operator instead.")
    return Neg.apply(input)


class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.abs(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return mul(grad, sign(x))


def abs(input):  # noqa: A001 - torch's name
    """``|input|`` (gradient ``sign(input)``, so 0 at 0 as in torch)."""
    _check_tensor(input, "abs")
    if input._data.dtype.kind == "b":
        return _NonDiff.apply(lambda xp, x: x.copy(), input)
    return Abs.apply(input)


def sign(input):
    """-1, 0 or 1 elementwise, in ``input``'s dtype (zero gradient)."""
    _check_tensor(input, "sign")
    return _ZeroGrad.apply(lambda xp, x: xp.sign(x), input)


def _rounding(name, fn):
    def op(input):
        _check_tensor(input, name)
        if input._data.dtype.kind in "biu":
            return _NonDiff.apply(lambda xp, x: x.copy(), input)  # whole numbers already
        return _ZeroGrad.apply(fn, input)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``{name}`` elementwise; integer inputs are returned unchanged (zero gradient)."
    return op


floor = _rounding("floor", lambda xp, x: xp.floor(x))
ceil = _rounding("ceil", lambda xp, x: xp.ceil(x))
trunc = _rounding("trunc", lambda xp, x: xp.trunc(x))
fix = _rounding("fix", lambda xp, x: xp.trunc(x))


def round(input, *, decimals=0):  # noqa: A001 - torch's name
    """Round half to even, optionally to ``decimals`` decimal places (zero gradient)."""
    _check_tensor(input, "round")
    if not isinstance(decimals, (builtins.int, np.integer)):
        raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__}")
    if input._data.dtype.kind in "biu" and decimals >= 0:
        return _NonDiff.apply(lambda xp, x: x.copy(), input)
    return _ZeroGrad.apply(lambda xp, x: xp.round(x, builtins.int(decimals)), input)


def frac(input):
    """``input - trunc(input)`` (gradient 1)."""
    _check_tensor(input, "frac")
    if input._data.dtype.kind not in "fV":
        raise TypeError(f"frac: expected a floating point tensor, got {input.dtype}")
    return sub(input, trunc(input))


# ---- unary float functions ------------------------------------------------------------------------------

class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(OUTPUT)
        with _quiet():
            return ctx.xp.exp(x._data)

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return mul(grad, y)


class Exp2(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(OUTPUT)
        with _quiet():
            return ctx.xp.exp2(x._data)

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return mul(grad, mul(y, math.log(2.0)))


class Expm1(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(OUTPUT)
        with _quiet():
            return ctx.xp.expm1(x._data)

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return mul(grad, add(y, 1.0))


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with _quiet():
            return ctx.xp.log(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return div(grad, x)


class Log1p(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with _quiet():
            return ctx.xp.log1p(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return div(grad, add(x, 1.0))


class LogBase(Function):
    """log2 / log10: ``ctx.fn`` is the xp function, ``ctx.ln_base`` the natural log of the base."""

    @staticmethod
    def forward(ctx, x, fn, ln_base):
        ctx.ln_base = ln_base
        ctx.save_for_backward(x)
        with _quiet():
            return fn(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return div(grad, mul(x, ctx.ln_base)), None, None


class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(OUTPUT)
        with _quiet():
            return ctx.xp.sqrt(x._data)

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return div(grad, mul(y, 2.0))


class Rsqrt(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(OUTPUT)
        with _quiet():
            return 1.0 / ctx.xp.sqrt(x._data)

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return mul(grad, mul(pow(y, 3), -0.5))


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.sin(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return mul(grad, cos(x))


class Cos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.cos(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return neg(mul(grad, sin(x)))


class Tan(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(OUTPUT)
        return ctx.xp.tan(x._data)

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return mul(grad, add(mul(y, y), 1.0))


class Asin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with _quiet():
            return ctx.xp.arcsin(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return mul(grad, rsqrt(sub(1.0, mul(x, x))))


class Acos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with _quiet():
            return ctx.xp.arccos(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return neg(mul(grad, rsqrt(sub(1.0, mul(x, x)))))


class Atan(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.arctan(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return div(grad, add(mul(x, x), 1.0))


class Sinh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with _quiet():
            return ctx.xp.sinh(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return mul(grad, cosh(x))


class Cosh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with _quiet():
            return ctx.xp.cosh(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return mul(grad, sinh(x))


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(OUTPUT)
        return ctx.xp.tanh(x._data)

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return mul(grad, sub(1.0, mul(y, y)))

    @staticmethod
    def backward_arrays(ctx, grad):
        y = ctx.saved_tensors[0]._data  # unpacking checks the version counter
        return grad * (1 - y * y)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(OUTPUT)
        xp = ctx.xp
        xd = x._data
        # exp of a non-positive number only, so no overflow for large |x|
        e = xp.exp(-xp.abs(xd))
        return xp.where(xd >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(xd.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return mul(grad, mul(y, sub(1.0, y)))

    @staticmethod
    def backward_arrays(ctx, grad):
        y = ctx.saved_tensors[0]._data  # unpacking checks the version counter
        return grad * y * (1 - y)


class Relu(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(OUTPUT)
        return ctx.xp.maximum(x._data, 0).astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return where(gt(y, 0), grad, 0.0)

    @staticmethod
    def backward_arrays(ctx, grad):
        y = ctx.saved_tensors[0]._data  # unpacking checks the version counter
        return grad * (y > 0)


class Erf(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _special.erf(x._data).astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return mul(grad, mul(exp(neg(mul(x, x))), 2.0 / math.sqrt(math.pi)))


class Erfc(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _special.erfc(x._data).astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return mul(grad, mul(exp(neg(mul(x, x))), -2.0 / math.sqrt(math.pi)))


class Erfinv(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(OUTPUT)
        return _special.erfinv(x._data).astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return mul(grad, mul(exp(mul(y, y)), math.sqrt(math.pi) / 2.0))


def _float_unary(name, cls, doc):
    def op(input):
        _check_tensor(input, name)
        return cls.apply(_floatify(input))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


exp = _float_unary("exp", Exp, "``e ** input``.")
exp2 = _float_unary("exp2", Exp2, "``2 ** input``.")
expm1 = _float_unary("expm1", Expm1, "``exp(input) - 1``, accurate near 0.")
log = _float_unary("log", Log, "Natural logarithm (``-inf`` at 0, NaN below).")
log1p = _float_unary("log1p", Log1p, "``log(1 + input)``, accurate near 0.")
sqrt = _float_unary("sqrt", Sqrt, "Square root (NaN for negative inputs).")
rsqrt = _float_unary("rsqrt", Rsqrt, "``1 / sqrt(input)``.")
sin = _float_unary("sin", Sin, "Sine, in radians.")
cos = _float_unary("cos", Cos, "Cosine, in radians.")
tan = _float_unary("tan", Tan, "Tangent, in radians.")
asin = _float_unary("asin", Asin, "Inverse sine (NaN outside [-1, 1]).")
acos = _float_unary("acos", Acos, "Inverse cosine (NaN outside [-1, 1]).")
atan = _float_unary("atan", Atan, "Inverse tangent.")
sinh = _float_unary("sinh", Sinh, "Hyperbolic sine.")
cosh = _float_unary("cosh", Cosh, "Hyperbolic cosine.")
tanh = _float_unary("tanh", Tanh, "Hyperbolic tangent.")
sigmoid = _float_unary("sigmoid", Sigmoid, "``1 / (1 + exp(-input))``, computed without overflow.")
erf = _float_unary("erf", Erf, "The error function.")
erfc = _float_unary("erfc", Erfc, "``1 - erf(input)``, accurate in the tail.")
erfinv = _float_unary("erfinv", Erfinv, "The inverse error function on [-1, 1].")


def log2(input):
    """Base-2 logarithm."""
    _check_tensor(input, "log2")
    x = _floatify(input)
    return LogBase.apply(x, _backend_fn(x, "log2"), math.log(2.0))


def log10(input):
    """Base-10 logarithm."""
    _check_tensor(input, "log10")
    x = _floatify(input)
    return LogBase.apply(x, _backend_fn(x, "log10"), math.log(10.0))


def _backend_fn(x, name):
    return getattr(_arrays.array_module(x._data), name)


def relu(input, inplace=False):
    """``max(input, 0)`` elementwise (gradient 0 at 0, as in torch).

    ``inplace`` is ``nn.functional.relu``'s flag (this function is also ``F.relu``).
    """
    _check_tensor(input, "relu")
    if input._data.dtype.kind == "b":
        raise TypeError("relu: not supported for bool tensors")
    if inplace:
        return _common.inplace(input, lambda: Relu.apply(input), "relu_")  # as Tensor.relu_
    return Relu.apply(input)


# ---- binary float functions -------------------------------------------------------------------------------

class Atan2(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.arctan2(a._data, b._data)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        r2 = add(mul(a, a), mul(b, b))
        ga = mul(grad, div(b, r2)) if ctx.needs_input_grad[0] else None
        gb = neg(mul(grad, div(a, r2))) if ctx.needs_input_grad[1] else None
        return ga, gb


def atan2(input, other):
    """The angle of the point ``(other, input)``: ``atan(input / other)`` in the right quadrant."""
    a, b, _ = binary_operands(input, other, "atan2", float_result=True)
    return Atan2.apply(a, b)


class Hypot(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b, OUTPUT)
        return ctx.xp.hypot(a._data, b._data)

    @staticmethod
    def backward(ctx, grad):
        a, b, y = ctx.saved_tensors
        ga = mul(grad, div(a, y)) if ctx.needs_input_grad[0] else None
        gb = mul(grad, div(b, y)) if ctx.needs_input_grad[1] else None
        return ga, gb


def hypot(input, other):
    """``sqrt(input**2 + other**2)`` without intermediate overflow."""
    a, b, _ = binary_operands(input, other, "hypot", float_result=True)
    return Hypot.apply(a, b)


class LogAddExp(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b, OUTPUT)
        return ctx.xp.logaddexp(a._data, b._data)

    @staticmethod
    def backward(ctx, grad):
        a, b, y = ctx.saved_tensors
        ga = mul(grad, exp(sub(a, y))) if ctx.needs_input_grad[0] else None
        gb = mul(grad, exp(sub(b, y))) if ctx.needs_input_grad[1] else None
        return ga, gb


def logaddexp(input, other):
    """``log(exp(input) + exp(other))``, stable for large magnitudes."""
    a, b, _ = binary_operands(input, other, "logaddexp", float_result=True)
    return LogAddExp.apply(a, b)


class CopySign(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = ctx.xp.copysign(a._data, b._data)
        # d out / d a is +1 where the sign is kept and -1 where it flips (0 at a == 0, as torch)
        ctx.factor = ctx.xp.where(a._data == 0, 0, ctx.xp.where(out == a._data, 1, -1)).astype(out.dtype)
        return out

    @staticmethod
    def backward(ctx, grad):
        return mul(grad, Tensor._make(ctx.factor)), (_zeros_like(grad) if ctx.needs_input_grad[1] else None)


def copysign(input, other):
    """``|input|`` with the sign of ``other``; integer inputs give floats."""
    a, b, _ = binary_operands(input, other, "copysign", float_result=True)
    return CopySign.apply(a, b)


# ---- comparisons, logic, bits ---------------------------------------------------------------------------------

def _compare(name, fn):
    def op(input, other):
        with grad_mode.no_grad():  # the casts of promotion need no graph: the result is bool
            a, b, _ = binary_operands(input, other, name)
        return _NonDiff.apply(fn, a, b)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` comparison after type promotion; a bool tensor (``other`` may be a number)."
    return op


eq = _compare("eq", lambda xp, a, b: a == b)
ne = _compare("ne", lambda xp, a, b: a != b)
lt = _compare("lt", lambda xp, a, b: a < b)
le = _compare("le", lambda xp, a, b: a <= b)
gt = _compare("gt", lambda xp, a, b: a > b)
ge = _compare("ge", lambda xp, a, b: a >= b)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """``|input - other| <= atol + rtol * |other|`` elementwise (bool)."""
    with grad_mode.no_grad():
        a, b, _ = binary_operands(input, other, "isclose")
    return _NonDiff.apply(lambda xp, x, y: xp.isclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan), a, b)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether every element of ``input`` is close to ``other`` (see ``isclose``)."""
    return builtins.bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other) -> bool:
    """True when both tensors have the same shape and elements."""
    if tuple(input.shape) != tuple(other.shape):
        return False
    return builtins.bool(eq(input, other)._data.all())


def _bitwise(name, fn):
    def op(input, other):
        a, b, dt = binary_operands(input, other, name)
        if dt.is_floating_point:
            raise RuntimeError(f"{name}: bitwise ops are only supported for bool and integer tensors, got {dt}")
        return _NonDiff.apply(fn, a, b)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` of bool or integer tensors (``&``, ``|``, ``^``)."
    return op


bitwise_and = _bitwise("bitwise_and", lambda xp, a, b: xp.bitwise_and(a, b))
bitwise_or = _bitwise("bitwise_or", lambda xp, a, b: xp.bitwise_or(a, b))
bitwise_xor = _bitwise("bitwise_xor", lambda xp, a, b: xp.bitwise_xor(a, b))


def bitwise_not(input):
    """``~input``: logical not for bool tensors, bit inversion for integers."""
    _check_tensor(input, "bitwise_not")
    if input._data.dtype.kind not in "biu":
        raise TypeError(f"bitwise_not: only supported for bool and integer tensors, got {input.dtype}")
    return _NonDiff.apply(lambda xp, x: xp.invert(x), input)


def _logical(name, fn):
    def op(input, other):
        with grad_mode.no_grad():
            a, b, _ = binary_operands(input, other, name)
        return _NonDiff.apply(fn, a, b)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` treating non-zero as True; a bool tensor."
    return op


logical_and = _logical("logical_and", lambda xp, a, b: xp.logical_and(a, b))
logical_or = _logical("logical_or", lambda xp, a, b: xp.logical_or(a, b))
logical_xor = _logical("logical_xor", lambda xp, a, b: xp.logical_xor(a, b))


def logical_not(input):
    """``input == 0`` as a bool tensor."""
    _check_tensor(input, "logical_not")
    return _NonDiff.apply(lambda xp, x: xp.logical_not(x), input)


def _predicate(name, fn, doc):
    def op(input):
        _check_tensor(input, name)
        return _NonDiff.apply(fn, input)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


isnan = _predicate("isnan", lambda xp, x: xp.isnan(x), "True where ``input`` is NaN.")
isinf = _predicate("isinf", lambda xp, x: xp.isinf(x), "True where ``input`` is +inf or -inf.")
isfinite = _predicate("isfinite", lambda xp, x: xp.isfinite(x), "True where ``input`` is neither inf nor NaN.")
isposinf = _predicate("isposinf", lambda xp, x: xp.isinf(x) & (x > 0), "True where ``input`` is +inf.")
isneginf = _predicate("isneginf", lambda xp, x: xp.isinf(x) & (x < 0), "True where ``input`` is -inf.")


class NanToNum(Function):
    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        xd = x._data
        ctx.finite = ctx.xp.isfinite(xd)
        return ctx.xp.nan_to_num(xd, copy=True, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        return where(Tensor._make(ctx.finite), grad, 0.0), None, None, None


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """Replace NaN by ``nan`` and ±inf by ``posinf``/``neginf`` (default: the dtype's largest finite values)."""
    _check_tensor(input, "nan_to_num")
    if input._data.dtype.kind not in "fV":
        return _NonDiff.apply(lambda xp, x: x.copy(), input)
    info = np.finfo(input._data.dtype)
    posinf = float(info.max) if posinf is None else posinf
    neginf = float(info.min) if neginf is None else neginf
    return NanToNum.apply(input, nan, posinf, neginf)


# ---- selection: where, clamp, maximum ------------------------------------------------------------------------

class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        return ctx.xp.where(cond._data, a._data, b._data)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        ga = where(cond, grad, 0.0) if ctx.needs_input_grad[1] else None
        gb = where(cond, 0.0, grad) if ctx.needs_input_grad[2] else None
        return None, ga, gb


def where(condition, input=None, other=None):
    """``input`` where ``condition`` holds, else ``other`` (broadcast; either may be a number).

    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``.
    """
    _check_tensor(condition, "where")
    if input is None and other is None:
        idx = condition._data.nonzero()
        return tuple(Tensor._make(i.astype(np.int64)) for i in idx)
    if input is None or other is None:
        raise TypeError("where: expected both input and other, or neither")
    if condition._data.dtype.kind != "b":
        raise RuntimeError(f"where: expected condition to be a boolean tensor, but got a tensor with dtype {condition.dtype}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        # two numbers: tensors of their promoted dtype on the condition's device

        dt = dtypes.result_type(input, other)
        xp = _arrays.array_module(condition._data)
        input, other = (Tensor._make(xp.asarray(v, dtype=dt.np)) for v in (input, other))
    a, b, _ = binary_operands(input, other, "where")
    return Where.apply(condition, a, b)


class Clamp(Function):
    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = ctx.xp
        xd = x._data
        out = xd
        above = below = None
        if hi is not None:
            above = xd > hi._data
            if lo is not None:
                above = above | (lo._data > hi._data)  # torch: an empty range yields max
        if lo is not None:
            below = xd < lo._data
            if above is not None:
                below = below & ~above
        if lo is not None:
            out = xp.maximum(out, lo._data)
        if hi is not None:
            out = xp.minimum(out, hi._data)
        ctx.below, ctx.above = below, above
        return out

    @staticmethod
    def backward(ctx, grad):
        below = Tensor._make(ctx.below) if ctx.below is not None else None
        above = Tensor._make(ctx.above) if ctx.above is not None else None
        keep = grad
        if below is not None:
            keep = where(below, 0.0, keep)
        if above is not None:
            keep = where(above, 0.0, keep)
        glo = where(below, grad, 0.0) if ctx.needs_input_grad[1] else None
        ghi = where(above, grad, 0.0) if ctx.needs_input_grad[2] else None
        return keep, glo, ghi


def clamp(input, min=None, max=None):  # noqa: A002 - torch's names
    """Limit ``input`` to ``[min, max]``; either bound may be a number, a tensor, or None (not both)."""
    _check_tensor(input, "clamp")
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    given = [v for v in (input, min, max) if v is not None]
    for name, v in (("min", min), ("max", max)):
        if isinstance(v, Tensor) and v.shape != input.shape:
            try:
                np.broadcast_shapes(tuple(input.shape), tuple(v.shape))
            except ValueError:
                raise RuntimeError(f"clamp: {name} of shape {tuple(v.shape)} cannot be broadcast to the input's "
                                   f"shape {tuple(input.shape)}") from None
    dt = dtypes.result_type(*given)

    x = to_dtype(input, dt)

    def bound(v):
        if v is None:
            return None
        if isinstance(v, Tensor):
            return to_dtype(v, dt)

        return Tensor._make(_arrays.scalar_like(input._data, v, dt.np))

    return Clamp.apply(x, bound(min), bound(max))


def clip(input, min=None, max=None):  # noqa: A002
    """Alias of ``clamp``."""
    return clamp(input, min, max)


def clamp_min(input, min):  # noqa: A002
    """``clamp(input, min=min)``."""
    return clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    """``clamp(input, max=max)``."""
    return clamp(input, max=max)


class _Select(Function):
    """maximum/minimum/fmax/fmin: ``ctx.wa`` is the share of the gradient that goes to ``a``."""

    @staticmethod
    def forward(ctx, a, b, kind):
        xp = ctx.xp
        ad, bd = a._data, b._data
        if kind == "maximum":
            out = xp.maximum(ad, bd)
            wa = (ad > bd) + 0.5 * (ad == bd) + xp.isnan(ad)  # ties share the gradient evenly, as torch
        elif kind == "minimum":
            out = xp.minimum(ad, bd)
            wa = (ad < bd) + 0.5 * (ad == bd) + xp.isnan(ad)
        elif kind == "fmax":
            out = xp.fmax(ad, bd)
            wa = (ad >= bd) | xp.isnan(bd)
        else:
            out = xp.fmin(ad, bd)
            wa = (ad <= bd) | xp.isnan(bd)
        ctx.wa = xp.asarray(wa, dtype=out.dtype) if out.dtype.kind == "f" else None
        return out

    @staticmethod
    def backward(ctx, grad):
        wa = Tensor._make(ctx.wa)
        ga = mul(grad, wa) if ctx.needs_input_grad[0] else None
        gb = mul(grad, sub(1.0, wa)) if ctx.needs_input_grad[1] else None
        return ga, gb, None


def _selector(name):
    def op(input, other):
        a, b, _ = binary_operands(input, other, name)
        return _Select.apply(a, b, name)

    op.__name__ = op.__qualname__ = name
    doc = {"maximum": "Elementwise maximum (NaN propagates; ties split the gradient).",
           "minimum": "Elementwise minimum (NaN propagates; ties split the gradient).",
           "fmax": "Elementwise maximum ignoring NaN (NaN only where both are NaN).",
           "fmin": "Elementwise minimum ignoring NaN (NaN only where both are NaN)."}
    op.__doc__ = doc[name]
    return op


maximum = _selector("maximum")
minimum = _selector("minimum")
fmax = _selector("fmax")
fmin = _selector("fmin")


# ---- composite ops ---------------------------------------------------------------------------------------------

def lerp(input, end, weight):
    """``input + weight * (end - input)``; ``weight`` is a number or a tensor."""
    _check_tensor(input, "lerp")
    return add(input, mul(weight, sub(end, input)))


def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2``."""
    _check_tensor(input, "addcmul")
    prod = mul(tensor1, tensor2)
    return add(input, prod if value == 1 else mul(prod, value))


def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2``."""
    _check_tensor(input, "addcdiv")
    for t in (tensor1, tensor2):
        if isinstance(t, Tensor) and t._data.dtype.kind in "biu" and not (
                isinstance(tensor1, Tensor) and tensor1.is_floating_point()):
            raise RuntimeError("addcdiv: integer division of tensors using addcdiv is no longer supported; "
                               "use torch.addcmul with reciprocal or floor division instead")
    q = div(tensor1, tensor2)
    return add(input, q if value == 1 else mul(q, value))


# ---- aliases (numpy-style names torch also accepts) --------------------------------------------------------------

def subtract(input, other, *, alpha=1):
    """Alias of ``sub``."""
    return sub(input, other, alpha=alpha)


def multiply(input, other):
    """Alias of ``mul``."""
    return mul(input, other)


def divide(input, other, *, rounding_mode=None):
    """Alias of ``div``."""
    return div(input, other, rounding_mode=rounding_mode)


def true_divide(input, other):
    """``div`` without rounding."""
    return div(input, other)


def negative(input):
    """Alias of ``neg``."""
    return neg(input)


def absolute(input):
    """Alias of ``abs``."""
    return abs(input)


def arctan2(input, other):
    """Alias of ``atan2``."""
    return atan2(input, other)


# ---- helpers ---------------------------------------------------------------------------------------

def _check_tensor(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(x).__name__}")


def _zeros_like(t):
    return Tensor._make(_arrays.array_module(t._data).zeros(t._data.shape, dtype=t._data.dtype))


def _floatify(x):
    """Integer tensors become the default float dtype for ops with float results (like torch)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"expected a Tensor, got {type(x).__name__}")
    if x._data.dtype.kind in "fV":
        return x
    return to_dtype(x, dtypes.get_default_dtype())


def _is_float(a, b):
    return builtins.any(isinstance(t, Tensor) and t.is_floating_point() or isinstance(t, float) for t in (a, b))


# ---- registry ----------------------------------------------------------------------------------------

def _binary_samples(rng):
    return [
        SampleInput((randn(rng, 3, 4), randn(rng, 3, 4)), name="same"),
        SampleInput((randn(rng, 3, 1), randn(rng, 1, 4)), name="broadcast"),
        SampleInput((randn(rng, 2, 3, 4), randn(rng, 4)), name="broadcast_rank"),
        SampleInput((randn(rng, 3, 4), 2.5), name="scalar"),
    ]


def _t(name):
    """A torch_fn calling ``torch.<name>`` with the same arguments."""
    return lambda torch, *a, **k: getattr(torch, name)(*a, **k)


register(OpInfo("add", add, _binary_samples, ref=lambda a, b: a + b, torch_fn=_t("add")))
register(OpInfo("sub", sub, _binary_samples, ref=lambda a, b: a - b, torch_fn=_t("sub")))
register(OpInfo("mul", mul, _binary_samples, ref=lambda a, b: a * b, torch_fn=_t("mul")))
register(OpInfo(
    "div", div,
    lambda rng: [SampleInput((randn(rng, 3, 4), positive(rng, 3, 4))),
                 SampleInput((randn(rng, 3, 1), positive(rng, 4))),
                 SampleInput((randn(rng, 3), 2.0)),
                 SampleInput((2.0, positive(rng, 3)), name="scalar_numerator")],
    ref=lambda a, b: np.divide(a, b), torch_fn=_t("div")))
register(OpInfo("add_alpha", lambda a, b: add(a, b, alpha=-0.5),
                lambda rng: [SampleInput((randn(rng, 3, 4), randn(rng, 4)))],
                ref=lambda a, b: a - 0.5 * b, torch_fn=lambda torch, a, b: torch.add(a, b, alpha=-0.5)))


def _remainder_samples(rng):
    # keep a / b away from whole numbers, where remainder jumps
    b = positive(rng, 3, 4, low=1.0, high=2.0) * np.where(rng.random((3, 4)) < 0.5, -1, 1)
    q = rng.integers(-3, 3, size=(3, 4)) + rng.uniform(0.2, 0.8, size=(3, 4))
    return [SampleInput((q * b, b)), SampleInput(((q * 2.5)[0], 2.5), name="scalar")]


register(OpInfo("remainder", remainder, _remainder_samples, ref=np.remainder, torch_fn=_t("remainder"),
                gradgradcheck=False))
register(OpInfo("fmod", fmod, _remainder_samples, ref=np.fmod, torch_fn=_t("fmod"), gradgradcheck=False))
register(OpInfo("floor_divide", floor_divide, _remainder_samples, ref=np.floor_divide,
                torch_fn=lambda torch, a, b: torch.div(a, b, rounding_mode="floor")))
register(OpInfo(
    "pow", pow,
    lambda rng: [SampleInput((positive(rng, 3, 4), randn(rng, 3, 4)), name="tensor_tensor"),
                 SampleInput((positive(rng, 3, 1), randn(rng, 4)), name="broadcast"),
                 SampleInput((randn(rng, 3, 4), 3), name="int_exponent"),
                 SampleInput((positive(rng, 3, 4), -1.5), name="float_exponent"),
                 SampleInput((2.5, randn(rng, 3, 4)), name="scalar_base")],
    ref=lambda a, b: np.power(a, b), torch_fn=_t("pow")))
register(OpInfo("neg", neg, lambda rng: [SampleInput((randn(rng, 3, 4),))], ref=np.negative, torch_fn=_t("neg")))
register(OpInfo("abs", abs, lambda rng: [SampleInput((away_from(rng, (3, 4)),))], ref=np.abs, torch_fn=_t("abs")))
register(OpInfo("square", square, lambda rng: [SampleInput((randn(rng, 3, 4),))], ref=np.square,
                torch_fn=_t("square")))
register(OpInfo("reciprocal", reciprocal, lambda rng: [SampleInput((positive(rng, 3, 4),))],
                ref=np.reciprocal, torch_fn=_t("reciprocal")))


def _unary(name, fn, ref, make=randn, **kw):
    register(OpInfo(name, fn, lambda rng: [SampleInput((make(rng, 3, 4),)), SampleInput((make(rng, 5),), name="1d")],
                    ref=ref, torch_fn=_t(name), **kw))


def _unit(rng, *shape):
    return rng.uniform(-0.9, 0.9, size=shape)


def _not_whole(rng, *shape):
    """Values at least 0.1 away from whole and half numbers, where rounding ops jump."""
    x = rng.uniform(-3, 3, size=shape)
    frac_part = x - np.floor(x)
    return np.floor(x) + 0.1 + 0.3 * frac_part + 0.5 * (frac_part > 0.5)


_unary("exp", exp, np.exp)
_unary("exp2", exp2, np.exp2)
_unary("expm1", expm1, np.expm1)
_unary("log", log, np.log, positive)
_unary("log1p", log1p, np.log1p, positive)
_unary("log2", log2, np.log2, positive)
_unary("log10", log10, np.log10, positive)
_unary("sqrt", sqrt, np.sqrt, positive)
_unary("rsqrt", rsqrt, lambda x: 1 / np.sqrt(x), positive)
_unary("sin", sin, np.sin)
_unary("cos", cos, np.cos)
_unary("tan", tan, np.tan, _unit)
_unary("asin", asin, np.arcsin, _unit)
_unary("acos", acos, np.arccos, _unit)
_unary("atan", atan, np.arctan)
_unary("sinh", sinh, np.sinh)
_unary("cosh", cosh, np.cosh)
_unary("tanh", tanh, np.tanh)
_unary("sigmoid", sigmoid, lambda x: 1 / (1 + np.exp(-x)))
_unary("relu", relu, lambda x: np.maximum(x, 0), lambda rng, *s: away_from(rng, s), gradgradcheck=False)
_unary("erf", erf, lambda x: _special.erf(x))
_unary("erfc", erfc, lambda x: _special.erfc(x))
_unary("erfinv", erfinv, lambda x: _special.erfinv(x), _unit)
_unary("sign", sign, np.sign, lambda rng, *s: away_from(rng, s))
_unary("floor", floor, np.floor, _not_whole)
_unary("ceil", ceil, np.ceil, _not_whole)
_unary("trunc", trunc, np.trunc, _not_whole)
_unary("frac", frac, lambda x: x - np.trunc(x), _not_whole)
_unary("round", round, np.round, _not_whole)
register(OpInfo("round_decimals", lambda x: round(x, decimals=1),
                lambda rng: [SampleInput((_not_whole(rng, 3, 4) / 10,))],
                ref=lambda x: np.round(x, 1), torch_fn=lambda torch, x: torch.round(x, decimals=1)))
register(OpInfo("nan_to_num", nan_to_num,
                lambda rng: [SampleInput((np.array([[np.nan, 1.5, -np.inf], [np.inf, -0.3, 2.0]]),)),
                             SampleInput((np.array([np.nan, 0.7, np.inf, -np.inf]), 1.0, 9.0, -9.0), name="values")],
                ref=lambda x, *a: np.nan_to_num(x, True, *a), torch_fn=_t("nan_to_num"), float32=False))

for _name, _fn, _ref in (("atan2", atan2, np.arctan2), ("hypot", hypot, np.hypot),
                         ("logaddexp", logaddexp, np.logaddexp)):
    register(OpInfo(_name, _fn, _binary_samples, ref=_ref, torch_fn=lambda torch, a, b, n=_name: getattr(torch, n)(
        a, b if isinstance(b, torch.Tensor) else torch.tensor(b, dtype=a.dtype))))
register(OpInfo("copysign", copysign,
                lambda rng: [SampleInput((away_from(rng, (3, 4)), away_from(rng, (3, 4)))),
                             SampleInput((away_from(rng, (3, 4)), -1.0), name="scalar")],
                ref=np.copysign, torch_fn=_t("copysign")))
for _name, _fn, _ref in (("maximum", maximum, np.maximum), ("minimum", minimum, np.minimum),
                         ("fmax", fmax, np.fmax), ("fmin", fmin, np.fmin)):
    register(OpInfo(_name, _fn, lambda rng: _binary_samples(rng)[:3], ref=_ref, torch_fn=_t(_name),
                    gradgradcheck=False))


def _clamp_samples(rng):
    x = away_from(rng, (3, 4), points=(-0.5, 0.5))
    lo = away_from(rng, (3, 4), points=(-0.5, 0.5)) - 0.5
    lo = np.where(np.abs(lo - x) < 0.1, lo - 0.25, lo)
    return [
        SampleInput((x,), {"min": -0.5, "max": 0.5}, name="scalars"),
        SampleInput((x,), {"min": -0.5}, name="min_only"),
        SampleInput((x,), {"max": 0.5}, name="max_only"),
        SampleInput((x,), {"min": lo, "max": np.full((4,), 0.5)}, name="tensors"),
    ]


def _np_clamp(x, min=None, max=None):  # noqa: A002
    if min is not None:
        x = np.maximum(x, min)
    if max is not None:
        x = np.minimum(x, max)
    return x


register(OpInfo("clamp", clamp, _clamp_samples, ref=_np_clamp, torch_fn=_t("clamp"), gradgradcheck=False))
register(OpInfo(
    "where", where,
    lambda rng: [SampleInput((rng.random((3, 4)) < 0.5, randn(rng, 3, 4), randn(rng, 3, 4))),
                 SampleInput((rng.random((3, 1)) < 0.5, randn(rng, 1, 4), randn(rng, 3, 4)), name="broadcast"),
                 SampleInput((rng.random((3, 4)) < 0.5, randn(rng, 3, 4), 0.0), name="scalar_other")],
    ref=np.where, torch_fn=_t("where")))
register(OpInfo(
    "lerp", lerp,
    lambda rng: [SampleInput((randn(rng, 3, 4), randn(rng, 3, 4), 0.3), name="scalar_weight"),
                 SampleInput((randn(rng, 3, 4), randn(rng, 4), rng.random((3, 1))), name="tensor_weight")],
    ref=lambda a, b, w: a + w * (b - a), torch_fn=_t("lerp")))
register(OpInfo(
    "addcmul", addcmul,
    lambda rng: [SampleInput((randn(rng, 3, 4), randn(rng, 3, 4), randn(rng, 4)), {"value": 0.5})],
    ref=lambda a, b, c, value=1: a + value * b * c, torch_fn=_t("addcmul")))
register(OpInfo(
    "addcdiv", addcdiv,
    lambda rng: [SampleInput((randn(rng, 3, 4), randn(rng, 3, 4), positive(rng, 4)), {"value": -2.0})],
    ref=lambda a, b, c, value=1: a + value * b / c, torch_fn=_t("addcdiv")))

# non-differentiable ops: forward against NumPy and torch only
for _name, _fn, _ref in (("eq", eq, np.equal), ("ne", ne, np.not_equal), ("lt", lt, np.less),
                         ("le", le, np.less_equal), ("gt", gt, np.greater), ("ge", ge, np.greater_equal)):
    register(OpInfo(_name, _fn,
                    lambda rng: [SampleInput((np.round(randn(rng, 3, 4)), np.round(randn(rng, 4)))),
                                 SampleInput((np.round(randn(rng, 3, 4)), 0.0), name="scalar")],
                    ref=_ref, torch_fn=_t(_name), gradcheck=False))
for _name, _fn, _ref in (("logical_and", logical_and, np.logical_and), ("logical_or", logical_or, np.logical_or),
                         ("logical_xor", logical_xor, np.logical_xor)):
    register(OpInfo(_name, _fn, lambda rng: [SampleInput((rng.random((3, 4)) < 0.5, np.round(randn(rng, 4))))],
                    ref=_ref, torch_fn=_t(_name), gradcheck=False))
for _name, _fn, _ref in (("bitwise_and", bitwise_and, np.bitwise_and), ("bitwise_or", bitwise_or, np.bitwise_or),
                         ("bitwise_xor", bitwise_xor, np.bitwise_xor)):
    register(OpInfo(_name, _fn, lambda rng: [SampleInput((rng.integers(-8, 8, (3, 4)), rng.integers(-8, 8, (4,)))),
                                             SampleInput((rng.random((3, 4)) < 0.5, rng.random(4) < 0.5), name="bool")],
                    ref=_ref, torch_fn=_t(_name), gradcheck=False))
register(OpInfo("bitwise_not", bitwise_not, lambda rng: [SampleInput((rng.integers(-8, 8, (3, 4)),)),
                                                         SampleInput((rng.random(4) < 0.5,), name="bool")],
                ref=np.invert, torch_fn=_t("bitwise_not"), gradcheck=False))
register(OpInfo("logical_not", logical_not, lambda rng: [SampleInput((np.round(randn(rng, 3, 4)),))],
                ref=np.logical_not, torch_fn=_t("logical_not"), gradcheck=False))
_SPECIAL_VALUES = np.array([[np.nan, 1.0, -np.inf, np.inf], [0.0, -2.0, np.inf, np.nan]])
for _name, _fn, _ref in (("isnan", isnan, np.isnan), ("isinf", isinf, np.isinf), ("isfinite", isfinite, np.isfinite),
                         ("isposinf", isposinf, np.isposinf), ("isneginf", isneginf, np.isneginf)):
    register(OpInfo(_name, _fn, lambda rng: [SampleInput((_SPECIAL_VALUES.copy(),))], ref=_ref,
                    torch_fn=_t(_name), gradcheck=False))
