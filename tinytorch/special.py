"""``tinytorch.special``: the ``torch.special`` namespace (gamma family, error functions, logits, xlogy ...).

Each function composes differentiable tinytorch ops, so gradients flow through all of them.
"""
from __future__ import annotations

import math

from . import ops as _ops
from .ops.gamma import digamma, igamma, igammac, lgamma, polygamma
from .tensor import Tensor

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
    from .creation import as_tensor

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


def xlogy(input, other):
    """``input * log(other)``, and 0 where ``input == 0`` unless ``other`` is NaN (as torch).

    The gradient in ``input`` is ``log(other)`` (0 where both are 0), in ``other`` ``input / other``.
    """
    x = _tensor(input, other if isinstance(other, Tensor) else None)
    y = _tensor(other, x)
    # where x == 0, log must not produce -inf/NaN that 0 * ... would turn into NaN
    guard = (x == 0) & ((y <= 0) | y.isinf())
    return x * _ops.where(guard, 1.0, y).log()


def xlog1py(input, other):
    """``input * log1p(other)``, and 0 where ``input == 0`` unless ``other`` is NaN."""
    x = _tensor(input, other if isinstance(other, Tensor) else None)
    y = _tensor(other, x)
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
    """The inverse of the standard normal CDF."""
    return math.sqrt(2.0) * _ops.erfinv(2.0 * input - 1.0)


def log_ndtr(input):
    """``log(ndtr(input))`` (accurate while ``ndtr`` does not underflow)."""
    return ndtr(input).log()


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
