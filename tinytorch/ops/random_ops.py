"""In-place random fills: ``uniform_``, ``normal_``, ``bernoulli_``, ``exponential_``, ``random_`` ...

Samples come from ``tinytorch.random._gen(generator).for_device(t.device)``: NumPy's Generator
on the CPU, CuPy's RandomState on CUDA; only the methods both provide are used. The new values
are written through ``_common.inplace``: into the tensor's memory when nothing is recorded
(``no_grad``, as ``nn.init`` does); on a non-leaf that requires grad the old value gets a zero
gradient. A leaf that requires grad cannot be filled outside ``no_grad``, as in torch.
"""
from __future__ import annotations

import math

import numpy as np

from .. import _arrays
from ..random import _gen
from ..tensor import Tensor
from ._common import inplace, is_scalar

__all__ = ["uniform_", "normal_", "bernoulli_", "exponential_", "random_", "geometric_", "log_normal_", "cauchy_"]
TENSOR_METHODS = tuple(__all__)


def _exp(a):
    return _arrays.array_module(a).exp(a)


def _check_tensor(t, op):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(t).__name__}")


def _check_float(t, op):
    if t._data.dtype.kind not in "fV":
        raise NotImplementedError(f"{op}: not implemented for {t.dtype}: expected a floating point tensor, got "
                                  f"{t.dtype}")


def _fill(t, op, draw, generator):
    """Write ``draw(rng, shape)`` (a float64 or integer array) into ``t``, cast to its dtype."""
    rng = _gen(generator).for_device(t.device)

    def compute():
        values = draw(rng, tuple(t._data.shape)).astype(t._data.dtype, copy=False)
        return Tensor._make(values)

    return inplace(t, compute, op)


def _number(x, op, name):
    if isinstance(x, Tensor) and x._data.ndim == 0:
        x = x.item()
    if not is_scalar(x):
        raise TypeError(f"{op}: expected a number for {name}, got {type(x).__name__}")
    return float(x)


def uniform_(self, from_=0.0, to=1.0, *, generator=None, **kwargs):
    """Fill with samples from the uniform distribution on ``[from_, to)`` (``from`` as a keyword works too)."""
    _check_tensor(self, "uniform_")
    from_ = kwargs.pop("from", from_)
    if kwargs:
        raise TypeError(f"uniform_() got unexpected keyword arguments {sorted(kwargs)}")
    _check_float(self, "uniform_")
    lo, hi = _number(from_, "uniform_", "from"), _number(to, "uniform_", "to")
    if lo > hi:
        raise RuntimeError(f"uniform_: expects to return a [from, to) range, but found from={lo} > to={hi}")
    return _fill(self, "uniform_", lambda g, s: g.uniform(lo, hi, s), generator)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with samples from the normal distribution N(mean, std**2)."""
    _check_tensor(self, "normal_")
    _check_float(self, "normal_")
    mu, sigma = _number(mean, "normal_", "mean"), _number(std, "normal_", "std")
    if sigma < 0:
        raise RuntimeError(f"normal_: expects std >= 0.0, but found std {sigma}")
    return _fill(self, "normal_", lambda g, s: g.standard_normal(s) * sigma + mu, generator)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with ``exp(N(mean, std**2))`` samples."""
    _check_tensor(self, "log_normal_")
    _check_float(self, "log_normal_")
    mu, sigma = _number(mean, "log_normal_", "mean"), _number(std, "log_normal_", "std")
    if sigma <= 0:
        raise RuntimeError(f"log_normal_: expects std > 0.0, but found std={sigma}")
    return _fill(self, "log_normal_", lambda g, s: _exp(g.standard_normal(s) * sigma + mu), generator)


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with Cauchy samples ``median + sigma * tan(pi * (u - 1/2))``."""
    _check_tensor(self, "cauchy_")
    _check_float(self, "cauchy_")
    m, s_ = _number(median, "cauchy_", "median"), _number(sigma, "cauchy_", "sigma")
    if s_ <= 0:
        raise RuntimeError(f"cauchy_: expects sigma > 0.0, but found sigma={s_}")

    def draw(g, s):
        u = g.uniform(0.0, 1.0, s)
        return m + s_ * _arrays.array_module(u).tan(math.pi * (u - 0.5))

    return _fill(self, "cauchy_", draw, generator)


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 with probability ``p`` (a number or a tensor broadcast to ``self``), else 0."""
    _check_tensor(self, "bernoulli_")
    if isinstance(p, Tensor):
        probs = p._data
        bad = bool(((probs < 0) | (probs > 1)).any())
        shape = tuple(self._data.shape)
        try:
            np.broadcast_shapes(tuple(probs.shape), shape)
        except ValueError:
            raise RuntimeError(f"bernoulli_: p of shape {tuple(probs.shape)} can't be broadcast to the tensor's "
                               f"shape {shape}") from None
    else:
        probs = _number(p, "bernoulli_", "p")
        bad = not 0.0 <= probs <= 1.0
    if bad:
        raise RuntimeError(f"bernoulli_: expects p to be in [0, 1], but got p={p if is_scalar(p) else 'a tensor'}")
    return _fill(self, "bernoulli_", lambda g, s: g.uniform(0.0, 1.0, s) < probs, generator)


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with samples from the exponential distribution of rate ``lambd``."""
    _check_tensor(self, "exponential_")
    _check_float(self, "exponential_")
    rate = _number(lambd, "exponential_", "lambd")
    if rate <= 0:
        raise RuntimeError(f"exponential_: expects lambda > 0.0, but found lambda={rate}")
    return _fill(self, "exponential_", lambda g, s: g.exponential(1.0 / rate, s), generator)


def geometric_(self, p, *, generator=None):
    """Fill with the number of Bernoulli(``p``) trials up to the first success (1, 2, ...)."""
    _check_tensor(self, "geometric_")
    prob = _number(p, "geometric_", "p")
    if not 0.0 < prob < 1.0:
        raise RuntimeError(f"geometric_: expects p to be in (0, 1), but got p={prob}")
    return _fill(self, "geometric_", lambda g, s: g.geometric(prob, s), generator)


def _default_upper(t):
    """torch's ``random_()`` range for a dtype: [0, 2**mantissa_bits] for floats, [0, max] for integers."""
    dt = t._data.dtype
    if dt.kind == "b":
        return 2
    if dt.kind in "iu":
        return int(np.iinfo(dt).max) + 1
    return 2 ** (np.finfo(dt).nmant + 1) + 1


def random_(self, from_=None, to=None, *, generator=None, **kwargs):
    """Fill with integers drawn uniformly from ``[from_, to)``; ``random_(to)`` means ``[0, to)``.

    With no bounds the range is ``[0, 2**mantissa_bits]`` for floats and ``[0, max]`` for integers.
    """
    _check_tensor(self, "random_")
    from_ = kwargs.pop("from", from_)
    if kwargs:
        raise TypeError(f"random_() got unexpected keyword arguments {sorted(kwargs)}")
    if from_ is None and to is None:
        lo, hi = 0, _default_upper(self)
    elif to is None:
        lo, hi = 0, int(from_)
    else:
        lo, hi = (0 if from_ is None else int(from_)), int(to)
    if lo >= hi:
        raise RuntimeError(f"random_: expects 'from' to be less than 'to', but got from={lo} >= to={hi}")

    def draw(g, s):
        # the floor of a uniform float: both backends' generators provide uniform, not one integer API
        xp = _arrays.array_module(u := g.uniform(float(lo), float(hi), s))
        return xp.clip(xp.floor(u), lo, hi - 1).astype(np.int64)

    return _fill(self, "random_", draw, generator)
