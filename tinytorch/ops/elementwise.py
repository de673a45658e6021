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
from ._common import binary_operands, is_scalar
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

    _node_name = "PowBackward1"  # torch's grad_fn name

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

    _node_name = "PowBackward0"  # torch's grad_fn name

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

    _node_name = "PowBackward2"  # torch's grad_fn name

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


# piecewise-constant ops get their own node names, as in torch (FloorBackward0, not _ZeroGradBackward0)
class Floor(_ZeroGrad):
    pass


class Ceil(_ZeroGrad):
    pass


class Trunc(_ZeroGrad):
    pass


class Round(_ZeroGrad):
    pass


class RoundDecimals(_ZeroGrad):
    _node_name = "RoundBackward1"  # torch's overload with decimals=


class Sign(_ZeroGrad):
    pass


def sign(input):
    """-1, 0 or 1 elementwise, in ``input``'s dtype (zero gradient)."""
    _check_tensor(input, "sign")
    return Sign.apply(lambda xp, x: xp.sign(x), input)


def _rounding(name, cls, fn):
    def op(input):
        _check_tensor(input, name)
        if input._data.dtype.kind in "biu":
            return _NonDiff.apply(lambda xp, x: x.copy(), input)  # whole numbers already
        return cls.apply(fn, input)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``{name}`` elementwise; integer inputs are returned unchanged (zero gradient)."
    return op


floor = _rounding("floor", Floor, lambda xp, x: xp.floor(x))
ceil = _rounding("ceil", Ceil, lambda xp, x: xp.ceil(x))
trunc = _rounding("trunc", Trunc, lambda xp, x: xp.trunc(x))
fix = _rounding("fix", Trunc, lambda xp, x: xp.trunc(x))


def round(input, *, decimals=0):  # noqa: A001 - torch's name
    """Round half to even, optionally to ``decimals`` decimal places (zero gradient)."""
    _check_tensor(input, "round")
    if not isinstance(decimals, (builtins.int, np.integer)):
        raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__}")
    if input._data.dtype.kind in "biu" and decimals >= 0:
        return _NonDiff.apply(lambda xp, x: x.copy(), input)
    if decimals == 0:
        return Round.apply(lambda xp, x: xp.round(x), input)
    return RoundDecimals.apply(lambda xp, x: xp.round(x, builtins.int(decimals)), input)


def frac(input):
    """``input - trunc(input)`` (gradient 1)."""
    _check_tensor(input, "frac")
    if input._data.dtype.kind not in "fV":
        raise TypeError(f"frac: expected a floating point tensor, got {input.dtype}")
    return sub(input, trunc(input))


# ---- unary float functions ------------------------------------------------------------------------------

class _Unary(Function):
    """A unary op made by ``_unary_function``: the class holds its forward and its derivative.

    ``_fn(xp, x)`` computes the output array; ``_derivative(x, y)`` gives dy/dx with tensor ops (so the
    backward is differentiable again) from the input ``x`` or the output ``y`` (whichever the op saves; the
    other is None); ``_derivative_arrays`` is the same on raw arrays, for the first-order fast path.
    """

    _fn = None
    _derivative = None
    _derivative_arrays = None  # set together with backward_arrays
    _saves_output = False

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(OUTPUT if ctx._saves_output else x)
        return ctx._fn(ctx.xp, x._data)  # Function.apply runs forwards with FP warnings off

    @staticmethod
    def backward(ctx, grad):
        (t,) = ctx.saved_tensors
        return mul(grad, ctx._derivative(None, t) if ctx._saves_output else ctx._derivative(t, None))


def _unary_backward_arrays(ctx, grad):
    """First-order fast path of a ``_Unary`` that has ``_derivative_arrays``."""
    t = ctx.saved_tensors[0]._data  # unpacking checks the version counter
    return grad * (ctx._derivative_arrays(None, t) if ctx._saves_output else ctx._derivative_arrays(t, None))


def _unary_function(cls_name, fn, derivative, *, output=False, derivative_arrays=None, node_name=None):
    """A ``_Unary`` subclass named ``cls_name`` (its grad_fn is ``<cls_name>Backward0`` unless ``node_name``)."""
    ns = {"_fn": staticmethod(fn), "_derivative": staticmethod(derivative), "_saves_output": output,
          "__module__": __name__, "__qualname__": cls_name}
    if derivative_arrays is not None:
        ns["_derivative_arrays"] = staticmethod(derivative_arrays)
        ns["backward_arrays"] = staticmethod(_unary_backward_arrays)
    if node_name is not None:
        ns["_node_name"] = node_name
    return type(_Unary)(cls_name, (_Unary,), ns)


def _unary(name, fn, derivative, doc, *, output=False, derivative_arrays=None, node_name=None):
    """A float unary op ``name``: integer inputs become the default float dtype, as in torch.

    ``fn(xp, x)`` is the forward on arrays; ``derivative(x, y)`` is dy/dx in tensor ops, from the input when
    ``output`` is False, else from the output (the op then saves only its output, as torch's does).
    """
    cls = _unary_function(name[0].upper() + name[1:], fn, derivative, output=output,
                          derivative_arrays=derivative_arrays, node_name=node_name)

    def op(input):
        _check_tensor(input, name)
        return cls.apply(_floatify(input))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _sigmoid_array(xp, x):
    e = xp.exp(-xp.abs(x))  # exp of a non-positive number only, so no overflow for large |x|
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


_LN2, _LN10, _TWO_OVER_SQRT_PI = math.log(2.0), math.log(10.0), 2.0 / math.sqrt(math.pi)

# name, forward on arrays, dy/dx from (x, y) with tensor ops, docstring; output=True saves y instead of x
exp = _unary("exp", lambda xp, x: xp.exp(x), lambda x, y: y, "``e ** input``.", output=True)
exp2 = _unary("exp2", lambda xp, x: xp.exp2(x), lambda x, y: mul(y, _LN2), "``2 ** input``.", output=True)
expm1 = _unary("expm1", lambda xp, x: xp.expm1(x), lambda x, y: add(y, 1.0), "``exp(input) - 1``, accurate near 0.",
               output=True)
log = _unary("log", lambda xp, x: xp.log(x), lambda x, y: reciprocal(x), "Natural logarithm (``-inf`` at 0, NaN below).")
log1p = _unary("log1p", lambda xp, x: xp.log1p(x), lambda x, y: reciprocal(add(x, 1.0)),
               "``log(1 + input)``, accurate near 0.", node_name="Log1PBackward0")
log2 = _unary("log2", lambda xp, x: xp.log2(x), lambda x, y: reciprocal(mul(x, _LN2)), "Base-2 logarithm.")
log10 = _unary("log10", lambda xp, x: xp.log10(x), lambda x, y: reciprocal(mul(x, _LN10)), "Base-10 logarithm.")
sqrt = _unary("sqrt", lambda xp, x: xp.sqrt(x), lambda x, y: reciprocal(mul(y, 2.0)),
              "Square root (NaN for negative inputs).", output=True)
rsqrt = _unary("rsqrt", lambda xp, x: 1.0 / xp.sqrt(x), lambda x, y: mul(pow(y, 3), -0.5), "``1 / sqrt(input)``.",
               output=True)
sin = _unary("sin", lambda xp, x: xp.sin(x), lambda x, y: cos(x), "Sine, in radians.")
cos = _unary("cos", lambda xp, x: xp.cos(x), lambda x, y: neg(sin(x)), "Cosine, in radians.")
tan = _unary("tan", lambda xp, x: xp.tan(x), lambda x, y: add(mul(y, y), 1.0), "Tangent, in radians.", output=True)
asin = _unary("asin", lambda xp, x: xp.arcsin(x), lambda x, y: rsqrt(sub(1.0, mul(x, x))),
              "Inverse sine (NaN outside [-1, 1]).")
acos = _unary("acos", lambda xp, x: xp.arccos(x), lambda x, y: neg(rsqrt(sub(1.0, mul(x, x)))),
              "Inverse cosine (NaN outside [-1, 1]).")
atan = _unary("atan", lambda xp, x: xp.arctan(x), lambda x, y: reciprocal(add(mul(x, x), 1.0)), "Inverse tangent.")
sinh = _unary("sinh", lambda xp, x: xp.sinh(x), lambda x, y: cosh(x), "Hyperbolic sine.")
cosh = _unary("cosh", lambda xp, x: xp.cosh(x), lambda x, y: sinh(x), "Hyperbolic cosine.")
tanh = _unary("tanh", lambda xp, x: xp.tanh(x), lambda x, y: sub(1.0, mul(y, y)), "Hyperbolic tangent.", output=True,
              derivative_arrays=lambda x, y: 1 - y * y)
sigmoid = _unary("sigmoid", lambda xp, x: _sigmoid_array(xp, x), lambda x, y: mul(y, sub(1.0, y)),
                 "``1 / (1 + exp(-input))``, computed without overflow.", output=True,
                 derivative_arrays=lambda x, y: y * (1 - y))
erf = _unary("erf", lambda xp, x: _special.erf(x).astype(x.dtype, copy=False),
             lambda x, y: mul(exp(neg(mul(x, x))), _TWO_OVER_SQRT_PI), "The error function.")
erfc = _unary("erfc", lambda xp, x: _special.erfc(x).astype(x.dtype, copy=False),
              lambda x, y: mul(exp(neg(mul(x, x))), -_TWO_OVER_SQRT_PI), "``1 - erf(input)``, accurate in the tail.")
erfinv = _unary("erfinv", lambda xp, x: _special.erfinv(x).astype(x.dtype, copy=False),
                lambda x, y: mul(exp(mul(y, y)), 1.0 / _TWO_OVER_SQRT_PI), "The inverse error function on [-1, 1].",
                output=True)


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
    _node_name = "LogaddexpBackward0"  # torch's grad_fn name

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
    _node_name = "CopysignBackward0"  # torch's grad_fn name

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
