"""Mixed-precision benchmarks: matmul, linear and conv2d forward+backward, and a transformer-block training
step, in float32 and under ``autocast`` with bfloat16 / float16, on every backend (see conftest.py).

On a GPU these are the numbers that matter (tensor cores); on the CPU tinytorch's autocast reproduces torch's
numerics by computing in float32 and rounding, so it is expected to be slower than float32 there. float16
runs on the GPU backends only. FLOPs count multiply-adds as 2; the report compares them with the measured
(float32) GEMM ceiling.
"""
from __future__ import annotations

import contextlib

import numpy as np
import pytest

from _harness import pick, run_case

PRECISIONS = ["float32", "bfloat16", "float16"]


def _randn(*shape):
    return np.random.default_rng(0).standard_normal(shape, dtype=np.float32)


def _ctx(bk, precision):
    if precision == "float32":
        return contextlib.nullcontext()
    if precision == "float16" and not bk.is_gpu:
        pytest.skip("float16 autocast is benchmarked on the GPU only")
    return bk.lib.autocast(bk.device, dtype=getattr(bk.lib, precision))


def _fwd_bwd(bk, precision, fn, params, grad_shape):
    ctx = _ctx(bk, precision)
    g = bk.tensor(_randn(*grad_shape))

    def step():
        with ctx:
            y = fn()
        y.float().backward(g)
        for p in params:
            p.grad = None
        return y

    return step


MATMUL = pick((4096, 4096, 4096), (16, 16, 16))
MATMUL_CPU = pick((512, 512, 512), (16, 16, 16))


@pytest.mark.parametrize("precision", PRECISIONS)
def test_amp_matmul(benchmark, bk, precision):
    m, k, n = MATMUL if bk.is_gpu else MATMUL_CPU
    a, b = bk.tensor(_randn(m, k), requires_grad=True), bk.tensor(_randn(k, n), requires_grad=True)
    step = _fwd_bwd(bk, precision, lambda: a @ b, (a, b), (m, n))
    run_case(benchmark, bk, f"amp matmul fwd+bwd {m}x{k}x{n} {precision}", step, flops=3 * 2 * m * k * n,
             bound="flops", precision=precision)


LINEAR = pick((8192, 4096, 4096), (8, 16, 8))
LINEAR_CPU = pick((256, 784, 512), (8, 16, 8))


@pytest.mark.parametrize("precision", PRECISIONS)
def test_amp_linear(benchmark, bk, precision):
    n, i, o = LINEAR if bk.is_gpu else LINEAR_CPU
    x = bk.tensor(_randn(n, i), requires_grad=True)
    w, b = bk.tensor(_randn(o, i) * 0.05, requires_grad=True), bk.tensor(_randn(o), requires_grad=True)
    step = _fwd_bwd(bk, precision, lambda: bk.lib.nn.functional.linear(x, w, b), (x, w, b), (n, o))
    run_case(benchmark, bk, f"amp linear fwd+bwd {n}x{i}->{o} {precision}", step, flops=3 * 2 * n * i * o,
             bound="flops", precision=precision)


CONV = pick((32, 128, 128, 56, 56), (1, 2, 3, 6, 6))  # N, C, K, H, W; 3x3, stride 1, padding 1
CONV_CPU = pick((16, 16, 32, 28, 28), (1, 2, 3, 6, 6))


@pytest.mark.parametrize("precision", PRECISIONS)
def test_amp_conv2d(benchmark, bk, precision):
    n, c, k, h, w_ = CONV if bk.is_gpu else CONV_CPU
    x = bk.tensor(_randn(n, c, h, w_), requires_grad=True)
    w = bk.tensor(_randn(k, c, 3, 3) * 0.1, requires_grad=True)
    step = _fwd_bwd(bk, precision, lambda: bk.lib.nn.functional.conv2d(x, w, padding=1), (x, w), (n, k, h, w_))
    run_case(benchmark, bk, f"amp conv2d 3x3 fwd+bwd {n}x{c}x{h}x{w_}->{k} {precision}", step,
             flops=3 * 2 * n * k * h * w_ * c * 9, bound="flops", precision=precision)


BLOCK = pick((16, 256, 512), (2, 8, 16))  # batch, sequence, d_model
BLOCK_CPU = pick((8, 64, 128), (2, 8, 16))


@pytest.mark.parametrize("precision", PRECISIONS)
def test_amp_transformer_block_step(benchmark, bk, precision):
    b, s, d = BLOCK if bk.is_gpu else BLOCK_CPU
    lib = bk.lib
    lib.manual_seed(0)
    block = lib.nn.TransformerEncoderLayer(d, 4, dim_feedforward=4 * d, dropout=0.0, batch_first=True)
    if bk.is_gpu:
        block = block.to(bk.device)
    opt = lib.optim.AdamW(block.parameters(), lr=1e-4)
    x, target = bk.tensor(_randn(b, s, d)), bk.tensor(_randn(b, s, d))
    ctx = _ctx(bk, precision)

    def step():
        with ctx:
            loss = lib.nn.functional.mse_loss(block(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    flops = 3 * 2 * b * s * (12 * d * d + 2 * s * d)
    run_case(benchmark, bk, f"amp transformer block step b{b} s{s} d{d} {precision}", step, flops=flops,
             bound="flops", precision=precision)
