"""``Dirichlet(concentration)``: distributions over the probability simplex."""
from __future__ import annotations

from ..ops.gamma import _standard_gamma, digamma, lgamma
from ..tensor import Size
from . import constraints
from ._common import expand_params, finfo, xlogy
from .exp_family import ExponentialFamily
from ..creation import zeros_like
from ..ops import where

__all__ = ["Dirichlet"]


class Dirichlet(ExponentialFamily):
    """Dirichlet distribution with ``concentration`` of shape (..., K); events are K-vectors summing to one.

    ``rsample`` normalises reparameterised Gamma draws, so gradients reach ``concentration``
    (torch differentiates its sampler differently; both estimators are unbiased).
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = expand_params(self, Dirichlet, batch_shape, _instance, (), self.event_shape)
        new.concentration = self.concentration.expand(tuple(new.batch_shape) + tuple(self.event_shape))
        return new

    def rsample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        gammas = _standard_gamma(self.concentration.expand(shape))
        value = gammas / gammas.sum(-1, keepdim=True)
        return value.clamp(min=finfo(value).tiny, max=1 - finfo(value).eps)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (xlogy(self.concentration - 1.0, value).sum(-1) + lgamma(self.concentration.sum(-1))
                - lgamma(self.concentration).sum(-1))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        concentrationm1 = (self.concentration - 1).clamp(min=0.0)
        mode = concentrationm1 / concentrationm1.sum(-1, keepdim=True)
        # all concentrations below one: the density peaks at a vertex; torch reports the first one
        all_below = (self.concentration < 1).all(-1, keepdim=True)
        first_vertex = zeros_like(mode)
        first_vertex[..., 0] = 1.0
        return where(all_below, first_vertex, mode)

    @property
    def variance(self):
        con0 = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def entropy(self):
        k = self.concentration.size(-1)
        a0 = self.concentration.sum(-1)
        return (lgamma(self.concentration).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0)
                - ((self.concentration - 1.0) * digamma(self.concentration)).sum(-1))

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return lgamma(x).sum(-1) - lgamma(x.sum(-1))
