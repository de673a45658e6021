"""``autocast``: per-thread mixed-precision state and the casts the op policy asks for.

``Function.apply`` makes one check per op (``_local.on``); only inside an enabled region does it call
:func:`dispatch`, which looks the op up in :mod:`tinytorch.amp.policy` and runs it on cast inputs.
Public functions composed of several ops declare their torch op with :func:`autocast_op`.

Numerics: on the GPU a ``lower`` op runs in float16/bfloat16 (CuPy's GEMMs accumulate in float32). NumPy
has no fast low-precision kernels, so on the CPU a ``lower`` op rounds its inputs to the autocast dtype,
computes in float32 and rounds its output: torch's numbers (low-precision inputs and outputs, float32
accumulation), not its speed.
"""
from __future__ import annotations

import functools
import threading
import warnings

import numpy as _np

from .. import _dtype as dtypes
from .. import _arrays
from . import policy as _policy

__all__ = [
    "autocast", "autocast_op", "is_autocast_available", "is_autocast_enabled", "set_autocast_enabled",
    "get_autocast_dtype", "set_autocast_dtype", "is_autocast_cache_enabled", "set_autocast_cache_enabled",
    "clear_autocast_cache", "autocast_increment_nesting", "autocast_decrement_nesting", "custom_fwd", "custom_bwd",
    "get_autocast_gpu_dtype", "get_autocast_cpu_dtype", "is_autocast_cpu_enabled", "set_autocast_cpu_enabled",
    "set_autocast_gpu_dtype", "set_autocast_cpu_dtype",
]

_DEVICE_TYPES = ("cpu", "cuda")
_SUPPORTED = ("bfloat16", "float16")
_F32 = _np.dtype(_np.float32)
_BCE_MSG = (
    "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
    "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
    "In this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_logits\n"
    "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
    "safe to autocast."
)


class _State(threading.local):
    """Autocast state of one thread (like grad mode): each new thread starts with autocast off."""

    def __init__(self):
        self.on = False  # some device type's autocast is enabled: the one check Function.apply makes
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype = {"cpu": dtypes.bfloat16, "cuda": dtypes.float16}
        self.cache_enabled = True
        self.nesting = 0
        self.cache = {}  # (id(weight), dtype, grad mode) -> (weight, its version, the cast tensor)


_local = _State()
Tensor = None  # bound on first use: tinytorch.tensor imports autograd, which imports this module


def _check_device(device_type, where="autocast"):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if device_type not in _DEVICE_TYPES:
        raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}' "
                           f"({where}: tinytorch supports {', '.join(_DEVICE_TYPES)})")


def _refresh():
    _local.on = _local.enabled["cpu"] or _local.enabled["cuda"]


# ---- the state API (torch.* names) ---------------------------------------------------------------------
def is_autocast_available(device_type: str) -> bool:
    """True for 'cpu' and 'cuda', the device types tinytorch autocasts."""
    return device_type in _DEVICE_TYPES


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for ``device_type`` on this thread (no argument: 'cuda', as torch)."""
    if device_type is None:
        device_type = "cuda"
    _check_device(device_type, "is_autocast_enabled")
    return _local.enabled[device_type]


def set_autocast_enabled(device_type, enabled=None) -> None:
    """``set_autocast_enabled(device_type, enabled)``; the older ``set_autocast_enabled(enabled)`` means 'cuda'."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    _check_device(device_type, "set_autocast_enabled")
    _local.enabled[device_type] = bool(enabled)
    _refresh()


def get_autocast_dtype(device_type: str):
    """The dtype ``lower`` ops run in under ``device_type``'s autocast (defaults: cuda float16, cpu bfloat16)."""
    _check_device(device_type, "get_autocast_dtype")
    return _local.dtype[device_type]


def set_autocast_dtype(device_type: str, dtype) -> None:
    _check_device(device_type, "set_autocast_dtype")
    _local.dtype[device_type] = dtypes.to_dtype(dtype)


def is_autocast_cache_enabled() -> bool:
    return _local.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    _local.cache_enabled = bool(enabled)


def clear_autocast_cache() -> None:
    """Forget the cached low-precision copies of weights."""
    _local.cache.clear()


def autocast_increment_nesting() -> int:
    _local.nesting += 1
    return _local.nesting


def autocast_decrement_nesting() -> int:
    _local.nesting -= 1
    return _local.nesting


# torch's older per-device spellings
def get_autocast_gpu_dtype():
    return get_autocast_dtype("cuda")


def get_autocast_cpu_dtype():
    return get_autocast_dtype("cpu")


def is_autocast_cpu_enabled() -> bool:
    return is_autocast_enabled("cpu")


def set_autocast_cpu_enabled(enabled: bool) -> None:
    set_autocast_enabled("cpu", enabled)


def set_autocast_gpu_dtype(dtype) -> None:
    set_autocast_dtype("cuda", dtype)


def set_autocast_cpu_dtype(dtype) -> None:
    set_autocast_dtype("cpu", dtype)


# ---- the context manager -------------------------------------------------------------------------------
class autocast:  # noqa: N801 - torch's name
    """Run the ops of a region in mixed precision, following PyTorch's op policy.

    ``autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``: inside the region, ops on
    ``device_type`` tensors that PyTorch lists as lower-precision (matmul, linear, conv, bmm, SDPA ...) run
    in ``dtype`` (default: float16 on 'cuda', bfloat16 on 'cpu'), ops listed as float32 (losses, and on
    CUDA softmax, layer_norm, exp, sum ...) run in float32, and ops that need matching inputs (cat, stack,
    index_put ...) run in the widest input type. Casts are differentiable: gradients come back in the
    parameters' dtype. With ``cache_enabled`` a float32 leaf weight is cast once per region and reused.
    State is per thread; regions nest; usable as a decorator.

    Example::

        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(x)            # linear/conv layers run in bfloat16
            loss = F.cross_entropy(logits, y)   # float32
        loss.backward()                  # outside the region, as torch recommends
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True, cache_enabled: bool | None = None):
        _check_device(device_type)
        self.device = device_type
        self.fast_dtype = _local.dtype[device_type] if dtype is None else dtypes.to_dtype(dtype)
        self._cache_enabled = _local.cache_enabled if cache_enabled is None else bool(cache_enabled)
        if enabled:
            if device_type == "cuda" and not _arrays.cuda_available():
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", UserWarning,
                              stacklevel=2)
                enabled = False
            elif getattr(self.fast_dtype, "name", None) not in _SUPPORTED:
                name = device_type.upper()
                warnings.warn(f"In {name} autocast, but the target dtype is not supported. Disabling autocast.\n"
                              f"{name} Autocast only supports dtypes of tinytorch.bfloat16, tinytorch.float16 "
                              "currently.", UserWarning, stacklevel=2)
                enabled = False
        self._enabled = bool(enabled)

    def __enter__(self):
        s, d = _local, self.device
        self._prev = (s.enabled[d], s.dtype[d], s.cache_enabled)
        s.enabled[d], s.dtype[d], s.cache_enabled = self._enabled, self.fast_dtype, self._cache_enabled
        s.nesting += 1
        _refresh()
        return self

    def __exit__(self, *exc):
        s, d = _local, self.device
        s.nesting -= 1
        if s.nesting == 0:  # leaving the outermost region: the cached weight casts go
            s.cache.clear()
        s.enabled[d], s.dtype[d], s.cache_enabled = self._prev
        _refresh()
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(f"autocast()(func) requires a callable, but got {type(func).__name__}. Did you mean to "
                            "use autocast as a context manager? For example:\n"
                            "    with torch.autocast(device_type=...):\n        output = model(input)")

        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return func(*args, **kwargs)

        return decorate_autocast


# ---- the dispatch step ---------------------------------------------------------------------------------
_class_ops: dict = {}
_MISSING = object()


def dispatch(cls, args, kwargs):
    """``Function.apply``'s autocast step: run ``cls`` on cast inputs, or NotImplemented when no policy applies."""
    names = _class_ops.get(cls, _MISSING)
    if names is _MISSING:
        names = _class_ops[cls] = _policy.function_ops(cls)
    if names is None:
        return NotImplemented
    device = _device_type(args, kwargs)
    if device is None or not _local.enabled[device] or _policy.category(names, device) is None:
        return NotImplemented
    return _run(names, device, cls.apply, args, kwargs)


def autocast_op(*names: str, select=None):
    """Declare that a public function composed of several ops is torch's op ``names[0]`` under autocast.

    More names: torch's other spellings of the op (the first one a device's lists know wins). ``select``:
    for a function that is one of several torch ops depending on its arguments (``F.pad``'s mode), a
    callable taking the call's arguments and returning the names (``()``: a native op in no list; ``None``:
    a composite in torch for these arguments, whose inner ops autocast one by one).

    Inside an autocast region the function's inputs are cast as the op's policy says and its body runs
    with autocast off (torch casts at the op's surface, not inside it); an op in no list just runs its
    body with autocast off, as torch's own kernel would.
    """

    def decorate(fn):
        @functools.wraps(fn)
        def autocast_wrapper(*args, **kwargs):
            if _local.on:
                device = _device_type(args, kwargs)
                if device is not None and _local.enabled[device]:
                    which = names if select is None else select(*args, **kwargs)
                    if which is not None:  # None: this call is a composite in torch too; its inner ops autocast
                        return _run(which, device, fn, args, kwargs)
            return fn(*args, **kwargs)

        autocast_wrapper.autocast_ops = names  # the declaration, for tests/amp (empty when ``select`` decides)
        return autocast_wrapper

    return decorate


def _bind():
    global Tensor
    from ..tensor import Tensor as _T  # autograd.function imports this module before Tensor exists

    Tensor = _T


def _device_type(args, kwargs):
    if Tensor is None:
        _bind()
    for a in (*args, *kwargs.values()):
        if isinstance(a, Tensor):
            return "cpu" if isinstance(a._data, _np.ndarray) else "cuda"
        if type(a) in (list, tuple) and a and isinstance(a[0], Tensor):
            return "cpu" if isinstance(a[0]._data, _np.ndarray) else "cuda"
    return None


def _eligible(t) -> bool:
    d = t._data.dtype
    return (d.kind == "f" and d.itemsize != 8) or d.kind == "V"  # float16/32, bfloat16 (ml_dtypes: kind V)


def _map_tensors(fn, args, kwargs):
    def one(a):
        if isinstance(a, Tensor):
            return fn(a)
        if type(a) in (list, tuple) and a and isinstance(a[0], Tensor):
            return type(a)(fn(t) if isinstance(t, Tensor) else t for t in a)
        return a

    return tuple(one(a) for a in args), {k: one(v) for k, v in kwargs.items()}


def _tensors(args, kwargs):
    for a in (*args, *kwargs.values()):
        if isinstance(a, Tensor):
            yield a
        elif type(a) in (list, tuple) and a and isinstance(a[0], Tensor):
            yield from (t for t in a if isinstance(t, Tensor))


def _to(t, npd):
    from ..ops.convert import ToDtype  # ops import this module (autocast_op)

    return t if t._data.dtype == npd else ToDtype.apply(t, npd)


def _cached(t, npd, make):
    """``make(t)``, reused within the region for a float32 leaf that requires grad (torch's weight cache)."""
    s = _local
    if not (s.cache_enabled and t._requires_grad and t._grad_fn is None and t._data.dtype == _F32):
        return make(t)
    from ..autograd import grad_mode  # autograd imports this module

    key = (id(t), npd, grad_mode._local.enabled)
    hit = s.cache.get(key)
    if hit is not None and hit[0] is t and hit[1] == t._vc[0]:
        return hit[2]
    out = make(t)
    s.cache[key] = (t, t._vc[0], out)  # keeps t alive: its id cannot be reused while cached
    return out


def _run(names, device, call, args, kwargs):
    if Tensor is None:
        _bind()
    kind = _policy.category(names, device)
    low = _local.dtype[device].np
    emulate = False
    if kind == "refuse":
        raise RuntimeError(_BCE_MSG)
    if kind == "lower":
        if device == "cpu":
            # NumPy: round to the low dtype, compute in float32 (torch's accumulation), round the output below
            emulate = True
            args, kwargs = _map_tensors(
                lambda t: _cached(t, ("emu", low), lambda u: _to(_to(u, low), _F32)) if _eligible(t) else t,
                args, kwargs)
        else:
            args, kwargs = _map_tensors(lambda t: _cached(t, low, lambda u: _to(u, low)) if _eligible(t) else t,
                                        args, kwargs)
    elif kind == "fp32":
        args, kwargs = _map_tensors(lambda t: _to(t, _F32) if _eligible(t) else t, args, kwargs)
    elif kind == "promote":
        widest = low
        for t in _tensors(args, kwargs):
            if _eligible(t) and t._data.dtype != widest:
                widest = _F32  # any float32 input, or two different low types
        args, kwargs = _map_tensors(lambda t: _to(t, widest) if _eligible(t) else t, args, kwargs)
    s = _local
    s.on = False  # the op's own body runs without autocast, as torch excludes its autocast key there
    try:
        out = call(*args, **kwargs)
    finally:
        _refresh()
    if emulate:
        out = _round_outputs(out, low)
    return out


def _round_outputs(out, low):
    if isinstance(out, Tensor):
        return _to(out, low) if out._data.dtype == _F32 else out
    if type(out) in (tuple, list):
        return type(out)(_round_outputs(o, low) for o in out)
    return out


# ---- custom autograd Functions -------------------------------------------------------------------------
def custom_fwd(fwd=None, *, device_type: str, cast_inputs=None):
    """Decorator for a custom ``Function.forward``: remember the autocast state for backward, and with
    ``cast_inputs`` cast floating tensor inputs to that dtype and run forward with autocast off (only
    inside an enabled region)."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx = args[0]
        ctx._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        ctx._fwd_used_autocast = False
        if not is_autocast_enabled(device_type):
            return fwd(*args, **kwargs)
        if Tensor is None:
            _bind()
        npd = dtypes.to_dtype(cast_inputs).np
        a, k = _map_tensors(lambda t: _to(t, npd) if t._data.dtype.kind in "fV" else t, args[1:], kwargs)
        with autocast(device_type, enabled=False):
            return fwd(ctx, *a, **k)

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """Decorator for a custom ``Function.backward``: run it under the autocast state its forward saw."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        with autocast(device_type, dtype=ctx._dtype, enabled=ctx._fwd_used_autocast):
            return bwd(*args, **kwargs)

    return decorate_bwd
