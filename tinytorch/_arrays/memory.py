"""GPU memory accounting over CuPy's memory pool, and a clear out-of-memory error.

CuPy allocates every device array through one allocator function (by default the default
memory pool's ``malloc``). On first CUDA use (``install(cupy)``, called when the CuPy import
succeeds, never at tinytorch's import) we put a thin wrapper in its place that

* records, per device, the pool's ``used_bytes()`` after each allocation, so
  ``max_memory_allocated`` is a real peak and not a sample taken when it is asked for;
* turns CuPy's ``OutOfMemoryError`` into :class:`OutOfMemoryError` (a ``RuntimeError`` like
  ``torch.cuda.OutOfMemoryError``) that names the requested size and the pool's used/reserved
  bytes and the device's total. Since every CuPy allocation — creation functions, ``to_device``,
  op forwards and backwards — goes through the allocator, this is the one wrapping point, and it
  costs nothing on the CPU path.

The functions take the CuPy module as an argument, so the accounting is testable with a fake.
"""
from __future__ import annotations

import threading

__all__ = ["OutOfMemoryError", "install", "installed", "used_bytes", "reserved_bytes", "peak_bytes",
           "reset_peak", "empty_cache", "format_bytes"]


class OutOfMemoryError(RuntimeError):
    """A CUDA allocation failed: the message names the requested size and the pool's state."""


_lock = threading.Lock()
_state = {"cupy": None, "pool": None, "peak": {}}


def format_bytes(n: int) -> str:
    """``1536`` -> ``'1.50 KiB (1536 bytes)'``: human size plus the exact count."""
    n = int(n)
    value, unit = float(n), "bytes"
    for u in ("KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value /= 1024
        unit = u
    return f"{n} bytes" if unit == "bytes" else f"{value:.2f} {unit} ({n} bytes)"


def _device_id(cp) -> int:
    return int(cp.cuda.runtime.getDevice())


def _oom_message(cp, pool, size: int, err) -> str:
    dev = _device_id(cp)
    total = None
    try:
        free, total = cp.cuda.runtime.memGetInfo()
    except Exception:  # the context may be unusable after a failure; the message must still be built
        free = None
    used, reserved = int(pool.used_bytes()), int(pool.total_bytes())
    parts = [f"CUDA out of memory. Tried to allocate {format_bytes(size)} on device cuda:{dev}.",
             f"tinytorch's memory pool holds {format_bytes(used)} in use and {format_bytes(reserved)} reserved"]
    if total is not None:
        parts[-1] += f"; the device has {format_bytes(total)} in total, {format_bytes(free)} free"
    parts[-1] += "."
    parts.append("Free tensors you no longer need (del x), call tinytorch.cuda.empty_cache(), "
                 f"or use smaller batches. (CuPy: {err})")
    return " ".join(parts)


def install(cp) -> None:
    """Route CuPy's allocations through the tracking, OOM-translating wrapper (idempotent)."""
    with _lock:
        if _state["cupy"] is cp:
            return
        pool = cp.get_default_memory_pool()
        cupy_oom = cp.cuda.memory.OutOfMemoryError
        peak = _state["peak"]
        runtime = cp.cuda.runtime

        def tracked_malloc(size):
            try:
                mem = pool.malloc(size)
            except cupy_oom as e:
                raise OutOfMemoryError(_oom_message(cp, pool, size, e)) from e
            dev = runtime.getDevice()
            used = pool.used_bytes()
            if used > peak.get(dev, 0):
                peak[dev] = used
            return mem

        cp.cuda.set_allocator(tracked_malloc)
        _state["cupy"], _state["pool"] = cp, pool


def installed() -> bool:
    return _state["cupy"] is not None


def _on_device(cp, index, fn):
    if index is None:
        return fn()
    with cp.cuda.Device(index):
        return fn()


def used_bytes(cp, index: int | None = None) -> int:
    """Bytes of the pool held by live arrays on a device (the current one when ``index`` is None)."""
    return _on_device(cp, index, lambda: int(cp.get_default_memory_pool().used_bytes()))


def reserved_bytes(cp, index: int | None = None) -> int:
    """Bytes the pool holds from the driver on a device (in use plus cached)."""
    return _on_device(cp, index, lambda: int(cp.get_default_memory_pool().total_bytes()))


def peak_bytes(cp, index: int | None = None) -> int:
    """The largest ``used_bytes`` seen after any allocation since the last reset."""
    dev = _device_id(cp) if index is None else int(index)
    return max(_state["peak"].get(dev, 0), used_bytes(cp, index))


def reset_peak(cp, index: int | None = None) -> None:
    dev = _device_id(cp) if index is None else int(index)
    _state["peak"][dev] = used_bytes(cp, index)


def empty_cache(cp) -> None:
    """Give the pool's cached (unused) blocks back to the driver."""
    cp.get_default_memory_pool().free_all_blocks()
