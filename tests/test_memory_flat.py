"""Training memory stays flat: a small MLP trained for many steps allocates nothing that survives a step.

tracemalloc sees every NumPy buffer and Python object tinytorch allocates, so the traced memory after a
warm-up window must not grow with the number of steps; the RSS check is a coarse backstop for leaks
below Python (it is not exact, malloc keeps freed pages). The 10,000-step run is ``slow`` (TT_SLOW=1).
"""
from __future__ import annotations

import gc
import os
import tracemalloc

import numpy as np
import pytest

import tinytorch
from tinytorch import nn


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _trainer():
    tinytorch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 4))
    opt = tinytorch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = tinytorch.tensor(rng.standard_normal((16, 20), dtype=np.float32))
    y = tinytorch.tensor(rng.integers(0, 4, 16))
    losses = []

    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if len(losses) > 10:  # keep the record itself from growing
            del losses[:-10]

    return step, losses


def _growth(steps: int, warmup: int = 200) -> tuple[int, int | None, list]:
    step, losses = _trainer()
    for _ in range(warmup):
        step()
    tracemalloc.start()
    try:
        for _ in range(warmup):  # the traced window starts after every lazily built cache exists
            step()
        gc.collect()
        base, rss0 = tracemalloc.get_traced_memory()[0], _rss_bytes()
        for _ in range(steps):
            step()
        gc.collect()
        end, rss1 = tracemalloc.get_traced_memory()[0], _rss_bytes()
    finally:
        tracemalloc.stop()
    return end - base, (None if rss0 is None else rss1 - rss0), losses


def _check(steps: int, traced_limit: int, rss_limit: int) -> None:
    traced, rss, losses = _growth(steps)
    assert np.isfinite(losses).all()
    assert traced <= traced_limit, f"traced memory grew by {traced} B over {steps} steps"
    if rss is not None:
        assert rss <= rss_limit, f"RSS grew by {rss} B over {steps} steps"


def test_mlp_memory_flat_over_1500_steps():
    _check(1500, traced_limit=32 * 1024, rss_limit=8 << 20)


def test_growth_measure_detects_a_leak(monkeypatch):
    # The measurement itself must see a leak of one small graph per step.
    kept = []
    original = tinytorch.Tensor.backward

    def leaky_backward(self, *a, **k):
        kept.append(self * 1.0)  # holds a tensor (and its graph) forever
        return original(self, *a, **k)

    monkeypatch.setattr(tinytorch.Tensor, "backward", leaky_backward)
    traced, _, _ = _growth(300, warmup=20)
    assert traced > 32 * 1024 * 300 / 1500


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("TT_SLOW") != "1", reason="10,000-step run: set TT_SLOW=1")
def test_mlp_memory_flat_over_10000_steps():
    _check(10_000, traced_limit=64 * 1024, rss_limit=16 << 20)
