"""Fit a small MLP to a noisy 1-D function with SGD + momentum and a StepLR schedule."""
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import StepLR


def make_data(n, noise=0.05):
    x = torch.linspace(-math.pi, math.pi, n).unsqueeze(1)
    y = torch.sin(2 * x) + 0.5 * x + noise * torch.randn_like(x)
    return x, y


class MLP(nn.Module):
    def __init__(self, hidden=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(1, hidden),
            nn.Tanh(),
            nn.Linear(hidden, hidden),
            nn.Tanh(),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return self.net(x)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--lr", type=float, default=0.05)
    args = parser.parse_args()

    torch.manual_seed(0)
    x, y = make_data(256)
    perm = torch.randperm(x.size(0))
    x, y = x[perm], y[perm]
    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    scheduler = StepLR(optimizer, step_size=75, gamma=0.3)

    with torch.no_grad():
        initial = F.mse_loss(model(x), y).item()
    print(f"initial loss {initial:.4f}")

    batch_size = 32
    for epoch in range(args.epochs):
        model.train()
        total = 0.0
        for i in range(0, x.size(0), batch_size):
            xb, yb = x[i:i + batch_size], y[i:i + batch_size]
            optimizer.zero_grad()
            loss = F.mse_loss(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * xb.size(0)
        scheduler.step()
        if epoch % 50 == 0 or epoch == args.epochs - 1:
            print(f"epoch {epoch:4d}  loss {total / x.size(0):8.5f}  lr {scheduler.get_last_lr()[0]:.4g}")

    model.eval()
    with torch.no_grad():
        final = F.mse_loss(model(x), y).item()
    print(f"initial_loss={initial:.6f}")
    print(f"final_loss={final:.6f}")


if __name__ == "__main__":
    main()
