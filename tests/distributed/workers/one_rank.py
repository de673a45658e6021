"""Collectives and a DDP step on ONE rank, for any backend (argv[1]) and device (argv[2]).

No mpiexec needed (MPI's singleton start). On CUDA with "nccl" this is the first thing to run on a GPU
machine: it exercises NCCL bootstrapping, every NCCL collective and DDP's buckets on device memory.
"""
import sys

import numpy as np

import tinytorch as torch
import tinytorch.distributed as dist
import tinytorch.nn as nn
from tinytorch.nn.parallel import DistributedDataParallel as DDP

backend, device = sys.argv[1], sys.argv[2]
dist.init_process_group(backend)
assert dist.get_world_size() == 1 and dist.get_rank() == 0


def ok(name, got, want):
    np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-6, err_msg=name)
    print(f"PASS {name}", flush=True)


x = np.arange(6, dtype=np.float32).reshape(2, 3) + 1
for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX, dist.ReduceOp.PRODUCT):
    t = torch.tensor(x, device=device)
    dist.all_reduce(t, op=op)
    ok(f"all_reduce_{op.name}", t, x)
t = torch.tensor(x, device=device, dtype=torch.bfloat16)  # AVG on bfloat16 (torch allows it)
dist.all_reduce(t, op=dist.ReduceOp.AVG)
ok("all_reduce_AVG_bfloat16", t.float(), x)
t = torch.tensor(x, device=device)
dist.all_reduce(t, async_op=True).wait()
ok("all_reduce_async", t, x)
t = torch.tensor(x, device=device)
dist.broadcast(t, src=0)
ok("broadcast", t, x)
t = torch.tensor(x, device=device)
dist.reduce(t, dst=0)
ok("reduce", t, x)
out = torch.zeros(2, 3, device=device)
dist.all_gather_into_tensor(out, torch.tensor(x, device=device))
ok("all_gather_into_tensor", out, x)
outs = [torch.zeros(2, 3, device=device)]
dist.all_gather(outs, torch.tensor(x, device=device))
ok("all_gather", outs[0], x)
out = torch.zeros(2, 3, device=device)
dist.reduce_scatter_tensor(out, torch.tensor(x, device=device))
ok("reduce_scatter_tensor", out, x)
lst = [torch.zeros(2, 3, device=device)]
dist.gather(torch.tensor(x, device=device), lst, dst=0)
ok("gather", lst[0], x)
t = torch.zeros(2, 3, device=device)
dist.scatter(t, [torch.tensor(x, device=device)], src=0)
ok("scatter", t, x)
out = torch.zeros(2, 3, device=device)
dist.all_to_all_single(out, torch.tensor(x, device=device))
ok("all_to_all_single", out, x)
dist.barrier()

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2)).to(device)
ref = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2)).to(device)
ref.load_state_dict(model.state_dict())
ddp = DDP(model, bucket_cap_mb=0.0001)
inp = torch.tensor(x, device=device)
ddp(inp).square().sum().backward()
ref(inp).square().sum().backward()
for p, q in zip(model.parameters(), ref.parameters()):
    ok("ddp_one_rank_grad", p.grad, q.grad.cpu().numpy())
dist.destroy_process_group()
print("ALL PASSED", flush=True)
