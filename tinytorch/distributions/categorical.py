"""``Categorical(probs=None, logits=None)``: one of K categories per batch element."""
from __future__ import annotations

from ..autograd import no_grad
from ..tensor import Size
from . import constraints
from ._common import ProbsOrLogits, as_size, expand_params, finfo, standard_uniform
from .distribution import Distribution
from ..creation import full, arange
from ..ops import broadcast_tensors

__all__ = ["Categorical"]


class Categorical(ProbsOrLogits, Distribution):
    """Categorical distribution over ``{0, ..., K-1}`` given ``probs`` or ``logits`` of shape (..., K).

    ``probs`` need not sum to one (they are normalised); ``logits`` are unnormalised log-probabilities.
    Samples are int64 indices of shape ``sample_shape + batch_shape``.

    >>> m = Categorical(tinytorch.tensor([0.25, 0.25, 0.25, 0.25]))
    >>> m.sample()   # 0, 1, 2 or 3, equally likely
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True
    _binary = False

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.size()[-1]
        batch_shape = self._param.size()[:-1] if self._param.dim() > 1 else Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = expand_params(self, Categorical, batch_shape, _instance, ())
        self._expand_probs_or_logits(new, tuple(new.batch_shape) + (self._num_events,))
        new._num_events = self._num_events
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def mean(self):
        return full(tuple(self._extended_shape()), float("nan"), dtype=self.probs.dtype, device=self.probs.device)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return full(tuple(self._extended_shape()), float("nan"), dtype=self.probs.dtype, device=self.probs.device)

    def sample(self, sample_shape=Size()):
        """Indices drawn by inverting each row's CDF at a uniform draw (on the parameters' device)."""
        sample_shape = as_size(sample_shape)
        with no_grad():
            cdf = self.probs.cumsum(-1)
            shape = tuple(sample_shape) + tuple(self._batch_shape)
            u = standard_uniform(shape + (1,), cdf) * cdf[..., -1:]
            # the number of categories whose cumulative mass is <= u is the sampled index
            index = (cdf.expand(shape + (self._num_events,)) <= u).sum(-1)
            return index.clamp(max=self._num_events - 1).long()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = broadcast_tensors(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self):
        min_real = finfo(self.logits).min
        logits = self.logits.clamp(min=min_real)
        p_log_p = logits * self.probs
        return -p_log_p.sum(-1)

    def enumerate_support(self, expand=True):
        values = arange(self._num_events, dtype=None, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
