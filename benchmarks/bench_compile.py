"""``tinytorch.compile`` (issue #18): the same step eager and compiled, next to PyTorch eager.

Two cases: the 100-op tiny chain forward+backward (per-op overhead), and a character-level MLP LM
training step (embedding, Linear, tanh, dropout, cross-entropy, AdamW) compiled whole. The compiled
step is called three times before timing, so the timed calls are replays. PyTorch runs eager only:
its ``torch.compile`` on the CPU needs inductor's C++ toolchain, which the benchmark machines may lack.
"""
from __future__ import annotations

import numpy as np
import pytest

from _harness import pick, run_case

MODES = ["eager", "compiled"]


def _maybe_compile(bk, fn, mode):
    if mode == "eager":
        return fn
    if bk.is_torch:
        pytest.skip("torch.compile is not benchmarked here (inductor needs a C++ toolchain); torch eager is the reference")
    return bk.lib.compile(fn)


@pytest.mark.parametrize("mode", MODES)
def test_compile_chain(benchmark, bk, mode):
    """100 tiny ops on a 16-element tensor, forward compiled, then backward."""
    x = bk.tensor(np.random.default_rng(0).standard_normal(16, dtype=np.float32), requires_grad=True)

    def forward(a):
        y = a
        for _ in range(50):
            y = y * 1.01
            y = y + 0.1
        return y.sum()

    fwd = _maybe_compile(bk, forward, mode)

    def step():
        out = fwd(x)
        out.backward()
        x.grad = None
        return out

    for _ in range(3):
        step()
    run_case(benchmark, bk, f"compile: autograd chain 100 ops x16 fwd+bwd ({mode})", step)


@pytest.mark.parametrize("mode", MODES)
def test_compile_charmlp_step(benchmark, bk, mode):
    lib = bk.lib
    nn, F = lib.nn, lib.nn.functional
    vocab, block, emb_dim, hidden, batch = 27, 3, 10, pick(200, 16), 32
    lib.manual_seed(0)
    emb = nn.Embedding(vocab, emb_dim).to(bk.device)
    fc1 = nn.Linear(block * emb_dim, hidden).to(bk.device)
    fc2 = nn.Linear(hidden, vocab).to(bk.device)
    params = list(emb.parameters()) + list(fc1.parameters()) + list(fc2.parameters())
    opt = lib.optim.AdamW(params, lr=1e-3)
    rng = np.random.default_rng(0)
    x = bk.tensor(rng.integers(0, vocab, (batch, block)).astype(np.int64))
    y = bk.tensor(rng.integers(0, vocab, (batch,)).astype(np.int64))

    def step(xb, yb):
        opt.zero_grad()
        h = F.dropout(lib.tanh(fc1(emb(xb).view(xb.shape[0], -1))), 0.1, training=True)
        loss = F.cross_entropy(fc2(h), yb)
        loss.backward()
        opt.step()
        return loss

    fn = _maybe_compile(bk, step, mode)
    for _ in range(3):
        fn(x, y)
    run_case(benchmark, bk, f"compile: charmlp step b{batch} h{hidden} ({mode})", lambda: fn(x, y))
