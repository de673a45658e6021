"""``Cauchy(loc, scale)``: the Lorentz distribution (no mean, no variance)."""
from __future__ import annotations

import math

from ..tensor import Size
from ._common import LocScale, expand_params, standard_uniform
from .distribution import Distribution
from ..creation import full

__all__ = ["Cauchy"]


class Cauchy(LocScale, Distribution):
    """Cauchy distribution with median ``loc`` and half width ``scale``; mean and variance are undefined."""

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, Cauchy, batch_shape, _instance, ("loc", "scale"))

    @property
    def mean(self):
        return full(tuple(self._extended_shape()), math.nan, dtype=self.loc.dtype, device=self.loc.device)

    @property
    def variance(self):
        return full(tuple(self._extended_shape()), math.inf, dtype=self.loc.dtype, device=self.loc.device)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        u = standard_uniform(shape, self.loc)
        eps = (math.pi * (u - 0.5)).tan()  # a standard Cauchy draw
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -math.log(math.pi) - self.scale.log() - (((value - self.loc) / self.scale) ** 2).log1p()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value):
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()
