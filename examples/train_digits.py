"""Train a small CNN on scikit-learn's handwritten digits with tinytorch.

The script is written exactly as a PyTorch user would write it; only the imports say
``tinytorch``. The data is scikit-learn's bundled 8x8 digits (1797 real images, no download):

    python examples/train_digits.py                 # 12 epochs, test accuracy ~0.98
    python examples/train_digits.py --smoke         # 5 epochs, ~0.97 in about ten seconds on a CPU
    python examples/train_digits.py --device cuda --epochs 20
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.utils.data import DataLoader, TensorDataset


class DigitsCNN(nn.Module):
    """Conv(1->16) -> ReLU -> MaxPool -> Conv(16->32) -> ReLU -> MaxPool -> flatten -> Linear(128->10)."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)   # (N, 16, 8, 8)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)  # (N, 32, 4, 4)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(32 * 2 * 2, num_classes)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))  # (N, 16, 4, 4)
        x = self.pool(torch.relu(self.conv2(x)))  # (N, 32, 2, 2)
        x = torch.flatten(x, 1)                   # (N, 128)
        return self.fc(x)


def load_data(seed: int, test_fraction: float = 0.2):
    """The digits as (N, 1, 8, 8) float32 images in [0, 1] and int64 labels, split train/test."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(labels))
    n_test = int(len(labels) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return (torch.from_numpy(images[train]), torch.from_numpy(labels[train]),
            torch.from_numpy(images[test]), torch.from_numpy(labels[test]))


def pick_device(name: str):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def progress(iterable, enabled: bool, **kwargs):
    """A tqdm bar when enabled and tqdm is installed; the plain iterable otherwise."""
    if not enabled:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, **kwargs)


def evaluate(model, x, y, device, batch_size=512):
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(y), batch_size):
            xb = x[start:start + batch_size].to(device)
            yb = y[start:start + batch_size].to(device)
            correct += (model(xb).argmax(dim=1) == yb).sum().item()
    return correct / len(y)


def main(argv=None) -> float:
    """Train and return the test accuracy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", choices=["cpu", "cuda", "auto"])
    parser.add_argument("--epochs", type=int, default=None, help="default: 12 (5 with --smoke)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="a short run for tests and CI")
    parser.add_argument("--compile", action="store_true", help="train through torch.compile (trace, then replay)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    epochs = args.epochs if args.epochs is not None else (5 if args.smoke else 12)
    show_progress = not args.no_progress and sys.stdout.isatty()

    torch.manual_seed(args.seed)
    device = pick_device(args.device)
    x_train, y_train, x_test, y_test = load_data(args.seed)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(args.seed))

    model = DigitsCNN().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    train_fwd = torch.compile(model) if args.compile else model
    print(f"device: {device}  train: {len(y_train)}  test: {len(y_test)}  epochs: {epochs}")

    accuracy = 0.0
    for epoch in range(1, epochs + 1):
        model.train()
        start = time.perf_counter()
        total_loss, seen = 0.0, 0
        bar = progress(loader, show_progress, desc=f"epoch {epoch}/{epochs}", leave=False)
        for xb, yb in bar:
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad()
            loss = F.cross_entropy(train_fwd(xb), yb)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(yb)
            seen += len(yb)
            if show_progress:
                bar.set_postfix(loss=f"{loss.item():.3f}")
        elapsed = time.perf_counter() - start
        accuracy = evaluate(model, x_test, y_test, device)
        print(f"epoch {epoch:2d}  loss {total_loss / seen:.4f}  test accuracy {accuracy:.4f}  "
              f"time/epoch {elapsed:.2f}s")
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
