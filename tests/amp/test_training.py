"""Training under CPU bfloat16 autocast tracks float32 training: a LeNet and a small transformer start from
the same weights and data, and the autocast run's final loss is within a stated tolerance of the float32
run's. A nanoGPT-style training loop (autocast(dtype=bfloat16) + a disabled GradScaler) runs unchanged."""
from __future__ import annotations

import contextlib
import warnings

import numpy as np

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.nn.functional as F

# |final autocast loss - final float32 loss| <= ABS_TOL + REL_TOL * final float32 loss
ABS_TOL, REL_TOL = 0.02, 0.1


def _train(build, batches, loss_fn, steps, autocast):
    torch.manual_seed(0)
    model = build()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for i in range(steps):
        x, y = batches[i % len(batches)]
        ctx = torch.autocast("cpu", dtype=torch.bfloat16) if autocast else contextlib.nullcontext()
        with ctx:
            loss = loss_fn(model(x), y)
        assert loss.dtype is torch.float32
        opt.zero_grad()
        loss.backward()
        assert all(p.grad.dtype is torch.float32 for p in model.parameters() if p.grad is not None)
        opt.step()
        losses.append(loss.item())
    return losses


def _tail(losses, n=5):
    return float(np.mean(losses[-n:]))


def _assert_tracks(f32, amp):
    assert amp != f32, "autocast changed nothing: the low-precision path did not run"
    assert _tail(f32) < 0.5 * f32[0], f"float32 run did not learn: {f32[0]:.3f} -> {_tail(f32):.3f}"
    assert abs(_tail(amp) - _tail(f32)) <= ABS_TOL + REL_TOL * _tail(f32), (
        f"autocast final loss {_tail(amp):.4f} vs float32 {_tail(f32):.4f}")


def test_lenet_bfloat16_autocast_tracks_float32():
    rng = np.random.default_rng(0)
    protos = rng.standard_normal((4, 1, 16, 16)).astype(np.float32)
    batches = []
    for _ in range(4):
        y = rng.integers(0, 4, 32)
        x = protos[y] + 0.5 * rng.standard_normal((32, 1, 16, 16)).astype(np.float32)
        batches.append((torch.tensor(x), torch.tensor(y)))

    def build():
        return nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(16 * 2 * 2, 32), nn.ReLU(), nn.Linear(32, 4))

    f32 = _train(build, batches, F.cross_entropy, 30, autocast=False)
    amp = _train(build, batches, F.cross_entropy, 30, autocast=True)
    _assert_tracks(f32, amp)


class _TinyLM(nn.Module):
    def __init__(self, vocab=12, d=32, ctx=16):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.randn(ctx, d) * 0.02)
        self.block = nn.TransformerEncoderLayer(d, 4, 64, dropout=0.0, batch_first=True, norm_first=True)
        self.head = nn.Linear(d, vocab)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(ctx))

    def forward(self, idx):
        t = idx.shape[1]
        h = self.tok(idx) + self.pos[:t]
        h = self.block(h, src_mask=self.mask[:t, :t], is_causal=True)
        return self.head(h)


def test_small_transformer_bfloat16_autocast_tracks_float32():
    rng = np.random.default_rng(1)
    seq = np.tile(np.arange(12), 40)
    batches = []
    for _ in range(4):
        starts = rng.integers(0, len(seq) - 17, 16)
        chunk = np.stack([seq[s:s + 17] for s in starts])
        batches.append((torch.tensor(chunk[:, :-1]), torch.tensor(chunk[:, 1:])))

    def loss_fn(logits, y):
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    f32 = _train(_TinyLM, batches, loss_fn, 40, autocast=False)
    amp = _train(_TinyLM, batches, loss_fn, 40, autocast=True)
    _assert_tracks(f32, amp)


def test_gpt_style_training_loop_runs_under_the_alias():
    # the shape of nanoGPT's train.py, with the device type resolved to the CPU
    device_type = "cpu"
    dtype = "bfloat16"
    ptdtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    ctx = contextlib.nullcontext() if device_type == "cpu" and dtype == "float32" else \
        torch.amp.autocast(device_type=device_type, dtype=ptdtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        scaler = torch.cuda.amp.GradScaler(enabled=(dtype == "float16"))
    torch.manual_seed(0)
    model = _TinyLM()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)
    seq = torch.tensor(np.tile(np.arange(12), 4)[None, :17])
    X, Y = seq[:, :-1], seq[:, 1:]
    losses = []
    for _ in range(6):
        with ctx:
            logits = model(X)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), Y.view(-1), ignore_index=-1)
        assert logits.dtype is torch.bfloat16 and loss.dtype is torch.float32
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    assert losses[-1] < losses[0]
