"""Shared benchmark machinery: backends, smoke sizes, timing, peak memory and measured ceilings.

Imported by ``benchmarks/conftest.py`` (after it pins the thread count) and by the ``bench_*.py``
modules. Every case is written once against ``bk.lib`` (``tinytorch`` or ``torch``: the same API), so
the backends run exactly the same code.
"""
from __future__ import annotations

import ctypes
import gc
import math
import os
import time
import tracemalloc
from dataclasses import dataclass

import numpy as np
import pytest

THREADS = int(os.environ.get("TT_BENCH_THREADS", "2"))
# Seconds of timed work per case in a full run (rounds are sized from one probe call).
TARGET_SECONDS = float(os.environ.get("TT_BENCH_SECONDS", "1.0"))
BACKENDS = ("tinytorch-cpu", "tinytorch-cuda", "torch-cpu", "torch-cuda")


def smoke() -> bool:
    """True in smoke mode (``TT_BENCH_SMOKE=1`` or ``--smoke``): tiny shapes, one timed call each."""
    return os.environ.get("TT_BENCH_SMOKE", "0") not in ("", "0")


def pick(full, small):
    """The full-size value, or the small one in smoke mode."""
    return small if smoke() else full


def try_import_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


@dataclass
class Backend:
    """One library on one device."""

    name: str
    lib: object
    device: str

    @property
    def is_gpu(self) -> bool:
        return self.device == "cuda"

    @property
    def is_torch(self) -> bool:
        return self.name.startswith("torch")

    def tensor(self, arr: np.ndarray, requires_grad: bool = False):
        """A tensor holding a copy of ``arr`` on this backend's device."""
        if self.is_torch:
            t = self.lib.from_numpy(np.ascontiguousarray(arr)).to(self.device)
        else:
            t = self.lib.tensor(np.ascontiguousarray(arr), device=self.device)
        return t.requires_grad_(requires_grad) if requires_grad else t

    def sync(self) -> None:
        if self.is_gpu:
            self.lib.cuda.synchronize()


def unavailable_reason(name: str) -> str | None:
    """Why backend ``name`` cannot run here, or None when it can."""
    lib_name, device = name.split("-")
    if lib_name == "torch":
        torch = try_import_torch()
        if torch is None:
            return "PyTorch is not installed (optional benchmark dependency)"
        if device == "cuda" and not torch.cuda.is_available():
            return "PyTorch has no usable CUDA device"
        return None
    import tinytorch

    if device == "cuda" and not tinytorch.cuda.is_available():
        return f"tinytorch CUDA unavailable: {tinytorch.cuda.unavailable_reason()}"
    return None


def make_backend(name: str) -> Backend:
    lib_name, device = name.split("-")
    if lib_name == "torch":
        return Backend(name, try_import_torch(), device)
    import tinytorch

    return Backend(name, tinytorch, device)


# ---- peak memory ---------------------------------------------------------------------------------

def _proc_status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_rss_high_water_mark() -> bool:
    """Return freed heap pages to the OS, then reset VmHWM to the current RSS (Linux only)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def measure_peak_memory(bk: Backend, fn) -> dict:
    """Peak extra memory of one call of ``fn`` over what was resident before it.

    CPU: the process high-water mark (VmHWM, reset through /proc/self/clear_refs) minus the RSS
    before the call: the same method for both libraries. tinytorch-cpu additionally gets the
    tracemalloc peak, which counts exactly the NumPy buffers and Python objects it allocates.
    GPU: ``max_memory_allocated`` after ``reset_peak_memory_stats`` (torch's allocator; tinytorch's
    hook on CuPy's pool).
    """
    info: dict = {}
    if bk.is_gpu:
        # tinytorch.cuda mirrors torch.cuda's peak statistics (an allocator hook on CuPy's pool)
        cuda = bk.lib.cuda
        cuda.synchronize()
        cuda.reset_peak_memory_stats()
        base = cuda.memory_allocated()
        fn()
        cuda.synchronize()
        info["peak_mem_bytes"] = int(cuda.max_memory_allocated() - base)
        info["peak_mem_method"] = f"{bk.lib.__name__}.cuda.max_memory_allocated"
        return info
    if _reset_rss_high_water_mark():
        base = _proc_status_kb("VmRSS")
        fn()
        peak = _proc_status_kb("VmHWM")
        if base is not None and peak is not None:
            info["peak_mem_bytes"] = (peak - base) * 1024
            info["peak_mem_method"] = "VmHWM - VmRSS"
    if not bk.is_torch:
        gc.collect()
        tracemalloc.start()
        try:
            fn()
            info["peak_mem_tracemalloc_bytes"] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return info


# ---- measured ceilings ---------------------------------------------------------------------------

_CEILINGS: dict = {}


def _best_time(fn, sync, timer, repeats: int = 10) -> float:
    fn()
    sync()
    best = math.inf
    for _ in range(repeats):
        t0 = timer()
        fn()
        sync()
        best = min(best, timer() - t0)
    return best


def ceilings(bk: Backend, timer=time.perf_counter) -> dict:
    """Measured GEMM FLOP/s and copy bandwidth of the device (raw NumPy / CuPy, same threads).

    ``timer`` is the benchmark's own (``--benchmark-timer``), so ceilings and cases are comparable.
    """
    if bk.device in _CEILINGS:
        return _CEILINGS[bk.device]
    if bk.is_gpu:
        import cupy as xp

        def sync():
            xp.cuda.Device().synchronize()
        n, m = pick(4096, 512), pick(1 << 28, 1 << 20)
    else:
        xp = np

        def sync():
            pass
        n, m = pick(1024, 128), pick(1 << 25, 1 << 16)
    a = xp.asarray(np.random.default_rng(0).standard_normal((n, n), dtype=np.float32))
    t_gemm = _best_time(lambda: a @ a, sync, timer)
    src = xp.ones(m, dtype=np.float32)
    dst = xp.empty_like(src)
    t_copy = _best_time(lambda: xp.copyto(dst, src), sync, timer)
    _CEILINGS[bk.device] = {
        "ceiling_flops_per_s": 2.0 * n**3 / t_gemm,
        "ceiling_bytes_per_s": 2.0 * 4 * m / t_copy,
        "ceiling_source": f"{xp.__name__} {n}^3 fp32 matmul; {4 * m >> 20} MiB fp32 copy (read + write)",
    }
    return _CEILINGS[bk.device]


# ---- running one case ----------------------------------------------------------------------------

def run_case(benchmark, bk: Backend, group: str, fn, *, flops: float = 0.0, nbytes: float = 0.0,
             bound: str | None = None, **extra) -> None:
    """Time ``fn`` (one iteration of the case) on ``bk`` under ``group``, with its metadata.

    ``flops``/``nbytes``: arithmetic and minimum memory traffic of one call; ``bound`` ("flops" or
    "bytes") says which measured ceiling the report compares against.
    """
    benchmark.group = group

    def timed():
        out = fn()
        bk.sync()
        return out

    timed()  # warm-up: first-call allocations, kernel compilation, lazy imports
    info = benchmark.extra_info
    info.update(backend=bk.name, device=bk.device, threads=THREADS, flops=float(flops),
                bytes=float(nbytes), bound=bound, smoke=smoke(), **extra)
    if hasattr(os, "getloadavg"):  # other processes on the machine skew thread-pool timings
        info["loadavg_1min"] = os.getloadavg()[0]
    if bk.is_torch:
        info["torch_threads"] = bk.lib.get_num_threads()
    info.update(measure_peak_memory(bk, timed))
    if bound is not None:
        info.update(ceilings(bk, getattr(benchmark, "_timer", time.perf_counter)))
    if smoke():
        benchmark.pedantic(timed, rounds=1, iterations=1)
        return
    t0 = time.perf_counter()
    timed()
    probe = max(time.perf_counter() - t0, 1e-7)
    # Several calls per round for microsecond cases, so the timer's own cost stays negligible.
    iterations = max(1, int(2e-4 / probe))
    rounds = int(min(max(TARGET_SECONDS / (probe * iterations), 5), 2000))
    benchmark.pedantic(timed, rounds=rounds, iterations=iterations, warmup_rounds=1)


def skip_unless_gpu(bk: Backend, what: str) -> None:
    """Sizes that only make sense on a GPU are skipped on the CPU backends."""
    if not bk.is_gpu:
        pytest.skip(f"{what}: GPU-only size")
