"""In-place variants (``add_``, ``mul_``, ``zero_`` ...), all through ``_common.inplace``.

Each is its out-of-place op plus the shared rebinding/version-counter mechanism, so
autograd sees an in-place op exactly as the out-of-place one it computes.
"""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from ._common import inplace, ensure_tensor
from . import elementwise as _ew

TENSOR_METHODS = ("add_", "sub_", "mul_", "div_", "zero_", "fill_", "copy_", "setitem_")


def add_(self, other, *, alpha=1):
    return inplace(self, lambda: _ew.add(self, other, alpha=alpha), "add_")


def sub_(self, other, *, alpha=1):
    return inplace(self, lambda: _ew.sub(self, other, alpha=alpha), "sub_")


def mul_(self, other):
    return inplace(self, lambda: _ew.mul(self, other), "mul_")


def div_(self, other, *, rounding_mode=None):
    return inplace(self, lambda: _ew.div(self, other, rounding_mode=rounding_mode), "div_")


def fill_(self, value):
    """Set every element to ``value`` (a number or a 0-d tensor; differentiable w.r.t. a tensor value)."""
    from .shape import expand

    v = ensure_tensor(value, "fill_", like=self)
    if v._data.ndim != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {v._data.ndim} dimensions")
    if v._data.dtype != self._data.dtype:
        from .convert import to_dtype

        v = to_dtype(v, self._data.dtype)
    if v._requires_grad:  # differentiable w.r.t. the fill value; self's old value gets no gradient
        from .convert import clone

        return inplace(self, lambda: clone(expand(v, tuple(self._data.shape))), "fill_")
    return inplace(self, lambda: _filled(self, v), "fill_")


def _filled(self, v):
    xp = backend.array_module(self._data)
    return Tensor._make(xp.full(self._data.shape, v._data, dtype=self._data.dtype))


def zero_(self):
    """Set every element to 0."""
    return fill_(self, 0)


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast, moved across devices) into ``self``."""
    from .convert import to, clone
    from .shape import expand

    if not isinstance(src, Tensor):
        src = ensure_tensor(src, "copy_", like=self)

    def compute():
        s = expand(to(src, device=self.device, dtype=self.dtype), tuple(self._data.shape))
        return clone(s)  # a fresh result, recorded against src only: self's old value gets no gradient

    return inplace(self, compute, "copy_")


def setitem_(self, index, value):
    from .index import setitem_ as _set

    return _set(self, index, value)
