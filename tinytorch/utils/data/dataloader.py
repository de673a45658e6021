"""``DataLoader``: batches from a dataset, in sampler order, collated into tensors.

Single-process loading runs in the caller's process. ``num_workers > 0`` loads batches in
worker processes (``_utils/worker.py``); tensors cross the process boundary as NumPy arrays,
since tinytorch tensors are deliberately not picklable.
"""
from __future__ import annotations

import multiprocessing

from .dataset import IterableDataset
from .sampler import SequentialSampler, RandomSampler, BatchSampler
from ._utils.collate import default_collate, default_convert
from ._utils import worker
from ._utils.worker import MultiProcessIter

__all__ = ["DataLoader", "get_worker_info"]


def get_worker_info():
    """Inside a worker process: its ``WorkerInfo`` (id, num_workers, seed, dataset); None in the main process."""
    return worker.get_worker_info()


class DataLoader:
    """Iterate over ``dataset`` in batches (``torch.utils.data.DataLoader``).

    Args:
        dataset: a map-style ``Dataset`` (``__getitem__``/``__len__``) or an ``IterableDataset``.
        batch_size: samples per batch; None disables batching (samples come one by one, converted).
        shuffle: reshuffle every epoch (a ``RandomSampler`` drawing from ``generator``).
        sampler / batch_sampler: custom index order / custom index batches (exclusive with shuffle etc.).
        num_workers: worker processes (0: load in this process).
        collate_fn: turns a list of samples into a batch (default: ``default_collate``).
        pin_memory: accepted; a no-op (there is no page-locked host memory on the NumPy backend).
        drop_last: drop the last incomplete batch.
        timeout: seconds to wait for a worker's batch (0: forever).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker.
        generator: the ``tinytorch.Generator`` for shuffling and worker seeds.
        prefetch_factor: batches loaded ahead per worker (default 2 with workers).
        persistent_workers: keep the workers alive between epochs.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        if multiprocessing_context is not None:
            if num_workers == 0:
                raise ValueError("multiprocessing_context can only be used with multi-process loading "
                                 f"(num_workers > 0), but got num_workers={num_workers}")
            if isinstance(multiprocessing_context, str):
                methods = multiprocessing.get_all_start_methods()
                if multiprocessing_context not in methods:
                    raise ValueError("multiprocessing_context option should specify a valid start method in "
                                     f"{methods!r}, but got multiprocessing_context={multiprocessing_context!r}")
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self.generator = generator

        self._is_iterable = isinstance(dataset, IterableDataset)
        if self._is_iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 f"but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")

        if sampler is None and not self._is_iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._is_iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._workers = None  # persistent worker pool

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None or (self._is_iterable and self.batch_size is not None)

    @property
    def _index_sampler(self):
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def __len__(self):
        if self._is_iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)

    def __iter__(self):
        if self.num_workers > 0:
            if self.persistent_workers:
                if self._workers is None:
                    self._workers = MultiProcessIter(self)
                else:
                    self._workers.reset()
                return self._workers
            return MultiProcessIter(self)
        return self._single_process_iter()

    def _fetch(self, index):
        """The batch (or sample) for one entry of the index sampler."""
        ds = self.dataset
        if self._auto_collation:
            getitems = getattr(ds, "__getitems__", None)
            samples = getitems(index) if callable(getitems) else [ds[i] for i in index]
            return self.collate_fn(samples)
        return self.collate_fn(ds[index])

    def _single_process_iter(self):
        if self._is_iterable:
            yield from _iterable_batches(iter(self.dataset), self.batch_size, self.drop_last, self.collate_fn)
            return
        for index in self._index_sampler:
            yield self._fetch(index)

    def __del__(self):
        workers = getattr(self, "_workers", None)
        if workers is not None:
            workers.shutdown()


def _iterable_batches(it, batch_size, drop_last, collate_fn):
    if batch_size is None:
        for sample in it:
            yield collate_fn(sample)
        return
    batch = []
    for sample in it:
        batch.append(sample)
        if len(batch) == batch_size:
            yield collate_fn(batch)
            batch = []
    if batch and not drop_last:
        yield collate_fn(batch)
