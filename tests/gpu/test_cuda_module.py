"""tinytorch.cuda: memory statistics, OOM text, Stream/Event and device properties.

The accounting in tinytorch._arrays.memory runs here against a fake CuPy (pool + allocator
hook), so the peak tracking and the OOM message are checked on every machine; the tests marked
``gpu`` run the same API on a real device.
"""
from __future__ import annotations

import contextlib
import types

import numpy as np
import pytest

import tinytorch
import tinytorch.cuda as tcuda
from tinytorch import _arrays
from tinytorch._arrays import memory


# ---- a fake CuPy: a pool with a capacity, an allocator slot, one device ---------------------------

class _FakeOOM(MemoryError):
    pass


class _FakePool:
    def __init__(self, capacity):
        self.capacity, self.used, self.cached = capacity, 0, 0

    def malloc(self, size):
        if self.used + size > self.capacity:
            raise _FakeOOM(f"Out of memory allocating {size:,} bytes")
        self.used += size
        return ("ptr", size)

    def free(self, size):
        self.used -= size
        self.cached += size

    def used_bytes(self):
        return self.used

    def total_bytes(self):
        return self.used + self.cached

    def free_all_blocks(self):
        self.cached = 0


def _fake_cupy(capacity=1000):
    pool = _FakePool(capacity)
    cuda = types.SimpleNamespace()
    cuda.allocator = None
    cuda.set_allocator = lambda fn: setattr(cuda, "allocator", fn)
    cuda.runtime = types.SimpleNamespace(getDevice=lambda: 0, memGetInfo=lambda: (capacity - pool.used, capacity))
    cuda.memory = types.SimpleNamespace(OutOfMemoryError=_FakeOOM)
    cuda.Device = lambda i: contextlib.nullcontext()
    return types.SimpleNamespace(cuda=cuda, get_default_memory_pool=lambda: pool), pool


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(memory, "_state", {"cupy": None, "pool": None, "peak": {}})
    return _fake_cupy()


def test_install_hooks_the_allocator_once(fake):
    cp, _ = fake
    assert not memory.installed()
    memory.install(cp)
    hook = cp.cuda.allocator
    assert callable(hook) and memory.installed()
    memory.install(cp)
    assert cp.cuda.allocator is hook


def test_peak_is_tracked_at_allocation_time_not_when_asked(fake):
    cp, pool = fake
    memory.install(cp)
    alloc = cp.cuda.allocator
    alloc(100)
    alloc(200)
    pool.free(300)  # everything freed before anyone asks
    assert memory.used_bytes(cp) == 0
    assert memory.peak_bytes(cp) == 300
    assert memory.reserved_bytes(cp) == 300  # cached by the pool
    memory.reset_peak(cp)
    assert memory.peak_bytes(cp) == 0
    alloc(50)
    assert memory.peak_bytes(cp) == 50
    memory.empty_cache(cp)
    assert memory.reserved_bytes(cp) == 50


def test_oom_becomes_a_clear_runtime_error(fake):
    cp, _ = fake
    memory.install(cp)
    cp.cuda.allocator(600)
    with pytest.raises(tcuda.OutOfMemoryError) as info:
        cp.cuda.allocator(512)
    msg = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert "Tried to allocate 512 bytes" in msg and "cuda:0" in msg
    assert "600 bytes in use" in msg and "1000 bytes in total" in msg
    assert isinstance(info.value.__cause__, _FakeOOM)


def test_format_bytes():
    assert memory.format_bytes(12) == "12 bytes"
    assert memory.format_bytes(1536) == "1.50 KiB (1536 bytes)"
    assert memory.format_bytes(3 * 1024**3) == "3.00 GiB (3221225472 bytes)"


# ---- without CUDA: zeros and clear errors, like torch ------------------------------------------

@pytest.mark.skipif(_arrays.cuda_available(), reason="checks the behaviour without CUDA")
def test_without_cuda():
    assert tcuda.memory_allocated() == 0 and tcuda.max_memory_allocated() == 0 and tcuda.memory_reserved() == 0
    tcuda.reset_peak_memory_stats()
    tcuda.empty_cache()
    ev = tcuda.Event(enable_timing=True)  # building an event touches nothing
    assert ev.query()
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        tcuda.Stream()
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        tcuda.get_device_properties(0)


def test_elapsed_time_needs_timing_and_records():
    a, b = tcuda.Event(), tcuda.Event()
    with pytest.raises(RuntimeError, match="enable_timing"):
        a.elapsed_time(b)
    a, b = tcuda.Event(enable_timing=True), tcuda.Event(enable_timing=True)
    with pytest.raises(RuntimeError, match="recorded"):
        a.elapsed_time(b)


# ---- on a real GPU -------------------------------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.real_gpu  # real kernels / memory pool / streams
def test_memory_stats_on_gpu():
    tcuda.synchronize()
    tcuda.empty_cache()
    tcuda.reset_peak_memory_stats()
    base = tcuda.memory_allocated()
    x = tinytorch.empty(1024, 1024, device="cuda")  # 4 MiB float32
    assert tcuda.memory_allocated() >= base + 4 * 1024 * 1024
    assert tcuda.memory_reserved() >= tcuda.memory_allocated()
    y = x * 2
    peak_with_both = tcuda.memory_allocated()
    del x, y
    assert tcuda.memory_allocated() <= base + 1024  # freed back to the pool
    assert tcuda.max_memory_allocated() >= peak_with_both  # the peak survived the frees
    assert tcuda.max_memory_allocated("cuda:0") >= peak_with_both
    tcuda.reset_peak_memory_stats()
    assert tcuda.max_memory_allocated() < peak_with_both
    reserved = tcuda.memory_reserved()
    tcuda.empty_cache()
    assert tcuda.memory_reserved() <= reserved


@pytest.mark.gpu
@pytest.mark.real_gpu  # real kernels / memory pool / streams
def test_oom_error_text_on_gpu():
    total = tcuda.get_device_properties(0).total_memory
    n = (2 * total) // 4  # twice the device's memory in float32
    with pytest.raises(tcuda.OutOfMemoryError) as info:
        tinytorch.empty(n, device="cuda")
    msg = str(info.value)
    assert "Tried to allocate" in msg and str(4 * n) in msg and "in total" in msg
    tcuda.empty_cache()
    tinytorch.ones(4, device="cuda")  # the device is still usable afterwards


@pytest.mark.gpu
@pytest.mark.real_gpu  # real kernels / memory pool / streams
def test_oom_from_an_op_forward():
    total = tcuda.get_device_properties(0).total_memory
    side = int((total / 4) ** 0.5) + 1024
    x = tinytorch.ones(side, 1, device="cuda")
    with pytest.raises(tcuda.OutOfMemoryError):
        x * tinytorch.ones(1, side, device="cuda")  # broadcast result larger than the device


@pytest.mark.gpu
@pytest.mark.real_gpu  # real kernels / memory pool / streams
def test_events_time_gpu_work():
    a = tinytorch.randn(2048, 2048, device="cuda")
    start, end = tcuda.Event(enable_timing=True), tcuda.Event(enable_timing=True)
    start.record()
    for _ in range(5):
        a = a @ a / 2048.0
    end.record()
    end.synchronize()
    assert end.query()
    ms = start.elapsed_time(end)
    assert isinstance(ms, float) and ms > 0


@pytest.mark.gpu
@pytest.mark.real_gpu  # real kernels / memory pool / streams
def test_streams():
    s = tcuda.Stream()
    assert tcuda.current_stream() != s
    with tcuda.stream(s):
        assert tcuda.current_stream() == s
        x = tinytorch.ones(1000, device="cuda") * 3
    s.synchronize()
    assert s.query()
    assert tcuda.current_stream() == tcuda.default_stream()
    ev = s.record_event()
    tcuda.current_stream().wait_event(ev)
    assert float(x.sum().item()) == 3000.0


@pytest.mark.gpu
def test_device_properties():
    p = tcuda.get_device_properties(0)
    assert p.name == tcuda.get_device_name(0)
    assert p.total_memory > 1 << 30 and p.major >= 3 and p.multi_processor_count > 0
    assert "multi_processor_count" in repr(p)
    with pytest.raises(RuntimeError, match="requested"):
        tcuda.get_device_properties(tcuda.device_count())


@pytest.mark.gpu
def test_synchronize_and_seed():
    tcuda.manual_seed(3)
    a = tinytorch.randn(5, device="cuda")
    tcuda.manual_seed(3)
    b = tinytorch.randn(5, device="cuda")
    tcuda.synchronize()
    np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())
