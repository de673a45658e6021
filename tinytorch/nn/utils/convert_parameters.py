"""``parameters_to_vector`` and ``vector_to_parameters``."""
from __future__ import annotations

from ...tensor import Tensor
from ... import ops

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters) -> Tensor:
    """Concatenate the flattened parameters into one 1-D tensor (differentiable)."""
    params = list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    devs = {str(p.device) for p in params}
    if len(devs) > 1:
        raise TypeError(f"Found two parameters on different devices, this is currently not supported: {sorted(devs)}")
    return ops.cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters' data (in place, unrecorded)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    if vec.dim() != 1:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector, got shape {tuple(vec.shape)}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if total != vec.numel():
        raise ValueError(f"vector_to_parameters: vector has {vec.numel()} elements, parameters need {total}")
    offset = 0
    for p in params:
        n = p.numel()
        p._data = vec._data[offset:offset + n].reshape(tuple(p.shape)).astype(p._data.dtype, copy=True)
        p._vc[0] += 1
        offset += n
