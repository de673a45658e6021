"""``Gamma(concentration, rate)``, with reparameterised samples by implicit differentiation."""
from __future__ import annotations

from ..ops.gamma import _standard_gamma, digamma, igamma, lgamma
from ..tensor import Size
from . import constraints
from ._common import expand_params, finfo, xlogy
from .exp_family import ExponentialFamily
from .utils import broadcast_all
from ..creation import as_tensor

__all__ = ["Gamma"]


class Gamma(ExponentialFamily):
    """Gamma distribution: density ``rate^a x^(a-1) e^(-rate x) / Gamma(a)``, ``a = concentration``.

    ``rsample`` is differentiable in both parameters: the gradient in ``concentration`` is the exact
    implicit-reparameterisation gradient -(dF/da) / (dF/dx) of the sample at its CDF value.
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, Gamma, batch_shape, _instance, ("concentration", "rate"))

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        return value.clamp(min=finfo(value).tiny)  # the division may underflow to 0

    def log_prob(self, value):
        value = as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return (xlogy(self.concentration, self.rate) + xlogy(self.concentration - 1, value)
                - self.rate * value - lgamma(self.concentration))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return igamma(self.concentration, self.rate * value)

    def entropy(self):
        return (self.concentration - self.rate.log() + lgamma(self.concentration)
                + (1.0 - self.concentration) * digamma(self.concentration))

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return lgamma(x + 1) + (x + 1) * (-y.reciprocal()).log()
