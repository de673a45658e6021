"""A strict, NumPy-backed stand-in for CuPy, so CI can run tinytorch's CUDA path without a GPU.

``tinytorch._arrays._cuda.use_module(tests.cupy_standin)`` (or ``TINYTORCH_CUPY_MODULE=tests.cupy_standin``)
makes the backend load this module where it would load ``cupy``. Device arrays are :class:`ndarray`
objects holding a NumPy array and a fake device id; they refuse what real CuPy refuses:

* implicit conversion to NumPy (``__array__``, ``np.asarray(device_array)``) -> TypeError;
* NumPy arrays (and lists) mixed into device ufuncs/operators and into device functions -> TypeError;
* host arrays or lists assigned into device arrays (``a[i] = host``, ``copyto(a, host)``) -> TypeError;
* names real CuPy does not export (module functions, array methods, ``RandomState`` methods,
  ``cupyx.scipy.special`` functions): the allowed names come from ``cupy_names.json``, generated from an
  installed CuPy by ``generate_names.py``;
* ``ufunc.at`` on a ufunc CuPy has no scatter kernel for, and scatter ops on dtypes the kernels lack;
* 0-d device arrays used as Python ints (``range(a)``, ``lst[a]``: CuPy's ndarray has no ``__index__``);
* an array on a fake device other than the current one (``with cupy.cuda.Device(i)``);

and, like cuSOLVER under CuPy's default ``linalg`` error mode, ``linalg.inv``/``solve``/``cholesky`` on
singular or non-positive-definite input return NaN instead of raising (``cupyx.errstate(linalg='raise')``
makes them raise ``LinAlgError``).

Streams and CUDA graphs (``Stream.begin_capture``/``end_capture``/``is_capturing``, ``Graph.launch``) follow
CUDA's stream-capture rules (see "stream capture" below): while a stream captures, the array operations
launched on it are recorded as thunks that re-run in place into the same buffers, and nothing the capture
did is visible afterwards (buffers that existed are restored, buffers made during it hold garbage) until
the graph is launched; host syncs during a capture raise ``CUDARuntimeError`` and invalidate it. Device
arrays take their memory from a modelled ``MemoryPool`` (per-stream arenas of cached blocks, through
``cuda.set_allocator``), so a capture can tell a cached block from a new ``cudaMalloc``.

What it cannot emulate: kernels (``RawKernel``, ``ElementwiseKernel``), streams' concurrency, float
rounding of GPU libraries, the pool's block splitting and merging. Tests needing those stay ``real_gpu``.
"""
from __future__ import annotations

import bisect
import contextlib
import json
import operator
import pathlib
import sys
import types
import weakref

import numpy as _np

NAMES = json.loads(pathlib.Path(__file__).with_name("cupy_names.json").read_text())
__version__ = NAMES["cupy_version"]

# dtypes CuPy's scatter kernels (cupyx.scatter_add/max/min, ufunc.at) accept. Not in the generated list:
# the kernels' type tables are compiled code, so these come from CuPy's docs (14.x): atomicAdd exists for
# these; int8/uint8/int16/uint16/bool have none.
SCATTER_DTYPES = {
    "add": {"float16", "float32", "float64", "int32", "uint32", "int64", "uint64"},
    "sub": {"float16", "float32", "float64", "int32", "uint32", "int64", "uint64"},
    "max": {"float32", "float64", "int32", "uint32", "int64", "uint64"},
    "min": {"float32", "float64", "int32", "uint32", "int64", "uint64"},
    "and": {"int32", "uint32", "int64", "uint64"},
    "or": {"int32", "uint32", "int64", "uint64"},
    "xor": {"int32", "uint32", "int64", "uint64"},
}
_UFUNC_SCATTER = {"add": "add", "subtract": "sub", "maximum": "max", "minimum": "min",
                  "bitwise_and": "and", "bitwise_or": "or", "bitwise_xor": "xor"}


# ---------------------------------------------------------------- fake devices
class _State:
    n_devices = 1
    current = 0
    linalg_mode = "ignore"
    allocations = 0  # device arrays created (tests can check scalars are not allocated per op)
    syncs = 0  # device-to-host reads (get, item, bool, int, float, tolist): each is a sync on a real GPU
    stream_stack: list = []  # streams entered with ``with stream:`` (the last one is current)
    captures: dict = {}  # capturing stream -> _Capture
    allocator = None  # cuda.set_allocator's function (None: the default pool's malloc)
    live: dict = {}  # id(NumPy buffer) -> the MemoryPointer it holds (released when the buffer dies)


def set_device_count(n: int) -> None:
    """How many fake devices ``cuda.runtime.getDeviceCount()`` reports (tests use 1 or 2)."""
    _State.n_devices = int(n)
    _State.current = 0


def _current() -> int:
    return _State.current


def _check_device(a: "ndarray", where: str) -> None:
    if a._dev != _State.current:
        raise ValueError(
            f"{where}: array device must be same as the current device: array device = {a._dev} "
            f"while current = {_State.current} (cupy stand-in)")


# ---------------------------------------------------------------- strict argument handling
def _unsupported(x, where):
    return TypeError(f"Unsupported type {type(x)} in {where} (cupy stand-in: host data mixed into a device op)")


def _unwrap(x, where, *, lists_ok=True):
    """The NumPy arrays behind device arrays in ``x`` (recursively); NumPy arrays there are refused."""
    if isinstance(x, ndarray):
        _check_device(x, where)
        return x._a
    if isinstance(x, _np.ndarray):
        raise _unsupported(x, where)
    if isinstance(x, (list, tuple)):
        if not lists_ok and any(not isinstance(e, (int, float, bool, slice, type(None))) for e in x):
            raise _unsupported(x, where)
        return type(x)(_unwrap(e, where, lists_ok=lists_ok) for e in x)
    if isinstance(x, dict):
        return {k: _unwrap(v, where, lists_ok=lists_ok) for k, v in x.items()}
    return x


def _operand(x, where):
    """A ufunc/operator operand: a device array or a scalar; lists and NumPy arrays are refused."""
    if isinstance(x, ndarray):
        _check_device(x, where)
        return x._a
    if isinstance(x, (_np.ndarray, list, tuple)):
        raise _unsupported(x, where)
    return x


def _wrap(r, dev=None):
    dev = _State.current if dev is None else dev
    if isinstance(r, _np.ndarray):
        return ndarray._from(r, dev)
    if isinstance(r, _np.generic):
        return ndarray._from(_np.asarray(r), dev)
    if isinstance(r, tuple):
        return tuple(_wrap(e, dev) for e in r)
    if isinstance(r, list):
        return [_wrap(e, dev) for e in r]
    return r


def _call(fn, where, args, kwargs, *, errstate=True):
    return _run(fn, _unwrap(args, where), _unwrap(kwargs, where))


def _run(fn, a, k, dev=None, *, wrap=True):
    """Launch ``fn(*a, **k)`` on NumPy buffers: the stand-in's kernel launch. On a capturing stream it is
    also recorded, to re-run in place into the same output buffers when the graph is launched."""
    cap = _launch_capture() if _State.captures else None
    with _np.errstate(all="ignore"):  # GPUs do not warn on overflow/invalid
        r = fn(*a, **k)
    if cap is not None:  # views too: a function may write through ``out=`` and return that view
        out = _wrap(r, dev) if wrap else None
        cap.thunks.append((fn, a, k, out))
        return out if wrap else r
    return _wrap(r, dev) if wrap else r


# ---------------------------------------------------------------- ufuncs
class ufunc:
    """A CuPy ufunc: operands are device arrays or scalars; ``.at`` only where CuPy has a scatter kernel."""

    def __init__(self, np_ufunc):
        self._u = np_ufunc
        self.__name__ = self.name = np_ufunc.__name__
        self.nin, self.nout = np_ufunc.nin, np_ufunc.nout

    def __repr__(self):
        return f"<ufunc 'cupy_standin.{self.name}'>"

    def __call__(self, *args, **kwargs):
        ops = [_operand(a, self.name) for a in args]
        return _run(self._u, ops, _unwrap(kwargs, self.name))

    def _method(self, m, *args, **kwargs):
        if m not in NAMES["ufunc_methods"]:
            raise AttributeError(f"'cupy.ufunc' object has no attribute '{m}'")
        ops = [_operand(a, f"{self.name}.{m}") for a in args[:1]] + list(_unwrap(args[1:], self.name))
        return _run(getattr(self._u, m), ops, _unwrap(kwargs, self.name))

    def reduce(self, *a, **k):
        return self._method("reduce", *a, **k)

    def accumulate(self, *a, **k):
        return self._method("accumulate", *a, **k)

    def outer(self, *a, **k):
        return self._method("outer", *a, **k)

    def reduceat(self, *a, **k):
        return self._method("reduceat", *a, **k)

    def at(self, a, indices, b=None):
        if self.name not in NAMES["ufunc_at"]:
            raise NotImplementedError(f"`{self.name}.at` is not supported yet (cupy stand-in)")
        _scatter(_UFUNC_SCATTER[self.name], a, indices, b, f"{self.name}.at")


def _scatter(kind, a, indices, value, where):
    if not isinstance(a, ndarray):
        raise TypeError(f"{where}: expected a cupy.ndarray target, got {type(a)}")
    if a.dtype.name not in SCATTER_DTYPES[kind]:
        raise TypeError(f"{where}: scatter_{kind} does not support {a.dtype.name} "
                        f"(supported: {sorted(SCATTER_DTYPES[kind])}) (cupy stand-in)")
    _check_device(a, where)
    idx = _index_key(indices, where)
    v = _operand(value, where)
    np_ufunc = {"add": _np.add, "sub": _np.subtract, "max": _np.maximum, "min": _np.minimum,
                "and": _np.bitwise_and, "or": _np.bitwise_or, "xor": _np.bitwise_xor}[kind]
    _run(_scatter_kernel, (np_ufunc, a._a, idx, v), {}, wrap=False)


# kernels that wrap out-of-bounds indices when they run (a captured launch must read the index buffers
# as they are at replay, not as they were at capture)
def _scatter_kernel(np_ufunc, a, idx, v):
    np_ufunc.at(a, _mod_key(idx, a.shape), v)


def _getitem_kernel(a, key):
    return a[_mod_key(key, a.shape)]


def _setitem_kernel(a, key, v):
    a[_mod_key(key, a.shape)] = v


def _mod_key(key, shape):
    keys = _wrap_int_arrays(key if isinstance(key, tuple) else (key,), shape)
    return keys if isinstance(key, tuple) else keys[0]


def _index_key(key, where, shape=None):
    """An index for a device array: device arrays (same device), ints, slices, None, Ellipsis, host int
    lists/arrays (CuPy copies those to the device); a 0-d device array is an index array, not an int.
    With ``shape``, out-of-bounds integer-array indices wrap around as in CuPy (NumPy would raise)."""
    if isinstance(key, tuple):
        keys = tuple(_index_key(k, where) for k in key)
    elif isinstance(key, ndarray):
        _check_device(key, where)
        keys = (key._a,)
    else:
        keys = (key,)
    if shape is not None:
        keys = _wrap_int_arrays(keys, shape)
    return keys if isinstance(key, tuple) else keys[0]


def _wrap_int_arrays(keys, shape):
    used = sum(k.ndim if isinstance(k, _np.ndarray) and k.dtype == bool else 1
               for k in keys if k is not None and k is not Ellipsis)
    out, dim = [], 0
    for k in keys:
        if k is None:
            out.append(k)
            continue
        if k is Ellipsis:
            dim += len(shape) - used
            out.append(k)
            continue
        if isinstance(k, (list, _np.ndarray)):
            arr = _np.asarray(k)
            if arr.dtype.kind in "iu" and dim < len(shape) and shape[dim] > 0:
                k = _np.mod(arr, shape[dim])
            dim += arr.ndim if arr.dtype == bool else 1
        else:
            dim += 1
        out.append(k)
    return tuple(out)


# ---------------------------------------------------------------- the array
class _Flags:
    def __init__(self, a):
        self.c_contiguous = a.flags.c_contiguous
        self.f_contiguous = a.flags.f_contiguous
        self.owndata = a.flags.owndata

    def __getitem__(self, k):
        return {"C_CONTIGUOUS": self.c_contiguous, "F_CONTIGUOUS": self.f_contiguous,
                "OWNDATA": self.owndata}[k]


class _MemoryPointer:
    def __init__(self, a):
        self.ptr = a.__array_interface__["data"][0]
        self.device_id = 0


class ndarray:
    """A device array: a NumPy array on fake device ``device.id``; only CuPy's names and protocols."""

    __slots__ = ("_a", "_dev", "__weakref__")
    __array_priority__ = 100.0
    __hash__ = None

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        self._a = _np.empty(shape, dtype=dtype, order=order)
        self._dev = _State.current
        _State.allocations += 1
        _allocate(self._a)

    @classmethod
    def _from(cls, a, dev):
        obj = object.__new__(cls)
        obj._a, obj._dev = a, dev
        _State.allocations += 1
        _allocate(a)
        return obj

    # --- what CuPy refuses
    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. "
                        "Please use `.get()` to construct a NumPy array explicitly. (cupy stand-in)")

    def __array_ufunc__(self, uf, method, *inputs, **kwargs):
        if uf.__name__ not in NAMES["ufuncs"]:
            return NotImplemented
        cu = ufunc(uf)
        return cu(*inputs, **kwargs) if method == "__call__" else getattr(cu, method)(*inputs, **kwargs)

    def __array_function__(self, func, types_, args, kwargs):
        mod = func.__module__ or ""
        table = {"numpy": NAMES["cupy"], "numpy.linalg": NAMES["linalg"], "numpy.fft": NAMES["fft"]}
        names = table.get(mod.replace("numpy._core", "numpy").replace("numpy.lib", "numpy"))
        if names is None or func.__name__ not in names:
            return NotImplemented  # NumPy then raises TypeError: no implementation found
        return _call(func, func.__name__, args, kwargs)

    def __getattr__(self, name):
        if name in NAMES["ndarray"] and hasattr(_np.ndarray, name):
            meth = getattr(self._a, name)
            if name not in _NO_KERNEL:
                _check_device(self, f"ndarray.{name}")

            def method(*args, **kwargs):
                return _call(meth, f"ndarray.{name}", args, kwargs)
            return method
        raise AttributeError(f"'cupy.ndarray' object has no attribute '{name}' (cupy stand-in)")

    def __reduce__(self):
        return (_rebuild, (self._a.copy(), self._dev))

    # --- explicit transfers and metadata
    def get(self, stream=None, order="C", out=None, blocking=True):
        _sync("ndarray.get")
        if out is not None:
            out[...] = self._a
            return out
        return _np.array(self._a, order=order if order != "A" else "K", copy=True)

    def set(self, arr, stream=None):
        if not isinstance(arr, _np.ndarray):
            raise TypeError(f"ndarray.set: expected numpy.ndarray, got {type(arr)}")
        # a host-to-device copy: captured as a copy from (a snapshot of) the host data
        _run(_np.copyto, (self._a, arr.copy()), {"casting": "unsafe"}, wrap=False)

    @property
    def device(self):
        return cuda.Device(self._dev)

    @property
    def shape(self):
        return self._a.shape

    @shape.setter
    def shape(self, s):
        self._a.shape = s

    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    strides = property(lambda self: self._a.strides)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    flags = property(lambda self: _Flags(self._a))
    data = property(lambda self: _MemoryPointer(self._a))
    T = property(lambda self: _wrap(self._a.T, self._dev))
    mT = property(lambda self: _wrap(_np.swapaxes(self._a, -1, -2), self._dev))
    real = property(lambda self: _wrap(self._a.real, self._dev))
    imag = property(lambda self: _wrap(self._a.imag, self._dev))

    @property
    def base(self):
        return None if self._a.base is None else _wrap(self._a.base, self._dev)

    def __dlpack__(self, *args, **kwargs):
        return self._a.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return (2, self._dev)  # kDLCUDA

    def item(self):
        _sync("ndarray.item")
        return self._a.item()

    def tolist(self):
        _sync("ndarray.tolist")
        return self._a.tolist()

    def __repr__(self):
        return repr(self._a).replace("array(", "cupy_standin.array(", 1)

    def __str__(self):
        return str(self._a)

    def __format__(self, spec):
        return format(self._a.item() if self._a.ndim == 0 else self._a, spec)

    # --- Python protocols CuPy has (syncing ones included); no __index__
    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._a)))

    def __bool__(self):
        _sync("ndarray.__bool__")
        return bool(self._a)

    def __int__(self):
        _sync("ndarray.__int__")
        return int(self._a)

    def __float__(self):
        _sync("ndarray.__float__")
        return float(self._a)

    def __complex__(self):
        return complex(self._a)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def __getitem__(self, key):
        if _is_basic(key):  # basic indexing makes a view: no kernel, no device check
            return _wrap(self._a[key], self._dev)
        _check_device(self, "ndarray.__getitem__")
        return _run(_getitem_kernel, (self._a, _index_key(key, "ndarray.__getitem__")), {}, self._dev)

    def __setitem__(self, key, value):
        where = "ndarray.__setitem__"
        _check_device(self, where)
        if isinstance(value, (_np.ndarray, list, tuple)):
            raise _unsupported(value, where)
        v = value._a if isinstance(value, ndarray) else value
        if isinstance(value, ndarray):
            _check_device(value, where)
        _run(_setitem_kernel, (self._a, _index_key(key, where), v), {}, wrap=False)


# methods that only make a view (no kernel launch), so CuPy runs them on any current device
_NO_KERNEL = {"reshape", "view", "transpose", "swapaxes", "squeeze", "diagonal", "item", "tolist", "get"}


def _is_basic(key):
    keys = key if isinstance(key, tuple) else (key,)
    return all(k is None or k is Ellipsis or isinstance(k, (int, slice)) for k in keys)


def _rebuild(a, dev):
    return ndarray._from(a, dev if dev < _State.n_devices else 0)


def _binop(np_ufunc, reflected=False):
    def op(self, other):
        where = np_ufunc.__name__
        _check_device(self, where)
        o = _operand(other, where)
        return _run(np_ufunc, (o, self._a) if reflected else (self._a, o), {}, self._dev)
    return op


def _iop(np_ufunc):
    def op(self, other):
        where = np_ufunc.__name__
        _check_device(self, where)
        o = _operand(other, where)
        _run(np_ufunc, (self._a, o), {"out": self._a, "casting": "unsafe"}, wrap=False)
        return self
    return op


def _unop(np_ufunc):
    def op(self):
        _check_device(self, np_ufunc.__name__)
        return _run(np_ufunc, (self._a,), {}, self._dev)
    return op


for _name, _uf in {"add": _np.add, "sub": _np.subtract, "mul": _np.multiply, "truediv": _np.true_divide,
                   "floordiv": _np.floor_divide, "mod": _np.remainder, "pow": _np.power,
                   "matmul": _np.matmul, "and": _np.bitwise_and, "or": _np.bitwise_or,
                   "xor": _np.bitwise_xor, "lshift": _np.left_shift, "rshift": _np.right_shift,
                   "divmod": _np.divmod}.items():
    setattr(ndarray, f"__{_name}__", _binop(_uf))
    setattr(ndarray, f"__r{_name}__", _binop(_uf, reflected=True))
    if _name != "divmod":
        setattr(ndarray, f"__i{_name}__", _iop(_uf))
for _name, _uf in {"lt": _np.less, "le": _np.less_equal, "eq": _np.equal, "ne": _np.not_equal,
                   "gt": _np.greater, "ge": _np.greater_equal}.items():
    setattr(ndarray, f"__{_name}__", _binop(_uf))
for _name, _uf in {"neg": _np.negative, "pos": _np.positive, "abs": _np.absolute, "invert": _np.invert}.items():
    setattr(ndarray, f"__{_name}__", _unop(_uf))


# ---------------------------------------------------------------- module-level functions
def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, blocking=False):
    """Host data (or a device array, from any device) copied to the current device."""
    # from the device: a copy kernel; from the host: a captured copy from (a snapshot of) the host data
    src = obj._a if isinstance(obj, ndarray) else _np.array(obj)
    return _run(_np.array, (src,), {"dtype": dtype, "copy": True, "order": order, "ndmin": ndmin})


def asarray(a, dtype=None, order=None, blocking=False):
    if isinstance(a, ndarray) and a._dev == _State.current and (dtype is None or _np.dtype(dtype) == a.dtype):
        return a
    return array(a, dtype=dtype, order=order or "K")


def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    if isinstance(a, ndarray):
        return a.get(order=order, out=out)
    return _np.asarray(a, order=order)


def copyto(dst, src, casting="same_kind", where=None):
    if isinstance(src, (_np.ndarray, list, tuple)):
        raise _unsupported(src, "copyto")
    _call(_np.copyto, "copyto", (dst, src), {"casting": casting, "where": True if where is None else where})


def get_array_module(*args):
    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in args) else _np


def from_dlpack(x):
    if isinstance(x, ndarray):
        return x
    return _wrap(_np.array(_np.from_dlpack(x)))


def _function(np_fn, name):
    def fn(*args, **kwargs):
        return _call(np_fn, name, args, kwargs)
    fn.__name__ = name
    return fn


def take_along_axis(a, indices, axis):
    where = "take_along_axis"
    arr, idx = _operand(a, where), _operand(indices, where)

    def kernel(arr, idx):
        return _np.take_along_axis(arr, _np.mod(idx, arr.shape[axis]) if arr.shape[axis] else idx, axis)
    return _run(kernel, (arr, idx), {})


def take(a, indices, axis=None, out=None):
    where = "take"
    arr, idx = _operand(a, where), _unwrap(indices, where)
    n = arr.size if axis is None else arr.shape[axis]
    return _run(_np.take, (arr, idx), {"axis": axis, "out": _unwrap(out, where), "mode": "wrap" if n else "raise"})


_OVERRIDES = {"take_along_axis": take_along_axis, "take": take, "array": array, "asarray": asarray, "asanyarray": asarray, "asnumpy": asnumpy, "copyto": copyto,
              "get_array_module": get_array_module, "from_dlpack": from_dlpack, "ndarray": ndarray,
              "ufunc": ufunc}
_cache: dict = {}


def _lookup(name: str, names: list, np_ns, where: str):
    if name not in names:
        raise AttributeError(f"module '{where}' has no attribute '{name}' (not exported by CuPy {__version__})")
    if name in _OVERRIDES and where == "cupy":
        return _OVERRIDES[name]
    key = (where, name)
    if key in _cache:
        return _cache[key]
    if not hasattr(np_ns, name):
        raise AttributeError(f"cupy stand-in: {where}.{name} exists in CuPy but is not emulated")
    obj = getattr(np_ns, name)
    if isinstance(obj, _np.ufunc):
        obj = ufunc(obj)
    elif callable(obj) and not isinstance(obj, type):
        obj = _function(obj, name)
    _cache[key] = obj
    return obj


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return _lookup(name, NAMES["cupy"], _np, "cupy")


# ---------------------------------------------------------------- linalg: cuSOLVER's silent failures
class _LinalgModule(types.ModuleType):
    def __getattr__(self, name):
        return _lookup(name, NAMES["linalg"], _np.linalg, "cupy.linalg")


linalg = _LinalgModule("cupy.linalg")


def _nan_on_failure(np_fn, name, result_shape):
    def fn(*args, **kwargs):
        try:
            return _call(np_fn, f"linalg.{name}", args, kwargs)
        except _np.linalg.LinAlgError as e:
            if _State.linalg_mode == "raise":
                raise _np.linalg.LinAlgError(f"Error reported by {name} in cuSOLVER. devInfo = 1. ({e})") from e
            shape, dtype = result_shape(*args)
            return _wrap(_np.full(shape, _np.nan, dtype=dtype))
    return fn


def _res_dtype(a):
    return _np.result_type(a.dtype, _np.float32)


linalg.inv = _nan_on_failure(_np.linalg.inv, "inv", lambda a: (a.shape, _res_dtype(a)))
linalg.cholesky = _nan_on_failure(_np.linalg.cholesky, "potrf", lambda a, *r: (a.shape, _res_dtype(a)))
linalg.solve = _nan_on_failure(
    _np.linalg.solve, "getrf",
    lambda a, b: (_np.broadcast_shapes(a.shape[:-2], b.shape[:-2] if b.ndim == a.ndim else ()) +
                  (b.shape[-2:] if b.ndim == a.ndim else b.shape[-1:]), _np.result_type(a.dtype, b.dtype)))


class _SimpleModule(types.ModuleType):
    def __init__(self, name, names, np_ns):
        super().__init__(name)
        self._names, self._np_ns = names, np_ns

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return _lookup(name, self._names, self._np_ns, self.__name__)


fft = _SimpleModule("cupy.fft", NAMES["fft"], _np.fft)


class _StrideTricks(types.ModuleType):
    def as_strided(self, x, shape=None, strides=None):
        _check_device(x, "as_strided")
        return _wrap(_np.lib.stride_tricks.as_strided(x._a, shape, strides), x._dev)


lib = types.ModuleType("cupy.lib")
lib.stride_tricks = _StrideTricks("cupy.lib.stride_tricks")


# ---------------------------------------------------------------- random: CuPy's RandomState, nothing more
class _RandomState:
    """``cupy.random.RandomState``: its own method names (``randint``, ``random_sample``...), a ``dtype``
    argument, NumPy's ``Generator`` API (``integers``, ``random``) refused."""

    def __init__(self, seed=None, method=None):
        self._rs = _np.random.RandomState(None if seed is None else int(seed) % (2**32))

    def __getattr__(self, name):
        if name.startswith("_") or name not in NAMES["random_RandomState"]:
            raise AttributeError(f"'cupy.random.RandomState' object has no attribute '{name}' (cupy stand-in)")
        meth = getattr(self._rs, name)

        def method(*args, dtype=None, **kwargs):
            if name == "randint" and dtype is not None:  # NumPy's randint takes the dtype itself
                kwargs["dtype"], dtype = dtype, None
            out = _call(meth, f"RandomState.{name}", args, kwargs)
            if not isinstance(out, ndarray):
                out = _wrap(_np.asarray(out))
            return out if dtype is None else _wrap(out._a.astype(dtype, copy=False))
        return method


class _RandomModule(types.ModuleType):
    RandomState = _RandomState

    def __getattr__(self, name):
        if name.startswith("_") or name not in NAMES["random"]:
            raise AttributeError(f"module 'cupy.random' has no attribute '{name}' (cupy stand-in)")
        raise AttributeError(f"cupy stand-in: cupy.random.{name} is not emulated")


random = _RandomModule("cupy.random")


# ---------------------------------------------------------------- cuda: fake devices, runtime, pool stubs
class _Device:
    def __init__(self, device=None):
        self.id = _State.current if device is None else int(device)
        if not 0 <= self.id < _State.n_devices:
            raise RuntimeError(f"cudaErrorInvalidDevice: invalid device ordinal {self.id} (cupy stand-in)")
        self._prev = []

    compute_capability = property(lambda self: "90")

    def __enter__(self):
        self._prev.append(_State.current)
        _State.current = self.id
        return self

    def __exit__(self, *exc):
        _State.current = self._prev.pop()

    def use(self):
        _State.current = self.id

    def synchronize(self):
        _device_sync("Device.synchronize")

    def __eq__(self, other):
        return isinstance(other, _Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class _Runtime(types.ModuleType):
    def getDeviceCount(self):
        return _State.n_devices

    def getDevice(self):
        return _State.current

    def setDevice(self, i):
        _Device(i).use()

    def deviceSynchronize(self):
        _device_sync("cudaDeviceSynchronize")

    streamCaptureModeGlobal = 0
    streamCaptureModeThreadLocal = 1
    streamCaptureModeRelaxed = 2
    streamCaptureStatusNone = 0
    streamCaptureStatusActive = 1
    streamCaptureStatusInvalidated = 2

    def streamIsCapturing(self, ptr):
        for st, cap in _State.captures.items():
            if st.ptr == ptr:
                return self.streamCaptureStatusInvalidated if cap.invalid else self.streamCaptureStatusActive
        return self.streamCaptureStatusNone

    def memGetInfo(self):
        return (1 << 34, 1 << 34)

    def getDeviceProperties(self, i):
        _Device(i)
        return {"name": b"cupy stand-in (NumPy)", "totalGlobalMem": 1 << 34, "major": 9, "minor": 0,
                "multiProcessorCount": 1}

    def runtimeGetVersion(self):
        return 13000

    def driverGetVersion(self):
        return 13000


class OutOfMemoryError(MemoryError):
    pass


class CUDARuntimeError(RuntimeError):
    """``cupy_backends.cuda.api.runtime.CUDARuntimeError``: a CUDA runtime call failed with ``status``."""

    def __init__(self, status):
        self.status = status
        name, text = _CUDA_ERRORS[status]
        super().__init__(f"{name}: {text}")

    def __reduce__(self):
        return (type(self), (self.status,))


# the cudaError_t values and texts (cudaGetErrorName/String) of the errors stream capture produces
_CUDA_ERRORS = {
    401: ("cudaErrorIllegalState", "the operation cannot be performed in the present state"),
    900: ("cudaErrorStreamCaptureUnsupported", "operation not permitted when stream is capturing"),
    901: ("cudaErrorStreamCaptureInvalidated", "operation failed due to a previous error during capture"),
    906: ("cudaErrorStreamCaptureImplicit",
          "operation would make the legacy stream depend on a capturing blocking stream"),
}


# ---------------------------------------------------------------- the memory pool
# Like CuPy's SingleDeviceMemoryPool: sizes rounded up to 512 bytes, freed blocks cached in the arena of the
# stream they were allocated on and handed out again to allocations on that stream; a miss is a real
# cudaMalloc (``Memory``). Not modelled: splitting a larger block and merging neighbours (a request is
# served whole from a cached block at least as large), the limit, several devices.
class Memory:
    """``cupy.cuda.Memory``: ``size`` bytes from cudaMalloc (refused during a non-relaxed capture)."""

    _next_ptr = 0x7F0000000000

    def __init__(self, size):
        self.size = int(size)
        self.device_id = _State.current
        self.ptr = 0
        if self.size > 0:
            _malloc_check()
            self.ptr = Memory._next_ptr
            Memory._next_ptr += (self.size + 511) // 512 * 512


class MemoryPointer:
    """``cupy.cuda.MemoryPointer``: ``mem`` plus an offset; a pool's block returns to it when this dies."""

    def __init__(self, mem, offset):
        self.mem, self.ptr, self.device_id = mem, mem.ptr + offset, mem.device_id
        self._pool = None  # (pool, stream key) for pooled blocks

    def __del__(self):
        if self._pool is not None:
            pool, key = self._pool
            self._pool = None
            pool._release(self.mem, key)


class MemoryPool:
    """``cupy.cuda.MemoryPool(allocator=None)``: see the note above."""

    def __init__(self, allocator=None):
        self._raw = allocator  # None: cudaMalloc (``Memory``)
        self._arenas: dict = {}  # stream key -> ({rounded size: [Memory, ...]}, sorted sizes with blocks)
        self._used = 0
        self._cached = 0

    def malloc(self, size):
        size = (int(size) + 511) // 512 * 512
        if size == 0:
            return MemoryPointer(Memory(0), 0)
        key = get_current_stream().ptr
        blocks, sizes = self._arenas.setdefault(key, ({}, []))
        i = bisect.bisect_left(sizes, size)
        if i < len(sizes):  # the smallest cached block that fits
            n = sizes[i]
            mem = blocks[n].pop()
            if not blocks[n]:
                del blocks[n], sizes[i]
            self._cached -= mem.size
        else:
            mem = Memory(size) if self._raw is None else self._raw(size).mem
        self._used += mem.size
        ptr = MemoryPointer(mem, 0)
        ptr._pool = (self, key)
        return ptr

    def _release(self, mem, key):
        self._used -= mem.size
        self._cached += mem.size
        blocks, sizes = self._arenas.setdefault(key, ({}, []))
        if mem.size not in blocks:
            blocks[mem.size] = []
            bisect.insort(sizes, mem.size)
        blocks[mem.size].append(mem)

    def used_bytes(self):
        return self._used

    def free_bytes(self):
        return self._cached

    def total_bytes(self):
        return self._used + self._cached

    def n_free_blocks(self):
        return sum(len(b) for blocks, _ in self._arenas.values() for b in blocks.values())

    def free_all_blocks(self, stream=None):
        keys = list(self._arenas) if stream is None else [stream.ptr]
        for key in keys:
            for mems in self._arenas.pop(key, ({}, []))[0].values():
                self._cached -= sum(m.size for m in mems)

    def get_limit(self):
        return 0

    def set_limit(self, size=None, fraction=None):
        pass


class _PinnedPool:
    def used_bytes(self):
        return 0

    def total_bytes(self):
        return 0

    def free_all_blocks(self):
        pass


_pool = MemoryPool()
_pinned_pool = _PinnedPool()


def get_default_memory_pool():
    return _pool


def get_default_pinned_memory_pool():
    return _pinned_pool


def _set_allocator(allocator=None):
    _State.allocator = allocator


def _get_allocator():
    return _pool.malloc if _State.allocator is None else _State.allocator


def _root(a):
    while isinstance(a.base, _np.ndarray):
        a = a.base
    return a


def _allocate(a):
    """Give a new NumPy buffer (not a view of a device buffer) its memory from the current allocator."""
    root = _root(a)
    key = id(root)
    if key in _State.live or root.nbytes == 0:
        return
    _State.live[key] = _get_allocator()(root.nbytes)
    _live_roots[key] = root
    weakref.finalize(root, _State.live.pop, key, None)
    if _State.captures:
        cap = _State.captures.get(get_current_stream())
        if cap is not None:
            cap.born.append(root)


# ---------------------------------------------------------------- streams and stream capture
# CUDA's rules, as far as the stand-in can see them: a capturing stream records the work launched on it
# instead of running it; launching on the legacy (null) stream while a blocking stream captures, a
# synchronous device-to-host copy or a stream/device synchronize during a capture, and a cudaMalloc during
# a capture that is not in relaxed mode fail and invalidate the capture (end_capture then raises
# cudaErrorStreamCaptureInvalidated). To keep shapes, dtypes and errors right, the stand-in does run the
# work while capturing, then undoes it at end_capture: buffers that existed are restored, buffers made
# during the capture are filled with garbage (NaN for floats), as on a GPU where none of it has run yet.
class _Capture:
    def __init__(self, stream, mode):
        self.stream, self.mode = stream, mode
        self.thunks: list = []
        self.born: list = []
        self.invalid = None
        # what end_capture restores: every live device buffer as it was (weakly: one that dies meanwhile
        # gives its block back to the pool as it would on a GPU)
        self.saved = [(weakref.ref(root), root.copy()) for root in list(_live_roots.values())]


_live_roots: "weakref.WeakValueDictionary" = weakref.WeakValueDictionary()  # id -> live device buffer


def _invalidate(status, captures=None):
    for cap in (_State.captures.values() if captures is None else captures):
        cap.invalid = cap.invalid or status
    return CUDARuntimeError(status)


def _launch_capture():
    """The capture recording a launch on the current stream (None: run eagerly); the legacy stream may
    not depend on a capturing blocking stream."""
    s = get_current_stream()
    cap = _State.captures.get(s)
    if cap is not None:
        return cap
    if s.ptr == 0:
        blocking = [c for c in _State.captures.values() if not c.stream.non_blocking]
        if blocking:
            raise _invalidate(906, blocking)
    return None


def _sync(where):
    """A synchronous device-to-host read: not permitted while any capture is underway."""
    _State.syncs += 1
    if _State.captures:
        raise _invalidate(900)


def _device_sync(where):
    if _State.captures:
        raise _invalidate(900)


def _malloc_check():
    """cudaMalloc is an "unsafe" call: only a relaxed-mode capture lets it through (CuPy's reason for
    making relaxed its default mode)."""
    strict = [c for c in _State.captures.values() if c.mode != _runtime_module.streamCaptureModeRelaxed]
    if strict:
        raise _invalidate(900, strict)


class _Stream:
    """``cupy.cuda.Stream``: ``with s:`` makes it current; ``begin_capture``/``end_capture`` make a graph."""

    null = None
    _next_ptr = 0x5000

    def __init__(self, null=False, non_blocking=False, ptds=False, priority=0):
        self.non_blocking = bool(non_blocking)
        if null:
            self.ptr, self.device_id = 0, -1
        else:
            self.ptr, self.device_id = _Stream._next_ptr, _State.current
            _Stream._next_ptr += 0x10

    def __enter__(self):
        _State.stream_stack.append(self)
        return self

    def __exit__(self, *exc):
        _State.stream_stack.pop()

    def use(self):
        if _State.stream_stack:
            _State.stream_stack[-1] = self
        else:
            _State.stream_stack.append(self)
        return self

    @property
    def done(self):
        return True

    def synchronize(self):
        if self in _State.captures or (self.ptr == 0 and _State.captures):
            raise _invalidate(900)

    def begin_capture(self, mode=None):
        if self.ptr in (0, 1):
            raise RuntimeError("cannot capture on the default (legacy) stream")
        if self in _State.captures:
            raise CUDARuntimeError(401)
        _State.captures[self] = _Capture(self, _runtime_module.streamCaptureModeRelaxed if mode is None else mode)

    def end_capture(self):
        cap = _State.captures.pop(self, None)
        if cap is None:
            raise CUDARuntimeError(401)
        for ref, saved in cap.saved:  # none of the captured work has run yet
            root = ref()
            if root is not None:
                root[...] = saved
        for root in cap.born:
            if root.dtype.kind in "fc":
                root.fill(_np.nan)
            else:
                root.reshape(-1).view(_np.uint8).fill(0xA5)
        if cap.invalid:
            raise CUDARuntimeError(901)
        graph = Graph.__new__(Graph)
        graph._thunks = cap.thunks
        return graph

    def is_capturing(self):
        return _runtime_module.streamIsCapturing(self.ptr)

    def record(self, event=None):
        event = Event() if event is None else event
        event.record(self)
        return event

    def wait_event(self, event):
        pass  # the stand-in runs every launch at once: there is nothing to wait for

    def __eq__(self, other):
        return isinstance(other, _Stream) and other.ptr == self.ptr

    def __hash__(self):
        return hash(self.ptr)

    def __repr__(self):
        return f"<Stream {self.ptr:#x} (device {self.device_id})>"


_Stream.null = _Stream(null=True)


class Event:
    """``cupy.cuda.Event``: recording is allowed during a capture; synchronizing on one is a host sync."""

    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.ptr = id(self)

    def record(self, stream=None):
        pass

    @property
    def done(self):
        return True

    def synchronize(self):
        _device_sync("cudaEventSynchronize")


def get_current_stream():
    return _State.stream_stack[-1] if _State.stream_stack else _Stream.null


class Graph:
    """``cupy.cuda.graph.Graph``: made by ``Stream.end_capture``; ``launch`` re-runs the captured work."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("currently this class cannot be initiated by the user and must be created "
                                  "via stream capture")

    def launch(self, stream=None):
        s = get_current_stream() if stream is None else stream
        with s:
            if _State.captures:  # a graph launched into a capture becomes one node of the new graph
                cap = _launch_capture()
                if cap is not None:
                    cap.thunks.append((self._replay, (), {}, None))
                    return
            self._replay()

    def _replay(self):
        for fn, a, k, out in self._thunks:
            with _np.errstate(all="ignore"):
                r = fn(*a, **k)
            if out is not None:
                _copy_into(out, r)

    def upload(self, stream=None):
        pass


def _copy_into(out, r):
    if isinstance(out, ndarray):
        if out._a is not r:
            _np.copyto(out._a, r, casting="unsafe")
    elif isinstance(out, (tuple, list)):
        for o, x in zip(out, r):
            _copy_into(o, x)


_runtime_module = _Runtime("cupy.cuda.runtime")
_runtime_module.CUDARuntimeError = CUDARuntimeError
cuda = types.ModuleType("cupy.cuda")
cuda.Device = _Device
cuda.runtime = _runtime_module
cuda.memory = types.SimpleNamespace(OutOfMemoryError=OutOfMemoryError, MemoryPool=MemoryPool,
                                    MemoryPointer=MemoryPointer, Memory=Memory)
cuda.Memory, cuda.MemoryPointer, cuda.MemoryPool = Memory, MemoryPointer, MemoryPool
cuda.set_allocator = _set_allocator
cuda.get_allocator = _get_allocator
cuda.Stream = _Stream
cuda.get_current_stream = get_current_stream
cuda.Event = Event
cuda.Graph = Graph
cuda.graph = types.ModuleType("cupy.cuda.graph")
cuda.graph.Graph = Graph
cuda.is_available = lambda: _State.n_devices > 0


# ---------------------------------------------------------------- cupyx
@contextlib.contextmanager
def _errstate(linalg=None):
    prev = _State.linalg_mode
    if linalg is not None:
        _State.linalg_mode = linalg
    try:
        yield
    finally:
        _State.linalg_mode = prev


def _seterr(linalg=None):
    prev = {"linalg": _State.linalg_mode}
    if linalg is not None:
        _State.linalg_mode = linalg
    return prev


class _Special(types.ModuleType):
    def __getattr__(self, name):
        import scipy.special

        return _lookup(name, NAMES["cupyx_scipy_special"], scipy.special, "cupyx.scipy.special")


cupyx = types.ModuleType("cupyx")
cupyx.scatter_add = lambda a, slices, value: _scatter("add", a, slices, value, "cupyx.scatter_add")
cupyx.scatter_max = lambda a, slices, value: _scatter("max", a, slices, value, "cupyx.scatter_max")
cupyx.scatter_min = lambda a, slices, value: _scatter("min", a, slices, value, "cupyx.scatter_min")
cupyx.errstate = _errstate
cupyx.seterr = _seterr
cupyx.geterr = lambda: {"linalg": _State.linalg_mode}
cupyx.scipy = types.ModuleType("cupyx.scipy")
cupyx.scipy.special = _Special("cupyx.scipy.special")


class _SparseMatrix:
    """``cupyx.scipy.sparse`` coo/csr matrices: device data and indices in, device arrays out of ``@``."""

    def __init__(self, m):
        self._m = m

    def tocsr(self):
        return _SparseMatrix(self._m.tocsr())

    def tocoo(self):
        return _SparseMatrix(self._m.tocoo())

    shape = property(lambda self: self._m.shape)

    def __matmul__(self, other):
        return _run(operator.matmul, (self._m, _operand(other, "sparse @")), {})

    def toarray(self):
        return _wrap(self._m.toarray())


class _Sparse(types.ModuleType):
    def coo_matrix(self, arg, shape=None, dtype=None):
        import scipy.sparse

        data, (row, col) = arg
        where = "cupyx.scipy.sparse.coo_matrix"
        return _SparseMatrix(scipy.sparse.coo_matrix(
            (_operand(data, where), (_operand(row, where), _operand(col, where))), shape=shape, dtype=dtype))


cupyx.scipy.sparse = _Sparse("cupyx.scipy.sparse")
