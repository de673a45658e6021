"""``Parameter`` (a learnable tensor a Module registers) and ``Buffer`` (state a Module saves)."""
from __future__ import annotations

from ..tensor import Tensor
from ..creation import empty

__all__ = ["Parameter", "Buffer"]


class Parameter(Tensor):
    """A tensor that a ``Module`` registers as a parameter when assigned as an attribute.

    ``Parameter(data=None, requires_grad=True)`` wraps ``data``'s array without copying; the
    parameter is a fresh leaf (no history). ``Module.to()`` swaps its array in place, so the
    same Parameter object (and the optimizers holding it) survives device and dtype moves.
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter: expected a Tensor as data, got {type(data).__name__}")
        obj = object.__new__(cls)
        Tensor._init(obj, data._data, False, None, 0, None)
        obj.requires_grad_(bool(requires_grad))
        return obj

    def __init__(self, data=None, requires_grad=True):
        pass  # all the work happens in __new__ (Tensor.__init__ must not run again)

    @classmethod
    def _from_tensor(cls, t: Tensor) -> "Parameter":
        """A Parameter wrapping ``t``'s array, keeping its grad (used by deepcopy)."""
        p = cls(t, t._requires_grad)
        p._grad = t._grad
        return p


class _BufferMeta(type):
    # a Buffer is a plain Tensor carrying a marker, so isinstance asks for the marker
    def __instancecheck__(cls, instance):
        if cls is Buffer and isinstance(instance, Tensor):
            return bool(instance.__dict__.get("_is_buffer", False))
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute.

    ``Buffer(data=None, *, persistent=True)`` returns a detached plain Tensor sharing
    ``data``'s array; non-persistent buffers are left out of ``state_dict()``.
    """

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer: expected a Tensor as data, got {type(data).__name__}")
        t = Tensor._make(data._data)
        t._requires_grad = data._requires_grad
        t.__dict__["persistent"] = bool(persistent)
        t.__dict__["_is_buffer"] = True
        return t
