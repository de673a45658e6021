"""Fused CUDA kernels (sources in the top-level ``kernels/``), behind a backend-neutral API.

Every function here returns ``None`` (``False`` for the optimizer step) when it does not apply —
CPU (NumPy) arrays, CuPy not loaded, kernels disabled with ``TINYTORCH_CUDA_KERNELS=0``, or an
unsupported configuration (dtype, string padding, sizes past int32...) — and the calling op then
runs its plain ``xp`` path. Ops therefore never ask which backend they are on. A launch that fails
(a compile error, a launch error, arrays the launcher rejects) falls back the same way with a
``RuntimeWarning`` naming the kernel and the error, unless ``TINYTORCH_CUDA_KERNELS=strict``, which
forces every kernel on and lets such errors propagate (tests, sanitizer runs).

``launch_counts`` counts the completed launches of each kernel, so a benchmark or test can prove a
kernel really ran rather than its fallback.

Nothing is compiled or imported from CuPy until a kernel is first used on a CuPy array; each
source is then compiled once per device (``_loader.CupyRuntime``). The launchers
(``launchers.py``) validate dtype, contiguity and shapes; plain NumPy versions of every kernel, which
define what each must compute, live with the tests (``tests/kernels/reference.py``).
"""
from __future__ import annotations

import os
import warnings
from collections import Counter

from .. import _cuda
from .. import array_module
from . import launchers
from ._loader import KERNELS, cupy_runtime, read_source  # noqa: F401 - re-exported for tests and tools

__all__ = ["enabled", "strict", "launch_counts", "conv2d_forward", "conv2d_backward", "linear_act_backward", "softmax_cross_entropy",
           "fused_optimizer_step", "KERNELS", "read_source"]


# Which fused kernels run by default (TINYTORCH_CUDA_KERNELS unset, "auto"). Speed is measured,
# not assumed: a kernel becomes a default only once a recorded GPU benchmark under
# benchmarks/results/ shows it beating the plain CuPy path (cuBLAS GEMMs, elementwise ops).
# No GPU run has been recorded yet, so none is on by default; the optimizer step runs only
# when a user asks for it with ``fused=True``. TINYTORCH_CUDA_KERNELS=1 forces every kernel
# on (tests, benchmarks), =0 forces all off.
MEASURED_DEFAULTS = {
    "conv2d_forward": False,
    "conv2d_backward": False,
    "linear_act_backward": False,
    "softmax_cross_entropy": False,
    "fused_optimizer_step": True,  # only reached when the user passed fused=True
}


# completed launches per kernel entry point (conv2d_forward, ..., fused_optimizer_step)
launch_counts: Counter = Counter()


def enabled(kernel: str | None = None) -> bool:
    """Whether ``kernel`` (or, with None, any kernel) may run: the env switch, then the measured defaults."""
    mode = os.environ.get("TINYTORCH_CUDA_KERNELS", "auto")
    if mode in ("0", "false", "False"):
        return False
    if mode in ("1", "true", "True", "strict"):
        return True
    return any(MEASURED_DEFAULTS.values()) if kernel is None else MEASURED_DEFAULTS.get(kernel, False)


def strict() -> bool:
    """``TINYTORCH_CUDA_KERNELS=strict``: every kernel on, and a failing launch raises instead of falling back."""
    return os.environ.get("TINYTORCH_CUDA_KERNELS") == "strict"


def _runtime(a, kernel):
    """The CuPy runtime when ``a`` is a CuPy array and ``kernel`` is enabled, else None."""
    if not enabled(kernel):
        return None
    cp = _cuda.loaded_cupy()
    if cp is None or not isinstance(a, cp.ndarray):
        return None
    return cupy_runtime(cp)


def _launch(kernel, rt, anchor, run):
    """``run()`` on ``anchor``'s device; None (the caller's plain path) when it cannot run."""
    try:
        with rt.device_of(anchor):
            out = run()
    except launchers.Unsupported:
        return None
    except Exception as e:  # noqa: BLE001 - the plain path is always there; strict mode re-raises
        if strict():
            raise
        warnings.warn(f"tinytorch: fused CUDA kernel {kernel} failed, running the plain path instead "
                      f"({type(e).__name__}: {e})", RuntimeWarning, stacklevel=3)
        return None
    launch_counts[kernel] += 1
    return out


def _contiguous(rt, a):
    return None if a is None else rt.xp.ascontiguousarray(a)


def conv2d_forward(x, w, b, stride, padding, dilation, groups):
    """y = conv2d(x, w, b) by implicit GEMM, or None.

    x (N, C, H, W), w (K, C/groups, R, S), b (K,) or None; stride/padding/dilation ints or pairs.
    """
    rt = _runtime(x, "conv2d_forward")
    if rt is None:
        return None
    return _launch("conv2d_forward", rt, x, lambda: launchers.conv2d_forward(
        rt, _contiguous(rt, x), _contiguous(rt, w), _contiguous(rt, b), stride, padding, dilation, groups))


def conv2d_backward(x, w, grad_out, stride, padding, dilation, groups, need_input, need_weight, need_bias,
                    relu_out=None):
    """(gx, gw, gb) for conv2d (entries None where not needed), or None when not applicable.

    ``relu_out``: when given, the ReLU output that followed the conv; grad_out is masked by
    ``relu_out > 0`` inside the kernel (fused activation-gradient prologue). The weight and bias
    gradients are reduced deterministically (bit-identical between runs).
    """
    rt = _runtime(x, "conv2d_backward")
    if rt is None:
        return None
    return _launch("conv2d_backward", rt, x, lambda: launchers.conv2d_backward(
        rt, _contiguous(rt, x), _contiguous(rt, w), _contiguous(rt, grad_out), stride, padding, dilation, groups,
        need_input, need_weight, need_bias, relu_out=_contiguous(rt, relu_out)))


def linear_act_backward(grad_out, act_input, activation, need_bias):
    """(grad_pre_activation, grad_bias) for ``activation(x @ W.T + b)``, or None.

    grad_out (..., F); act_input: the pre-activation z, same shape (may be None for "identity");
    activation: None/"identity", "relu", "gelu" (erf form) or "gelu_tanh". grad_bias (F,) or None.
    """
    rt = _runtime(grad_out, "linear_act_backward")
    if rt is None:
        return None
    return _launch("linear_act_backward", rt, grad_out, lambda: launchers.linear_act_backward(
        rt, _contiguous(rt, grad_out), _contiguous(rt, act_input), activation, need_bias))


def softmax_cross_entropy(logits, target, ignore_index, need_grad):
    """(per-sample loss, grad_logits or None) in one pass, or None.

    logits (N, C), target (N,) class indices. loss[i] = logsumexp(logits[i]) - logits[i, target[i]]
    (0 where target == ignore_index); grad is d loss[i] / d logits[i] (softmax - one_hot, zero rows
    where ignored). The caller validates target range and applies reduction/weights.
    """
    rt = _runtime(logits, "softmax_cross_entropy")
    if rt is None:
        return None
    return _launch("softmax_cross_entropy", rt, logits, lambda: launchers.softmax_cross_entropy(
        rt, _contiguous(rt, logits), rt.xp.ascontiguousarray(target, dtype=rt.xp.int64), ignore_index, need_grad))


def fused_optimizer_step(kind, params, grads, states, hyper):
    """One multi-tensor launch for SGD-momentum / Adam / AdamW over all params; False when not applicable.

    See ``launchers.fused_optimizer_step`` for the state layout. SGD's first step with momentum
    (no momentum buffers yet) returns False, so the caller's path creates the buffers.
    """
    if not params:
        return False
    rt = _runtime(params[0], "fused_optimizer_step")
    if rt is None:
        return False
    # the step counters as they were: a launch that fails part way must not leave them advanced (the caller's
    # per-parameter path then counts the step); only here, past the checks, where a kernel really launches
    # per-parameter state: one stacked copy (one device op), not one copy per parameter
    steps = [(s, s["step"]) for s in states if hasattr(s.get("step"), "_data")]
    saved = array_module(params[0]).stack([t._data for _, t in steps]) if steps else None
    done = _launch("fused_optimizer_step", rt, params[0], lambda: launchers.fused_optimizer_step(
        rt, kind, list(params), list(grads), list(states), hyper))
    if not done:
        for i, (s, t) in enumerate(steps):
            s["step"] = t
            t._data[...] = saved[i]
    return bool(done)
