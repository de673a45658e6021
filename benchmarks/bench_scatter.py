"""Embedding backward (the scatter-add of gradient rows at repeated indices), tinytorch against PyTorch.

The sizes span what the user workloads use (vocab 27..50k, embedding 2..512, batch*block 32..4096).
tinytorch's NumPy path (``tinytorch/_arrays/scatter.py``) takes np.add.at for short rows and small
problems and a sorted level-wise add otherwise; these rows show where each applies. Timed: one
``F.embedding`` forward and backward with a fixed upstream gradient.
"""
from __future__ import annotations

import numpy as np
import pytest

from _harness import pick, run_case

F32 = 4

SIZES = [pick(s, small) for s, small in [
    ((27, 10, 96), (27, 10, 8)),      # char MLP LM: vocab 27, emb 10, batch 32 x block 3
    ((65, 65, 256), (65, 8, 16)),     # bigram table, batch 32 x block 8
    ((65, 128, 768), (65, 8, 16)),    # GPT token embedding, batch 12 x block 64
    ((1000, 64, 4096), (50, 8, 32)),
    ((50000, 512, 4096), (100, 8, 32)),
]]


@pytest.mark.parametrize("vdn", SIZES, ids=lambda s: "v{}-d{}-n{}".format(*s))
def test_embedding_backward(benchmark, bk, vdn):
    vocab, dim, n = vdn
    rng = np.random.default_rng(0)
    F = bk.lib.nn.functional
    w = bk.tensor(rng.standard_normal((vocab, dim), dtype=np.float32), requires_grad=True)
    idx = bk.tensor(rng.integers(0, vocab, n))
    g = bk.tensor(rng.standard_normal((n, dim), dtype=np.float32))

    def step():
        F.embedding(idx, w).backward(g)
        w.grad = None

    run_case(benchmark, bk, f"embedding backward vocab {vocab} dim {dim} n {n}", step,
             nbytes=F32 * (2 * n * dim + vocab * dim), bound="bytes")
