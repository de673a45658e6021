"""``Geometric(probs=None, logits=None)``: failures before the first success."""
from __future__ import annotations

from ..autograd import no_grad
from ..tensor import Size
from . import constraints
from ._common import ProbsOrLogits, finfo, standard_uniform
from .distribution import Distribution
from .utils import broadcast_all
from ..creation import zeros_like
from ..ops import where
from ..nn.functional import binary_cross_entropy_with_logits

__all__ = ["Geometric"]


class Geometric(ProbsOrLogits, Distribution):
    """Number of failures before the first success in Bernoulli(``probs``) trials: P(k) = (1-p)^k p."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._set_probs_or_logits(probs, logits)
        super().__init__(self._param.size(), validate_args=validate_args)
        if self._validate_args and probs is not None:
            # beyond unit_interval: a zero success probability never succeeds
            value = self.probs
            if not bool((value > 0).all()):
                raise ValueError(
                    f"Expected parameter probs ({type(value).__name__} of shape {tuple(value.shape)}) of distribution "
                    f"{self!r} to be positive but found invalid values:\n{value}")

    def expand(self, batch_shape, _instance=None):
        return self._expand_to(Geometric, batch_shape, _instance)

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return zeros_like(self.probs)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        tiny = finfo(self.probs).tiny
        with no_grad():
            u = standard_uniform(shape, self.probs).clamp(min=tiny)
            return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        # p == 1 and k == 0: 0 * log(0) is 0 here, not NaN
        probs_for_log1p = where((probs == 1) & (value == 0), 0.0, probs)
        return value * (-probs_for_log1p).log1p() + self.probs.log()

    def entropy(self):
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none") / self.probs
