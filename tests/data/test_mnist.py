"""IDX reading/writing and the MNIST dataset on a tiny synthetic set."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

import tinytorch
from tinytorch.utils.data import MNIST, DataLoader, read_idx, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("gz", [False, True])
def test_idx_roundtrip(tmp_path, dtype, gz):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    p = tmp_path / ("a.idx.gz" if gz else "a.idx")
    write_idx(p, a)
    raw = gzip.open(p).read() if gz else p.read_bytes()
    assert raw[:2] == b"\x00\x00" and raw[3] == 3 and int.from_bytes(raw[4:8], "big") == 2
    b = read_idx(p)
    assert b.dtype == np.dtype(dtype) and np.array_equal(a, b)


def test_idx_header_matches_lecun_layout(tmp_path):
    p = tmp_path / "labels"
    write_idx(p, np.array([7, 2, 1], dtype=np.uint8))
    assert p.read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])  # magic 0x00000801, as in MNIST


def test_idx_errors(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x01\x00")
    with pytest.raises(ValueError, match="not an IDX file: magic number 01020801"):
        read_idx(bad)
    bad.write_bytes(b"\x00\x00\x07\x01\x00\x00\x00\x01\x00")
    with pytest.raises(ValueError, match="unknown IDX type code 0x07"):
        read_idx(bad)
    bad.write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05\x00")
    with pytest.raises(ValueError, match=r"holds 1 data bytes, but its header says shape \(5,\)"):
        read_idx(bad)
    with pytest.raises(TypeError, match="IDX cannot store dtype int64"):
        write_idx(tmp_path / "x", np.zeros(2, dtype=np.int64))


def _write_split(root, prefix, n, gz):
    g = np.random.default_rng(0)
    ext = ".gz" if gz else ""
    write_idx(root / f"{prefix}-images-idx3-ubyte{ext}", g.integers(0, 256, (n, 28, 28)).astype(np.uint8))
    write_idx(root / f"{prefix}-labels-idx1-ubyte{ext}", g.integers(0, 10, n).astype(np.uint8))


def test_mnist_dataset(tmp_path):
    _write_split(tmp_path, "train", 12, gz=True)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    _write_split(raw, "t10k", 5, gz=False)  # torchvision's layout
    train, test = MNIST(tmp_path), MNIST(tmp_path, train=False)
    assert len(train) == 12 and len(test) == 5
    img, y = train[3]
    assert tuple(img.shape) == (1, 28, 28) and img.dtype == tinytorch.float32 and isinstance(y, int)
    np.testing.assert_allclose(img.numpy()[0], train.data[3].numpy() / 255.0, rtol=1e-6)
    assert 0.0 <= float(img.min()) and float(img.max()) <= 1.0
    assert train.targets.dtype == tinytorch.int64 and int(train.targets[3]) == y
    x, t = next(iter(DataLoader(train, batch_size=4)))
    assert tuple(x.shape) == (4, 1, 28, 28) and tuple(t.shape) == (4,)
    flat = MNIST(tmp_path, transform=lambda a: a.reshape(-1), target_transform=lambda t: t + 100)
    a, t = flat[0]
    assert a.shape == (784,) and a.dtype == np.uint8 and t >= 100


def test_mnist_missing_files_say_where(tmp_path):
    _write_split(tmp_path, "train", 3, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match=r"missing train-labels-idx1-ubyte \(optionally .gz\) in .*never downloads"):
        MNIST(tmp_path)
