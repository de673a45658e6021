"""tinytorch.utils.data: datasets, samplers, DataLoader, default_collate (compared with torch where it is deterministic)."""
from __future__ import annotations

import collections

import numpy as np
import pytest

import tinytorch
from tinytorch.utils.data import (
    BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler, SequentialSampler,
    Subset, SubsetRandomSampler, TensorDataset, WeightedRandomSampler, default_collate, random_split,
)

Point = collections.namedtuple("Point", ["x", "y"])


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return {"x": np.full(2, i, dtype=np.float32), "y": i * i, "name": f"s{i}"}


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_tensor_dataset_and_sequential_loader():
    x = tinytorch.arange(20).reshape(10, 2)
    y = tinytorch.arange(10)
    ds = TensorDataset(x, y)
    assert len(ds) == 10 and ds[3][1].item() == 3
    dl = DataLoader(ds, batch_size=4)
    batches = list(dl)
    assert len(dl) == 3 and len(batches) == 3
    assert batches[0][0].shape == (4, 2) and batches[-1][1].tolist() == [8, 9]
    assert [b[1].tolist() for b in DataLoader(ds, batch_size=4, drop_last=True)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    with pytest.raises(AssertionError, match="Size mismatch"):
        TensorDataset(x, tinytorch.arange(3))


def test_shuffle_is_a_permutation_and_seeded():
    ds = TensorDataset(tinytorch.arange(50))

    def epoch(gen):
        return [int(i) for (b,) in DataLoader(ds, batch_size=7, shuffle=True, generator=gen) for i in b.tolist()]

    a = epoch(tinytorch.Generator().manual_seed(3))
    b = epoch(tinytorch.Generator().manual_seed(3))
    c = epoch(tinytorch.Generator().manual_seed(4))
    assert sorted(a) == list(range(50)) and a == b and a != c and a != list(range(50))
    # with the default generator: manual_seed makes it reproducible, and epochs differ
    tinytorch.manual_seed(7)
    dl = DataLoader(ds, batch_size=50, shuffle=True)
    e1, e2 = next(iter(dl))[0].tolist(), next(iter(dl))[0].tolist()
    tinytorch.manual_seed(7)
    assert next(iter(dl))[0].tolist() == e1 and e1 != e2


def test_default_collate_structures_like_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as tcollate

    samples = [
        {"img": np.arange(6, dtype=np.float32).reshape(2, 3) + i, "label": i, "w": 0.5 * i, "flag": bool(i % 2),
         "name": f"n{i}", "pt": Point(np.float64(i), [i, i + 1]), "pair": (i, np.int32(i))}
        for i in range(3)
    ]
    ours, theirs = default_collate(samples), tcollate(samples)

    def compare(a, b):
        if isinstance(b, torch.Tensor):
            assert isinstance(a, tinytorch.Tensor), (a, b)
            assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        elif isinstance(b, dict):
            assert type(a) is type(b) and set(a) == set(b)
            for k in b:
                compare(a[k], b[k])
        elif isinstance(b, (list, tuple)):
            assert type(a) is type(b) and len(a) == len(b), (a, b)
            for x, y in zip(a, b):
                compare(x, y)
        else:
            assert a == b

    compare(ours, theirs)
    t = default_collate([tinytorch.ones(2), tinytorch.zeros(2)])
    assert t.tolist() == [[1.0, 1.0], [0.0, 0.0]]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object(), object()])


def test_custom_collate_and_dict_dataset():
    dl = DataLoader(Squares(5), batch_size=2, collate_fn=lambda b: [s["y"] for s in b])
    assert list(dl) == [[0, 1], [4, 9], [16]]
    batch = next(iter(DataLoader(Squares(5), batch_size=3)))
    assert batch["x"].shape == (3, 2) and batch["y"].tolist() == [0, 1, 4] and batch["name"] == ["s0", "s1", "s2"]


def test_batch_size_none_yields_converted_samples():
    dl = DataLoader(Squares(3), batch_size=None)
    items = list(dl)
    assert len(items) == 3 and isinstance(items[1]["x"], tinytorch.Tensor) and items[1]["y"] == 1


def test_samplers():
    ds = list(range(10))
    assert list(SequentialSampler(ds)) == list(range(10))
    g = tinytorch.Generator().manual_seed(0)
    rs = list(RandomSampler(ds, generator=g))
    assert sorted(rs) == list(range(10))
    rep = list(RandomSampler(ds, replacement=True, num_samples=25, generator=g))
    assert len(rep) == 25 and all(0 <= i < 10 for i in rep)
    more = list(RandomSampler(ds, num_samples=23, generator=g))
    assert len(more) == 23 and sorted(more[:10]) == list(range(10))
    sub = list(SubsetRandomSampler([3, 5, 7], generator=g))
    assert sorted(sub) == [3, 5, 7]
    w = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200, generator=g))
    assert set(w) <= {1, 3} and w.count(3) > w.count(1)
    nw = list(WeightedRandomSampler([0.1, 1.0, 0.2, 3.0], 4, replacement=False, generator=g))
    assert sorted(nw) == [0, 1, 2, 3]
    bs = BatchSampler(SequentialSampler(ds), 3, drop_last=False)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]] and len(bs) == 4
    assert len(BatchSampler(ds, 3, drop_last=True)) == 3
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(ds, num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(ds, replacement=1)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(ds, 0, False)


def test_sampler_and_batch_sampler_options():
    ds = TensorDataset(tinytorch.arange(10))
    dl = DataLoader(ds, batch_size=3, sampler=list(reversed(range(10))))
    assert next(iter(dl))[0].tolist() == [9, 8, 7]
    dl = DataLoader(ds, batch_sampler=[[0, 5], [1, 2, 3]])
    assert [b[0].tolist() for b in dl] == [[0, 5], [1, 2, 3]] and len(dl) == 2
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="non-negative"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="prefetch_factor"):
        DataLoader(ds, prefetch_factor=2)
    DataLoader(ds, pin_memory=True)  # accepted


def test_iterable_dataset():
    dl = DataLoader(Stream(7), batch_size=3)
    assert [b.tolist() for b in dl] == [[0, 1, 2], [3, 4, 5], [6]] and len(dl) == 3
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert list(DataLoader(Stream(3), batch_size=None)) == [0, 1, 2]
    with pytest.raises(ValueError, match="expected unspecified shuffle"):
        DataLoader(Stream(3), shuffle=True)
    chained = Stream(2) + Stream(3)
    assert list(chained) == [0, 1, 0, 1, 2]


def test_subset_concat_random_split():
    base = Squares(10)
    sub = Subset(base, [4, 2])
    assert len(sub) == 2 and sub[0]["y"] == 16
    cat = ConcatDataset([Squares(3), Squares(4)])
    assert len(cat) == 7 and cat[3]["y"] == 0 and cat[-1]["y"] == 9 and cat[2]["y"] == 4
    assert len(Squares(2) + Squares(5)) == 7
    with pytest.raises(IndexError):
        cat[7]
    g = tinytorch.Generator().manual_seed(1)
    a, b = random_split(base, [7, 3], generator=g)
    assert len(a) == 7 and len(b) == 3 and sorted(a.indices + b.indices) == list(range(10))
    parts = random_split(range(11), [0.5, 0.3, 0.2], generator=tinytorch.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [6, 3, 2]  # floor(5.5, 3.3, 2.2) = 5, 3, 2 + remainder round-robin
    g1 = random_split(range(10), [5, 5], generator=tinytorch.Generator().manual_seed(9))
    g2 = random_split(range(10), [5, 5], generator=tinytorch.Generator().manual_seed(9))
    assert g1[0].indices == g2[0].indices
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(base, [3, 3])


def test_fraction_lengths_match_torch():
    torch = pytest.importorskip("torch")
    for n, fr in ((11, [0.5, 0.3, 0.2]), (7, [0.34, 0.33, 0.33]), (100, [0.8, 0.2])):
        ours = [len(p) for p in random_split(range(n), fr)]
        theirs = [len(p) for p in torch.utils.data.random_split(range(n), fr)]
        assert ours == theirs


class _WorkerAware(IterableDataset):
    """Each worker streams its own share of range(n), as torch's docs recommend."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        from tinytorch.utils.data import get_worker_info

        info = get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class _Failing(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            raise KeyError("sample 2 is broken")
        return i


def _seen_by_worker(worker_id):
    from tinytorch.utils.data import get_worker_info

    info = get_worker_info()
    assert info is not None and info.id == worker_id
    _seen_by_worker.calls = getattr(_seen_by_worker, "calls", 0) + 1  # in the worker's memory only


class _WhoLoads(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        from tinytorch.utils.data import get_worker_info

        info = get_worker_info()
        return {"i": i, "worker": -1 if info is None else info.id, "seed": 0 if info is None else info.seed % 1000,
                "x": tinytorch.full((2,), float(i))}


def test_workers_map_style_same_batches_in_order():
    ds = TensorDataset(tinytorch.arange(40).reshape(20, 2), tinytorch.arange(20))
    single = [b[1].tolist() for b in DataLoader(ds, batch_size=3)]
    multi = [b[1].tolist() for b in DataLoader(ds, batch_size=3, num_workers=2, prefetch_factor=1)]
    assert multi == single
    g = lambda: tinytorch.Generator().manual_seed(5)  # noqa: E731
    a = [b[1].tolist() for b in DataLoader(ds, batch_size=4, shuffle=True, generator=g())]
    b = [b[1].tolist() for b in DataLoader(ds, batch_size=4, shuffle=True, generator=g(), num_workers=2)]
    assert sorted(sum(b, [])) == list(range(20)) and len(b) == 5
    assert sorted(sum(a, [])) == list(range(20)) and len(a) == 5


def test_workers_info_init_fn_and_persistence():
    dl = DataLoader(_WhoLoads(), batch_size=2, num_workers=2, worker_init_fn=_seen_by_worker, persistent_workers=True)
    for _ in range(2):  # two epochs on the same workers
        batches = list(dl)
        assert [b["i"].tolist() for b in batches] == [[0, 1], [2, 3], [4, 5]]
        assert [b["worker"].tolist()[0] for b in batches] == [0, 1, 0]  # round-robin dispatch
        assert batches[0]["x"].tolist() == [[0.0, 0.0], [1.0, 1.0]]
    assert dl._workers is not None and all(w.is_alive() for w in dl._workers._workers)
    dl._workers.shutdown()
    assert get_worker_info_in_main() is None


def get_worker_info_in_main():
    from tinytorch.utils.data import get_worker_info

    return get_worker_info()


def test_workers_iterable_dataset_sharded():
    out = [int(v) for b in DataLoader(_WorkerAware(11), batch_size=2, num_workers=2) for v in b.tolist()]
    assert sorted(out) == list(range(11))


def test_worker_error_is_reraised_with_its_type():
    with pytest.raises(KeyError, match="sample 2 is broken"):
        list(DataLoader(_Failing(), batch_size=1, num_workers=2))
