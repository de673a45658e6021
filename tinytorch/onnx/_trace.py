"""Recording the ops a forward runs: a hook on ``Function.apply`` appends one ``Record`` per op call."""
from __future__ import annotations

from ..autograd import function as _function
from ..autograd import grad_mode
from ..tensor import Tensor

__all__ = ["Record", "trace"]


class Record:
    """One op call: its class, arguments and outputs, with the arrays they held at that moment.

    The arrays are captured at call time because an in-place op later gives its tensor a new array object
    (recorded as a ``_WriteInto`` op); the recorder keeps them alive, so ``id(array)`` names one value for
    the whole export.
    """

    # in_grad: per tensor argument, whether it was computed by a recorded graph (has a grad_fn): such a
    # value must come from the recorded ops, never be taken as a constant
    __slots__ = ("op", "args", "kwargs", "outputs", "in_arrays", "in_grad", "out_arrays")

    def __init__(self, op, args, kwargs, outputs):
        self.op, self.args, self.kwargs, self.outputs = op, args, kwargs, outputs
        self.in_arrays, self.in_grad = [], []
        for a in args:
            if isinstance(a, Tensor):
                self.in_arrays.append(a._data)
                self.in_grad.append(a._grad_fn is not None)
            elif type(a) in (list, tuple) and a and isinstance(a[0], Tensor):
                self.in_arrays.append([t._data for t in a])
                self.in_grad.append([t._grad_fn is not None for t in a])
            else:
                self.in_arrays.append(None)
                self.in_grad.append(None)
        self.out_arrays = [o._data for o in outputs]

    @property
    def name(self) -> str:
        return self.op.__name__


class _Recorder:
    composite_only = True  # fused ops with no ONNX mapping (ops.rnn.recurrent_layer) run their per-step ops
    def __init__(self):
        self.records: list[Record] = []

    def __call__(self, cls, args, kwargs, out):
        if not cls.__module__.startswith("tinytorch."):
            return  # a user's autograd.Function: the ops inside its forward were recorded themselves
        outputs = out if isinstance(out, tuple) else (out,)
        self.records.append(Record(cls, args, kwargs, outputs))


def trace(fn, args, kwargs):
    """Run ``fn(*args, **kwargs)`` with grad recording on and every op recorded; returns (records, result).

    Gradients are on so that a tensor computed from the inputs is recognisable (it requires grad) even
    where it was produced outside the recorded ops. In-place ops write into their tensor's memory and are
    recorded as ``_WriteInto`` (the written value, under a new array object the tensor holds from then on).
    """
    recorder = _Recorder()
    previous = _function.set_tracer(recorder)
    try:
        with grad_mode.enable_grad():
            result = fn(*args, **kwargs)
    finally:
        _function.set_tracer(previous)
    return recorder.records, result
