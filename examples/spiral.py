"""Classify the classic three-arm spiral with a small MLP, and draw its decision boundaries.

Written as a PyTorch user would write it; only the imports say ``tinytorch``:

    python examples/spiral.py                          # 300 epochs, writes examples/images/spiral.png
    python examples/spiral.py --smoke --out /tmp/s.png # a few seconds
    python examples/spiral.py --device cuda

Needs matplotlib for the picture (``pip install 'tinytorch[examples]'``).
"""
from __future__ import annotations

import argparse
import math
import pathlib

import numpy as np

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.utils.data import DataLoader, TensorDataset

HERE = pathlib.Path(__file__).resolve().parent


def make_spiral(points_per_class: int, classes: int = 3, noise: float = 0.2, seed: int = 0):
    """(N, 2) float32 points on ``classes`` interleaved spiral arms and their (N,) int64 labels."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for c in range(classes):
        r = np.linspace(0.0, 1.0, points_per_class)
        theta = np.linspace(c * 4.0, (c + 1) * 4.0, points_per_class) + rng.standard_normal(points_per_class) * noise
        xs.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        ys.append(np.full(points_per_class, c))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int64)


class MLP(nn.Module):
    def __init__(self, hidden: int = 64, classes: int = 3):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, classes),
        )

    def forward(self, x):
        return self.net(x)


def pick_device(name: str):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def plot(model, x, y, losses, accs, device, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.linspace(-1.1, 1.1, 300, dtype=np.float32)
    gx, gy = np.meshgrid(grid, grid)
    pts = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], axis=1)).to(device)
    model.eval()
    with torch.no_grad():
        zone = model(pts).argmax(dim=1).cpu().numpy().reshape(gx.shape)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.8))
    colors = ["#1b9e77", "#d95f02", "#7570b3"]
    from matplotlib.colors import ListedColormap

    ax1.contourf(gx, gy, zone, levels=[-0.5, 0.5, 1.5, 2.5], cmap=ListedColormap(colors), alpha=0.3)
    for c in range(3):
        ax1.scatter(x[y == c, 0], x[y == c, 1], s=10, color=colors[c], label=f"class {c}")
    ax1.set_title("decision boundaries (MLP 2-64-64-3)")
    ax1.set_aspect("equal")
    ax1.legend(loc="upper right", fontsize=8)
    epochs = np.arange(1, len(losses) + 1)
    ax2.plot(epochs, losses, color="#444444", label="training loss")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("cross-entropy")
    ax2.set_yscale("log")
    ax3 = ax2.twinx()
    ax3.plot(epochs, accs, color="#d95f02", label="training accuracy")
    ax3.set_ylabel("accuracy")
    ax3.set_ylim(0, 1.02)
    ax2.set_title("training curve")
    handles = ax2.get_legend_handles_labels()[0] + ax3.get_legend_handles_labels()[0]
    ax2.legend(handles=handles, loc="center right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> float:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto", choices=["cpu", "cuda", "auto"])
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--smoke", action="store_true", help="a short run (for tests)")
    p.add_argument("--compile", action="store_true", help="train through torch.compile (trace, then replay)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=pathlib.Path, default=HERE / "images" / "spiral.png")
    p.add_argument("--no-plot", action="store_true")
    args = p.parse_args(argv)
    epochs = 60 if args.smoke else args.epochs

    torch.manual_seed(args.seed)
    device = pick_device(args.device)
    x_np, y_np = make_spiral(100, seed=args.seed)
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    model = MLP().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    train_fwd = torch.compile(model) if args.compile else model
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)

    losses, accs = [], []
    for epoch in range(epochs):
        model.train()
        total, correct = 0.0, 0
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            logits = train_fwd(xb)
            loss = F.cross_entropy(logits, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(yb)
            correct += (logits.argmax(dim=1) == yb).sum().item()
        scheduler.step()
        losses.append(total / len(y))
        accs.append(correct / len(y))
        if (epoch + 1) % max(1, epochs // 10) == 0:
            print(f"epoch {epoch + 1:4d}  loss {losses[-1]:.4f}  accuracy {accs[-1]:.3f}")

    model.eval()
    with torch.no_grad():
        acc = (model(x.to(device)).argmax(dim=1).cpu() == y).float().mean().item()
    print(f"final training accuracy: {acc:.3f}")
    if not args.no_plot:
        plot(model, x_np, y_np, losses, accs, device, args.out)
        print(f"wrote {args.out}")
    assert math.isfinite(losses[-1])
    return acc


if __name__ == "__main__":
    main()
