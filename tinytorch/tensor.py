"""``Tensor``: a backend array plus the autograd bookkeeping that PyTorch users expect.

The tensor itself holds no math. Every operator and method forwards to a function in
``tinytorch.ops``; the methods that are plain ops are attached at the bottom of this file
from the ``TENSOR_METHODS`` list each ops module declares next to its functions, so an op
lives in one place and its method shares its signature and docstring.
"""
from __future__ import annotations

import builtins
import math
import operator
import warnings
import weakref

import numpy as np

from . import _arrays
from . import _dtype as dtypes


_NONLEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be "
    "populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf "
    "Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure "
    "you access the leaf Tensor instead.")


class Tensor:
    """A multi-dimensional array on the CPU (NumPy) or a CUDA GPU (CuPy) that records autograd history.

    ``Tensor(3, 4)`` and ``Tensor([1, 2])`` behave like ``torch.Tensor``: float32 storage of that
    shape, or float32 data. Prefer ``tinytorch.tensor(data)`` and the creation functions.
    """

    __slots__ = ("_data", "_requires_grad", "_grad_fn", "_output_nr", "_grad", "_vc", "_hooks",
                 "_accum_ref", "_post_accumulate_hooks", "_view", "__weakref__", "__dict__")

    __array_priority__ = 1000  # numpy scalars/arrays defer to our reflected operators

    def __init__(self, *args, device=None, dtype=None):
        dt = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
        xp = _arrays.module_for_device(device)
        if len(args) == 1 and not isinstance(args[0], (builtins.int, np.integer, Size)):  # Size: a shape
            src = args[0]
            data = src._data if isinstance(src, Tensor) else np.asarray(src, dtype=dt.np)
            data = _arrays.to_device(data.astype(dt.np, copy=False), device or "cpu")
        elif not args:
            data = xp.zeros((0,), dtype=dt.np)  # torch.Tensor() is an empty 1-d tensor, not a scalar
        else:
            shape = tuple(builtins.int(a) for a in (args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args))
            data = xp.zeros(shape, dtype=dt.np)  # torch leaves it uninitialised; zeros are a safe choice
        Tensor._init(self, data, False, None, 0, None)

    @staticmethod
    def _init(self, data, requires_grad, grad_fn, output_nr, vc):
        self._data = data
        self._requires_grad = requires_grad
        self._grad_fn = grad_fn
        self._output_nr = output_nr
        self._grad = None
        self._vc = vc if vc is not None else [0]
        self._hooks = None
        self._accum_ref = None
        self._post_accumulate_hooks = None
        self._view = None

    @staticmethod
    def _make(data, requires_grad=False, grad_fn=None, output_nr=0, vc=None):
        """Wrap a backend array without copying (internal constructor, once per op output)."""
        t = object.__new__(Tensor)
        t._data = data  # _init's body, inlined: this runs for every tensor an op creates
        t._requires_grad = requires_grad
        t._grad_fn = grad_fn
        t._output_nr = output_nr
        t._grad = None
        t._vc = vc if vc is not None else [0]
        t._hooks = None
        t._accum_ref = None
        t._post_accumulate_hooks = None
        t._view = None  # a ViewInfo when an op made this tensor as a view of another (Function.apply sets it)
        return t

    # ---- basic properties ----------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    @property
    def dtype(self):
        return dtypes.from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        return _arrays.device_of(self._data)

    @property
    def is_cuda(self):
        return _arrays.is_cupy_array(self._data)

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return builtins.int(self._data.size)

    nelement = numel

    def element_size(self):
        return self._data.dtype.itemsize

    @property
    def itemsize(self):
        return self._data.dtype.itemsize

    @property
    def nbytes(self):
        return builtins.int(self._data.nbytes)

    def is_floating_point(self):
        return self._data.dtype.kind in "fV"

    def is_complex(self):
        return False

    def is_contiguous(self, memory_format=None):
        return bool(self._data.flags.c_contiguous)

    def storage_offset(self) -> int:
        """Offset, in elements, of this view's first element in the storage it shares."""
        a = root = self._data
        while getattr(root, "base", None) is not None and hasattr(root.base, "dtype"):
            root = root.base
        if root is a:
            return 0
        if _arrays.is_cupy_array(a):
            return (a.data.ptr - root.data.ptr) // a.itemsize
        return (a.__array_interface__["data"][0] - root.__array_interface__["data"][0]) // a.itemsize

    def stride(self, dim=None):
        st = tuple(s // self._data.dtype.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim, "stride")]

    def data_ptr(self):
        if _arrays.is_cupy_array(self._data):
            return builtins.int(self._data.data.ptr)
        return builtins.int(self._data.__array_interface__["data"][0])

    def get_device(self):
        d = self.device
        return -1 if d.type == "cpu" else (d.index or 0)

    @property
    def layout(self):
        return "torch.strided"

    # ---- autograd state ----------------------------------------------------------------------
    @property
    def requires_grad(self):
        if self._view is not None and self._view[V_VERSION] != self._vc[0]:
            _sync_view(self, strict=False)
        return self._requires_grad or (self._view is not None and self._view[V_BASE]._requires_grad)

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        if self._grad_fn is not None and not requires_grad:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
            )
        if requires_grad and self._data.dtype.kind not in "fV":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients (got {self.dtype})"
            )
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self):
        if self._grad_fn is not None and self._grad is None and not self.retains_grad:
            warnings.warn(_NONLEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got {type(value).__name__}")
            if tuple(value.shape) != tuple(self.shape):
                raise RuntimeError(
                    f"assigned grad has data of a different size: {tuple(value.shape)} vs the tensor's {tuple(self.shape)}"
                )
            if value.device != self.device:
                raise RuntimeError(f"assigned grad is on {value.device} but the tensor is on {self.device}")
            if value.dtype != self.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: {value.dtype} vs the tensor's "
                                   f"{self.dtype}")
        self._grad = value

    @property
    def is_leaf(self):
        if self._view is not None and self._view[V_VERSION] != self._vc[0]:
            _sync_view(self, strict=False)
        return self._grad_fn is None

    @property
    def grad_fn(self):
        if self._view is not None and self._view[V_VERSION] != self._vc[0]:
            _sync_view(self)  # its base (or another view of it) was modified in place
        return self._grad_fn

    @property
    def _base(self):
        """The tensor this one is a view of (None when it is not a view), as torch's ``Tensor._base``."""
        return None if self._view is None else self._view[V_BASE]

    def _is_view(self):
        """Whether this tensor is a view of another (shares its storage and version counter)."""
        return self._view is not None

    @property
    def _version(self):
        return self._vc[0]

    @property
    def output_nr(self):
        return self._output_nr

    @property
    def data(self):
        """The same storage without autograd history (changes through it are not tracked)."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data must be set to a Tensor, got {type(value).__name__}")
        self._data = value._data

    def detach(self):
        """A new tensor sharing storage (and version counter) with no autograd history."""
        return Tensor._make(self._data, False, None, 0, self._vc)

    def detach_(self):
        if self._view is not None and self._grad_fn is not None:
            raise RuntimeError("detach_: can't detach views in-place; use detach() instead")
        self._grad_fn = None
        self._requires_grad = False
        return self

    def retain_grad(self):
        if self._view is not None and self._view[V_VERSION] != self._vc[0]:
            _sync_view(self)
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None:
            return  # leaves keep their grad anyway
        node = self._grad_fn
        if node._retained is None:
            node._retained = {}
        node._retained[self._output_nr] = weakref.ref(self)

    @property
    def retains_grad(self):
        node = self._grad_fn
        return bool(node is not None and node._retained and self._output_nr in node._retained)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a replacement."""
        if self._view is not None and self._view[V_VERSION] != self._vc[0]:
            _sync_view(self)
        if not self._requires_grad and not _view_requires_grad(self):
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            lst = self._hooks
        else:
            node = self._grad_fn
            if node._hooks is None:
                node._hooks = {}
            lst = node._hooks.setdefault(self._output_nr, [])
        lst.append(hook)
        return _RemovableHandle(lst, hook)

    def register_post_accumulate_grad_hook(self, hook):
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = []
        self._post_accumulate_hooks.append(hook)
        return _RemovableHandle(self._post_accumulate_hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``."""
        autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # ---- conversions ---------------------------------------------------------------------------
    def numpy(self, *, force=False):
        if _arrays.is_cupy_array(self._data):
            if not force:
                raise TypeError(
                    f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first."
                )
            return _arrays.as_numpy(self._data)
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._data

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar (shape {tuple(self.shape)})"
            )
        return _arrays.as_numpy(self._data).reshape(()).item() if self._data.dtype.kind != "V" else builtins.float(
            _arrays.as_numpy(self._data).reshape(()).astype(np.float32))

    def tolist(self):
        a = _arrays.as_numpy(self._data)
        if a.dtype.kind == "V":
            a = a.astype(np.float32)
        return a.tolist()

    def __array__(self, dtype=None, copy=None):
        a = _arrays.as_numpy(self._data)
        if a.dtype.kind == "V" and dtype is None:
            return a
        return a if dtype is None else a.astype(dtype)

    def __dlpack__(self, *args, **kwargs):
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(other)``, with ``non_blocking``/``copy``."""
        device, dtype, copy = _parse_to_args("to", args, kwargs)
        return _ops.to(self, device=device, dtype=dtype, copy=copy)

    def cuda(self, device=None, non_blocking=False):
        return self.to("cuda" if device is None else _arrays.parse_device(device))

    def cpu(self):
        return self.to("cpu")

    def float(self):
        return self.to(dtype=dtypes.float32)

    def double(self):
        return self.to(dtype=dtypes.float64)

    def half(self):
        return self.to(dtype=dtypes.float16)

    def bfloat16(self):
        return self.to(dtype=dtypes.bfloat16)

    def long(self):
        return self.to(dtype=dtypes.int64)

    def int(self):
        return self.to(dtype=dtypes.int32)

    def short(self):
        return self.to(dtype=dtypes.int16)

    def byte(self):
        return self.to(dtype=dtypes.uint8)

    def char(self):
        return self.to(dtype=dtypes.int8)

    def bool(self):
        return self.to(dtype=dtypes.bool_)

    def type(self, dtype=None):
        if dtype is None:
            return _LEGACY_TYPE_NAMES.get(self.dtype.name, "torch.Tensor")
        if isinstance(dtype, str):
            for k, v in _LEGACY_TYPE_NAMES.items():
                if v == dtype or v.replace("torch.", "tinytorch.") == dtype:
                    return self.to(dtype=dtypes.to_dtype(k))
            raise ValueError(f"type: unknown type name {dtype!r}")
        if isinstance(dtype, type) and isinstance(getattr(dtype, "dtype", None), dtypes.dtype):
            return self.to(dtype=dtype.dtype)  # a legacy class: t.type(torch.FloatTensor)
        return self.to(dtype=dtype)

    def type_as(self, other):
        return self.to(dtype=other.dtype)

    # ``new_*``: new tensors that default to this tensor's dtype and device (torch's factory methods)
    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
        if isinstance(data, Tensor):
            data = data.detach().clone()
        return creation.tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                               requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return creation.zeros(*size, dtype=dtype or self.dtype, device=device or self.device,
                              requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return creation.ones(*size, dtype=dtype or self.dtype, device=device or self.device,
                             requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return creation.empty(*size, dtype=dtype or self.dtype, device=device or self.device,
                              requires_grad=requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        return creation.full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                             requires_grad=requires_grad)

    def pin_memory(self, device=None):
        """The tensor itself: NumPy has no page-locked host memory (``.to('cuda', non_blocking=True)`` still works)."""
        return self

    def is_pinned(self, device=None):
        return False

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        return creation.multinomial(self, num_samples, replacement, generator=generator)

    def bernoulli(self, p=None, *, generator=None):
        return creation.bernoulli(self, p, generator=generator)

    def xp_ones_like(self):
        with _arrays.guard(self._data):
            return _arrays.array_module(self._data).ones_like(self._data)

    def xp_zeros_like(self):
        with _arrays.guard(self._data):
            return _arrays.array_module(self._data).zeros_like(self._data)

    # ---- Python protocol ---------------------------------------------------------------------
    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(_ops.unbind(self, 0))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous (shape {tuple(self.shape)})"
            )
        return builtins.bool(self.item())

    def __float__(self):
        return builtins.float(self._scalar_for("float"))

    def __int__(self):
        return builtins.int(self._scalar_for("int"))

    def _scalar_for(self, kind):
        if self._data.size != 1:  # torch: ValueError here, RuntimeError from .item()
            raise ValueError(f"only one element tensors can be converted to Python scalars: {kind}() of a Tensor "
                             f"with {self._data.size} elements (shape {tuple(self.shape)})")
        return self.item()

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an index (got {self.dtype}, shape {tuple(self.shape)})")
        return builtins.int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __format__(self, spec):
        if self._data.ndim == 0 or self._data.size == 1 and spec:
            return format(self.item(), spec)
        return format(repr(self), spec)

    __hash__ = object.__hash__

    def __repr__(self):
        return _format.tensor_repr(self)

    def __reduce_ex__(self, protocol):
        raise TypeError(
            "tinytorch tensors are not picklable by design; use tinytorch.save (safetensors) for checkpoints"
        )

    def __deepcopy__(self, memo):
        t = _ops.clone(self.detach())
        if self._requires_grad:
            t.requires_grad_(True)
        if self._grad is not None:
            t._grad = _ops.clone(self._grad)
        if type(self) is not Tensor:
            t = type(self)._from_tensor(t) if hasattr(type(self), "_from_tensor") else t
        memo[id(self)] = t
        return t

    # ---- operators -----------------------------------------------------------------------------
    def __add__(self, o):
        return _ops.add(self, o)

    def __radd__(self, o):
        return _ops.add(o, self)

    def __sub__(self, o):
        return _ops.sub(self, o)

    def __rsub__(self, o):
        return _ops.sub(o, self)

    def __mul__(self, o):
        return _ops.mul(self, o)

    def __rmul__(self, o):
        return _ops.mul(o, self)

    def __truediv__(self, o):
        return _ops.div(self, o)

    def __rtruediv__(self, o):
        return _ops.div(o, self)

    def __floordiv__(self, o):
        return _ops.floor_divide(self, o)

    def __rfloordiv__(self, o):
        return _ops.floor_divide(o, self)

    def __mod__(self, o):
        return _ops.remainder(self, o)

    def __rmod__(self, o):
        return _ops.remainder(o, self)

    def __pow__(self, o):
        return _ops.pow(self, o)

    def __rpow__(self, o):
        return _ops.pow(o, self)

    def __matmul__(self, o):
        return _ops.matmul(self, o)

    def __rmatmul__(self, o):
        return _ops.matmul(o, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __invert__(self):
        return _ops.bitwise_not(self)

    def __and__(self, o):
        return _ops.bitwise_and(self, o)

    def __rand__(self, o):
        return _ops.bitwise_and(o, self)

    def __or__(self, o):
        return _ops.bitwise_or(self, o)

    def __ror__(self, o):
        return _ops.bitwise_or(o, self)

    def __xor__(self, o):
        return _ops.bitwise_xor(self, o)

    def __rxor__(self, o):
        return _ops.bitwise_xor(o, self)

    def __eq__(self, o):
        return _ops.eq(self, o)

    def __ne__(self, o):
        return _ops.ne(self, o)

    def __lt__(self, o):
        return _ops.lt(self, o)

    def __le__(self, o):
        return _ops.le(self, o)

    def __gt__(self, o):
        return _ops.gt(self, o)

    def __ge__(self, o):
        return _ops.ge(self, o)

    def __iadd__(self, o):
        return _ops.add_(self, o)

    def __isub__(self, o):
        return _ops.sub_(self, o)

    def __imul__(self, o):
        return _ops.mul_(self, o)

    def __itruediv__(self, o):
        return _ops.div_(self, o)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    def __setitem__(self, index, value):
        _ops.setitem_(self, index, value)

    @property
    def T(self):  # noqa: N802 - torch's name
        return _ops.permute(self, tuple(range(self._data.ndim - 1, -1, -1)))

    @property
    def mT(self):  # noqa: N802
        if self._data.ndim == 0:  # torch: the identity on 0-d tensors (deprecated there)
            return self
        return _ops.transpose(self, -2, -1)


class Size(tuple):
    """``tinytorch.Size``: a tuple of ints, printed like torch's."""

    def __new__(cls, it=()):
        try:
            return super().__new__(cls, builtins.map(operator.index, it))  # 1.5 or "a" are errors, not truncated
        except TypeError:
            bad = [(i, v) for i, v in enumerate(it) if not hasattr(v, "__index__")]
            if not bad:
                raise
            raise TypeError(f"tinytorch.Size() takes an iterable of 'int' (item {bad[0][0]} is "
                            f"'{type(bad[0][1]).__name__}')") from None

    def __repr__(self):
        return f"tinytorch.Size([{', '.join(str(i) for i in self)}])"

    def numel(self):
        return math.prod(self)

    def __getitem__(self, k):
        r = super().__getitem__(k)
        return Size(r) if isinstance(k, slice) else r


class _RemovableHandle:
    def __init__(self, lst, item):
        self._lst, self._item = lst, item

    def remove(self):
        try:
            self._lst.remove(self._item)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


_LEGACY_TYPE_NAMES = {
    "float32": "torch.FloatTensor", "float64": "torch.DoubleTensor", "float16": "torch.HalfTensor",
    "bfloat16": "torch.BFloat16Tensor", "int64": "torch.LongTensor", "int32": "torch.IntTensor",
    "int16": "torch.ShortTensor", "int8": "torch.CharTensor", "uint8": "torch.ByteTensor",
    "bool": "torch.BoolTensor",
}


def _wrap_dim(dim, ndim, op):
    n = builtins.max(ndim, 1)
    if not isinstance(dim, (builtins.int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    if dim < -n or dim >= n:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return builtins.int(dim % n)


def _parse_to_args(op, args, kwargs):
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"{op}() got unexpected keyword arguments {sorted(kwargs)}")
    flags = []  # positional bools: non_blocking, then copy (torch's order)
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, dtypes.dtype) or a in (builtins.float, builtins.int, builtins.bool):
            dtype = a
        elif isinstance(a, (str, _arrays.device, builtins.int)) and not isinstance(a, builtins.bool):
            device = a
        elif isinstance(a, builtins.bool):
            flags.append(a)
        else:
            raise TypeError(f"{op}() received an invalid argument {a!r}")
    if len(flags) > 2:
        raise TypeError(f"{op}() got too many positional bool arguments {flags} (non_blocking, copy)")
    if len(flags) == 2:
        copy = flags[1]
    if dtype is not None:
        dtype = dtypes.to_dtype(dtype)
    if device is not None:
        device = _arrays.parse_device(device)
    return device, dtype, copy


from . import ops as _ops, autograd, creation  # noqa: E402  (they import Tensor from this module)
from .autograd.function import (  # noqa: E402  (same)
    V_BASE, V_VERSION, sync_view as _sync_view, view_requires_grad as _view_requires_grad)
from . import _format  # noqa: E402


def _install_methods():
    """Attach the plain-op methods that ops modules declare (``TENSOR_METHODS``)."""
    for name in _ops._tensor_method_names():
        fn = getattr(_ops, name)
        if name not in Tensor.__dict__:
            setattr(Tensor, name, fn)


_install_methods()
