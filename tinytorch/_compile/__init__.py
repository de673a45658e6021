"""``tinytorch.compile``: trace a function or a module's forward on its first calls, then replay it.

The first two calls with a given guard key run eagerly under the recorder (:mod:`.tracer`); when they
agree op for op, later calls replay the recorded program (:mod:`.program`) without the Python between the
ops (module dispatch, functional argument handling, shape logic). A whole training step can be compiled::

    @torch.compile
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
        return loss

Two tiers replay. The *array tier* (:mod:`.arrays`, :mod:`.arrayprogram`; CPU) records, during the same
two traced calls, every NumPy operation the ops, the autograd engine and the modules ran, and replays
them as one generated straight-line function: no Tensor objects, no autograd graph, no op Python. Optimizer
and scheduler ``step``/``zero_grad`` (and ``Module.zero_grad``, compiler-disabled functions) stay live
steps that replay calls, so learning rates a scheduler changes, Adam's step counts and bias corrections are
read when the replay runs; dropout draws fresh numbers from the live default generator; ``.grad`` is rebuilt
as the engine would; BatchNorm's running statistics are updated in place. It replays a whole training step
whose backward runs inside the call, a forward without autograd (``no_grad``/eval), and a forward whose
result keeps its graph (``model = torch.compile(model); loss = crit(model(x), y); loss.backward()``
outside): during the traced calls the engine's first-order backward from those outputs to every parameter
and input that requires grad is recorded too (``autograd.grad``-style, the eager graph kept for the caller),
and a replay returns outputs whose ``grad_fn`` is one node (``CompiledFunctionBackward``) whose backward
replays that array program on the arrays this replay saved. The engine then accumulates ``.grad`` and goes
on into the graph before the call as eager does, so gradients are eager's bit for bit (one exception:
when one backward runs through several calls of the same compiled module, a recurrent cell per time step,
and a parameter is used more than once inside the call, its gradient is summed per call first: rounding
differences). A second backward without ``retain_graph`` raises torch's error. A double backward
(``create_graph=True``) through such outputs re-runs the call eagerly to differentiate its graph and
the call site replays op by op from then on; when the forward drew random numbers or updated buffers
(dropout, BatchNorm in training) that re-run would differ, so it raises instead (the next calls replay op
by op and are differentiable twice).
Whatever the array recorder cannot vouch for (a value read into Python inside an op, an array built by
code it does not see, a rebound parameter) leaves the call site on the op-level tier, logged under
``TINYTORCH_LOGS=recompiles``; ``TINYTORCH_COMPILE_ARRAYS=0`` turns the array tier off.
``CompiledFunction.array_replays`` counts its replays.

What the op-level tier replays: every differentiable op through its ``Function.apply`` (so autograd builds the graph
eager would, and gradients are eager's, bit for bit), and a few recorded steps re-run whole:
``zero_grad``, ``Tensor.backward``, ``Optimizer.step``, LR scheduler steps (hyper-parameters are read live
at every replay), dropout (fresh numbers from the same generator stream), BatchNorm's forward (running
statistics), in-place tensor methods. Replay skips the *Python* between those ops: side effects of the
function's own Python code (appending to a list, printing, counters) happen during the traced calls only,
as with tinygrad's TinyJit; argument validation inside functionals is not repeated either.

Guards, checked on every call: the tensor inputs' shapes, dtypes, devices, requires_grad and aliasing;
the other arguments' values; grad mode; autocast; the function's scalar globals and closure values;
every module the call ran — its identity, scalar attributes (``training``, ``p``) and the identities of
its parameters, buffers and submodules. A new key traces again (at most
``torch._dynamo.config.cache_size_limit`` programs per call site, then eager). Whatever a trace cannot
replay faithfully (see :mod:`.tracer`: ``.item()``/``bool()``/``.tolist()`` reads, random numbers drawn
outside a recorded step, in-place changes of inputs, untracked changes of parameters or gradients,
``autograd.grad``, module hooks, autocast, CUDA tensors) makes the call site run eagerly from then on,
with a one-time ``UserWarning`` saying why (``fullgraph=True`` raises instead). Set
``TINYTORCH_LOGS=recompiles`` to log each re-trace and its reason.

``dynamic=True`` is accepted and ignored: every input shape is part of the guard key, so a new batch size
traces (and compiles) its own program, within the cache limit above — as ``dynamic=False`` in torch.
Shapes are baked into the recorded programs (reshape targets, strides of sliding-window views), so a
shape-generic replay would need symbolic shapes, which are not done.

CUDA: ``mode="reduce-overhead"`` replays calls on CUDA tensors through CUDA graphs (:mod:`.cudagraph`:
static inputs and outputs, outputs overwritten by the next call); other modes run them eagerly.
Not done yet: shape-generic replay.
"""
from __future__ import annotations

import functools
import types
import logging
import os
import warnings
import weakref

from ..autograd import grad_mode
from ..amp import autocast_mode as _autocast
from ..tensor import Tensor
from .._dynamo import config as _dynamo_config
from .arrayprogram import ArrayProgram
from .program import Mismatch, Program
from .tracer import run_traced

__all__ = ["compile_callable", "CompiledFunction", "OptimizedModule", "reset"]

log = logging.getLogger("tinytorch.compile")


def _log_recompiles():
    return "recompiles" in os.environ.get("TINYTORCH_LOGS", "")


def _arrays_enabled():
    """The array tier (see :mod:`.arrays`) is on unless ``TINYTORCH_COMPILE_ARRAYS=0``."""
    return os.environ.get("TINYTORCH_COMPILE_ARRAYS", "1") != "0"


def _flatten(x, out):
    """Tensors of a nested args structure, in order; returns a hashable signature of the rest."""
    if isinstance(x, Tensor):
        out.append(x)
        d = x._data
        return ("T", d.shape, d.dtype.str, str(x.device), x._requires_grad)
    t = type(x)
    if t is list or t is tuple:
        return (t.__name__, tuple(_flatten(a, out) for a in x))
    if t is dict:
        return ("dict", tuple((k, _flatten(v, out)) for k, v in x.items()))
    try:
        hash(x)
        return ("v", t, x)
    except TypeError:
        return ("id", id(x))


_SCALARS = (int, float, bool, str, type(None))


_UNGUARDED = object()


def _value(v, depth=0):
    """A hashable guard for a plain value: scalars with their type (``1`` is not ``1.0``), tuples/lists of
    them, dicts and simple namespaces (``cfg["s"]``, ``args.temperature``) of them; ``_UNGUARDED`` otherwise."""
    t = type(v)
    if t in _SCALARS:
        return (t, v)
    if depth > 3:
        return _UNGUARDED
    if t in (tuple, list):
        items = tuple(_value(x, depth + 1) for x in v)
        return _UNGUARDED if _UNGUARDED in items else (t, items)
    if t is dict or t.__name__ in ("Namespace", "SimpleNamespace"):
        d = v if t is dict else vars(v)
        items = tuple((k, _value(x, depth + 1)) for k, x in d.items())
        return (t, tuple(i for i in items if i[1] is not _UNGUARDED))
    return _UNGUARDED


def _scalars(d):
    out = []
    for k, v in d.items():
        g = _value(v)
        if g is not _UNGUARDED:
            out.append((k, g))
    return tuple(out)


def _module_guard(modules):
    """Per module: identity, its scalar attributes (``training``, dropout's ``p`` ...), and the identities of
    its parameters, buffers and submodules."""
    return tuple((id(m), _scalars(m.__dict__), tuple(map(id, m._parameters.values())),
                  tuple(map(id, m._buffers.values())), tuple(map(id, m._modules.values())),
                  _fn_guard(type(m).forward)) for m in modules)


def _followed(f) -> bool:
    """A helper whose reads are guarded too: user code, not tinytorch's own, not a compiler-disabled step
    (that one runs live on every replay)."""
    return not getattr(f, "_tt_eager_step", False) and not (f.__module__ or "").startswith("tinytorch")


def _fn_guard(fn, seen=None):
    """The plain values (scalars, tuples, dicts and namespaces of them) that a function reads from its globals
    and closure, and those of the plain Python functions it calls through its globals (helpers), so that a
    replay never reuses a value the Python code would now read differently. Values reached other ways (an
    attribute of an arbitrary object) are not guarded: the two traced calls must agree on them."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return ()
    seen = set() if seen is None else seen
    if code in seen:
        return ()
    seen.add(code)
    g = fn.__globals__
    out = []
    for n in code.co_names:
        if n not in g:
            continue
        v = g[n]
        if isinstance(v, types.FunctionType):
            if _followed(v):
                out.append((n, _fn_guard(v, seen)))
            continue
        val = _value(v)
        if val is not _UNGUARDED:
            out.append((n, val))
    for cell in fn.__closure__ or ():
        try:
            v = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if isinstance(v, types.FunctionType):
            if _followed(v):
                out.append(_fn_guard(v, seen))
            continue
        val = _value(v)
        if val is not _UNGUARDED:
            out.append(val)
    return tuple(out)


class _Entry:
    __slots__ = ("modules", "guard", "first", "program", "eager", "arrays", "array_reason")

    def __init__(self):
        self.arrays = None  # the ArrayProgram replaying these calls, when array capture succeeded
        self.array_reason = None  # why it did not (or stopped), for TINYTORCH_LOGS=recompiles and tests
        self.eager = None  # why calls with these guards run eagerly (a trace that could not be captured)
        self.modules = None
        self.guard = None
        self.first = None  # (trace, out_spec) of the first traced call
        self.program = None


_live = weakref.WeakSet()  # every CompiledFunction, for reset()


def reset() -> None:
    """Forget every compiled program and fallback decision (``torch._dynamo.reset()``)."""
    for cf in list(_live):
        cf._entries.clear()
        cf._eager_reason = None
        if cf._cudagraphs is not None:
            cf._cudagraphs.reset()


class CompiledFunction:
    """A callable that traces ``fn`` and replays it; see :mod:`tinytorch._compile`."""

    def __init__(self, fn, *, fullgraph=False, dynamic=False, mode=None):
        """``dynamic`` is accepted and ignored (see the module docstring): each input shape compiles its own.
        ``mode="reduce-overhead"``: calls on CUDA tensors replay through CUDA graphs (:mod:`.cudagraph`)."""
        from ..nn.modules.module import Module  # nn imports the compiler (Module.compile)

        self._fn = fn
        self._module_cls = Module
        self._fullgraph = fullgraph
        self._entries = {}  # input signature -> [_Entry]
        self._eager_reason = None
        self.traces = 0  # eager calls recorded (for tests and curiosity)
        self.replays = 0  # calls answered by a program
        self.array_replays = 0  # of those, calls answered by the array tier
        self._cudagraphs = None  # ---- CUDA graph tier hook (cudagraph.py) ----
        if mode == "reduce-overhead":
            from .cudagraph import CudaGraphCalls  # loaded on the first mode='reduce-overhead' call only
            self._cudagraphs = CudaGraphCalls(fn, Module, lambda why: self._note_eager(why, _Entry()), _name(fn))
        functools.update_wrapper(self, fn, updated=())
        _live.add(self)

    def _note_eager(self, why, entry=None):
        """Run eagerly from now on: calls with ``entry``'s guards only (its trace could not be captured; other
        inputs, grad or autocast modes still compile), or every call when ``entry`` is None."""
        if entry is None:
            self._eager_reason = why
        else:
            entry.eager = why
        if self._fullgraph:
            raise RuntimeError(f"compile(fullgraph=True): {why}")
        scope = "from now on" if entry is None else "for calls like this one"
        warnings.warn(f"tinytorch.compile: running {_name(self._fn)} eagerly {scope}: {why}",
                      UserWarning, stacklevel=3)

    def __call__(self, *args, **kwargs):
        if self._eager_reason is not None:
            return self._fn(*args, **kwargs)
        inputs = []
        sig = (_flatten(args, inputs), _flatten(kwargs, inputs), grad_mode.is_grad_enabled(), _autocast._local.on,
               _fn_guard(self._fn))
        if len(inputs) > 1:  # the same tensor passed twice is one slot of the program: guard the pattern
            ids = [id(t) for t in inputs]
            sig += (tuple(ids.index(i) for i in ids),)
        if self._cudagraphs is not None:  # CUDA calls replay through CUDA graphs (cudagraph.py)
            done, out = self._cudagraphs(sig, inputs, args, kwargs)
            if done:
                return out
        entries = self._entries.get(sig)
        e = None
        for cand in entries or ():
            if cand.guard is None or _module_guard(cand.modules) == cand.guard:
                e = cand
                break
        if e is None:
            if self._entries and _log_recompiles():
                why = ("inputs, grad mode or scalar globals changed" if entries is None else
                       "a module's training flag, scalar attribute, parameters or submodules changed")
                log.warning("tinytorch.compile: recompiling %s: %s (%s)", _name(self._fn), why, _describe(sig))
            n, limit = sum(len(v) for v in self._entries.values()), _dynamo_config.cache_size_limit
            if n >= limit:
                self._note_eager(f"more than {limit} guard variants (torch._dynamo.config.cache_size_limit); "
                                 "use fixed shapes")
                return self._fn(*args, **kwargs)
            e = _Entry()
            self._entries.setdefault(sig, []).append(e)
        if e.eager is not None:
            return self._fn(*args, **kwargs)
        ap = e.arrays
        if ap is not None:
            why = ap.guard(inputs)
            if why is None:
                self.replays += 1
                self.array_replays += 1
                return ap(inputs, (self._fn, args, kwargs, inputs))
            e.arrays = None
            self._note_arrays(e, f"{why}; replaying op by op from now on")
        if e.program is not None:
            self.replays += 1
            return e.program(inputs)
        self.traces += 1
        return self._trace(e, args, kwargs, inputs)

    def _trace(self, e, args, kwargs, inputs):
        pre = None if e.modules is None else _module_guard(e.modules)
        pre_fn = _fn_guard(self._fn)
        tr, result, out_spec = run_traced(self._fn, args, kwargs, inputs, self._module_cls, arrays=_arrays_enabled())
        if tr.reason is not None:
            self._note_eager(tr.reason, e)
            return result
        same_modules = e.modules is not None and list(map(id, tr.modules)) == list(map(id, e.modules))
        if (same_modules and _module_guard(e.modules) != pre) or _fn_guard(self._fn) != pre_fn:
            # the call itself changes what the guards watch (self.calls += 1): Python a replay would skip
            self._note_eager("the call changes a module attribute, its parameters or a global it reads "
                             "(a Python side effect a replay would not repeat)", e)
            return result
        guard = _module_guard(tr.modules)
        if e.first is None or e.guard != guard:
            e.modules, e.guard, e.first = tr.modules, guard, (tr, out_spec)
            return result
        first_tr = e.first[0]
        try:
            program = Program(e.first[0], tr, e.first[1], out_spec)
        except Mismatch as err:
            self._note_eager(f"two calls with the same guards ran different programs ({err})", e)
            e.first = None
            return result
        if program.has_consts and _same_inputs(e.first[0], tr):
            # values built outside the recorded ops agree, but so do the inputs: they may derive from them.
            # The array program has no such constants (every array comes from a recorded operation or is
            # the same object in both calls), so it may replay; the op-level program waits for other inputs.
            self._build_arrays(e, first_tr, tr)
            e.first = (tr, out_spec)
            return result
        e.program, e.first = program, None
        self._build_arrays(e, first_tr, tr)
        return result

    def _build_arrays(self, e, tr1, tr2):
        """The array program from the two traces that built ``e.program``, or the reason there is none."""
        if tr1.arrays is None or tr2.arrays is None:
            return
        (a1, o1), (a2, o2) = tr1.arrays, tr2.arrays
        tr1.arrays = tr2.arrays = None
        why = a1.reason or a2.reason
        if why is None:
            try:
                e.arrays = ArrayProgram(a1, a2, o1, o2, [t for t, _ in tr2.watched.values()])
            except Mismatch as err:
                why = f"the two calls recorded different array operations ({err})"
        if why is not None:
            self._note_arrays(e, why)

    def _note_arrays(self, e, why):
        e.array_reason = why
        if _log_recompiles():
            log.warning("tinytorch.compile: %s replays op by op, not as one array program: %s", _name(self._fn), why)


def _name(fn):
    return getattr(fn, "__qualname__", None) or type(fn).__name__


def _same_inputs(tr1, tr2):
    from .program import _arrays_equal  # program imports this package

    return all(_arrays_equal(a, b) for a, b in zip(tr1.input_values, tr2.input_values))


def _describe(sig):
    return f"args={sig[0]!r}, grad_enabled={sig[2]}, autocast={sig[3]}"


def _optimized_module_class():
    """``OptimizedModule``, built on first use: ``nn`` is above this package in the import order."""
    global OptimizedModule
    if OptimizedModule is not None:
        return OptimizedModule
    from ..nn.modules.module import Module  # nn imports the compiler (Module.compile)

    class _OptimizedModule(Module):
        """What ``compile(module)`` returns, as in torch: a Module whose one child ``_orig_mod`` is the
        original (so ``state_dict`` keys start with ``_orig_mod.``); calls go through the compiled forward,
        other attributes to the original module."""

        def __init__(self, mod, **opts):
            super().__init__()
            self._orig_mod = mod
            self.__dict__["_compiled_call"] = CompiledFunction(mod, **opts)
            self.__dict__["training"] = mod.training

        def forward(self, *args, **kwargs):
            return self.__dict__["_compiled_call"](*args, **kwargs)

        def __getattr__(self, name):
            try:
                return super().__getattr__(name)
            except AttributeError:
                return getattr(self.__dict__["_modules"]["_orig_mod"], name)

    _OptimizedModule.__name__ = _OptimizedModule.__qualname__ = "OptimizedModule"
    OptimizedModule = _OptimizedModule
    return OptimizedModule


OptimizedModule = None  # the class, once _optimized_module_class() has built it


def compile_callable(model, *, fullgraph=False, dynamic=False, mode=None):
    """The compiled form of a Module (an :class:`OptimizedModule`) or of a function."""
    from ..nn.modules.module import Module  # nn imports the compiler (Module.compile)

    if isinstance(model, Module):
        return _optimized_module_class()(model, fullgraph=fullgraph, dynamic=dynamic, mode=mode)
    return CompiledFunction(model, fullgraph=fullgraph, dynamic=dynamic, mode=mode)
