"""``tinytorch.save`` / ``tinytorch.load``: checkpoints in the safetensors format, never pickle.

A checkpoint is one safetensors file. Its tensors are stored flat under dotted keys taken from
where they sit in the saved object (a module state dict keeps its own keys, so the file loads
with ``safetensors.torch.load_file`` too); the structure around them is a JSON document in the
header's metadata under ``"tinytorch"``: dicts, lists, tuples, sets, numbers, strings, bytes,
None, dtypes, devices, ``Size``, NumPy arrays, and objects stored as their class's import path
plus their attributes (a whole ``nn.Module`` tree, an ``argparse.Namespace``, a dataclass). A
safetensors file without that entry loads as a flat ``{name: tensor}`` dict.

Loading never executes anything from the file: pickle files are refused; the metadata is
validated against its schema (iteratively, with a depth limit) before anything is built; a class
is imported only when it is tinytorch's own module/stdlib record type, or allowed by the user
(PyTorch's ``weights_only`` contract: ``add_safe_globals``, ``safe_globals``, or the explicit
``weights_only=False``), and objects are built with ``cls.__new__`` plus their attributes, never
by calling anything the file names. Tensors are read straight into their arrays (one copy).

Saving to a path is atomic: the bytes go to ``.NAME.tinytorch-tmp-<pid>-<n>`` next to the target,
are fsynced, and replace it with ``os.replace``; temp files of dead processes (and older tinytorch's
``.NAME.XXXXXXXX.tmp`` once an hour old) are removed on the next save of the same checkpoint. The file gets the mode a plain ``open()`` would give it.
"""
from __future__ import annotations

import base64
import collections
import collections.abc
import contextlib
import enum
import importlib
import itertools
import json
import math
import os
import re
import struct
import sys
import time
import types
import warnings
from pickle import UnpicklingError  # only the exception class torch raises; nothing is unpickled

import numpy as np

from . import _arrays
from . import _dtype as dtypes
from .tensor import Size, Tensor

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals"]

_META_KEY = "tinytorch"
_FORMAT_VERSION = 2  # 2 adds objects, sets, bytes, Size, complex, references; 1 is still read
MAX_DEPTH = 300  # nesting levels of the structure document (a module level uses about 4)
_ALIGN = 8

# safetensors dtype tags -> NumPy dtypes (bfloat16 through ml_dtypes, when installed)
_ST_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
    "I16": np.int16, "I8": np.int8, "U8": np.uint8, "U16": np.uint16, "U32": np.uint32, "U64": np.uint64,
    "BOOL": np.bool_,
}
_ST_TAGS = {np.dtype(v): k for k, v in _ST_DTYPES.items()}

# module attributes that hold tensors/submodules: left out of tensor names, so a saved model's
# tensors are named like its state_dict ("fc.weight", not "_modules.fc._parameters.weight")
_MODULE_STORES = ("_parameters", "_buffers", "_modules")


# ---- the weights_only allow-list (torch.serialization's API) ----------------------------------
_user_safe_globals: list = []

# classes that hold plain data and run nothing when built from their attributes
_BUILTIN_SAFE = {"argparse.Namespace", "types.SimpleNamespace"}
# tinytorch functions a module may hold as an attribute (e.g. self.act = F.relu)
_SAFE_FUNCTION_MODULES = {"tinytorch", "tinytorch.nn.functional", "tinytorch.nn.init"}


def add_safe_globals(safe_globals: list) -> None:
    """Allow these classes/functions in ``load(..., weights_only=True)``.

    Items are classes or functions, or ``(obj, "module.QualName")`` pairs naming them explicitly.
    Example: ``torch.serialization.add_safe_globals([MyNet])`` then ``torch.load("best.pt")``.
    """
    for g in safe_globals:
        _check_safe_global(g)
        if g not in _user_safe_globals:
            _user_safe_globals.append(g)


def get_safe_globals() -> list:
    """The user-added globals that ``weights_only=True`` loads accept."""
    return list(_user_safe_globals)


def clear_safe_globals() -> None:
    """Forget every global added with ``add_safe_globals``."""
    _user_safe_globals.clear()


class safe_globals(contextlib.ContextDecorator):
    """Context manager allowing ``safe_globals`` for ``weights_only`` loads inside the block only."""

    def __init__(self, safe_globals: list):
        self.safe_globals = list(safe_globals)
        self._added: list = []

    def __enter__(self):
        for g in self.safe_globals:
            _check_safe_global(g)
            if g not in _user_safe_globals:
                _user_safe_globals.append(g)
                self._added.append(g)
        return self

    def __exit__(self, *exc):
        for g in self._added:
            if g in _user_safe_globals:
                _user_safe_globals.remove(g)
        self._added = []
        return False


def _check_safe_global(g) -> None:
    if isinstance(g, tuple):
        if len(g) != 2:
            raise ValueError(f"Expected tuple of length 2 (global, str of callable full path), but got tuple of length: {len(g)}")
        if type(g[1]) is not str:
            raise TypeError(f"Expected second item in tuple to be str of callable full path, but got: {type(g[1])}")


def _allowed_by_user() -> dict:
    out = {}
    for g in _user_safe_globals:
        if isinstance(g, tuple):
            out[g[1]] = g[0]
        else:
            out[f"{g.__module__}.{g.__qualname__}"] = g
    return out


def _truthy(name: str) -> bool:
    return os.getenv(name, "0").lower() in ("1", "y", "yes", "true")


def _resolve_weights_only(weights_only):
    """torch 2.6+'s rule: default True; TORCH_FORCE_WEIGHTS_ONLY_LOAD forces True, and
    TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD makes it False only when the caller did not pass it."""
    not_set = weights_only is None
    weights_only = True if not_set else bool(weights_only)
    force, force_no = _truthy("TORCH_FORCE_WEIGHTS_ONLY_LOAD"), _truthy("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
    if force and force_no:
        raise RuntimeError("Only one of `TORCH_FORCE_WEIGHTS_ONLY_LOAD` or `TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD` "
                           "should be set, but both were set.")
    if force:
        return True
    if force_no and not_set:
        warnings.warn("Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected, since the`weights_only` "
                      "argument was not explicitly passed to `torch.load`, forcing weights_only=False.",
                      UserWarning, stacklevel=3)
        return False
    return weights_only


# ---- saving -----------------------------------------------------------------------------------
def _global_name(obj, where: str) -> list:
    mod, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not isinstance(mod, str) or not isinstance(qual, str) or "<locals>" in qual or "<lambda>" in qual:
        raise TypeError(
            f"tinytorch.save: cannot save {obj!r} (at {where}): only classes and functions importable by "
            "module and name can be saved by reference (not lambdas or ones defined inside a function)"
        )
    return [mod, qual]


class _Encoder:
    """Turns an object into (JSON structure, {key: ndarray}), naming tensors by their path."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self.version = 1  # raised to 2 when a node only version 2 knows is written
        self._key_of: dict[int, str] = {}  # id(tensor) -> key, so a shared tensor is stored once
        self._obj_id: dict[int, int] = {}  # id(object) -> its reference number (shared/cyclic objects)
        self._keep = []  # what the id maps refer to stays alive while ids are compared

    def encode(self, obj, path: str, depth: int = 0):
        if depth > MAX_DEPTH:
            raise ValueError(f"tinytorch.save: the object is nested more than {MAX_DEPTH} levels deep (at {path})")
        d = depth + 1
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
        if isinstance(obj, _arrays.device):
            return {"dev": str(obj)}
        if type(obj) in (dict, collections.OrderedDict, collections.defaultdict):  # a defaultdict loads as a dict
            items = [[self.encode(k, path, d), self.encode(v, _join(path, k if _plain_key(k) else i), d)]
                     for i, (k, v) in enumerate(obj.items())]
            out = {"D": items}
            if type(obj) is collections.OrderedDict:
                out["o"] = True
            return out
        if type(obj) is tuple:
            return {"U": [self.encode(v, _join(path, i), d) for i, v in enumerate(obj)]}
        if type(obj) is list:
            return {"L": [self.encode(v, _join(path, i), d) for i, v in enumerate(obj)]}
        self.version = 2
        if isinstance(obj, (complex, np.complexfloating)):
            return {"c": [complex(obj).real.hex(), complex(obj).imag.hex()]}
        if isinstance(obj, (bytes, bytearray)):
            return {"by": base64.b64encode(bytes(obj)).decode("ascii")}
        if isinstance(obj, Size):
            return {"Z": [int(v) for v in obj]}
        if type(obj) in (set, frozenset):
            kind = "S" if type(obj) is set else "FS"
            return {kind: [self.encode(v, path, d) for v in obj]}
        where = path or "<root>"
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
            return {"G": _global_name(obj, where)}
        if isinstance(obj, enum.Enum):
            return {"E": _global_name(type(obj), where), "n": obj.name}
        ref = self._obj_id.get(id(obj))
        if ref is not None:
            return {"R": ref}
        if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a namedtuple
            node = {"NT": _global_name(type(obj), where)}
            node["v"] = [self.encode(v, _join(path, f), d) for f, v in zip(obj._fields, obj)]
            return node
        if isinstance(obj, collections.abc.MutableMapping) and _is_tinytorch(type(obj).__module__):
            return self._mapping(obj, path, where, d)
        return self._object(obj, path, where, d)

    def _mapping(self, obj, path, where, depth):
        # e.g. an optimizer's state, keyed by parameter identity: stored as its items, rebuilt with cls()
        ref = len(self._obj_id)
        self._obj_id[id(obj)] = ref
        self._keep.append(obj)
        items = [[self.encode(k, path, depth), self.encode(v, _join(path, i), depth)]
                 for i, (k, v) in enumerate(obj.items())]
        return {"M": _global_name(type(obj), where), "id": ref, "items": items}

    def _object(self, obj, path, where, depth):
        cls = type(obj)
        state = None
        getstate = getattr(cls, "__getstate__", None)
        if getstate is not None and getstate is not getattr(object, "__getstate__", None):
            state = obj.__getstate__()
        elif hasattr(obj, "__dict__") and not isinstance(obj, (collections.abc.Mapping, collections.abc.Set,
                                                                    collections.abc.Sequence)):
            state = obj.__dict__
        if type(state) is not dict or isinstance(obj, (types.ModuleType, types.MethodType)) or any(
                not isinstance(k, str) for k in state):
            hint = (" Save its state_dict() instead: tinytorch.save(obj.state_dict(), f), and restore with "
                    "load_state_dict()") if hasattr(obj, "state_dict") else ""
            raise TypeError(
                f"tinytorch.save: cannot save a {cls.__name__} object (at {where}): checkpoints hold tensors, NumPy "
                "arrays, numbers, strings, bytes, None, containers of them, and objects whose state is a dict of "
                f"attributes (modules, dataclasses, argparse.Namespace), never pickled objects.{hint}"
            )
        ref = len(self._obj_id)
        self._obj_id[id(obj)] = ref
        self._keep.append(obj)
        module_like = "_modules" in state and "_parameters" in state
        attrs = []
        for k, v in state.items():
            if module_like and k in _MODULE_STORES and type(v) in (dict, collections.OrderedDict):
                sub = [[{"s": n}, self.encode(x, _join(path, n), depth + 1)] for n, x in v.items()]
                attrs.append([k, {"D": sub, "o": True} if isinstance(v, collections.OrderedDict) else {"D": sub}])
            else:
                attrs.append([k, self.encode(v, _join(path, k), depth)])
        return {"O": _global_name(cls, where), "id": ref, "a": attrs}

    def _tensor(self, t: Tensor, path: str):
        key = self._key_of.get(id(t))
        if key is None:
            arr = _arrays.as_numpy(t._data)
            key = self._store(_c_order(arr), path)
            self._key_of[id(t)] = key
            self._keep.append(t)
        out = {"T": key}
        if t.requires_grad:
            out["rg"] = True
        if t.is_cuda:
            out["d"] = str(t.device)
        if type(t).__module__ == "tinytorch.nn.parameter" and type(t).__name__ == "Parameter":
            out["P"] = True
            self.version = 2
        return out

    def _store(self, arr: np.ndarray, path: str) -> str:
        key = path or "tensor"
        n = 1
        while key in self.arrays:
            key = f"{path or 'tensor'}#{n}"
            n += 1
        self.arrays[key] = arr
        return key


def _plain_key(k) -> bool:
    return k is None or isinstance(k, (str, int, float, bool))


def _c_order(a: np.ndarray) -> np.ndarray:
    # not np.ascontiguousarray: it turns 0-d arrays into 1-d ones
    if a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("<"))
    return a if a.flags.c_contiguous else a.copy(order="C")


def _join(path: str, k) -> str:
    return f"{path}.{k}" if path else str(k)


def _tag(arr: np.ndarray, key: str) -> str:
    if arr.dtype.name == "bfloat16":
        return "BF16"
    tag = _ST_TAGS.get(arr.dtype)
    if tag is None:
        raise TypeError(f"tinytorch.save: tensor {key!r} has dtype {arr.dtype}, which safetensors cannot store")
    return tag


def _serialize(obj) -> list:
    """The file as a list of byte chunks: length, header, then each array's bytes (no copy of them)."""
    enc = _Encoder()
    structure = enc.encode(obj, "")
    meta = {_META_KEY: json.dumps({"version": enc.version, "root": structure}, separators=(",", ":"))}
    header, chunks, offset = {"__metadata__": meta}, [], 0
    for key, arr in enc.arrays.items():
        n = arr.nbytes
        header[key] = {"dtype": _tag(arr, key), "shape": list(arr.shape), "data_offsets": [offset, offset + n]}
        if n:
            chunks.append(arr.reshape(-1).view(np.uint8))
        offset += n
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-(8 + len(head)) % _ALIGN)  # safetensors aligns the data start
    return [struct.pack("<Q", len(head)) + head] + chunks


def _write_all(fh, chunks: list) -> None:
    for c in chunks:
        fh.write(c)


_TMP_MARK = ".tinytorch-tmp-"
_LEGACY_TMP_AGE_S = 3600.0
_tmp_counter = itertools.count()


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":  # on Windows os.kill(pid, 0) would terminate the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _clean_stale_temps(directory: str, base: str) -> None:
    """Remove ``.BASE.tinytorch-tmp-<pid>-<n>`` files left by saves of this checkpoint that were killed."""
    prefix = f".{base}{_TMP_MARK}"
    try:
        names = os.listdir(directory)
    except OSError:
        return
    legacy = re.compile(re.escape(f".{base}.") + r"[a-z0-9_]{8}\.tmp")  # mkstemp names of older tinytorch
    now = time.time()
    for name in names:
        full = os.path.join(directory, name)
        if name.startswith(prefix):
            pid = name[len(prefix):].split("-", 1)[0]
            stale = pid.isdigit() and not _pid_alive(int(pid))
        elif legacy.fullmatch(name):
            try:  # no pid in the name: only once untouched for an hour can no save still be writing it
                stale = now - os.stat(full).st_mtime > _LEGACY_TMP_AGE_S
            except OSError:
                stale = False
        else:
            continue
        if stale:
            try:
                os.unlink(full)
            except OSError:
                pass


def _atomic_write(path: str, chunks: list) -> None:
    """Write ``chunks`` to ``path`` so that a crash leaves either the old file or the new one, never a mix."""
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    _clean_stale_temps(directory, base)
    tmp = os.path.join(directory, f".{base}{_TMP_MARK}{os.getpid()}-{next(_tmp_counter)}")
    try:
        mode = os.stat(path).st_mode & 0o7777  # overwriting keeps the file's mode, as open() does
    except OSError:
        mode = None
    # 0o666 & ~umask, as a plain open() gives (mkstemp would give 0600)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            if mode is not None:
                os.chmod(tmp, mode)
            _write_all(fh, chunks)
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
    """Save ``obj`` to ``f`` as a safetensors file.

    Args:
        obj: e.g. ``model.state_dict()``, ``optimizer.state_dict()``, a checkpoint dict mixing them with
            numbers, strings, NumPy arrays, an ``argparse.Namespace`` or dataclass config, or a whole
            ``nn.Module`` (stored as its class's import path, attributes, parameters and buffers; loading
            it back needs the class allowed: tinytorch's own are, others via ``add_safe_globals`` or
            ``weights_only=False``).
        f: a path (written atomically) or a binary file object.
        pickle_module, pickle_protocol: only None is accepted; tinytorch never pickles.
    """
    if pickle_module is not None:
        raise TypeError("tinytorch.save: pickle_module is not supported; checkpoints are safetensors, never pickle")
    chunks = _serialize(obj)
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise RuntimeError(f"tinytorch.save: Parent directory {parent} does not exist (saving to {path})")
        if os.path.isdir(path):
            raise RuntimeError(f"tinytorch.save: {path} is a directory; give a file path such as "
                               f"{os.path.join(path, 'checkpoint.pt')}")
        _atomic_write(path, chunks)
    elif hasattr(f, "write"):
        _write_all(f, chunks)
    else:
        raise TypeError(f"tinytorch.save: f must be a path or a writable binary file, got {type(f).__name__}")


# ---- loading: the file ------------------------------------------------------------------------
class _Source:
    """Random access to the checkpoint's bytes: a file on disk (read piecewise) or bytes in memory."""

    def __init__(self, f):
        self.fh, self.data = None, None
        if isinstance(f, (str, os.PathLike)):
            self.name = os.fspath(f)
            self.fh = open(self.name, "rb")
            self.size = os.fstat(self.fh.fileno()).st_size
        elif hasattr(f, "read"):
            self.name = str(getattr(f, "name", None) or f"<{type(f).__name__}>")
            data = f.read()
            if isinstance(data, str):
                raise TypeError(f"tinytorch.load: {self.name} was opened in text mode; open it with 'rb'")
            self.data = memoryview(bytes(data))
            self.size = len(self.data)
        else:
            raise TypeError(f"tinytorch.load: f must be a path or a readable binary file, got {type(f).__name__}")

    def read(self, offset: int, n: int) -> bytes:
        if self.data is not None:
            return bytes(self.data[offset:offset + n])
        self.fh.seek(offset)
        return self.fh.read(n)

    def read_into(self, offset: int, out: np.ndarray) -> int:
        buf = out.reshape(-1).view(np.uint8)
        if self.data is not None:
            chunk = np.frombuffer(self.data, dtype=np.uint8, count=min(buf.size, max(self.size - offset, 0)),
                                  offset=min(offset, self.size))
            buf[:chunk.size] = chunk
            return chunk.size
        self.fh.seek(offset)
        got = 0
        mv = memoryview(buf)
        while got < buf.size:
            n = self.fh.readinto(mv[got:])
            if not n:
                break
            got += n
        return got

    def close(self):
        if self.fh is not None:
            self.fh.close()


def _bad(name: str, what: str) -> RuntimeError:
    return RuntimeError(f"tinytorch.load: {name} is not a valid tinytorch checkpoint: {what}")


class EmptyCheckpointError(EOFError, RuntimeError):
    """An empty checkpoint file: an ``EOFError`` as in torch, and a ``RuntimeError`` like every other bad file."""


def _read_header(src: _Source) -> tuple[dict, dict, int]:
    """The safetensors header (validated: dtypes, shapes, offsets in bounds) and where the data starts."""
    name = src.name
    head = src.read(0, 9)
    if src.size == 0:  # torch raises EOFError here; the RuntimeError base keeps "every bad file is a RuntimeError"
        raise EmptyCheckpointError(f"tinytorch.load: {name} is empty (0 bytes); it is not a checkpoint")
    # a pickle opens with PROTO (0x80, 2..5); a safetensors header whose length is 0x0?80 does too, so
    # only bytes that do not also read as a plausible safetensors header count as a pickle
    plausible = len(head) == 9 and head[8:9] == b"{" and struct.unpack("<Q", head[:8])[0] <= src.size - 8
    if (head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05") and not plausible) \
            or head[:4] == b"PK\x03\x04":
        raise RuntimeError(
            f"tinytorch.load: {name} is a pickle file (e.g. written by torch.save or pickle.dump). tinytorch never "
            "unpickles (a pickle can run arbitrary code when loaded). Re-save the tensors in the safetensors format, "
            "e.g. with safetensors.torch.save_file(model.state_dict(), path), and load that"
        )
    if src.size < 8:
        raise RuntimeError(f"tinytorch.load: {name} is truncated or not a safetensors file ({src.size} bytes)")
    (n,) = struct.unpack("<Q", head[:8])
    first = head[8:9]
    if n > src.size - 8 or n == 0 or first != b"{":
        raise RuntimeError(
            f"tinytorch.load: {name} is not a valid safetensors checkpoint (corrupt or truncated header: "
            f"header length {n}, file size {src.size} bytes)"
        )
    try:
        header = json.loads(src.read(8, n).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        what = "nested too deeply" if isinstance(e, RecursionError) else str(e)
        raise RuntimeError(f"tinytorch.load: {name} is not a valid safetensors checkpoint: corrupt header ({what})") from None
    if not isinstance(header, dict):
        raise RuntimeError(f"tinytorch.load: {name} is not a valid safetensors checkpoint: the header is a "
                           f"{type(header).__name__}, not an object")
    data_start, data_size = 8 + n, src.size - 8 - n
    meta = header.pop("__metadata__", None)
    if meta is not None and (not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values())):
        raise _bad(name, "__metadata__ must map strings to strings")
    spans = []
    for key, e in header.items():
        if not (isinstance(e, dict) and isinstance(e.get("dtype"), str) and isinstance(e.get("shape"), list)
                and isinstance(e.get("data_offsets"), list) and len(e["data_offsets"]) == 2):
            raise _bad(name, f"tensor {key!r} has a malformed header entry {str(e)[:200]}")
        if not all(type(s) is int and s >= 0 for s in e["shape"]):
            raise _bad(name, f"tensor {key!r} has a bad shape {e['shape']}")
        begin, end = e["data_offsets"]
        if not (type(begin) is int and type(end) is int and 0 <= begin <= end):
            raise _bad(name, f"tensor {key!r} has bad data offsets {e['data_offsets']}")
        itemsize = _np_dtype(e["dtype"], name, key).itemsize
        if end - begin != math.prod(e["shape"]) * itemsize:
            raise _bad(name, f"tensor {key!r} has {end - begin} bytes but shape {e['shape']} of {e['dtype']} needs "
                             f"{math.prod(e['shape']) * itemsize}")
        if end > data_size:
            raise RuntimeError(f"tinytorch.load: tensor {key!r} in {name} is truncated: its bytes end at {end} but "
                               f"the file holds {data_size} bytes of data")
        spans.append((begin, end, key))
    spans.sort()
    for (b0, e0, k0), (b1, e1, k1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise _bad(name, f"tensors {k0!r} and {k1!r} overlap in the file")
    return header, meta or {}, data_start


def _np_dtype(tag: str, name: str, key: str):
    if tag == "BF16":
        return dtypes.bfloat16.np  # TypeError naming ml_dtypes when it is missing
    dt = _ST_DTYPES.get(tag)
    if dt is None:
        raise RuntimeError(f"tinytorch.load: tensor {key!r} in {name} has dtype {tag}, which tinytorch does not support")
    return np.dtype(dt)


class _Arrays:
    """Reads each tensor of the file on first use, straight into a fresh array (the only copy)."""

    def __init__(self, src: _Source, header: dict, data_start: int, mmap: bool = False):
        self.src, self.header, self.data_start = src, header, data_start
        self.mmap = bool(mmap) and src.fh is not None
        self._cache: dict[str, np.ndarray] = {}

    def __contains__(self, key):
        return key in self.header

    def keys(self):
        return self.header.keys()

    def __getitem__(self, key) -> np.ndarray:
        arr = self._cache.get(key)
        if arr is None:
            e = self.header[key]
            dt = _np_dtype(e["dtype"], self.src.name, key)
            want = e["data_offsets"][1] - e["data_offsets"][0]
            if self.mmap and want:
                # torch.load(mmap=True): copy-on-write pages of the file, read only when touched
                arr = np.memmap(self.src.name, dtype=dt, mode="c", offset=self.data_start + e["data_offsets"][0],
                                shape=tuple(e["shape"])).view(np.ndarray)
                self._cache[key] = arr
                return arr
            arr = np.empty(e["shape"], dtype=dt)
            got = self.src.read_into(self.data_start + e["data_offsets"][0], arr) if want else 0
            if got != want:
                raise RuntimeError(f"tinytorch.load: tensor {key!r} in {self.src.name} is truncated "
                                   f"({got} of {want} bytes)")
            self._cache[key] = arr
        return arr


# ---- loading: the structure document ----------------------------------------------------------
# kind key -> the other keys a node of that kind may carry
_KINDS = {
    "T": {"rg", "d", "P"}, "b": set(), "i": set(), "f": set(), "s": set(), "N": set(), "dt": set(), "dev": set(),
    "D": {"o"}, "U": set(), "L": set(), "S": set(), "FS": set(), "c": set(), "by": set(), "Z": set(),
    "G": set(), "R": set(), "NT": {"v"}, "O": {"id", "a"}, "M": {"id", "items"},
    "E": {"n"},
}
_UNHASHABLE = {"D", "L", "S"}


def _is_path(v) -> bool:
    return (isinstance(v, list) and len(v) == 2 and all(isinstance(s, str) and s for s in v)
            and all(p.isidentifier() or p == "" for p in v[1].split(".")))


def _validate(root, arrays: _Arrays, name: str) -> dict:
    """Check every node of the document against the schema, iteratively; return the globals it names.

    Nothing is built or imported here, so a malformed file fails before any of it is used.
    """
    found: dict[str, tuple[str, str, str]] = {}  # "module.qualname" -> (module, qualname, "class"|"global")
    seen_ids: set[int] = set()
    stack = [(root, 0, "<root>")]
    while stack:
        node, depth, where = stack.pop()
        if depth > MAX_DEPTH:
            raise _bad(name, f"its structure is nested more than {MAX_DEPTH} levels deep (at {where})")
        if node is None:
            continue
        if not isinstance(node, dict):
            raise _bad(name, f"structure entry at {where} is a {type(node).__name__}, expected an object")
        kinds = [k for k in node if k in _KINDS]
        if len(kinds) != 1:
            raise _bad(name, f"structure entry at {where} has keys {sorted(node)[:8]}; expected exactly one kind")
        kind = kinds[0]
        extra = set(node) - {kind} - _KINDS[kind]
        if extra:
            raise _bad(name, f"structure entry {kind!r} at {where} has unexpected keys {sorted(extra)[:8]}")
        v = node[kind]
        child = depth + 1

        def need(ok, what):
            if not ok:
                raise _bad(name, f"{what} at {where}: {str(v)[:100]!r}")

        if kind in ("T", "N"):
            need(isinstance(v, str), "a tensor reference must be a string")
            if v not in arrays:
                raise _bad(name, f"structure entry at {where} refers to tensor {v!r}, which the file does not contain")
            if kind == "T":
                if "d" in node:
                    _check_device(node["d"], name, where)
                for flag in ("rg", "P"):
                    if flag in node and not isinstance(node[flag], bool):
                        raise _bad(name, f"flag {flag!r} at {where} must be true or false")
        elif kind == "b":
            need(isinstance(v, bool), "a bool entry must be true or false")
        elif kind == "i":
            need(type(v) is int, "an int entry must be an integer")
        elif kind == "f":
            need(isinstance(v, str) and _hex_float_ok(v), "bad number: a float entry must be a hex float string")
        elif kind == "s":
            need(isinstance(v, str), "a string entry must be a string")
        elif kind == "dt":
            need(isinstance(v, str) and v in dtypes._NAMES, "bad dtype name")
        elif kind == "dev":
            _check_device(v, name, where)
        elif kind == "c":
            need(isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) and _hex_float_ok(x) for x in v),
                 "bad number: a complex entry must be two hex float strings")
        elif kind == "by":
            need(isinstance(v, str) and _b64_ok(v), "a bytes entry must be base64 text")
        elif kind == "Z":
            need(isinstance(v, list) and all(type(x) is int and x >= 0 for x in v), "a Size must list sizes >= 0")
        elif kind == "R":
            need(type(v) is int and v in seen_ids, "a reference must name an object defined before it")
        elif kind == "G":
            need(_is_path(v), "a global must be [module, qualified name]")
            found[f"{v[0]}.{v[1]}"] = (v[0], v[1], "global")
        elif kind == "D":
            need(isinstance(v, list) and all(isinstance(p, list) and len(p) == 2 for p in v),
                 "a dict entry must list [key, value] pairs")
            if "o" in node and not isinstance(node["o"], bool):
                raise _bad(name, f"flag 'o' at {where} must be true or false")
            for i, (k, x) in reversed(list(enumerate(v))):
                if isinstance(k, dict) and any(u in k for u in _UNHASHABLE):
                    raise _bad(name, f"dict key {i} at {where} is not hashable")
                stack.append((x, child, f"{where}[{i}]"))
                stack.append((k, child, f"{where}.key{i}"))
        elif kind in ("U", "L", "S", "FS"):
            need(isinstance(v, list), "a sequence entry must be a list")
            if kind in ("S", "FS"):
                for i, x in enumerate(v):
                    if isinstance(x, dict) and any(u in x for u in _UNHASHABLE):
                        raise _bad(name, f"set element {i} at {where} is not hashable")
            stack.extend((x, child, f"{where}[{i}]") for i, x in reversed(list(enumerate(v))))
        elif kind == "NT":
            need(_is_path(v), "a namedtuple class must be [module, qualified name]")
            found[f"{v[0]}.{v[1]}"] = (v[0], v[1], "class")
            vals = node.get("v")
            if not isinstance(vals, list):
                raise _bad(name, f"namedtuple at {where} has no value list")
            stack.extend((x, child, f"{where}[{i}]") for i, x in reversed(list(enumerate(vals))))
        elif kind == "E":
            need(_is_path(v), "an enum class must be [module, qualified name]")
            if not isinstance(node.get("n"), str):
                raise _bad(name, f"enum member at {where} has no name")
            found[f"{v[0]}.{v[1]}"] = (v[0], v[1], "class")
        elif kind == "M":
            need(_is_path(v), "a mapping's class must be [module, qualified name]")
            found[f"{v[0]}.{v[1]}"] = (v[0], v[1], "mapping")
            ref, items = node.get("id"), node.get("items")
            if type(ref) is not int or ref in seen_ids:
                raise _bad(name, f"mapping at {where} has a missing or repeated id {ref!r}")
            seen_ids.add(ref)
            if not (isinstance(items, list) and all(isinstance(p, list) and len(p) == 2 for p in items)):
                raise _bad(name, f"mapping at {where} must list [key, value] pairs")
            for i, (k, x) in reversed(list(enumerate(items))):
                if isinstance(k, dict) and any(u in k for u in _UNHASHABLE):
                    raise _bad(name, f"mapping key {i} at {where} is not hashable")
                stack.append((x, child, f"{where}[{i}]"))
                stack.append((k, child, f"{where}.key{i}"))
        elif kind == "O":
            need(_is_path(v), "an object's class must be [module, qualified name]")
            found[f"{v[0]}.{v[1]}"] = (v[0], v[1], "class")
            ref, attrs = node.get("id"), node.get("a")
            if type(ref) is not int or ref in seen_ids:
                raise _bad(name, f"object at {where} has a missing or repeated id {ref!r}")
            seen_ids.add(ref)
            if not (isinstance(attrs, list) and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                                                    for p in attrs)):
                raise _bad(name, f"object at {where} must list [attribute name, value] pairs")
            stack.extend((x, child, f"{where}.{k}") for k, x in reversed(attrs))
    return found


def _hex_float_ok(s: str) -> bool:
    try:
        float.fromhex(s)
    except (ValueError, OverflowError):
        return False
    return True


def _b64_ok(s: str) -> bool:
    try:
        base64.b64decode(s, validate=True)
    except ValueError:
        return False
    return True


def _check_device(v, name, where):
    if not isinstance(v, str):
        raise _bad(name, f"device at {where} must be a string, got {type(v).__name__}")
    try:
        _arrays.device(v)
    except (RuntimeError, ValueError, TypeError) as e:
        raise _bad(name, f"unknown device string {v!r} at {where} ({e})") from None


def _unsafe_global_error(full: str) -> UnpicklingError:
    return UnpicklingError(
        "Weights only load failed. This file can still be loaded, to do so you have two options, do those steps "
        "only if you trust the source of the checkpoint.\n\t(1) Re-running `torch.load` with `weights_only` set to "
        "`False` will likely succeed, but it can result in arbitrary code execution. Do it only if you got the file "
        "from a trusted source.\n\t(2) Alternatively, to load with `weights_only=True` please check the recommended "
        f"steps in the following error message.\n\tWeightsUnpickler error: Unsupported global: GLOBAL {full} was not "
        f"an allowed global by default. Please use `torch.serialization.add_safe_globals([{full.rsplit('.', 1)[-1]}])` "
        f"or the `torch.serialization.safe_globals([{full.rsplit('.', 1)[-1]}])` context manager to allowlist this "
        "global if you trust this class/function."
    )


def _import_global(module: str, qualname: str, name: str):
    try:
        obj = importlib.import_module(module)
    except ImportError as e:
        raise RuntimeError(f"tinytorch.load: {name} needs {module}.{qualname}, but module {module!r} cannot be "
                           f"imported ({e})") from None
    for part in qualname.split("."):
        if part.startswith("__"):
            raise _bad(name, f"global {module}.{qualname} names a private attribute")
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise RuntimeError(f"tinytorch.load: {name} needs {module}.{qualname}, which does not exist") from None
    return obj


def _is_tinytorch(module: str) -> bool:
    return module == "tinytorch" or module.startswith("tinytorch.")


# tinytorch base classes whose subclasses hold plain state and may be rebuilt under weights_only=True
_STATE_BASES = {("tinytorch.nn.modules.module", "Module"), ("tinytorch.optim.optimizer", "Optimizer"),
                ("tinytorch.optim.lr_scheduler", "LRScheduler")}


def _is_tinytorch_state_class(obj, role: str) -> bool:
    if not isinstance(obj, type):
        return False
    if role == "mapping":
        return issubclass(obj, collections.abc.MutableMapping)
    return any((c.__module__, c.__name__) in _STATE_BASES for c in obj.__mro__)


def _is_public_tinytorch_function(obj, qualname: str) -> bool:
    """A function exported under its own name by tinytorch, nn.functional or nn.init (no I/O ones)."""
    if not callable(obj) or isinstance(obj, type) or qualname.startswith("_") or "." in qualname:
        return False
    if getattr(obj, "__module__", "") == __name__:  # save/load: never an attribute worth allowing
        return False
    return any(getattr(sys.modules.get(m), qualname, None) is obj for m in _SAFE_FUNCTION_MODULES)


def _resolve_globals(found: dict, weights_only: bool, name: str) -> dict:
    """Each global the file names, imported only if allowed; refused before anything is built."""
    user = _allowed_by_user()
    out = {}
    for full, (module, qualname, role) in found.items():
        if full in user:
            out[full] = user[full]
            continue
        if not weights_only or full in _BUILTIN_SAFE:
            out[full] = _import_global(module, qualname, name)
            continue
        if _is_tinytorch(module):
            # tinytorch's own layers, optimizers, schedulers, and its public functions (a module may keep
            # F.relu as an attribute)
            obj = _import_global(module, qualname, name)
            if role == "global" and _is_public_tinytorch_function(obj, qualname):
                out[full] = obj
                continue
            # a class reference (e.g. self.act_cls = nn.ReLU) is allowed like the class's instances
            if _is_tinytorch_state_class(obj, "class" if role == "global" else role):
                out[full] = obj
                continue
        raise _unsafe_global_error(full)
    return out


def _device_mapper(map_location):
    """A function (saved device string) -> target device, from torch's map_location forms."""
    if map_location is None:
        return lambda saved: saved
    if isinstance(map_location, dict):
        return lambda saved: map_location.get(saved, saved)
    if isinstance(map_location, (str, _arrays.device, int)):
        target = str(_arrays.parse_device(map_location))
        return lambda saved: target
    if callable(map_location):
        return None  # applied per tensor in _Decoder
    raise TypeError(f"tinytorch.load: unsupported map_location {map_location!r}")


class _Decoder:
    """Builds the object from a validated document; depth is bounded by ``_validate``."""

    def __init__(self, arrays, map_location, name, globals_=None):
        self.arrays = arrays
        self.map_location = map_location
        self.mapper = _device_mapper(map_location)
        self.name = name
        self.globals = globals_ or {}
        self._memo: dict[str, Tensor] = {}
        self._objects: dict[int, object] = {}

    def decode(self, node):
        if node is None:
            return None
        if "T" in node:
            return self._tensor(node)
        if "b" in node:
            return node["b"]
        if "i" in node:
            return node["i"]
        if "f" in node:
            return float.fromhex(node["f"])
        if "s" in node:
            return node["s"]
        if "N" in node:
            return self.arrays[node["N"]].copy()  # the Tensor cache may share it; a user's array is its own
        if "dt" in node:
            return dtypes.to_dtype(node["dt"])
        if "dev" in node:
            return _arrays.device(node["dev"])
        if "D" in node:
            out = collections.OrderedDict() if node.get("o") else {}
            for k, v in node["D"]:
                out[self.decode(k)] = self.decode(v)
            return out
        if "U" in node:
            return tuple(self.decode(v) for v in node["U"])
        if "L" in node:
            return [self.decode(v) for v in node["L"]]
        if "S" in node:
            return {self.decode(v) for v in node["S"]}
        if "FS" in node:
            return frozenset(self.decode(v) for v in node["FS"])
        if "c" in node:
            return complex(float.fromhex(node["c"][0]), float.fromhex(node["c"][1]))
        if "by" in node:
            return base64.b64decode(node["by"])
        if "Z" in node:
            return Size(node["Z"])
        if "G" in node:
            return self.globals[".".join(node["G"])]
        if "R" in node:
            return self._objects[node["R"]]
        if "E" in node:
            cls = self._class(node["E"])
            if not issubclass(cls, enum.Enum) or node["n"] not in cls.__members__:
                raise _bad(self.name, f"{'.'.join(node['E'])} has no enum member {node['n']!r}")
            return cls.__members__[node["n"]]
        if "M" in node:
            cls = self._class(node["M"])
            if not issubclass(cls, collections.abc.MutableMapping):
                raise _bad(self.name, f"{'.'.join(node['M'])} is not a mapping class")
            obj = cls()  # an allowed mapping class, built empty, then filled
            self._objects[node["id"]] = obj
            for k, v in node["items"]:
                obj[self.decode(k)] = self.decode(v)
            return obj
        if "NT" in node:
            cls = self._class(node["NT"])
            if not (issubclass(cls, tuple) and hasattr(cls, "_fields")):
                raise _bad(self.name, f"{'.'.join(node['NT'])} is not a namedtuple class")
            return tuple.__new__(cls, [self.decode(v) for v in node["v"]])
        return self._object(node)

    def _class(self, path):
        cls = self.globals[".".join(path)]
        if not isinstance(cls, type):
            raise _bad(self.name, f"{'.'.join(path)} is not a class")
        return cls

    def _object(self, node):
        cls = self._class(node["O"])
        obj = cls.__new__(cls)  # no __init__: the attributes come from the file
        self._objects[node["id"]] = obj
        state = {k: self.decode(v) for k, v in node["a"]}
        setstate = getattr(cls, "__setstate__", None)
        if setstate is not None and setstate is not getattr(object, "__setstate__", None):
            obj.__setstate__(state)  # only allowed classes get here
        else:
            obj.__dict__.update(state)
        return obj

    def _tensor(self, node):
        key = node["T"]
        if key in self._memo:
            return self._memo[key]
        t = self.make_tensor(self.arrays[key], node.get("d", "cpu"))
        if node.get("P"):
            from .nn.parameter import Parameter  # the only nn class the core needs, when a module is loaded

            t = Parameter(t, requires_grad=bool(node.get("rg")))
        elif node.get("rg") and t.is_floating_point():
            t.requires_grad_(True)
        self._memo[key] = t
        return t

    def make_tensor(self, arr: np.ndarray, saved_device: str) -> Tensor:
        t = Tensor._make(arr)  # arr was read into fresh, writable memory: no second copy
        if self.mapper is None:
            moved = self.map_location(t, saved_device)
            return moved if isinstance(moved, Tensor) else t
        target = _arrays.parse_device(self.mapper(saved_device))
        if target.type == "cuda" and not _arrays.cuda_available():
            raise RuntimeError(
                f"tinytorch.load: {self.name} holds tensors saved on {saved_device}, but CUDA is not available "
                f"({_arrays.cuda_unavailable_reason()}); pass map_location='cpu'"
            )
        if target.type != "cpu":
            t = Tensor._make(_arrays.to_device(t._data, target))
        return t


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load what ``tinytorch.save`` wrote (or any safetensors file, as a flat ``{name: tensor}`` dict).

    Args:
        f: a path or a binary file object.
        map_location: where tensors go: None (the device they were saved from), 'cpu', 'cuda',
            'cuda:1', a ``tinytorch.device``, a dict {saved: target} of device strings, or a
            callable ``(tensor, saved_device_str) -> tensor``.
        weights_only: PyTorch's contract (default True): objects of classes other than tinytorch's own
            modules are built only when allowed with ``add_safe_globals``/``safe_globals``, else
            ``pickle.UnpicklingError``. ``False`` allows any importable class (trusted files only; still
            nothing is unpickled). ``TORCH_FORCE_WEIGHTS_ONLY_LOAD`` / ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``
            are honoured as in torch 2.6+.
        mmap: map the file's tensors copy-on-write instead of reading them (paths only).

    Raises:
        RuntimeError naming the file when it is empty, truncated, corrupt, not safetensors, a pickle
        (never unpickled), or its metadata does not match the schema.
    """
    weights_only = _resolve_weights_only(weights_only)
    if pickle_module is not None:
        if weights_only:
            raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
        raise TypeError("tinytorch.load: pickle_module is not supported; tinytorch never unpickles")
    src = _Source(f)
    try:
        header, meta, data_start = _read_header(src)
        arrays = _Arrays(src, header, data_start, mmap=bool(mmap))
        name = src.name
        if _META_KEY not in meta:
            dec = _Decoder(arrays, map_location, name)
            return {k: dec.make_tensor(arrays[k], "cpu") for k in list(header)}
        try:
            doc = json.loads(meta[_META_KEY])
        except (ValueError, RecursionError) as e:
            what = f"nested too deeply for JSON ({MAX_DEPTH} levels allowed)" if isinstance(e, RecursionError) else e
            raise RuntimeError(f"tinytorch.load: {name} has corrupt tinytorch metadata: {what}") from None
        if not isinstance(doc, dict) or doc.get("version") not in (1, _FORMAT_VERSION) or "root" not in doc:
            version = doc.get("version") if isinstance(doc, dict) else "?"
            raise RuntimeError(f"tinytorch.load: {name} was written by an unsupported tinytorch checkpoint format "
                               f"(version {version!r}), or its metadata is not a {{version, root}} object")
        found = _validate(doc["root"], arrays, name)
        globals_ = _resolve_globals(found, weights_only, name)
        return _Decoder(arrays, map_location, name, globals_).decode(doc["root"])
    finally:
        src.close()
