"""DistributedDataParallel on N ranks against single-process training on the whole batch (float64).

Every rank also trains the reference model itself (on all ranks' data), so no second job is needed.
Records ``rank R PASS name`` per check (workers/_report.py).
"""
import numpy as np

from _report import record  # workers/_report.py, next to this script
import tinytorch as torch
import tinytorch.distributed as dist
import tinytorch.nn as nn
from tinytorch.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("gloo")
r, n = dist.get_rank(), dist.get_world_size()
torch.set_default_dtype(torch.float64)
TOL = dict(rtol=1e-10, atol=1e-12)


def passed(name):
    record(r, name)


def mlp(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3))


def data(seed, rows):
    g = np.random.default_rng(seed)
    return torch.tensor(g.standard_normal((rows, 5))), torch.tensor(g.standard_normal((rows, 3)))


def close(a, b, what):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), err_msg=f"{what} on rank {r}", **TOL)


def params_equal_everywhere(model, what):
    for name, p in model.named_parameters():
        allp = [torch.zeros_like(p) for _ in range(n)]
        dist.all_gather(allp, p.detach().contiguous())
        for q in allp[1:]:
            close(q, allp[0], f"{what}: {name} differs across ranks")


# ---- 1. N steps of DDP == N steps on the concatenated batch -----------------------------------
model = mlp(seed=100 + r)  # different on every rank: construction must broadcast rank 0's
ddp = DDP(model, bucket_cap_mb=0.001)  # ~1 KB buckets: several buckets, launched during backward
assert len(ddp._buckets) > 2, len(ddp._buckets)
params_equal_everywhere(model, "after construction")
passed("broadcast_at_construction")
ref = mlp(seed=100)
for p, q in zip(ref.parameters(), model.parameters()):
    close(p, q, "rank 0's init")
opt = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
for step in range(6):
    xs, ys = zip(*[data(1000 * step + k, 4) for k in range(n)])  # rank k's shard of this step's batch
    opt.zero_grad()
    nn.functional.mse_loss(ddp(xs[r]), ys[r]).backward()
    opt.step()
    ref_opt.zero_grad()
    nn.functional.mse_loss(ref(torch.cat(xs)), torch.cat(ys)).backward()
    ref_opt.step()
for (name, p), q in zip(model.named_parameters(), ref.parameters()):
    close(p, q, f"after 6 steps: {name}")
passed("ddp_equals_full_batch")
assert sorted(ddp.state_dict())[0].startswith("module.") and ddp.module is model
assert set(ddp.state_dict()) == {"module." + k for k in model.state_dict()}
passed("state_dict_prefix")

# ---- 1b. buckets are launched during backward, before the first layer's gradient exists ---------
m1b = mlp(seed=5)
seen = []
# registered before DDP's own hooks, so it runs first: at that moment the later layers' buckets must be
# in flight already (the first layer's gradient is the last one backward produces)
m1b[0].weight.register_post_accumulate_grad_hook(
    lambda p: seen.append((d1b._next_bucket, d1b._buckets[0].work is not None, d1b._finished)))
d1b = DDP(m1b, bucket_cap_mb=0.001)
x, y = data(77 + r, 4)
nn.functional.mse_loss(d1b(x), y).backward()
assert len(seen) == 1 and seen[0][0] >= 1 and seen[0][1] and not seen[0][2], (seen, len(d1b._buckets))
assert d1b._finished
passed("buckets_launched_during_backward")

# ---- 2. gradient_as_bucket_view gives the same gradients ---------------------------------------
m2 = mlp(seed=7)
d2 = DDP(m2, gradient_as_bucket_view=True)
x, y = data(55 + r, 4)
nn.functional.mse_loss(d2(x), y).backward()
ref = mlp(seed=7)
xs, ys = zip(*[data(55 + k, 4) for k in range(n)])
nn.functional.mse_loss(ref(torch.cat(xs)), torch.cat(ys)).backward()
for p, q in zip(m2.parameters(), ref.parameters()):
    close(p.grad, q.grad, "gradient_as_bucket_view")
passed("gradient_as_bucket_view")

# ---- 3. no_sync: accumulate locally, average the sum on the next synced backward ----------------
m3 = mlp(seed=3)
d3 = DDP(m3, bucket_cap_mb=0.001)
(x1, y1), (x2, y2) = data(300 + r, 4), data(400 + r, 4)
with d3.no_sync():
    nn.functional.mse_loss(d3(x1), y1).backward()
g_local = m3[0].weight.grad.clone()
allg = [torch.zeros_like(g_local) for _ in range(n)]
dist.all_gather(allg, g_local)
assert not np.allclose(allg[0].numpy(), allg[-1].numpy()), "no_sync still communicated"
nn.functional.mse_loss(d3(x2), y2).backward()
ref = mlp(seed=3)
total = 0
for k in range(n):
    (a1, b1), (a2, b2) = data(300 + k, 4), data(400 + k, 4)
    total = total + nn.functional.mse_loss(ref(a1), b1) + nn.functional.mse_loss(ref(a2), b2)
(total / n).backward()
for (name, p), q in zip(m3.named_parameters(), ref.parameters()):
    close(p.grad, q.grad, f"no_sync accumulation: {name}")
passed("no_sync_accumulation")


# ---- 4. uneven parameter usage with find_unused_parameters=True ---------------------------------
class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(11)
        self.trunk = nn.Linear(5, 4)
        self.b = nn.Linear(4, 3)  # used on rank 0 only
        self.c = nn.Linear(4, 3)  # used nowhere
        self.d = nn.Linear(4, 3)  # used on every rank

    def forward(self, x, use_b):
        h = self.trunk(x).tanh()
        return self.d(h) + (self.b(h) if use_b else 0)


m4 = Branchy()
d4 = DDP(m4, find_unused_parameters=True)
for it in range(2):  # twice: the second iteration must not trip over the first
    d4.zero_grad()
    x, y = data(500 + r, 4)
    nn.functional.mse_loss(d4(x, use_b=(r == 0)), y).backward()
ref = Branchy()
grads = {}
for k in range(n):
    ref.zero_grad()
    x, y = data(500 + k, 4)
    nn.functional.mse_loss(ref(x, use_b=(k == 0)), y).backward()
    for name, p in ref.named_parameters():
        if p.grad is not None:
            grads[name] = grads.get(name, 0) + p.grad / n
for name, p in m4.named_parameters():
    if name.startswith("c."):
        assert p.grad is None, f"{name} is unused on every rank: its grad should stay None"
    else:
        close(p.grad, grads[name], f"find_unused_parameters: {name}")
passed("find_unused_parameters")

# ---- 5. an unused parameter without the flag: the next forward names it ------------------------
m5 = Branchy()
d5 = DDP(m5)
x, y = data(600 + r, 4)
nn.functional.mse_loss(d5(x, use_b=False), y).backward()
try:
    d5(x, use_b=False)
except RuntimeError as e:
    msg = str(e)
    assert "find_unused_parameters=True" in msg and "b.weight" in msg and "c.bias" in msg and "d.weight" not in msg, msg
    passed("unused_without_flag_names_them")
else:
    raise AssertionError("no error for unused parameters")


# ---- 6. buffers follow rank 0 at every forward ------------------------------------------------
class WithBuffer(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(5, 3)
        self.register_buffer("stat", torch.zeros(3))

    def forward(self, x):
        self.stat.add_(float(dist.get_rank() + 1))  # each rank drifts differently
        return self.lin(x) + self.stat


m6 = WithBuffer()
d6 = DDP(m6)
for _ in range(3):
    d6(data(1, 2)[0]).sum().backward()
assert m6.stat.tolist() == [2.0 + r + 1] * 3, m6.stat  # rank 0's 2.0 (broadcast), then this rank's step
passed("broadcast_buffers")

# ---- 7. replicas that differ are refused at construction, on every rank -------------------------
try:
    DDP(nn.Linear(5, 3 + r))
except RuntimeError as e:
    assert "differ across ranks" in str(e) and "weight" in str(e), str(e)
    passed("mismatched_replicas")
else:
    raise AssertionError("no error for different models")
dist.destroy_process_group()
