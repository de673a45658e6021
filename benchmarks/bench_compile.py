"""``tinytorch.compile`` (issue #18): the same step eager and compiled, next to PyTorch eager.

Cases: the 100-op tiny chain forward+backward (per-op overhead), and a character-level MLP LM
training step (embedding, Linear, tanh, dropout, cross-entropy, AdamW) compiled whole. The compiled
step is called three times before timing, so the timed calls are replays. PyTorch runs eager only:
its ``torch.compile`` on the CPU needs inductor's C++ toolchain, which the benchmark machines may lack.

``test_compile_whole_step``: whole training steps compiled, the backward inside (the array tier replays
them): the chain, the char-MLP step, a GRU LM step (Adam) and an epoch of a small CNN on digits-sized
8x8 inputs (SGD momentum, the last batch smaller). ``python benchmarks/bench_compile.py`` (with
``OMP_NUM_THREADS=1``) prints CPU-time ratios against torch eager, the variants interleaved.

``test_compile_model_backward_outside``: ``model = compile(model)`` with the loss, backward and optimizer
step outside the compiled call (torch's most common use), for the char-MLP and the digits CNN.
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


# ---- whole training steps compiled (the array tier), as builders shared by pytest and __main__ -----------

def _chain_step(lib, compiled, x):
    def step(a):
        y = a
        for _ in range(50):
            y = y * 1.01
            y = y + 0.1
        out = y.sum()
        out.backward()
        return out

    fn = lib.compile(step) if compiled else step

    def run():
        x.grad = None
        return fn(x)
    return run


def _charmlp_step(lib, compiled, to):
    nn, F = lib.nn, lib.nn.functional
    vocab, block, emb_dim, hidden, batch = 27, 3, 10, pick(200, 16), 32
    lib.manual_seed(0)
    emb, fc1, fc2 = nn.Embedding(vocab, emb_dim), nn.Linear(block * emb_dim, hidden), nn.Linear(hidden, vocab)
    params = list(emb.parameters()) + list(fc1.parameters()) + list(fc2.parameters())
    opt = lib.optim.AdamW(params, lr=1e-3)
    rng = np.random.default_rng(0)
    x = to(rng.integers(0, vocab, (batch, block)).astype(np.int64))
    y = to(rng.integers(0, vocab, (batch,)).astype(np.int64))

    if compiled == "model":  # torch's common use: model = torch.compile(model); backward and step outside
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb, self.fc1, self.fc2 = emb, fc1, fc2

            def forward(self, xb):
                return self.fc2(F.dropout(lib.tanh(self.fc1(self.emb(xb).view(xb.shape[0], -1))), 0.1,
                                          training=True))
        model = lib.compile(Net())

        def model_step(xb, yb):
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            return loss
        return lambda: model_step(x, y)

    def step(xb, yb):
        opt.zero_grad()
        h = F.dropout(lib.tanh(fc1(emb(xb).view(xb.shape[0], -1))), 0.1, training=True)
        loss = F.cross_entropy(fc2(h), yb)
        loss.backward()
        opt.step()
        return loss

    fn = lib.compile(step) if compiled else step
    return lambda: fn(x, y)


def _gru_step(lib, compiled, to):
    nn, F = lib.nn, lib.nn.functional
    vocab, hidden, batch, seq = 27, pick(64, 8), 16, pick(16, 4)
    lib.manual_seed(0)
    emb, gru, out = nn.Embedding(vocab, 16), nn.GRU(16, hidden, batch_first=True), nn.Linear(hidden, vocab)
    params = list(emb.parameters()) + list(gru.parameters()) + list(out.parameters())
    opt = lib.optim.Adam(params, lr=1e-3)
    rng = np.random.default_rng(0)
    x = to(rng.integers(0, vocab, (batch, seq)).astype(np.int64))
    y = to(rng.integers(0, vocab, (batch * seq,)).astype(np.int64))

    def step(xb, yb):
        opt.zero_grad()
        h, _ = gru(emb(xb))
        loss = F.cross_entropy(out(h).reshape(-1, vocab), yb)
        loss.backward()
        opt.step()
        return loss

    fn = lib.compile(step) if compiled else step
    return lambda: fn(x, y)


def _digits_epoch(lib, compiled, to):
    nn, F = lib.nn, lib.nn.functional
    n, batch = pick(1797, 130), 64  # the digits set's size: the last batch is smaller (a second program)
    lib.manual_seed(0)
    conv, fc = nn.Conv2d(1, 8, 3, padding=1), nn.Linear(8 * 4 * 4, 10)
    opt = lib.optim.SGD(list(conv.parameters()) + list(fc.parameters()), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((n, 1, 8, 8)).astype(np.float32)
    ys = rng.integers(0, 10, n).astype(np.int64)
    batches = [(to(xs[i:i + batch]), to(ys[i:i + batch])) for i in range(0, n, batch)]

    if compiled == "model":  # model = torch.compile(model); backward and step outside
        model = lib.compile(nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(1), fc))

        def step(xb, yb):
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            return loss
        fn = step
    else:
        def step(xb, yb):
            opt.zero_grad()
            h = F.max_pool2d(F.relu(conv(xb)), 2).flatten(1)
            loss = F.cross_entropy(fc(h), yb)
            loss.backward()
            opt.step()
            return loss

        fn = lib.compile(step) if compiled else step

    def epoch():
        for xb, yb in batches:
            loss = fn(xb, yb)
        return loss
    return epoch


def _make(case, lib, compiled):
    to = lib.tensor if case != "chain" else None
    if case == "chain":
        x = lib.tensor(np.random.default_rng(0).standard_normal(16).astype(np.float32), requires_grad=True)
        return _chain_step(lib, compiled, x)
    return {"charmlp": _charmlp_step, "gru": _gru_step, "digits": _digits_epoch}[case](lib, compiled, to)


@pytest.mark.parametrize("case", ["charmlp", "digits"])
@pytest.mark.parametrize("mode", MODES)
def test_compile_model_backward_outside(benchmark, bk, mode, case):
    """``model = compile(model)``, loss/backward/optimizer step outside: the array tier replays the forward
    and its recorded backward behind one autograd node."""
    if bk.is_gpu:
        pytest.skip("the array tier is CPU only")
    if mode == "compiled" and bk.is_torch:
        pytest.skip("torch.compile is not benchmarked here; torch eager is the reference")
    fn = _make(case, bk.lib, compiled="model" if mode == "compiled" else False)
    for _ in range(4):
        fn()
    run_case(benchmark, bk, f"compile: compile(model) {case} ({mode})", fn)


@pytest.mark.parametrize("case", ["chain", "charmlp", "gru", "digits"])
@pytest.mark.parametrize("mode", MODES)
def test_compile_whole_step(benchmark, bk, mode, case):
    """The whole training step (forward, backward, optimizer) compiled: the array tier replays it."""
    if bk.is_gpu:
        pytest.skip("the array tier is CPU only")
    fn = _make(case, bk.lib, compiled=(mode == "compiled" and not bk.is_torch))
    if mode == "compiled" and bk.is_torch:
        pytest.skip("torch.compile is not benchmarked here; torch eager is the reference")
    for _ in range(4):
        fn()
    run_case(benchmark, bk, f"compile: whole step {case} ({mode})", fn)


def _cpu_ratios(rounds=7):
    """CPU-time ratios vs torch eager, 1 thread, the variants interleaved round by round."""
    import time

    import torch
    import tinytorch

    torch.set_num_threads(1)
    for case in ("chain", "charmlp", "gru", "digits"):
        fns = {"torch eager": _make(case, torch, False), "tinytorch eager": _make(case, tinytorch, False),
               "tinytorch compiled": _make(case, tinytorch, True)}
        if case in ("charmlp", "digits"):
            fns["tinytorch compile(model)"] = _make(case, tinytorch, "model")
        for f in fns.values():
            for _ in range(4):
                f()
        best = {k: float("inf") for k in fns}
        reps = 20 if case != "digits" else 1
        for _ in range(rounds):
            for k, f in fns.items():
                t = time.process_time()
                for _ in range(reps):
                    f()
                best[k] = min(best[k], (time.process_time() - t) / reps)
        ref = best["torch eager"]
        print(f"{case:8s} torch {ref * 1e3:8.3f} ms | " + " | ".join(
            f"{k} {v / ref:5.2f}x" for k, v in best.items() if k != "torch eager"))


if __name__ == "__main__":  # OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/bench_compile.py
    _cpu_ratios()
