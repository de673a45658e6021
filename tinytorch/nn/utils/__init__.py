"""``tinytorch.nn.utils``: gradient clipping and parameter/vector conversion."""
from __future__ import annotations

from .clip_grad import clip_grad_norm_, clip_grad_norm, clip_grad_value_, get_total_norm, clip_grads_with_norm_  # noqa: F401
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from . import rnn  # noqa: F401
from .weight_norm import weight_norm, remove_weight_norm
from .spectral_norm import spectral_norm, remove_spectral_norm

__all__ = [
    "clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
    "parameters_to_vector", "vector_to_parameters", "rnn", "weight_norm", "remove_weight_norm",
    "spectral_norm", "remove_spectral_norm",
]
