"""A CNN on MNIST read from local IDX files, trained with ``tinytorch.train.fit``.

tinytorch never downloads anything. Put the four MNIST files (gzipped or not) in a folder:

    examples/data/mnist/train-images-idx3-ubyte.gz    examples/data/mnist/train-labels-idx1-ubyte.gz
    examples/data/mnist/t10k-images-idx3-ubyte.gz     examples/data/mnist/t10k-labels-idx1-ubyte.gz

(``--data DIR`` points elsewhere; torchvision's ``DIR/MNIST/raw`` layout works too), then

    python examples/mnist.py                          # 3 epochs, ~99% test accuracy on real MNIST
    python examples/mnist.py --device cuda --epochs 10

Without the real files, ``--write-digits-idx DIR`` writes scikit-learn's bundled 8x8 digits,
upscaled to 28x28, as the same four IDX files, so the whole pipeline can be tried offline:

    python examples/mnist.py --write-digits-idx /tmp/digits-idx && python examples/mnist.py --data /tmp/digits-idx

The picture (``--out``) is written by the ``LivePlot`` callback: loss curves and the test-set
confusion matrix.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.train import EarlyStopping, LivePlot, ProgressBar, fit
from tinytorch.utils.data import MNIST, DataLoader, write_idx

HERE = pathlib.Path(__file__).resolve().parent
MEAN, STD = 0.1307, 0.3081  # MNIST's pixel statistics


class Net(nn.Module):
    """Conv(1->16) ReLU MaxPool -> Conv(16->32) ReLU MaxPool -> Dropout -> Linear(32*7*7 -> 10)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)    # (N, 16, 28, 28)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)   # (N, 32, 14, 14)
        self.dropout = nn.Dropout(0.25)
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)     # (N, 16, 14, 14)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)     # (N, 32, 7, 7)
        return self.fc(self.dropout(torch.flatten(x, 1)))


def normalize(img: np.ndarray):
    """(28, 28) uint8 -> (1, 28, 28) float32 standardised tensor (what ToTensor + Normalize give)."""
    return torch.from_numpy(((img.astype(np.float32) / 255.0 - MEAN) / STD)[None])


def write_digits_idx(root: pathlib.Path) -> None:
    """scikit-learn's 8x8 digits, upscaled x3 and padded to 28x28, written as MNIST-named IDX files."""
    from sklearn.datasets import load_digits

    d = load_digits()
    imgs = np.kron(d.images / 16.0, np.ones((3, 3)))                     # (N, 24, 24)
    imgs = np.pad(imgs, ((0, 0), (2, 2), (2, 2)))
    imgs = (imgs * 255).round().astype(np.uint8)
    order = np.random.default_rng(0).permutation(len(imgs))
    test, train = order[:360], order[360:]
    root.mkdir(parents=True, exist_ok=True)
    for prefix, idx in (("train", train), ("t10k", test)):
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz", imgs[idx])
        write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", d.target[idx].astype(np.uint8))
    print(f"wrote {len(train)} training and {len(test)} test images (scikit-learn digits, 28x28) to {root}")


def pick_device(name: str):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def main(argv=None) -> float:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto", choices=["cpu", "cuda", "auto"])
    p.add_argument("--data", type=pathlib.Path, default=HERE / "data" / "mnist")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--smoke", action="store_true", help="one epoch on at most 512 images (for tests)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=pathlib.Path, default=HERE / "images" / "mnist.png")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--write-digits-idx", type=pathlib.Path, metavar="DIR",
                   help="write scikit-learn's digits as MNIST-style IDX files into DIR and exit")
    args = p.parse_args(argv)
    if args.write_digits_idx is not None:
        write_digits_idx(args.write_digits_idx)
        return 0.0

    torch.manual_seed(args.seed)
    device = pick_device(args.device)
    try:
        train_set = MNIST(args.data, train=True, transform=normalize)
        test_set = MNIST(args.data, train=False, transform=normalize)
    except FileNotFoundError as e:
        print(e, file=sys.stderr)
        print(f"(or try the pipeline offline: python {sys.argv[0]} --write-digits-idx /tmp/digits-idx && "
              f"python {sys.argv[0]} --data /tmp/digits-idx)", file=sys.stderr)
        raise SystemExit(2) from None
    epochs = args.epochs
    if args.smoke:
        epochs = 1
        train_set = torch.utils.data.Subset(train_set, range(min(512, len(train_set))))
        test_set = torch.utils.data.Subset(test_set, range(min(256, len(test_set))))
    print(f"{len(train_set)} training and {len(test_set)} test images from {args.data}")

    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=256)
    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    history = fit(model, nn.CrossEntropyLoss(), optimizer, train_loader, test_loader, epochs=epochs,
                  device=device, metrics=["accuracy"],
                  callbacks=[ProgressBar(disable=True if args.no_progress else None),
                             EarlyStopping(monitor="val_loss", patience=2),
                             LivePlot(args.out, every=1)])
    acc = history["val_accuracy"][-1]
    print(f"test accuracy: {acc:.4f}  (picture: {args.out})")
    return acc


if __name__ == "__main__":
    main()
