"""``Exponential(rate)``: waiting times of a Poisson process."""
from __future__ import annotations

from ..tensor import Size
from . import constraints
from ._common import expand_params, finfo, standard_uniform
from .exp_family import ExponentialFamily
from .utils import broadcast_all
from ..creation import zeros_like

__all__ = ["Exponential"]


class Exponential(ExponentialFamily):
    """Exponential distribution with density ``rate * exp(-rate * x)`` on x >= 0."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, Exponential, batch_shape, _instance, ("rate",))

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return zeros_like(self.rate)

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        # -log(1 - u) with u in [0, 1): a standard exponential draw, never infinite
        u = standard_uniform(shape, self.rate).clamp(max=1 - finfo(self.rate).eps / 2)
        return -(-u).log1p() / self.rate

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value):
        return -(-value).log1p() / self.rate

    def entropy(self):
        return 1.0 - self.rate.log()

    @property
    def _natural_params(self):
        return (-self.rate,)

    def _log_normalizer(self, x):
        return -(-x).log()
