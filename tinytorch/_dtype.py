"""dtypes (``tinytorch.float32`` ...) and PyTorch's type-promotion rules."""
from __future__ import annotations

import builtins

import numpy as np

try:  # bfloat16 on NumPy comes from ml_dtypes, an optional dependency
    import ml_dtypes as _ml_dtypes

    _BF16 = np.dtype(_ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover - exercised only without the extra
    _ml_dtypes = None
    _BF16 = None


class dtype:
    """A tensor element type, printed like torch's (``tinytorch.float32``)."""

    __slots__ = ("name", "np", "_np", "is_floating_point", "is_complex", "is_signed", "itemsize", "_kind")

    def __new__(cls, name, np_dtype, kind, itemsize):
        if np_dtype is None and cls is dtype:
            cls = _UnavailableDtype  # its .np explains which package is missing
        return object.__new__(cls)

    def __init__(self, name, np_dtype, kind, itemsize):
        self.name = name
        if np_dtype is not None:
            self.np = np_dtype  # a plain slot: read on every op, so no property here
        self._np = np_dtype
        self._kind = kind  # 0 bool, 1 int, 2 float
        self.is_floating_point = kind == 2
        self.is_complex = False
        self.is_signed = kind != 0 and name != "uint8"
        self.itemsize = itemsize

    def to_real(self):
        return self

    def __repr__(self):
        return f"tinytorch.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


class _UnavailableDtype(dtype):
    """A dtype whose NumPy type needs an optional package that is not installed."""

    __slots__ = ()

    @property
    def np(self):
        raise TypeError(f"{self.name} needs the ml_dtypes package on NumPy: pip install ml_dtypes")


float32 = dtype("float32", np.dtype(np.float32), 2, 4)
float64 = dtype("float64", np.dtype(np.float64), 2, 8)
float16 = dtype("float16", np.dtype(np.float16), 2, 2)
bfloat16 = dtype("bfloat16", _BF16, 2, 2)
int8 = dtype("int8", np.dtype(np.int8), 1, 1)
uint8 = dtype("uint8", np.dtype(np.uint8), 1, 1)
int16 = dtype("int16", np.dtype(np.int16), 1, 2)
int32 = dtype("int32", np.dtype(np.int32), 1, 4)
int64 = dtype("int64", np.dtype(np.int64), 1, 8)
bool_ = dtype("bool", np.dtype(np.bool_), 0, 1)

# torch's aliases
float = float32  # noqa: A001
double = float64
half = float16
int = int32  # noqa: A001
long = int64
short = int16
bool = bool_  # noqa: A001

ALL = (float32, float64, float16, bfloat16, int8, uint8, int16, int32, int64, bool_)
_NAMES = {d.name: d for d in ALL}
_FROM_NP = {d._np: d for d in ALL if d._np is not None}

_default_float = [float32]


def _by_name(name):
    return _NAMES[name]


def get_default_dtype():
    return _default_float[0]


def set_default_dtype(d):
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating point dtypes are supported, got {d}")
    _default_float[0] = d


def from_numpy_dtype(npd) -> dtype:
    npd = np.dtype(npd)
    d = _FROM_NP.get(npd)
    if d is None:
        raise TypeError(f"tinytorch has no dtype for NumPy dtype {npd}")
    return d


def to_dtype(d) -> dtype:
    """Accept a tinytorch dtype, a NumPy dtype or type, or a Python type (float/int/bool)."""
    if isinstance(d, dtype):
        return d

    if d is builtins.float:
        return get_default_dtype()
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool_
    if isinstance(d, str):
        if d in _NAMES:
            return _NAMES[d]
        raise TypeError(f"unknown dtype name {d!r}")
    try:
        npd = np.dtype(d)
    except Exception:
        raise TypeError(f"dtype must be a tinytorch.dtype, got {type(d).__name__} {d!r}") from None
    return from_numpy_dtype(npd)


# ---- promotion -------------------------------------------------------------------------------

def _promote_pair(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a._kind != b._kind:
        return a if a._kind > b._kind else b
    if a._kind == 2:
        if {a.name, b.name} == {"float16", "bfloat16"}:
            return float32
        return a if a.itemsize >= b.itemsize else b
    if a._kind == 1:
        if {a.name, b.name} == {"uint8", "int8"}:
            return int16
        if a.name == "uint8":
            return b if b.itemsize > 1 else int16
        if b.name == "uint8":
            return a if a.itemsize > 1 else int16
        return a if a.itemsize >= b.itemsize else b
    return a


def promote_types(a, b) -> dtype:
    return _promote_pair(to_dtype(a), to_dtype(b))


def _scalar_kind(x):
    if isinstance(x, builtins.bool) or isinstance(x, np.bool_):
        return 0
    if isinstance(x, (builtins.int, np.integer)):
        return 1
    if isinstance(x, (builtins.float, np.floating)):
        return 2
    raise TypeError(f"unsupported scalar {x!r} of type {type(x).__name__}")


def result_type(*operands) -> dtype:
    """PyTorch's promotion: dimensioned tensors > zero-dim tensors > Python scalars.

    A lower-priority operand only changes the result when it is of a higher category
    (bool < integer < floating), and then the result is that category's default
    (int64 for ints, the default float dtype for floats) unless a tensor of that
    category already fixes it.
    """
    if len(operands) == 2:  # fast paths for the binary-op hot path; the general rule follows
        fast = _result_type_fast(*operands)
        if fast is not None:
            return fast
    dim_t = None
    zero_t = None
    scalar_kind = -1
    for x in operands:
        d = getattr(x, "dtype", None)
        if isinstance(d, dtype):
            if x.ndim > 0:
                dim_t = d if dim_t is None else _promote_pair(dim_t, d)
            else:
                zero_t = d if zero_t is None else _promote_pair(zero_t, d)
        else:
            scalar_kind = max(scalar_kind, _scalar_kind(x))
    result = dim_t
    if zero_t is not None:
        if result is None:
            result = zero_t
        elif zero_t._kind > result._kind:
            result = zero_t
    if scalar_kind >= 0:
        if result is None:
            return (bool_, int64, get_default_dtype())[scalar_kind]
        if scalar_kind > result._kind:
            result = (bool_, int64, get_default_dtype())[scalar_kind]
    return result


def _result_type_fast(a, b):
    """Same dtypes, or a tensor with a Python scalar of a category it already covers; else None."""
    da = getattr(a, "_data", None)
    db = getattr(b, "_data", None)
    if da is not None and db is not None:
        return _FROM_NP.get(da.dtype) if da.dtype == db.dtype else None
    if da is None:
        da, b = db, a
    if da is None:
        return None
    kind = da.dtype.kind
    tb = type(b)
    if (tb is builtins.float and kind in "fV") or (tb is builtins.int and kind in "iufV"):
        return _FROM_NP.get(da.dtype)
    return None
