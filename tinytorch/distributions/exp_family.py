"""``ExponentialFamily``: a marker base class for exponential-family distributions, as in torch."""
from __future__ import annotations

from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base for distributions of the form p(x; theta) = exp(<t(x), theta> - F(theta) + k(x)).

    Subclasses here compute ``entropy`` in closed form; torch's generic Bregman-divergence entropy
    and KL between two members of the same family are not provided.
    """

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError
