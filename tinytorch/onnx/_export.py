"""``export``: trace the forward, map each recorded op to ONNX nodes, write the model.

Flow: (1) run the model twice with the op recorder on: on the example, and on fresh values with every
dynamic axis one longer. Comparing the two tells the dims (and the Python-int arguments such as reshape
targets) that follow an input's size, and unmasks values computed from the input outside the recorded
ops, random draws and value-dependent control flow, which are refused rather than baked in; (2) resolve
every op argument to its source: a graph input, a parameter or buffer (an initializer named as in
``state_dict``), an earlier op's output, or a constant; (3) keep only the ops the outputs depend on, fold
the ones whose inputs are all constant into initializers, and convert the rest with the table in
``_ops``; (4) assemble and check the ModelProto.
"""
from __future__ import annotations

import contextlib
import enum
import inspect
import os
import warnings

import numpy as np

from .. import _arrays
from ..tensor import Tensor
from . import _ops
from ._trace import trace
from .errors import OnnxExporterError, OnnxExporterWarning, UnsupportedOperatorError

DEFAULT_OPSET = 17
MIN_OPSET, MAX_OPSET = 13, 21

_state = {"exporting": False}


class TrainingMode(enum.IntEnum):
    """``training=`` of ``export``: put the model in eval mode (default), keep its mode, or training mode."""

    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


class OperatorExportTypes(enum.IntEnum):
    """Accepted for compatibility; tinytorch always exports standard ONNX ops."""

    ONNX = 0
    ONNX_ATEN = 1
    ONNX_ATEN_FALLBACK = 2
    ONNX_FALLTHROUGH = 3


def is_in_onnx_export() -> bool:
    """True while ``export`` runs the model's forward."""
    return _state["exporting"]


# ---- values ------------------------------------------------------------------------------------------------
class Value:
    """A value of the graph being built: an ONNX name (once materialised), or a constant array."""

    __slots__ = ("name", "const", "dyn", "dtype", "shape", "param")

    def __init__(self, name=None, const=None, dyn=frozenset(), dtype=None, shape=None, param=None):
        self.name, self.const, self.dyn = name, const, frozenset(dyn)
        self.dtype, self.shape, self.param = dtype, shape, param

    @property
    def is_const(self):
        return self.const is not None


class Graph:
    """Nodes and initializers under construction, with unique names."""

    def __init__(self, onnx, opset):
        self.onnx, self.opset = onnx, opset
        self.nodes, self.initializers, self.inputs = [], [], []
        self._used, self._n = set(), 0

    def fresh(self, hint):
        hint = hint.replace(" ", "_")
        name, i = hint, 0
        while name in self._used:
            i += 1
            name = f"{hint}_{i}"
        self._used.add(name)
        return name

    def node(self, op_type, inputs, n_out=1, **attrs):
        """Append a node; returns its output name (``n_out == 1``) or the list of them."""
        self._n += 1
        outs = [self.fresh(f"/{op_type}_{self._n}_output_{i}") for i in range(n_out)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), outs, name=f"/{op_type}_{self._n}",
                                                     **attrs))
        return outs[0] if n_out == 1 else outs

    def initializer(self, array, hint="const"):
        name = self.fresh(hint)
        arr = np.array(_arrays.as_numpy(array), order="C")  # ascontiguousarray would make 0-d 1-d
        if arr.dtype.kind == "V" or str(arr.dtype) == "bfloat16":
            raise OnnxExporterError(f"onnx.export: bfloat16 constant {hint!r} is not supported; convert the "
                                    "model to float32 first")
        self.initializers.append(self.onnx.numpy_helper.from_array(arr, name))
        return name

    def name_of(self, value: Value):
        """The ONNX name of ``value``, creating its initializer on first use."""
        if value.name is None:
            value.name = self.initializer(value.const, value.param or "onnx::Constant")
        return value.name

    def const(self, data, dtype):
        """A constant initializer of ``data`` as ``dtype`` (a NumPy dtype)."""
        return self.initializer(np.asarray(data, dtype=dtype), "onnx::Constant")

    def int64s(self, values):
        return self.const(np.asarray(list(values), dtype=np.int64).reshape(-1), np.int64)


# ---- resolution of op arguments -----------------------------------------------------------------------
def _same_memory(a, b):
    try:
        return (a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype
                and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])
    except AttributeError:  # CuPy arrays: identity only
        return a is b


class _Env:
    """Maps arrays (by identity, or as an unchanged view of a known array) to graph values."""

    def __init__(self, graph=None):
        self._by_id = {}
        self._keep = []
        self.graph = graph
        self.inputs = []  # (name, shape in trace 1, shape in trace 2) of the graph inputs
        self._dims = {}

    def bind(self, array, value):
        self._by_id[id(array)] = value
        self._keep.append(array)

    def dim(self, p, q):
        """A 1-element int64 graph value holding the size of the input axis that is ``p`` in the first
        trace and ``q`` in the second (None when no dynamic input axis behaves so)."""
        for name, s1, s2 in self.inputs:
            for k, (a, b) in enumerate(zip(s1, s2)):
                if a == p and b == q and a != b:
                    key = (name, k)
                    if key not in self._dims:
                        shape = self.graph.node("Shape", [name])
                        self._dims[key] = self.graph.node("Gather", [shape, self.graph.int64s([k])], axis=0)
                    return self._dims[key]
        return None

    def lookup(self, array):
        v = self._by_id.get(id(array))
        if v is not None:
            return v
        base = getattr(array, "base", None)
        while base is not None:  # x.reshape(-1) of a 1-D array, astype(copy=False) ...: the same values
            v = self._by_id.get(id(base))
            if v is not None and _same_memory(array, base):
                return v
            base = getattr(base, "base", None)
        return None


class _Unresolved(Exception):
    pass


def _flatten_outputs(out):
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _flatten_outputs(o)]
    if isinstance(out, dict):
        return [t for o in out.values() for t in _flatten_outputs(o)]
    raise OnnxExporterError(f"onnx.export: the model returned a {type(out).__name__}; expected tensors "
                            "(or tuples, lists or dicts of them)")


def _split_args(args):
    if isinstance(args, Tensor):
        return (args,), {}
    if not isinstance(args, tuple):
        args = (args,) if not isinstance(args, list) else tuple(args)
    kwargs = {}
    if args and isinstance(args[-1], dict):
        args, kwargs = args[:-1], dict(args[-1])
    return args, kwargs


def _variant(t: Tensor, axes, seed):
    """The second trace's input: one longer along each dynamic axis in ``axes`` and, for floating tensors,
    fresh values of the same mean and spread, so that anything the forward derives from the input's size or
    values outside the recorded ops shows up as a difference between the two traces."""
    a = _arrays.as_numpy(t._data)
    for ax in axes:
        a = np.concatenate([a, np.take(a, [0], axis=ax)], axis=ax)
    if a.dtype.kind == "f" and a.size:
        std = float(np.std(a.astype(np.float64))) or 1.0
        rng = np.random.default_rng(seed)
        a = (float(np.mean(a.astype(np.float64))) + std * rng.standard_normal(a.shape)).astype(a.dtype)
    return Tensor._make(_arrays.to_device(a, t.device))


def _normalize_dynamic_axes(dynamic_axes, names):
    out = {}
    for name, axes in (dynamic_axes or {}).items():
        if isinstance(axes, dict):
            out[name] = {int(k): str(v) for k, v in axes.items()}
        elif isinstance(axes, (list, tuple)):
            out[name] = {int(k): f"{name}_dynamic_axes_{i + 1}" for i, k in enumerate(axes)}
        else:
            raise ValueError(f"onnx.export: dynamic_axes[{name!r}] must be a dict {{axis: name}} or a list of axes, "
                             f"got {type(axes).__name__}")
    return out


def _default_input_names(model, n):
    fn = getattr(model, "forward", model)
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    if len(params) >= n:
        return params[:n]
    return [f"input_{i}" if n > 1 else "input" for i in range(n)]


@contextlib.contextmanager
def _mode(model, training):
    modules = list(model.modules()) if hasattr(model, "modules") else []
    saved = [m.training for m in modules]
    try:
        if modules and training is not TrainingMode.PRESERVE:
            model.train(training is TrainingMode.TRAINING or training is True)
        yield
    finally:
        for m, t in zip(modules, saved):
            m.training = t


# ---- export ---------------------------------------------------------------------------------------------
def export(model, args=(), f=None, *, kwargs=None, export_params=True, verbose=False, training=TrainingMode.EVAL,
           input_names=None, output_names=None, operator_export_type=None, opset_version=None,
           do_constant_folding=True, dynamic_axes=None, keep_initializers_as_inputs=None, custom_opsets=None,
           export_modules_as_functions=False, autograd_inlining=True, dynamo=False, external_data=False,
           **unused):
    """Export ``model`` (a Module or a function of tensors) to an ONNX file, tracing one forward call.

    Args:
        model: the ``nn.Module`` (put in eval mode for the export unless ``training`` says otherwise).
        args: the example input: a tensor, or a tuple of positional arguments (a trailing dict is keyword
            arguments, as in torch). Tensor arguments become the graph inputs.
        f: a path or a binary file object to write the model to (None: nothing written).
        export_params: parameters and buffers as initializers (True) or as extra graph inputs (False).
        input_names / output_names: names of the graph inputs / outputs, in order.
        opset_version: ONNX opset, 13 to 21 (default 17).
        do_constant_folding: fold ops whose inputs are all parameters/constants into initializers.
        dynamic_axes: ``{name: {axis: "dim_name"}}`` or ``{name: [axis, ...]}`` for inputs/outputs whose
            size along those axes may change (typically the batch dim).
        verbose: print the graph.

    Returns the ``onnx.ModelProto`` (torch returns None here; the model is also written to ``f``).

    Raises ``tinytorch.onnx.errors.UnsupportedOperatorError`` naming the first op the forward ran that has
    no ONNX mapping, and ``OnnxExporterError`` for anything else that cannot be expressed.
    """
    try:
        import onnx
    except ImportError as e:
        raise ImportError("onnx.export needs the 'onnx' package: pip install onnx (or tinytorch[onnx])") from e
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(f"onnx.export: opset_version {opset} is not supported; use {MIN_OPSET} to {MAX_OPSET}")
    if kwargs is None:
        args, kwargs = _split_args(args)
    else:
        args, _ = _split_args(args)
    tensor_pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    n_in = len(tensor_pos)
    in_names = list(input_names or [])[:n_in]
    in_names += _default_input_names(model, n_in)[len(in_names):] if not input_names else \
        [f"input_{i}" for i in range(len(in_names), n_in)]
    dyn_spec = _normalize_dynamic_axes(dynamic_axes, in_names)
    for i, name in zip(tensor_pos, in_names):
        for ax in dyn_spec.get(name, {}):
            if not 0 <= ax < args[i].ndim:
                raise ValueError(f"onnx.export: dynamic axis {ax} of input {name!r} is out of range for its "
                                 f"shape {tuple(args[i].shape)}")

    with _mode(model, training):
        _state["exporting"] = True
        try:
            records, result, traced_inputs = _run(model, args, kwargs, tensor_pos)
            # a second trace on other input values (and longer dynamic axes) tells the values that follow the
            # input from the constants
            variant = list(args)
            for k, (i, name) in enumerate(zip(tensor_pos, in_names)):
                variant[i] = _variant(args[i], sorted(dyn_spec.get(name, {})), seed=0x5EED + k)
            records2, result2, _ = _run(model, tuple(variant), kwargs, tensor_pos)
        finally:
            _state["exporting"] = False

    outputs = _flatten_outputs(result)
    outputs2 = _flatten_outputs(result2)
    if [r.op for r in records2] != [r.op for r in records]:
        first = next((k for k, (r, r2) in enumerate(zip(records, records2)) if r.op is not r2.op),
                     min(len(records), len(records2)))
        raise OnnxExporterError(
            "onnx.export: the forward runs different ops for other input values or sizes (control flow that "
            f"depends on the input, first at op {first}); such a model cannot be traced into one graph")
    out_names = list(output_names or [])[:len(outputs)]
    out_names += [f"output_{i}" if len(outputs) > 1 else "output" for i in range(len(out_names), len(outputs))]

    g = Graph(onnx, opset)
    env = _Env(g)
    graph_inputs = []
    for k, (t, name) in enumerate(zip(traced_inputs, in_names)):
        g._used.add(name)
        axes = dyn_spec.get(name, {})
        v = Value(name=name, dyn=set(axes), dtype=t._data.dtype, shape=tuple(t.shape))
        env.bind(t._data, v)
        graph_inputs.append((name, t, axes))
        grown = [n + 1 if ax in axes else n for ax, n in enumerate(t.shape)]
        env.inputs.append((name, tuple(t.shape), tuple(grown)))
    param_inputs = []
    named = []
    if hasattr(model, "named_parameters"):
        named = list(model.named_parameters()) + [(n, b) for n, b in model.named_buffers() if b is not None]
    for pname, p in named:
        if env.lookup(p._data) is None:
            v = Value(const=p._data, dtype=p._data.dtype, shape=tuple(p.shape), param=pname)
            if not export_params:
                v.name = g.fresh(pname)
                param_inputs.append((v.name, p))
            env.bind(p._data, v)

    _convert(g, env, records, records2, outputs, do_constant_folding)

    # ---- graph outputs
    helper = onnx.helper
    out_infos = []
    out_spec = _normalize_dynamic_axes({n: a for n, a in (dynamic_axes or {}).items() if n in out_names}, out_names)
    for j, (t, name) in enumerate(zip(outputs, out_names)):
        v = env.lookup(t._data)
        if v is None:
            raise OnnxExporterError(f"onnx.export: output {j} (shape {tuple(t.shape)}) was not computed by the "
                                    "recorded ops")
        src = g.name_of(v)
        g._used.add(name)
        g.nodes.append(helper.make_node("Identity", [src], [name], name=f"/output_{j}"))
        dyn = dict(out_spec.get(name, {}))
        for ax in sorted(v.dyn):
            dyn.setdefault(ax, f"{name}_dim_{ax}")
        if outputs2 is not None:
            for ax, (a, b) in enumerate(zip(t.shape, outputs2[j].shape)):
                if a != b:
                    dyn.setdefault(ax, f"{name}_dim_{ax}")
        out_infos.append(_value_info(onnx, name, t._data.dtype, t.shape, dyn))
    in_infos = [_value_info(onnx, name, t._data.dtype, t.shape, axes) for name, t, axes in graph_inputs]
    in_infos += [_value_info(onnx, name, p._data.dtype, p.shape, {}) for name, p in param_inputs]
    graph = helper.make_graph(g.nodes, getattr(model, "__class__", type(model)).__name__, in_infos, out_infos,
                              initializer=g.initializers)
    opsets = [helper.make_opsetid("", opset)]
    proto = helper.make_model(graph, opset_imports=opsets, producer_name="tinytorch",
                              ir_version=helper.find_min_ir_version_for(opsets))
    onnx.checker.check_model(proto)
    if verbose:
        print(onnx.printer.to_text(proto.graph) if hasattr(onnx, "printer") else helper.printable_graph(proto.graph))
    if f is not None:
        data = proto.SerializeToString()
        if isinstance(f, (str, os.PathLike)):
            with open(f, "wb") as fh:
                fh.write(data)
        elif hasattr(f, "write"):
            f.write(data)
        else:
            raise TypeError(f"onnx.export: f must be a path or a binary file object, got {type(f).__name__}")
    return proto


def _value_info(onnx, name, np_dtype, shape, dyn):
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(np_dtype))
    dims = [dyn[i] if i in dyn else int(n) for i, n in enumerate(shape)]
    return onnx.helper.make_tensor_value_info(name, elem, dims)


def _run(model, args, kwargs, tensor_pos):
    call_args = list(args)
    traced = []
    for i in tensor_pos:
        t = args[i]
        if not isinstance(t, Tensor):
            continue
        tt = t.detach()
        if tt.is_floating_point():
            tt.requires_grad_(True)  # so every value computed from the inputs is recognisable
        call_args[i] = tt
        traced.append(tt)
    records, result = trace(model, tuple(call_args), kwargs)
    return records, result, traced


def _convert(g, env, records, records2, outputs, fold):
    """Resolve, prune, fold and convert the records into ``g``."""
    # sources of every record's tensor inputs, and the producers of every output array
    n = len(records)
    producers = {}
    for k, rec in enumerate(records):
        for a in rec.out_arrays:
            producers[id(a)] = k

    def producer_of(a):
        if id(a) in producers:
            return producers[id(a)]
        base = getattr(a, "base", None)
        while base is not None:
            if id(base) in producers and _same_memory(a, base):
                return producers[id(base)]
            base = getattr(base, "base", None)
        return None

    # liveness: walk back from the outputs
    live = [False] * n
    stack = [k for k in (producer_of(t._data) for t in outputs) if k is not None]
    while stack:
        k = stack.pop()
        if live[k]:
            continue
        live[k] = True
        for arrays in records[k].in_arrays:
            for a in (arrays if isinstance(arrays, list) else [arrays]):
                if a is not None:
                    p = producer_of(a)
                    if p is not None and p < k and not live[p]:
                        stack.append(p)
        for a in _ops.index_arrays(records[k]):
            p = producer_of(a)
            if p is not None and p < k and not live[p]:
                stack.append(p)

    for k, rec in enumerate(records):
        if not live[k]:
            continue
        rec2 = records2[k] if records2 is not None else None
        ins = []
        for i, arrays in enumerate(rec.in_arrays):
            if arrays is None:
                ins.append(None)
            elif isinstance(arrays, list):
                ins.append([_resolve(env, a, rg, rec, rec2, i, j) for j, (a, rg) in
                            enumerate(zip(arrays, rec.in_grad[i]))])
            else:
                ins.append(_resolve(env, arrays, rec.in_grad[i], rec, rec2, i, None))
        flat = [v for x in ins if x is not None for v in (x if isinstance(x, list) else [x])]
        idx_arrays = _ops.index_arrays(rec)
        idx2 = _ops.index_arrays(rec2) if rec2 is not None else [None] * len(idx_arrays)
        idx_values = [_resolve_array(env, a, b, rec) for a, b in zip(idx_arrays, idx2)]
        dyn_out = [frozenset(ax for ax, (p, q) in enumerate(zip(o.shape, o2.shape)) if p != q)
                   for o, o2 in zip(rec.out_arrays, rec2.out_arrays)] if rec2 is not None else \
            [frozenset()] * len(rec.out_arrays)
        all_const = all(v.is_const for v in flat) and all(v is None or v.is_const for v in idx_values)
        if fold and all_const and not any(dyn_out):
            for a in rec.out_arrays:
                env.bind(a, Value(const=a, dtype=a.dtype, shape=tuple(a.shape)))
            continue
        node = _ops.NodeCtx(g, rec, rec2, ins, dyn_out, env)
        converter = _ops.CONVERTERS.get(rec.op.__name__)
        if converter is None:
            raise UnsupportedOperatorError(rec.name, g.opset, f"tinytorch.onnx has no mapping for "
                                           f"{rec.op.__module__}.{rec.name} (called on {node.describe()})")
        names = converter(node)
        if isinstance(names, (str, Value)):
            names = [names]
        for a, name, dyn in zip(rec.out_arrays, names, dyn_out):
            if name is None:
                continue
            if isinstance(name, Value):
                env.bind(a, name)
            else:
                env.bind(a, Value(name=name, dyn=dyn, dtype=a.dtype, shape=tuple(a.shape)))


def _sized_fill(env, a, b):
    """A created tensor whose size follows dynamic input axes, rebuilt from the inputs' ``Shape``: one value
    everywhere (``zeros(n_layers, batch, h)``: ConstantOfShape) or a 1-D ``arange`` (Range). None otherwise."""
    if a.ndim != b.ndim or a.size == 0 or b.size == 0:
        return None
    g = env.graph
    if a.ndim == 1 and a.dtype.kind in "iuf" and a.size > 1 and b.size > 1:
        start, step = a[0], a[1] - a[0]
        if np.array_equal(a, start + step * np.arange(a.size)) and np.array_equal(b, start + step * np.arange(b.size)):
            n = env.dim(a.size, b.size)
            if n is None:
                return None
            dt = a.dtype
            n = g.node("Cast", [g.node("Squeeze", [n, g.int64s([0])])], to=g.onnx.helper.np_dtype_to_tensor_dtype(dt))
            limit = g.node("Add", [g.node("Mul", [n, g.const(step, dt)]), g.const(start, dt)])
            out = g.node("Range", [g.const(start, dt), limit, g.const(step, dt)])
            return Value(name=out, dyn={0}, dtype=dt, shape=a.shape)
    if not (np.all(a == a.flat[0]) and np.all(b == a.flat[0])):
        return None
    pieces, dyn = [], set()
    for ax, (p, q) in enumerate(zip(a.shape, b.shape)):
        if p == q:
            pieces.append(g.int64s([p]))
            continue
        piece = env.dim(p, q)
        if piece is None:
            return None
        pieces.append(piece)
        dyn.add(ax)
    fill = g.onnx.numpy_helper.from_array(np.array([a.flat[0]], dtype=a.dtype), "value")
    out = g.node("ConstantOfShape", [g.node("Concat", pieces, axis=0)], value=fill)
    return Value(name=out, dyn=dyn, dtype=a.dtype, shape=a.shape)


def _resolve(env, array, requires_grad, rec, rec2, i, j):
    v = env.lookup(array)
    if v is not None:
        return v
    other = None
    if rec2 is not None:
        other = rec2.in_arrays[i] if j is None else rec2.in_arrays[i][j]
    return _resolve_array(env, array, other, rec, requires_grad)


def _resolve_array(env, array, other, rec, requires_grad=False):
    """The value of an op's array argument; ``other`` is the same argument in the second trace (or None)."""
    v = env.lookup(array)
    if v is not None:
        return v
    if requires_grad:
        raise OnnxExporterError(
            f"onnx.export: {rec.name} used a tensor of shape {tuple(array.shape)} that was computed from the "
            "inputs or parameters outside the ops tinytorch records (e.g. through NumPy or .data); the graph "
            "cannot express it")
    if other is not None:  # a tensor the forward created: is it the same for another input?
        a, b = _arrays.as_numpy(array), _arrays.as_numpy(other)
        if a.shape == b.shape and not np.array_equal(a, b, equal_nan=True):
            raise OnnxExporterError(
                f"onnx.export: {rec.name} uses a tensor of shape {tuple(a.shape)} that changes from one call to "
                "the next: the forward computed it from the input's values outside the ops tinytorch records "
                "(through NumPy, .item(), .tolist() ...), or drew it at random; as a constant it would be wrong "
                "for any other input")
        if a.shape != b.shape:
            v = _sized_fill(env, a, b)
            if v is not None:
                env.bind(array, v)
                return v
            warnings.warn(f"onnx.export: {rec.name} uses a tensor of shape {tuple(array.shape)} created in the "
                          "forward whose value depends on a dynamic axis; it is exported as a constant, so the "
                          "graph is only right for the example's size on that axis", OnnxExporterWarning,
                          stacklevel=4)
    v = Value(const=array, dtype=array.dtype, shape=tuple(array.shape))
    env.bind(array, v)
    return v
