"""Tensor creation: ``tensor``, ``zeros``, ``arange``, ``randn`` ... with ``dtype``/``device``/``requires_grad``."""
from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from . import _arrays
from . import _dtype as dtypes
from .random import _gen
from .tensor import Tensor

__all__ = [
    "tensor", "as_tensor", "asarray", "from_numpy", "from_dlpack", "zeros", "ones", "full", "empty",
    "arange", "linspace", "logspace", "eye", "rand", "randn", "randint", "randperm", "zeros_like",
    "ones_like", "full_like", "empty_like", "rand_like", "randn_like", "randint_like", "scalar_tensor",
    "normal", "bernoulli", "multinomial", "tril_indices", "triu_indices",
]


def _finish(arr, device, requires_grad, op):
    if device is not None:
        arr = _arrays.to_device(arr, device)
    t = Tensor._make(arr)
    if requires_grad:
        if arr.dtype.kind not in "fV":
            raise RuntimeError(
                f"{op}: only Tensors of floating point dtype can require gradients (got {dtypes.from_numpy_dtype(arr.dtype)})"
            )
        t._requires_grad = True
    return t


def _to_host_array(data, op, dtype=None):
    """``data`` as a host array; Python floats go straight to ``dtype`` when given (float64 data must not pass
    through the float32 default on the way)."""
    if isinstance(data, Tensor):
        return _arrays.as_numpy(data._data), True
    if isinstance(data, np.ndarray):
        return data, True
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flatten(data)):
        data = _tensors_to_lists(data)
    try:
        arr = np.asarray(data)
    except ValueError as e:
        _diagnose_nested(data, op)
        raise ValueError(f"{op}: could not build a tensor from ragged or mixed data: {e}") from None
    if arr.dtype == object or arr.dtype.kind in "USO":
        _diagnose_nested(data, op)
        raise TypeError(f"{op}: could not infer dtype of {type(data).__name__} (got objects of mixed types)")
    if arr.dtype.kind == "f":
        want = dtypes.to_dtype(dtype) if dtype is not None else None
        arr = arr.astype(want.np if want is not None and want.is_floating_point else dtypes.get_default_dtype().np)
    elif arr.dtype.kind in "iu":
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "b":
        raise TypeError(f"{op}: unsupported data of NumPy dtype {arr.dtype}")
    return arr, False


_SCALARS = (builtins.bool, builtins.int, builtins.float, builtins.complex, np.generic)


def _diagnose_nested(data, op, dim=0):
    """Raise torch's error for the first element of ``data`` that is not a number or a sequence of equal length."""
    if isinstance(data, _SCALARS) or isinstance(data, (Tensor, np.ndarray)):
        return
    if isinstance(data, str):
        raise TypeError(f"{op}: new(): invalid data type 'str' (got {data!r}); tensors hold numbers, not strings")
    if not isinstance(data, (list, tuple)):
        raise RuntimeError(f"{op}: Could not infer dtype of {type(data).__name__}")
    lengths = unset = object()
    for item in data:
        if isinstance(item, str):
            raise TypeError(f"{op}: new(): invalid data type 'str' (got {item!r} at dim {dim + 1})")
        if isinstance(item, (list, tuple)):
            n = len(item)
        elif isinstance(item, _SCALARS):
            n = None
        elif isinstance(item, (Tensor, np.ndarray)):
            continue
        else:
            raise RuntimeError(f"{op}: Could not infer dtype of {type(item).__name__}")
        if lengths is unset:
            lengths = n
        elif (n is None) != (lengths is None):
            raise TypeError(f"{op}: mixed numbers and sequences at dim {dim + 1}: expected all "
                            f"{'numbers' if lengths is None else 'sequences'}, got {type(item).__name__}")
        elif n != lengths:
            raise ValueError(f"{op}: expected sequence of length {lengths} at dim {dim + 1} (got {n})")
    for item in data:
        _diagnose_nested(item, op, dim + 1)


def _flatten(x):
    if isinstance(x, (list, tuple)):
        for i in x:
            yield from _flatten(i)
    else:
        yield x


def _tensors_to_lists(x):
    if isinstance(x, (list, tuple)):
        return [_tensors_to_lists(i) for i in x]
    if isinstance(x, Tensor):
        return x.tolist()
    return x


@_arrays.on_device
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor (always a copy) from a number, nested list, NumPy array or tensor.

    >>> tensor([[1., 2.], [3., 4.]], requires_grad=True)
    """
    if isinstance(data, Tensor) and _arrays.is_cupy_array(data._data):
        arr = data._data.copy()
    elif _arrays.is_cupy_array(data):  # a raw device array: copied on its device, never through the host
        arr = data.copy()
    else:
        arr, _ = _to_host_array(data, "tensor", dtype)
        arr = np.array(arr, copy=True)
    if dtype is not None:
        arr = arr.astype(dtypes.to_dtype(dtype).np)
    return _finish(arr, device, requires_grad, "tensor")


@_arrays.on_device
def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a NumPy array or tensor when no conversion is needed."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    if _arrays.is_cupy_array(data):
        arr = data
    else:
        arr, _ = _to_host_array(data, "as_tensor", dtype)
    if dtype is not None:
        arr = arr.astype(dtypes.to_dtype(dtype).np, copy=False)
    return _finish(arr, device, False, "as_tensor")


asarray = as_tensor


def from_numpy(ndarray):
    """A tensor sharing memory with ``ndarray``."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(ndarray).__name__})")
    dtypes.from_numpy_dtype(ndarray.dtype)  # raises a clear error for unsupported dtypes
    return Tensor._make(ndarray)


def from_dlpack(ext):
    """A tensor sharing memory with any DLPack producer (NumPy, CuPy, PyTorch ...)."""
    dev = ext.__dlpack_device__() if hasattr(ext, "__dlpack_device__") else (1, 0)
    if dev[0] in (2, 13):  # kDLCUDA, kDLCUDAManaged
        arr = _arrays.cupy_module().from_dlpack(ext)
    else:
        arr = np.from_dlpack(ext)
    return Tensor._make(arr)


def _shape(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    shape = []
    for pos, s in enumerate(size):
        try:
            shape.append(operator.index(s))
        except TypeError:
            raise TypeError(f"{op}(): argument 'size' must be a tuple of ints, but found element of type "
                            f"{type(s).__name__} at pos {pos} (got size {size!r})") from None
    shape = tuple(shape)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"{op}: Trying to create tensor with negative dimension: {shape}")
    return shape


def _dt(dtype, default=None):
    if dtype is None:
        return default or dtypes.get_default_dtype()
    return dtypes.to_dtype(dtype)


def _xp(device):
    return _arrays.module_for_device(device)


def _on(device):
    return None if device is None else _arrays.parse_device(device)


@_arrays.on_device
def zeros(*size, dtype=None, device=None, requires_grad=False, out=None):
    shape = _shape(size, "zeros")
    return _finish(_xp(device).zeros(shape, dtype=_dt(dtype).np), _on(device), requires_grad, "zeros")


@_arrays.on_device
def ones(*size, dtype=None, device=None, requires_grad=False, out=None):
    shape = _shape(size, "ones")
    return _finish(_xp(device).ones(shape, dtype=_dt(dtype).np), _on(device), requires_grad, "ones")


@_arrays.on_device
def empty(*size, dtype=None, device=None, requires_grad=False, memory_format=None, out=None, pin_memory=False):
    shape = _shape(size, "empty")
    return _finish(_xp(device).empty(shape, dtype=_dt(dtype).np), _on(device), requires_grad, "empty")


@_arrays.on_device
def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None):
    shape = _shape((size,) if not isinstance(size, (tuple, list)) else (tuple(size),), "full")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if not isinstance(fill_value, _SCALARS):
        raise TypeError(f"full(): argument 'fill_value' must be a number, not {type(fill_value).__name__}")
    dt = _dt(dtype, dtypes.result_type(fill_value))
    return _finish(_xp(device).full(shape, fill_value, dtype=dt.np), _on(device), requires_grad, "full")


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return full((), s, dtype=dtype or dtypes.get_default_dtype(), device=device, requires_grad=requires_grad)


@_arrays.on_device
def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, out=None):
    """``[start, end)`` in steps of ``step``; int64 for integer arguments, else the default float."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    for name, v in zip(("start", "end", "step"), vals):
        if not isinstance(v, _SCALARS) or isinstance(v, builtins.complex):
            raise TypeError(f"arange(): argument '{name}' must be a real number, not {type(v).__name__}")
    if not builtins.all(math.isfinite(v) for v in vals):
        raise RuntimeError(f"arange: unsupported range: {vals[0]} -> {vals[1]} (step {vals[2]})")
    if vals[2] == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (vals[1] - vals[0]) / vals[2] < 0:
        raise RuntimeError(f"arange: upper bound and larger bound inconsistent with step sign (start={vals[0]}, end={vals[1]}, step={vals[2]})")
    if dtype is None:
        dt = dtypes.int64 if all(isinstance(v, (builtins.int, np.integer)) for v in vals) else dtypes.get_default_dtype()
    else:
        dt = dtypes.to_dtype(dtype)
    n = max(0, math.ceil((vals[1] - vals[0]) / vals[2]))
    xp = _xp(device)
    arr = (xp.arange(n, dtype=np.float64) * vals[2] + vals[0]).astype(dt.np) if dt.is_floating_point else \
        xp.arange(vals[0], vals[1], vals[2]).astype(dt.np)
    return _finish(arr, _on(device), requires_grad, "arange")


def _int_arg(value, name, op):
    """``value`` as an int, or torch's TypeError naming the argument (floats are refused, not truncated)."""
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}") from None


def _steps(steps, op):
    steps = _int_arg(steps, "steps", op)
    if steps < 0:
        raise RuntimeError(f"{op}: number of steps must be non-negative, got {steps}")
    return steps


@_arrays.on_device
def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, out=None):
    steps = _steps(steps, "linspace")
    arr = _xp(device).linspace(float(start), float(end), int(steps)).astype(_dt(dtype).np)
    return _finish(arr, _on(device), requires_grad, "linspace")


@_arrays.on_device
def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    steps = _steps(steps, "logspace")
    arr = _xp(device).logspace(float(start), float(end), int(steps), base=base).astype(_dt(dtype).np)
    return _finish(arr, _on(device), requires_grad, "logspace")


@_arrays.on_device
def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, out=None):
    for name, v in (("n", n), ("m", m)):
        if v is None:
            continue
        v = _int_arg(v, name, "eye")
        if v < 0:
            raise RuntimeError(f"eye: {name} must be greater or equal to 0, got {v}")
    arr = _xp(device).eye(int(n), None if m is None else int(m), dtype=_dt(dtype).np)
    return _finish(arr, _on(device), requires_grad, "eye")


def _tri_indices(op, row, col, offset, dtype, device):
    for name, v in (("row", row), ("col", col), ("offset", offset)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{op}(): argument '{name}' must be int, not {type(v).__name__}")
    if row < 0 or col < 0:
        raise RuntimeError(f"{op}: row and col must be non-negative, got row={row}, col={col}")
    fn = np.tril_indices if op == "tril_indices" else np.triu_indices
    arr = np.stack(fn(int(row), int(offset), int(col))).astype(_dt(dtype or dtypes.int64).np)
    return _finish(arr, _on(device), False, op)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """(2, N) int64 coordinates of the lower triangle of a ``row`` x ``col`` matrix (diagonal shifted by ``offset``)."""
    return _tri_indices("tril_indices", row, col, offset, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """(2, N) int64 coordinates of the upper triangle of a ``row`` x ``col`` matrix (diagonal shifted by ``offset``)."""
    return _tri_indices("triu_indices", row, col, offset, dtype, device)


def _rand_array(kind, shape, dt, device, generator, **kw):
    dev = _arrays.parse_device(device)
    g = _gen(generator).for_device(dev)
    if dev.type == "cpu":
        if kind == "rand":
            arr = g.random(shape)
        elif kind == "randn":
            arr = g.standard_normal(shape)
        else:
            arr = g.integers(kw["low"], kw["high"], size=shape)
        return arr.astype(dt.np, copy=False)
    if kind == "rand":
        arr = g.random_sample(shape)
    elif kind == "randn":
        arr = g.standard_normal(shape)
    else:
        arr = g.randint(kw["low"], kw["high"], size=shape, dtype=np.int64)
    return arr.astype(dt.np, copy=False)


@_arrays.on_device
def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    """Uniform samples on [0, 1)."""
    shape = _shape(size, "rand")
    dt = _dt(dtype)
    if not dt.is_floating_point:
        raise RuntimeError(f"rand: expected a floating point dtype, got {dt}")
    return _finish(_rand_array("rand", shape, dt, device, generator), _on(device), requires_grad, "rand")


@_arrays.on_device
def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    """Standard normal samples."""
    shape = _shape(size, "randn")
    dt = _dt(dtype)
    if not dt.is_floating_point:
        raise RuntimeError(f"randn: expected a floating point dtype, got {dt}")
    return _finish(_rand_array("randn", shape, dt, device, generator), _on(device), requires_grad, "randn")


@_arrays.on_device
def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    """Integers on [low, high); ``randint(high, size)`` and ``randint(low, high, size)`` like torch."""
    if size is None:
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint: missing required argument 'size'")
    if high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    shape = _shape((tuple(size),), "randint")
    dt = _dt(dtype, dtypes.int64)
    return _finish(_rand_array("randint", shape, dt, device, generator, low=low, high=high), _on(device),
                   requires_grad, "randint")


@_arrays.on_device
def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    """A random permutation of 0..n-1."""
    n = _int_arg(n, "n", "randperm")
    if n < 0:
        raise RuntimeError(f"randperm: Trying to create tensor with negative dimension {n}: [{n}]")
    perm = _gen(generator).numpy().permutation(int(n)).astype(_dt(dtype, dtypes.int64).np)
    return _finish(perm, _on(device), requires_grad, "randperm")


def _like(fn, t, dtype, device, requires_grad, **kw):
    _check_like(t, f"{fn.__name__}_like")
    return fn(tuple(t.shape), dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad, **kw)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _like(zeros, input, dtype, device, requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _like(ones, input, dtype, device, requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _like(empty, input, dtype, device, requires_grad)


def _check_like(input, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    _check_like(input, "full_like")
    return full(tuple(input.shape), fill_value, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None, generator=None):
    return _like(rand, input, dtype, device, requires_grad, generator=generator)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None, generator=None):
    return _like(randn, input, dtype, device, requires_grad, generator=generator)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, device=device or input.device)


@_arrays.on_device
def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    """Normal samples; ``mean``/``std`` may be tensors (broadcast) or numbers with ``size``."""
    if isinstance(std, Tensor):
        if std.numel() and bool((std < 0).any()):  # a value check: torch syncs here too
            raise RuntimeError(f"normal expects all elements of std >= 0.0 (std has min {std.min().item()})")
    elif builtins.float(std) < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        like = mean if isinstance(mean, Tensor) else std
        shape = np.broadcast_shapes(tuple(getattr(mean, "shape", ())), tuple(getattr(std, "shape", ())))
        z = randn(*shape, generator=generator, dtype=like.dtype, device=like.device)
        return z * std + mean
    shape = _shape((tuple(size),), "normal") if size is not None else ()
    z = randn(*shape, generator=generator, dtype=dtype, device=device)
    out = z * std + mean
    if requires_grad:
        out.requires_grad_(True)
    return out


def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 samples with probabilities ``input`` (or the scalar ``p``), same dtype as ``input``."""
    probs = input._data if p is None else p
    if p is None:
        if input.numel() and bool(((input < 0) | (input > 1)).any()):  # a value check, as torch's
            raise RuntimeError(f"bernoulli: expected all probabilities p in [0, 1], got min {input.min().item()} "
                               f"and max {input.max().item()}")
    elif not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli: expected 0 <= p <= 1, got p={p}")
    u = rand(*tuple(input.shape), generator=generator, dtype=dtypes.float64, device=input.device)._data
    return Tensor._make((u < probs).astype(input._data.dtype if input.is_floating_point() else np.float32))


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Sample indices from the rows of ``input`` (non-negative weights)."""
    w = _arrays.as_numpy(input._data).astype(np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {tuple(input.shape)}")
    if (w < 0).any() or not np.isfinite(w).all():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    rows = w.reshape(-1, w.shape[-1])
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError(f"multinomial: cannot sample n_sample ({num_samples}) > prob_dist.size(-1) ({rows.shape[1]}) samples without replacement")
    g = _gen(generator).numpy()
    res = []
    for r in rows:
        s = r.sum()
        if s <= 0:
            raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
        res.append(g.choice(len(r), size=num_samples, replace=replacement, p=r / s))
    arr = np.stack(res).astype(np.int64)
    if w.ndim == 1:
        arr = arr[0]
    return _finish(arr, input.device, False, "multinomial")
