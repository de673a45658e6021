"""``tinytorch.autograd``: the tape, the engine, custom Functions and gradient checks."""
from __future__ import annotations

from .grad_mode import no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled
from .function import Function, once_differentiable
from .anomaly import detect_anomaly, set_detect_anomaly, is_anomaly_enabled
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from .variable import Variable
from . import engine as _engine
from .. import ops as _ops  # partially initialized here (ops import autograd): looked up at call time
from ..tensor import Tensor as _Tensor  # defined before tensor.py imports ops, and so autograd

__all__ = [
    "Function", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
    "is_grad_enabled", "detect_anomaly", "set_detect_anomaly", "gradcheck", "gradgradcheck",
    "GradcheckError", "once_differentiable", "explain", "Variable",
]


def _as_tuple(x):
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


def _make_grads(outputs, grad_outputs, create_graph):
    grads = []
    if grad_outputs is not None and len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad can't be matched to outputs: got {len(outputs)} tensors and {len(grad_outputs)} "
                           f"gradients")
    for i, out in enumerate(outputs):
        if not isinstance(out, _Tensor):
            raise TypeError(f"autograd: the tensors to differentiate must be Tensors, got {type(out).__name__} at "
                            f"position {i}")
        g = None if grad_outputs is None else grad_outputs[i]
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs (output {i} has shape {tuple(out.shape)})"
                )
            g = _Tensor._make(out.xp_ones_like())
        elif not isinstance(g, _Tensor):  # torch: TypeError, no silent conversion of numbers or lists
            raise TypeError(f"backward: gradient (grad_outputs[{i}]) must be a Tensor or None, got "
                            f"{type(g).__name__}")
        if tuple(g.shape) != tuple(out.shape):
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {tuple(g.shape)} and output[{i}] has a shape of {tuple(out.shape)}."
            )
        if g._data.dtype != out._data.dtype:
            g = _ops.to_dtype(g, out._data.dtype)
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate gradients of ``tensors`` into the leaves' ``.grad`` (like ``torch.autograd.backward``)."""
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(tensors, grad_tensors, create_graph)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        res = _engine.run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs, allow_unused=True)
        taken = {id(g._data) for g in grads}
        for t, g in zip(inputs, res):
            if g is None:
                continue
            g = g if create_graph else _Tensor._make(_engine.own_grad_array(g._data, taken))
            t._grad = g if t._grad is None else t._grad + g
        return
    _engine.run_backward(tensors, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return the gradients of ``outputs`` with respect to ``inputs`` without touching ``.grad``."""
    outputs = _as_tuple(outputs)
    inputs_t = _as_tuple(inputs)
    if not inputs_t:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    grad_outputs = _as_tuple(grad_outputs)
    if is_grads_batched:
        raise NotImplementedError("autograd.grad: is_grads_batched=True is not supported")
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    grads = _make_grads(outputs, grad_outputs, create_graph)
    res = _engine.run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs_t,
                               allow_unused=allow_unused)
    out = []
    for t, g in zip(inputs_t, res):
        if g is None and materialize_grads:
            g = _Tensor._make(t.xp_zeros_like())
        elif g is not None and not create_graph:
            g = _Tensor._make(g._data)
        out.append(g)
    return tuple(out)


def explain(loss, param):
    """Explain why ``param.grad`` would be None or zero after ``loss.backward()``."""
    from .explain import explain as _explain  # cycle: explain imports grad from this package

    return _explain(loss, param)
