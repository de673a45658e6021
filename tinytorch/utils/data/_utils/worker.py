"""Worker processes for ``DataLoader(num_workers > 0)``.

Each worker owns an index queue; all share one result queue. The main process sends
``(epoch, task_id, indices)`` round-robin, keeps ``prefetch_factor`` tasks in flight per
worker, and yields results in task order. tinytorch tensors refuse to be pickled (checkpoints
go through safetensors), so a worker ships each batch with its tensors replaced by
``_Shipped`` NumPy arrays and the main process rebuilds them. Workers are forked where the
platform allows, so the dataset is not pickled either.
"""
from __future__ import annotations

import itertools
import multiprocessing
import multiprocessing.connection
import queue
import signal
import time
import traceback
from dataclasses import dataclass

import numpy as np

from .... import _arrays
from ....tensor import Tensor
from .... import random as tt_random
import random
from ....creation import randint

_worker_info = None

# the main process sleeps on the result queue and every worker's sentinel at once, so a dead worker
# wakes it at once; this is only the fallback poll where the queue has no waitable reader
_POLL_S = 0.1
# seconds a normal shutdown waits for idle workers to exit; after a timeout or a failure, _FAST_JOIN_S
_JOIN_S = 5.0
_FAST_JOIN_S = 0.2


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker."""

    id: int
    num_workers: int
    seed: int
    dataset: object


def get_worker_info():
    return _worker_info


class _Shipped:
    """A tensor crossing the process boundary as its NumPy array."""

    __slots__ = ("array", "requires_grad")

    def __init__(self, array, requires_grad):
        self.array = array
        self.requires_grad = requires_grad


def _ship(obj):
    if isinstance(obj, Tensor):
        return _Shipped(_arrays.as_numpy(obj._data), obj.requires_grad)
    return _map_containers(obj, _ship)


def _map_containers(obj, fn):
    """``fn`` applied inside dicts, lists, tuples and namedtuples (their types kept); anything else as is."""
    if isinstance(obj, dict):
        mapped = {k: fn(v) for k, v in obj.items()}
        try:
            return type(obj)(mapped)
        except TypeError:
            return mapped
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(fn(v) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(fn(v) for v in obj)
    return obj


def _unship(obj):
    if isinstance(obj, _Shipped):
        t = Tensor._make(obj.array)
        if obj.requires_grad:
            t.requires_grad_(True)
        return t
    return _map_containers(obj, _unship)


class _IterableEnd:
    """Sent by a worker whose copy of an IterableDataset is exhausted."""


class _Reset:
    """Tells a persistent worker that a new epoch begins (restart its IterableDataset stream)."""


def _worker_loop(loader_state, index_queue, result_queue, worker_id, num_workers, seed):
    global _worker_info

    dataset, collate_fn, auto_collation, is_iterable, batch_size, drop_last, init_fn = loader_state
    tt_random.manual_seed(seed)
    np.random.seed(seed % 2**32)

    random.seed(seed)
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
    init_error = None
    if init_fn is not None:
        try:
            init_fn(worker_id)
        except Exception:  # reported with the first task, like a fetch error
            init_error = traceback.format_exc()
    stream = None
    while True:
        msg = index_queue.get()
        if msg is None:
            break
        if isinstance(msg, _Reset):
            stream = None
            continue
        epoch, task_id, index = msg
        if init_error is not None:
            result_queue.put((epoch, task_id, worker_id, None, ("Exception", init_error)))
            continue
        try:
            if is_iterable:
                if stream is None:
                    stream = iter(dataset)
                batch = _next_iterable_batch(stream, batch_size, drop_last, collate_fn)
            elif auto_collation:
                getitems = getattr(dataset, "__getitems__", None)
                samples = getitems(index) if callable(getitems) else [dataset[i] for i in index]
                batch = collate_fn(samples)
            else:
                batch = collate_fn(dataset[index])
            result_queue.put((epoch, task_id, worker_id, _ship(batch), None))
        except Exception as e:  # noqa: BLE001 - re-raised in the main process
            result_queue.put((epoch, task_id, worker_id, None, (type(e).__name__, traceback.format_exc())))


def _next_iterable_batch(stream, batch_size, drop_last, collate_fn):
    if batch_size is None:
        try:
            return collate_fn(next(stream))
        except StopIteration:
            return _IterableEnd()
    batch = list(itertools.islice(stream, batch_size))
    if not batch or (drop_last and len(batch) < batch_size):
        return _IterableEnd()
    return collate_fn(batch)


class MultiProcessIter:
    """The iterator of a ``DataLoader`` with worker processes (reusable across epochs when persistent)."""

    def __init__(self, loader):
        self._loader = loader
        ctx = loader.multiprocessing_context
        if ctx is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        elif isinstance(ctx, str):
            ctx = multiprocessing.get_context(ctx)
        self._n = loader.num_workers
        self._result_queue = ctx.Queue()
        self._index_queues = []
        self._workers = []

        base_seed = int(randint(0, 2**62, (1,), generator=loader.generator).item())
        state = (loader.dataset, loader.collate_fn, loader._auto_collation, loader._is_iterable,
                 loader.batch_size, loader.drop_last, loader.worker_init_fn)
        for wid in range(self._n):
            iq = ctx.Queue()
            w = ctx.Process(target=_worker_loop, args=(state, iq, self._result_queue, wid, self._n, base_seed + wid),
                            daemon=True)
            w.start()
            self._index_queues.append(iq)
            self._workers.append(w)
        self._shutdown = False
        self._epoch = -1
        self._start_epoch(first=True)

    # ---- epochs ------------------------------------------------------------------------------
    def _start_epoch(self, first=False):
        self._epoch += 1
        loader = self._loader
        self._sampler_iter = None if loader._is_iterable else iter(loader._index_sampler)
        self._active = list(range(self._n))  # workers whose stream is not exhausted (iterable datasets)
        self._next_task = 0
        self._next_yield = 0
        self._task_worker = {}
        self._buffer = {}
        self._rr = itertools.cycle(range(self._n))
        if not first and loader._is_iterable:
            for iq in self._index_queues:
                iq.put(_Reset())
        for _ in range(self._n * loader.prefetch_factor):
            if not self._dispatch():
                break

    def reset(self):
        """Start a new epoch on the same (persistent) workers."""
        self._start_epoch()

    def _dispatch(self) -> bool:
        if self._loader._is_iterable:
            if not self._active:
                return False
            wid = next(self._rr)
            while wid not in self._active:
                wid = next(self._rr)
            index = None
        else:
            try:
                index = next(self._sampler_iter)
            except StopIteration:
                return False
            wid = next(self._rr)
        self._index_queues[wid].put((self._epoch, self._next_task, index))
        self._task_worker[self._next_task] = wid
        self._next_task += 1
        return True

    # ---- iteration ---------------------------------------------------------------------------
    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def __next__(self):
        while True:
            if self._next_yield >= self._next_task:
                self._finish_epoch()
                raise StopIteration
            result = self._buffer.pop(self._next_yield, None)
            if result is None:
                self._receive()
                continue
            self._next_yield += 1
            batch, error, wid = result
            if error is not None:
                self._fail(wid, error)
            if isinstance(batch, _IterableEnd):
                if wid in self._active:
                    self._active.remove(wid)
                self._dispatch()
                continue
            self._dispatch()
            return _unship(batch)

    def _receive(self):
        timeout = self._loader.timeout
        deadline = time.monotonic() + timeout if timeout else None
        reader = getattr(self._result_queue, "_reader", None)
        sentinels = [w.sentinel for w in self._workers]
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                self.shutdown(fast=True)
                raise RuntimeError(f"DataLoader timed out after {timeout} seconds")
            if reader is not None:
                ready = multiprocessing.connection.wait([reader] + sentinels, timeout=remaining)
                has_data = reader in ready
            else:
                has_data = True
            if has_data:
                wait = _POLL_S if remaining is None else max(min(_POLL_S, remaining), 0.001)
                try:
                    epoch, task_id, wid, batch, error = self._result_queue.get(timeout=wait)
                except queue.Empty:
                    pass
                else:
                    if epoch == self._epoch:  # results of an abandoned earlier epoch are dropped
                        self._buffer[task_id] = (batch, error, wid)
                        return
                    continue
            self._check_workers_alive()

    def _check_workers_alive(self):
        for w in self._workers:
            if w.is_alive():
                continue
            w.join(timeout=1.0)  # the sentinel can close a moment before the exit status is ready
            code = w.exitcode
            self.shutdown(fast=True)
            if code is not None and code < 0:
                try:
                    name = signal.strsignal(-code) or signal.Signals(-code).name
                except (ValueError, AttributeError):
                    name = f"signal {-code}"
                raise RuntimeError(f"DataLoader worker (pid {w.pid}) is killed by signal: {name}. ")
            raise RuntimeError(
                f"DataLoader worker (pid {w.pid}) exited unexpectedly with exit code {code}. Details are lost due "
                "to multiprocessing. Rerunning with num_workers=0 may give better error trace."
            )

    def _fail(self, wid, error):
        name, tb = error
        self.shutdown(fast=True)
        msg = f"Caught {name} in DataLoader worker process {wid}.\nOriginal {tb}"
        exc_type = {"KeyError": KeyError, "IndexError": IndexError, "ValueError": ValueError,
                    "TypeError": TypeError}.get(name, RuntimeError)
        raise exc_type(msg)

    def _finish_epoch(self):
        if not self._loader.persistent_workers:
            self.shutdown()

    def shutdown(self, fast: bool = False):
        """Stop the workers: ask them to exit, wait (briefly when ``fast``: one may be hung), then terminate."""
        if self._shutdown:
            return
        self._shutdown = True
        for iq in self._index_queues:
            try:
                iq.put(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + (_FAST_JOIN_S if fast else _JOIN_S)
        for w in self._workers:
            w.join(timeout=max(deadline - time.monotonic(), 0))
        for w in self._workers:
            if w.is_alive():
                w.terminate()
        for w in self._workers:
            w.join(timeout=1.0)
            if w.is_alive():  # ignored SIGTERM
                w.kill()
                w.join(timeout=1.0)
        for q in self._index_queues + [self._result_queue]:
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        try:
            self.shutdown()
        except Exception:  # noqa: BLE001 - interpreter teardown
            pass
