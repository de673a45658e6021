"""A tiny variational autoencoder on synthetic binary patterns, written with torch.distributions.

The data are 16-bit patterns: one of 4 prototypes with each bit flipped with probability 0.05.
The encoder outputs a diagonal Normal posterior (reparameterised with rsample), the decoder Bernoulli
logits; the loss is the negative ELBO with the KL term from kl_divergence against a standard Normal
prior. Printed losses are the negative ELBO on the whole data set, averaged over several posterior
draws (nats per example).
"""
import argparse

import torch
import torch.nn as nn
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

D_IN = 16
D_Z = 2


def make_data(n):
    prototypes = (torch.rand(4, D_IN) < 0.5).float()
    idx = torch.randint(0, 4, (n,))
    flips = (torch.rand(n, D_IN) < 0.05).float()
    return (prototypes[idx] + flips) % 2


class VAE(nn.Module):
    def __init__(self, hidden=64):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(D_IN, hidden), nn.ReLU(), nn.Linear(hidden, 2 * D_Z))
        self.dec = nn.Sequential(nn.Linear(D_Z, hidden), nn.ReLU(), nn.Linear(hidden, D_IN))

    def posterior(self, x):
        mu, log_std = self.enc(x).chunk(2, dim=-1)
        return Independent(Normal(mu, log_std.exp()), 1)

    def neg_elbo(self, x):
        q = self.posterior(x)
        z = q.rsample()
        likelihood = Independent(Bernoulli(logits=self.dec(z)), 1)
        prior = Independent(Normal(torch.zeros_like(z), torch.ones_like(z)), 1)
        return (kl_divergence(q, prior) - likelihood.log_prob(x)).mean()


def evaluate(model, x, draws=20):
    with torch.no_grad():
        return sum(model.neg_elbo(x).item() for _ in range(draws)) / draws


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--lr", type=float, default=0.01)
    args = parser.parse_args()

    torch.manual_seed(0)
    x = make_data(512)
    model = VAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    initial = evaluate(model, x)
    print(f"initial negative ELBO {initial:.4f}")
    for step in range(args.steps):
        batch = x[torch.randint(0, x.size(0), (64,))]
        loss = model.neg_elbo(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 100 == 0:
            print(f"step {step}: {loss.item():.4f}")
    final = evaluate(model, x)
    print(f"final negative ELBO {final:.4f}")
    print(f"initial_loss={initial:.6f}")
    print(f"final_loss={final:.6f}")


if __name__ == "__main__":
    main()
