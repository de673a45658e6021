"""Small helpers every op family shares: argument coercion, promotion, dims, in-place rebinding."""
from __future__ import annotations

import builtins
import functools
import numbers

import numpy as np

from .. import _arrays
from .. import _dtype as dtypes
from ..autograd import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor
from .convert import to_dtype

_DT_FROM_NP = dtypes._FROM_NP.__getitem__  # NumPy dtype -> tinytorch dtype, for the fast paths
_SCALARS = (builtins.int, builtins.float, builtins.bool, np.number, np.bool_)


_NUMPY_NAMES = {"axis": "dim", "keepdims": "keepdim"}


def numpy_names(fn):
    """Accept NumPy's ``axis=``/``keepdims=`` for ``dim=``/``keepdim=``, as torch's argument parser does."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        for np_name, name in _NUMPY_NAMES.items():
            if np_name in kwargs:
                if name in kwargs:
                    raise TypeError(f"{fn.__name__}() got both '{name}' and its alias '{np_name}'")
                kwargs[name] = kwargs.pop(np_name)
        return fn(*args, **kwargs)

    return wrapper


def is_scalar(x) -> bool:
    return isinstance(x, _SCALARS) or (isinstance(x, numbers.Number) and not isinstance(x, complex))


def ensure_tensor(x, op: str, like: Tensor | None = None) -> Tensor:
    """A Tensor for ``x``; Python scalars become 0-d tensors on ``like``'s device."""
    if isinstance(x, Tensor):
        return x
    if is_scalar(x):
        dt = dtypes.result_type(x)
        if like is None:
            return Tensor._make(np.asarray(x, dtype=dt.np))
        return Tensor._make(_arrays.scalar_like(like._data, x, dt.np))
    if isinstance(x, (list, tuple, np.ndarray)):
        arr = np.asarray(x)
        if arr.dtype.kind == "f":
            arr = arr.astype(dtypes.get_default_dtype().np)
        if like is not None:
            arr = _arrays.to_device(arr, like.device)
        return Tensor._make(arr)
    raise TypeError(f"{op}: expected a Tensor or a number, got {type(x).__name__}")


def binary_operands(a, b, op: str, *, float_result: bool = False):
    """Promote two operands (Tensor or scalar) to PyTorch's result dtype.

    Returns ``(ta, tb, dtype)``: both as Tensors of the common dtype (casts are recorded ops,
    so gradients flow back in the original dtypes). ``float_result`` turns integer results into
    the default float dtype (true division).
    """
    # Fast path (the tiny-op hot case): a float tensor with a Python float/int, whose dtype the
    # scalar cannot change, or two tensors of one dtype and shape. Same results as the general rule.
    if isinstance(a, Tensor):
        da = a._data
        tb = type(b)
        if (tb is builtins.float or tb is builtins.int) and da.dtype.kind == "f":
            if type(da) is np.ndarray:
                scalar = np.asarray(b, dtype=da.dtype)
            else:  # reused per device: no allocation or host copy per op
                scalar = _arrays.scalar_like(da, b, da.dtype)
            return a, Tensor._make(scalar), _DT_FROM_NP(da.dtype)
        if isinstance(b, Tensor):
            db = b._data
            if da.dtype == db.dtype and da.shape == db.shape and da.dtype.kind == "f":
                return a, b, _DT_FROM_NP(da.dtype)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and {type(b).__name__}")
    for x, role in ((a, "input"), (b, "other")):
        if not isinstance(x, Tensor) and not is_scalar(x):
            raise TypeError(f"{op}: expected {role} to be a Tensor or a number, got {type(x).__name__}")
    dt = dtypes.result_type(a, b)
    if float_result and not dt.is_floating_point:
        dt = dtypes.get_default_dtype()
    like = a if isinstance(a, Tensor) else b
    ta = _as(a, dt, like, op)
    tb = _as(b, dt, like, op)
    sa, sb = ta._data.shape, tb._data.shape
    if sa != sb and sa and sb:  # 0-d operands broadcast with anything
        check_broadcast(sa, sb, op)
    return ta, tb, dt


def check_broadcast(sa, sb, op: str):
    """Raise ``op: shapes (2, 3) and (4,) cannot be broadcast`` unless the shapes broadcast."""
    for i, (x, y) in enumerate(zip(reversed(sa), reversed(sb))):
        if x != y and x != 1 and y != 1:
            dim = max(len(sa), len(sb)) - 1 - i
            raise RuntimeError(
                f"{op}: shapes {tuple(sa)} and {tuple(sb)} cannot be broadcast: the size of tensor a ({x}) "
                f"must match the size of tensor b ({y}) at non-singleton dimension {dim}"
            )


def _as(x, dt, like, op):
    if isinstance(x, Tensor):
        return x if x._data.dtype == dt.np else to_dtype(x, dt)
    if not is_scalar(x):
        x = ensure_tensor(x, op, like)
        return x if x._data.dtype == dt.np else to_dtype(x, dt)
    return Tensor._make(_arrays.scalar_like(like._data, x, dt.np))


def wrap_dim(dim, ndim: int, op: str) -> int:
    n = builtins.max(ndim, 1)
    if isinstance(dim, Tensor):
        dim = builtins.int(dim.item())
    if not isinstance(dim, (builtins.int, np.integer)) or isinstance(dim, builtins.bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__} ({dim!r})")
    if dim < -n or dim >= n:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return builtins.int(dim) % n


def normalize_dims(dim, ndim: int, op: str) -> tuple[int, ...]:
    """``dim`` as a sorted tuple of non-negative axes; None means all axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        axes = tuple(wrap_dim(d, ndim, op) for d in dim)
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of dims")
        return tuple(sorted(axes))
    return (wrap_dim(dim, ndim, op),)


def check_float(t: Tensor, op: str):
    """Float-only ops refuse integer/bool tensors with torch's class: NotImplementedError ("not implemented for
    'Long'"), which is a RuntimeError too, as torch raises for some of them."""
    if t._data.dtype.kind not in "fV":
        raise NotImplementedError(f"{op}: not implemented for {t.dtype}: expected a floating point tensor, got "
                                  f"{t.dtype}")


class _Overwrite(Function):
    """``t``'s storage overwritten by a value that does not depend on it (fill_, zero_, copy_)."""

    @staticmethod
    def forward(ctx, t, value):
        return value._data

    @staticmethod
    def backward(ctx, grad):
        return grad * 0, None


def inplace(t: Tensor, compute, op: str) -> Tensor:
    """Run the out-of-place ``compute()`` and make its result ``t``'s new value.

    Without recording (no_grad, or nothing requires grad) the result is written into ``t``'s
    existing memory, so views and NumPy arrays that share it see the change. When the op is
    recorded, ``t`` is rebound to the result's storage and graph node. Either way ``t``'s
    version counter is bumped, so a node that saved ``t`` earlier refuses to use the stale
    value at backward, as PyTorch does.
    """
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(t).__name__}")
    recording = grad_mode.is_grad_enabled()
    if recording and t._requires_grad and t._grad_fn is None:
        raise RuntimeError(
            f"{op}: a leaf Variable that requires grad is being used in an in-place operation."
        )
    out = compute()
    if recording and t._requires_grad and out._grad_fn is None:
        out = _Overwrite.apply(t, out)  # t stays in the graph; its old value gets a zero gradient
    if tuple(out._data.shape) != tuple(t._data.shape):
        raise RuntimeError(
            f"{op}: output with shape {tuple(t._data.shape)} doesn't match the broadcast shape {tuple(out._data.shape)}"
        )
    src_dt = dtypes.from_numpy_dtype(out._data.dtype)
    dst_dt = dtypes.from_numpy_dtype(t._data.dtype)
    if src_dt._kind > dst_dt._kind:
        raise RuntimeError(f"{op}: result type {src_dt} can't be cast to the desired output type {dst_dt}")
    t._vc[0] += 1  # after compute: an op that saved t itself (y.mul_(y)) sees a stale value, like torch
    if out._grad_fn is None:
        if not _arrays.is_writeable(t._data):  # CuPy arrays have no writeable flag
            raise RuntimeError(
                f"{op}: unsupported operation: the tensor being written to is an expanded/read-only view "
                f"(shape {tuple(t._data.shape)}); call .clone() first"
            )
        xp = _arrays.array_module(t._data)
        if out._data is not t._data:
            xp.copyto(t._data, out._data, casting="unsafe")
        return t
    if t._is_view:
        raise RuntimeError(
            f"{op}: in-place operation on a view of a tensor that is part of the autograd graph is not "
            "supported in tinytorch; use the out-of-place op, or .clone() the view first"
        )
    if out._data.dtype != t._data.dtype:
        out = to_dtype(out, t._data.dtype)
    t._data = out._data
    t._grad_fn = out._grad_fn
    t._output_nr = out._output_nr
    t._requires_grad = True
    t._vc = out._vc
    t._is_view = False
    return t


def matmul_acc32(xp, a, b):
    """``xp.matmul`` that accumulates float16/bfloat16 in float32 on NumPy (which has no such GEMM) and rounds once."""
    if xp is np and a.dtype.itemsize == 2 and a.dtype.kind in "fV":
        return np.matmul(a.astype(np.float32), b.astype(np.float32)).astype(a.dtype)
    return xp.matmul(a, b)
