"""Small helpers every op family shares: argument coercion, promotion, dims, in-place writes (and views)."""
from __future__ import annotations

import builtins
import functools
import numbers

import numpy as np

from .. import _arrays
from .. import _dtype as dtypes
from ..autograd import grad_mode
from ..autograd import function as _function
from ..autograd.function import (V_BASE, V_META, V_VERSION, VIEW_DEFAULT, Function, replay_view, set_history, sync_view,
                                 view_error, view_steps)
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


class _ViewSteps:
    """How to make a view from its base, passed to CopySlices as one opaque argument (tracers record it as a
    constant). It holds no tensor: the graph node must not keep the base alive (base -> node -> base)."""

    __slots__ = ("steps",)

    def __init__(self, steps):
        self.steps = steps


class CopySlices(Function):
    """The base's new history after an in-place op on one of its views (torch's CopySlices).

    Inputs: the base's old value and the view's new value. The base's gradient is the incoming one
    with the view's region zeroed (that region was overwritten); the new value's gradient is that region.
    The storage was already written in place: forward only hands back the base's array.
    """

    @staticmethod
    def forward(ctx, base, value, view):
        ctx.steps = view.steps
        ctx.like = base._data  # shape, dtype and layout for the mask in backward
        # under a tracer, a new array object over the same memory: tracers follow tensors by their arrays
        return base._data if _function._tracer is None else base._data[...]

    @staticmethod
    def backward(ctx, grad):
        gbase = gvalue = None
        if ctx.needs_input_grad[0]:
            with _arrays.guard(ctx.like):
                mask = Tensor._make(ctx.xp.ones_like(ctx.like, dtype=grad._data.dtype))
            replay_view(None, mask, grad=False, steps=ctx.steps)._data[...] = 0
            gbase = grad * mask
        if ctx.needs_input_grad[1]:
            gvalue = replay_view(None, grad, grad=grad_mode.is_grad_enabled(), steps=ctx.steps)
        return gbase, gvalue, None


CopySlices._node_name = "CopySlices"  # torch's node name (it has no Backward0 suffix)


class _WriteInto(Function):
    """``t``'s storage overwritten with ``value``: how an in-place write shows to a tracer (torch.compile, onnx).

    Tracers follow tensors by their arrays, so the write hands back a new array object over ``t``'s
    memory, which ``t`` then holds; a replay of the trace writes into the replayed ``t`` the same way.
    """

    @staticmethod
    def forward(ctx, t, value):
        ctx.xp.copyto(t._data, value._data, casting="unsafe")
        return t._data[...]

    @staticmethod
    def backward(ctx, grad):
        return None, grad


def _leaf_error(op, what):
    return RuntimeError(f"{op}: a {what}Variable that requires grad is being used in an in-place operation.")


def inplace(t: Tensor, compute, op: str) -> Tensor:
    """Run the out-of-place ``compute()`` and write its result into ``t``'s memory, as torch does.

    The write lands in ``t``'s existing storage in every grad mode, so views of ``t``, the tensor
    ``t`` is a view of, ``detach()``-ed aliases and NumPy arrays that share it all see the change.
    When the op is recorded, ``t`` takes the result's graph node; when ``t`` is a view, its base
    gets a ``CopySlices`` node and the other views rebuild their history from the base on next use.
    ``t``'s version counter (shared with its views) is bumped, so a node that saved the old value
    refuses it at backward, as in PyTorch.
    """
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(t).__name__}")
    recording = grad_mode.is_grad_enabled()
    info = t._view
    if recording:
        if info is not None and info[V_VERSION] != t._vc[0]:
            sync_view(t)  # its base or another view of it changed: take the base's history first
        if info is None and t._requires_grad and t._grad_fn is None:
            raise _leaf_error(op, "leaf ")
    out = compute()
    if recording and info is not None and (
            out._grad_fn is not None or t._requires_grad or info[V_BASE]._requires_grad):
        if info[V_META] != VIEW_DEFAULT:
            raise view_error(info, "is being modified inplace")
        if info[V_BASE]._requires_grad and info[V_BASE]._grad_fn is None:
            raise _leaf_error(op, "view of a leaf ")
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
    if not _arrays.is_writeable(t._data):  # CuPy arrays have no writeable flag
        raise RuntimeError(
            f"{op}: unsupported operation: more than one element of the written-to tensor refers to a single "
            f"memory location (an expanded or read-only view of shape {tuple(t._data.shape)}). Please clone() "
            "the tensor before performing the operation."
        )
    if out._grad_fn is not None and out._data.dtype != t._data.dtype:
        out = to_dtype(out, dtypes.from_numpy_dtype(t._data.dtype))
    node = out._grad_fn
    saved = node._saved if node is not None else None
    if saved:
        # the op saved t's old value as its self (pow_, mul_): keep a copy of it, as torch keeps the original
        # self; t saved again as another argument (y.mul_(y)) stays stale and raises at backward, as in torch
        for s in saved:
            if (s is not None and not s.is_output and s.data is t._data and s.version == t._vc[0]
                    and (s.leaf is t if t._grad_fn is None else s.grad_fn is t._grad_fn)):
                s.data, s.vc, s.leaf = t._data.copy(), [s.version], None
                break
    if out._data is not t._data:
        if _function._tracer is None:
            xp = _arrays.array_module(t._data)
            xp.copyto(t._data, out._data, casting="unsafe")
        else:  # a tracer follows tensors by their arrays: record the write (in t's dtype) as an op
            if out._data.dtype != t._data.dtype:
                out = to_dtype(out, dtypes.from_numpy_dtype(t._data.dtype))
            t._data = _WriteInto.apply(t, out)._data
    t._vc[0] += 1  # after compute: nodes recorded earlier that saved t now see a stale value, like torch
    if node is None:
        return t
    if saved:  # the op saved its own output: that is t's storage now, at the new version
        for s in saved:
            if s is not None and s.is_output and s.output_nr == out._output_nr:
                s.data, s.vc, s.version = t._data, t._vc, t._vc[0]
    if info is None:
        set_history(t, node, out._output_nr)
        t._requires_grad = True
        return t
    base = info[V_BASE]
    steps = view_steps(info)
    new = CopySlices.apply(base, out, _ViewSteps(steps))
    set_history(base, new._grad_fn, 0)
    base._requires_grad = True
    if _function._tracer is not None:
        base._data = new._data
    new = replay_view(None, base, steps=steps)
    set_history(t, new._grad_fn, new._output_nr)
    t._requires_grad = True
    if _function._tracer is not None:
        t._data = new._data
    info[V_VERSION] = t._vc[0]
    return t


def matmul_acc32(xp, a, b):
    """``xp.matmul`` that accumulates float16/bfloat16 in float32 on NumPy (which has no such GEMM) and rounds once."""
    if xp is np and a.dtype.itemsize == 2 and a.dtype.kind in "fV":
        return np.matmul(a.astype(np.float32), b.astype(np.float32)).astype(a.dtype)
    return xp.matmul(a, b)
