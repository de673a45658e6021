"""``tinytorch.cuda``: availability, devices, seeding and memory statistics over CuPy."""
from __future__ import annotations

from .. import _arrays
from .._arrays import memory as _memory
from .._arrays.memory import OutOfMemoryError  # noqa: F401 - torch.cuda.OutOfMemoryError
from ..random import default_generator
from .._dtype import bfloat16
from .graphs import (  # torch.cuda's CUDA graph API
    CUDAGraph as CUDAGraph, graph as graph, graph_pool_handle as graph_pool_handle,
    is_current_stream_capturing as is_current_stream_capturing, make_graphed_callables as make_graphed_callables,
)


def is_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    return _arrays.cuda_available()


def device_count() -> int:
    return _arrays.cuda_device_count()


def unavailable_reason() -> str | None:
    """Why CUDA cannot be used (None when it can)."""
    return _arrays.cuda_unavailable_reason()


def _cp():
    return _arrays.cupy_module()


def current_device() -> int:
    return int(_cp().cuda.runtime.getDevice())


def set_device(device) -> None:
    """Make ``device`` (an index, 'cuda:1' or a device) current; a negative index is a no-op, as in torch."""
    if isinstance(device, int) and device < 0:
        return
    d = _arrays.parse_device(device)
    if d.type != "cuda":
        raise ValueError(f"set_device: expected a CUDA device, got {d}")
    _cp().cuda.runtime.setDevice(d.index or 0)


def get_device_name(device=None) -> str:
    d = _arrays.parse_device(device if device is not None else "cuda")
    props = _cp().cuda.runtime.getDeviceProperties(d.index or 0)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def synchronize(device=None) -> None:
    if is_available():
        _cp().cuda.runtime.deviceSynchronize()


def manual_seed(seed) -> None:
    """Seed the CUDA generator only (like torch: the CPU generator is left alone)."""
    default_generator.manual_seed_cuda(seed)


manual_seed_all = manual_seed


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """True only when bfloat16 tensors really work here: an Ampere-or-newer GPU (compute capability >= 8),
    ml_dtypes installed (NumPy's bfloat16), and a CuPy that holds and computes on bfloat16 arrays (14+).
    Checked once per device by doing it; the answer is remembered."""
    if not is_available():
        return False
    cp = _cp()
    key = (id(cp), int(cp.cuda.runtime.getDevice()))
    if key not in _bf16_checked:
        _bf16_checked[key] = _bf16_works(cp)
    return _bf16_checked[key]


_bf16_checked: dict = {}


def _bf16_works(cp) -> bool:
    if bfloat16.np is None:  # ml_dtypes missing
        return False
    try:
        if int(cp.cuda.Device().compute_capability[:-1] or 0) < 8:
            return False
        x = cp.asarray(_arrays.np.ones(2, dtype=bfloat16.np))
        return float((x + x).astype(cp.float32).sum()) == 4.0
    except Exception:  # noqa: BLE001 - TypeError/NotImplementedError/compile errors: not supported
        return False


def _index(device) -> int | None:
    """The CUDA ordinal of ``device`` (None: the current device)."""
    if device is None:
        return None
    d = _arrays.parse_device(device)
    if d.type != "cuda":
        raise ValueError(f"tinytorch.cuda: expected a CUDA device, got {d}")
    return d.index


def memory_allocated(device=None) -> int:
    """Bytes held by live tensors on ``device`` (0 when CUDA is unavailable)."""
    if not is_available():
        return 0
    return _memory.used_bytes(_cp(), _index(device))


def memory_reserved(device=None) -> int:
    """Bytes the caching pool holds from the driver on ``device`` (in use plus cached)."""
    if not is_available():
        return 0
    return _memory.reserved_bytes(_cp(), _index(device))


def max_memory_allocated(device=None) -> int:
    """The peak of ``memory_allocated`` since the start or the last ``reset_peak_memory_stats``.

    Tracked after every allocation by the allocator tinytorch installs on first CUDA use.
    """
    if not is_available():
        return 0
    return _memory.peak_bytes(_cp(), _index(device))


def reset_peak_memory_stats(device=None) -> None:
    if is_available():
        _memory.reset_peak(_cp(), _index(device))


reset_max_memory_allocated = reset_peak_memory_stats


def empty_cache() -> None:
    """Release the pool's cached, unused blocks to the driver (live tensors are untouched)."""
    if is_available():
        _memory.empty_cache(_cp())


from .streams import (  # noqa: E402 - torch.cuda's names, kept at the end so the module reads top-down
    DeviceProperties, Event, Stream, current_stream, default_stream, get_device_properties, stream,
)
