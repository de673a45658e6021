"""A tiny character-level transformer language model, trained on a few KB of public-domain text.

Decoder-only (GPT-style): token + position embeddings, a stack of ``nn.TransformerEncoderLayer``
blocks run with a causal mask (each character attends only to those before it), and a linear
head predicting the next character. Sampling at the end continues a prompt one character at a
time.

    python examples/char_transformer.py                       # a few minutes on a CPU, writes examples/images/char_transformer.png
    python examples/char_transformer.py --smoke --out /tmp/c.png
    python examples/char_transformer.py --device cuda --steps 3000 --d-model 128 --layers 4 --prompt "To be"

The corpus (examples/data/tiny_corpus.txt) is small, so the model mostly learns its words and
memorises phrases; that is the point of a demo that trains in minutes.
"""
from __future__ import annotations

import argparse
import math
import pathlib
import time

import numpy as np

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.nn.functional as F

HERE = pathlib.Path(__file__).resolve().parent


class CharTransformer(nn.Module):
    def __init__(self, vocab_size: int, block_size: int, d_model: int = 96, nhead: int = 4, num_layers: int = 3,
                 dropout: float = 0.1):
        super().__init__()
        self.block_size = block_size
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(block_size, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=4 * d_model, dropout=dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, num_layers)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, idx):
        """(B, T) character ids -> (B, T, vocab) next-character logits."""
        t = idx.shape[1]
        pos = torch.arange(t, device=idx.device)
        x = self.tok(idx) + self.pos(pos)                               # (B, T, d_model)
        mask = nn.Transformer.generate_square_subsequent_mask(t, device=idx.device)
        x = self.blocks(x, mask=mask, is_causal=True)
        return self.head(self.norm(x))

    @torch.no_grad()
    def generate(self, idx, new_tokens: int, temperature: float = 0.8, top_k: int | None = 10):
        """Continue (1, T) ids by ``new_tokens`` sampled characters."""
        for _ in range(new_tokens):
            logits = self(idx[:, -self.block_size:])[:, -1, :] / temperature
            if top_k is not None:
                kth = torch.topk(logits, top_k).values[:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            nxt = torch.multinomial(F.softmax(logits, dim=-1), num_samples=1)
            idx = torch.cat([idx, nxt], dim=1)
        return idx


def pick_device(name: str):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def get_batch(data: np.ndarray, block: int, batch: int, rng, device):
    starts = rng.integers(0, len(data) - block - 1, batch)
    x = np.stack([data[s:s + block] for s in starts])
    y = np.stack([data[s + 1:s + block + 1] for s in starts])
    return torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)


def plot(steps, losses, val_steps, val_losses, sample, vocab_size, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [1, 1.3]})
    ax1.plot(steps, losses, color="#999999", lw=0.8, label="training batch")
    ax1.plot(val_steps, val_losses, "o-", color="#d62728", ms=3, label="held-out text (last 10%)")
    ax1.axhline(math.log(vocab_size), ls=":", color="k", lw=0.8, label=f"uniform guess, ln({vocab_size})")
    ax1.set_xlabel("step")
    ax1.set_ylabel("cross-entropy (nats / character)")
    ax1.set_title("char transformer: loss")
    ax1.legend()
    ax2.axis("off")
    ax2.set_title("a sample after training")
    ax2.text(0.0, 1.0, sample, va="top", ha="left", family="monospace", fontsize=8, wrap=True,
             transform=ax2.transAxes)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> float:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto", choices=["cpu", "cuda", "auto"])
    p.add_argument("--text", type=pathlib.Path, default=HERE / "data" / "tiny_corpus.txt")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--block", type=int, default=48)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--d-model", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--prompt", default="It was the ")
    p.add_argument("--sample-length", type=int, default=300)
    p.add_argument("--smoke", action="store_true", help="a short run (for tests)")
    p.add_argument("--compile", action="store_true", help="train through torch.compile (trace, then replay)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=pathlib.Path, default=HERE / "images" / "char_transformer.png")
    p.add_argument("--no-plot", action="store_true")
    args = p.parse_args(argv)
    steps = 60 if args.smoke else args.steps
    sample_length = 40 if args.smoke else args.sample_length

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    device = pick_device(args.device)
    text = args.text.read_text(encoding="utf-8")
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]
    print(f"{len(text)} characters, vocabulary of {len(chars)}; {steps} steps on {device}")

    model = CharTransformer(len(chars), args.block, d_model=48 if args.smoke else args.d_model,
                            num_layers=1 if args.smoke else args.layers).to(device)
    print(f"{sum(p.numel() for p in model.parameters())} parameters")
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=steps)
    train_fwd = torch.compile(model) if args.compile else model

    losses, val_steps, val_losses = [], [], []
    start = time.perf_counter()
    for step in range(steps):
        model.train()
        x, y = get_batch(train, args.block, args.batch, rng, device)
        logits = train_fwd(x)
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        if (step + 1) % max(1, steps // 10) == 0 or step == steps - 1:
            model.eval()
            with torch.no_grad():
                vx, vy = get_batch(val, args.block, 16, np.random.default_rng(1), device)
                vloss = F.cross_entropy(model(vx).reshape(-1, len(chars)), vy.reshape(-1)).item()
            val_steps.append(step + 1)
            val_losses.append(vloss)
            print(f"step {step + 1:5d}  loss {loss.item():.3f}  held-out {vloss:.3f}  "
                  f"({time.perf_counter() - start:.0f} s)")

    model.eval()
    prompt = "".join(c for c in args.prompt if c in stoi) or chars[0]
    idx = torch.tensor([[stoi[c] for c in prompt]], device=device)
    out = model.generate(idx, sample_length)[0].tolist()
    sample = "".join(chars[i] for i in out)
    print("--- sample ---")
    print(sample)
    if not args.no_plot:
        plot(range(1, steps + 1), losses, val_steps, val_losses, sample, len(chars), args.out)
        print(f"wrote {args.out}")
    return losses[-1]


if __name__ == "__main__":
    main()
