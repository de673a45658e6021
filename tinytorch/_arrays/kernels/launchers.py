"""Launchers: validate arrays, size the grid, and call one kernel through a runtime.

A runtime (``_loader.CupyRuntime`` on a GPU, the g++ emulation in tests/kernels/emu on the CPU)
provides ``xp`` (where outputs are allocated), ``launch(source, name, grid, block, args)``,
``address(array)`` and ``asarray(host_array)``. The launchers are the same code for both, so the
CPU tests exercise the grid sizing and the exact argument types the GPU gets.

Scalars are passed as exact NumPy types (``np.int32`` for ``int``, ``np.int64`` for
``long long``, ``np.float32``/``np.float64`` for the kernel's accumulator type): CuPy sizes a
kernel argument by its NumPy type, so a mismatch would be silently misread.
"""
from __future__ import annotations

import math

import numpy as np

from ._loader import CUDA_TYPE

NULL = np.uint64(0)  # a null device pointer argument

_INT32_MAX = 2**31 - 1
_GRID_YZ_MAX = 65535


class Unsupported(Exception):
    """The configuration has no kernel; the caller falls back to its plain ``xp`` path."""


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _acc_type(dtype) -> type:
    return np.float64 if np.dtype(dtype) == np.float64 else np.float32


def _kernel_type(op: str, dtype, allowed: tuple[str, ...]) -> str:
    name = np.dtype(dtype).name
    if name not in allowed:
        raise Unsupported(f"{op}: no kernel for dtype {name}")
    return CUDA_TYPE[name]


def _check_array(op: str, what: str, a, dtype, ndim: int | None = None, shape=None) -> None:
    if a.dtype != dtype:
        raise TypeError(f"{op}: expected {what} of dtype {np.dtype(dtype).name}, got {a.dtype.name}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{op}: expected {ndim}-D {what}, got shape {tuple(a.shape)}")
    if shape is not None and tuple(a.shape) != tuple(shape):
        raise ValueError(f"{op}: expected {what} of shape {tuple(shape)}, got {tuple(a.shape)}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{op}: {what} must be C-contiguous (shape {tuple(a.shape)}, strides {a.strides})")
    if a.size > _INT32_MAX:
        raise Unsupported(f"{op}: {what} has {a.size} elements, beyond the kernels' int32 sizes")


def _pair(op: str, name: str, v) -> tuple[int, int]:
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return int(v), int(v)
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(e, (int, np.integer)) for e in v):
        return int(v[0]), int(v[1])
    raise Unsupported(f"{op}: {name}={v!r} is not an int or a pair of ints")


def conv_geometry(op: str, x, w, stride, padding, dilation, groups):
    """Validated (N, C, H, W, K, R, S, OH, OW, sh, sw, ph, pw, dh, dw, G) for x (N, C, H, W), w (K, C/G, R, S)."""
    if x.ndim != 4:
        raise ValueError(f"{op}: expected 4-D input (N, C, H, W), got shape {tuple(x.shape)}")
    if w.ndim != 4:
        raise ValueError(f"{op}: expected 4-D weight (K, C/groups, R, S), got shape {tuple(w.shape)}")
    (sh, sw), (ph, pw), (dh, dw) = (_pair(op, "stride", stride), _pair(op, "padding", padding),
                                    _pair(op, "dilation", dilation))
    G = int(groups)
    N, C, H, W = (int(d) for d in x.shape)
    K, Cg, R, S = (int(d) for d in w.shape)
    if min(sh, sw, dh, dw, G) < 1 or min(ph, pw) < 0:
        raise ValueError(f"{op}: invalid stride {(sh, sw)}, padding {(ph, pw)}, dilation {(dh, dw)} or groups {G}")
    if C != Cg * G or K % G != 0:
        raise ValueError(f"{op}: input {tuple(x.shape)} and weight {tuple(w.shape)} do not match groups={G}")
    OH = (H + 2 * ph - dh * (R - 1) - 1) // sh + 1
    OW = (W + 2 * pw - dw * (S - 1) - 1) // sw + 1
    if OH < 1 or OW < 1:
        raise ValueError(f"{op}: kernel {(R, S)} with dilation {(dh, dw)} is larger than the padded input {(H + 2 * ph, W + 2 * pw)}")
    if min(N, C, K, R, S) < 1:
        raise Unsupported(f"{op}: empty tensors")
    if N * OH * OW > _INT32_MAX or N * K * OH * OW > _INT32_MAX:
        raise Unsupported(f"{op}: output too large for int32 indexing")
    return N, C, H, W, K, R, S, OH, OW, sh, sw, ph, pw, dh, dw, G


def _i32(*vals) -> tuple:
    return tuple(np.int32(v) for v in vals)


def conv2d_forward(rt, x, w, b, stride, padding, dilation, groups):
    """y (N, K, OH, OW) = conv2d(x (N, C, H, W), w (K, C/G, R, S), b (K,) or None)."""
    op = "conv2d_forward"
    T = _kernel_type(op, x.dtype, ("float32", "float64"))
    geo = conv_geometry(op, x, w, stride, padding, dilation, groups)
    N, C, H, W, K, R, S, OH, OW, *_, G = geo
    _check_array(op, "input", x, x.dtype)
    _check_array(op, "weight", w, x.dtype)
    if b is not None:
        _check_array(op, "bias", b, x.dtype, shape=(K,))
    Kg = K // G
    if _cdiv(Kg, 32) > _GRID_YZ_MAX or G > _GRID_YZ_MAX:
        raise Unsupported(f"{op}: too many channels or groups for the grid")
    y = rt.xp.empty((N, K, OH, OW), dtype=x.dtype)
    grid = (_cdiv(N * OH * OW, 32), _cdiv(Kg, 32), G)
    rt.launch("conv2d.cu", f"conv2d_forward<{T}>", grid, (16, 16, 1),
              (x, w, NULL if b is None else b, y) + _i32(*geo))
    return y


def _n_parts(work_blocks: int, reduction: int, min_per_part: int, max_parts: int) -> int:
    # enough independent blocks to fill a large GPU (about 1024), a part never smaller than
    # min_per_part; a function of the shapes only, so results do not depend on the device
    want = _cdiv(1024, max(1, work_blocks))
    return max(1, min(want, _cdiv(reduction, min_per_part), max_parts))


def conv2d_backward(rt, x, w, grad_out, stride, padding, dilation, groups, need_input, need_weight, need_bias,
                    relu_out=None):
    """(gx, gw, gb) of conv2d (None where not needed); ``relu_out`` masks grad_out by ``relu_out > 0``."""
    op = "conv2d_backward"
    T = _kernel_type(op, x.dtype, ("float32", "float64"))
    geo = conv_geometry(op, x, w, stride, padding, dilation, groups)
    N, C, H, W, K, R, S, OH, OW, *_, G = geo
    _check_array(op, "input", x, x.dtype)
    _check_array(op, "weight", w, x.dtype)
    _check_array(op, "grad_output", grad_out, x.dtype, shape=(N, K, OH, OW))
    if relu_out is not None:
        _check_array(op, "relu_out", relu_out, x.dtype, shape=(N, K, OH, OW))
    mask = NULL if relu_out is None else relu_out
    xp, acc = rt.xp, _acc_type(x.dtype)
    gx = gw = gb = None
    if need_input:
        gx = xp.empty(x.shape, dtype=x.dtype)
        blocks = min(_cdiv(x.size, 256), 65536)
        rt.launch("conv2d.cu", f"conv2d_grad_input<{T}>", (blocks, 1, 1), (256, 1, 1),
                  (grad_out, w, mask, gx) + _i32(*geo))
    if need_weight or need_bias:
        Kg, Q, P = K // G, (C // G) * R * S, N * OH * OW
        tiles = _cdiv(Q, 32) * _cdiv(Kg, 32) * G
        n_parts = _n_parts(tiles, P, 256, _GRID_YZ_MAX // G)
        chunk = _cdiv(_cdiv(P, n_parts), 16) * 16
        n_parts = _cdiv(P, chunk)
        if _cdiv(Kg, 32) > _GRID_YZ_MAX:
            raise Unsupported(f"{op}: too many output channels for the grid")
        pw_ = xp.empty((n_parts, K * Q), dtype=acc) if need_weight else None
        pb_ = xp.empty((n_parts, K), dtype=acc) if need_bias else None
        rt.launch("conv2d.cu", f"conv2d_grad_weight<{T}>", (_cdiv(Q, 32), _cdiv(Kg, 32), G * n_parts), (16, 16, 1),
                  (x, grad_out, mask, NULL if pw_ is None else pw_, NULL if pb_ is None else pb_)
                  + _i32(*geo) + (np.int32(chunk),))
        if need_weight:
            gw = xp.empty(w.shape, dtype=x.dtype)
            _column_sum(rt, "conv2d.cu", T, pw_, gw, n_parts, K * Q)
        if need_bias:
            gb = xp.empty((K,), dtype=x.dtype)
            _column_sum(rt, "conv2d.cu", T, pb_, gb, n_parts, K)
    return gx, gw, gb


def _column_sum(rt, source: str, T: str, partial, out, n_parts: int, n_cols: int) -> None:
    rt.launch(source, f"column_sum_reduce<{T}>", (_cdiv(n_cols, 256), 1, 1), (256, 1, 1),
              (partial, out) + _i32(n_parts, n_cols))


ACTIVATIONS = {None: 0, "none": 0, "identity": 0, "relu": 1, "gelu": 2, "gelu_tanh": 3}


def linear_act_backward(rt, grad_out, act_input, activation, need_bias):
    """(dZ, db) for y = act(z): dZ = act'(z) * dY shaped like dY (..., F), db (F,) or None."""
    op = "linear_act_backward"
    if activation not in ACTIVATIONS:
        raise Unsupported(f"{op}: no kernel for activation {activation!r}")
    act = ACTIVATIONS[activation]
    T = _kernel_type(op, grad_out.dtype, ("float32", "float64", "float16"))
    if grad_out.ndim < 1 or grad_out.size == 0:
        raise Unsupported(f"{op}: empty or 0-d grad_output")
    _check_array(op, "grad_output", grad_out, grad_out.dtype)
    if act_input is None:
        if act != 0:
            raise ValueError(f"{op}: activation {activation!r} needs its input")
        act_input = grad_out  # read but unused by the identity
    _check_array(op, "activation input", act_input, grad_out.dtype, shape=grad_out.shape)
    F = int(grad_out.shape[-1])
    M = grad_out.size // F
    xp = rt.xp
    dz = xp.empty(grad_out.shape, dtype=grad_out.dtype)
    col_blocks = _cdiv(F, 128)
    n_parts = _n_parts(col_blocks, M, 16, _GRID_YZ_MAX)
    rows = _cdiv(M, n_parts)
    n_parts = _cdiv(M, rows)
    partial = xp.empty((n_parts, F), dtype=_acc_type(grad_out.dtype)) if need_bias else None
    rt.launch("linear_act.cu", f"linear_act_backward_partial<{T}>", (col_blocks, n_parts, 1), (128, 1, 1),
              (grad_out, act_input, dz, NULL if partial is None else partial) + _i32(M, F, act, rows))
    gb = None
    if need_bias:
        gb = xp.empty((F,), dtype=grad_out.dtype)
        _column_sum(rt, "linear_act.cu", T, partial, gb, n_parts, F)
    return dz, gb


def softmax_cross_entropy(rt, logits, target, ignore_index, need_grad):
    """(loss (N,), grad (N, C) or None): per-sample cross-entropy of logits (N, C) against target (N,)."""
    op = "softmax_cross_entropy"
    T = _kernel_type(op, logits.dtype, ("float32", "float64", "float16"))
    if logits.ndim != 2:
        raise Unsupported(f"{op}: kernel takes 2-D logits (N, C), got shape {tuple(logits.shape)}")
    N, C = (int(d) for d in logits.shape)
    if N == 0 or C == 0:
        raise Unsupported(f"{op}: empty logits")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected integer class targets, got dtype {target.dtype.name}")
    _check_array(op, "logits", logits, logits.dtype)
    _check_array(op, "target", target, np.dtype(np.int64), shape=(N,))
    xp = rt.xp
    loss = xp.empty((N,), dtype=logits.dtype)
    grad = xp.empty((N, C), dtype=logits.dtype) if need_grad else None
    block = min(256, _cdiv(C, 32) * 32)
    rt.launch("softmax_xent.cu", f"softmax_cross_entropy_fwd_bwd<{T}>", (N, 1, 1), (block, 1, 1),
              (logits, target, loss, NULL if grad is None else grad) + _i32(N, C)
              + (np.int64(ignore_index), np.int32(1 if need_grad else 0)))
    return loss, grad


_OPT_CHUNK = 4096


def _data(t):
    """The array of a state entry (tinytorch keeps optimizer state as Tensors)."""
    return getattr(t, "_data", t)


def fused_optimizer_step(rt, kind, params, grads, states, hyper) -> bool:
    """Update ``params`` in place (and their state) with one multi-tensor launch.

    kind: "sgd", "adam" or "adamw"; params/grads: lists of arrays; states: per-parameter dicts as
    tinytorch.optim keeps them (SGD ``momentum_buffer``; Adam ``step`` (a host scalar, incremented
    here once the launch went out, never when it raised), ``exp_avg``, ``exp_avg_sq``,
    ``max_exp_avg_sq``); hyper: the param group's options.
    """
    op = "fused_optimizer_step"
    if kind not in ("sgd", "adam", "adamw"):
        raise Unsupported(f"{op}: no fused kernel for {kind!r}")
    if not params:
        raise Unsupported(f"{op}: no parameters")
    if len(grads) != len(params) or len(states) != len(params):
        raise ValueError(f"{op}: {len(params)} params but {len(grads)} grads and {len(states)} states")
    dtype = params[0].dtype
    T = _kernel_type(op, dtype, ("float32", "float64"))
    acc = _acc_type(dtype)
    xp = rt.xp
    for i, p in enumerate(params):
        # mixed dtypes or strided views: the per-parameter path handles them
        if p.dtype != dtype or not p.flags.c_contiguous:
            raise Unsupported(f"{op}: param {i} ({p.dtype.name}, contiguous={p.flags.c_contiguous}) "
                              f"does not share the group's contiguous {dtype.name} layout")
    grads = [xp.ascontiguousarray(g) for g in grads]
    for i, (p, g) in enumerate(zip(params, grads)):
        _check_array(op, f"param {i}", p, dtype)
        _check_array(op, f"grad {i}", g, dtype, shape=p.shape)
    lr = float(hyper["lr"])
    wd = float(hyper.get("weight_decay", 0.0))
    maximize = np.int32(1 if hyper.get("maximize", False) else 0)
    ptrs = np.zeros((len(params), 5), dtype=np.int64)
    sizes = np.array([p.size for p in params], dtype=np.int64)
    for i, (p, g) in enumerate(zip(params, grads)):
        ptrs[i, 0], ptrs[i, 1] = rt.address(p), rt.address(g)

    def state_array(i, key):
        a = states[i].get(key)
        if a is None:
            raise Unsupported(f"{op}: param {i} has no {key} yet (first step runs unfused)")
        a = _data(a)
        _check_array(op, f"{key} of param {i}", a, dtype, shape=params[i].shape)
        return a

    if kind == "sgd":
        momentum = float(hyper.get("momentum", 0.0))
        if momentum != 0.0:
            for i in range(len(params)):
                ptrs[i, 2] = rt.address(state_array(i, "momentum_buffer"))
        scalars = (acc(lr), acc(wd), acc(momentum), acc(1.0 - float(hyper.get("dampening", 0.0))),
                   np.int32(1 if hyper.get("nesterov", False) else 0), maximize)
        name = f"multi_tensor_sgd<{T}>"
    else:
        beta1, beta2 = (float(b) for b in hyper["betas"])
        amsgrad = bool(hyper.get("amsgrad", False))
        decoupled = kind == "adamw" or bool(hyper.get("decoupled_weight_decay", False))
        steps = []
        for i in range(len(params)):
            ptrs[i, 2] = rt.address(state_array(i, "exp_avg"))
            ptrs[i, 3] = rt.address(state_array(i, "exp_avg_sq"))
            if amsgrad:
                ptrs[i, 4] = rt.address(state_array(i, "max_exp_avg_sq"))
            step = _data(states[i].get("step"))
            if not isinstance(step, np.ndarray) or step.ndim != 0:
                raise Unsupported(f"{op}: step of param {i} is not a host scalar")
            steps.append(step)
        coef = np.empty((len(params), 2), dtype=acc)
        for i, step in enumerate(steps):
            n = float(step) + 1.0  # this step's count; the counters advance only once the launch went out
            coef[i, 0] = lr / (1.0 - beta1**n)
            coef[i, 1] = math.sqrt(1.0 - beta2**n)
        scalars = (rt.asarray(coef), acc(beta1), acc(beta2), acc(float(hyper["eps"])), acc(wd),
                   acc(1.0 - lr * wd), np.int32(1 if decoupled else 0), maximize)
        name = f"multi_tensor_adam<{T}>"
    chunks = np.array([(i, s) for i, n in enumerate(sizes.tolist()) for s in range(0, n, _OPT_CHUNK)],
                      dtype=np.int64).reshape(-1, 2)
    if len(chunks):
        rt.launch("optimizer.cu", name, (len(chunks), 1, 1), (256, 1, 1),
                  (rt.asarray(ptrs), rt.asarray(sizes), rt.asarray(chunks), np.int32(_OPT_CHUNK)) + scalars)
    if kind != "sgd":
        for step in steps:  # a failed launch raised above and left them as they were
            step += 1
    return True
