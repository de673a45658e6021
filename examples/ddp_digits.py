"""Data-parallel training of an MLP on scikit-learn's digits: a PyTorch DDP script, run by tinytorch.

Written as a torch user writes it (init_process_group("gloo"), DistributedSampler, the DDP wrapper,
rank-0 checkpointing with barriers); only the import says tinytorch. Start it with the launcher:

    python -m tinytorch.distributed.run --nproc_per_node=2 examples/ddp_digits.py
    python -m tinytorch.distributed.run --nproc_per_node=2 examples/ddp_digits.py --smoke --checkpoint /tmp/ddp.pt
    mpiexec -n 2 python examples/ddp_digits.py        # plain MPI works too
    python examples/ddp_digits.py                     # or one process

Each rank trains on its shard of every epoch; DDP averages the gradients, so the replicas stay equal.
"""
from __future__ import annotations

import argparse

import numpy as np

import tinytorch as torch
import tinytorch.distributed as dist
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.nn.parallel import DistributedDataParallel as DDP
from tinytorch.utils.data import DataLoader, TensorDataset
from tinytorch.utils.data.distributed import DistributedSampler


def load_digits(seed=0):
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    test, train = order[:360], order[360:]
    return (TensorDataset(torch.from_numpy(x[train]), torch.from_numpy(y[train])),
            TensorDataset(torch.from_numpy(x[test]), torch.from_numpy(y[test])))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32, help="per rank")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--checkpoint", default=None, help="rank 0 saves here; every rank loads it back")
    p.add_argument("--smoke", action="store_true", help="3 epochs")
    args = p.parse_args(argv)
    if args.smoke:
        args.epochs = 3

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)

    train_set, test_set = load_digits()
    sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True, seed=0)
    loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler)
    model = DDP(nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)))
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)

    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # a different shuffle per epoch, the same on every rank
        model.train()
        total = torch.zeros(2)
        for x, y in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()  # gradients are averaged over the ranks here
            opt.step()
            total += torch.tensor([loss.item() * len(y), float(len(y))])
        dist.all_reduce(total)  # the epoch's mean loss over every rank's samples
        if rank == 0:
            print(f"epoch {epoch}: loss {total[0].item() / total[1].item():.4f}", flush=True)

    model.eval()
    with torch.no_grad():
        xs, ys = test_set.tensors
        acc = (model(xs).argmax(1) == ys).float().mean().item()

    if args.checkpoint:
        if rank == 0:
            torch.save(model.module.state_dict(), args.checkpoint)
        dist.barrier()  # the file is complete before anyone reads it
        state = torch.load(args.checkpoint, map_location="cpu")
        model.module.load_state_dict(state)
        dist.barrier()  # nobody rewrites it while another rank still reads

    # the replicas never drifted apart: every rank holds rank 0's parameters
    flat = torch.cat([q.detach().reshape(-1) for q in model.parameters()])
    ref = flat.clone()
    dist.broadcast(ref, src=0)
    same = bool(torch.equal(flat, ref))
    if rank == 0:
        print(f"test accuracy {acc:.4f} on {world} rank(s); replicas identical: {same}", flush=True)
    dist.destroy_process_group()
    return acc


if __name__ == "__main__":
    main()
