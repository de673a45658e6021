"""Fused CUDA kernels against the unfused CuPy path: one benchmark row per kernel and path.

    PYTHONPATH=. python -m pytest benchmarks/bench_kernels.py --benchmark-columns=median,iqr,rounds

Skipped without a GPU. Each timed call ends with a device synchronize, after a warm-up call (the
first use compiles the kernels). The "fused" rows run with ``TINYTORCH_CUDA_KERNELS=strict`` (every
kernel on, a failing launch raises instead of falling back) and fail unless ``kernels.launch_counts``
shows one completed launch per call: a row never times a wrapper that returned early.
"""
from __future__ import annotations

import numpy as np
import pytest

from tinytorch import _arrays
from tinytorch._arrays import kernels

if not _arrays.cuda_available():
    pytest.skip(f"needs a GPU: {_arrays.cuda_unavailable_reason()}", allow_module_level=True)

cp = _arrays.cupy_module()
rng = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _kernels_strict(monkeypatch):
    monkeypatch.setenv("TINYTORCH_CUDA_KERNELS", "strict")


def _timed(benchmark, fn, kernel=None):
    """Time ``fn`` (synchronized); with ``kernel``, fail unless every call launched that fused kernel."""
    calls = [0]

    def run():
        calls[0] += 1
        out = fn()
        cp.cuda.Device().synchronize()
        return out

    before = kernels.launch_counts[kernel] if kernel else 0
    first = run()  # warm-up: compiles
    if kernel is not None and (first is None or first is False):
        pytest.fail(f"fused {kernel} did not run (returned {first!r}): the row would time the fallback")
    benchmark(run)
    if kernel is not None:
        launched = kernels.launch_counts[kernel] - before
        if launched != calls[0]:
            pytest.fail(f"fused {kernel}: {launched} launches for {calls[0]} timed calls")


def _rand(*shape, dtype=np.float32):
    return cp.asarray(rng.standard_normal(shape).astype(dtype))


# ---- conv2d: ResNet-like 3x3 layer -----------------------------------------------------------
N, C, H, W, K = 32, 64, 28, 28, 64
X, WGT, DY = _rand(N, C, H, W), _rand(K, C, 3, 3), _rand(N, K, H, W)


def _im2col(x):
    xp = cp.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = cp.stack([xp[:, :, r:r + H, s:s + W] for r in range(3) for s in range(3)], axis=2)
    return cols.reshape(N, C * 9, H * W)  # (N, C*R*S, P)


@pytest.mark.parametrize("path", ["fused", "cupy"])
def test_conv2d_forward(benchmark, path):
    if path == "fused":
        _timed(benchmark, lambda: kernels.conv2d_forward(X, WGT, None, 1, 1, 1, 1), "conv2d_forward")
    else:
        _timed(benchmark, lambda: cp.matmul(WGT.reshape(K, -1), _im2col(X)).reshape(N, K, H, W))


@pytest.mark.parametrize("path", ["fused", "cupy"])
def test_conv2d_grad_weight(benchmark, path):
    if path == "fused":
        _timed(benchmark, lambda: kernels.conv2d_backward(X, WGT, DY, 1, 1, 1, 1, False, True, True),
               "conv2d_backward")
    else:
        def plain():
            dy = DY.reshape(N, K, H * W)
            gw = cp.matmul(dy, _im2col(X).transpose(0, 2, 1)).sum(axis=0).reshape(WGT.shape)
            return gw, DY.sum(axis=(0, 2, 3))
        _timed(benchmark, plain)


# ---- Linear -> GELU backward epilogue ---------------------------------------------------------
G, Z = _rand(8192, 1024), _rand(8192, 1024)


@pytest.mark.parametrize("path", ["fused", "cupy"])
def test_linear_gelu_backward(benchmark, path):
    if path == "fused":
        _timed(benchmark, lambda: kernels.linear_act_backward(G, Z, "gelu_tanh", True), "linear_act_backward")
    else:
        def plain():
            k, c = np.float32(0.7978845608), np.float32(0.044715)
            th = cp.tanh(k * (Z + c * Z**3))
            dz = G * (0.5 * (1 + th) + 0.5 * Z * (1 - th * th) * k * (1 + 3 * c * Z * Z))
            return dz, dz.sum(axis=0)
        _timed(benchmark, plain)


# ---- softmax + cross-entropy ------------------------------------------------------------------
LOGITS, TARGET = _rand(4096, 32000), cp.asarray(rng.integers(0, 32000, 4096))


@pytest.mark.parametrize("path", ["fused", "cupy"])
def test_softmax_cross_entropy(benchmark, path):
    if path == "fused":
        _timed(benchmark, lambda: kernels.softmax_cross_entropy(LOGITS, TARGET, -100, True),
               "softmax_cross_entropy")
    else:
        def plain():
            m = LOGITS.max(axis=1, keepdims=True)
            lse = m + cp.log(cp.exp(LOGITS - m).sum(axis=1, keepdims=True))
            loss = lse[:, 0] - cp.take_along_axis(LOGITS, TARGET[:, None], 1)[:, 0]
            grad = cp.exp(LOGITS - lse)
            grad[cp.arange(4096), TARGET] -= 1
            return loss, grad
        _timed(benchmark, plain)


# ---- Adam over a ResNet-sized parameter list --------------------------------------------------
SHAPES = [(64, 64, 3, 3)] * 16 + [(64,)] * 32 + [(1000, 512)]


class _Box:
    def __init__(self, a):
        self._data = a


@pytest.mark.parametrize("path", ["fused", "cupy"])
def test_adam_step(benchmark, path):
    params = [_rand(*s) for s in SHAPES]
    grads = [_rand(*s) for s in SHAPES]
    states = [{"step": _Box(np.asarray(0.0)), "exp_avg": _Box(cp.zeros_like(p)), "exp_avg_sq": _Box(cp.zeros_like(p))}
              for p in params]
    hyper = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False)
    if path == "fused":
        _timed(benchmark, lambda: kernels.fused_optimizer_step("adam", params, grads, states, hyper),
               "fused_optimizer_step")
    else:
        def plain():
            for p, g, s in zip(params, grads, states):
                s["step"]._data += 1
                t = float(s["step"]._data)
                m, v = s["exp_avg"]._data, s["exp_avg_sq"]._data
                m += 0.1 * (g - m)
                v *= 0.999
                v += 0.001 * g * g
                p -= (1e-3 / (1 - 0.9**t)) * m / (cp.sqrt(v) / (1 - 0.999**t) ** 0.5 + 1e-8)
        _timed(benchmark, plain)
