"""``tinytorch.cuda``: availability, devices, seeding and memory statistics over CuPy."""
from __future__ import annotations

from .. import backend


def is_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    return backend.cuda_available()


def device_count() -> int:
    return backend.cuda_device_count()


def unavailable_reason() -> str | None:
    """Why CUDA cannot be used (None when it can)."""
    return backend.cuda_unavailable_reason()


def _cp():
    return backend.cupy_module()


def current_device() -> int:
    return int(_cp().cuda.runtime.getDevice())


def set_device(device) -> None:
    d = backend.parse_device(device)
    _cp().cuda.runtime.setDevice(d.index or 0)


def get_device_name(device=None) -> str:
    d = backend.parse_device(device if device is not None else "cuda")
    props = _cp().cuda.runtime.getDeviceProperties(d.index or 0)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def synchronize(device=None) -> None:
    if is_available():
        _cp().cuda.runtime.deviceSynchronize()


def manual_seed(seed) -> None:
    from ..random import default_generator

    default_generator.manual_seed(seed)


manual_seed_all = manual_seed


def is_bf16_supported() -> bool:
    if not is_available():
        return False
    major = int(_cp().cuda.Device().compute_capability[:-1] or 0)
    return major >= 8


def memory_allocated(device=None) -> int:
    return int(_cp().get_default_memory_pool().used_bytes()) if is_available() else 0


def memory_reserved(device=None) -> int:
    return int(_cp().get_default_memory_pool().total_bytes()) if is_available() else 0


_peak = [0]


def max_memory_allocated(device=None) -> int:
    return max(_peak[0], memory_allocated(device))


def reset_peak_memory_stats(device=None) -> None:
    _peak[0] = memory_allocated(device)


def empty_cache() -> None:
    if is_available():
        _cp().get_default_memory_pool().free_all_blocks()
