"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_``, in place on ``.grad``."""
from __future__ import annotations

import math

from ... import _arrays
from ...tensor import Tensor
from ...creation import tensor as _tensor

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _as_list(tensors):
    if isinstance(tensors, Tensor):
        return [tensors]
    return list(tensors)


def _grads(parameters):
    return [p._grad for p in _as_list(parameters) if p._grad is not None]


def _norm_of(arr, norm_type):
    """The ``norm_type``-norm of one array, as a float64 0-d array on its device."""
    xp = _arrays.array_module(arr)
    if norm_type == 2.0 and arr.dtype.kind == "f":  # the common case: one dot product, two passes over the data
        a = arr.astype(xp.float64).ravel()
        return xp.sqrt(xp.dot(a, a))
    a = xp.abs(arr.astype(xp.float64))
    if norm_type == math.inf:
        return a.max() if a.size else xp.zeros((), xp.float64)
    if norm_type == -math.inf:
        return a.min() if a.size else xp.zeros((), xp.float64)
    if norm_type == 0:
        return (a != 0).sum().astype(xp.float64)
    return (a ** norm_type).sum() ** (1.0 / norm_type)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """The norm of the norms of ``tensors`` (as if they were one concatenated vector)."""
    norm_type = float(norm_type)
    tensors = [t for t in _as_list(tensors) if t is not None]
    if not tensors:
        return _tensor(0.0)
    devs = {str(t.device) for t in tensors}
    if len(devs) > 1:
        raise RuntimeError(f"get_total_norm: expected all tensors on one device, got {sorted(devs)}")
    xp = _arrays.array_module(tensors[0]._data)
    norms = xp.stack([_norm_of(t._data, norm_type) for t in tensors])
    total = _norm_of(norms, norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return Tensor._make(total.astype(tensors[0]._data.dtype))


def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor, foreach=None) -> None:
    """Scale every grad by min(1, max_norm / (total_norm + 1e-6))."""
    grads = _grads(parameters)
    if not grads:
        return
    coef = float(max_norm) / (float(total_norm.item()) + 1e-6)
    coef = min(coef, 1.0)
    for g in grads:
        g._data *= g._data.dtype.type(coef)
        g._vc[0] += 1


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Rescale the gradients so their joint ``norm_type``-norm is at most ``max_norm``.

    Returns the total norm before clipping (a 0-d tensor), like torch.
    """
    params = _as_list(parameters)
    grads = _grads(params)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """Deprecated alias of ``clip_grad_norm_``."""
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        xp = _arrays.array_module(g._data)
        xp.clip(g._data, -clip_value, clip_value, out=g._data)
        g._vc[0] += 1
