"""Character-level language model: Embedding + GRU + Linear on a small in-script text."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, Sampler

TEXT = """
The quick brown fox jumps over the lazy dog. The dog sleeps in the sun and the fox runs into the woods.
A bird sings in the tree while the cat watches from the window. The sun sets and the stars come out.
The fox comes back to look at the dog, but the dog is still asleep under the old oak tree.
""" * 4


class CharDataset(Dataset):
    def __init__(self, text, block_size):
        chars = sorted(set(text))
        self.stoi = {c: i for i, c in enumerate(chars)}
        self.itos = {i: c for c, i in self.stoi.items()}
        self.vocab_size = len(chars)
        self.block_size = block_size
        self.data = torch.tensor([self.stoi[c] for c in text], dtype=torch.long)

    def __len__(self):
        return len(self.data) - self.block_size - 1

    def __getitem__(self, idx):
        chunk = self.data[idx:idx + self.block_size + 1]
        return chunk[:-1], chunk[1:]


class InfiniteRandomSampler(Sampler):
    """Yields random indices forever; the training loop decides when to stop."""

    def __init__(self, data_source, seed=0):
        self.n = len(data_source)
        self.generator = torch.Generator()
        self.generator.manual_seed(seed)

    def __iter__(self):
        while True:
            yield from torch.randperm(self.n, generator=self.generator).tolist()


class CharRNN(nn.Module):
    def __init__(self, vocab_size, emb=32, hidden=64, num_layers=1):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, emb)
        self.rnn = nn.GRU(emb, hidden, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, idx, h=None):
        out, h = self.rnn(self.embed(idx), h)
        return self.head(out), h


@torch.no_grad()
def sample(model, ds, prompt="The ", n=80, temperature=0.8):
    model.eval()
    idx = torch.tensor([[ds.stoi[c] for c in prompt]], dtype=torch.long)
    logits, h = model(idx)
    out = list(prompt)
    for _ in range(n):
        probs = F.softmax(logits[:, -1, :] / temperature, dim=-1)
        nxt = torch.multinomial(probs, num_samples=1)
        out.append(ds.itos[nxt.item()])
        logits, h = model(nxt, h)
    model.train()
    return "".join(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--block-size", type=int, default=16)
    args = parser.parse_args()

    torch.manual_seed(1337)
    ds = CharDataset(TEXT, args.block_size)
    loader = DataLoader(ds, batch_size=args.batch_size, sampler=InfiniteRandomSampler(ds), drop_last=True)
    model = CharRNN(ds.vocab_size)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    print(f"vocab {ds.vocab_size}, {sum(p.numel() for p in model.parameters()):,} parameters")

    losses = []
    for step, (x, y) in enumerate(loader):
        if step >= args.steps:
            break
        logits, _ = model(x)
        loss = F.cross_entropy(logits.view(-1, ds.vocab_size), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        opt.step()
        losses.append(loss.item())
        if step % 50 == 0:
            print(f"step {step:4d} | loss {loss.item():.4f}")

    print(sample(model, ds))
    initial = sum(losses[:10]) / 10
    final = sum(losses[-20:]) / 20
    print(f"initial_loss={initial:.6f}")
    print(f"final_loss={final:.6f}")


if __name__ == "__main__":
    main()
