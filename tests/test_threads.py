"""tinytorch.set_num_threads: torch's API, and the intra-op pool's results bit-identical to one thread."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tinytorch._arrays import threads
from tinytorch.ops import conv as conv_ops


@pytest.fixture
def restore_threads(monkeypatch):
    saved = tinytorch._compat._threads["intra"]
    yield
    tinytorch._compat._threads["intra"] = saved
    threads.set_num_threads(1)


def test_set_and_get_num_threads_like_torch(restore_threads):
    assert isinstance(tinytorch.get_num_threads(), int) and tinytorch.get_num_threads() >= 1
    tinytorch.set_num_threads(3)
    assert tinytorch.get_num_threads() == 3 and threads.num_threads() == 3
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="set_num_threads: expected a positive integer"):
            tinytorch.set_num_threads(bad)
    assert tinytorch.get_num_threads() == 3


def test_pool_is_opt_in_and_skips_small_passes(restore_threads, monkeypatch):
    calls = []
    monkeypatch.setattr(threads, "_pool", lambda n: calls.append(n) or pytest.fail("pool used"))
    threads.set_num_threads(1)
    threads.parallel_rows(lambda a, b: None, 8, 1 << 30)  # one thread: never the pool
    threads.set_num_threads(2)
    threads.parallel_rows(lambda a, b: None, 8, threads.MIN_PARALLEL_ELEMENTS - 1)  # small: never the pool
    assert calls == []


def test_parallel_rows_covers_every_row_once_and_reraises(restore_threads, monkeypatch):
    monkeypatch.setattr(threads, "MIN_PARALLEL_ELEMENTS", 1)
    threads.set_num_threads(3)
    seen = np.zeros(10, int)

    def mark(a, b):
        seen[a:b] += 1

    threads.parallel_rows(mark, 10, 10)
    assert seen.tolist() == [1] * 10

    def boom(a, b):
        if a > 0:
            raise RuntimeError("worker failed")

    with pytest.raises(RuntimeError, match="worker failed"):
        threads.parallel_rows(boom, 10, 10)


@pytest.mark.parametrize("path", ["chunked", "batch_last"])
def test_conv_is_bit_identical_on_any_thread_count(restore_threads, monkeypatch, path):
    monkeypatch.setattr(threads, "MIN_PARALLEL_ELEMENTS", 1)  # every im2col copy goes through the pool
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 5, 9, 9)).astype(np.float32)
    w = rng.standard_normal((7, 5, 3, 3)).astype(np.float32)
    g = rng.standard_normal((16, 7, 9, 9)).astype(np.float32)
    geom = ((1, 1), (1, 1), (1, 1), 1)
    out = {}
    for n in (1, 2, 3):
        threads.set_num_threads(n)
        out[n] = (conv_ops._conv_forward(np, x, w, None, *geom, (9, 9), path=path),
                  conv_ops._conv_weight_grad(np, x, g, (3, 3), *geom, path=path))
    for n in (2, 3):
        for a, b in zip(out[n], out[1]):
            assert np.array_equal(a, b)  # bit-identical, not merely close


def test_model_step_is_bit_identical_with_threads(restore_threads, monkeypatch):
    monkeypatch.setattr(threads, "MIN_PARALLEL_ELEMENTS", 1)

    def grads(n):
        tinytorch.set_num_threads(n)
        tinytorch.manual_seed(0)
        conv = tinytorch.nn.Conv2d(3, 8, 3, padding=1)
        x = tinytorch.randn(4, 3, 10, 10)
        F.relu(conv(x)).pow(2).mean().backward()
        return conv.weight.grad.numpy().copy(), conv.bias.grad.numpy().copy()

    one, two = grads(1), grads(2)
    assert all(np.array_equal(a, b) for a, b in zip(one, two))
