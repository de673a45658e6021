"""In-place variants (``add_``, ``mul_``, ``zero_`` ...), all through ``_common.inplace``.

Each is its out-of-place op plus the shared write-back/version-counter mechanism: the result
is written into the tensor's memory (views and aliases see it), and autograd sees the in-place
op as the out-of-place one it computes (through the base's CopySlices node for a view).
"""
from __future__ import annotations

from .. import _arrays
from ..tensor import Tensor
from ._common import inplace, ensure_tensor
from . import elementwise as _ew
from . import shape as _shape
from .convert import to_dtype, clone, to
from . import index as _index

_UNARY = (
    "neg_", "abs_", "sqrt_", "rsqrt_", "exp_", "expm1_", "log_", "log1p_", "log2_", "log10_", "sigmoid_", "tanh_",
    "relu_", "sin_", "cos_", "tan_", "floor_", "ceil_", "trunc_", "frac_", "sign_", "reciprocal_", "square_",
    "erf_", "erfinv_", "nan_to_num_",
)
TENSOR_METHODS = (
    "add_", "sub_", "mul_", "div_", "zero_", "fill_", "copy_", "setitem_",
    "clamp_", "clip_", "clamp_min_", "clamp_max_", "pow_", "round_", "lerp_", "addcmul_", "addcdiv_",
    "remainder_", "fmod_", "floor_divide_", "atan2_", "hypot_", "logical_not_", "bitwise_not_",
) + _UNARY
# relu_ is exported by activation (torch.relu_, F.relu_); the copy here serves elementwise.relu(inplace=True)
__all__ = [n for n in TENSOR_METHODS if n != "relu_"]


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
    v = ensure_tensor(value, "fill_", like=self)
    if v._data.ndim != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {v._data.ndim} dimensions")
    if v._data.dtype != self._data.dtype:
        v = to_dtype(v, self._data.dtype)
    if v._requires_grad:  # differentiable w.r.t. the fill value; self's old value gets no gradient

        return inplace(self, lambda: clone(_shape.expand(v, tuple(self._data.shape))), "fill_")
    return inplace(self, lambda: _filled(self, v), "fill_")


def _filled(self, v):
    xp = _arrays.array_module(self._data)
    return Tensor._make(xp.full(self._data.shape, v._data, dtype=self._data.dtype))


def zero_(self):
    """Set every element to 0."""
    return fill_(self, 0)


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast, moved across devices) into ``self``."""
    if not isinstance(src, Tensor):
        src = ensure_tensor(src, "copy_", like=self)

    def compute():
        s = _shape.expand(to(src, device=self.device, dtype=self.dtype), tuple(self._data.shape))
        return clone(s)  # a fresh result, recorded against src only: self's old value gets no gradient

    return inplace(self, compute, "copy_")


def setitem_(self, index, value):
    return _index.setitem_(self, index, value)


# ---- elementwise in-place variants -------------------------------------------------------------

def clamp_(self, min=None, max=None):  # noqa: A002 - torch's names
    """In-place ``clamp``."""
    return inplace(self, lambda: _ew.clamp(self, min, max), "clamp_")


def clip_(self, min=None, max=None):  # noqa: A002
    """In-place ``clip`` (alias of ``clamp_``)."""
    return inplace(self, lambda: _ew.clamp(self, min, max), "clip_")


def clamp_min_(self, min):  # noqa: A002
    """In-place ``clamp(min=min)``."""
    return inplace(self, lambda: _ew.clamp(self, min=min), "clamp_min_")


def clamp_max_(self, max):  # noqa: A002
    """In-place ``clamp(max=max)``."""
    return inplace(self, lambda: _ew.clamp(self, max=max), "clamp_max_")


def pow_(self, exponent):
    """In-place ``self ** exponent``."""
    return inplace(self, lambda: _ew.pow(self, exponent), "pow_")


def round_(self, *, decimals=0):
    """In-place ``round``."""
    return inplace(self, lambda: _ew.round(self, decimals=decimals), "round_")


def lerp_(self, end, weight):
    """In-place ``lerp``: ``self += weight * (end - self)``."""
    return inplace(self, lambda: _ew.lerp(self, end, weight), "lerp_")


def addcmul_(self, tensor1, tensor2, *, value=1):
    """In-place ``addcmul``: ``self += value * tensor1 * tensor2``."""
    return inplace(self, lambda: _ew.addcmul(self, tensor1, tensor2, value=value), "addcmul_")


def addcdiv_(self, tensor1, tensor2, *, value=1):
    """In-place ``addcdiv``: ``self += value * tensor1 / tensor2``."""
    return inplace(self, lambda: _ew.addcdiv(self, tensor1, tensor2, value=value), "addcdiv_")


def remainder_(self, other):
    """In-place ``remainder`` (Python's ``%``)."""
    return inplace(self, lambda: _ew.remainder(self, other), "remainder_")


def fmod_(self, other):
    """In-place ``fmod``."""
    return inplace(self, lambda: _ew.fmod(self, other), "fmod_")


def floor_divide_(self, other):
    """In-place ``floor_divide`` (Python's ``//``)."""
    return inplace(self, lambda: _ew.floor_divide(self, other), "floor_divide_")


def atan2_(self, other):
    """In-place ``atan2``."""
    return inplace(self, lambda: _ew.atan2(self, other), "atan2_")


def hypot_(self, other):
    """In-place ``hypot``."""
    return inplace(self, lambda: _ew.hypot(self, other), "hypot_")


def logical_not_(self):
    """In-place ``logical_not`` (the result is cast back to ``self``'s dtype)."""
    return inplace(self, lambda: _ew.logical_not(self), "logical_not_")


def bitwise_not_(self):
    """In-place ``bitwise_not``."""
    return inplace(self, lambda: _ew.bitwise_not(self), "bitwise_not_")


def _unary_inplace(name):
    fn = getattr(_ew, name[:-1])

    def op(self):
        return inplace(self, lambda: fn(self), name)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"In-place ``{name[:-1]}``."
    return op


for _name in _UNARY:
    globals()[_name] = _unary_inplace(_name)
del _name
