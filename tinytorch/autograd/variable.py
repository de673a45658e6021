"""``Variable``: the pre-0.4 wrapper, kept as torch keeps it — calling it returns a plain Tensor."""
from __future__ import annotations

import warnings
from ..tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        return isinstance(other, Tensor)  # every tensor "is" a Variable, as in torch


class Variable(metaclass=_VariableMeta):
    """``Variable(t, requires_grad=False)``: a tensor sharing ``t``'s data, cut from its graph.

    Deprecated in PyTorch since 0.4 and still common in older scripts; ``volatile`` only warns.
    """

    def __new__(cls, data, requires_grad: bool = False, volatile: bool = False):
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                          UserWarning, stacklevel=2)
        return data.detach().requires_grad_(bool(requires_grad))
