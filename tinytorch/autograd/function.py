"""``Function``: one differentiable op — its forward, its backward, and the graph node it leaves.

A ``Function`` subclass declares ``forward(ctx, *args)`` and ``backward(ctx, *grads)`` as
static methods. ``Function.apply`` runs ``forward`` without recording, wraps the result in
new tensors, and — when an input requires grad — keeps the ``ctx`` (an instance of the
subclass) as the outputs' ``grad_fn``.

Two kinds of forward share this one class:

* tinytorch's own ops return backend arrays (``ctx.xp.exp(x._data)``) — cheap, no
  intermediate tensors;
* users' ops (``torch.autograd.Function`` style) return tensors built from tensor ops.

``backward`` always receives and returns tensors and is written with tensor ops, so when
the engine runs it with ``create_graph=True`` it is itself recorded and can be
differentiated again. An op may also define ``backward_arrays(ctx, *grad_arrays)``: a
first-order fast path on raw arrays (where the CUDA kernels plug in); the engine uses it
only when no graph of the backward is wanted. A view op may define ``grad_slice(ctx)`` (the
basic index its output took from input 0) so that the engine adds first-order gradients into
that slot of the input's gradient buffer rather than building a full-size array per view.
"""
from __future__ import annotations

import os
import traceback
import warnings
import weakref

import numpy as _np

from .. import _arrays
from . import grad_mode
from . import anomaly as _anomaly
from ..amp import autocast_mode as _autocast

_grad_state = grad_mode._local  # read directly on the hot path (thread-local grad mode)
_anomaly_state = _anomaly._local
_autocast_state = _autocast._local

Tensor = None  # tinytorch.tensor imports this module before it defines Tensor: bound on first use

# Called as _tracer(cls, args, kwargs, outputs) after every apply while set (tinytorch.onnx's op recorder).
_tracer = None


def set_tracer(fn):
    """Install ``fn`` as the op recorder (None removes it); returns the previous one."""
    global _tracer
    previous, _tracer = _tracer, fn
    return previous


_ops = None  # tinytorch.ops, bound with Tensor: mark_dirty's rebase uses its in-place machinery (ops._common.inplace)


def _bind_tensor():
    global Tensor, _ops
    from ..tensor import Tensor as _T, _ops  # tensor.py imports this module before Tensor exists (and ops after)

    Tensor = _T


class _OutputRef:
    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index


def output_ref(i: int = 0) -> _OutputRef:
    """A placeholder for ``ctx.save_for_backward`` that stands for the op's i-th output."""
    return _OutputRef(i)


OUTPUT = _OutputRef(0)

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class SavedTensor:
    """What a node keeps of a tensor: enough to rebuild it in backward, and its version."""

    __slots__ = ("data", "grad_fn", "output_nr", "requires_grad", "leaf", "vc", "version", "is_output")

    def unpack(self, node):
        if self.vc[0] != self.version:
            self._stale(node)
        if self.leaf is not None:
            return self.leaf
        if self.is_output:
            return Tensor._make(self.data, self.requires_grad, node, self.output_nr, self.vc)
        return Tensor._make(self.data, self.requires_grad, self.grad_fn, self.output_nr, self.vc)

    def array(self, node):
        """The saved raw array (for ``backward_arrays``), with ``unpack``'s version check."""
        if self.vc[0] != self.version:
            self._stale(node)
        return self.data

    def _stale(self, node):
        """Raise: the saved tensor was modified in place after it was saved."""
        dt = str(self.data.dtype)
        where = f"output {self.output_nr} of {self.grad_fn.name()}" if self.grad_fn is not None else (
            f"output {self.output_nr} of {node.name()}" if self.is_output else "a leaf")
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [tinytorch.{dt} {list(self.data.shape)}], which is {where} and "
            f"was saved by {node.name()}, is at version {self.vc[0]}; expected version "
            f"{self.version} instead. Hint: enable anomaly detection to find the operation that "
            "failed to compute its gradient, with tinytorch.autograd.set_detect_anomaly(True)."
        )


def _pack(t, node, outputs):
    if t is None:
        return None
    s = SavedTensor()
    if type(t) is _OutputRef:
        out = outputs[t.index]
        s.data, s.grad_fn, s.output_nr, s.requires_grad = out._data, None, t.index, out._requires_grad
        s.leaf, s.vc, s.version, s.is_output = None, out._vc, out._vc[0], True
        return s
    fn = t._grad_fn
    if fn is node or (fn is None and not t._requires_grad):  # only then can t be one of this node's outputs
        for i, out in enumerate(outputs):
            if t is out:  # a user Function saved its own output tensor
                return _pack(_OutputRef(i), node, outputs)
    vc = t._vc
    s.data, s.vc, s.version, s.is_output, s.requires_grad = t._data, vc, vc[0], False, t._requires_grad
    if fn is None:
        s.leaf, s.grad_fn, s.output_nr = t, None, 0
    else:
        s.leaf, s.grad_fn, s.output_nr = None, fn, t._output_nr
    return s


# ---- views ------------------------------------------------------------------------------------------
# A view shares its base's storage and version counter. Its ViewInfo says how to rebuild it from the base
# (the view ops that made it, replayed), and at which version its grad_fn was last right: after an in-place
# op on the base or on another view of it, the grad_fn is rebuilt from the base on next use (torch's view
# replay), so gradients flow through the base's new history (a CopySlices node, see ops/_common.inplace).

VIEW_DEFAULT, VIEW_NO_GRAD, VIEW_MULTI_OUTPUT = 0, 1, 2  # torch's CreationMeta: which views may not be modified

# A view's record (``Tensor._view``) is a plain list, the cheapest object to build once per view op:
# [version, meta, base, parent, fn, args, index, kwargs] (base not first: a list led by a tensor is a tensor-list argument)
#   base     the root tensor that owns the storage (never itself a view)
#   parent   the record of the op's input when that input was a view itself, else None
#   fn, args, index, kwargs: the view is ``fn.apply(input, *args, **kwargs)`` (``[index]`` for multi-output)
#   version  the shared version counter's value when the view's grad_fn was last right
#   meta     VIEW_DEFAULT, VIEW_NO_GRAD or VIEW_MULTI_OUTPUT
V_VERSION, V_META, V_BASE, V_PARENT, V_FN, V_ARGS, V_INDEX, V_KWARGS = range(8)


def view_error(info, modified):
    """torch's RuntimeError for modifying (or using after modifying) a view that may not be modified."""
    if info[V_META] == VIEW_MULTI_OUTPUT:
        return RuntimeError(
            f"Output {info[V_INDEX]} of {info[V_FN].__name__} is a view and {modified}. This view is the output of "
            "a function that returns multiple views. Such functions do not allow the output views to be modified "
            "inplace. You should replace the inplace operation by an out-of-place one.")
    return RuntimeError(
        f"A view was created in no_grad mode and {modified} with grad mode enabled. Given that this use case "
        "is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and "
        "the inplace either both inside the no_grad block (if you don't want the inplace to be tracked) or "
        "both outside (if you want the inplace to be tracked).")


def _mark_views(cls, first, outputs, args, kwargs, grad_on, multi):
    """Give each output of a view op its record (base, how to replay it, creation mode)."""
    if args[0] is not first:  # view ops take the viewed tensor first; anything else only shares the counter
        return
    parent = first._view
    version = first._vc[0]
    rest = args[1:]  # not the input itself: a view must not keep its input (and that one's graph) alive
    if multi:
        base = first if parent is None else parent[V_BASE]
        for i, o in enumerate(outputs):
            o._view = [version, VIEW_MULTI_OUTPUT, base, parent, cls, rest, i, kwargs]
    elif parent is None:
        outputs[0]._view = [version, VIEW_DEFAULT if grad_on else VIEW_NO_GRAD, first, None, cls, rest, None, kwargs]
    else:  # a view of a restricted view stays restricted (torch's propagate_creation_meta)
        meta = parent[V_META] if grad_on else VIEW_NO_GRAD
        outputs[0]._view = [version, meta, parent[V_BASE], parent, cls, rest, None, kwargs]


def view_steps(info):
    """The view ops that make the view ``info`` describes from its base, base first: (fn, args, kwargs, index)."""
    steps = []
    while info is not None:
        steps.append((info[V_FN], info[V_ARGS], info[V_KWARGS], info[V_INDEX]))
        info = info[V_PARENT]
    steps.reverse()
    return steps


def replay_view(info, root, grad=True, steps=None):
    """The view ``info`` describes (or the one ``steps`` make), rebuilt from ``root``: the base, or any tensor
    of the base's shape. ``grad``: record the view ops (the grad mode they run in)."""
    prev = _grad_state.enabled
    _grad_state.enabled = grad
    try:
        t = root
        for fn, args, kwargs, index in (view_steps(info) if steps is None else steps):
            out = fn.apply(t, *args, **kwargs)
            t = out if index is None else out[index]
    finally:
        _grad_state.enabled = prev
    return t


def sync_view(t, strict=True):
    """Rebuild a view's grad_fn from its base after the base or another view of it was modified in place.

    ``strict``: raise torch's error for views that may not be rebased (multi-output or no_grad views)
    instead of leaving them as they are.
    """
    if Tensor is None:
        _bind_tensor()
    info = t._view
    base = info[V_BASE]
    if t._grad_fn is None and not base._requires_grad:
        info[V_VERSION] = t._vc[0]  # nothing to rebase: no autograd history on either side
        return
    if info[V_META] != VIEW_DEFAULT:
        if strict:
            raise view_error(info, "its base or another view of its base has been modified inplace")
        return
    new = replay_view(info, base)
    set_history(t, new._grad_fn, new._output_nr)
    t._requires_grad = new._requires_grad
    info[V_VERSION] = t._vc[0]


def set_history(t, node, output_nr):
    """Give ``t`` a new grad_fn (after an in-place op on it or its base); ``retain_grad()`` follows it there, as in
    torch (``.grad`` is then the gradient of the latest version). Hooks stay on the old node: torch's hooks
    registered before an in-place op see the gradient of the value before it."""
    old = t._grad_fn
    if old is not None and old._retained:
        ref = old._retained.get(t._output_nr)
        if ref is not None and ref() is t:
            del old._retained[t._output_nr]
            if node is not None:
                if node._retained is None:
                    node._retained = {}
                node._retained[output_nr] = ref
    t._grad_fn, t._output_nr = node, output_nr


def view_requires_grad(t):
    """Whether ``t`` is a view without history whose base requires grad (one made under no_grad, or before its
    base required grad). torch reports such a view as a leaf that requires grad; ops on it record a node
    (their outputs require grad) but no edge reaches it or its base, so its gradient goes nowhere."""
    info = t._view
    return info is not None and t._grad_fn is None and not t._requires_grad and info[V_BASE]._requires_grad


class AccumulateGrad:
    """The graph node of a leaf tensor: the engine adds the incoming gradient to ``.grad``."""

    __slots__ = ("variable", "__weakref__")

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "torch::autograd::AccumulateGrad"

    @property
    def next_functions(self):
        return ()

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


def _accumulator(t):
    ref = t._accum_ref
    acc = ref() if ref is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        t._accum_ref = weakref.ref(acc)
    return acc


class FunctionMeta(type):
    """Gives every Function subclass its graph-node name (``MulBackward0``, ``MyFnBackward``).

    A class may spell its name out (``_node_name = "PowBackward1"``) where torch's differs from the class
    name by more than the suffix (overloads, capitals).
    """

    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        if "_node_name" not in ns:
            internal = cls.__module__.startswith("tinytorch.")
            cls._node_name = f"{name}Backward0" if internal else f"{name}Backward"


class Function(metaclass=FunctionMeta):
    """Base class of differentiable ops; the instance is both ``ctx`` and the graph node."""

    is_view = False  # outputs share the first tensor input's version counter

    # Per-node state, as class-level defaults so that creating a node (once per op call) costs
    # no attribute writes; apply and the ctx methods set instance values only where needed.
    _to_save = ()
    _non_diff = ()
    _materialize = True
    _saved = None  # tuple of SavedTensor while the graph holds them
    _released = False  # saved tensors freed by a backward without retain_graph
    _hooks = None  # {output_nr: [fn]} gradient hooks of non-leaf outputs
    _retained = None  # {output_nr: weakref to a tensor that called retain_grad()}
    _trace = None  # forward call stack, recorded under detect_anomaly
    _edges = ()  # one (node, output_nr) or None per forward argument (list args flattened)
    _dirty = ()  # tensors a user forward modified in place (mark_dirty)
    xp = None

    # ---- the ctx API -------------------------------------------------------------------------
    def save_for_backward(self, *tensors):
        self._to_save = tensors

    @property
    def saved_tensors(self):
        if self._saved is None:
            if self._released:
                raise RuntimeError(_FREED_MSG)
            return ()
        return tuple(None if s is None else s.unpack(self) for s in self._saved)

    @property
    def saved_arrays(self):
        """The saved tensors as raw arrays (None stays None): for ``backward_arrays`` fast paths."""
        if self._saved is None:
            if self._released:
                raise RuntimeError(_FREED_MSG)
            return ()
        return tuple([None if s is None else s.array(self) for s in self._saved])

    def mark_non_differentiable(self, *tensors):
        self._non_diff = tensors

    def set_materialize_grads(self, value: bool):
        self._materialize = bool(value)

    def mark_dirty(self, *tensors):
        """Declare inputs that ``forward`` modified in place; each must be returned, and the output is that
        same tensor object with its history rebased onto this node (as torch)."""
        self._dirty = tensors

    # ---- graph inspection ---------------------------------------------------------------------
    def name(self):
        return self._node_name

    @property
    def next_functions(self):
        return tuple((e[0], e[1]) if e is not None else (None, 0) for e in self._edges)

    def register_hook(self, hook):
        raise NotImplementedError("grad_fn.register_hook is not supported; use Tensor.register_hook")

    def __repr__(self):
        return f"<{self._node_name} object at {hex(id(self))}>"

    # ---- to be overridden -------------------------------------------------------------------
    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("Function subclasses must implement forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("this Function does not implement backward")

    backward_arrays = None  # optional first-order fast path: (ctx, *grad_arrays) -> arrays
    # Optional, for ops whose output is a basic-indexed view of their first input: (ctx) -> that index,
    # or None. The engine then adds the gradient into that slot of one shared buffer for the input
    # instead of calling backward (first order only): T slices of one tensor cost O(T) slices, not T
    # full-size zero arrays summed.
    grad_slice = None

    # ---- apply -------------------------------------------------------------------------------
    @classmethod
    def apply(cls, *args, **kwargs):
        if Tensor is None:
            _bind_tensor()
        if _autocast_state.on:  # inside an autocast region: the op policy may cast the inputs (tinytorch.amp)
            out = _autocast.dispatch(cls, args, kwargs)
            if out is not NotImplemented:
                return out
        ctx = cls()
        grad_on = _grad_state.enabled
        needs = []  # per edge: does this input need a gradient
        edges = []
        first = None
        any_grad = False
        seq_arrays = None  # arrays of list-of-tensor arguments, for the device check
        for a in args:
            if isinstance(a, Tensor):
                if first is None:
                    first = a
                if grad_on and a._view is not None and a._view[V_VERSION] != a._vc[0]:
                    sync_view(a)
                if grad_on and a._requires_grad:
                    needs.append(True)
                    edges.append(_edge(a))
                    any_grad = True
                else:
                    needs.append(False)
                    edges.append(None)
                    if grad_on and a._view is not None and a._view[V_BASE]._requires_grad:
                        any_grad = True  # a no_grad view of a base requiring grad: see view_requires_grad
            elif type(a) in (list, tuple) and a and isinstance(a[0], Tensor):
                # sequence-of-tensors argument (cat, stack): flattened into the edges
                for t in a:
                    if not isinstance(t, Tensor):
                        raise TypeError(
                            f"{cls.__name__.lower()}: expected a sequence of tensors, got {type(t).__name__} inside")
                    if seq_arrays is None:
                        seq_arrays = []
                    seq_arrays.append(t._data)
                    if grad_on and t._view is not None and t._view[V_VERSION] != t._vc[0]:
                        sync_view(t)
                    if grad_on and t._requires_grad:
                        needs.append(True)
                        edges.append(_edge(t))
                        any_grad = True
                    else:
                        needs.append(False)
                        edges.append(None)
                        if grad_on and t._view is not None and t._view[V_BASE]._requires_grad:
                            any_grad = True
            else:
                needs.append(False)
                edges.append(None)
        if not _arrays.cupy_loaded():  # CuPy never loaded: every array is a NumPy array
            xp = _np
        else:
            arrays = [a._data for a in args if isinstance(a, Tensor)] + (seq_arrays or [])
            xp = _arrays.array_module(*arrays) if arrays else _np
            if xp is not _np:
                _check_same_device(cls, arrays)
        ctx.xp = xp
        ctx.needs_input_grad = tuple(needs)

        _grad_state.enabled = False  # the forward itself is never recorded
        try:
            dev_ctx = _device_context(xp, arrays) if xp is not _np else None
            if dev_ctx is None:
                raw = _quiet_call(cls.forward, ctx, *args, **kwargs)
            else:  # inputs on another GPU than the current one: allocate and launch there
                ctx._device_ctx = dev_ctx
                with dev_ctx:
                    raw = _quiet_call(cls.forward, ctx, *args, **kwargs)
        finally:
            _grad_state.enabled = grad_on

        vc = first._vc if (ctx.is_view and first is not None) else None  # forward may set ctx.is_view
        if type(raw) is not tuple and not isinstance(raw, Tensor) and hasattr(raw, "dtype"):
            # the common case: one of tinytorch's ops returned one array
            if isinstance(raw, _np.generic):  # NumPy ops on 0-d arrays return read-only scalars
                raw = _np.asarray(raw)
            diff = any_grad and raw.dtype.kind in "fV"  # V: ml_dtypes bfloat16
            out = Tensor._make(raw, diff, ctx if diff else None, 0, vc)
            outputs = (out,)
            if any_grad:
                ctx._out_meta = ((raw.shape, raw.dtype),)
        else:
            outputs = _wrap_outputs(ctx, raw, args, any_grad, xp, vc)
            if ctx._dirty:
                outputs = _take_dirty(ctx, raw, args, outputs)
            out = outputs if type(raw) is tuple else outputs[0]
            if any_grad:
                ctx._out_meta = tuple((o._data.shape, o._data.dtype) for o in outputs)
        if vc is not None:
            _mark_views(cls, first, outputs, args, kwargs, grad_on, type(raw) is tuple)
        if any_grad:
            ctx._edges = tuple(edges)
            if ctx._to_save:
                ctx._saved = tuple([_pack(t, ctx, outputs) for t in ctx._to_save])
                ctx._to_save = ()
            if _anomaly_state.on:
                ctx._trace = _user_stack()
        elif ctx._to_save:
            ctx._to_save = ()
        if _tracer is not None:  # tinytorch.onnx.export is recording the ops a forward runs
            _tracer(cls, args, kwargs, out)
        return out


# torch returns inf/nan without a word: every op's forward runs with NumPy's divide/overflow/invalid warnings off,
# here, once (the engine does the same around backward). errstate's decorator form is public and half the cost of
# entering a fresh ``with np.errstate(...)`` per call. (A cached ``np.errstate`` instance entered with ``with`` is
# not an option: NumPy 2 refuses to enter one instance twice, even after it was exited.)
@_np.errstate(all="ignore")
def _quiet_call(fn, *args, **kwargs):
    return fn(*args, **kwargs)


def _wrap_outputs(ctx, raw, args, any_grad, xp, vc):
    """Output tensors for a multi-output forward, or a user forward that returned tensors."""
    outs_raw = raw if type(raw) is tuple else (raw,)
    non_diff_ids = {id(t) for t in ctx._non_diff}
    input_ids = {id(a) for a in args if isinstance(a, Tensor)}
    outputs = []
    for i, o in enumerate(outs_raw):
        if isinstance(o, Tensor):
            nd = id(o) in non_diff_ids
            o_data = o._data
        else:
            nd = False
            o_data = o if hasattr(o, "dtype") and not isinstance(o, _np.generic) else xp.asarray(o)
        diff = any_grad and not nd and o_data.dtype.kind in "fV"
        if (isinstance(o, Tensor) and o._grad_fn is None and not o._requires_grad
                and id(o) not in input_ids):
            t = o  # reuse the user's fresh tensor so references it saved resolve to this output
            if diff:
                t._requires_grad = True
                t._grad_fn = ctx
                t._output_nr = i
        else:
            t = Tensor._make(o_data, diff, ctx if diff else None, i, vc)
        outputs.append(t)
    return tuple(outputs)


_DIRTY_VIEW_MULTI = (
    "If your Function modifies inplace an input that is a view of another Tensor, your Function cannot return more "
    "than one Tensor. This is not supported by the current autograd engine. You should either make sure the input "
    "is not a view (using .clone() for example) or make your Function only return one Tensor (potentially splitting "
    "it into two Functions: one doing the inplace that returns a single Tensor and a second one that does the other "
    "operations).")


def _take_dirty(ctx, raw, args, outputs):
    """torch's ``mark_dirty``: each dirty tensor is returned as itself, its version bumped, and — when the output is
    differentiable — its history rebased onto ``ctx`` as an in-place op's (a view's base gets a CopySlices node)."""
    dirty = ctx._dirty
    ctx._dirty = ()
    outs_raw = raw if type(raw) is tuple else (raw,)
    input_ids = {id(a) for a in args if isinstance(a, Tensor)}
    outputs = list(outputs)
    returned = 0
    for i, o in enumerate(outs_raw):
        if not any(o is d for d in dirty):
            continue
        returned += 1
        made = outputs[i]  # what _wrap_outputs built: grad_fn is ctx exactly when the output is differentiable
        if made._grad_fn is not ctx:
            if not o.requires_grad or id(o) not in input_ids:
                outputs[i] = o
            else:  # torch hands back a detached alias rather than change the input's requires_grad
                outputs[i] = Tensor._make(o._data, False, None, 0, o._vc)
            o._vc[0] += 1
            continue
        if made is o:  # a tensor the forward made itself: nothing to rebase (torch warns about it)
            warnings.warn("Only input Tensors should be given to ctx.mark_dirty(). If a Tensor is not an input, "
                          "there is no need to pass it to mark_dirty().", UserWarning, stacklevel=3)
            o._vc[0] += 1
            continue
        if o._grad_fn is None and o.requires_grad:
            o._vc[0] += 1  # torch bumps the version before it refuses (the storage was written anyway)
            raise RuntimeError(f"{type(ctx).__name__}: a leaf Variable that requires grad has been used in an "
                               f"in-place operation (marked dirty), shape {tuple(o.shape)}.")
        info = o._view
        if info is not None:
            if len(outs_raw) > 1:
                raise RuntimeError(f"{type(ctx).__name__}: {_DIRTY_VIEW_MULTI}")
            if info[V_META] != VIEW_DEFAULT:
                raise view_error(info, "is being modified inplace")
            info[V_VERSION] = o._vc[0]  # the forward's own writes: the view's history is still its base's
        _ops._common.inplace(o, lambda made=made: made, type(ctx).__name__)  # bumps the version, rebases the history
        outputs[i] = o
    if returned < len(dirty):
        raise RuntimeError(
            f"{type(ctx).__name__}: Some elements marked as dirty during the forward method were not returned as "
            "output. The inputs that are modified inplace must all be outputs of the Function.")
    return tuple(outputs)

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _user_stack():
    """The forward call stack up to the user's line (tinytorch's own trailing frames dropped)."""
    frames = traceback.extract_stack()
    while frames and os.path.abspath(frames[-1].filename).startswith(_PKG_DIR + os.sep):
        frames.pop()
    return "".join(traceback.format_list(frames))


def _edge(t):
    if t._grad_fn is not None:
        return (t._grad_fn, t._output_nr)
    return (_accumulator(t), 0)


def _device_context(xp, arrays):
    """``cupy.cuda.Device(i)`` when the inputs live on GPU ``i`` and another GPU is current, else None."""
    if not arrays or _arrays.loaded_device_count() < 2:
        return None
    return _arrays.device_guard(arrays[0])


def _check_same_device(cls, arrays):
    devs = {str(_arrays.device_of(a)) for a in arrays}
    if len(devs) > 1:
        raise RuntimeError(
            f"{cls.__name__.lower()}: expected all tensors to be on the same device, but found at "
            f"least two devices, {' and '.join(sorted(devs))}"
        )


class once_differentiable:  # noqa: N801 - torch's name
    """Decorator accepted for API compatibility (tinytorch backward functions are plain calls)."""

    def __new__(cls, fn):
        return fn
