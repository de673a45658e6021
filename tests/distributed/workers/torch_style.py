"""A PyTorch DDP script that says `import torch`: the same file runs under torchrun and, through
tinytorch.alias, under tinytorch's launcher."""
import os
import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("gloo")
rank = int(os.environ["RANK"])
torch.manual_seed(rank)
model = DDP(nn.Linear(4, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x = torch.randn(8, 4)
loss = model(x).pow(2).mean()
loss.backward()
opt.step()
w = model.module.weight.detach().clone()
dist.all_reduce(w, op=dist.ReduceOp.MAX)
got = [None] * dist.get_world_size()
dist.all_gather_object(got, (rank, torch.equal(w, model.module.weight.detach()), torch.__name__))
if rank == 0:
    print("TORCHY", got, flush=True)
dist.barrier()  # no rank tears down while another still talks (torch's gloo can abort otherwise)
dist.destroy_process_group()
