"""``compile(fn, mode="reduce-overhead")`` on CUDA: replay each guarded call through a CUDA graph.

Per guard key (the input signature the compiler computes — shapes, dtypes, devices, requires_grad,
non-tensor argument values, grad mode, autocast, the function's scalar globals — plus every module the
function reaches: identity, training flag and scalar attributes, parameter identities; and the
hyper-parameters of every optimizer it reaches):

1. the first ``WARMUP`` calls run eagerly on a side stream (as torch: lazy state such as optimizer
   buffers is made there, outside any capture);
2. the next call copies its tensor inputs into *static* input tensors and captures one call of the
   function on them in a :class:`tinytorch.cuda.CUDAGraph` (memory from the graph's private pool, reserved
   for it), then replays the graph once to compute this call;
3. later calls copy their inputs into the static inputs and replay the graph.

The result is the *static output*: the tensors the captured call returned, **overwritten by the next
replay** (torch's ``reduce-overhead`` does the same; ``.clone()`` what you keep). Outputs that carry an
autograd graph are returned detached (a replayed step ran its backward inside the call).

Parameters' ``.grad`` tensors are host state a replay cannot rebuild: the graph is replayed only while
each reached parameter's ``.grad`` is the one the capture started from or the one the previous call left
(a grad accumulated out of place is then copied into the buffer the graph reads), and each ``.grad`` is
set to what the captured call left after every replay. Anything the graph cannot
replay faithfully runs eagerly instead, with a one-time warning naming the reason: CPU tensors mixed in,
inputs that require grad or that the function changes in place, a result that keeps its autograd graph without a backward inside the call, an
optimizer whose step count lives on the host (Adam/AdamW without ``capturable=True``), an LR scheduler
(it changes ``lr`` on the host, which a graph bakes in), dropout in training mode, a capture that fails
(a host sync — ``.item()``, ``print`` of a CUDA tensor — inside the function). Python side effects of the
function (appending to a list, a counter) happen during the eager and capture calls only.
"""
from __future__ import annotations

import types

from .. import _arrays
from .. import _dynamo
from .. import cuda
from ..cuda.graphs import CUDAGraph, _default_capture_stream, graph
from ..tensor import Tensor

__all__ = ["CudaGraphCalls", "WARMUP"]

WARMUP = 2  # eager calls per guard key before the capture


class _Eager(Exception):
    """This call (and calls with its key) cannot replay through a graph: the message says why. ``result``:
    the call already ran eagerly and this is its result (else the caller runs it)."""

    def __init__(self, why, result=None, ran=False):
        super().__init__(why)
        self.result, self.ran = result, ran


def _cuda_tensor(t):
    return _arrays.is_cupy_array(t._data)


def _reached(fn, args, kwargs):
    """Modules, optimizers and LR schedulers the call can reach: ``fn`` itself (a module, a bound method's
    object), the arguments, and the globals and closure values ``fn`` and the plain functions it calls read."""
    found, seen_code = [], set()

    def add(v):
        if isinstance(v, (list, tuple)):
            for x in v[:16]:
                add(x)
            return
        if isinstance(v, types.FunctionType):
            visit(v)
        elif not isinstance(v, (Tensor, int, float, str, bool, type(None))) and not isinstance(v, type) \
                and not isinstance(v, types.ModuleType):
            if all(v is not f for f in found):
                found.append(v)

    def visit(f):
        code = getattr(f, "__code__", None)
        if code is None or code in seen_code:
            return
        seen_code.add(code)
        add(list(f.__defaults__ or ()))
        add(list((f.__kwdefaults__ or {}).values()))
        g = f.__globals__
        for n in code.co_names:
            if n in g:
                add(g[n])
        for cell in f.__closure__ or ():
            try:
                add(cell.cell_contents)
            except ValueError:  # an empty cell
                pass

    if isinstance(fn, types.MethodType):
        add(fn.__self__)
        visit(fn.__func__)
    elif isinstance(fn, types.FunctionType):
        visit(fn)
    else:
        add(fn)
    add(list(args))
    add(list(kwargs.values()))
    return found


def _classify(objs, module_cls):
    from ..optim import lr_scheduler as _sched, optimizer as _optim  # optim sits above the compiler

    modules, opts, scheds = [], [], []
    for o in objs:
        if isinstance(o, module_cls):
            for m in o.modules():
                if all(m is not x for x in modules):
                    modules.append(m)
        elif isinstance(o, _optim.Optimizer):
            opts.append(o)
        elif isinstance(o, _sched.LRScheduler):
            scheds.append(o)
    return modules, opts, scheds


def _opt_guard(opts):
    return tuple((id(o), tuple(tuple((k, v) for k, v in g.items() if k != "params" and isinstance(
        v, (int, float, bool, str, tuple, type(None)))) + (tuple(map(id, g["params"])),)
        for g in o.param_groups)) for o in opts)


def _params(modules, opts):
    out, ids = [], set()
    for m in modules:
        for p in m._parameters.values():
            if p is not None and id(p) not in ids:
                ids.add(id(p))
                out.append(p)
    for o in opts:
        for g in o.param_groups:
            for p in g["params"]:
                if id(p) not in ids:
                    ids.add(id(p))
                    out.append(p)
    return out


def _refuse_host_state(modules, opts, scheds):
    """Raise ``_Eager`` for state a graph would bake in or skip (see the module docstring)."""
    if scheds:
        raise _Eager(f"the function steps an LR scheduler ({type(scheds[0]).__name__}), which changes lr on "
                     "the host; a CUDA graph bakes the lr it was captured with")
    for m in modules:
        if m.training and type(m).__name__.startswith(("Dropout", "AlphaDropout", "FeatureAlphaDropout")) \
                and getattr(m, "p", 0) > 0:
            raise _Eager(f"{type(m).__name__} in training mode draws new random numbers per call; a CUDA graph "
                         "would replay the captured ones")
    for o in opts:
        for st in o.state.values():
            step = st.get("step") if isinstance(st, dict) else None
            if isinstance(step, Tensor) and not _cuda_tensor(step):
                raise _Eager(f"{type(o).__name__} keeps its step count on the host, which a CUDA graph cannot "
                             "advance; build it with capturable=True")


def _rebuild(x, it):
    """``x`` with its tensors replaced, in order, by those of ``it``."""
    if isinstance(x, Tensor):
        return next(it)
    t = type(x)
    if t is list or t is tuple:
        return t(_rebuild(a, it) for a in x)
    if t is dict:
        return {k: _rebuild(v, it) for k, v in x.items()}
    return x


def _tensors(x, out):
    if isinstance(x, Tensor):
        out.append(x)
    elif type(x) in (list, tuple):
        for a in x:
            _tensors(a, out)
    elif type(x) is dict:
        for a in x.values():
            _tensors(a, out)
    return out


class _Graphed:
    """One captured call: static inputs, the graph, the static result and the grads it left."""

    __slots__ = ("calls", "graph", "static_in", "result", "params", "pre", "post")

    def __init__(self):
        self.calls = 0  # eager warm-up calls made so far
        self.graph = None


class CudaGraphCalls:
    """The CUDA-graph tier of one compiled function (``mode="reduce-overhead"``)."""

    def __init__(self, fn, module_cls, note_eager, name):
        self._fn = fn
        self._module_cls = module_cls
        self._note_eager = note_eager  # CompiledFunction._note_eager: the one-time warning
        self._name = name
        self._entries: dict = {}
        self._eager_keys: set = set()
        self.captures = 0
        self.replays = 0

    def __call__(self, sig, inputs, args, kwargs):
        """``(True, result)`` when this call was answered here, ``(False, None)`` for a call with no CUDA tensor
        (the other tiers handle it)."""
        objs = _reached(self._fn, args, kwargs)
        modules, opts, scheds = _classify(objs, self._module_cls)
        params = _params(modules, opts)
        if not any(_cuda_tensor(t) for t in inputs) and not any(_cuda_tensor(p) for p in params):
            return False, None
        from . import _module_guard  # the package imports this module lazily

        key = (sig, _module_guard(modules), _opt_guard(opts))
        if key in self._eager_keys:
            return True, self._fn(*args, **kwargs)
        e = self._entries.get(key)
        if e is None:
            limit = _dynamo.config.cache_size_limit
            if len(self._entries) >= limit:
                self._refuse(key, f"more than {limit} CUDA graph guard variants "
                                  "(torch._dynamo.config.cache_size_limit); use fixed shapes")
                return True, self._fn(*args, **kwargs)
            e = self._entries[key] = _Graphed()
        try:
            if e.graph is None:
                cpu = [t for t in inputs if not _cuda_tensor(t)]
                if cpu:
                    raise _Eager(f"a CPU tensor {tuple(cpu[0].shape)} is among the inputs; CUDA graphs capture "
                                 "CUDA tensors only")
                if any(t.requires_grad for t in inputs):
                    raise _Eager("an input requires grad; a CUDA graph replays no autograd graph for it")
                _refuse_host_state(modules, opts, scheds)
                if e.calls < WARMUP:
                    e.calls += 1
                    return True, self._warm_up(args, kwargs, params)
                return True, self._capture(e, inputs, args, kwargs, params)
            return True, self._replay(e, inputs, params)
        except _Eager as why:
            self._entries.pop(key, None)
            self._refuse(key, str(why))
            return True, why.result if why.ran else self._fn(*args, **kwargs)

    def reset(self):
        """Forget every graph and fallback decision."""
        self._entries.clear()
        self._eager_keys.clear()

    def _refuse(self, key, why):
        self._eager_keys.add(key)
        self._note_eager(f"not replayed through a CUDA graph: {why}")

    def _warm_up(self, args, kwargs, params):
        side = _default_capture_stream()
        before = [p.grad for p in params]
        side.wait_stream(cuda.current_stream())
        with cuda.stream(side):
            result = self._fn(*args, **kwargs)
        cuda.current_stream().wait_stream(side)
        try:
            _check_result(result, any(p.grad is not b for p, b in zip(params, before)))
        except _Eager as why:
            raise _Eager(str(why), result, ran=True) from None
        return result

    def _capture(self, e, inputs, args, kwargs, params):
        static_in = [Tensor._make(t._data.copy()) for t in inputs]
        static_data = [t._data for t in static_in]
        pre = [p.grad for p in params]
        n_args = len(_tensors(args, []))
        g = CUDAGraph()
        try:
            with graph(g):
                result = self._fn(*_rebuild(args, iter(static_in)), **_rebuild(kwargs, iter(static_in[n_args:])))
        except Exception as err:  # a host sync or another capture error: this call runs eagerly instead
            _set_grads(params, pre)
            raise _Eager(f"capturing the call failed ({type(err).__name__}: {err})") from err
        post = [p.grad for p in params]
        try:
            if any(t._vc[0] != 0 or t._data is not d for t, d in zip(static_in, static_data)):
                raise _Eager("the function changes an input in place; a replay would change the static copy, "
                             "not the tensor passed")
            _check_result(result, any(a is not b for a, b in zip(post, pre)))
        except _Eager:
            _set_grads(params, pre)
            raise
        # the graph reads the .grad buffers the capture started from (kept alive here) and leaves post's
        e.graph, e.static_in, e.params, e.pre, e.post = g, static_in, params, pre, post
        e.result = _detached(result)
        self.captures += 1
        _set_grads(params, pre)  # the replay below starts from the state the capture started from
        return self._replay(e, inputs, params, first=True)

    def _replay(self, e, inputs, params, first=False):
        if len(params) != len(e.params) or any(p is not q for p, q in zip(params, e.params)):
            raise _Eager("the parameters the function reaches changed")
        feeds = []
        for p, before, after in zip(params, e.pre, e.post):
            cur = p.grad
            if cur is before:
                continue
            if before is not None and cur is after:  # the previous call's grad: into the buffer the graph reads
                feeds.append((before, cur))
                continue
            raise _Eager("a parameter's .grad was replaced between calls (not the tensor the previous call "
                         "left, nor None as at capture); the graph reads the one it captured")
        for before, cur in feeds:
            before._data[...] = cur._data
        for s, t in zip(e.static_in, inputs):
            s._data[...] = t._data
        e.graph.replay()
        _set_grads(params, e.post)
        if not first:
            self.replays += 1
        return e.result


def _set_grads(params, grads):
    for p, g in zip(params, grads):
        p.grad = g


def _check_result(result, ran_backward):
    for t in _tensors(result, []):
        if t.grad_fn is not None and not ran_backward:
            raise _Eager("the result keeps its autograd graph (backward runs outside the compiled call); "
                         "compile the whole training step, or call it under no_grad")


def _detached(result):
    ts = _tensors(result, [])
    return _rebuild(result, iter([t.detach() if t.grad_fn is not None else t for t in ts]))
