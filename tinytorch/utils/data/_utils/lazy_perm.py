"""A random permutation of ``range(n)`` that is never materialised, for datasets too large for ``randperm``.

Below ``EAGER_MAX`` elements the samplers use ``randperm`` exactly as torch does (same order for the same
seed as before). Above it, ``LazyPermutation`` maps position ``i`` to ``perm[i]`` with a keyed Feistel
network on the smallest even number of bits covering ``n``, cycle-walking values that land outside
``[0, n)``: a bijection of ``range(n)``, O(1) memory, computed chunk by chunk with NumPy.
"""
from __future__ import annotations

import numpy as np
from ....creation import randperm, randint

EAGER_MAX = 1 << 24  # 16M indices: 128 MB as int64, about what torch's randperm costs too
CHUNK = 4096
_ROUNDS = 4
_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix(x: np.ndarray) -> np.ndarray:
    # splitmix64's finaliser: a fast, well-spread round function
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


class LazyPermutation:
    """``perm[i]`` for a random permutation of ``range(n)``; keys come from ``generator``."""

    def __init__(self, n: int, generator):
        self.n = int(n)
        bits = max(2, (self.n - 1).bit_length())
        self._half = (bits + 1) // 2
        self._mask = np.uint64((1 << self._half) - 1)
        self._keys = [np.uint64(k) for k in randint(0, 2**62, (_ROUNDS,), generator=generator).tolist()]

    def __len__(self) -> int:
        return self.n

    def _encrypt(self, x: np.ndarray) -> np.ndarray:
        h = np.uint64(self._half)
        left, right = x >> h, x & self._mask
        with np.errstate(over="ignore"):
            for k in self._keys:
                left, right = right, left ^ (_mix(right ^ k) & self._mask)
        return (left << h) | right

    def take(self, positions: np.ndarray) -> np.ndarray:
        """``perm[positions]`` as int64 (positions in ``[0, n)``)."""
        y = self._encrypt(positions.astype(np.uint64))
        out_of_range = y >= np.uint64(self.n)
        while out_of_range.any():  # cycle walking: at most ~4 steps expected, since 4**half < 4 n
            y[out_of_range] = self._encrypt(y[out_of_range])
            out_of_range = y >= np.uint64(self.n)
        return y.astype(np.int64)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return PermutationSlice(self, *i.indices(self.n))
        i = int(i)
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(f"permutation index {i} out of range for length {self.n}")
        return int(self.take(np.array([i]))[0])

    def iter_range(self, start: int, stop: int, step: int = 1):
        """Yield ``perm[start:stop:step]`` as Python ints, computed ``CHUNK`` at a time."""
        for lo in range(start, stop, CHUNK * step):
            hi = lo + CHUNK * step
            hi = min(hi, stop) if step > 0 else max(hi, stop)
            yield from self.take(np.arange(lo, hi, step, dtype=np.int64)).tolist()

    def __iter__(self):
        return self.iter_range(0, self.n)


class PermutationSlice:
    """A lazy ``perm[start:stop:step]`` (what ``random_split`` hands its ``Subset``s for huge datasets)."""

    def __init__(self, perm: LazyPermutation, start: int, stop: int, step: int):
        self.perm, self.start, self.stop, self.step = perm, start, stop, step
        self._range = range(start, stop, step)

    def __len__(self) -> int:
        return len(self._range)

    def __getitem__(self, i):
        if isinstance(i, slice):
            r = self._range[i]
            return PermutationSlice(self.perm, r.start, r.stop, r.step)
        return self.perm[self._range[i]]

    def __iter__(self):
        return self.perm.iter_range(self.start, self.stop, self.step)


def iter_permutation(n: int, generator):
    """The indices of a random permutation of ``range(n)``: ``randperm`` (as torch) when small, else lazy."""
    if n > EAGER_MAX:
        yield from LazyPermutation(n, generator)
        return

    perm = randperm(n, generator=generator).numpy()
    for lo in range(0, n, CHUNK):  # Python ints a chunk at a time, not all n at once
        yield from perm[lo:lo + CHUNK].tolist()


def permutation(n: int, generator):
    """A sliceable permutation of ``range(n)``: a list from ``randperm`` when small, else a ``LazyPermutation``."""
    if n > EAGER_MAX:
        return LazyPermutation(n, generator)

    return randperm(n, generator=generator).tolist()
