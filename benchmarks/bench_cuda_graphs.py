"""CUDA graphs: one training step (forward, loss, backward, SGD step) run eagerly vs replayed from a CUDA graph.

The models are bench_models.py's (MLP, LeNet, a transformer encoder block) with the same seeded weights, on
tinytorch-cuda and torch-cuda; the CPU backends are skipped (graphs need a GPU). The graph cases follow
torch's "whole network capture" recipe: three warm-up steps on a side stream, then
``with cuda.graph(g): loss = step()``, and each timed call is ``g.replay()``. SGD with momentum for every
model, so the captured step has no host-side state (Adam's step count would need ``capturable=True``).
The "compiled" rows (tinytorch only) time ``tinytorch.compile(step, mode="reduce-overhead")``, which does the
same capture itself after its warm-up calls and adds its guard checks and input copies per call.
"""
from __future__ import annotations

import numpy as np
import pytest

from _harness import run_case
from bench_models import MODELS, _classification_data, make_model

MODES = ["eager", "cuda graph", "compiled"]


def _train_step(bk, name):
    _, shape, loss_kind, _ = MODELS[name]
    F = bk.lib.nn.functional
    model = make_model(bk, name)
    if loss_kind == "ce":
        x_np, y_np = _classification_data(shape)
        x, y = bk.tensor(x_np), bk.tensor(y_np)

        def loss_fn():
            return F.cross_entropy(model(x), y)
    else:
        rng = np.random.default_rng(0)
        x, y = bk.tensor(rng.standard_normal(shape, dtype=np.float32)), \
            bk.tensor(rng.standard_normal(shape, dtype=np.float32))

        def loss_fn():
            return F.mse_loss(model(x), y)
    opt = bk.lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        opt.step()
        return loss

    return model, opt, loss_fn, step


def _graphed(bk, opt, loss_fn, step):
    cuda = bk.lib.cuda
    side = cuda.Stream()
    side.wait_stream(cuda.current_stream())
    with cuda.stream(side):
        for _ in range(3):
            step()
    cuda.current_stream().wait_stream(side)
    opt.zero_grad(set_to_none=True)
    g = cuda.CUDAGraph()
    with cuda.graph(g):
        static_loss = loss_fn()
        static_loss.backward()
        opt.step()

    def replay():
        g.replay()
        return static_loss

    return replay


@pytest.mark.parametrize("mode", MODES, ids=["eager", "graph", "compiled"])
@pytest.mark.parametrize("name", list(MODELS), ids=["mlp", "lenet", "encoder"])
def test_cuda_graph_train_step(benchmark, bk, name, mode):
    if not bk.is_gpu:
        pytest.skip("CUDA graphs need a GPU")
    if mode == "compiled" and not bk.lib.__name__.startswith("tinytorch"):
        pytest.skip("torch.compile's reduce-overhead needs Inductor/Triton; compare torch's 'graph' rows")
    model, opt, loss_fn, step = _train_step(bk, name)
    if mode == "eager":
        fn = step
    elif mode == "compiled":
        fn = bk.lib.compile(step, mode="reduce-overhead")
    else:
        fn = _graphed(bk, opt, loss_fn, step)
    params = sum(p.numel() for p in model.parameters())
    run_case(benchmark, bk, f"train step {name} ({mode})", fn, params=params, mode=mode)
