"""A small thread pool for large memory-bound NumPy passes (the knob behind ``tinytorch.set_num_threads``).

NumPy runs a copy or a ufunc loop on one core, releasing the GIL while it does; PyTorch splits the same
pass across its intra-op threads. ``parallel_rows`` splits a pass that writes disjoint row blocks of its
output across ``num_threads()`` workers. Every element is computed by the same loop as on one thread,
only by another core, so results are bit-identical for any thread count (no reduction is ever split).

The pool is opt-in: until ``tinytorch.set_num_threads(n)`` asks for n > 1, every pass runs on the
calling thread as plain NumPy does. Measured on the project's shared 2-core VM (load ~10), a second
thread made a 4M-element exp or strided copy slower, not faster (the worker waits for a core), so
threads are a choice for a machine with idle cores, not a default. Small passes never use the pool:
below ``MIN_PARALLEL_ELEMENTS`` elements the hand-off (~20-50 us) costs more than a core saves, and
no thread is started until a large pass first asks.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

MIN_PARALLEL_ELEMENTS = 1 << 19  # 2 MiB of float32 per pass; measured break-even is ~2e5 on 2 cores

_state = {"threads": 1, "pool": None, "pool_size": 0}  # 1 until set_num_threads opts in
_lock = threading.Lock()
_local = threading.local()  # set inside workers: a pass already on a worker never fans out again


def default_num_threads() -> int:
    """OMP_NUM_THREADS (then the OpenBLAS/MKL variables) when set, else the usable cores."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        v = os.environ.get(var, "")
        if v.isdigit() and int(v) > 0:
            return int(v)
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def num_threads() -> int:
    """Workers a large pass may use (1 unless ``set_num_threads`` asked for more)."""
    return _state["threads"]


def set_num_threads(n: int) -> None:
    """Use ``n`` workers for large passes from now on (the pool is rebuilt lazily at the next one)."""
    with _lock:
        _state["threads"] = n
        if _state["pool"] is not None and _state["pool_size"] != n:
            _state["pool"].shutdown(wait=True)
            _state["pool"], _state["pool_size"] = None, 0


def _pool(n: int) -> ThreadPoolExecutor:
    with _lock:
        if _state["pool"] is None:
            _state["pool"] = ThreadPoolExecutor(max_workers=n - 1, thread_name_prefix="tinytorch-intraop",
                                                initializer=_mark_worker)
            _state["pool_size"] = n
        return _state["pool"]


def _mark_worker() -> None:
    _local.worker = True


def parallel_rows(fn, rows: int, elements: int) -> None:
    """Run ``fn(start, stop)`` over ``range(rows)`` split into contiguous blocks, one per thread.

    ``fn`` must write only rows ``start:stop`` of its output; ``elements`` is the pass's total size,
    which decides whether threads are worth it. The calling thread does the first block itself.
    """
    n = num_threads()
    if n <= 1 or rows < 2 or elements < MIN_PARALLEL_ELEMENTS or getattr(_local, "worker", False):
        fn(0, rows)
        return
    n = min(n, rows)
    bounds = [rows * i // n for i in range(n + 1)]
    pool = _pool(num_threads())
    futures = [pool.submit(fn, bounds[i], bounds[i + 1]) for i in range(1, n)]
    fn(bounds[0], bounds[1])
    for f in futures:
        f.result()  # re-raises a worker's exception here
