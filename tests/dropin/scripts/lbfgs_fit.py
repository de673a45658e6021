"""Fit a damped oscillation y = A * exp(-k t) * cos(w t + phi) + c to noisy samples with L-BFGS.

Written as a PyTorch user would: a Module holding the curve's parameters, the closure protocol, the
strong-Wolfe line search, float64, and torch.testing.assert_close to check the recovered parameters.
"""
import argparse

import torch
import torch.nn as nn


class DampedCosine(nn.Module):
    def __init__(self):
        super().__init__()
        # a rough first guess, as one would read it off a plot
        self.amp = nn.Parameter(torch.tensor(1.0))
        self.decay = nn.Parameter(torch.tensor(0.3))
        self.omega = nn.Parameter(torch.tensor(2.5))
        self.phase = nn.Parameter(torch.tensor(0.0))
        self.offset = nn.Parameter(torch.tensor(0.0))

    def forward(self, t):
        return self.amp * torch.exp(-self.decay * t) * torch.cos(self.omega * t + self.phase) + self.offset


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=15)
    args = parser.parse_args()

    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    t = torch.linspace(0, 6, 200)
    true = dict(amp=1.7, decay=0.45, omega=3.0, phase=0.4, offset=0.25)
    clean = true["amp"] * torch.exp(-true["decay"] * t) * torch.cos(true["omega"] * t + true["phase"]) + true["offset"]
    # deterministic "noise" so both frameworks fit the very same samples
    y = clean + 0.01 * torch.sin(37.0 * t) * torch.cos(11.0 * t)

    model = DampedCosine()
    opt = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=20, history_size=10, line_search_fn="strong_wolfe")
    loss_fn = nn.MSELoss()

    def closure():
        opt.zero_grad()
        loss = loss_fn(model(t), y)
        loss.backward()
        return loss

    with torch.no_grad():
        initial = loss_fn(model(t), y).item()
    print(f"initial_loss={initial:.6f}")
    for step in range(args.steps):
        loss = opt.step(closure)
        if step % 5 == 0:
            print(f"step {step:2d}  loss {loss.item():.3e}")
    with torch.no_grad():
        final = loss_fn(model(t), y).item()
    got = torch.stack([model.amp, model.decay, model.omega, model.phase, model.offset]).detach()
    want = torch.tensor([true[k] for k in ("amp", "decay", "omega", "phase", "offset")])
    torch.testing.assert_close(got, want, rtol=0.0, atol=0.02)
    print("fitted " + " ".join(f"{k}={v:.4f}" for k, v in zip(true, got.tolist())))
    print(f"final_loss={final:.8f}")


if __name__ == "__main__":
    main()
