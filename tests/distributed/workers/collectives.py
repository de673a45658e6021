"""Every collective on N ranks against a NumPy computation of the expected result.

Records ``rank R PASS name`` per check (workers/_report.py); a wrong result raises (and the job fails).
"""
import datetime

import numpy as np

from _report import record  # workers/_report.py, next to this script
import tinytorch as torch
import tinytorch.distributed as dist

dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
r, n = dist.get_rank(), dist.get_world_size()


def base(rank, dtype=np.float64, shape=(2, 3)):
    return (np.arange(np.prod(shape)).reshape(shape) + 10 * rank + 1).astype(dtype)


def ok(name, got, want):
    got = got.numpy() if isinstance(got, torch.Tensor) else np.asarray(got)
    np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=f"{name} on rank {r}")
    assert got.dtype == np.asarray(want).dtype, (name, got.dtype, np.asarray(want).dtype)
    record(r, name)


def every(dtype=np.float64, shape=(2, 3)):
    return np.stack([base(k, dtype, shape) for k in range(n)])


# all_reduce, every op, several dtypes
for op, fn in [("SUM", np.sum), ("PRODUCT", np.prod), ("MIN", np.min), ("MAX", np.max), ("AVG", np.mean)]:
    t = torch.tensor(base(r))
    assert dist.all_reduce(t, op=getattr(dist.ReduceOp, op)) is None
    ok(f"all_reduce_{op}", t, fn(every(), axis=0))
t = torch.tensor(base(r, np.int64))
dist.all_reduce(t)
ok("all_reduce_int64", t, every(np.int64).sum(0))
t = torch.tensor(base(r, np.float16))
dist.all_reduce(t)
ok("all_reduce_float16", t, every(np.float32).sum(0).astype(np.float16))
t = torch.tensor(base(r, np.float32))
dist.all_reduce(t, op=dist.ReduceOp.AVG)
ok("all_reduce_float32_AVG", t, every(np.float32).mean(0))
t = torch.tensor(np.array([r == 0, False, True]))
dist.all_reduce(t, op=dist.ReduceOp.MAX)
ok("all_reduce_bool", t, np.array([True, False, True]))

t = torch.tensor(np.array([0b1100 | r, 0b1010, r], dtype=np.int32))
dist.all_reduce(t, op=dist.ReduceOp.BOR)
ok("all_reduce_BOR", t, np.bitwise_or.reduce(np.array([[0b1100 | k, 0b1010, k] for k in range(n)], np.int32)))
t = torch.tensor(np.array([0b1100 | r, 0b1010, r], dtype=np.int32))
dist.all_reduce(t, op=dist.ReduceOp.BXOR)
ok("all_reduce_BXOR", t, np.bitwise_xor.reduce(np.array([[0b1100 | k, 0b1010, k] for k in range(n)], np.int32)))

# async handles: several in flight at once
ts = [torch.tensor(base(r) * k) for k in range(1, 4)]
works = [dist.all_reduce(x, async_op=True) for x in ts]
assert all(isinstance(w, dist.Work) for w in works)
for w in works:
    assert w.wait() is True and w.is_completed() and w.is_success()
for k, x in enumerate(ts, 1):
    ok(f"async_all_reduce_{k}", x, every().sum(0) * k)

# is_completed polls without blocking, and completing through it finishes the op (AVG's division)
t = torch.tensor(base(r))
w = dist.all_reduce(t, op=dist.ReduceOp.AVG, async_op=True)
while not w.is_completed():
    pass
ok("async_is_completed_polling", t, every().mean(0))

# broadcast from the last rank
t = torch.tensor(base(r))
dist.broadcast(t, src=n - 1)
ok("broadcast", t, base(n - 1))
t = torch.tensor(base(r, np.int32))
dist.broadcast(t, src=0, async_op=True).wait()
ok("broadcast_async_int32", t, base(0, np.int32))

# reduce to the last rank: others keep their input
t = torch.tensor(base(r))
dist.reduce(t, dst=n - 1, op=dist.ReduceOp.MAX)
ok("reduce", t, every().max(0) if r == n - 1 else base(r))

# all_gather (list), all_gather_into_tensor (concatenated and stacked)
outs = [torch.zeros(2, 3, dtype=torch.float64) for _ in range(n)]
dist.all_gather(outs, torch.tensor(base(r)))
ok("all_gather", torch.stack(outs), every())
out = torch.zeros(2 * n, 3, dtype=torch.float64)
dist.all_gather_into_tensor(out, torch.tensor(base(r)))
ok("all_gather_into_tensor", out, every().reshape(2 * n, 3))
out = torch.zeros(n, 2, 3, dtype=torch.float64)
dist.all_gather_into_tensor(out, torch.tensor(base(r)), async_op=True).wait()
ok("all_gather_into_tensor_stacked", out, every())

# reduce_scatter_tensor: rank k keeps slice k of the sum
inp = torch.tensor(base(r, shape=(2 * n, 3)))
out = torch.zeros(2, 3, dtype=torch.float64)
dist.reduce_scatter_tensor(out, inp)
ok("reduce_scatter_tensor", out, every(shape=(2 * n, 3)).sum(0)[2 * r:2 * r + 2])
dist.reduce_scatter_tensor(out, inp, op=dist.ReduceOp.AVG)
ok("reduce_scatter_tensor_AVG", out, every(shape=(2 * n, 3)).mean(0)[2 * r:2 * r + 2])

# gather to rank 0, scatter from the last rank
lst = [torch.zeros(2, 3, dtype=torch.float64) for _ in range(n)] if r == 0 else None
dist.gather(torch.tensor(base(r)), lst, dst=0)
if r == 0:
    ok("gather", torch.stack(lst), every())
else:
    record(r, "gather")
t = torch.zeros(2, 3, dtype=torch.float64)
src_list = [torch.tensor(base(k) * 100) for k in range(n)] if r == n - 1 else None
dist.scatter(t, src_list, src=n - 1)
ok("scatter", t, base(r) * 100)

# all_to_all_single: even split, then uneven splits (rank i sends i+j+1 rows to rank j)
inp = torch.tensor(np.arange(n * 2, dtype=np.float64) + 100 * r)
out = torch.zeros(n * 2, dtype=torch.float64)
dist.all_to_all_single(out, inp)
ok("all_to_all_single", out, np.concatenate([np.arange(2 * r, 2 * r + 2) + 100.0 * k for k in range(n)]))
send_sizes = [r + j + 1 for j in range(n)]
recv_sizes = [i + r + 1 for i in range(n)]
inp = torch.tensor(np.concatenate([np.full((s, 2), 10 * r + j, dtype=np.float64) for j, s in enumerate(send_sizes)]))
out = torch.zeros(sum(recv_sizes), 2, dtype=torch.float64)
dist.all_to_all_single(out, inp, recv_sizes, send_sizes)
ok("all_to_all_single_uneven", out,
   np.concatenate([np.full((s, 2), 10 * i + r, dtype=np.float64) for i, s in enumerate(recv_sizes)]))

# send / recv around a ring; isend / irecv
nxt, prv = (r + 1) % n, (r - 1) % n
t = torch.zeros(3, dtype=torch.float64)
if r % 2 == 0:
    dist.send(torch.tensor(base(r, shape=(3,))), dst=nxt)
    got_from = dist.recv(t, src=prv)
else:
    got_from = dist.recv(t)  # from any rank
    dist.send(torch.tensor(base(r, shape=(3,))), dst=nxt)
assert got_from == prv, (got_from, prv)
ok("send_recv", t, base(prv, shape=(3,)))
t = torch.zeros(3, dtype=torch.int64)
reqs = [dist.isend(torch.tensor(base(r, np.int64, (3,))), dst=nxt, tag=7), dist.irecv(t, src=prv, tag=7)]
for w in reqs:
    w.wait()
ok("isend_irecv", t, base(prv, np.int64, (3,)))

# batch_isend_irecv: both directions at once
t = torch.zeros(2, dtype=torch.float64)
works = dist.batch_isend_irecv([dist.P2POp(dist.isend, torch.tensor(base(r, shape=(2,))), nxt),
                                dist.P2POp(dist.irecv, t, prv)])
for w in works:
    w.wait()
ok("batch_isend_irecv", t, base(prv, shape=(2,)))

# objects
objs = [{"rank": r}, "x" * r, None] if r == 0 else [None, None, None]
dist.broadcast_object_list(objs, src=0)
assert objs == [{"rank": 0}, "", None], objs
record(r, "broadcast_object_list")
got = [None] * n
dist.all_gather_object(got, {"r": r, "sq": r * r})
assert got == [{"r": k, "sq": k * k} for k in range(n)], got
record(r, "all_gather_object")
got = [None] * n if r == 0 else None
dist.gather_object(("hi", r), got, dst=0)
assert r != 0 or got == [("hi", k) for k in range(n)], got
out = [None]
dist.scatter_object_list(out, [f"to {k}" for k in range(n)] if r == 0 else None, src=0)
assert out == [f"to {r}"], out
record(r, "object_gather_scatter")

# subgroups: the last rank alone, and every rank in reverse order
solo = dist.new_group([n - 1])
every_rev = dist.new_group(list(range(n))[::-1], sort_ranks=False)
t = torch.tensor(base(r))
if r == n - 1:
    assert dist.get_rank(solo) == 0 and dist.get_world_size(solo) == 1
    dist.all_reduce(t, group=solo)
    ok("new_group_member", t, base(r))
else:
    assert solo == dist.GroupMember.NON_GROUP_MEMBER
    assert dist.get_rank(solo) == -1 and dist.all_reduce(t, group=solo) is None
    ok("new_group_non_member", t, base(r))
assert dist.get_rank(every_rev) == n - 1 - r and dist.get_process_group_ranks(every_rev) == list(range(n))[::-1]
t = torch.tensor(base(r))
dist.broadcast(t, src=0, group=every_rev)  # src is a global rank
ok("new_group_broadcast_global_src", t, base(0))
t = torch.tensor(base(r))
dist.broadcast(t, group=every_rev, group_src=0)  # group rank 0 is global rank n-1
ok("new_group_broadcast_group_src", t, base(n - 1))
dist.destroy_process_group(every_rev)

assert dist.get_backend() == "gloo" and dist.is_initialized()
assert dist.barrier() is None
dist.barrier(async_op=True).wait()
dist.destroy_process_group()
assert not dist.is_initialized()
record(r, "teardown")
