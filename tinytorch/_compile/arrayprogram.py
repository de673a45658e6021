"""The replay half of the array tier: two agreeing array traces become one generated Python function.

See :mod:`.arrays` for what is recorded. :class:`ArrayProgram` merges two traces (the same instructions;
Python values equal; arrays from outside the same objects), decides which results may live in buffers the
program owns and which constant creations fold, and generates straight-line code for the replay.
"""
from __future__ import annotations

import types

import numpy as np

from ..autograd import engine as _engine
from ..autograd import grad_mode
from ..autograd.function import Function, _FREED_MSG, _edge
from ..tensor import Tensor
from .arrays import _Creator, _Draw, _ReplayedBackward
from .program import Mismatch, _same_value


def _merge(s1, s2, where):
    t1, t2 = s1[0], s2[0]
    if t1 != t2:
        raise Mismatch(f"{where}: {t1} vs {t2}")
    if t1 in ("s", "s0", "in", "ts"):
        if s1[1:] != s2[1:]:
            raise Mismatch(f"{where}: comes from a different instruction")
        return s2
    if t1 == "obj":
        if s1[1] is not s2[1]:
            raise Mismatch(f"{where}: a different tensor")
        return s2
    if t1 in ("u", "uw"):
        if s1[1] is not s2[1]:
            raise Mismatch(f"{where}: an array made outside the recorded operations (shape {s2[1].shape})")
        return ("live", s2[1])
    if t1 in ("T", "L"):
        if len(s1[1]) != len(s2[1]):
            raise Mismatch(f"{where}: sequence lengths differ")
        return (t1, [_merge(a, b, where) for a, b in zip(s1[1], s2[1])])
    if t1 == "D":
        if [k for k, _ in s1[1]] != [k for k, _ in s2[1]]:
            raise Mismatch(f"{where}: keyword names differ")
        return ("D", [(k, _merge(a, b, where)) for (k, a), (_, b) in zip(s1[1], s2[1])])
    if t1 in ("t", "g"):
        if s1[1:] != s2[1:]:
            raise Mismatch(f"{where}: a different output")
        return s2
    if t1 == "v":
        a, b = s1[1], s2[1]
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            raise Mismatch(f"{where}: an array value")
        if a is not b and not (type(a) is type(b) and _same_v(a, b)):
            raise Mismatch(f"{where}: the value {a!r} differs from {b!r}")
        return s2
    raise AssertionError(f"compile: unknown array spec {t1!r}")


def _same_v(a, b):
    if isinstance(a, types.FunctionType):  # a closure built per call (opt.step(closure)) holds that call's inputs
        return a is b
    if isinstance(a, np.generic):
        return a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if type(a) is float or type(a) is complex:
        return repr(a) == repr(b)  # -0.0 is not 0.0; nan is nan
    if type(a) in (tuple, list):
        return len(a) == len(b) and all(type(x) is type(y) and _same_v(x, y) for x, y in zip(a, b))
    return _same_value(a, b)


def _merge_args(a, b, where):
    if a is None or b is None:
        if a is not b:
            raise Mismatch(f"{where}: arguments differ")
        return None
    if type(a) is tuple and (not a or type(a[0]) is tuple):  # positional arguments: a tuple of specs
        if len(a) != len(b):
            raise Mismatch(f"{where}: argument counts differ")
        return tuple(_merge(x, y, where) if type(x[0]) is str else (x[0], _merge(x[1], y[1], where))
                     for x, y in zip(a, b))
    return _merge(a, b, where)


def _same_fn(kind, a, b):
    if kind == "check":
        return True  # the error-message closure is built per call
    return a is b or (type(a) is _Draw and a == b) or (type(a) is _Creator and type(b) is _Creator and a.fn is b.fn)


def _slots(spec, out):
    """Slot numbers a spec reads."""
    tag = spec[0]
    if tag in ("s", "s0", "ts", "t", "g"):
        out.add(spec[1])
    elif tag in ("T", "L"):
        for s in spec[1]:
            _slots(s, out)
    elif tag == "D":
        for _, s in spec[1]:
            _slots(s, out)
    return out


class ArrayProgram:
    """One call site's array program for one guard key; ``program(inputs)`` replays it."""

    def __init__(self, a, b, out_a, out_b, fn_watched=()):
        if len(a.ins) != len(b.ins) or a.n_slots != b.n_slots:
            raise Mismatch(f"the two calls recorded {len(a.ins)} and {len(b.ins)} array operations")
        n = len(b.inputs)
        if [(id(t), k) for t, _, k in a.wrapped[n:]] != [(id(t), k) for t, _, k in b.wrapped[n:]]:
            raise Mismatch("the two calls used different parameters")
        ins = []
        for i, (x, y) in enumerate(zip(a.ins, b.ins)):
            where = f"array op {i} ({_name(y[1])})"
            if x[0] != y[0] or not _same_fn(x[0], x[1], y[1]):
                raise Mismatch(f"{where}: {_name(x[1])} vs {_name(y[1])}")
            argspec = _merge_args(x[2], y[2], where)
            kwspec = _merge_args(x[3], y[3], where)
            if (x[4] is None) != (y[4] is None) or (x[4] is not None and x[4] != y[4]) or x[4] is not y[4] and \
                    type(x[4]) is bool:
                raise Mismatch(f"{where}: results differ")
            ins.append((y[0], y[1], argspec, kwspec, y[4]))
        self.out = _merge(out_a, out_b, "output")
        self.bwd = None  # (seed slots, target specs, gradient slots) when the outputs' backward was recorded
        if (a.bwd is None) != (b.bwd is None):
            raise Mismatch("one call's outputs kept their autograd graph, the other's did not")
        if b.bwd is not None:
            (n1, seeds1, t1, g1), (n2, seeds2, t2, g2) = a.bwd, b.bwd
            if (n1, seeds1, g1) != (n2, seeds2, g2) or len(t1) != len(t2):
                raise Mismatch("the recorded backwards differ")
            self.bwd = (seeds2, [_merge(x, y, "backward target") for x, y in zip(t1, t2)], g2, n2)
            self.out_meta = []  # per output the backward starts from: (shape, dtype)
            _graph_meta(self.out, b.meta, self.out_meta)
        self.n_inputs = len(b.inputs)
        self.input_strides = tuple(t._data.strides for t in b.inputs)
        wrapped = [(t, plain) for t, plain, _ in b.wrapped[self.n_inputs:]]
        wrapped_ids = {id(t) for t, _ in wrapped}
        extra = [(t, t._data) for t in fn_watched if id(t) not in wrapped_ids and id(t) not in b.tensors]
        # guards: the arrays bound by identity are still the tensors' arrays, requires_grad unchanged
        self.guarded = [(t, d, t._requires_grad) for t, d in wrapped + extra]
        self.bumps = [(v[0], v[2]) for v in b.versions.values() if v[2] and id(v[0]) in wrapped_ids]
        self.n_instructions = len(ins)
        self._build(ins, b)

    def _build(self, ins, b):
        meta = b.meta
        escaping = set(b.roots_out)
        for kind, _, argspec, kwspec, _ in ins:
            if kind in ("acc", "setgrad", "live"):
                for s in argspec:
                    _slots(s, escaping)
                if kwspec is not None:
                    _slots(kwspec, escaping)
        _slots(self.out, escaping)
        self.saved = []  # forward slots the backward reads: kept per replay (in the autograd node)
        if self.bwd is not None:
            n_fwd = self.bwd[3]
            mark = next(i for i, x in enumerate(ins) if x[0] == "mark")
            used = set()
            for kind, _, argspec, kwspec, _ in ins[mark + 1:]:
                for s in argspec:
                    _slots(s, used)
                if kwspec is not None:
                    _slots(kwspec, used)
            self.saved = sorted(k for k in used if k < n_fwd)
            escaping |= set(self.saved)
        esc_roots = {meta[k][3] for k in escaping}
        written_roots = {meta[k][3] for k in b.written}
        root_count = {}
        for k, m in meta.items():
            root_count[m[3]] = root_count.get(m[3], 0) + 1
        ns = {"_asarray": np.asarray, "_acc": _acc, "_mk": Tensor._make}
        names = {}

        def const(obj):
            key = id(obj)
            n = names.get(key)
            if n is None:
                n = names[key] = f"k{len(names)}"
                ns[n] = obj
            return n

        def expr(spec):
            tag = spec[0]
            if tag in ("s", "s0"):
                return f"s{spec[1]}"
            if tag == "ts":
                return f"_mk(s{spec[1]})"
            if tag == "in":
                return f"T[{spec[1]}]"
            if tag in ("obj", "live"):
                return const(spec[1])
            if tag == "v":
                v = spec[1]
                if v is None or v is True or v is False or (type(v) is int and -1000 < v < 1000):
                    return repr(v)
                return const(v)
            if tag == "T":
                return "(" + "".join(expr(s) + ", " for s in spec[1]) + ")"
            if tag == "L":
                return "[" + ", ".join(expr(s) for s in spec[1]) + "]"
            if tag == "D":
                return "{" + ", ".join(f"{const(k)}: {expr(s)}" for k, s in spec[1]) + "}"
            raise AssertionError(f"compile: unknown array spec {tag!r}")

        def call_args(argspec, kwspec, extra=""):
            parts = [expr(s) for s in argspec]
            if kwspec is not None:
                for k, s in kwspec[1]:
                    parts.append(f"{k}={expr(s)}" if isinstance(k, str) and k.isidentifier() else
                                 f"**{{{const(k)}: {expr(s)}}}")
            if extra:
                parts.append(extra)
            return ", ".join(parts)

        lines = ["def _replay(T):", "    taken = set()"]
        for i in range(self.n_inputs):
            lines.append(f"    s{i} = T[{i}]._data")
        for t, plain, k in b.wrapped[self.n_inputs:]:
            lines.append(f"    s{k} = {const(plain)}")
        self.reused = self.folded = self.shared = 0
        cse = {}  # (ufunc, argument keys) -> slot: the same pure ufunc call on the same arrays, done once
        folded, canon = {}, {}  # folded constants by value; slot -> the slot of the equal constant kept
        self.guards = []
        self.failed = None
        self.dropped = None  # why this program no longer replays (a double backward went through it)
        ns["_guard_failed"] = self._guard_failed
        split = None
        for kind, fn, argspec, kwspec, outspec in ins:
            if kind == "mark":  # the recorded backward starts: a second function (see below)
                split = len(lines)
                cse.clear()
                continue
            if kind != "call" or outspec is None:
                cse.clear()  # something was written in place: earlier results may be stale as keys
            if kind == "call":
                f = fn.fn if type(fn) is _Creator else fn
                k = outspec[1] if outspec is not None and outspec[0] in ("s", "s0") else None
                if (k is not None and type(fn) is _Creator and k in b.values and meta[k][3] not in esc_roots
                        and meta[k][3] not in written_roots and root_count[meta[k][3]] == 1):
                    v = b.values[k]
                    vkey = (v.dtype.str, v.shape, v.tobytes(), outspec[0])
                    first = folded.setdefault(vkey, (k, v.copy() if outspec[0] == "s0" else v))
                    canon[k] = first[0]  # equal constants are one array: later equal calls on them share
                    lines.append(f"    s{k} = {const(first[1])}")
                    self.folded += 1
                    continue
                if k is not None and outspec[0] == "s" and isinstance(f, np.ufunc) and f.nout == 1:
                    key = _cse_key(f, argspec, kwspec, canon)
                    j = cse.get(key) if key is not None else None
                    if j is not None and not ({meta[k][3], meta[j][3]} & (esc_roots | written_roots)):
                        lines.append(f"    s{k} = s{j}")  # neither is written nor leaves: one array serves both
                        self.shared += 1
                        continue
                    if key is not None:
                        cse[key] = k
                extra = ""
                if (k is not None and outspec[0] == "s" and isinstance(f, np.ufunc) and f.nout == 1
                        and meta[k][3] not in esc_roots and (kwspec is None or not any(
                            n in ("out", "where") for n, _ in kwspec[1]))):
                    shape, dt, strides = meta[k][0], meta[k][1], meta[k][2]
                    buf = np.empty(shape, dtype=dt)
                    if buf.strides == strides and buf.size > 1:
                        extra = f"out={const(buf)}"
                        self.reused += 1
                call = f"{const(f)}({call_args(argspec, kwspec, extra)})"
                if kwspec is None or not kwspec[1]:  # indexing as syntax: no call through the descriptor
                    if f is np.ndarray.__getitem__ and len(argspec) == 2:
                        call = f"{expr(argspec[0])}[{expr(argspec[1])}]"
                    elif f is np.ndarray.__setitem__ and len(argspec) == 3 and outspec is None:
                        lines.append(f"    {expr(argspec[0])}[{expr(argspec[1])}] = {expr(argspec[2])}")
                        continue
                if outspec is None:
                    lines.append(f"    {call}")
                elif outspec[0] == "s0":
                    lines.append(f"    s{k} = _asarray({call})")
                elif outspec[0] == "s":
                    lines.append(f"    s{k} = {call}")
                else:
                    lines.append(f"    {', '.join(expr(s) for s in outspec[1])}, = {call}")
            elif kind == "acc":
                lines.append(f"    s{outspec[1]} = _acc({expr(argspec[0])}, {expr(argspec[1])}, taken)")
            elif kind == "setgrad":
                lines.append(f"    {const(fn)}({expr(argspec[0])}, {expr(argspec[1])})")
            elif kind == "live":
                kw = ", ".join(f"{k}={expr(s)}" for k, s in kwspec[1])
                args = ", ".join([expr(s) for s in argspec] + ([kw] if kw else []))
                call = f"{const(fn)}({args})"
                lines.append(f"    s{outspec[1]} = {call}._data" if outspec is not None else f"    {call}")
            elif kind == "guard":
                lines.append(f"    if bool({expr(argspec[0])}) is not {outspec!r}:")
                lines.append(f"        _guard_failed({len(self.guards)})")
                self.guards.append(outspec)
            elif kind == "check":
                lines.append(f"    if {expr(argspec[0])}.any():")
                lines.append(f"        raise {const(fn)}()")
            else:
                raise AssertionError(kind)
        bwd_lines = []
        if split is not None:
            seeds, _, gslots, _ = self.bwd
            bwd_lines = ["def _backward(S, G):", "    taken = set()"]
            if self.saved:
                bwd_lines.append("    " + "".join(f"s{k}, " for k in self.saved) + "= S")
            bwd_lines += [f"    s{k} = G[{i}]" for i, k in enumerate(seeds)]
            bwd_lines += lines[split:]
            bwd_lines.append("    return (" + "".join("None, " if k is None else f"s{k}, " for k in gslots) + ")")
            del lines[split:]
        for t, d in self.bumps:
            lines.append(f"    {const(t)}._vc[0] += {d}")
        outs = sorted(_slots(self.out, set()))
        ret = "    return {" + ", ".join(f"{k}: s{k}" for k in outs) + "}"
        if split is not None:
            ret += ", (" + "".join(f"s{k}, " for k in self.saved) + ")"
        lines.append(ret)
        self.source = "\n".join(lines + [""] + bwd_lines)
        exec(compile(self.source, "<tinytorch.compile array program>", "exec"), ns)
        self._replay = ns["_replay"]
        self._backward = ns.get("_backward")
        self.has_draws = any(type(x[1]) is _Draw or x[0] in ("live", "acc", "setgrad") for x in ins)
        self.writes_state = bool(written_roots & {meta[k][3] for _, _, k in b.wrapped[self.n_inputs:]}) or bool(
            self.bumps)

    def _guard_failed(self, i):
        self.failed = i
        raise RuntimeError(
            "tinytorch.compile: a value tinytorch's own code branched on while the call was traced (bool of an "
            f"array; a NaN check) is now {not self.guards[i]}, so the replayed step may have been partly applied. "
            "This call site replays op by op from now on; rerun the step, or set TINYTORCH_COMPILE_ARRAYS=0.")

    def guard(self, inputs):
        """Why this program may not replay a call with these input tensors (shapes are guarded before), or None."""
        if self.failed is not None:
            return "a value the trace branched on changed"
        if self.dropped is not None:
            return self.dropped
        for t, s in zip(inputs, self.input_strides):
            if t._data.strides != s:
                return "an input's strides changed"
        for t, d, rg in self.guarded:
            if t._data is not d:
                return "a parameter or buffer was rebound to a new array"
            if t._requires_grad is not rg:
                return "a parameter's requires_grad changed"
        return None

    def run_arrays(self, inputs):
        """Only the array work of one replay (live steps included): {slot: array} of the outputs."""
        return self._replay(inputs)

    def __call__(self, inputs, call=None):
        if self.bwd is None:
            return _build(self.out, self._replay(inputs), inputs)
        vals, saved = self._replay(inputs)
        node = _CompiledBackward()
        node._prog, node._saved, node._call = self, saved, call
        node._out_meta = self.out_meta
        edges = []
        for spec in self.bwd[1]:
            t = inputs[spec[1]] if spec[0] == "in" else spec[1]
            edges.append(_edge(t) if t._requires_grad else None)
        node._edges = tuple(edges)
        return _build(self.out, vals, inputs, node)

    def run_backward(self, saved, grads):
        """The recorded backward on one replay's saved arrays: a gradient (or None) per target tensor."""
        return self._backward(saved, grads)


def _cse_key(f, argspec, kwspec, canon):
    try:
        key = (f, tuple(_spec_key(a, canon) for a in argspec), None if kwspec is None else _spec_key(kwspec, canon))
        hash(key)
    except TypeError:
        return None
    return key


def _spec_key(spec, canon):
    tag = spec[0]
    if tag in ("s", "s0"):
        return ("s", canon.get(spec[1], spec[1]))
    if tag in ("live", "obj"):
        return ("o", id(spec[1]))
    if tag == "v":
        v = spec[1]
        return ("v", type(v), repr(v) if type(v) in (float, complex) or isinstance(v, np.generic) else v)
    if tag in ("T", "L", "D"):
        return (tag, tuple(_spec_key(x, canon) if tag != "D" else (x[0], _spec_key(x[1], canon)) for x in spec[1]))
    raise TypeError(tag)


def _acc(var, data, taken):
    """A leaf's gradient accumulation, as the engine's ``_accumulate_leaf`` does it (first order)."""
    node = _engine._accumulator(var)
    _engine._accumulate_leaf(node, [Tensor._make(data)], None, None, True, False, taken)
    return var._grad._data


def _graph_meta(spec, meta, out):
    tag = spec[0]
    if tag == "g":
        out.append((meta[spec[1]][0], meta[spec[1]][1]))
    elif tag in ("T", "L"):
        for s in spec[1]:
            _graph_meta(s, meta, out)
    elif tag == "D":
        for _, s in spec[1]:
            _graph_meta(s, meta, out)


def _graph_values(spec, value, out):
    """The tensors of ``value`` (a result of the same structure) at the spec's "g" positions, in order."""
    tag = spec[0]
    if tag == "g":
        out.append(value)
    elif tag in ("T", "L"):
        for s, v in zip(spec[1], value):
            _graph_values(s, v, out)
    elif tag == "D":
        for k, s in spec[1]:
            _graph_values(s, value[k], out)


class _CompiledBackward(Function):
    """grad_fn of a replayed forward's outputs: one node whose backward replays the recorded backward array
    program on the arrays this replay saved. ``create_graph`` (a double backward) re-runs the call eagerly to
    differentiate its graph, and the call site replays op by op from then on."""

    _prog = None
    _call = None
    xp = np  # the engine fills a missing output gradient with xp.zeros

    def name(self):
        return "CompiledFunctionBackward"

    @staticmethod
    def backward_arrays(ctx, *grads):
        if ctx._saved is None:
            raise RuntimeError(_FREED_MSG)
        return ctx._prog.run_backward(ctx._saved, grads)

    @staticmethod
    def backward(ctx, *grads):
        if ctx._saved is None:
            raise RuntimeError(_FREED_MSG)
        prog = ctx._prog
        if not grad_mode.is_grad_enabled():  # first order through the tensor path: same arrays
            out = prog.run_backward(ctx._saved, [g._data for g in grads])
            return tuple(None if a is None else Tensor._make(a) for a in out)
        prog.dropped = "a double backward (create_graph) went through its outputs"
        if ctx._call is None or prog.has_draws or prog.writes_state:
            raise RuntimeError(
                "tinytorch.compile: create_graph=True (a double backward) through the outputs of a compiled call "
                "whose forward draws random numbers or updates buffers (dropout, BatchNorm) cannot be "
                "differentiated twice from the replay; this call site replays op by op from now on, so repeat "
                "the forward and the backward.")
        fn, args, kwargs, inputs = ctx._call
        with grad_mode.enable_grad():
            res = fn(*args, **kwargs)
        outs = []
        _graph_values(prog.out, res, outs)
        targets = [inputs[s[1]] if s[0] == "in" else s[1] for s in prog.bwd[1]]
        keep = [i for i, t in enumerate(targets) if t._requires_grad]
        gs = _engine.run_backward(outs, list(grads), retain_graph=True, create_graph=True,
                                  inputs=[targets[i] for i in keep], allow_unused=True)
        full = [None] * len(targets)
        for i, g in zip(keep, gs):
            full[i] = g
        return tuple(full)


def _build(spec, vals, inputs, node=None):
    tag = spec[0]
    if tag == "g":
        a = vals[spec[1]]
        if not isinstance(a, np.ndarray):
            a = np.asarray(a)
        return Tensor._make(a, True, node, spec[2], None)
    if tag == "t":
        a = vals[spec[1]]
        if not isinstance(a, np.ndarray):
            a = np.asarray(a)
        if spec[2]:
            node = _ReplayedBackward()
            node._out_meta = ((a.shape, a.dtype),)
            return Tensor._make(a, True, node, 0, None)
        return Tensor._make(a)
    if tag == "in":
        return inputs[spec[1]]
    if tag == "obj":
        return spec[1]
    if tag == "v":
        return spec[1]
    if tag == "T":
        return tuple([_build(s, vals, inputs, node) for s in spec[1]])
    if tag == "L":
        return [_build(s, vals, inputs, node) for s in spec[1]]
    if tag == "D":
        return {k: _build(s, vals, inputs, node) for k, s in spec[1]}
    raise AssertionError(f"compile: unknown output spec {tag!r}")


def _name(fn):
    if type(fn) is _Creator:
        fn = fn.fn
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
