"""Elementwise ops: arithmetic, unary math, comparisons and logic.

Binary ops promote their operands with PyTorch's rules (``binary_operands``) and return
gradients in the broadcast output shape; the engine sums them back to each input's shape.
"""
from __future__ import annotations

from ..autograd.function import Function, OUTPUT
from ..tensor import Tensor
from ._common import binary_operands
from .registry import OpInfo, SampleInput, register, randn, positive

TENSOR_METHODS = ("add", "sub", "mul", "div", "neg", "exp")


# ---- arithmetic ----------------------------------------------------------------------------------

class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a._data + b._data

    @staticmethod
    def backward(ctx, grad):
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


def sub(input, other, *, alpha=1):
    """``input - alpha * other``."""
    a, b, dt = binary_operands(input, other, "sub")
    if dt.name == "bool":
        raise TypeError("sub: subtraction with two bool tensors is not supported; use logical_xor or ~ instead")
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


def mul(input, other):
    """Elementwise product with broadcasting."""
    a, b, _ = binary_operands(input, other, "mul")
    return Mul.apply(a, b)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        return a._data / b._data

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ga = div(grad, b) if ctx.needs_input_grad[0] else None
        gb = neg(div(mul(grad, a), mul(b, b))) if ctx.needs_input_grad[1] else None
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


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x._data

    @staticmethod
    def backward(ctx, grad):
        return neg(grad)


def neg(input):
    """``-input``."""
    if input._data.dtype.kind == "b":
        raise TypeError("neg: negation, the `-` operator, on a bool tensor is not supported; use ~ or logical_not")
    return Neg.apply(input)


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(OUTPUT)
        return ctx.xp.exp(x._data)

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return mul(grad, y)


def exp(input):
    """``e ** input``."""
    return Exp.apply(_floatify(input))


# ---- helpers ---------------------------------------------------------------------------------------

def _floatify(x):
    """Integer tensors become the default float dtype for ops with float results (like torch)."""
    from .. import _dtype as dtypes
    from .convert import to_dtype

    if not isinstance(x, Tensor):
        raise TypeError(f"expected a Tensor, got {type(x).__name__}")
    if x._data.dtype.kind in "fV":
        return x
    return to_dtype(x, dtypes.get_default_dtype())


def _is_float(a, b):
    return any(isinstance(t, Tensor) and t.is_floating_point() or isinstance(t, float) for t in (a, b))


# ---- registry ----------------------------------------------------------------------------------------

def _binary_samples(rng):
    return [
        SampleInput((randn(rng, 3, 4), randn(rng, 3, 4)), name="same"),
        SampleInput((randn(rng, 3, 1), randn(rng, 1, 4)), name="broadcast"),
        SampleInput((randn(rng, 2, 3, 4), randn(rng, 4)), name="broadcast_rank"),
        SampleInput((randn(rng, 3, 4), 2.5), name="scalar"),
    ]


register(OpInfo("add", add, _binary_samples, ref=lambda a, b: a + b, torch_fn=lambda torch, a, b: torch.add(a, b)))
register(OpInfo("sub", sub, _binary_samples, ref=lambda a, b: a - b, torch_fn=lambda torch, a, b: torch.sub(a, b)))
register(OpInfo("mul", mul, _binary_samples, ref=lambda a, b: a * b, torch_fn=lambda torch, a, b: torch.mul(a, b)))
register(OpInfo(
    "div", div,
    lambda rng: [SampleInput((randn(rng, 3, 4), positive(rng, 3, 4))),
                 SampleInput((randn(rng, 3, 1), positive(rng, 4))),
                 SampleInput((randn(rng, 3), 2.0))],
    ref=lambda a, b: a / b, torch_fn=lambda torch, a, b: torch.div(a, b)))
register(OpInfo("neg", neg, lambda rng: [SampleInput((randn(rng, 3, 4),))], ref=lambda x: -x,
                torch_fn=lambda torch, x: torch.neg(x)))
register(OpInfo("exp", exp, lambda rng: [SampleInput((randn(rng, 3, 4),))],
                ref=lambda x: __import__("numpy").exp(x), torch_fn=lambda torch, x: torch.exp(x)))
