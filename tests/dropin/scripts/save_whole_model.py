"""Train, keep the best model with torch.save(model, "best.pt"), reload it whole — once with
weights_only=False, once by allow-listing its classes with add_safe_globals — and continue training."""
import argparse
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.hidden = hidden
        self.body = nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.head(self.body(x))


def make_data(n, offset):
    # a deterministic grid and pseudo-noise, so torch and its stand-ins see the same data
    t = torch.linspace(-2, 2, n) + offset
    x = torch.stack(torch.meshgrid(t, t, indexing="ij"), dim=-1).reshape(-1, 2)
    y = torch.sin(x[:, :1] * 1.5) * torch.cos(x[:, 1:]) + 0.1 * x[:, :1]
    noise = torch.sin(x[:, :1] * 913.0 + x[:, 1:] * 377.0)  # in [-1, 1], uncorrelated with the target
    return x, y + 0.1 * noise


def train(model, x, y, steps, lr, on_eval=None):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for step in range(steps):
        model.train()
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        if on_eval is not None and step % 20 == 19:
            on_eval(step)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=400)
    args = parser.parse_args()
    torch.manual_seed(0)
    x, y = make_data(16, 0.0)
    xv, yv = make_data(11, 0.05)
    model = Net()

    def val_loss(m):
        m.eval()
        with torch.no_grad():
            return F.mse_loss(m(xv), yv).item()

    initial = val_loss(model)
    with tempfile.TemporaryDirectory() as d:
        best_path = os.path.join(d, "best.pt")
        best = [float("inf")]

        def on_eval(step):
            v = val_loss(model)
            if v < best[0]:
                best[0] = v
                torch.save(model, best_path)
                print(f"step {step}: val {v:.5f} (saved)")

        train(model, x, y, args.steps, 1e-2, on_eval)

        # reload the best model whole: the explicit opt-out for a trusted file ...
        reloaded = torch.load(best_path, weights_only=False)
        assert isinstance(reloaded, Net) and reloaded.hidden == 32
        assert abs(val_loss(reloaded) - best[0]) < 1e-6, (val_loss(reloaded), best[0])
        # ... and the weights_only=True path, allowing exactly the classes the file holds
        torch.serialization.add_safe_globals([Net, nn.Sequential, nn.Linear, nn.Tanh])
        model = torch.load(best_path)
        assert torch.equal(model(xv), reloaded(xv))
    print(f"best val {best[0]:.5f}; continuing from the reloaded model")
    train(model, x, y, args.steps, 3e-3)
    final = val_loss(model)
    print(f"initial_loss={initial:.6f}")
    print(f"final_loss={final:.6f}")


if __name__ == "__main__":
    main()
