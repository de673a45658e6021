"""``NegativeBinomial(total_count, probs=None, logits=None)``: successes before ``total_count`` failures."""
from __future__ import annotations

from ..autograd import no_grad
from ..ops.gamma import _standard_gamma, lgamma
from ..tensor import Size
from . import constraints
from ._common import ProbsOrLogits, draw
from .distribution import Distribution
from ..nn.functional import logsigmoid
from ..ops import where

__all__ = ["NegativeBinomial"]


class NegativeBinomial(ProbsOrLogits, Distribution):
    """Number of successful Bernoulli(``probs``) trials before ``total_count`` failures (a Gamma-Poisson mixture)."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0), "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        (total_count,) = self._set_probs_or_logits(probs, logits, total_count)
        self.total_count = total_count.type_as(self._param)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_to(NegativeBinomial, batch_shape, _instance, ("total_count",))

    @property
    def mean(self):
        return self.total_count * self.logits.exp()

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / (-self.logits).sigmoid()

    def sample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        with no_grad():
            # Poisson(rate) with rate ~ Gamma(total_count, rate=exp(-logits))
            rate = _standard_gamma(self.total_count.expand(shape)) * self.logits.exp().expand(shape)
            return draw(rate, "poisson", rate)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_unnormalized_prob = self.total_count * logsigmoid(-self.logits) + value * logsigmoid(self.logits)
        log_normalization = -lgamma(self.total_count + value) + lgamma(1.0 + value) + lgamma(self.total_count)
        # total_count == value == 0: the log-normalisation is 0, not lgamma(0) - lgamma(0)
        log_normalization = where(self.total_count + value == 0.0, 0.0, log_normalization)
        return log_unnormalized_prob - log_normalization
