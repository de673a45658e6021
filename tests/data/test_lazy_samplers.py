"""Issue #12 §1: nothing materialises what torch streams. Every sampler, DataLoader path and random_split
runs on a dataset of 10**12 (or num_samples=1e10) in small memory; each test measures its peak allocation
(tracemalloc sees NumPy's buffers too), so an O(num_samples) array anywhere makes it fail."""
from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pytest

import tinytorch
from tinytorch.utils.data import (
    BatchSampler, DataLoader, Dataset, RandomSampler, SubsetRandomSampler, WeightedRandomSampler, random_split,
)
from tinytorch.utils.data.distributed import DistributedSampler
from tinytorch.utils.data._utils.lazy_perm import EAGER_MAX, LazyPermutation

HUGE = 10**12
SMALL_BYTES = 16 * 2**20  # far below one O(num_samples) array of int64 (8 TB here)


class Huge(Dataset):
    """A dataset of ``n`` samples computed on demand (sample i is i)."""

    def __init__(self, n=HUGE):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i


class small_memory:
    """Context manager asserting the block's peak traced allocation stays under SMALL_BYTES."""

    def __enter__(self):
        tracemalloc.start()
        return self

    def __exit__(self, *exc):
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        if exc[0] is None:
            assert peak < SMALL_BYTES, f"peak allocation {peak / 2**20:.1f} MiB: something was materialised"


def _take(it, k):
    return list(itertools.islice(it, k))


def test_random_sampler_with_replacement_streams_1e10():
    n = 50
    with small_memory():
        s = RandomSampler(Huge(n), replacement=True, num_samples=int(1e10), generator=tinytorch.Generator().manual_seed(3))
        assert len(s) == 10**10  # len() works as in torch: num_samples
        first = _take(iter(s), 100)
    assert all(0 <= i < n for i in first)
    # torch's chunking: 32 draws per randint call, so the stream is randint(32), randint(32), ...
    g = tinytorch.Generator().manual_seed(3)
    expected = sum((tinytorch.randint(0, n, (32,), generator=g).tolist() for _ in range(4)), [])[:100]
    assert first == expected


def test_random_sampler_with_replacement_remainder_and_seed():
    s = RandomSampler(Huge(7), replacement=True, num_samples=45, generator=tinytorch.Generator().manual_seed(1))
    a = list(s)
    assert len(a) == 45 and all(0 <= i < 7 for i in a)
    s.generator = tinytorch.Generator().manual_seed(1)
    assert list(s) == a  # reproducible from the seed
    tinytorch.manual_seed(5)
    b = list(RandomSampler(Huge(7), replacement=True, num_samples=45))
    tinytorch.manual_seed(5)
    assert list(RandomSampler(Huge(7), replacement=True, num_samples=45)) == b


def test_random_sampler_without_replacement_on_huge_dataset():
    with small_memory():
        s = RandomSampler(Huge(), generator=tinytorch.Generator().manual_seed(0))
        assert len(s) == HUGE
        first = _take(iter(s), 10_000)
    assert len(set(first)) == len(first) and all(0 <= i < HUGE for i in first)
    assert first != list(range(10_000))
    s.generator = tinytorch.Generator().manual_seed(0)
    assert _take(iter(s), 10_000) == first


def test_random_sampler_without_replacement_many_epochs_of_small_dataset():
    # num_samples far above n: whole permutations one after the other, never all at once
    with small_memory():
        s = RandomSampler(Huge(10), num_samples=HUGE, generator=tinytorch.Generator().manual_seed(0))
        first = _take(iter(s), 35)
    assert len(s) == HUGE
    assert sorted(first[:10]) == list(range(10)) and sorted(first[10:20]) == list(range(10))


def test_small_permutations_are_randperm_as_before():
    g = tinytorch.Generator().manual_seed(4)
    s = RandomSampler(Huge(20), num_samples=30, generator=tinytorch.Generator().manual_seed(4))
    p1 = tinytorch.randperm(20, generator=g).tolist()
    p2 = tinytorch.randperm(20, generator=g).tolist()
    assert list(s) == p1 + p2[:10]


@pytest.mark.parametrize("n", [1, 2, 3, 5, 1000, 4097, 2**16 + 3])
def test_lazy_permutation_is_a_bijection(n):
    p = LazyPermutation(n, tinytorch.Generator().manual_seed(n))
    values = list(p)
    assert sorted(values) == list(range(n))
    assert [p[i] for i in range(min(n, 50))] == values[:50]
    assert list(p[3:40:4]) == values[3:40:4]
    if n > 100:
        assert values != list(range(n))


def test_lazy_permutation_is_used_above_the_eager_limit():
    with small_memory():
        it = iter(RandomSampler(Huge(EAGER_MAX + 1), generator=tinytorch.Generator().manual_seed(0)))
        first = _take(it, 10)
    assert len(set(first)) == 10


def test_weighted_random_sampler_streams():
    w = [0.1, 0.0, 0.6, 0.3]
    with small_memory():
        s = WeightedRandomSampler(w, num_samples=HUGE, generator=tinytorch.Generator().manual_seed(0))
        assert len(s) == HUGE
        first = _take(iter(s), 5000)
    counts = np.bincount(first, minlength=4) / len(first)
    assert counts[1] == 0 and abs(counts[2] - 0.6) < 0.05
    s.generator = tinytorch.Generator().manual_seed(0)
    assert _take(iter(s), 5000) == first
    # without replacement: one bounded draw, all distinct
    s2 = WeightedRandomSampler([1.0, 2.0, 3.0, 4.0], num_samples=3, replacement=False)
    assert len(set(s2)) == 3


def test_subset_random_sampler_over_huge_range():
    with small_memory():
        s = SubsetRandomSampler(range(0, 2 * HUGE, 2), generator=tinytorch.Generator().manual_seed(0))
        assert len(s) == HUGE
        first = _take(iter(s), 1000)
    assert len(set(first)) == 1000 and all(i % 2 == 0 for i in first)


def test_batch_sampler_over_infinite_random_sampler():
    with small_memory():
        bs = BatchSampler(RandomSampler(Huge(100), replacement=True, num_samples=int(1e10)), 64, drop_last=True)
        assert len(bs) == 10**10 // 64
        batches = _take(iter(bs), 3)
    assert [len(b) for b in batches] == [64, 64, 64]


@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_huge(drop_last):
    with small_memory():
        s = DistributedSampler(Huge(HUGE + 3), num_replicas=4, rank=1, shuffle=True, drop_last=drop_last)
        assert len(s) == (HUGE // 4 if drop_last else HUGE // 4 + 1)
        first = _take(iter(s), 1000)
    assert len(set(first)) == 1000


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 4, False), (10, 4, True), (3, 8, False), (8, 4, False)])
def test_distributed_sampler_matches_torchs_padding(n, replicas, drop_last):
    # torch: indices = randperm(n); pad by repeating from the start (or trim); take rank::replicas
    for rank in range(replicas):
        s = DistributedSampler(Huge(n), num_replicas=replicas, rank=rank, shuffle=True, seed=7, drop_last=drop_last)
        s.set_epoch(2)
        indices = tinytorch.randperm(n, generator=tinytorch.Generator().manual_seed(9)).tolist()
        if drop_last:
            indices = indices[:s.total_size]
        else:
            pad = s.total_size - len(indices)
            indices += (indices * (pad // n + 1))[:pad]
        assert list(s) == indices[rank:s.total_size:replicas]
        assert len(list(s)) == len(s)
        unshuffled = DistributedSampler(Huge(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        plain = list(range(n))
        plain = plain[:s.total_size] if drop_last else (plain * (s.total_size // n + 1))[:s.total_size]
        assert list(unshuffled) == plain[rank:s.total_size:replicas]


def test_dataloader_len_and_iteration_with_infinite_sampler():
    with small_memory():
        dl = DataLoader(Huge(1000), batch_size=8, sampler=RandomSampler(Huge(1000), replacement=True,
                                                                         num_samples=int(1e10)))
        assert len(dl) == 10**10 // 8
        batches = _take(iter(dl), 5)
    assert [tuple(b.shape) for b in batches] == [(8,)] * 5


def test_dataloader_shuffle_on_huge_dataset():
    with small_memory():
        dl = DataLoader(Huge(), batch_size=4, shuffle=True)
        assert len(dl) == HUGE // 4
        batches = _take(iter(dl), 3)
    assert all(int(v) < HUGE for b in batches for v in b.tolist())


def test_dataloader_workers_with_infinite_sampler():
    dl = DataLoader(Huge(1000), batch_size=4, num_workers=2,
                    sampler=RandomSampler(Huge(1000), replacement=True, num_samples=int(1e10)))
    it = iter(dl)
    batches = _take(it, 6)
    it.shutdown()
    assert len(batches) == 6 and all(tuple(b.shape) == (4,) for b in batches)


def test_random_split_huge():
    with small_memory():
        a, b = random_split(Huge(), [0.25, 0.75], generator=tinytorch.Generator().manual_seed(0))
        assert (len(a), len(b)) == (HUGE // 4, 3 * HUGE // 4)
        xs = [a[i] for i in range(200)]
        ys = [b[i] for i in range(200)]
        more = _take(iter(a.indices), 300)
    assert not set(xs) & set(ys) and len(set(xs)) == 200
    assert more[:200] == xs


def test_random_split_small_is_unchanged():
    a, b = random_split(Huge(10), [3, 7], generator=tinytorch.Generator().manual_seed(2))
    perm = tinytorch.randperm(10, generator=tinytorch.Generator().manual_seed(2)).tolist()
    assert list(a.indices) == perm[:3] and list(b.indices) == perm[3:]


def test_distributed_sampler_over_a_lazy_permutation_yields_its_strided_slice():
    """Above the eager size the sampler reads the lazy permutation in chunks; the indices are still
    perm[rank], perm[rank + R], ... of the same permutation."""
    import itertools

    from tinytorch.random import Generator
    from tinytorch.utils.data._utils.lazy_perm import permutation
    from tinytorch.utils.data.distributed import DistributedSampler

    class Big:
        def __len__(self):
            return 20_000_001

    s = DistributedSampler(Big(), num_replicas=4, rank=1, seed=3)
    got = list(itertools.islice(iter(s), 50))
    perm = permutation(20_000_001, Generator().manual_seed(3))
    assert got == [int(perm[j]) for j in range(1, 200, 4)]
