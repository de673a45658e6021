"""``gradcheck`` / ``gradgradcheck``: analytic gradients against central differences.

The check compares full Jacobians, column by column: for every input element the
numerical derivative of every output element (central differences, ``eps`` = 1e-6 in
float64) against the analytic row obtained by one backward pass per output element.
"""
from __future__ import annotations

import numpy as np

from .. import _arrays, autograd
from ..tensor import Tensor
import warnings


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytic and numerical gradients disagree."""


def _flat_outputs(out):
    if isinstance(out, Tensor):
        return (out,)
    return tuple(o for o in out if isinstance(o, Tensor))


def _diff_inputs(inputs):
    return [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]


def _numerical_jacobian(fn, inputs, idx, eps):
    """J[k][j] for input ``idx``: d out_k (flattened, concatenated) / d x_j."""
    x = inputs[idx]
    host = _arrays.as_numpy(x._data).astype(np.float64).ravel()
    cols = []
    if True:  # grad stays enabled: gradgradcheck's function itself calls autograd.grad
        for j in range(host.size):
            vals = []
            for sign in (1.0, -1.0):
                h = host.copy()
                h[j] += sign * eps
                arr = _arrays.to_device(h.reshape(x._data.shape).astype(x._data.dtype), x.device)
                saved = x._data
                x._data = arr
                try:
                    outs = _flat_outputs(fn(*inputs))
                    # read before restoring: an output may be the perturbed input itself
                    vals.append(np.concatenate([_arrays.as_numpy(o._data).astype(np.float64).ravel() for o in outs]))
                finally:
                    x._data = saved
            cols.append((vals[0] - vals[1]) / (2 * eps))
    return np.stack(cols, axis=1) if cols else np.zeros((0, 0))


def _analytic_jacobians(fn, inputs, diff_idx):
    outs = _flat_outputs(fn(*inputs))
    sizes = [o.numel() for o in outs]
    total = sum(sizes)
    jac = {i: np.zeros((total, inputs[i].numel())) for i in diff_idx}
    row = 0
    for o, n in zip(outs, sizes):
        if not o.requires_grad:
            row += n
            continue
        for k in range(n):
            g = np.zeros(n, dtype=_arrays.as_numpy(o._data).dtype)
            g[k] = 1
            gt = Tensor._make(_arrays.to_device(g.reshape(o._data.shape), o.device))
            gs = autograd.grad([o], [inputs[i] for i in diff_idx], [gt], retain_graph=True, allow_unused=True)
            for i, gi in zip(diff_idx, gs):
                if gi is not None:
                    jac[i][row + k] = _arrays.as_numpy(gi._data).astype(np.float64).ravel()
        row += n
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, fast_mode=False, **_ignored):
    """Check ``func``'s analytic gradients against finite differences (float64 inputs advised).

    Returns True, or raises ``GradcheckError`` naming the input and the worst element.
    """
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    diff_idx = _diff_inputs(inputs)
    if not diff_idx:
        raise ValueError("gradcheck: expected at least one input tensor with requires_grad=True")
    for i in diff_idx:
        if inputs[i].dtype.name != "float64":
            warnings.warn(
                f"gradcheck: input {i} is {inputs[i].dtype}, not float64; the check may fail for precision reasons",
                stacklevel=2,
            )
    analytic = _analytic_jacobians(func, inputs, diff_idx)
    for i in diff_idx:
        num = _numerical_jacobian(func, inputs, i, eps)
        ana = analytic[i]
        if num.shape != ana.shape:
            msg = f"gradcheck: Jacobian shape mismatch for input {i}: numerical {num.shape}, analytic {ana.shape}"
            if raise_exception:
                raise GradcheckError(msg)
            return False
        bad = np.abs(num - ana) > atol + rtol * np.abs(num)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            msg = (
                f"Jacobian mismatch for output {r} with respect to input {i} (element {c}):\n"
                f"numerical: {num[r, c]!r}\nanalytical: {ana[r, c]!r}\n"
                f"max abs difference {np.abs(num - ana).max():.3e} over {int(bad.sum())} of {bad.size} entries"
            )
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, gen_non_contig_grad_outputs=False, **_ignored):
    """Check second derivatives: gradcheck of (inputs, v) -> vᵀ·J(inputs) built with create_graph."""
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    diff_idx = _diff_inputs(inputs)
    outs = _flat_outputs(func(*inputs))
    outs = [o for o in outs if o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [
            Tensor._make(
                _arrays.to_device(rng.standard_normal(o._data.shape).astype(_arrays.as_numpy(o._data).dtype), o.device),
                requires_grad=True,
            )
            for o in outs
        ]
    else:
        grad_outputs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
    n_in = len(inputs)

    def first_grad(*args):
        xs, vs = args[:n_in], args[n_in:]
        ys = [o for o in _flat_outputs(func(*xs)) if o.requires_grad]
        gs = autograd.grad(ys, [xs[i] for i in diff_idx], list(vs), create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grad, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
