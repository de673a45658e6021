"""``Laplace(loc, scale)``: the double-exponential distribution."""
from __future__ import annotations

from ..tensor import Size
from ._common import LocScale, expand_params, finfo, standard_uniform
from .distribution import Distribution

__all__ = ["Laplace"]


class Laplace(LocScale, Distribution):
    """Laplace distribution with location ``loc`` and scale ``scale`` (density exp(-|x-loc|/scale) / (2 scale))."""

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, Laplace, batch_shape, _instance, ("loc", "scale"))

    @property
    def mean(self):
        return self.loc

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    @property
    def stddev(self):
        return (2 ** 0.5) * self.scale

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        eps = finfo(self.loc).eps
        # u uniform on (eps - 1, 1): the open lower end keeps log1p(-|u|) finite
        u = standard_uniform(shape, self.loc) * (2 - eps) + (eps - 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 - 0.5 * (value - self.loc).sign() * (-(value - self.loc).abs() / self.scale).expm1()

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self):
        return 1 + (2 * self.scale).log()
