"""Gamma-family special functions: ``lgamma``, ``digamma``, ``polygamma``, and ``_standard_gamma``.

The forwards come from ``_arrays.special`` (SciPy or CuPy's when importable, a pure array-module
fallback otherwise). Each backward is the next function of the family (``polygamma(n + 1)``), so
gradients of any order exist. ``_standard_gamma`` draws Gamma(alpha, 1) samples and differentiates
them by implicit reparameterisation (the distributions' ``Gamma.rsample`` uses it).
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function, OUTPUT
from .._arrays import special as _special
from ..random import _gen
from ..tensor import Tensor
from .elementwise import _floatify, mul, neg
from . import elementwise as _ew
from ._common import binary_operands
from .. import _arrays

__all__ = ["lgamma", "digamma", "polygamma", "igamma", "igammac"]
TENSOR_METHODS = tuple(n for n in __all__ if n != "polygamma")  # torch.polygamma(n, input) only


class Lgamma(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _special.lgamma(x._data).astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return mul(grad, digamma(x))


class Polygamma(Function):
    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x)
        ctx.n = n
        return _special.polygamma(n, x._data).astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return mul(grad, Polygamma.apply(x, ctx.n + 1)), None


def _check(input, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(input).__name__}")
    return _floatify(input)


def lgamma(input):
    """``log|Gamma(input)|`` elementwise (``inf`` at 0, -1, -2 ...)."""
    return Lgamma.apply(_check(input, "lgamma"))


def digamma(input):
    """The digamma function ``d/dx lgamma(x)`` (``-inf`` at 0, like torch)."""
    return Polygamma.apply(_check(input, "digamma"), 0)


def polygamma(n, input):
    """The ``n``-th derivative of the digamma function, ``n >= 0``."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise RuntimeError(f"polygamma: n must be a non-negative integer, got {n!r}")
    return Polygamma.apply(_check(input, "polygamma"), int(n))


class Igamma(Function):
    """Regularized incomplete gamma P(a, x) (``upper=False``) or Q(a, x); differentiable in x only, like torch."""

    @staticmethod
    def forward(ctx, a, x, upper):
        ctx.save_for_backward(a, x)
        ctx.upper = upper
        fn = _special.gammaincc if upper else _special.gammainc
        return fn(a._data, x._data).astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("igamma: the derivative with respect to input (the shape a) is not implemented")
        # dP/dx = x^(a-1) e^-x / Gamma(a)
        gx = ((a - 1) * x.log() - x - lgamma(a)).exp()
        return None, mul(grad, neg(gx) if ctx.upper else gx), None


def _igamma(input, other, upper, op):
    _ew._check_tensor(input, op)
    a, x, _ = binary_operands(input, other, op, float_result=True)
    return Igamma.apply(a, x, upper)


def igamma(input, other):
    """The regularized lower incomplete gamma function P(input, other) (``torch.special.gammainc``)."""
    return _igamma(input, other, False, "igamma")


def igammac(input, other):
    """The regularized upper incomplete gamma function Q(input, other) = 1 - P (``torch.special.gammaincc``)."""
    return _igamma(input, other, True, "igammac")


# ---- Gamma(alpha, 1) samples with implicit reparameterisation -----------------------------------

_SERIES_MAX_TERMS = 100_000


def standard_gamma_grad(x, alpha):
    """dx/dalpha of a Gamma(alpha, 1) sample x, held at its CDF value (implicit reparameterisation).

    With P(a, x) = x^a e^-x / Gamma(a+1) * S, S = sum_n t_n, t_n = prod_{k<=n} x / (a+k), implicit
    differentiation of P(a, x) = u gives dx/da = -(x/a) * (S (log x - psi(a+1)) - sum_n t_n h_n),
    h_n = sum_{k<=n} 1/(a+k). Exact up to rounding; the two sums cancel in the far right tail
    (samples many standard deviations above the mean), where precision drops.
    """
    xp = _arrays.array_module(x)
    x64 = x.astype(np.float64)
    a = alpha.astype(np.float64)
    t = xp.ones_like(x64)
    h = xp.zeros_like(x64)
    s = xp.ones_like(x64)
    th = xp.zeros_like(x64)
    for k in range(1, _SERIES_MAX_TERMS):
        t = t * x64 / (a + k)
        h = h + 1.0 / (a + k)
        s = s + t
        th = th + t * h
        if k > 8 and not bool(xp.any((a + k < x64) | (t * (h + 1.0) > 1e-17 * s))):
            break
    psi = _special.digamma(a + 1.0)
    out = -(x64 / a) * (s * (xp.log(x64) - psi) - th)
    out = xp.where(x64 > 0, out, 0.0)
    return out.astype(x.dtype, copy=False)


class StandardGamma(Function):
    @staticmethod
    def forward(ctx, alpha, generator):
        rng = _gen(generator).for_device(alpha.device)  # NumPy's Generator or CuPy's RandomState
        a = alpha._data
        draw = rng.standard_gamma(a.astype(np.float64), size=a.shape)
        # torch clamps to the smallest positive normal so log(sample) stays finite
        tiny = np.finfo(a.dtype).tiny
        out = ctx.xp.maximum(draw, tiny).astype(a.dtype, copy=False)
        ctx.save_for_backward(alpha, OUTPUT)
        return out

    @staticmethod
    def backward(ctx, grad):
        alpha, x = ctx.saved_tensors
        return mul(grad, Tensor._make(standard_gamma_grad(x._data, alpha._data))), None


def _standard_gamma(alpha, generator=None):
    """Gamma(alpha, 1) samples of ``alpha``'s shape; differentiable in alpha (implicit reparameterisation)."""
    return StandardGamma.apply(_check(alpha, "_standard_gamma"), generator)
