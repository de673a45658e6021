"""MNIST from local IDX files: ``read_idx``/``write_idx`` and the ``MNIST`` dataset.

Nothing is downloaded: put the four files (gzipped or not) in ``root`` or ``root/MNIST/raw``
(torchvision's layout) and point ``MNIST(root)`` at it. The IDX format (LeCun et al.) is a
big-endian header — two zero bytes, a type code, the number of dimensions, one uint32 per
dimension — followed by the raw array.
"""
from __future__ import annotations

import gzip
import os
import struct

import numpy as np

from .dataset import Dataset
from ...creation import tensor

__all__ = ["read_idx", "write_idx", "MNIST"]

# IDX type code -> big-endian NumPy dtype
_IDX_TYPES = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("=").str[1:]: code for code, dt in _IDX_TYPES.items()}

_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _open(path):
    with open(path, "rb") as f:
        head = f.read(2)
    return gzip.open(path, "rb") if head == b"\x1f\x8b" else open(path, "rb")


def read_idx(path) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed, detected from its first bytes) into a NumPy array.

    Raises ValueError naming the file when the magic number, type code or length is wrong.
    """
    path = os.fspath(path)
    try:
        with _open(path) as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise ValueError(f"read_idx: cannot read {path!r}: {e}") from e
    if len(raw) < 4:
        raise ValueError(f"read_idx: {path!r} is too short to be an IDX file ({len(raw)} bytes)")
    zero0, zero1, code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero0 != 0 or zero1 != 0:
        raise ValueError(f"read_idx: {path!r} is not an IDX file: magic number {raw[:4].hex()} does not start "
                         f"with two zero bytes")
    if code not in _IDX_TYPES:
        raise ValueError(f"read_idx: {path!r} has unknown IDX type code 0x{code:02x} "
                         f"(expected one of {', '.join(f'0x{c:02x}' for c in _IDX_TYPES)})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path!r} is truncated: header needs {header} bytes, file has {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dt = _IDX_TYPES[code]
    want = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
    if len(raw) - header != want:
        raise ValueError(f"read_idx: {path!r} holds {len(raw) - header} data bytes, but its header says shape "
                         f"{shape} of {dt.newbyteorder('=').name} ({want} bytes)")
    return np.frombuffer(raw, dtype=dt, offset=header).reshape(shape).astype(dt.newbyteorder("="))


def write_idx(path, array) -> None:
    """Write a NumPy array as an IDX file (gzip-compressed when ``path`` ends in ``.gz``)."""
    a = np.asarray(array)
    key = a.dtype.newbyteorder("=").str[1:]
    if key not in _CODES:
        raise TypeError(f"write_idx: IDX cannot store dtype {a.dtype} (use uint8, int8, int16, int32, float32 or float64)")
    code = _CODES[key]
    data = struct.pack(">BBBB", 0, 0, code, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape)
    data += a.astype(_IDX_TYPES[code]).tobytes()
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(data)


def _find(root, name):
    for folder in (root, os.path.join(root, "MNIST", "raw")):
        for candidate in (name, name + ".gz"):
            p = os.path.join(folder, candidate)
            if os.path.isfile(p):
                return p
    return None


class MNIST(Dataset):
    """The MNIST digits from local IDX files, like ``torchvision.datasets.MNIST`` (without downloading).

    Args:
        root: folder holding ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
            ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (each optionally ``.gz``),
            directly or under ``root/MNIST/raw``.
        train: the 60000-image training split (True) or the 10000-image test split.
        transform: applied to each image, given as an (H, W) uint8 NumPy array. When None, the
            image becomes a (1, H, W) float32 tensor scaled to [0, 1] (what ``ToTensor()`` gives).
        target_transform: applied to each int label.

    Attributes ``data`` ((N, H, W) uint8 tensor) and ``targets`` ((N,) int64 tensor) hold the whole split.
    """

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train: bool = True, transform=None, target_transform=None, download: bool = False):
        self.root = os.fspath(root)
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        names = _FILES[self.train]
        paths = [_find(self.root, n) for n in names]
        if None in paths:
            missing = [n for n, p in zip(names, paths) if p is None]
            msg = (f"MNIST: missing {', '.join(missing)} (optionally .gz) in {os.path.abspath(self.root)!r} "
                   f"or {os.path.join(os.path.abspath(self.root), 'MNIST', 'raw')!r}. tinytorch never downloads: "
                   f"get the four IDX files of the MNIST database (train-images-idx3-ubyte, "
                   f"train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte) and put them there.")
            if download:
                msg += " (download=True is not supported.)"
            raise FileNotFoundError(msg)
        images, labels = read_idx(paths[0]), read_idx(paths[1])
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"MNIST: {paths[0]!r} should hold (N, H, W) uint8 images, got shape {images.shape} "
                             f"of {images.dtype}")
        if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
            raise ValueError(f"MNIST: {paths[1]!r} should hold {images.shape[0]} labels (one per image), got "
                             f"shape {labels.shape}")
        self._images = images
        self._labels = labels.astype(np.int64)
        self.data = tensor(images)
        self.targets = tensor(self._labels)

    def __len__(self) -> int:
        return int(self._images.shape[0])

    def __getitem__(self, index):
        img = self._images[index]
        target = int(self._labels[index])
        if self.transform is not None:
            img = self.transform(img)
        else:
            img = tensor((img.astype(np.float32) / 255.0)[None])
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        return f"Dataset MNIST\n    Number of datapoints: {len(self)}\n    Root location: {self.root}\n    Split: {split}"
