"""Helpers shared by the distributions: argument broadcasting, probs <-> logits, cached properties."""
from __future__ import annotations

import numbers
from functools import update_wrapper

from .. import _dtype
from ..autograd import enable_grad
from ..tensor import Tensor
from ..creation import tensor
from ..ops import broadcast_tensors, sigmoid, softmax
from .._compat import finfo

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits"]


def broadcast_all(*values):
    """Broadcast tensors and numbers to one shape; numbers take the dtype and device of the first tensor.

    >>> loc, scale = broadcast_all(tinytorch.zeros(3), 1.0)   # both of shape (3,)
    """
    for v in values:
        if not isinstance(v, (Tensor, numbers.Number)):
            raise ValueError(f"Input arguments must all be instances of numbers.Number or Tensor, got {type(v).__name__}")
    like = next((v for v in values if isinstance(v, Tensor)), None)
    if like is None:
        dtype, device = _dtype.get_default_dtype(), None
    else:
        dtype, device = like.dtype, like.device
    values = [v if isinstance(v, Tensor) else tensor(v, dtype=dtype, device=device) for v in values]
    return broadcast_tensors(*values)


def _sum_rightmost(value, dim: int):
    """Sum over the ``dim`` right-most dims (0: unchanged)."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:value.dim() - dim]) + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary: bool = False):
    """Sigmoid of ``logits`` when binary, else the softmax over the last dim."""
    if is_binary:
        return sigmoid(logits)
    return softmax(logits, dim=-1)


def clamp_probs(probs):
    """Clamp into ``[eps, 1 - eps]`` (eps of the dtype) so log-probabilities stay finite."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary: bool = False):
    """``log(p) - log1p(-p)`` when binary, else ``log(p)`` (probabilities clamped first)."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return ps_clamped.log() - (-ps_clamped).log1p()
    return ps_clamped.log()


class lazy_property:  # noqa: N801 - torch's name
    """A property computed on first access and then stored on the instance (``probs`` <-> ``logits``).

    Computed under ``enable_grad`` so the cached value keeps its graph even if first read under ``no_grad``.
    """

    def __init__(self, wrapped):
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):  # noqa: N801
    """What ``Class.attr`` returns for a lazy property: behaves as a property for introspection."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)
