"""``tinytorch.save`` / ``tinytorch.load``: checkpoints in the safetensors format, never pickle.

A checkpoint is one safetensors file. Its tensors are stored flat under dotted keys taken from
where they sit in the saved object (a module state dict keeps its own keys, so the file loads
with ``safetensors.torch.load_file`` too); the nested structure around them — dicts (any
hashable scalar keys), lists, tuples, ints, floats, bools, strings, None — is a JSON document
in the header's metadata under ``"tinytorch"``. A safetensors file without that entry (e.g.
written by ``safetensors.torch.save_file``) loads as a flat ``{name: tensor}`` dict.

Loading never executes anything from the file: pickle files (including ``torch.save``'s zip
archives) are recognised and refused. Saving to a path is atomic: the bytes go to a temporary
file in the target's directory, are fsynced, and replace the target with ``os.replace``.
"""
from __future__ import annotations

import collections
import json
import math
import os
import struct
import tempfile

import numpy as np

from . import backend
from . import _dtype as dtypes
from .tensor import Tensor

__all__ = ["save", "load"]

_META_KEY = "tinytorch"
_FORMAT_VERSION = 1

# safetensors dtype tags -> NumPy dtypes (bfloat16 through ml_dtypes, when installed)
_ST_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
    "I16": np.int16, "I8": np.int8, "U8": np.uint8, "U16": np.uint16, "U32": np.uint32, "U64": np.uint64,
    "BOOL": np.bool_,
}


def _safetensors():
    try:
        import safetensors
    except ImportError as e:
        raise ImportError(
            "tinytorch.save/tinytorch.load need the 'safetensors' package: pip install safetensors "
            "(or pip install 'tinytorch[checkpoint]')"
        ) from e
    return safetensors


# ---- saving -----------------------------------------------------------------------------------
class _Encoder:
    """Turns an object into (JSON structure, {key: ndarray}), naming tensors by their path."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self._key_of: dict[int, str] = {}  # id(tensor) -> key, so a shared tensor is stored once
        self._keep = []  # the tensors of _key_of stay alive while ids are compared

    def encode(self, obj, path: str):
        if obj is None:
            return None
        if isinstance(obj, Tensor):
            return self._tensor(obj, path)
        if isinstance(obj, (bool, np.bool_)):
            return {"b": bool(obj)}
        if isinstance(obj, (int, np.integer)):
            return {"i": int(obj)}
        if isinstance(obj, (float, np.floating)):
            return {"f": float(obj).hex()}
        if isinstance(obj, str):
            return {"s": obj}
        if isinstance(obj, np.ndarray):
            return {"N": self._store(_c_order(obj), path)}
        if isinstance(obj, dtypes.dtype):
            return {"dt": obj.name}
        if isinstance(obj, backend.device):
            return {"dev": str(obj)}
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if not isinstance(k, (str, int, float, bool, type(None))):
                    raise TypeError(
                        f"tinytorch.save: dict key {k!r} at {path or '<root>'} is a {type(k).__name__}; keys must be "
                        "str, int, float, bool or None"
                    )
                items.append([self.encode(k, path), self.encode(v, _join(path, k))])
            out = {"D": items}
            if isinstance(obj, collections.OrderedDict):
                out["o"] = True
            return out
        if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
            return {"U": [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return {"L": [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]}
        where = path or "<root>"
        if hasattr(obj, "state_dict"):
            raise TypeError(
                f"tinytorch.save: cannot save a {type(obj).__name__} object (at {where}): checkpoints hold tensors, "
                "numbers, strings, None and dicts/lists/tuples of them, never pickled objects. Save its state_dict() "
                f"instead: tinytorch.save(obj.state_dict(), f), and restore with load_state_dict()"
            )
        raise TypeError(
            f"tinytorch.save: cannot save a {type(obj).__name__} object (at {where}): checkpoints hold tensors, "
            "NumPy arrays, ints, floats, bools, strings, None and dicts/lists/tuples of them (never pickle)"
        )

    def _tensor(self, t: Tensor, path: str):
        key = self._key_of.get(id(t))
        if key is None:
            arr = backend.as_numpy(t._data)
            key = self._store(_c_order(arr), path)
            self._key_of[id(t)] = key
            self._keep.append(t)
        out = {"T": key}
        if t.requires_grad:
            out["rg"] = True
        if t.is_cuda:
            out["d"] = str(t.device)
        return out

    def _store(self, arr: np.ndarray, path: str) -> str:
        key = path or "tensor"
        n = 1
        while key in self.arrays:
            key = f"{path or 'tensor'}#{n}"
            n += 1
        self.arrays[key] = arr
        return key


def _c_order(a: np.ndarray) -> np.ndarray:
    # not np.ascontiguousarray: it turns 0-d arrays into 1-d ones
    return a if a.flags.c_contiguous else a.copy(order="C")


def _join(path: str, k) -> str:
    return f"{path}.{k}" if path else str(k)


def _serialize(obj) -> bytes:
    _safetensors()
    enc = _Encoder()
    structure = enc.encode(obj, "")
    meta = {_META_KEY: json.dumps({"version": _FORMAT_VERSION, "root": structure}, separators=(",", ":"))}
    from safetensors.numpy import save as st_save

    # bfloat16 arrays (ml_dtypes) are tagged BF16 by their dtype name, like torch's
    return st_save(enc.arrays, metadata=meta)


def _write_all(fh, data: bytes) -> None:
    fh.write(data)


def _atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one, never a mix."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_all(fh, data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable; not possible on every platform
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True) -> None:
    """Save ``obj`` (tensors, numbers, strings, None, and dicts/lists/tuples of them) to ``f``.

    Args:
        obj: e.g. ``model.state_dict()``, ``optimizer.state_dict()``, or a checkpoint dict mixing them
            with an epoch number and a config. Modules and other objects are refused with a
            ``TypeError``: save their ``state_dict()``.
        f: a path (written atomically) or a binary file object.
        pickle_module, pickle_protocol: only None is accepted; tinytorch never pickles.
    """
    if pickle_module is not None:
        raise TypeError("tinytorch.save: pickle_module is not supported; checkpoints are safetensors, never pickle")
    data = _serialize(obj)
    if isinstance(f, (str, os.PathLike)):
        _atomic_write(os.fspath(f), data)
    elif hasattr(f, "write"):
        f.write(data)
    else:
        raise TypeError(f"tinytorch.save: f must be a path or a writable binary file, got {type(f).__name__}")


# ---- loading ----------------------------------------------------------------------------------
def _read(f) -> tuple[bytes, str]:
    if isinstance(f, (str, os.PathLike)):
        name = os.fspath(f)
        with open(name, "rb") as fh:
            return fh.read(), name
    if hasattr(f, "read"):
        name = getattr(f, "name", None) or f"<{type(f).__name__}>"
        data = f.read()
        if isinstance(data, str):
            raise TypeError(f"tinytorch.load: {name} was opened in text mode; open it with 'rb'")
        return bytes(data), str(name)
    raise TypeError(f"tinytorch.load: f must be a path or a readable binary file, got {type(f).__name__}")


def _refuse_foreign(data: bytes, name: str) -> None:
    """Recognise what the bytes are before anything parses them; pickles are never opened."""
    if len(data) == 0:
        raise RuntimeError(f"tinytorch.load: {name} is empty (0 bytes); it is not a checkpoint")
    if data[:1] == b"\x80" or data[:4] == b"PK\x03\x04":
        raise RuntimeError(
            f"tinytorch.load: {name} is a pickle file (e.g. written by torch.save or pickle.dump). tinytorch never "
            "unpickles (a pickle can run arbitrary code when loaded). Re-save the tensors in the safetensors format, "
            "e.g. with safetensors.torch.save_file(model.state_dict(), path), and load that"
        )
    if len(data) < 8:
        raise RuntimeError(f"tinytorch.load: {name} is truncated or not a safetensors file ({len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8 or n == 0 or data[8:9] != b"{":
        raise RuntimeError(
            f"tinytorch.load: {name} is not a valid safetensors checkpoint (corrupt or truncated header: "
            f"header length {n}, file size {len(data)} bytes)"
        )


def _header_metadata(data: bytes, name: str) -> dict:
    (n,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RuntimeError(f"tinytorch.load: {name} has a corrupt safetensors header: {e}") from None
    return header.get("__metadata__") or {}


def _np_dtype(tag: str, name: str, key: str):
    if tag == "BF16":
        return dtypes.bfloat16.np  # TypeError naming ml_dtypes when it is missing
    dt = _ST_DTYPES.get(tag)
    if dt is None:
        raise RuntimeError(f"tinytorch.load: tensor {key!r} in {name} has dtype {tag}, which tinytorch does not support")
    return np.dtype(dt)


def _device_mapper(map_location):
    """A function (saved device string) -> target device, from torch's map_location forms."""
    if map_location is None:
        return lambda saved: saved
    if isinstance(map_location, dict):
        return lambda saved: map_location.get(saved, saved)
    if isinstance(map_location, (str, backend.device, int)):
        target = str(backend.parse_device(map_location))
        return lambda saved: target
    if callable(map_location):
        return None  # applied per tensor in _Decoder
    raise TypeError(f"tinytorch.load: unsupported map_location {map_location!r}")


class _Decoder:
    def __init__(self, arrays, map_location, name):
        self.arrays = arrays
        self.map_location = map_location
        self.mapper = _device_mapper(map_location)
        self.name = name
        self._memo: dict[str, Tensor] = {}

    def decode(self, node):
        if node is None:
            return None
        if not isinstance(node, dict) or len(node) == 0:
            raise RuntimeError(f"tinytorch.load: {self.name} has a malformed structure entry {node!r}")
        if "T" in node:
            return self._tensor(node)
        if "b" in node:
            return bool(node["b"])
        if "i" in node:
            return int(node["i"])
        if "f" in node:
            return float.fromhex(node["f"])
        if "s" in node:
            return str(node["s"])
        if "N" in node:
            return self._array(node["N"]).copy()
        if "dt" in node:
            return dtypes.to_dtype(node["dt"])
        if "dev" in node:
            return backend.device(node["dev"])
        if "D" in node:
            out = collections.OrderedDict() if node.get("o") else {}
            for k, v in node["D"]:
                out[self.decode(k)] = self.decode(v)
            return out
        if "U" in node:
            return tuple(self.decode(v) for v in node["U"])
        if "L" in node:
            return [self.decode(v) for v in node["L"]]
        raise RuntimeError(f"tinytorch.load: {self.name} has an unknown structure entry {sorted(node)}")

    def _array(self, key):
        if key not in self.arrays:
            raise RuntimeError(f"tinytorch.load: {self.name} refers to tensor {key!r}, which the file does not contain")
        return self.arrays[key]

    def _tensor(self, node):
        key = node["T"]
        if key in self._memo:
            return self._memo[key]
        t = self.make_tensor(self._array(key), node.get("d", "cpu"))
        if node.get("rg") and t.is_floating_point():
            t.requires_grad_(True)
        self._memo[key] = t
        return t

    def make_tensor(self, arr: np.ndarray, saved_device: str) -> Tensor:
        t = Tensor._make(np.array(arr, copy=True))  # own, writable memory (the file buffer is read-only)
        if self.mapper is None:
            moved = self.map_location(t, saved_device)
            return moved if isinstance(moved, Tensor) else t
        target = backend.parse_device(self.mapper(saved_device))
        if target.type == "cuda" and not backend.cuda_available():
            raise RuntimeError(
                f"tinytorch.load: {self.name} holds tensors saved on {saved_device}, but CUDA is not available "
                f"({backend.cuda_unavailable_reason()}); pass map_location='cpu'"
            )
        if target.type != "cpu":
            t = Tensor._make(backend.to_device(t._data, target))
        return t


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **pickle_load_args):
    """Load what ``tinytorch.save`` wrote (or any safetensors file, as a flat ``{name: tensor}`` dict).

    Args:
        f: a path or a binary file object.
        map_location: where tensors go: None (the device they were saved from), 'cpu', 'cuda',
            'cuda:1', a ``tinytorch.device``, a dict {saved: target} of device strings, or a
            callable ``(tensor, saved_device_str) -> tensor``.
        weights_only: accepted for torch compatibility; tinytorch only ever loads data, so both
            values behave the same.

    Raises:
        RuntimeError naming the file when it is empty, truncated, corrupt, not safetensors, or a
        pickle (``torch.save``/``pickle.dump`` output is refused and never unpickled).
    """
    if pickle_module is not None:
        raise TypeError("tinytorch.load: pickle_module is not supported; tinytorch never unpickles")
    st = _safetensors()
    data, name = _read(f)
    _refuse_foreign(data, name)
    try:
        views = st.deserialize(data)
    except Exception as e:  # safetensors raises its own error type on corrupt bytes
        raise RuntimeError(f"tinytorch.load: {name} is not a valid safetensors checkpoint: {e}") from None
    arrays = {}
    for key, v in views:
        arr = np.frombuffer(v["data"], dtype=_np_dtype(v["dtype"], name, key))
        expected = math.prod(v["shape"])
        if arr.size != expected:
            raise RuntimeError(f"tinytorch.load: tensor {key!r} in {name} is truncated ({arr.size} of {expected} elements)")
        arrays[key] = arr.reshape(v["shape"])
    meta = _header_metadata(data, name)
    dec = _Decoder(arrays, map_location, name)
    if _META_KEY not in meta:
        return {k: dec.make_tensor(a, "cpu") for k, a in arrays.items()}
    try:
        doc = json.loads(meta[_META_KEY])
    except json.JSONDecodeError as e:
        raise RuntimeError(f"tinytorch.load: {name} has corrupt tinytorch metadata: {e}") from None
    if not isinstance(doc, dict) or doc.get("version") != _FORMAT_VERSION:
        raise RuntimeError(
            f"tinytorch.load: {name} was written by an unsupported tinytorch checkpoint format "
            f"(version {doc.get('version') if isinstance(doc, dict) else '?'})"
        )
    return dec.decode(doc["root"])

