"""The op registry entries for tinytorch/ops/elementwise.py: sample inputs, NumPy references, PyTorch counterparts."""
from __future__ import annotations

import numpy as np
import tinytorch._arrays.special as _special

from tinytorch.ops.elementwise import (
    abs, acos, add, addcdiv, addcmul, asin, atan, atan2, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, ceil,
    clamp, copysign, cos, cosh, div, eq, erf, erfc, erfinv, exp, exp2, expm1, floor, floor_divide, fmax, fmin, fmod,
    frac, ge, gt, hypot, isfinite, isinf, isnan, isneginf, isposinf, le, lerp, log, log10, log1p, log2, logaddexp,
    logical_and, logical_not, logical_or, logical_xor, lt, maximum, minimum, mul, nan_to_num, ne, neg, pow,
    reciprocal, relu, remainder, round, rsqrt, sigmoid, sign, sin, sinh, sqrt, square, sub, tan, tanh, trunc, where,
)
from tests.opinfo.registry import away_from, OpInfo, positive, randn, register, SampleInput


def _binary_samples(rng):
    return [
        SampleInput((randn(rng, 3, 4), randn(rng, 3, 4)), name="same"),
        SampleInput((randn(rng, 3, 1), randn(rng, 1, 4)), name="broadcast"),
        SampleInput((randn(rng, 2, 3, 4), randn(rng, 4)), name="broadcast_rank"),
        SampleInput((randn(rng, 3, 4), 2.5), name="scalar"),
    ]


def _torch_fn(name):
    """A torch_fn calling ``torch.<name>`` with the same arguments."""
    return lambda torch, *a, **k: getattr(torch, name)(*a, **k)


register(OpInfo("add", add, _binary_samples, ref=lambda a, b: a + b, torch_fn=_torch_fn("add")))
register(OpInfo("sub", sub, _binary_samples, ref=lambda a, b: a - b, torch_fn=_torch_fn("sub")))
register(OpInfo("mul", mul, _binary_samples, ref=lambda a, b: a * b, torch_fn=_torch_fn("mul")))
register(OpInfo(
    "div", div,
    lambda rng: [SampleInput((randn(rng, 3, 4), positive(rng, 3, 4))),
                 SampleInput((randn(rng, 3, 1), positive(rng, 4))),
                 SampleInput((randn(rng, 3), 2.0)),
                 SampleInput((2.0, positive(rng, 3)), name="scalar_numerator")],
    ref=lambda a, b: np.divide(a, b), torch_fn=_torch_fn("div")))
register(OpInfo("add_alpha", lambda a, b: add(a, b, alpha=-0.5),
                lambda rng: [SampleInput((randn(rng, 3, 4), randn(rng, 4)))],
                ref=lambda a, b: a - 0.5 * b, torch_fn=lambda torch, a, b: torch.add(a, b, alpha=-0.5)))


def _remainder_samples(rng):
    # keep a / b away from whole numbers, where remainder jumps
    b = positive(rng, 3, 4, low=1.0, high=2.0) * np.where(rng.random((3, 4)) < 0.5, -1, 1)
    q = rng.integers(-3, 3, size=(3, 4)) + rng.uniform(0.2, 0.8, size=(3, 4))
    return [SampleInput((q * b, b)), SampleInput(((q * 2.5)[0], 2.5), name="scalar")]


register(OpInfo("remainder", remainder, _remainder_samples, ref=np.remainder, torch_fn=_torch_fn("remainder"),
                gradgradcheck=False))
register(OpInfo("fmod", fmod, _remainder_samples, ref=np.fmod, torch_fn=_torch_fn("fmod"), gradgradcheck=False))
register(OpInfo("floor_divide", floor_divide, _remainder_samples, ref=np.floor_divide,
                torch_fn=lambda torch, a, b: torch.div(a, b, rounding_mode="floor")))
register(OpInfo(
    "pow", pow,
    lambda rng: [SampleInput((positive(rng, 3, 4), randn(rng, 3, 4)), name="tensor_tensor"),
                 SampleInput((positive(rng, 3, 1), randn(rng, 4)), name="broadcast"),
                 SampleInput((randn(rng, 3, 4), 3), name="int_exponent"),
                 SampleInput((positive(rng, 3, 4), -1.5), name="float_exponent"),
                 SampleInput((2.5, randn(rng, 3, 4)), name="scalar_base")],
    ref=lambda a, b: np.power(a, b), torch_fn=_torch_fn("pow")))
register(OpInfo("neg", neg, lambda rng: [SampleInput((randn(rng, 3, 4),))], ref=np.negative, torch_fn=_torch_fn("neg")))
register(OpInfo("abs", abs, lambda rng: [SampleInput((away_from(rng, (3, 4)),))], ref=np.abs, torch_fn=_torch_fn("abs")))
register(OpInfo("square", square, lambda rng: [SampleInput((randn(rng, 3, 4),))], ref=np.square,
                torch_fn=_torch_fn("square")))
register(OpInfo("reciprocal", reciprocal, lambda rng: [SampleInput((positive(rng, 3, 4),))],
                ref=np.reciprocal, torch_fn=_torch_fn("reciprocal")))


def _unary(name, fn, ref, make=randn, **kw):
    register(OpInfo(name, fn, lambda rng: [SampleInput((make(rng, 3, 4),)), SampleInput((make(rng, 5),), name="1d")],
                    ref=ref, torch_fn=_torch_fn(name), **kw))


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
                ref=lambda x, *a: np.nan_to_num(x, True, *a), torch_fn=_torch_fn("nan_to_num"), float32=False))

for _name, _fn, _ref in (("atan2", atan2, np.arctan2), ("hypot", hypot, np.hypot),
                         ("logaddexp", logaddexp, np.logaddexp)):
    register(OpInfo(_name, _fn, _binary_samples, ref=_ref, torch_fn=lambda torch, a, b, n=_name: getattr(torch, n)(
        a, b if isinstance(b, torch.Tensor) else torch.tensor(b, dtype=a.dtype))))
register(OpInfo("copysign", copysign,
                lambda rng: [SampleInput((away_from(rng, (3, 4)), away_from(rng, (3, 4)))),
                             SampleInput((away_from(rng, (3, 4)), -1.0), name="scalar")],
                ref=np.copysign, torch_fn=_torch_fn("copysign")))
for _name, _fn, _ref in (("maximum", maximum, np.maximum), ("minimum", minimum, np.minimum),
                         ("fmax", fmax, np.fmax), ("fmin", fmin, np.fmin)):
    register(OpInfo(_name, _fn, lambda rng: _binary_samples(rng)[:3], ref=_ref, torch_fn=_torch_fn(_name),
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


register(OpInfo("clamp", clamp, _clamp_samples, ref=_np_clamp, torch_fn=_torch_fn("clamp"), gradgradcheck=False))
register(OpInfo(
    "where", where,
    lambda rng: [SampleInput((rng.random((3, 4)) < 0.5, randn(rng, 3, 4), randn(rng, 3, 4))),
                 SampleInput((rng.random((3, 1)) < 0.5, randn(rng, 1, 4), randn(rng, 3, 4)), name="broadcast"),
                 SampleInput((rng.random((3, 4)) < 0.5, randn(rng, 3, 4), 0.0), name="scalar_other")],
    ref=np.where, torch_fn=_torch_fn("where")))
register(OpInfo(
    "lerp", lerp,
    lambda rng: [SampleInput((randn(rng, 3, 4), randn(rng, 3, 4), 0.3), name="scalar_weight"),
                 SampleInput((randn(rng, 3, 4), randn(rng, 4), rng.random((3, 1))), name="tensor_weight")],
    ref=lambda a, b, w: a + w * (b - a), torch_fn=_torch_fn("lerp")))
register(OpInfo(
    "addcmul", addcmul,
    lambda rng: [SampleInput((randn(rng, 3, 4), randn(rng, 3, 4), randn(rng, 4)), {"value": 0.5})],
    ref=lambda a, b, c, value=1: a + value * b * c, torch_fn=_torch_fn("addcmul")))
register(OpInfo(
    "addcdiv", addcdiv,
    lambda rng: [SampleInput((randn(rng, 3, 4), randn(rng, 3, 4), positive(rng, 4)), {"value": -2.0})],
    ref=lambda a, b, c, value=1: a + value * b / c, torch_fn=_torch_fn("addcdiv")))

# non-differentiable ops: forward against NumPy and torch only
for _name, _fn, _ref in (("eq", eq, np.equal), ("ne", ne, np.not_equal), ("lt", lt, np.less),
                         ("le", le, np.less_equal), ("gt", gt, np.greater), ("ge", ge, np.greater_equal)):
    register(OpInfo(_name, _fn,
                    lambda rng: [SampleInput((np.round(randn(rng, 3, 4)), np.round(randn(rng, 4)))),
                                 SampleInput((np.round(randn(rng, 3, 4)), 0.0), name="scalar")],
                    ref=_ref, torch_fn=_torch_fn(_name), gradcheck=False))
for _name, _fn, _ref in (("logical_and", logical_and, np.logical_and), ("logical_or", logical_or, np.logical_or),
                         ("logical_xor", logical_xor, np.logical_xor)):
    register(OpInfo(_name, _fn, lambda rng: [SampleInput((rng.random((3, 4)) < 0.5, np.round(randn(rng, 4))))],
                    ref=_ref, torch_fn=_torch_fn(_name), gradcheck=False))
for _name, _fn, _ref in (("bitwise_and", bitwise_and, np.bitwise_and), ("bitwise_or", bitwise_or, np.bitwise_or),
                         ("bitwise_xor", bitwise_xor, np.bitwise_xor)):
    register(OpInfo(_name, _fn, lambda rng: [SampleInput((rng.integers(-8, 8, (3, 4)), rng.integers(-8, 8, (4,)))),
                                             SampleInput((rng.random((3, 4)) < 0.5, rng.random(4) < 0.5), name="bool")],
                    ref=_ref, torch_fn=_torch_fn(_name), gradcheck=False))
register(OpInfo("bitwise_not", bitwise_not, lambda rng: [SampleInput((rng.integers(-8, 8, (3, 4)),)),
                                                         SampleInput((rng.random(4) < 0.5,), name="bool")],
                ref=np.invert, torch_fn=_torch_fn("bitwise_not"), gradcheck=False))
register(OpInfo("logical_not", logical_not, lambda rng: [SampleInput((np.round(randn(rng, 3, 4)),))],
                ref=np.logical_not, torch_fn=_torch_fn("logical_not"), gradcheck=False))
_SPECIAL_VALUES = np.array([[np.nan, 1.0, -np.inf, np.inf], [0.0, -2.0, np.inf, np.nan]])
for _name, _fn, _ref in (("isnan", isnan, np.isnan), ("isinf", isinf, np.isinf), ("isfinite", isfinite, np.isfinite),
                         ("isposinf", isposinf, np.isposinf), ("isneginf", isneginf, np.isneginf)):
    register(OpInfo(_name, _fn, lambda rng: [SampleInput((_SPECIAL_VALUES.copy(),))], ref=_ref,
                    torch_fn=_torch_fn(_name), gradcheck=False))
