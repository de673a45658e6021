"""Samplers: which dataset indices a ``DataLoader`` visits, and in what order.

Nothing here is O(num_samples) up front: draws with replacement come ``_CHUNK`` at a time (torch draws 32
per ``randint`` call), so ``RandomSampler(ds, replacement=True, num_samples=int(1e10))`` streams forever in
constant memory, and permutations of more than ``lazy_perm.EAGER_MAX`` indices are computed lazily.
"""
from __future__ import annotations

import itertools

from ... import _dtype as dtypes
from ...random import default_generator, Generator
from ...tensor import Tensor
from ._utils.lazy_perm import iter_permutation
from ...creation import randint, as_tensor, multinomial

_CHUNK = 32  # indices per randint call, as torch's RandomSampler draws them
_WEIGHTED_CHUNK = 4096  # multinomial normalises all weights per call, so draw more at once

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler"]


class Sampler:
    """Base class: an iterable of indices (or of index lists, for batch samplers)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


def _fresh_generator():
    """A generator seeded from the default one, so ``manual_seed`` makes every epoch reproducible."""
    seed = int(randint(0, 2**62, (1,), generator=default_generator).item())
    return Generator().manual_seed(seed)


class SequentialSampler(Sampler):
    """Indices 0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices, or ``num_samples`` draws with ``replacement``.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw with replacement. num_samples: how many indices (default: all).
        generator: a ``tinytorch.Generator``; by default a fresh one seeded from the default generator
            at each iteration.
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        gen = self.generator if self.generator is not None else _fresh_generator()
        if self.replacement:
            for _ in range(self.num_samples // _CHUNK):
                yield from randint(0, n, (_CHUNK,), generator=gen).tolist()
            rest = self.num_samples % _CHUNK
            if rest:
                yield from randint(0, n, (rest,), generator=gen).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from iter_permutation(n, gen)
        rest = self.num_samples % n
        if rest:
            yield from itertools.islice(iter_permutation(n, gen), rest)

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order (without replacement)."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in iter_permutation(len(self.indices), self.generator):
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``."""

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")

        w = weights if isinstance(weights, Tensor) else as_tensor(weights, dtype=dtypes.float64)
        if w.dim() != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}")
        self.weights = w.to(dtype=dtypes.float64)
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        if not self.replacement:  # num_samples <= len(weights) here, so one draw is bounded
            yield from multinomial(self.weights, self.num_samples, False, generator=self.generator).tolist()
            return
        # each draw re-normalises all the weights: chunks at least as long as the weights keep that cost
        # proportional to the samples drawn, while a huge num_samples still streams
        chunk = max(_WEIGHTED_CHUNK, len(self.weights))
        for _ in range(self.num_samples // chunk):
            yield from multinomial(self.weights, chunk, True, generator=self.generator).tolist()
        rest = self.num_samples % chunk
        if rest:
            yield from multinomial(self.weights, rest, True, generator=self.generator).tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size`` (the last may be short unless ``drop_last``)."""

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else (n + self.batch_size - 1) // self.batch_size
