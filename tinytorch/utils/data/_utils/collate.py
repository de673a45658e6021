"""``default_collate`` and ``default_convert``: turn a list of samples into a batch like torch's."""
from __future__ import annotations

import collections.abc
import numbers

import numpy as np

from ....tensor import Tensor
from ....creation import as_tensor, tensor
from ....ops import stack
from .... import _dtype as dtypes

__all__ = ["default_collate", "default_convert"]

_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def default_convert(data):
    """NumPy arrays (of numbers) become tensors; containers are converted element-wise; the rest is kept.

    Used by ``DataLoader(batch_size=None)``, where samples are not batched.
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "SUOa" else as_tensor(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return as_tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        converted = {k: default_convert(v) for k, v in data.items()}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # torch returns a list here too
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        converted = [default_convert(d) for d in data]
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    return data


def _stack_plain(batch):
    """``np.stack`` of same-shaped NumPy-backed tensors that need no graph (the usual batch), else None."""
    first = batch[0]._data
    if type(first) is not np.ndarray:
        return None
    shape, dtype = first.shape, first.dtype
    arrays = []
    for b in batch:
        if not isinstance(b, Tensor) or b._requires_grad:
            return None
        a = b._data
        if type(a) is not np.ndarray or a.shape != shape or a.dtype != dtype:
            return None  # ops.stack promotes dtypes and words the shape error
        arrays.append(a)
    return Tensor._make(np.stack(arrays))


def default_collate(batch):
    """Stack a list of samples into a batch.

    Tensors are stacked on a new first dimension (N, ...); NumPy arrays and NumPy scalars become
    tensors first; Python floats become a float64 tensor, ints an int64 tensor, bools a bool tensor;
    strings stay a list; dicts, namedtuples, tuples and lists are collated field by field (tuples
    give lists, as in torch).
    """
    if len(batch) == 0:
        raise ValueError("default_collate: got an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        out = _stack_plain(batch)
        return out if out is not None else stack(batch, 0)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "SUOa":
            raise TypeError(_ERR.format(elem.dtype))
        return default_collate([as_tensor(b) for b in batch])
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        return as_tensor(np.asarray(batch))
    if isinstance(elem, bool):
        return tensor(batch, dtype=dtypes.bool_)
    if isinstance(elem, float):
        return tensor(batch, dtype=dtypes.float64)
    if isinstance(elem, int):
        return tensor(batch, dtype=dtypes.int64)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = [default_collate(list(s)) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return transposed
        try:
            return type(elem)(transposed)
        except TypeError:
            return transposed
    if isinstance(elem, numbers.Number):
        return tensor(batch)
    raise TypeError(_ERR.format(type(elem)))
