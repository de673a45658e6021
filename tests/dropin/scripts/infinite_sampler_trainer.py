"""A minGPT-style trainer: an "infinite" RandomSampler (replacement=True, num_samples=int(1e10)) feeds a
DataLoader, and the loop pulls batches with next() for a fixed number of iterations."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.sampler import RandomSampler


class Parity(Dataset):
    """6-bit vectors (as +-1 floats) labelled by a fixed nonlinear rule, 10% of labels flipped (a loss floor)."""

    def __init__(self, repeats=8):
        # every 6-bit pattern `repeats` times, every 10th label flipped: the same data under any framework
        codes = torch.arange(64).repeat(repeats)
        bits = (codes.unsqueeze(1) // (2 ** torch.arange(6))) % 2
        self.x = bits.float() * 2 - 1
        y = ((self.x[:, 0] * self.x[:, 1] + self.x[:, 2] - self.x[:, 3]) > 0).long()
        flip = (torch.arange(len(codes)) % 10 == 0).long()
        self.y = (y + flip) % 2

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


class Trainer:
    def __init__(self, model, dataset, max_iters, batch_size, lr):
        self.model, self.dataset = model, dataset
        self.max_iters, self.batch_size = max_iters, batch_size
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)

    def run(self):
        loader = DataLoader(
            self.dataset,
            sampler=RandomSampler(self.dataset, replacement=True, num_samples=int(1e10)),
            shuffle=False,
            pin_memory=False,
            batch_size=self.batch_size,
            num_workers=0,
        )
        print(f"loader length {len(loader)}")
        self.model.train()
        it = 0
        data_iter = iter(loader)
        while True:
            try:
                x, y = next(data_iter)
            except StopIteration:
                data_iter = iter(loader)
                x, y = next(data_iter)
            logits = self.model(x)
            loss = F.cross_entropy(logits, y)
            self.model.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            self.optimizer.step()
            if it % 100 == 0:
                print(f"iter {it}: train loss {loss.item():.5f}")
            it += 1
            if it >= self.max_iters:
                break


def evaluate(model, ds):
    model.eval()
    with torch.no_grad():
        return F.cross_entropy(model(ds.x), ds.y).item()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--iters", type=int, default=600)
    args = parser.parse_args()
    torch.manual_seed(0)
    ds = Parity()
    model = nn.Sequential(nn.Linear(6, 32), nn.GELU(), nn.Linear(32, 32), nn.GELU(), nn.Linear(32, 2))
    initial = evaluate(model, ds)
    Trainer(model, ds, max_iters=args.iters, batch_size=32, lr=3e-3).run()
    final = evaluate(model, ds)
    print(f"initial_loss={initial:.6f}")
    print(f"final_loss={final:.6f}")


if __name__ == "__main__":
    main()
