"""Small tensor helpers the distributions share (private)."""
from __future__ import annotations

import math
import numbers

from ..tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits
from ..special import xlogy as _xlogy
from .._compat import finfo as _finfo
from ..creation import randn, rand
import numpy as np
from ..random import _gen


def as_size(shape) -> Size:
    return shape if isinstance(shape, Size) else Size(tuple(shape))


def log_of(x):
    """``log`` of a number or a tensor."""
    return math.log(x) if isinstance(x, numbers.Number) else x.log()


def xlogy(x, y):
    """``x * log(y)`` with 0 where x == 0 (also for y == 0), and gradients free of NaN there."""
    return _xlogy(x, y)


def finfo(t: Tensor):
    return _finfo(t.dtype)


def standard_normal(shape, like: Tensor):
    return randn(*tuple(shape), dtype=like.dtype, device=like.device)


def standard_uniform(shape, like: Tensor):
    return rand(*tuple(shape), dtype=like.dtype, device=like.device)


def expand_params(dist, cls, batch_shape, _instance, names, event_shape=Size()):
    """``cls.expand`` for a ``cls`` whose parameters ``names`` all have the batch shape: a new instance (or
    ``_instance``) holding expanded views of them, with the shapes set but no arguments validated again."""
    new = dist._get_checked_instance(cls, _instance)
    batch_shape = as_size(batch_shape)
    for name in names:
        setattr(new, name, getattr(dist, name).expand(tuple(batch_shape)))
    # Distribution's own __init__: a mixin such as LocScale may sit between cls and it in the MRO
    Distribution.__init__(new, batch_shape, event_shape, validate_args=False)
    new._validate_args = dist._validate_args
    return new


def draw(like: Tensor, method: str, *params: Tensor):
    """Integer-valued draws from the generator of ``like``'s device (NumPy's or CuPy's ``method``),
    one per element of the (equal-shaped) ``params``, returned with ``like``'s dtype, outside autograd."""

    rng = _gen(None).for_device(like.device)
    arrays = [p.detach()._data.astype(np.float64) for p in params]
    if method == "binomial":
        arrays[0] = arrays[0].astype(np.int64)
    out = getattr(rng, method)(*arrays, size=arrays[0].shape)
    return Tensor._make(out.astype(like._data.dtype))


class ProbsOrLogits:
    """Mixin for distributions given exactly one of ``probs`` and ``logits``; the other is derived lazily.

    ``_binary`` selects the sigmoid pair (one success probability per element) or, when False, the softmax
    pair over the last dim. ``_param`` is whichever of the two was given.
    """

    _binary = True

    def _set_probs_or_logits(self, probs, logits, *others):
        """Broadcast ``others`` with the given parameter, store it, and return the broadcast ``others``."""
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        name, value = ("probs", probs) if probs is not None else ("logits", logits)
        *others, param = broadcast_all(*others, value)  # others first: numbers take the first tensor's dtype
        setattr(self, name, param)
        self._param = param
        return others

    def _expand_probs_or_logits(self, new, param_shape):
        """Give ``new`` this instance's stored probs and/or logits, expanded to ``param_shape``."""
        for name in ("probs", "logits"):
            if name in self.__dict__:
                new._param = self.__dict__[name].expand(tuple(param_shape))
                setattr(new, name, new._param)

    def _expand_to(self, cls, batch_shape, _instance, names=()):
        """``cls.expand``: ``expand_params`` over ``names``, plus whichever of probs/logits this instance holds."""
        new = expand_params(self, cls, batch_shape, _instance, names)
        self._expand_probs_or_logits(new, batch_shape)
        return new

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=self._binary)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=self._binary)

    @property
    def param_shape(self):
        return self._param.size()


class CategoricalParams:
    """Mixin for distributions built on a ``Categorical`` (``_categorical``): its ``probs``, ``logits``, shape."""

    def _set_categorical(self, probs, logits):
        """Build ``_categorical``; returns ``(batch_shape, event_shape)`` (event: the K categories)."""
        from .categorical import Categorical  # cycle: categorical imports this module

        self._categorical = Categorical(probs, logits)
        return self._categorical.batch_shape, self._categorical.param_shape[-1:]

    def _expand_to(self, cls, batch_shape, _instance):
        """``cls.expand``: ``_categorical`` expanded to ``batch_shape``, the event shape kept."""
        new = expand_params(self, cls, batch_shape, _instance, (), self.event_shape)
        new._categorical = self._categorical.expand(batch_shape)
        return new

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def param_shape(self):
        return self._categorical.param_shape


class RelaxedParams:
    """Mixin for a relaxation built as a transformed ``base_dist``: the base's ``temperature``, ``logits``, ``probs``."""

    @property
    def temperature(self):
        return self.base_dist.temperature

    @property
    def logits(self):
        return self.base_dist.logits

    @property
    def probs(self):
        return self.base_dist.probs


class LocScale:
    """Mixin for location-scale families on the real line (Normal, Laplace, Cauchy): ``loc`` and positive
    ``scale`` broadcast together to the batch shape; reparameterised; the mode is ``loc``."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.size(), validate_args=validate_args)

    @property
    def mode(self):
        return self.loc
