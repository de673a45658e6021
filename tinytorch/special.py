"""``tinytorch.special``: the ``torch.special`` namespace (gamma family, error functions, logits, xlogy ...).

Each function composes differentiable tinytorch ops, so gradients flow through all of them.
"""
from __future__ import annotations

import math

from . import ops as _ops
from .ops.gamma import digamma, igamma, igammac, lgamma, polygamma
from .tensor import Tensor
from .creation import as_tensor

__all__ = [
    "digamma", "entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc", "gammaln", "log1p", "log_ndtr",
    "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "sinc",
    "softmax", "xlog1py", "xlogy",
]

gammaln = lgamma
gammainc = igamma
gammaincc = igammac
psi = digamma
erf = _ops.erf
erfc = _ops.erfc
erfinv = _ops.erfinv
expm1 = _ops.expm1
exp2 = _ops.exp2
log1p = _ops.log1p
round = _ops.round  # noqa: A001 - torch's name
logsumexp = _ops.logsumexp


def _tensor(x, like=None):
    if isinstance(x, Tensor):
        return x
    return as_tensor(x, dtype=None if like is None else like.dtype, device=None if like is None else like.device)


def expit(input):
    """The logistic sigmoid ``1 / (1 + exp(-input))``."""
    return _ops.sigmoid(input)


def logit(input, eps=None):
    """``log(p / (1 - p))``; with ``eps`` the input is clamped to ``[eps, 1 - eps]`` first."""
    if eps is not None:
        input = input.clamp(min=eps, max=1 - eps)
    return input.log() - (-input).log1p()


def _pair(input, other, op):
    """Both arguments as tensors (numbers take the other's dtype and device), checked to broadcast, naming ``op``."""
    x = _tensor(input, other if isinstance(other, Tensor) else None)
    y = _tensor(other, x)
    try:
        _ops.broadcast_shapes(tuple(x.shape), tuple(y.shape))
    except RuntimeError as e:
        raise RuntimeError(f"{op}: {e}") from None
    return x, y


def xlogy(input, other):
    """``input * log(other)``, and 0 where ``input == 0`` unless ``other`` is NaN (as torch).

    The gradient in ``input`` is ``log(other)`` (0 where both are 0), in ``other`` ``input / other``.
    """
    x, y = _pair(input, other, "xlogy")
    # where x == 0, log must not produce -inf/NaN that 0 * ... would turn into NaN
    guard = (x == 0) & ((y <= 0) | y.isinf())
    return x * _ops.where(guard, 1.0, y).log()


def xlog1py(input, other):
    """``input * log1p(other)``, and 0 where ``input == 0`` unless ``other`` is NaN."""
    x, y = _pair(input, other, "xlog1py")
    guard = (x == 0) & ((y <= -1) | y.isinf())
    return x * _ops.where(guard, 0.0, y).log1p()


def entr(input):
    """Elementwise entropy term: ``-x log x`` for x > 0, 0 at 0, ``-inf`` for x < 0."""
    safe = _ops.where(input > 0, input, 1.0)
    out = _ops.where(input > 0, -input * safe.log(), 0.0)
    return _ops.where(input < 0, -math.inf, out)


def ndtr(input):
    """The standard normal CDF."""
    return 0.5 * _ops.erfc(input * (-1.0 / math.sqrt(2.0)))


def ndtri(input):
    """The inverse of the standard normal CDF (computed in float64: ``2p - 1`` rounds small ``p`` away in float32)."""
    x = input.double() if input.dtype.is_floating_point and input.dtype.itemsize < 8 else input
    return (math.sqrt(2.0) * _ops.erfinv(2.0 * x - 1.0)).to(input.dtype)


_LOG_NDTR_TAIL = -20.0  # below: the asymptotic series (its next term is < 1e-10 relative); above: log of erfc


def log_ndtr(input):
    """``log(ndtr(input))``, accurate in the far left tail too (where ``ndtr`` underflows), with finite gradients.

    Computed in float64: ``log(erfc(-x / sqrt 2) / 2)`` from -20 to 0, ``log1p(-erfc(x / sqrt 2) / 2)`` above 0, and below it the asymptotic expansion
    ``-x^2/2 - log(-x) - log(2 pi)/2 + log(1 - 1/x^2 + 3/x^4 - 15/x^6 + 105/x^8)``. Each branch sees only inputs
    of its own range, so the unused one never puts a NaN into the gradient.
    """
    x = input.double() if input.dtype.itemsize < 8 else input
    tail = x < _LOG_NDTR_TAIL
    hi = _ops.where(tail, _LOG_NDTR_TAIL, x)
    lo = _ops.where(tail, x, _LOG_NDTR_TAIL)
    right = hi > 0  # there log1p(-ndtr(-x)) keeps the tiny distance from 0 that log(1 - tiny) would lose
    neg, pos = _ops.where(right, 0.0, hi), _ops.where(right, hi, 0.0)
    body = _ops.where(right, _ops.log1p(-0.5 * _ops.erfc(pos * (1.0 / math.sqrt(2.0)))),
                      (0.5 * _ops.erfc(neg * (-1.0 / math.sqrt(2.0)))).log())
    r2 = 1.0 / (lo * lo)
    series = 1.0 - r2 + 3.0 * r2 * r2 - 15.0 * r2 ** 3 + 105.0 * r2 ** 4
    asym = -0.5 * lo * lo - (-lo).log() - 0.5 * math.log(2.0 * math.pi) + series.log()
    return _ops.where(tail, asym, body).to(input.dtype)


def sinc(input):
    """The normalised sinc ``sin(pi x) / (pi x)``, 1 at 0."""
    zero = input == 0
    safe = _ops.where(zero, 1.0, input) * math.pi
    return _ops.where(zero, 1.0, safe.sin() / safe)


def multigammaln(input, p: int):
    """The multivariate log-gamma function of dimension ``p``."""
    if not isinstance(p, int) or p < 1:
        raise ValueError(f"multigammaln: p has to be greater than or equal to 1, got {p!r}")
    total = p * (p - 1) / 4 * math.log(math.pi)
    for j in range(p):
        total = total + lgamma(input - j / 2)
    return total


def softmax(input, dim, *, dtype=None):
    return _ops.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    return _ops.log_softmax(input, dim, dtype=dtype)
