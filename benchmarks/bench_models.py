"""Model-level benchmarks: one full training step (forward, loss, backward, optimizer step).

The architectures are built by the same code from ``bk.lib.nn``; tinytorch's seeded initial weights
are copied into the PyTorch models, so both libraries train the same network from the same point
(``extra_info["loss0"]`` records the first step's loss; the smoke test compares it across backends).
"""
from __future__ import annotations

import numpy as np
import pytest

from _harness import pick, run_case

F32 = 4


HIDDEN = pick(512, 32)  # smoke mode shrinks the widths so model construction stays quick


def build_mlp(nn):
    return nn.Sequential(nn.Linear(784, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 10))


def build_lenet(nn):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


D_MODEL, HEADS = pick(256, 32), 4


def build_encoder_block(nn):
    return nn.TransformerEncoderLayer(D_MODEL, HEADS, dim_feedforward=4 * D_MODEL, dropout=0.0, batch_first=True)


def _classification_data(shape, classes=10):
    rng = np.random.default_rng(0)
    return rng.standard_normal(shape, dtype=np.float32), rng.integers(0, classes, shape[0])


MODELS = {
    # name: (builder, input batch shape, loss kind, flops per training step (approx, 3x forward))
    "mlp 784-512-512-10 b256": (build_mlp, pick((256, 784), (4, 784)), "ce",
                                3 * 2 * pick(256, 4) * (784 * HIDDEN + HIDDEN * HIDDEN + HIDDEN * 10)),
    "lenet cnn b64 1x28x28": (build_lenet, pick((64, 1, 28, 28), (2, 1, 28, 28)), "ce",
                              3 * 2 * pick(64, 2) * (6 * 784 * 25 + 16 * 100 * 150 + 400 * 120 + 120 * 84 + 840)),
    "transformer encoder block d256 h4 seq128 b16": (build_encoder_block, pick((16, 128, D_MODEL), (2, 8, D_MODEL)),
                                                     "mse", None),
}


def _encoder_flops(b, s, d):
    # QKV + output projections (4 d^2), attention scores and weighted sum (2 s d), FFN (8 d^2)
    return 3 * 2 * b * s * (4 * d * d + 2 * s * d + 8 * d * d)


def make_model(bk, name):
    """The model ``name`` on ``bk``, holding tinytorch's seeded initial weights."""
    import tinytorch

    builder = MODELS[name][0]
    tinytorch.manual_seed(0)
    reference = builder(tinytorch.nn)
    if bk.is_torch:
        model = builder(bk.lib.nn)
        state = {k: bk.lib.from_numpy(np.array(v.detach().numpy())) for k, v in reference.state_dict().items()}
        model.load_state_dict(state)
    else:
        model = reference
    return model.to(bk.device)


@pytest.mark.parametrize("name", list(MODELS), ids=["mlp", "lenet", "encoder"])
def test_train_step(benchmark, bk, name):
    _, shape, loss_kind, flops = MODELS[name]
    lib, F = bk.lib, bk.lib.nn.functional
    model = make_model(bk, name)
    if loss_kind == "ce":
        x_np, y_np = _classification_data(shape)
        x, y = bk.tensor(x_np), bk.tensor(y_np)
        opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def loss_fn():
            return F.cross_entropy(model(x), y)
    else:
        rng = np.random.default_rng(0)
        x, y = bk.tensor(rng.standard_normal(shape, dtype=np.float32)), \
            bk.tensor(rng.standard_normal(shape, dtype=np.float32))
        opt = lib.optim.Adam(model.parameters(), lr=1e-4)
        flops = _encoder_flops(*shape)

        def loss_fn():
            return F.mse_loss(model(x), y)

    def step():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        return loss

    with lib.no_grad():
        loss0 = float(loss_fn().item())
    params = sum(p.numel() for p in model.parameters())
    run_case(benchmark, bk, f"train step {name}", step, flops=flops, loss0=loss0, params=params)
