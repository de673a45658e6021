"""Array-level capture and replay (the fast tier of ``tinytorch.compile``), CPU/NumPy only.

While a call is traced, the arrays the ops work on are ``_Rec`` arrays: an ``ndarray`` subclass whose
``__array_ufunc__``/``__array_function__`` hooks and overridden methods (``reshape``, ``sum``,
``__getitem__`` ...) record every NumPy operation as one instruction ``(callable, argument slots, result
slot)`` before running it on the plain arrays underneath. NumPy's creation functions (``zeros``,
``asarray``, ``lib.stride_tricks.as_strided`` ...) are recorded too while the trace runs, random draws
through ``Generator.for_device`` become draw instructions (replay draws fresh numbers from the live
generator, the same stream eager uses), a leaf's gradient accumulation becomes an instruction that
rebinds ``.grad`` as the engine would, and optimizer/scheduler ``step``/``zero_grad``, ``Module.zero_grad``
and compiler-disabled functions are *live steps*: replay calls them, so every hyper-parameter they read
(an LR scheduler's ``lr``, Adam's step count and bias corrections) is read when the replay runs.

Parameters and buffers of the modules a call runs are wrapped at the start of their module call: replay
binds their arrays by identity (they are updated in place) and the guard checks that identity, and
``requires_grad``, on every call. Two traced calls must record the same instructions; an array from
outside the recorded operations must be the same object in both (a live array), never a new one
(the trace cannot know what it was computed from). A value read into Python (``bool``, ``float``,
``item``), an array made by an operation the recorder does not see, a data-dependent shape (boolean
indexing, ``nonzero``), or a ``.grad`` or tensor rebinding outside the recorded steps refuse the array tier:
the call site keeps the op-level replay (``program.Program``), which is always correct. Outputs whose
autograd graph is still alive (backward outside the compiled function) get a recorded backward
(``ArrayTrace.record_backward``): instructions after a ``mark``, from seed slots to the gradients of the
parameters and inputs; the graph beyond an input that is not a leaf is the caller's and is not walked.

Replay is generated Python: straight-line code, one line per instruction, slots as local variables.
A ufunc result that never leaves the program (not returned, not a ``.grad``, not handed to a live step,
no view of it escaping) is written into a buffer the program owns (``out=``), reused across replays;
creation instructions whose result is never written (Python scalars as 0-d operands) are folded into
constants.
"""
from __future__ import annotations

import functools
import os
import threading
import traceback

import numpy as np

from .. import _arrays
from .. import random as _random
from ..autograd import engine as _engine
from ..autograd.function import AccumulateGrad, Function, _FREED_MSG
from ..tensor import Tensor

_nd = np.ndarray
_DEBUG = "compile_arrays" in os.environ.get("TINYTORCH_LOGS", "")  # print where array capture was refused
_GRAD_PROP = Tensor.__dict__["grad"]  # the real property, whatever a tracer installs over it
_view = np.ndarray.view
_asarray = np.asarray  # the real one: the recorder replaces np.asarray while a trace runs
_SCALARS = (int, float, bool, complex, str, bytes, type(None), slice, type(Ellipsis), np.dtype, type)

# functions whose non-array result is metadata, not a value read
_META = {np.ndim, np.shape, np.size, np.result_type, np.may_share_memory, np.shares_memory}
# outputs whose shape depends on the values: a replay could not reuse the shapes Python computed from them
_DATA_SHAPED = {np.nonzero, np.argwhere, np.flatnonzero, np.unique, np.compress, np.extract,
                np.ndarray.nonzero, np.ndarray.compress}
# (callable, index of the argument written in place)
_MUTATING = {np.ndarray.__setitem__: 0, np.ndarray.fill: 0, np.ndarray.sort: 0, np.ndarray.put: 0,
             np.ndarray.partition: 0, np.copyto: 0, np.put: 0, np.place: 0, np.putmask: 0,
             np.fill_diagonal: 0, np.ndarray.setflags: 0}
_CREATORS = ("zeros", "ones", "empty", "full", "arange", "eye", "identity", "linspace", "asarray", "array",
             "ascontiguousarray", "asanyarray", "asfortranarray", "tri")


class _S:
    rec = None  # the ArrayTrace being recorded, or None


def _unwrap(x):
    t = type(x)
    if t is _Rec:
        return _view(x, _nd)
    if t is tuple or t is list:
        return t([_unwrap(v) for v in x])
    if t is dict:
        return {k: _unwrap(v) for k, v in x.items()}
    return x


def _active():
    rec = _S.rec
    if rec is None or rec.depth or rec.dead or threading.get_ident() != rec.thread:
        return None
    return rec


def _call(fn, args, kwargs, ufunc=False):
    rec = _active()
    if rec is None:  # outside a recording (or inside a live step): a plain NumPy call
        out = fn(*_unwrap(args), **_unwrap(kwargs))
        o = kwargs.get("out")
        if o is not None:  # in place: the caller's own object back (``a += b`` keeps ``a``)
            return (o[0] if len(o) == 1 else o) if ufunc and type(o) is tuple else o
        return out
    return rec.record(fn, args, kwargs, ufunc)


_UMETHODS = {}


def _ufunc_method(ufunc, method):
    """``ufunc.reduce`` etc. as one object per (ufunc, method): instructions compare callables by identity."""
    f = _UMETHODS.get((ufunc, method))
    if f is None:
        f = _UMETHODS[(ufunc, method)] = getattr(ufunc, method)
    return f


def _method(name):
    f = getattr(_nd, name)

    def m(self, *a, **k):
        return _call(f, (self,) + a, k)
    m.__name__ = name
    return m


def _reader(name):
    f = getattr(_nd, name)

    def read(self, *a, **k):
        rec = _active()
        if rec is not None:
            rec.refuse(f"a value is read into Python (ndarray.{name})")
        return f(_view(self, _nd), *a, **k)
    read.__name__ = name
    return read


class _Rec(np.ndarray):
    """An array whose NumPy operations are recorded while a trace runs (plain NumPy otherwise)."""

    _k = None  # its slot; None for an array NumPy derived without the recorder seeing it

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        fn = ufunc if method == "__call__" else _ufunc_method(ufunc, method)
        return _call(fn, inputs, kwargs, ufunc=True)

    def __array_function__(self, func, types, args, kwargs):
        return _call(func, args, kwargs)

    reshape = _method("reshape")
    transpose = _method("transpose")
    swapaxes = _method("swapaxes")
    view = _method("view")
    astype = _method("astype")
    copy = _method("copy")
    ravel = _method("ravel")
    flatten = _method("flatten")
    squeeze = _method("squeeze")
    sum = _method("sum")
    mean = _method("mean")
    max = _method("max")
    min = _method("min")
    prod = _method("prod")
    any = _method("any")
    all = _method("all")
    argmax = _method("argmax")
    argmin = _method("argmin")
    std = _method("std")
    var = _method("var")
    cumsum = _method("cumsum")
    cumprod = _method("cumprod")
    clip = _method("clip")
    round = _method("round")
    conj = _method("conj")
    dot = _method("dot")
    repeat = _method("repeat")
    take = _method("take")
    put = _method("put")
    fill = _method("fill")
    sort = _method("sort")
    argsort = _method("argsort")
    partition = _method("partition")
    argpartition = _method("argpartition")
    searchsorted = _method("searchsorted")
    diagonal = _method("diagonal")
    trace = _method("trace")
    nonzero = _method("nonzero")
    compress = _method("compress")
    setflags = _method("setflags")
    byteswap = _method("byteswap")
    __getitem__ = _method("__getitem__")
    __setitem__ = _method("__setitem__")
    __copy__ = _method("__copy__")
    __deepcopy__ = _method("__deepcopy__")
    def __bool__(self):
        rec = _active()
        v = _nd.__bool__(_view(self, _nd))
        if rec is not None:
            rec.value_guard(self, v)
        return v

    __float__ = _reader("__float__")
    __int__ = _reader("__int__")
    __index__ = _reader("__index__")
    __complex__ = _reader("__complex__")
    __iter__ = _reader("__iter__")
    __contains__ = _reader("__contains__")
    item = _reader("item")
    tolist = _reader("tolist")
    tobytes = _reader("tobytes")

    def __repr__(self):
        return repr(_view(self, _nd))

    def __str__(self):
        return str(_view(self, _nd))

    T = property(lambda self: _call(np.transpose, (self,), {}))  # NumPy's names
    mT = property(lambda self: _call(np.matrix_transpose, (self,), {}))

    @property
    def flat(self):
        rec = _active()
        if rec is not None:
            rec.refuse("ndarray.flat is used (not recorded)")
        return _view(self, _nd).flat


def _root(a):
    while isinstance(a, _nd) and a.base is not None:
        a = a.base
    return a


def _layout(a):
    return (a.__array_interface__["data"][0], a.shape, a.strides, a.dtype)


class _ReplayedBackward(Function):
    """grad_fn of a replayed output whose graph a backward inside the call already freed (as eager's is)."""

    _released = True

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(_FREED_MSG)


class ArrayTrace:
    """The array instructions of one eager call (see the module docstring)."""

    def __init__(self, inputs):
        self.thread = threading.get_ident()
        self.depth = 0  # >0 inside a live step or the recorder's own NumPy calls
        self.dead = False
        self.reason = None
        self.ins = []  # (kind, fn, argspec, kwspec, outspec)
        self.meta = {}  # slot -> (shape, dtype, strides, root id, was a NumPy scalar)
        self.plain = {}  # id(plain array) -> (slot, plain array)
        self.n_slots = 0
        self.inputs = inputs
        self.tensors = {}  # id(tensor) -> ("in", i) or ("obj", t) for tensors from outside the call
        self.wrapped = []  # (tensor, plain array, slot): tensors whose ._data the trace replaced by a _Rec
        self.grads = []  # (tensor, plain array) of .grad arrays the trace replaced, restored at the end
        self.wrapped_ids = set()
        self.versions = {}  # id(tensor) -> [tensor, version at start, versions bumped by live steps]
        self.expect_grad = {}  # id(tensor) -> the .grad tensor the recorded steps left
        self.created = set()  # ids of tensors made during the call (by the recorded ops)
        self.roots_out = []  # slots whose arrays leave the program (outputs, grads, live-step arguments)
        self.written = set()  # slots written in place by an instruction
        self.values = {}  # slot -> array made by a creation call from constants only (a folding candidate)
        self.bwd = None  # (slots before the backward, seed slots, target specs, gradient specs), see record_backward
        self.graph_outs = {}  # id(output tensor) -> its index among the outputs the recorded backward starts from
        self.in_bwd = False
        for i, t in enumerate(inputs):
            self.tensors[id(t)] = ("in", i)
            self.wrap(t)

    # ---- failure --------------------------------------------------------------------------------
    def refuse(self, why):
        if self.reason is None:
            self.reason = why
            if _DEBUG:
                traceback.print_stack()
        self.dead = True

    # ---- slots ----------------------------------------------------------------------------------
    def _new(self, plain, scalar=False):
        k = self.n_slots
        self.n_slots += 1
        self.plain[id(plain)] = (k, plain)
        self.meta[k] = (plain.shape, plain.dtype, plain.strides, id(_root(plain)), scalar)
        r = _view(plain, _Rec)
        r._k = k
        return r

    def wrap(self, t):
        """Replace ``t._data`` by a recorded view of it for the length of the trace (a live slot)."""
        if id(t) in self.wrapped_ids:
            return
        d = t._data
        if type(d) is _Rec or not isinstance(d, _nd):
            return
        self.wrapped_ids.add(id(t))
        self.tensors.setdefault(id(t), ("obj", t))
        r = self._new(d)
        self.wrapped.append((t, d, r._k))
        self.versions[id(t)] = [t, t._vc[0], 0]
        self.expect_grad[id(t)] = t._grad
        t._data = r

    def wrap_module(self, m):
        for t in list(m.parameters()) + list(m.buffers()):
            if t is not None:
                self.wrap(t)

    # ---- encoding arguments ---------------------------------------------------------------------
    def enc(self, x, written=False):
        t = type(x)
        if t is _Rec:
            k = x._k
            if k is None:
                self.refuse("an array was made by an operation the recorder does not see")
                return ("v", None)
            if written:
                self.written.add(k)
            return ("s", k)
        if isinstance(x, _nd):
            e = self.plain.get(id(x))
            if e is not None and e[1] is x:
                if written:
                    self.written.add(e[0])
                return ("s", e[0])
            if x.base is not None:
                root = _root(x)
                e = self.plain.get(id(root))
                if e is not None or any(m[3] == id(root) for m in self.meta.values()):
                    self.refuse("a view of a recorded array was taken outside the recorded operations")
            return ("uw" if written else "u", x)
        if isinstance(x, np.generic) or t in _SCALARS:
            return ("v", x)
        if t is tuple or t is list:
            return ("T" if t is tuple else "L", [self.enc(v, written) for v in x])
        if t is dict:
            return ("D", [(k, self.enc(v, written and k == "out")) for k, v in x.items()])
        if isinstance(x, Tensor):
            self.refuse("a tensor is passed to a NumPy function")
        return ("v", x)

    def enc_result(self, res):
        if isinstance(res, _nd):
            return self._new(res), ("s", self.n_slots - 1)
        if isinstance(res, np.generic):  # a full reduction: replay keeps it a 0-d array, as the trace sees it
            return self._new(_asarray(res), scalar=True), ("s0", self.n_slots - 1)
        if type(res) in (tuple, list) and res and all(isinstance(r, _nd) for r in res):
            outs = [self._new(r) for r in res]
            return type(res)(outs), ("T", [("s", o._k) for o in outs])
        return res, None

    # ---- recording ------------------------------------------------------------------------------
    def record(self, fn, args, kwargs, ufunc=False):
        plain_args, plain_kw = _unwrap(args), _unwrap(kwargs)
        if fn in _DATA_SHAPED:
            self.refuse(f"{getattr(fn, '__name__', fn)} has a data-dependent output shape")
        elif fn is _nd.__getitem__ and _bool_index(plain_args[1]):
            self.refuse("boolean-mask indexing has a data-dependent output shape")
        w = _MUTATING.get(fn)
        argspec = tuple(self.enc(a, written=(i == w or (ufunc and fn.__name__ == "at" and i == 0)))
                        for i, a in enumerate(args))
        kwspec = self.enc(kwargs, written=True)
        self.depth += 1
        try:
            res = fn(*plain_args, **plain_kw)
        finally:
            self.depth -= 1
        if self.dead:
            return _passthrough(res, kwargs, ufunc)
        o = kwargs.get("out")
        if w is None and o is None and isinstance(res, _nd):
            for x, p in zip(args, plain_args):  # asarray(x), astype(copy=False) ...: x itself, no instruction
                if res is p and type(x) is _Rec and x._k is not None and not (ufunc and fn.__name__ == "at"):
                    return x
        if o is not None:  # written into the caller's array: no new slot
            self.ins.append(("call", fn, argspec, kwspec, None))
            return (o[0] if len(o) == 1 else o) if ufunc and type(o) is tuple else o
        wrapped, outspec = self.enc_result(res)
        if outspec is not None and outspec[0] in ("s", "s0") and getattr(fn, "_tt_creator", False) \
                and not _has_slot(argspec) and not _has_slot(kwspec) and getattr(res, "nbytes", 1 << 20) <= 1 << 16:
            self.values[outspec[1]] = _asarray(res)
        if outspec is None and res is not None:
            if fn in _META:
                return res
            self.refuse(f"a value is read into Python ({getattr(fn, '__name__', fn)} returned "
                        f"{type(res).__name__})")
            return res
        self.ins.append(("call", fn, argspec, kwspec, outspec))
        return wrapped

    def enc_tensor(self, t):
        """A tensor an instruction names: an input, one from outside, or one built from a slot."""
        e = self.tensors.get(id(t))
        if e is not None:
            return e
        if type(t._data) is _Rec and t._data._k is not None and not t._requires_grad:
            return ("ts", t._data._k)
        self.refuse("a tensor made during the call is handed to a step the replay re-runs")
        return ("v", None)

    def live(self, fn, args, kwargs, real=None):
        """Run ``fn`` as a live step: replay calls ``real`` (default ``fn``) again (optimizer steps,
        schedulers, zero_grad), so it reads every hyper-parameter when the replay runs."""
        spec = tuple(self.enc_tensor(a) if isinstance(a, Tensor) else ("v", a) for a in args)
        kwspec = ("D", [(k, self.enc_tensor(v) if isinstance(v, Tensor) else ("v", v)) for k, v in kwargs.items()])
        for s in spec + tuple(v for _, v in kwspec[1]):
            if s[0] == "ts":
                self.roots_out.append(s[1])
        before = {k: v[0]._vc[0] for k, v in self.versions.items()}
        self.depth += 1
        try:
            out = fn(*args, **kwargs)
        finally:
            self.depth -= 1
        for k, v in self.versions.items():
            v[2] += v[0]._vc[0] - before[k]
        for t, plain, _ in self.wrapped:
            if not (t._data is plain or (type(t._data) is _Rec and t._data.base is plain)):
                self.refuse(f"{getattr(fn, '__qualname__', fn)} rebinds a parameter's array")
        for k in self.expect_grad:
            self.expect_grad[k] = self.versions[k][0]._grad
        outspec = None
        if isinstance(out, Tensor):
            if isinstance(out._data, _nd) and not out._requires_grad:
                d = _view(out._data, _nd) if type(out._data) is _Rec else out._data
                out._data = self._new(d)
                outspec = ("ts", out._data._k)
            else:
                self.refuse("a live step returns a tensor that requires grad")
        elif out is not None:
            self.refuse(f"{getattr(fn, '__qualname__', fn)} returns a {type(out).__name__} into the traced code")
        if not self.dead:
            self.ins.append(("live", fn if real is None else real, spec, kwspec, outspec))
        return out

    def accumulate(self, orig, node, buf, capture, results, accumulate, create_graph, user_grads):
        """The engine adding a leaf's gradient into ``.grad``: an instruction that does the same at replay."""
        var = node.variable
        g = buf[0] if buf else None
        if self.in_bwd:  # record_backward's capture: the gradient is a result, no .grad is touched
            return orig(node, buf, capture, results, accumulate, create_graph, user_grads)
        if g is None or capture is not None or not accumulate or create_graph:
            if g is not None:
                self.refuse("autograd.grad / create_graph inside the call")
            return orig(node, buf, capture, results, accumulate, create_graph, user_grads)
        tspec = self.enc_tensor(var)
        gspec = self.enc(g._data)
        self.depth += 1
        try:
            orig(node, buf, capture, results, accumulate, create_graph, user_grads)
        finally:
            self.depth -= 1
        if self.dead:
            return None
        gr = var._grad
        d = gr._data if type(gr._data) is not _Rec else _view(gr._data, _nd)
        self.grads.append((gr, d))
        gr._data = self._new(d)
        self.roots_out.append(gr._data._k)
        if gspec[0] == "s":
            self.roots_out.append(gspec[1])
        self.expect_grad[id(var)] = gr
        self.ins.append(("acc", None, (tspec, gspec), None, ("s", gr._data._k)))
        return None

    def set_grad(self, fset, t, v):
        tspec = self.enc_tensor(t)
        if v is None:
            vspec = ("v", None)
        elif type(v._data) is _Rec and v._data._k is not None and not v._requires_grad:
            vspec = ("ts", v._data._k)
            self.roots_out.append(v._data._k)
        else:
            vspec = self.enc_tensor(v)
        self.depth += 1
        try:
            fset(t, v)
        finally:
            self.depth -= 1
        self.expect_grad[id(t)] = t._grad
        self.ins.append(("setgrad", _GRAD_PROP.fset, (tspec, vspec), None, None))

    def value_guard(self, x, v):
        """``bool(x)`` steered tinytorch's own code (a NaN check): replay checks it gives ``v`` again."""
        spec = self.enc(x)
        if spec[0] != "s":
            self.refuse("a value is read into Python (ndarray.__bool__)")
            return
        self.ins.append(("guard", None, (spec,), None, v))

    def check(self, orig, xp, bad, make_error):
        if type(bad) is not _Rec:
            return orig(xp, bad, make_error)
        spec = self.enc(bad)
        self.depth += 1
        try:
            orig(xp, _view(bad, _nd), make_error)
        finally:
            self.depth -= 1
        self.ins.append(("check", make_error, (spec,), None, None))
        return None

    def draw(self, gen, device, name, args, kwargs):
        fn = _Draw(gen, device, name)
        argspec = tuple(self.enc(a) for a in args)
        kwspec = self.enc(kwargs)
        self.depth += 1
        try:
            res = fn(*_unwrap(args), **_unwrap(kwargs))
        finally:
            self.depth -= 1
        wrapped, outspec = self.enc_result(res)
        if outspec is None:
            self.refuse(f"a random draw ({name}) returned a Python value")
            return res
        self.ins.append(("call", fn, argspec, kwspec, outspec))
        return wrapped

    # ---- the end of the call --------------------------------------------------------------------
    def finish(self, result, fn_watched=()):
        """Restore the tensors' arrays, check what changed outside the recorded steps; the output spec."""
        self.restore()
        for t in fn_watched:  # tensors from outside: the op-level tracer watched them; so must we
            d = t._data
            if id(t) not in self.wrapped_ids and id(t) not in self.tensors and not (type(d) is _Rec and d._k is not None):
                self.refuse("a tensor from outside was used before the recorder could watch it")
        out = self.enc_out(result)
        for k, v in self.versions.items():
            v[2] = v[0]._vc[0] - v[1] - v[2]  # the bumps the recorded (non-live) steps made
        return out

    def restore(self):
        """Give the tensors whose arrays the trace wrapped their plain arrays back (also after an error)."""
        for t, plain, _ in self.wrapped:
            d = t._data
            if type(d) is _Rec and (d is plain or d.base is plain):
                t._data = plain
            else:
                self.refuse("a parameter or buffer was rebound to a new array during the call")
                if type(d) is _Rec:
                    t._data = d.base if d._k is not None and d.base is not None else _view(d, _nd)
            if t._grad is not self.expect_grad[id(t)]:
                self.refuse("a .grad was changed outside the recorded steps")
        for gr, d in self.grads:
            if type(gr._data) is _Rec and gr._data.base is d:
                gr._data = d
        self.grads = []

    def record_backward(self, result, run_backward, inputs_graph=()):
        """Record, as instructions after the forward's, the first-order backward from the outputs of ``result``
        whose autograd graph is alive (``loss = compiled_model(x); loss.backward()`` outside) to every
        parameter, buffer and input that requires grad, as ``autograd.grad`` computes it: seeds are new slots
        the replay fills with the incoming gradients. The eager graph is kept (retain_graph) for the caller.
        ``inputs_graph``: grad_fn nodes of inputs that are not leaves: the walk stops there (their gradient is
        a result, the graph beyond is the caller's)."""
        outs = []
        _graph_outputs(result, outs, self.tensors)
        if not outs or self.dead:
            return
        targets, tspecs = [], []
        for key, e in self.tensors.items():
            t = self.inputs[e[1]] if e[0] == "in" else e[1]
            if not t._requires_grad:
                continue
            if t._grad_fn is not None and e[0] != "in":
                self.refuse("a tensor from outside the call with an autograd graph of its own is used")
                return
            if t._hooks or getattr(t, "_post_accumulate_hooks", None):
                self.refuse("a parameter or input has gradient hooks, which the replayed backward would run twice")
                return
            targets.append(t)
            tspecs.append(e)
        if not targets:
            return
        n_fwd = self.n_slots
        written_fwd = set(self.written)
        seeds = []
        for o in outs:
            self.graph_outs[id(o)] = len(seeds)
            d = o._data
            if type(d) is not _Rec or d._k is None:
                self.refuse("the result holds an array the recorder did not see")
                return
            self.depth += 1
            try:
                plain = np.ones(d.shape, dtype=d.dtype)
            finally:
                self.depth -= 1
            seeds.append(Tensor._make(self._new(plain)))
        self.ins.append(("mark", None, (), None, None))
        cut = [(n, n._edges) for n in inputs_graph]
        orig_hooks = _engine._run_tensor_hooks

        def hooks(*a):
            self.refuse("a tensor inside the call has a gradient hook or retain_grad()")
            return orig_hooks(*a)
        self.in_bwd = True
        _engine._run_tensor_hooks = hooks
        try:
            for n, _ in cut:
                n._edges = ()  # the caller's graph beyond an input: not ours to walk
            _check_graph(outs, set(map(id, targets)), {id(n) for n, _ in cut})
            grads = run_backward(outs, seeds, retain_graph=True, inputs=targets, allow_unused=True)
        except _Outside as err:
            self.refuse(str(err))
            return
        finally:
            for n, e in cut:
                n._edges = e
            _engine._run_tensor_hooks = orig_hooks
            self.in_bwd = False
        gspecs = []
        for g in grads:
            if g is None:
                gspecs.append(None)
                continue
            d = g._data
            if type(d) is not _Rec or d._k is None:
                self.refuse("a gradient is an array the recorder did not see")
                return
            self.roots_out.append(d._k)
            gspecs.append(d._k)
        if any(k < n_fwd for k in self.written - written_fwd):
            self.refuse("the backward writes into an array of the forward")
        self.bwd = (n_fwd, [s._data._k for s in seeds], tspecs, gspecs)

    def enc_out(self, x):
        if isinstance(x, Tensor):
            e = self.tensors.get(id(x))
            if e is not None:
                return e
            d = x._data
            if type(d) is not _Rec or d._k is None:
                self.refuse("the result holds an array the recorder did not see")
                return ("v", None)
            j = self.graph_outs.get(id(x))
            if j is not None:  # its gradient comes from the recorded backward (record_backward)
                if x._grad is not None:
                    self.refuse("the result has a .grad")
                x._data = _view(d, _nd)
                self.roots_out.append(d._k)
                return ("g", d._k, j)
            if x._requires_grad:
                if x._grad_fn is None or not x._grad_fn._released:
                    self.refuse("the result keeps its autograd graph (backward runs outside the compiled "
                                "function); the op-level replay handles it")
            if x._grad is not None:
                self.refuse("the result has a .grad")
            x._data = _view(d, _nd)
            self.roots_out.append(d._k)
            return ("t", d._k, x._requires_grad)
        t = type(x)
        if t is list or t is tuple:
            return ("L" if t is list else "T", [self.enc_out(a) for a in x])
        if t is dict:
            return ("D", [(k, self.enc_out(v)) for k, v in x.items()])
        return ("v", x)


class _Outside(Exception):
    pass


def _graph_outputs(x, out, known):
    """Output tensors of a result (in enc_out's order) whose autograd graph is alive."""
    if isinstance(x, Tensor):
        if (x._requires_grad and id(x) not in known and x._grad_fn is not None and not x._grad_fn._released
                and all(o is not x for o in out)):
            out.append(x)
    elif type(x) in (list, tuple):
        for v in x:
            _graph_outputs(v, out, known)
    elif type(x) is dict:
        for v in x.values():
            _graph_outputs(v, out, known)


def _check_graph(outs, targets, stops):
    """Every leaf the outputs' graph reaches is a target (a parameter, buffer or input of the call)."""
    seen, stack = set(), [o._grad_fn for o in outs]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if type(node) is AccumulateGrad:
            if id(node.variable) not in targets:
                raise _Outside("the graph reaches a tensor the recorder does not watch")
            continue
        if id(node) in stops:
            continue
        stack += [e[0] for e in node._edges if e is not None]


def _passthrough(res, kwargs, ufunc):
    o = kwargs.get("out")
    if o is not None:
        return (o[0] if len(o) == 1 else o) if ufunc and type(o) is tuple else o
    return res


def _has_slot(spec):
    tag = spec[0] if type(spec) is tuple and spec and type(spec[0]) is str else None
    if tag in ("s", "u", "uw", "s0"):
        return True
    if tag in ("T", "L"):
        return any(_has_slot(x) for x in spec[1])
    if tag == "D":
        return any(_has_slot(x) for _, x in spec[1])
    if tag is None and type(spec) is tuple:
        return any(_has_slot(x) for x in spec)
    return False


def _bool_index(idx):
    items = idx if type(idx) is tuple else (idx,)
    return any(isinstance(i, _nd) and i.dtype == np.bool_ and i.ndim > 0 for i in items)


class _Draw:
    """A random draw from a tinytorch generator's live NumPy stream (looked up at every call)."""

    __slots__ = ("gen", "device", "name")

    def __init__(self, gen, device, name):
        self.gen, self.device, self.name = gen, device, name

    def __call__(self, *a, **k):
        return getattr(_random.Generator.for_device(self.gen, self.device), self.name)(*a, **k)

    def __eq__(self, other):
        return type(other) is _Draw and (self.gen, self.device, self.name) == (other.gen, other.device, other.name)

    def __hash__(self):
        return hash((id(self.gen), self.name))


class _GenProxy:
    """What ``Generator.for_device`` returns during a trace: draws become instructions."""

    def __init__(self, rec, gen, device, np_gen):
        self._rec, self._gen, self._device, self._np = rec, gen, device, np_gen

    def __getattr__(self, name):
        attr = getattr(self._np, name)
        if not callable(attr):
            return attr

        def draw(*a, **k):
            rec = _active()
            if rec is None:
                return attr(*a, **k)
            return rec.draw(self._gen, self._device, name, a, k)
        return draw


# ---- installing and removing the hooks ------------------------------------------------------------

def install(rec, module_cls, live_classes):
    """Install the recorder hooks for ``rec``; returns a function that removes them."""
    saved = []

    def patch(owner, name, new):
        saved.append((owner, name, owner.__dict__[name] if name in owner.__dict__ else _MISSING))
        setattr(owner, name, new)

    for name in _CREATORS:
        orig = getattr(np, name)
        patch(np, name, _creator(orig))
    orig_strided = np.lib.stride_tricks.as_strided
    patch(np.lib.stride_tricks, "as_strided", _creator(orig_strided))
    orig_acc = _engine._accumulate_leaf

    def acc(*a):
        r = _active()
        if r is None:
            return orig_acc(*a)
        return r.accumulate(orig_acc, *a)
    patch(_engine, "_accumulate_leaf", acc)

    orig_check = _arrays.device_check

    def check(xp, bad, make_error):
        r = _active()
        if r is None:
            return orig_check(xp, _unwrap(bad), make_error)
        return r.check(orig_check, xp, bad, make_error)
    patch(_arrays, "device_check", check)
    orig_for_device = _random.Generator.__dict__["for_device"]

    def for_device(self, device):
        g = orig_for_device(self, device)
        r = _active()
        if r is None or not isinstance(g, np.random.Generator):
            return g
        return _GenProxy(r, self, device, g)
    patch(_random.Generator, "for_device", for_device)
    grad_prop = Tensor.__dict__["grad"]

    def grad_set(self, v):
        r = _active()
        if r is None:
            return grad_prop.fset(self, v)
        return r.set_grad(grad_prop.fset, self, v)
    patch(Tensor, "grad", property(grad_prop.fget, grad_set))
    orig_call = module_cls.__dict__["__call__"]

    def module_call(self, *a, **k):
        r = _active()
        if r is not None:
            r.wrap_module(self)
        return orig_call(self, *a, **k)
    patch(module_cls, "__call__", module_call)
    for cls, name in live_classes:
        if name in cls.__dict__:
            patch(cls, name, _live(cls.__dict__[name]))
    _S.rec = rec

    def remove():
        _S.rec = None
        for owner, name, orig in reversed(saved):
            if orig is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, orig)
    return remove


_MISSING = object()


class _Creator:
    """A NumPy creation function as an instruction callable (marked so constant-only calls may fold)."""

    __slots__ = ("fn",)
    _tt_creator = True

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *a, **k):
        return self.fn(*a, **k)


_CREATOR_FNS = {getattr(np, n): _Creator(getattr(np, n)) for n in _CREATORS}
_CREATOR_FNS[np.lib.stride_tricks.as_strided] = np.lib.stride_tricks.as_strided


def _creator(orig):
    def create(*a, **k):
        r = _active()
        if r is None:
            return orig(*_unwrap(a), **_unwrap(k))
        return r.record(_CREATOR_FNS.get(orig, orig), a, k)
    create.__name__ = getattr(orig, "__name__", "create")
    return create


def _live(orig):
    real = getattr(orig, "_tt_orig", orig)  # under the op-level tracer's wrapper: the method itself

    def step(*a, **k):
        r = _active()
        if r is None:
            return orig(*a, **k)
        return r.live(orig, a, k, real)
    step._tt_orig = real
    return step


def paused(fn):
    """``fn`` (a tracer's own bookkeeping) with the array recorder paused while it runs."""
    @functools.wraps(fn)
    def run(*a, **k):
        rec = _S.rec
        if rec is None:
            return fn(*a, **k)
        rec.depth += 1
        try:
            return fn(*a, **k)
        finally:
            rec.depth -= 1
    return run


def live_call(fn, args, kwargs, real=None):
    """Run ``fn`` as a live step of the array trace in progress (``eager_step``), or plainly; replay
    calls ``real`` (default ``fn``)."""
    r = _active()
    if r is None:
        return fn(*args, **kwargs)
    return r.live(fn, args, kwargs, real)


def live_classes(module_cls):
    """(class, method) pairs replay re-runs: optimizer and scheduler ``step``/``zero_grad``, Module.zero_grad."""
    return [(module_cls, "zero_grad")] + optimizer_steps()


def optimizer_steps():
    """(class, method) for every optimizer's and LR scheduler's own ``step``/``zero_grad`` (also the tracer's)."""
    from ..optim.optimizer import Optimizer  # optim imports nn, which imports the compiler
    from ..optim import lr_scheduler as _sched  # (same)

    out, seen = [], set()
    for cls in _subclasses(Optimizer) + [c for c in vars(_sched).values() if isinstance(c, type)]:
        if cls not in seen:
            seen.add(cls)
            out += [(cls, n) for n in ("step", "zero_grad") if n in cls.__dict__]
    return out


def _subclasses(cls):
    out = [cls]
    for c in cls.__subclasses__():
        out += _subclasses(c)
    return out
