"""Legacy and environment names PyTorch scripts still use: ``FloatTensor``, ``finfo``/``iinfo``, ``compile``,
thread and matmul-precision switches; and the top-level names of :mod:`tinytorch.amp` (``autocast``,
``is_autocast_enabled`` ...), which is real mixed precision, not a no-op.

Everything here is either a thin constructor over the modern API or a documented no-op, so a script that
touches it runs unchanged; none of it changes numerics except where stated.
"""
from __future__ import annotations

import builtins
import functools
import os

import numpy as np

from . import _dtype as dtypes
from ._arrays import threads
from .backends import cuda as _backends_cuda
from .tensor import Tensor
from .amp import autocast  # noqa: F401 - torch.autocast
from . import amp  # noqa: F401 - torch.amp
from .cuda import amp as _cuda_amp  # noqa: F401 - binds tinytorch.cuda.amp like torch.cuda.amp
from . import cpu  # noqa: F401 - torch.cpu (and its deprecated cpu.amp)
from .amp.autocast_mode import (  # noqa: F401 - torch.is_autocast_enabled & co
    is_autocast_enabled, set_autocast_enabled, get_autocast_dtype, set_autocast_dtype, is_autocast_cache_enabled,
    set_autocast_cache_enabled, clear_autocast_cache, autocast_increment_nesting, autocast_decrement_nesting,
    get_autocast_gpu_dtype, get_autocast_cpu_dtype, is_autocast_cpu_enabled, set_autocast_cpu_enabled,
    set_autocast_gpu_dtype, set_autocast_cpu_dtype,
)
from . import distributed  # noqa: F401 - torch.distributed
from . import version  # noqa: F401 - torch.version
from . import _format

__all__ = [
    "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor", "ShortTensor",
    "CharTensor", "ByteTensor", "BoolTensor",
    "finfo", "iinfo", "compile", "autocast", "amp", "distributed",
    "set_float32_matmul_precision", "get_float32_matmul_precision", "set_num_threads", "get_num_threads",
    "set_num_interop_threads", "get_num_interop_threads", "set_printoptions", "use_deterministic_algorithms",
    "are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled", "version",
    "cpu", "is_autocast_enabled", "set_autocast_enabled", "get_autocast_dtype", "set_autocast_dtype",
    "is_autocast_cache_enabled", "set_autocast_cache_enabled", "clear_autocast_cache", "autocast_increment_nesting",
    "autocast_decrement_nesting", "get_autocast_gpu_dtype", "get_autocast_cpu_dtype", "is_autocast_cpu_enabled",
    "set_autocast_cpu_enabled", "set_autocast_gpu_dtype", "set_autocast_cpu_dtype",
]


# ---- legacy typed constructors ----------------------------------------------------------------------------
class _LegacyTensorType(type):
    """Metaclass of ``FloatTensor`` & co: calling builds a tensor, ``isinstance`` checks dtype and device."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj.device.type == "cpu"

    def __call__(cls, *args, device=None):
        if len(args) == 1 and isinstance(args[0], Tensor):
            src = args[0]
            if src.dtype is not cls.dtype:
                # torch refuses a silent conversion here; say which conversion to write instead
                raise TypeError(f"{cls.__name__}(tensor): expected a tensor of dtype {cls.dtype}, got {src.dtype}; "
                                f"use tensor.to({cls.dtype}) to convert")
            return src  # torch shares the storage: the very same data, no copy
        if len(args) == 1 and not isinstance(args[0], (builtins.int, np.integer, tuple, list, Tensor)) \
                and not hasattr(args[0], "__len__"):
            raise TypeError(f"{cls.__name__}(): expected sizes or a sequence of data, got {type(args[0]).__name__}")
        if len(args) == 1 and isinstance(args[0], (list, tuple)) and cls.dtype._kind < 2:
            # torch truncates floats toward zero for integer legacy types (LongTensor([1.5]) == [1])
            data = np.asarray(args[0])
            if data.dtype.kind == "f":
                args = (np.trunc(data),)
        return Tensor(*args, dtype=cls.dtype, device=device)

    def __repr__(cls):
        return f"<class 'tinytorch.{cls.__name__}'>"


def _legacy(name: str, dt) -> type:
    return _LegacyTensorType(name, (), {"dtype": dt, "__doc__": f"Legacy constructor for {dt} CPU tensors: "
                                        f"``{name}(2, 3)`` (zeros of that shape) or ``{name}([1, 2])`` (data)."})


FloatTensor = _legacy("FloatTensor", dtypes.float32)
DoubleTensor = _legacy("DoubleTensor", dtypes.float64)
HalfTensor = _legacy("HalfTensor", dtypes.float16)
BFloat16Tensor = _legacy("BFloat16Tensor", dtypes.bfloat16)
LongTensor = _legacy("LongTensor", dtypes.int64)
IntTensor = _legacy("IntTensor", dtypes.int32)
ShortTensor = _legacy("ShortTensor", dtypes.int16)
CharTensor = _legacy("CharTensor", dtypes.int8)
ByteTensor = _legacy("ByteTensor", dtypes.uint8)
BoolTensor = _legacy("BoolTensor", dtypes.bool_)


# ---- finfo / iinfo ----------------------------------------------------------------------------------------
def _as_dtype(type_, op):
    if type_ is None:
        return dtypes.get_default_dtype()
    try:
        return dtypes.to_dtype(type_)
    except (TypeError, ValueError, KeyError) as e:
        raise TypeError(f"{op}: expected a tinytorch dtype, got {type_!r}") from e


class _BF16Info:
    """bfloat16 limits for when ml_dtypes (whose finfo knows bfloat16) is not installed."""

    bits, eps, max, min, tiny, precision = 16, 2.0 ** -7, 3.3895313892515355e38, -3.3895313892515355e38, \
        2.0 ** -126, 2


def _float_info(dt):
    if dt.name != "bfloat16":
        return np.finfo(dt.np)
    return dtypes._ml_dtypes.finfo(dt.np) if dtypes._ml_dtypes is not None else _BF16Info


class finfo:
    """Machine limits of a floating dtype: ``bits eps max min tiny smallest_normal resolution dtype``.

    ``finfo()`` describes the default dtype. ``dtype`` is the name string, as in torch (``'float32'``).
    """

    def __init__(self, type=None):  # noqa: A002 - torch's parameter name
        dt = _as_dtype(type, "finfo")
        if not dt.is_floating_point:
            raise TypeError(f"finfo: requires a floating point dtype, got {dt}; use tinytorch.iinfo for integers")
        info = _float_info(dt)
        self.bits = builtins.int(info.bits)
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = builtins.float(info.tiny)
        self.smallest_normal = self.tiny
        self.resolution = 10.0 ** -builtins.int(info.precision)  # torch's exact power of ten
        self.dtype = dt.name

    def __eq__(self, other):
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("finfo", self.dtype))

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer (or bool) dtype: ``bits max min dtype``."""

    def __init__(self, type):  # noqa: A002 - torch's parameter name
        dt = _as_dtype(type, "iinfo")
        if dt.is_floating_point:
            raise TypeError(f"iinfo: requires an integer dtype, got {dt}; use tinytorch.finfo for floats")
        info = np.iinfo(dt.np) if dt.name != "bool" else None
        self.bits = 8 if info is None else builtins.int(info.bits)
        self.max = 1 if info is None else builtins.int(info.max)
        self.min = 0 if info is None else builtins.int(info.min)
        self.dtype = dt.name

    def __eq__(self, other):
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("iinfo", self.dtype))

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


# ---- torch.compile ----------------------------------------------------------------------------------------
def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,  # noqa: A001
            options=None, disable=False):
    """``torch.compile``: trace ``model`` (a Module or a function) on its first calls, then replay its ops.

    See :mod:`tinytorch._compile` for what is captured, the guards, and when it runs eagerly instead.
    ``disable=True`` returns ``model`` unchanged. Used as a decorator (``@torch.compile`` or
    ``@torch.compile(mode=...)``) it compiles the function.
    """
    if mode is not None and mode not in ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"):
        raise RuntimeError(f"compile: unrecognized mode {mode!r}")
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, disable=disable)
    if not callable(model):
        raise TypeError(f"compile: expected a Module or a callable, got {type(model).__name__}")
    if disable:
        return model
    from ._compile import compile_callable  # the tracer and nn load on the first compile, not at import

    return compile_callable(model, fullgraph=fullgraph, dynamic=bool(dynamic), mode=mode)


# ---- matmul precision and threads -------------------------------------------------------------------------
def set_float32_matmul_precision(precision: str) -> None:
    """``'highest'`` (full float32), ``'high'`` or ``'medium'`` (allow TF32 on CUDA).

    Stored in ``tinytorch.backends.cuda.matmul.allow_tf32``, the single switch the CUDA path reads.
    """
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"set_float32_matmul_precision: invalid precision {precision!r}, expected one of "
                           "'highest', 'high', 'medium'")
    _backends_cuda.matmul._precision = precision


def get_float32_matmul_precision() -> str:
    return _backends_cuda.matmul._precision


_threads = {"intra": None, "inter": None}


def set_num_threads(n: int) -> None:
    """Set the number of threads used for intra-op parallelism on the CPU, as ``torch.set_num_threads``.

    Two pools follow it: BLAS (matmul, conv GEMMs; resized at run time through ``threadpoolctl`` when it
    is installed, else fixed by ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS`` before NumPy loads) and
    tinytorch's own pool for large memory-bound passes (conv im2col copies of >= 512K elements), which
    NumPy runs on one core. That second pool is opt-in: until this is called with n > 1 those passes
    stay single-threaded, since on a busy machine a second thread only waits for a core. Results are
    bit-identical for every n (passes are split into disjoint output blocks, never inside a reduction).

        >>> tinytorch.set_num_threads(2)   # a machine with two idle cores
        >>> tinytorch.get_num_threads()
        2
    """
    if not isinstance(n, builtins.int) or isinstance(n, builtins.bool) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {n!r}")
    _threads["intra"] = n
    threads.set_num_threads(n)
    try:  # threadpoolctl, when installed, can resize the BLAS pool at run time
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:
        pass


def get_num_threads() -> int:
    """The intra-op thread count: the last ``set_num_threads``, else ``OMP_NUM_THREADS`` (or the
    OpenBLAS/MKL variable), else the usable cores, as torch reports it."""
    if _threads["intra"] is not None:
        return _threads["intra"]
    return threads.default_num_threads()


def set_num_interop_threads(n: int) -> None:
    if not isinstance(n, builtins.int) or isinstance(n, builtins.bool) or n < 1:
        raise ValueError(f"set_num_interop_threads: expected a positive integer, got {n!r}")
    _threads["inter"] = n


def get_num_interop_threads() -> int:
    return _threads["inter"] if _threads["inter"] is not None else (os.cpu_count() or 1)



# ---- printing and determinism -----------------------------------------------------------------------------
_PRINT_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, float("inf"), 3, 80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None) -> None:
    """Tensor printing options, as torch's: digits, summarization threshold, edge items, line width.

    ``profile`` ('default', 'short', 'full') sets all four first. ``sci_mode`` is accepted and ignored: the
    formatter always chooses the notation from the values, like torch's default (``sci_mode=None``).
    """
    if profile is not None:
        if profile not in _PRINT_PROFILES:
            raise ValueError(f"set_printoptions: unknown profile {profile!r}, expected one of {sorted(_PRINT_PROFILES)}")
        _format.PRECISION, _format.THRESHOLD, _format.EDGEITEMS, _format.LINEWIDTH = _PRINT_PROFILES[profile]
    for name, value in (("PRECISION", precision), ("THRESHOLD", threshold), ("EDGEITEMS", edgeitems),
                        ("LINEWIDTH", linewidth)):
        if value is not None:
            if not isinstance(value, (builtins.int, builtins.float)) or isinstance(value, builtins.bool) or value < 0:
                raise ValueError(f"set_printoptions: {name.lower()} must be a non-negative number, got {value!r}")
            setattr(_format, name, value)


_deterministic = {"enabled": False, "warn_only": False}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Recorded for scripts that set it; tinytorch's kernels are already deterministic run to run on the CPU."""
    _deterministic["enabled"], _deterministic["warn_only"] = bool(mode), bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic["enabled"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _deterministic["warn_only"]
