"""Small tensor helpers the distributions share (private)."""
from __future__ import annotations

import math
import numbers

from ..tensor import Size, Tensor


def as_size(shape) -> Size:
    return shape if isinstance(shape, Size) else Size(tuple(shape))


def log_of(x):
    """``log`` of a number or a tensor."""
    return math.log(x) if isinstance(x, numbers.Number) else x.log()


def xlogy(x, y):
    """``x * log(y)`` with 0 where x == 0 (also for y == 0), and gradients free of NaN there."""
    from ..special import xlogy as _xlogy

    return _xlogy(x, y)


def finfo(t: Tensor):
    from .._compat import finfo as _finfo

    return _finfo(t.dtype)


def standard_normal(shape, like: Tensor):
    from ..creation import randn

    return randn(*tuple(shape), dtype=like.dtype, device=like.device)


def standard_uniform(shape, like: Tensor):
    from ..creation import rand

    return rand(*tuple(shape), dtype=like.dtype, device=like.device)


def expand_params(dist, new, batch_shape, names, shape_of=lambda b: b):
    """Copy each parameter in ``names`` found on ``dist`` onto ``new``, expanded to ``shape_of(batch_shape)``."""
    for name in names:
        if name in dist.__dict__:
            setattr(new, name, dist.__dict__[name].expand(tuple(shape_of(batch_shape))))


def draw(like: Tensor, method: str, *params: Tensor):
    """Integer-valued draws from the generator of ``like``'s device (NumPy's or CuPy's ``method``),
    one per element of the (equal-shaped) ``params``, returned with ``like``'s dtype, outside autograd."""
    import numpy as np

    from ..random import _gen

    rng = _gen(None).for_device(like.device)
    arrays = [p.detach()._data.astype(np.float64) for p in params]
    if method == "binomial":
        arrays[0] = arrays[0].astype(np.int64)
    out = getattr(rng, method)(*arrays, size=arrays[0].shape)
    return Tensor._make(out.astype(like._data.dtype))
