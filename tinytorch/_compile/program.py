"""A replayable program built from two agreeing traces, and its replay.

Two eager calls are traced; where they agree op for op the program is kept. An outside tensor that is
the same object in both traces (a parameter, a buffer) is read live at every replay; one that is a new
object each time (``torch.zeros(...)`` built in forward) must hold the same values in both and becomes
a constant. Replay calls each op's ``Function.apply`` with the recorded structure, so autograd builds
the same graph eager would: the backward and its gradients are the eager ones, bit for bit.
"""
from __future__ import annotations

import numpy as np

from ..autograd import grad_mode
from .. import _arrays
from .._arrays import strides as _strides
from ..tensor import Tensor

_grad_state = grad_mode._local


class Mismatch(Exception):
    """The two traces differ; the message says where."""


def _same_value(a, b):
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if hasattr(a, "__code__") and hasattr(b, "__code__"):  # a closure built per call: same code, same cells
        ca, cb = a.__closure__ or (), b.__closure__ or ()
        return a.__code__ is b.__code__ and len(ca) == len(cb) and all(
            _same_value(x.cell_contents, y.cell_contents) for x, y in zip(ca, cb))
    if isinstance(a, (Tensor,)) or hasattr(a, "__array_interface__"):
        return False
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - an object without a usable ==: only identity counts
        return False


def _arrays_equal(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(_arrays.as_numpy(a), _arrays.as_numpy(b), equal_nan=True))


def merge(s1, s2, where="argument"):
    """The program spec for two traces' specs of the same place (raises Mismatch)."""
    t1, t2 = s1[0], s2[0]
    if t1 != t2:
        raise Mismatch(f"{where}: {t1} vs {t2}")
    if t1 in ("s", "sd", "sdet", "alias", "sview"):
        if s1[1:] != s2[1:]:
            raise Mismatch(f"{where}: comes from a different op")
        return s2
    if t1 in ("L", "T"):
        if len(s1[1]) != len(s2[1]):
            raise Mismatch(f"{where}: sequence lengths differ")
        return (t1, [merge(a, b, where) for a, b in zip(s1[1], s2[1])])
    if t1 == "D":
        if [k for k, _ in s1[1]] != [k for k, _ in s2[1]]:
            raise Mismatch(f"{where}: keyword names differ")
        return ("D", [(k, merge(a, b, where)) for (k, a), (_, b) in zip(s1[1], s2[1])])
    if t1 == "ubind":
        if s1[2] != s2[2]:
            raise Mismatch(f"{where}: binds a different slot")
        return ("ubind", merge(("u", s1[1]), ("u", s2[1]), where), s2[2])
    if t1 == "pyc":
        a, b = s1[1]._data, s2[1]._data
        if not _arrays_equal(a, b):
            raise Mismatch(f"{where}: the number {a} differs from {b}")
        return ("v", s2[1])
    if t1 == "u":
        a, b = s1[1], s2[1]
        if a is b:
            return ("live", b)
        if isinstance(a, Tensor):
            if a.requires_grad or b.requires_grad:
                raise Mismatch(f"{where}: a new tensor that requires grad is built outside the recorded ops")
            if not _arrays_equal(a._data, b._data):
                raise Mismatch(f"{where}: a tensor built outside the recorded ops holds different values")
            return ("const", Tensor._make(b._data.copy()))
        if not _arrays_equal(a, b):
            raise Mismatch(f"{where}: an array built outside the recorded ops holds different values")
        return ("const", b.copy())
    if not _same_value(s1[1], s2[1]):
        raise Mismatch(f"{where}: the value {s1[1]!r} differs from {s2[1]!r}")
    return s2


class Program:
    """The ops of one call site for one guard key, replayed with ``Function.apply``."""

    def __init__(self, tr1, tr2, out1, out2):
        if len(tr1.ops) != len(tr2.ops):
            raise Mismatch(f"the two calls ran {len(tr1.ops)} and {len(tr2.ops)} ops")
        if tr1.n_slots != tr2.n_slots:
            raise Mismatch("the two calls produced different numbers of tensors")
        ops = []
        for i, (a, b) in enumerate(zip(tr1.ops, tr2.ops)):
            if a[0] != b[0] or a[1] is not b[1]:
                raise Mismatch(f"op {i}: {_op_name(a)} vs {_op_name(b)}")
            where = f"op {i} ({_op_name(b)})"
            ops.append((b[0], b[1], merge(a[2], b[2], where), merge(a[3], b[3], where), merge(a[4], b[4], where)))
        self.ops = ops
        self.n_slots = tr2.n_slots
        self.n_inputs = len(tr2.inputs)
        self.out = merge(out1, out2, "output")
        self.has_consts = any(_has_const(op[2]) or _has_const(op[3]) for op in ops) or _has_const(self.out)

        if tr1.grad_modes != tr2.grad_modes:
            raise Mismatch("the ops ran under different grad modes")
        self.steps = [_compile_step(*op) + (g,) for op, g in zip(ops, tr2.grad_modes)]

    def __call__(self, inputs):
        vals = [None] * self.n_slots
        vals[:self.n_inputs] = inputs
        state = _grad_state
        outer = state.enabled
        try:
            for step in self.steps:
                if step[6] is not state.enabled:
                    state.enabled = step[6]
                self._run(step, vals)
        finally:
            state.enabled = outer
        return _build(self.out, vals)

    @staticmethod
    def _run(step, vals):
        call, template, fills, kwspec, out_slot, outspec, _ = step
        if template is None:
            args = _build(fills, vals)
        else:
            args = template.copy()
            for i, k in fills:
                args[i] = vals[k]
        out = call(*args) if kwspec is None else call(*args, **_build(kwspec, vals))
        if out_slot is not None:
            vals[out_slot] = out
        elif outspec is not None:
            _store(outspec, out, vals)


def _compile_step(kind, fn, argspec, kwspec, outspec):
    """(callable, arg template, slot fills, kwargs spec or None, single output slot, output spec)."""
    call = fn.apply if kind == "apply" else fn
    template, fills = [], []
    for i, a in enumerate(argspec[1]):
        if a[0] == "s":
            template.append(None)
            fills.append((i, a[1]))
        elif a[0] in ("v", "live"):
            template.append(a[1])
        else:  # nested or derived arguments: the general builder
            template, fills = None, argspec
            break
    kw = None if not kwspec[1] else kwspec
    if outspec[0] == "alias":
        return call, template, fills, kw, None, None
    out_slot = outspec[1] if outspec[0] == "s" else None
    return call, template, fills, kw, out_slot, (outspec if out_slot is None else None)


def _has_const(spec):
    tag = spec[0]
    if tag == "const":
        return True
    if tag in ("L", "T"):
        return any(_has_const(s) for s in spec[1])
    if tag == "D":
        return any(_has_const(s) for _, s in spec[1])
    if tag == "ubind":
        return _has_const(spec[1])
    return False


def _op_name(op):
    return getattr(op[1], "__name__", repr(op[1]))


def _build(spec, vals):
    tag = spec[0]
    if tag == "s":
        return vals[spec[1]]
    if tag == "v" or tag == "live":
        return spec[1]
    if tag == "const":  # a fresh copy each replay: an op may change it in place
        c = spec[1]
        return Tensor._make(c._data.copy()) if isinstance(c, Tensor) else c
    if tag == "ubind":
        vals[spec[2]] = obj = _build(spec[1], vals)
        return obj
    if tag == "T":
        return tuple([_build(s, vals) for s in spec[1]])
    if tag == "L":
        return [_build(s, vals) for s in spec[1]]
    if tag == "D":
        return {k: _build(s, vals) for k, s in spec[1]}
    if tag == "sd":
        return vals[spec[1]]._data
    if tag == "sdet":
        return Tensor._make(vals[spec[1]]._data)
    if tag == "sview":
        base = vals[spec[1]]._data
        if base.shape != spec[4] or base.strides != spec[5]:
            raise RuntimeError(f"compile: replay expected an array of shape {spec[4]} and strides {spec[5]}, got "
                               f"{base.shape} and {base.strides}; please report this")
        return _strides.as_strided(np, base, spec[2], spec[3])
    raise AssertionError(f"compile: unknown spec {tag!r}")


def _store(spec, out, vals):
    tag = spec[0]
    if tag == "s":
        vals[spec[1]] = out
    elif tag in ("T", "L"):
        for s, o in zip(spec[1], out):
            _store(s, o, vals)
