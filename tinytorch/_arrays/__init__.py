"""Backend layer: the only place that knows about NumPy versus CuPy.

Everything above this layer asks ``array_module(...)`` for ``xp`` and never
branches on the backend itself. CuPy is imported lazily, once; the reason it is
unusable (not installed, no driver, no device) is remembered and reported when a
user asks for CUDA.
"""
from __future__ import annotations

import contextlib
import functools
import os

import numpy as np

from .device import device, parse_device, CPU
from . import _cuda
from . import scatter as _scatter

__all__ = [
    "np", "device", "parse_device", "CPU", "array_module", "module_for_device",
    "device_of", "to_device", "cuda_available", "cuda_device_count", "cuda_unavailable_reason",
    "is_cupy_array", "scatter_add", "as_numpy", "cupy_module", "is_writeable", "linalg_errors", "scalar_like",
    "device_guard", "on_device_of", "on_device", "guard", "device_check", "raise_pending_checks",
]


def cuda_available() -> bool:
    return _cuda.get_cupy() is not None


def cuda_device_count() -> int:
    cp = _cuda.get_cupy()
    return 0 if cp is None else _cuda.device_count()


def cuda_unavailable_reason() -> str | None:
    _cuda.get_cupy()
    return _cuda.failure_reason()


def cupy_loaded() -> bool:
    """Whether CuPy is imported and usable already; never imports it (cheap: the op hot path asks each call)."""
    return _cuda._state["cupy"] is not None


def loaded_device_count() -> int:
    """GPUs CuPy saw when it loaded, 0 before that; never imports CuPy (for the multi-GPU fast checks)."""
    return _cuda._state.get("devices", 0)


def cupy_module():
    """CuPy, or a RuntimeError that says why CUDA cannot be used."""
    return _cuda.require_cupy()


def is_cupy_array(a) -> bool:
    cp = _cuda.loaded_cupy()
    return cp is not None and isinstance(a, cp.ndarray)


def array_module(*arrays):
    """Return the array module (numpy or cupy) for the given arrays.

    Any CuPy array among them selects CuPy; plain Python scalars and NumPy arrays
    select NumPy. This is the single answer to "which xp?" in tinytorch.
    """
    cp = _cuda.loaded_cupy()
    if cp is not None:
        for a in arrays:
            if isinstance(a, cp.ndarray):
                return cp
    return np


def module_for_device(dev) -> object:
    dev = parse_device(dev)
    if dev.type == "cpu":
        return np
    return _cuda.require_cupy()


def device_of(a) -> device:
    if is_cupy_array(a):
        return device("cuda", int(a.device.id))
    return CPU


def to_device(a, dev):
    """Copy an array to ``dev`` (a no-op when it already lives there)."""
    dev = parse_device(dev)
    if dev.type == "cpu":
        if is_cupy_array(a):
            if _pending:
                raise_pending_checks()
            return a.get()
        return a
    cp = _cuda.require_cupy()
    index = 0 if dev.index is None else dev.index
    n = _cuda.device_count()
    if index >= n:
        raise RuntimeError(f"to: CUDA device {index} requested but only {n} device(s) are visible")
    if isinstance(a, cp.ndarray) and a.device.id == index:
        return a
    with cp.cuda.Device(index):
        try:
            return cp.asarray(a)
        except (TypeError, ValueError, NotImplementedError) as e:
            if a.dtype.kind == "V" or a.dtype.name == "bfloat16":  # ml_dtypes' bfloat16: CuPy < 14 has none
                raise TypeError(
                    f"to: this CuPy ({cp.__version__}) cannot hold {a.dtype.name} arrays on CUDA ({e}); "
                    "use float16 or float32 on the GPU, or CuPy >= 14 with ml_dtypes installed") from e
            raise


def is_writeable(a) -> bool:
    """False for read-only arrays and broadcast views (CuPy has no writeable flag: zero strides tell)."""
    w = getattr(a.flags, "writeable", None)
    if w is not None:
        return bool(w)
    return all(st != 0 or n <= 1 for st, n in zip(a.strides, a.shape))


def as_numpy(a):
    """Host copy of an array from either backend (a host sync: deferred device checks are raised here)."""
    if is_cupy_array(a):
        if _pending:
            raise_pending_checks()
        return a.get()
    return np.asarray(a)


# dtypes CuPy's scatter_add kernel has an atomicAdd for (int64 only from CuPy 14 on)
_SCATTER_ADD_DTYPES = frozenset(("float16", "float32", "float64", "int32", "uint32", "uint64", "int64"))


def scatter_add(xp, target, index, values):
    """Unbuffered ``target[index] += values`` (repeated indices accumulate) on either _arrays.

    On CuPy, dtypes its scatter kernel lacks (int8, uint8, int16, uint16, bool; int64 before CuPy 14) go
    through a supported one and back: small ints via int32 (wrapping on the way back, like torch's integer
    overflow), bool via int32 then ``!= 0`` (torch's logical or), int64 as uint64 (two's complement: exact).
    """
    if xp is np:  # the sort-based add, bit-identical to np.add.at and faster (_arrays/scatter.py)
        return _scatter.add_at(target, index, values)
    sx = _cuda.cupyx()
    name = target.dtype.name
    old_cupy = int(str(getattr(xp, "__version__", "14")).split(".")[0]) < 14
    if name in _SCATTER_ADD_DTYPES and not (name == "int64" and old_cupy):
        sx.scatter_add(target, index, values)
    elif name == "int64":
        wide = target.view(xp.uint64)
        sx.scatter_add(wide, index, values.astype(xp.uint64) if hasattr(values, "astype") else values)
    else:
        wide = target.astype(xp.int32)
        sx.scatter_add(wide, index, values.astype(xp.int32) if hasattr(values, "astype") else values)
        target[...] = (wide != 0) if name == "bool" else wide.astype(target.dtype)
    return target


def linalg_errors(xp):
    """A ``with`` block in which singular / non-positive-definite inputs raise ``LinAlgError`` on either _arrays.

    NumPy always raises; cuSOLVER reports failure only in its ``info`` output, which CuPy checks (one host
    sync per call) when its linalg error mode is ``'raise'`` instead of the default ``'ignore'``.
    """
    if xp is np:
        return contextlib.nullcontext()
    return _cuda.cupyx().errstate(linalg="raise")


def scalar_like(like, value, dtype):
    """A 0-d array holding ``value`` as ``dtype`` on ``like``'s device: an operand for a Python scalar.

    On CUDA the array is made once per (device, dtype, value) and reused (read-only by convention: ops
    only read their operands), so a scalar costs no allocation and no host-to-device copy per op, and it
    lives on the right GPU.
    """
    if type(like) is np.ndarray or not is_cupy_array(like):
        return np.asarray(value, dtype=dtype)
    cache = _cuda.scalar_cache
    index = like.device.id
    # floats by their bits: -0.0 == 0.0 and nan != nan would otherwise share or miss entries
    kv = value.hex() if isinstance(value, float) else (value if isinstance(value, int) else repr(value))
    key = (index, np.dtype(dtype).str, type(value), kv)
    a = cache.get(key)
    if a is None:
        if len(cache) >= 4096:  # a loop over many distinct values must not grow it without bound
            cache.clear()
        cp = _cuda.loaded_cupy()
        with cp.cuda.Device(index):
            a = cp.full((), value, dtype=dtype)
        if _cuda._state.get("capturing"):  # filled by the graph only: never valid for eager work
            return a
        cache[key] = a
    return a


def device_guard(a):
    """``cupy.cuda.Device(i)`` for a CuPy array on GPU ``i`` when another GPU is current, else None.

    CuPy launches kernels and allocates on the *current* device; an op on a ``cuda:1`` tensor must
    therefore run inside this context. With one GPU (the common case) it costs one dict lookup.
    """
    if loaded_device_count() < 2 or not is_cupy_array(a):
        return None
    cp = _cuda.loaded_cupy()
    index = a.device.id
    if index == cp.cuda.runtime.getDevice():
        return None
    return cp.cuda.Device(index)


def on_device_of(fn):
    """Decorator for public functions that work on raw arrays outside ``Function.apply`` (losses, dropout):
    run ``fn`` under the GPU of its first tensor argument (see :func:`device_guard`)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if loaded_device_count() >= 2:
            for a in args:
                data = getattr(a, "_data", None)
                if data is not None:
                    guard = device_guard(data)
                    if guard is not None:
                        with guard:
                            return fn(*args, **kwargs)
                    break
        return fn(*args, **kwargs)
    return wrapper


def on_device(fn):
    """Decorator for creation functions: allocate directly on the ``device=`` keyword's GPU
    (not on the current one followed by a copy)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        dev = kwargs.get("device")
        if dev is not None and loaded_device_count() >= 2:
            d = parse_device(dev)
            cp = _cuda.loaded_cupy()
            if d.type == "cuda" and d.index is not None and d.index != cp.cuda.runtime.getDevice():
                with cp.cuda.Device(d.index):
                    return fn(*args, **kwargs)
        return fn(*args, **kwargs)
    return wrapper


_NO_GUARD = contextlib.nullcontext()


def guard(a):
    """:func:`device_guard` as a ``with`` target that is always usable (a shared no-op when not needed)."""
    g = device_guard(a)
    return _NO_GUARD if g is None else g


# ---- validation without a host sync per call --------------------------------------------------------
# Index/target range checks on CUDA would read a flag back to the host on every call (a sync that
# stalls the launch queue). Instead the flag is reduced on the device and queued; the queue is read at
# the next host transfer (item, tolist, cpu, numpy, printing) or every _PENDING_LIMIT checks, and the first
# failed check raises there -- the same deal as torch's device-side asserts. TINYTORCH_CUDA_SYNC_CHECKS=1
# checks at the call instead (exact tracebacks, one sync per call), like CUDA_LAUNCH_BLOCKING=1.
_pending = _cuda.pending_checks
_PENDING_LIMIT = 64


def device_check(xp, bad, make_error) -> None:
    """Raise ``make_error()`` if any element of the boolean array ``bad`` is True.

    NumPy: now. CuPy: at the next host sync (see above), unless ``TINYTORCH_CUDA_SYNC_CHECKS=1``.
    ``make_error`` runs only when the check failed, so it may read arrays back to build its message.
    """
    if xp is np:
        if bad.any():
            raise make_error()
        return
    flag = bad.any()
    if os.environ.get("TINYTORCH_CUDA_SYNC_CHECKS", "") not in ("", "0"):
        if bool(flag):
            raise make_error()
        return
    _pending.append((flag, make_error))
    if len(_pending) >= _PENDING_LIMIT and not _cuda._state.get("capturing"):  # no sync inside a CUDA graph capture
        raise_pending_checks()


def raise_pending_checks() -> None:
    """Read the queued device-side checks (one host sync); raise the first failure's error."""
    items = list(_pending)
    _pending.clear()
    by_device = {}
    for i, (flag, _) in enumerate(items):
        by_device.setdefault(flag.device.id, []).append(i)
    failed = [False] * len(items)
    for idxs in by_device.values():  # one device-to-host read per device, not one per check
        first = items[idxs[0]][0]
        with guard(first):
            host = array_module(first).stack([items[i][0] for i in idxs]).get()
        for i, f in zip(idxs, host):
            failed[i] = bool(f)
    for (_, make_error), f in zip(items, failed):
        if f:
            raise make_error()
