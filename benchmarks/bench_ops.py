"""Op-level benchmarks: one group per op and size, one row per backend (see conftest.py).

Each case is written once against ``bk.lib`` (tinytorch or torch) so every backend runs the same
code. FLOPs count multiply-adds as 2; bytes are the minimum fp32 traffic (inputs read, outputs
written once).
"""
from __future__ import annotations

import numpy as np
import pytest

from _harness import pick, run_case, skip_unless_gpu

F32 = 4


def _randn(*shape):
    return np.random.default_rng(0).standard_normal(shape, dtype=np.float32)


# ---- matmul ----------------------------------------------------------------------------------------

MATMUL_SIZES = [pick(s, small) for s, small in [
    ((256, 784, 512), (8, 16, 8)),
    ((1024, 1024, 1024), (16, 16, 16)),
    ((4096, 4096, 4096), (32, 32, 32)),
]]


@pytest.mark.parametrize("mkn", MATMUL_SIZES, ids=lambda s: "x".join(map(str, s)))
def test_matmul(benchmark, bk, mkn):
    m, k, n = mkn
    if mkn == MATMUL_SIZES[-1]:
        skip_unless_gpu(bk, "matmul 4096^3")
    a, b = bk.tensor(_randn(m, k)), bk.tensor(_randn(k, n))
    run_case(benchmark, bk, f"matmul {m}x{k}x{n}", lambda: a @ b,
             flops=2 * m * k * n, nbytes=F32 * (m * k + k * n + m * n), bound="flops")


# ---- Linear + bias + ReLU ------------------------------------------------------------------------

LINEAR = pick((256, 784, 512), (8, 16, 8))  # batch, in_features, out_features


@pytest.mark.parametrize("direction", ["forward", "forward+backward"])
def test_linear_relu(benchmark, bk, direction):
    n, i, o = LINEAR
    F = bk.lib.nn.functional
    grad = direction != "forward"
    x = bk.tensor(_randn(n, i), requires_grad=grad)
    w = bk.tensor(_randn(o, i) * 0.05, requires_grad=grad)
    b = bk.tensor(_randn(o), requires_grad=grad)
    g = bk.tensor(_randn(n, o))

    def step():
        y = F.relu(F.linear(x, w, b))
        if grad:
            y.backward(g)
            x.grad = w.grad = b.grad = None
        return y

    flops = 2 * n * i * o * (3 if grad else 1)
    run_case(benchmark, bk, f"linear+relu {direction} {n}x{i}->{o}", step, flops=flops,
             nbytes=F32 * (n * i + o * i + n * o), bound="flops")


# ---- conv2d 3x3: forward, input gradient (dgrad), weight gradient (wgrad) --------------------------

CONV_LAYERS = {  # name: (N, C, K, H, W), stride 1, padding 1
    "toy": pick((64, 16, 32, 28, 28), (2, 2, 3, 6, 6)),
    "resnet": pick((8, 64, 64, 56, 56), (1, 4, 4, 8, 8)),
}


@pytest.mark.parametrize("layer", list(CONV_LAYERS), ids=["toy28", "resnet56"])
@pytest.mark.parametrize("pass_", ["forward", "dgrad", "wgrad"])
def test_conv2d_3x3(benchmark, bk, layer, pass_):
    n, c, k, h, w_ = CONV_LAYERS[layer]
    lib, F = bk.lib, bk.lib.nn.functional
    x = bk.tensor(_randn(n, c, h, w_), requires_grad=pass_ == "dgrad")
    w = bk.tensor(_randn(k, c, 3, 3) * 0.1, requires_grad=pass_ == "wgrad")
    if pass_ == "forward":
        def step():
            return F.conv2d(x, w, padding=1)
    else:
        # The graph is built once; only the backward is timed. Only the wanted input requires grad,
        # so neither library computes the other gradient.
        y = F.conv2d(x, w, padding=1)
        g = bk.tensor(_randn(*y.shape))
        wrt = x if pass_ == "dgrad" else w

        def step():
            return lib.autograd.grad(y, wrt, g, retain_graph=True)
    flops = 2 * n * k * h * w_ * c * 9
    nbytes = F32 * (n * c * h * w_ + k * c * 9 + n * k * h * w_)
    run_case(benchmark, bk, f"conv2d 3x3 {pass_} {layer} {c}->{k} {h}x{w_} n{n}", step, flops=flops, nbytes=nbytes,
             bound="flops")


# ---- elementwise -----------------------------------------------------------------------------------

ELEMENTWISE_SIZES = [pick(16, 16), pick(1 << 20, 1 << 10), pick(1 << 26, 1 << 12)]


def _size_id(n):
    return {16: "16", 1 << 20: "1M", 1 << 26: "64M"}.get(n, str(n))


@pytest.mark.parametrize("n", ELEMENTWISE_SIZES, ids=_size_id)
@pytest.mark.parametrize("op", ["add", "gelu"])
def test_elementwise(benchmark, bk, op, n):
    if n == ELEMENTWISE_SIZES[-1]:
        skip_unless_gpu(bk, f"elementwise {_size_id(n)}")
    a, b = bk.tensor(_randn(n)), bk.tensor(_randn(n))
    F = bk.lib.nn.functional
    if op == "add":
        fn, nbytes = (lambda: a + b), 3 * F32 * n
    else:
        fn, nbytes = (lambda: F.gelu(a)), 2 * F32 * n
    run_case(benchmark, bk, f"elementwise {op} {_size_id(n)}", fn, nbytes=nbytes, bound="bytes")


# ---- reductions --------------------------------------------------------------------------------------

REDUCE_SHAPE = pick((1024, 1024), (16, 16))


@pytest.mark.parametrize("op", ["sum all", "sum dim=1", "max dim=1", "var dim=1"])
def test_reduction(benchmark, bk, op):
    r, c = REDUCE_SHAPE
    x = bk.tensor(_randn(r, c))
    fns = {
        "sum all": lambda: x.sum(),
        "sum dim=1": lambda: x.sum(dim=1),
        "max dim=1": lambda: x.max(dim=1),
        "var dim=1": lambda: x.var(dim=1),
    }
    run_case(benchmark, bk, f"reduce {op} {r}x{c}", fns[op], nbytes=F32 * r * c, bound="bytes")


# ---- softmax and cross-entropy -----------------------------------------------------------------------

LOGITS = pick((256, 1000), (4, 10))


def test_softmax(benchmark, bk):
    n, c = LOGITS
    x = bk.tensor(_randn(n, c))
    F = bk.lib.nn.functional
    run_case(benchmark, bk, f"softmax forward {n}x{c}", lambda: F.softmax(x, dim=1),
             nbytes=2 * F32 * n * c, bound="bytes")


def test_cross_entropy(benchmark, bk):
    n, c = LOGITS
    x = bk.tensor(_randn(n, c), requires_grad=True)
    target = bk.tensor(np.random.default_rng(1).integers(0, c, n))
    F = bk.lib.nn.functional

    def step():
        loss = F.cross_entropy(x, target)
        loss.backward()
        x.grad = None
        return loss

    run_case(benchmark, bk, f"cross_entropy forward+backward {n}x{c}", step,
             nbytes=2 * F32 * n * c, bound="bytes")


# ---- autograd dispatch overhead ------------------------------------------------------------------

CHAIN_LENGTH = 100


def test_autograd_chain(benchmark, bk):
    """100 tiny ops on a 16-element tensor, then backward: measures per-op Python/dispatch cost."""
    x = bk.tensor(_randn(16), requires_grad=True)

    def step():
        y = x
        for _ in range(CHAIN_LENGTH // 2):
            y = y * 1.01
            y = y + 0.1
        y.sum().backward()
        x.grad = None
        return y

    run_case(benchmark, bk, f"autograd chain {CHAIN_LENGTH} ops x16 forward+backward", step)
