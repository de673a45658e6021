"""``Stream``, ``Event`` and device properties: torch.cuda's shapes over CuPy's objects.

The CuPy objects are created lazily (an ``Event`` on its first ``record``), so building one of
these never touches the GPU before it is used, and a missing CUDA fails with the reason.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

from .. import _arrays

__all__ = ["Stream", "Event", "current_stream", "default_stream", "stream", "get_device_properties",
           "DeviceProperties"]


def _cp():
    return _arrays.cupy_module()


def _ordinal(device) -> int:
    if device is None:
        return int(_cp().cuda.runtime.getDevice())
    d = _arrays.parse_device(device)
    if d.type != "cuda":
        raise ValueError(f"tinytorch.cuda: expected a CUDA device, got {d}")
    return 0 if d.index is None else d.index


class Stream:
    """A CUDA stream: ``Stream(device=None, priority=0)``; use with ``tinytorch.cuda.stream(s)``.

    Work launched inside ``with tinytorch.cuda.stream(s):`` is queued on ``s``.
    """

    def __init__(self, device=None, priority: int = 0, *, _wrap=None):
        cp = _cp()
        if _wrap is not None:
            self._stream = _wrap
            dev = getattr(_wrap, "device_id", -1)  # the null stream reports -1: it is the current device's
            self.device_index = int(dev) if dev is not None and int(dev) >= 0 else _ordinal(None)
            return
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise TypeError(f"Stream: priority must be an int, got {priority!r}")
        self.device_index = _ordinal(device)
        with cp.cuda.Device(self.device_index):
            self._stream = cp.cuda.Stream(non_blocking=False, priority=priority)

    @property
    def device(self):
        return _arrays.device("cuda", self.device_index)

    @property
    def cuda_stream(self) -> int:
        """The raw ``cudaStream_t`` as an int (0 for the legacy default stream)."""
        return int(self._stream.ptr)

    def synchronize(self) -> None:
        self._stream.synchronize()

    def query(self) -> bool:
        """True when all work queued on this stream has finished."""
        return bool(self._stream.done)

    def record_event(self, event: Event | None = None) -> Event:
        event = Event() if event is None else event
        event.record(self)
        return event

    def wait_event(self, event: Event) -> None:
        """Later work on this stream waits for ``event`` (no host block)."""
        if event._event is not None:
            self._stream.wait_event(event._event)

    def wait_stream(self, other: Stream) -> None:
        self.wait_event(other.record_event())

    def __enter__(self):
        self._stream.__enter__()
        return self

    def __exit__(self, *exc):
        return self._stream.__exit__(*exc)

    def __eq__(self, other):
        return isinstance(other, Stream) and self.cuda_stream == other.cuda_stream \
            and self.device_index == other.device_index

    def __hash__(self):
        return hash((self.cuda_stream, self.device_index))

    def __repr__(self):
        return f"<tinytorch.cuda.Stream device=cuda:{self.device_index} cuda_stream={self.cuda_stream:#x}>"


def current_stream(device=None) -> Stream:
    """The stream work is queued on now (the default stream unless inside ``stream(s)``)."""
    cp = _cp()
    with cp.cuda.Device(_ordinal(device)):
        return Stream(_wrap=cp.cuda.get_current_stream())


def default_stream(device=None) -> Stream:
    cp = _cp()
    with cp.cuda.Device(_ordinal(device)):
        return Stream(_wrap=cp.cuda.Stream.null)


@contextlib.contextmanager
def stream(s: Stream | None):
    """Queue the work inside the ``with`` block on ``s`` (None: no change), like ``torch.cuda.stream``."""
    if s is None:
        yield
        return
    if not isinstance(s, Stream):
        raise TypeError(f"tinytorch.cuda.stream: expected a tinytorch.cuda.Stream or None, got {type(s).__name__}")
    with s:
        yield


class Event:
    """A CUDA event for ordering and timing: ``Event(enable_timing=True)``.

    ``start.record(); ...; end.record(); end.synchronize(); start.elapsed_time(end)`` gives
    milliseconds between the two records, measured on the GPU.
    """

    def __init__(self, enable_timing: bool = False, blocking: bool = False, interprocess: bool = False):
        self.enable_timing = bool(enable_timing)
        self.blocking = bool(blocking)
        self.interprocess = bool(interprocess)
        self._event = None  # created on the first record, on the recording stream's device

    def _ensure(self):
        if self._event is None:
            self._event = _cp().cuda.Event(block=self.blocking, disable_timing=not self.enable_timing,
                                           interprocess=self.interprocess)
        return self._event

    def record(self, stream: Stream | None = None) -> None:
        """Mark this point of ``stream``'s work (the current stream when None)."""
        s = current_stream() if stream is None else stream
        with _cp().cuda.Device(s.device_index):
            self._ensure().record(s._stream)

    def wait(self, stream: Stream | None = None) -> None:
        (current_stream() if stream is None else stream).wait_event(self)

    def query(self) -> bool:
        """True when the recorded work has finished (or nothing was recorded)."""
        return True if self._event is None else bool(self._event.done)

    def synchronize(self) -> None:
        """Block the host until the recorded work has finished."""
        if self._event is not None:
            self._event.synchronize()

    def elapsed_time(self, end_event: Event) -> float:
        """Milliseconds from this event's record to ``end_event``'s (both need ``enable_timing=True``)."""
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Event.elapsed_time: both events must be created with enable_timing=True")
        if self._event is None or end_event._event is None:
            raise RuntimeError("Event.elapsed_time: both events must be recorded before asking the elapsed time")
        return float(_cp().cuda.get_elapsed_time(self._event, end_event._event))

    def __repr__(self):
        state = "unrecorded" if self._event is None else "recorded"
        return f"<tinytorch.cuda.Event enable_timing={self.enable_timing} {state}>"


@dataclass(frozen=True)
class DeviceProperties:
    """What ``get_device_properties`` reports (the fields scripts read from torch's version)."""

    name: str
    total_memory: int
    major: int
    minor: int
    multi_processor_count: int
    L2_cache_size: int = 0

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
                f"total_memory={self.total_memory // (1024 * 1024)}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None) -> DeviceProperties:
    """Name, total memory (bytes), compute capability (major, minor) and SM count of a CUDA device."""
    cp = _cp()
    index = _ordinal(device)
    n = int(cp.cuda.runtime.getDeviceCount())
    if index >= n:
        raise RuntimeError(f"get_device_properties: CUDA device {index} requested but only {n} device(s) are visible")
    p = cp.cuda.runtime.getDeviceProperties(index)
    name = p["name"]
    name = name.decode() if isinstance(name, bytes) else str(name)
    return DeviceProperties(name=name, total_memory=int(p["totalGlobalMem"]), major=int(p["major"]),
                            minor=int(p["minor"]), multi_processor_count=int(p["multiProcessorCount"]),
                            L2_cache_size=int(p.get("l2CacheSize", 0)))
