"""Training steps of the small models people actually write first (issue #17), tinytorch against PyTorch.

Each case mirrors the shapes and layer mix of a common public training script (written here from the
description, not copied): a character-level MLP language model (embedding of a 3-token context,
Linear, tanh, Linear; vocab 27, batch 32, SGD), an embedding bigram model (vocab 65, block 8, batch 32,
AdamW), a bag-of-words classifier (count vectors, Linear, log_softmax, NLL, SGD), a GRU character
model and the same with a plain tanh RNN (vocab 65, embedding 32, hidden 128, sequence 32, batch 32,
Adam), a word-level LSTM language model (vocab 10000, 2 layers of 200, sequence 35, batch 20, SGD with
gradient clipping), and a GPT-style character model (4 layers, 4 heads, 128 wide, block 64, batch 12,
causal attention, AdamW); and one training epoch of ``examples/train_digits.py`` (its CNN on the 8x8
digits, DataLoader batch 32 with shuffle, Adam), and one DataLoader epoch over a custom map-style Dataset
(batch 64, shuffle, 0 and 2 workers). ``benchmarks/run_workloads.py`` runs them all at 1 thread (CPU time)
and 2 threads (wall clock) and writes one table.

As in ``bench_models.py``, every model is built by the same code from ``bk.lib`` and PyTorch gets
tinytorch's seeded initial weights, so both train the same network from the same point (the smoke
test compares ``extra_info["loss0"]``). One timed call is one full step: zero_grad, forward, loss,
backward, optimizer step.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest

from _harness import pick, run_case


def build_char_mlp(lib, vocab=27, block=3, emb=10, hidden=200):
    nn = lib.nn

    class CharMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab, emb)
            self.hidden = nn.Linear(block * emb, hidden)
            self.out = nn.Linear(hidden, vocab)

        def forward(self, idx):  # idx (B, block) -> logits (B, vocab)
            x = self.emb(idx).view(idx.shape[0], -1)
            return self.out(lib.tanh(self.hidden(x)))

    return CharMLP()


def build_bigram(lib, vocab=65):
    nn = lib.nn

    class Bigram(nn.Module):
        def __init__(self):
            super().__init__()
            self.table = nn.Embedding(vocab, vocab)

        def forward(self, idx):  # idx (B, T) -> logits (B, T, vocab)
            return self.table(idx)

    return Bigram()


def build_bow(lib, vocab=pick(2000, 50), labels=4):
    nn = lib.nn

    class BoW(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(vocab, labels)

        def forward(self, counts):  # (B, vocab) word counts -> log-probabilities (B, labels)
            return nn.functional.log_softmax(self.linear(counts), dim=1)

    return BoW()


def build_recurrent(lib, cell="GRU", vocab=65, emb=32, hidden=pick(128, 16), layers=1):
    nn = lib.nn

    class CharRNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab, emb)
            self.rnn = getattr(nn, cell)(emb, hidden, num_layers=layers, batch_first=True)
            self.out = nn.Linear(hidden, vocab)

        def forward(self, idx):  # idx (B, T) -> logits (B, T, vocab)
            h, _ = self.rnn(self.emb(idx))
            return self.out(h)

    return CharRNN()


WORD_VOCAB = pick(10000, 100)


GPT_WIDTH, GPT_LAYERS, GPT_HEADS, GPT_BLOCK = pick(128, 32), pick(4, 1), 4, pick(64, 8)


def build_gpt(lib, vocab=65, width=GPT_WIDTH, layers=GPT_LAYERS, heads=GPT_HEADS, block=GPT_BLOCK):
    nn, F = lib.nn, lib.nn.functional

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(width, 3 * width)
            self.proj = nn.Linear(width, width)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.qkv(x).split(width, dim=2)
            q, k, v = (t.view(B, T, heads, C // heads).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.proj(y.transpose(1, 2).contiguous().view(B, T, C))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
            self.attn = Attention()
            self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(vocab, width)
            self.pos = nn.Embedding(block, width)
            self.blocks = nn.Sequential(*[Block() for _ in range(layers)])
            self.ln_f = nn.LayerNorm(width)
            self.head = nn.Linear(width, vocab, bias=False)

        def forward(self, idx):  # idx (B, T) -> logits (B, T, vocab)
            pos = lib.arange(idx.shape[1], device=idx.device)
            return self.head(self.ln_f(self.blocks(self.tok(idx) + self.pos(pos))))

    return GPT()


def _tokens(vocab, shape, seed=0):
    return np.random.default_rng(seed).integers(0, vocab, shape)


def _next_token_data(vocab, batch, block):
    """(inputs, targets) of a random token stream, targets shifted by one as in a language model."""
    stream = _tokens(vocab, (batch, block + 1))
    return stream[:, :-1], stream[:, 1:]


def _char_mlp_data():
    ctx = _tokens(27, (32, 3))
    return ctx, _tokens(27, (32,), seed=1)


def _bow_data():
    vocab = pick(2000, 50)
    rng = np.random.default_rng(0)
    words = rng.integers(0, vocab, (32, 40))  # 32 documents of 40 words as count vectors
    counts = np.zeros((32, vocab), np.float32)
    np.add.at(counts, (np.arange(32)[:, None], words), 1.0)
    return counts, rng.integers(0, 4, 32)


WORKLOADS = {
    # name: (builder, data() -> (inputs, targets), optimizer(lib, params), loss kind)
    "charmlp vocab27 block3 emb10 h200 b32": (
        build_char_mlp, _char_mlp_data, lambda lib, p: lib.optim.SGD(p, lr=0.1), "ce"),
    "bigram vocab65 block8 b32": (
        build_bigram, lambda: _next_token_data(65, 32, 8), lambda lib, p: lib.optim.AdamW(p, lr=1e-3), "ce"),
    "bow vocab2000 4 labels b32": (
        build_bow, _bow_data, lambda lib, p: lib.optim.SGD(p, lr=0.1), "nll"),
    "gru char vocab65 emb32 h128 seq32 b32": (
        build_recurrent, lambda: _next_token_data(65, 32, pick(32, 8)), lambda lib, p: lib.optim.Adam(p, lr=2e-3),
        "ce"),
    "rnn char vocab65 emb32 h128 seq32 b32": (
        lambda lib: build_recurrent(lib, "RNN"), lambda: _next_token_data(65, 32, pick(32, 8)),
        lambda lib, p: lib.optim.Adam(p, lr=2e-3), "ce"),
    # a word-level LSTM LM (2 layers of 200, sequence 35, batch 20, plain SGD with gradient clipping)
    "lstm word vocab10000 emb200 h200x2 seq35 b20": (
        lambda lib: build_recurrent(lib, "LSTM", WORD_VOCAB, pick(200, 16), pick(200, 16), 2),
        lambda: _next_token_data(WORD_VOCAB, pick(20, 2), pick(35, 5)), lambda lib, p: lib.optim.SGD(p, lr=20.0),
        "ce_clip"),
    "gpt char 4l 4h 128w block64 b12": (
        build_gpt, lambda: _next_token_data(65, pick(12, 2), GPT_BLOCK),
        lambda lib, p: lib.optim.AdamW(p, lr=3e-4), "ce"),
}
IDS = ["charmlp", "bigram", "bow", "gru", "rnn", "lstm", "gpt"]


def make_workload(bk, name):
    """The model ``name`` on ``bk`` with tinytorch's seeded initial weights."""
    import tinytorch

    builder = WORKLOADS[name][0]
    tinytorch.manual_seed(0)
    reference = builder(tinytorch)
    if not bk.is_torch:
        return reference.to(bk.device)
    model = builder(bk.lib)
    model.load_state_dict({k: bk.lib.from_numpy(np.array(v.detach().numpy())) for k, v in reference.state_dict().items()})
    return model.to(bk.device)


@pytest.mark.parametrize("name", list(WORKLOADS), ids=IDS)
def test_workload_step(benchmark, bk, name):
    _, data, make_opt, loss_kind = WORKLOADS[name]
    lib, F = bk.lib, bk.lib.nn.functional
    model = make_workload(bk, name)
    x_np, y_np = data()
    x, y = bk.tensor(x_np), bk.tensor(y_np)
    opt = make_opt(lib, model.parameters())

    def loss_fn():
        out = model(x)
        if loss_kind == "nll":
            return F.nll_loss(out, y)
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))

    def step():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        if loss_kind == "ce_clip":
            lib.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        opt.step()
        return loss

    with lib.no_grad():
        loss0 = float(loss_fn().item())
    params = sum(p.numel() for p in model.parameters())
    run_case(benchmark, bk, f"train step {name}", step, loss0=loss0, params=params)


# ---- a CNN epoch on the digits, and DataLoader throughput ------------------------------------------

def build_digits_cnn(lib):
    """examples/train_digits.py's model: Conv(1->16), ReLU, MaxPool, Conv(16->32), ReLU, MaxPool, Linear(128->10)."""
    nn = lib.nn

    class DigitsCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)
            self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.fc = nn.Linear(32 * 2 * 2, 10)

        def forward(self, x):  # (N, 1, 8, 8) -> logits (N, 10)
            x = self.pool(lib.relu(self.conv1(x)))
            x = self.pool(lib.relu(self.conv2(x)))
            return self.fc(lib.flatten(x, 1))

    return DigitsCNN()


DIGITS_TRAIN = pick(1437, 64)  # train_digits.py's split: 80 % of the 1797 images


def digits_data():
    """The digits training images as train_digits.py prepares them ((N, 1, 8, 8) in [0, 1]); random ones
    of the same shape when scikit-learn is not installed (the time does not depend on the values)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        rng = np.random.default_rng(0)
        return (rng.random((DIGITS_TRAIN, 1, 8, 8), dtype=np.float32), rng.integers(0, 10, DIGITS_TRAIN), "random")
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    order = np.random.default_rng(0).permutation(len(images))[:DIGITS_TRAIN]
    return images[order], digits.target.astype(np.int64)[order], "sklearn digits"


def test_digits_cnn_epoch(benchmark, bk):
    """One training epoch of examples/train_digits.py: DataLoader(batch 32, shuffle), Adam, cross-entropy."""
    import tinytorch

    lib, F = bk.lib, bk.lib.nn.functional
    tinytorch.manual_seed(0)
    reference = build_digits_cnn(tinytorch)
    if bk.is_torch:
        model = build_digits_cnn(lib)
        model.load_state_dict({k: lib.from_numpy(np.array(v.detach().numpy())) for k, v in reference.state_dict().items()})
    else:
        model = reference
    model = model.to(bk.device)
    images, labels, source = digits_data()
    x_all, y_all = bk.tensor(images), bk.tensor(labels)
    loader = lib.utils.data.DataLoader(lib.utils.data.TensorDataset(x_all, y_all), batch_size=32, shuffle=True,
                                       generator=lib.Generator().manual_seed(0))
    opt = lib.optim.Adam(model.parameters(), lr=1e-2)

    def epoch():
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item()
        return total

    with lib.no_grad():
        loss0 = float(F.cross_entropy(model(x_all[:256]), y_all[:256]).item())
    run_case(benchmark, bk, f"digits cnn epoch {DIGITS_TRAIN} images b32", epoch, loss0=loss0, data=source,
             steps=len(loader))


LOADER_SAMPLES, LOADER_BATCH = pick(8192, 256), 64


@functools.lru_cache(maxsize=1)
def _loader_arrays(n):
    # made once and shared by both libraries: the first to touch fresh pages would pay their faults
    return np.random.default_rng(0).random((n, 3, 32, 32), dtype=np.float32), np.random.default_rng(1).integers(0, 10, n)


def make_image_dataset(lib, n=LOADER_SAMPLES):
    """A map-style Dataset as users write one: per-sample NumPy work in ``__getitem__``, tensors out."""
    data, labels = _loader_arrays(n)

    class ImageDataset(lib.utils.data.Dataset):
        def __len__(self):
            return n

        def __getitem__(self, i):
            img = (data[i] - 0.5) / 0.25  # normalise, as a transform would
            return lib.from_numpy(img), int(labels[i])

    return ImageDataset()


@pytest.mark.parametrize("workers", [0, 2])
def test_dataloader_epoch(benchmark, bk, workers):
    """One pass of DataLoader(batch 64, shuffle) over a custom Dataset, collating (B, 3, 32, 32) batches."""
    if bk.is_gpu:
        pytest.skip("DataLoader throughput is a CPU case")
    lib = bk.lib
    loader = lib.utils.data.DataLoader(make_image_dataset(lib), batch_size=LOADER_BATCH, shuffle=True,
                                       num_workers=workers, generator=lib.Generator().manual_seed(0))

    def epoch():
        seen = 0
        for xb, yb in loader:
            seen += int(yb.shape[0])
        return seen

    run_case(benchmark, bk, f"dataloader epoch workers{workers} {LOADER_SAMPLES}x3x32x32 b{LOADER_BATCH}", epoch,
             samples=epoch(), workers=workers)  # samples: counted in one epoch, checked by the smoke test
