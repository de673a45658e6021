"""``tinytorch.distributions``: probability distributions with PyTorch's API (``torch.distributions``).

Each distribution has ``sample``/``rsample`` (reparameterised where torch has it), ``log_prob``,
``entropy``, ``mean``/``mode``/``variance``/``stddev``, ``batch_shape``/``event_shape``, ``expand``,
``cdf``/``icdf`` where torch has them, and validates its arguments (``validate_args``, on by default).
Samples come from tinytorch's generator (``tinytorch.manual_seed``) on the parameters' device.

>>> from tinytorch.distributions import Categorical
>>> m = Categorical(logits=policy(state)); a = m.sample(); loss = -m.log_prob(a) * reward
"""
from __future__ import annotations

from . import constraints, transforms
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .log_normal import LogNormal
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .transformed_distribution import TransformedDistribution
from .transforms import (
    AbsTransform, AffineTransform, ComposeTransform, ExpTransform, IndependentTransform, PowerTransform,
    SigmoidTransform, SoftmaxTransform, SoftplusTransform, TanhTransform, Transform, identity_transform,
)
from .uniform import Uniform

__all__ = [
    "AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Categorical", "ComposeTransform", "Dirichlet",
    "Distribution", "ExpTransform", "Exponential", "ExponentialFamily", "Gamma", "Independent",
    "IndependentTransform", "Laplace", "LogNormal", "MultivariateNormal", "Normal", "OneHotCategorical",
    "PowerTransform", "SigmoidTransform", "SoftmaxTransform", "SoftplusTransform", "TanhTransform", "Transform",
    "TransformedDistribution", "Uniform", "constraints", "identity_transform", "kl_divergence", "register_kl",
    "transforms",
]
