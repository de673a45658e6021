"""Record the ops one eager call runs, as a replayable program (the trace half of ``tinytorch.compile``).

A trace runs the function eagerly while ``Function.apply``'s recorder hook sees every op with its
arguments. Each tensor argument is resolved to where it came from: a program input, the output of an
earlier recorded op, a Python number an op wrapped, or a tensor from outside (a parameter, a buffer, or
one built by untracked code). Some Python-level operations are recorded whole as *steps* that replay
re-runs (see ``_leaves``): in-place tensor methods, ``.grad`` reads and writes, ``detach``, dropout,
BatchNorm's forward, ``Tensor.backward``, optimizer and scheduler ``step``/``zero_grad``, and functions
under ``torch._dynamo.disable``. The hooks are class attributes swapped in for the length of one traced
call and restored after it.

Anything that would make a replay differ from eager sets the trace's ``reason``: reading a tensor into
Python (``item``, ``bool``, ``tolist``, ``numpy``, ``.data``), random numbers drawn outside a step, a
change to an input, an outside tensor or a ``.grad`` outside a step, ``autograd.backward/grad``, module
hooks, autocast, CUDA tensors.
"""
from __future__ import annotations

import functools
import sys
import threading

import numpy as np

from ..autograd import function as _function
from ..autograd import engine as _engine
from ..autograd import grad_mode
from ..ops import _common
from ..ops import activation as _activation
from .. import _arrays
from .. import random as _random
from ..tensor import Tensor
from ..amp import autocast_mode as _autocast
from . import arrays as _arrays_tier

_grad_state = grad_mode._local
_autocast_state = _autocast._local

# spec tags: ("s", k) slot k; ("sd", k) slot k's raw array; ("u", obj) an outside tensor or array (decided
# by comparing two traces: the same object -> live reference, equal values -> constant); ("v", x) a value;
# ("L"/"T", [specs]) list/tuple; ("D", [(key, spec)]) dict.


def _root(a):
    while getattr(a, "base", None) is not None:
        a = a.base
    return a


def _plain(a):
    """The array itself: for the array recorder's wrapper (:mod:`.arrays`), the array it wraps."""
    return a.base if type(a) is _arrays_tier._Rec and a._k is not None else a


def _state(t):
    g = t._grad
    return (t._data, t._vc[0], g, None if g is None else g._data, None if g is None else g._vc[0])


def _same_state(a, b):
    return (a[0] is b[0] and a[1] == b[1] and a[2] is b[2] and a[3] is b[3] and a[4] == b[4])


@_arrays_tier.paused
def _gen_state():
    return _random.default_generator._np.bit_generator.state


class Trace:
    """One recorded eager call: ops, input/output structure, and what it touched."""

    def __init__(self, inputs):
        self.grad_modes = []  # grad mode each op ran under (a no_grad block inside the function)
        self.ops = []  # (kind, fn, argspec, kwspec, outspec); kind "apply" (a Function) or "leaf" (a re-run step)
        self.n_slots = 0
        self.tmap = {}  # id(tensor) -> (slot, data, tensor)
        self.dmap = {}  # id(array) -> (slot, array)
        self.inputs = inputs
        self.watched = {}  # id(tensor) -> (tensor, state): outside tensors and parameters; they may change
        # only inside an opaque step (an optimizer step, a backward, an in-place method), which replay re-runs
        self.pyconst = {}  # id -> 0-d tensor an op built from a Python number (see run_traced)
        self.modules = []  # modules called during the trace, in call order
        self.reason = None
        self.atr = None  # the array trace recorded alongside (see run_traced)
        self.where = None  # the op being recorded, for messages
        self.depth = 0  # >0 inside an opaque step: its inner ops are not recorded
        self.thread = threading.get_ident()  # the hooks are process-wide: other threads' ops are not ours
        for t in inputs:
            self._new_slot(t)
            self.watch(t)  # its .grad may change only inside a recorded step (a backward)
        self.input_data = [t._data for t in inputs]
        self.input_versions = [t._vc[0] for t in inputs]
        self.roots = {id(_root(t._data)) for t in inputs}
        self.input_values = [t._data.copy() for t in inputs]  # to tell constants from input-derived values
        self.gen = _gen_state()

    def fail(self, why):
        if self.reason is None and self.depth == 0 and threading.get_ident() == self.thread:
            self.reason = f"{why} [at {self.where}]" if self.where else why

    def _new_slot(self, t):
        k = self.n_slots
        self.n_slots += 1
        self.tmap[id(t)] = (k, t._data, t)
        self.dmap[id(t._data)] = (k, t._data)
        return k

    @_arrays_tier.paused
    def _check_gen(self):
        st = _gen_state()
        if st != self.gen:
            self.fail("random numbers were drawn outside a recorded op (e.g. torch.rand in forward)")
            self.gen = st

    # ---- resolving arguments -----------------------------------------------------------------------
    @_arrays_tier.paused
    def enc(self, x):
        if isinstance(x, Tensor):
            e = self.tmap.get(id(x))
            if e is not None and e[2] is x:
                if x._data is e[1]:
                    return ("s", e[0])
                d = self.dmap.get(id(x._data))
                if d is not None and d[1] is x._data:  # rebound in place to a recorded op's output
                    return ("s", d[0])
                self.fail("a tensor was changed outside the recorded ops")
                return ("s", e[0])
            d = self.dmap.get(id(x._data))
            if d is not None and d[1] is x._data:  # a new no-grad wrapper of a recorded array
                return ("sdet", d[0])
            p = self.pyconst.get(id(x))
            if p is not None and p is x:  # a Python number wrapped by an op (x * 1.01): a value like 1.01
                return ("pyc", x)
            self.watch(x)
            if _plain(x._data).base is not None and id(_root(x._data)) in self._live_roots():
                self.fail("a tensor derived from an input or an intermediate outside the recorded ops")
            return ("u", x)
        if hasattr(x, "__array_interface__") or hasattr(x, "__cuda_array_interface__"):
            if isinstance(x, np.generic):
                return ("v", x)
            d = self.dmap.get(id(x))
            if d is not None and d[1] is x:
                return ("sd", d[0])
            v = self._view_of_slot(x) if _plain(x).base is not None else None
            if v is not None:
                return v
            if _plain(x).base is not None and id(_root(x)) in self._live_roots():
                self.fail("an array derived from an input or an intermediate outside the recorded ops")
            return ("u", x)
        t = type(x)
        if t is list or t is tuple:
            return ("L" if t is list else "T", [self.enc(a) for a in x])
        if t is dict:
            return ("D", [(k, self.enc(v)) for k, v in x.items()])
        return ("v", x)

    def watch(self, t):
        if id(t) not in self.watched:
            if self.atr is not None:  # the array recorder wraps it first: the state below sees its array
                self.atr.wrap(t)
            self.watched[id(t)] = (t, _state(t))

    @_arrays_tier.paused
    def check_watched(self):
        for t, st in self.watched.values():
            if not _same_state(st, _state(t)):
                self.fail(f"a tensor from outside (shape {tuple(t.shape)}) or its .grad was changed by code "
                          "the trace does not record")
                return

    @_arrays_tier.paused
    def resnap(self):
        self.watched = {k: (t, _state(t)) for k, (t, _) in self.watched.items()}

    def _view_of_slot(self, x):
        """("sview", k, shape, strides, base shape, base strides) when ``x`` is a NumPy view at the start of
        slot k's array (a reshape or flatten of it, taken by untracked code): replay takes the same view."""
        if not isinstance(x, np.ndarray):
            return None
        root, ptr = _root(x), x.__array_interface__["data"][0]
        for k, d in self.dmap.values():
            if isinstance(d, np.ndarray) and _root(d) is root and d.__array_interface__["data"][0] == ptr \
                    and d.dtype == x.dtype:
                return ("sview", k, x.shape, x.strides, d.shape, d.strides)
        return None

    def _live_roots(self):
        return self.roots | {id(_root(d)) for _, d in self.dmap.values()}

    def add_outputs(self, out):
        if isinstance(out, Tensor):
            return ("s", self._new_slot(out))
        t = type(out)
        if t is list or t is tuple:
            return ("L" if t is list else "T", [self.add_outputs(o) for o in out])
        return ("v", out)

    # ---- hooks --------------------------------------------------------------------------------------
    @_arrays_tier.paused
    def on_apply(self, cls, args, kwargs, out):
        if self.depth or threading.get_ident() != self.thread:
            return
        self._check_gen()
        self.where = f"op {len(self.ops)} ({cls.__name__})"
        if _autocast_state.on:
            self.fail("autocast is on: autocast regions are not captured yet")
        argspec = self.enc(tuple(args))
        kwspec = self.enc(dict(kwargs))
        self.ops.append(("apply", cls, argspec, kwspec, self.add_outputs(out)))
        self.grad_modes.append(_grad_state.enabled)

    def leaf(self, fn, args, kwargs):
        """Run ``fn`` as one opaque step that replay re-runs (it may draw random numbers)."""
        if self.depth or threading.get_ident() != self.thread:
            return fn(*args, **kwargs)
        self._check_gen()
        self.where = f"op {len(self.ops)} ({getattr(fn, '__qualname__', fn)})"
        self.check_watched()
        argspec = self.enc(tuple(args))
        kwspec = self.enc(dict(kwargs))
        before = [None if not isinstance(a, Tensor) else _state(a) for a in args]
        self.depth += 1
        try:
            out = fn(*args, **kwargs)
        finally:
            self.depth -= 1
        self.gen = _gen_state()
        for i, a in enumerate(args):  # in place on an argument: later uses see the new data
            if not isinstance(a, Tensor):
                continue
            e = self.tmap.get(id(a))
            if e is not None and e[2] is a:
                if a._data is not e[1]:
                    self.tmap[id(a)] = (e[0], a._data, a)
                    self.dmap[id(a._data)] = (e[0], a._data)
            elif argspec[1][i][0] == "u" and not _same_state(before[i], _state(a)):
                argspec[1][i] = ("ubind", a, self._new_slot(a))  # replay binds the object it builds
        self.resnap()
        self.grad_modes.append(_grad_state.enabled)
        self.where = f"after {self.where}"
        if isinstance(out, Tensor) and id(out) in self.tmap and self.tmap[id(out)][2] is out:
            # returned an existing tensor (dropout when not training): alias, no new slot
            self.ops.append(("leaf", fn, argspec, kwspec, ("alias", self.tmap[id(out)][0])))
            return out
        self.ops.append(("leaf", fn, argspec, kwspec, self.add_outputs(out)))
        return out

    def finish(self, result):
        """Check what the call changed; return the output spec (or set ``reason``)."""
        self._check_gen()
        for t, data, version in zip(self.inputs, self.input_data, self.input_versions):
            if t._data is not data or t._vc[0] != version:
                self.fail("the function changes an input in place; inputs it does not own are not captured")
        self.check_watched()
        arrays = [d for _, d in self.dmap.values()] + [t._data for t, _ in self.watched.values()]
        if any(_arrays.is_cupy_array(a) for a in arrays):
            self.fail('CUDA tensors replay only under mode="reduce-overhead" (CUDA graphs); here they run eagerly')
        return self.enc_output(result)

    def enc_output(self, x):
        if isinstance(x, Tensor):
            return self.enc(x)
        t = type(x)
        if t is list or t is tuple:
            return ("L" if t is list else "T", [self.enc_output(a) for a in x])
        if t is dict:
            return ("D", [(k, self.enc_output(v)) for k, v in x.items()])
        if x is None or isinstance(x, (bool, int, float, str)):
            return ("v", x)
        self.fail(f"the function returns a {type(x).__name__}, which a replay cannot rebuild")
        return ("v", x)


# ---- installing the hooks for the length of one trace ----------------------------------------------------
_READS = ("item", "tolist", "__bool__", "numpy", "__float__", "__int__", "__index__", "__array__")


_current = [None]  # the trace in progress


def eager_step(fn):
    """``fn`` as a step that every replay re-runs whole (``torch._dynamo.disable``): its Python, side effects
    and ``.item()`` calls included. Its tensor results feed later ops; a Python result must not steer them."""
    if getattr(fn, "_tt_eager_step", False):
        return fn

    @functools.wraps(fn)
    def step(*args, **kwargs):
        tr = _current[0]
        if tr is None:
            return _arrays_tier.live_call(fn, args, kwargs)
        out = _arrays_tier.live_call(lambda *a, **k: tr.leaf(fn, a, k), args, kwargs, real=fn)
        if tr.depth == 0 and not (out is None or isinstance(out, Tensor)):
            tr.fail(f"{getattr(fn, '__qualname__', fn)} (compiler-disabled) returned a "
                    f"{type(out).__name__}, which a replay cannot feed back into Python")
        return out
    step._tt_eager_step = True
    return step


def _leaves():
    """Python-level steps recorded whole and re-run by replay: in-place tensor methods (they write into
    the tensor's memory), in-place random fills, and BatchNorm's forward (it updates running statistics in place)."""
    from ..ops import inplace as _inplace, random_ops as _random_ops  # tracer loads with the core
    from ..nn.modules.normalization import _BatchNorm  # nn and optim sit above the tracer

    names = tuple(_inplace.TENSOR_METHODS) + tuple(getattr(_random_ops, "TENSOR_METHODS", ())) + (
        "__iadd__", "__isub__", "__imul__", "__itruediv__", "__setitem__", "backward")
    return [(Tensor, n) for n in names] + [(_BatchNorm, "forward")] + _arrays_tier.optimizer_steps()


def run_traced(fn, args, kwargs, inputs, module_cls, arrays=False):
    """Call ``fn(*args, **kwargs)`` eagerly under the recorder; returns (trace, result, out_spec).

    With ``arrays`` the array-level recorder (:mod:`.arrays`) runs too; ``trace.arrays`` is then
    (array trace, its output spec), else None."""
    atr = None
    if arrays and len({id(t) for t in inputs}) == len(inputs) and all(type(t._data) is np.ndarray for t in inputs):
        atr = _arrays_tier.ArrayTrace(inputs)  # before Trace: it snapshots the inputs' (now recorded) arrays
    tr = Trace(inputs)
    tr.arrays = None
    tr.atr = atr
    saved = {}

    def patch(owner, name, new):
        if (owner, name) in saved:  # listed twice (a class re-exported by another module)
            return
        saved[(owner, name)] = owner.__dict__[name]
        setattr(owner, name, new)

    def reader(name, orig):
        def read(self, *a, **k):
            tr.fail(f"Tensor.{name}() reads a tensor into Python during the call (it may steer control flow)")
            return orig(self, *a, **k)
        return read

    for name in _READS:
        if name in Tensor.__dict__:
            patch(Tensor, name, reader(name, Tensor.__dict__[name]))
    data_prop = Tensor.__dict__["data"]

    def data_get(self):
        tr.fail("Tensor.data is used during the call (untracked aliasing)")
        return data_prop.fget(self)
    patch(Tensor, "data", property(data_get, data_prop.fset))
    make = Tensor.__dict__["_make"].__func__
    scalar_codes = {_common.binary_operands.__code__, _common._as.__code__, _common.ensure_tensor.__code__}

    def _make(data, *a, **k):
        t = make(data, *a, **k)
        if getattr(data, "ndim", None) == 0 and sys._getframe(1).f_code in scalar_codes:
            tr.pyconst[id(t)] = t
        return t
    patch(Tensor, "_make", staticmethod(_make))
    grad_prop = Tensor.__dict__["grad"]
    # reading or assigning .grad is a step replay re-runs: the live gradient, not the traced one
    patch(Tensor, "grad", property(lambda self: tr.leaf(grad_prop.fget, (self,), {}),
                                   lambda self, v: tr.leaf(grad_prop.fset, (self, v), {})))
    orig_detach = Tensor.__dict__["detach"]

    def detach(self):
        return tr.leaf(orig_detach, (self,), {})
    patch(Tensor, "detach", detach)
    orig_backward = _engine.run_backward

    def run_backward(*a, **k):
        tr.fail("torch.autograd.backward/grad runs inside the function; only Tensor.backward() is captured")
        tr.depth += 1
        try:
            return orig_backward(*a, **k)
        finally:
            tr.depth -= 1
    patch(_engine, "run_backward", run_backward)
    for name in ("_dropout_impl", "_alpha_dropout_impl"):
        orig = _activation.__dict__[name]
        patch(_activation, name, _leaf_wrapper(tr, orig))
    for owner, name in _leaves():
        if name in owner.__dict__:
            patch(owner, name, _leaf_wrapper(tr, owner.__dict__[name]))
    orig_call = module_cls.__dict__["__call__"]

    def module_call(self, *a, **k):
        if tr.depth == 0 and threading.get_ident() == tr.thread:
            tr.modules.append(self)
            for t in list(self._parameters.values()) + list(self._buffers.values()):
                if t is not None:
                    tr.watch(t)
            if self._forward_hooks or self._forward_pre_hooks or self._backward_hooks:
                tr.fail(f"module {type(self).__name__} has hooks, which a replay would not run")
        return orig_call(self, *a, **k)
    patch(module_cls, "__call__", module_call)

    previous = _function.set_tracer(None)

    def on_apply(cls, a, k, out):
        tr.on_apply(cls, a, k, out)
        if previous is not None:
            previous(cls, a, k, out)
    _function.set_tracer(on_apply)
    outer, _current[0] = _current[0], tr
    remove = None
    try:
        if atr is not None:  # installed last: its Module.__call__ hook wraps parameters before the watch above
            remove = _arrays_tier.install(atr, module_cls, _arrays_tier.live_classes(module_cls))
        result = fn(*args, **kwargs)
        if atr is not None and not atr.dead and grad_mode.is_grad_enabled():
            tr.depth += 1  # the recorded backward's ops are the array tier's, not the op-level program's
            try:
                atr.record_backward(result, orig_backward, [t._grad_fn for t in inputs if t._grad_fn is not None])
            finally:
                tr.depth -= 1
    except BaseException:
        if atr is not None:
            atr.restore()
        raise
    finally:
        if remove is not None:
            remove()
        _current[0] = outer
        _function.set_tracer(previous)
        for (owner, name), orig in saved.items():
            setattr(owner, name, orig)
    try:
        out_spec = tr.finish(result)
    finally:
        tr.atr = None
        if atr is not None:
            aout = atr.finish(result, [t for t, _ in tr.watched.values()])
            tr.arrays = (atr, aout)
    return tr, result, out_spec


def _leaf_wrapper(tr, orig):
    def leaf(*a, **k):
        return tr.leaf(orig, a, k)
    leaf._tt_orig = orig
    return leaf
