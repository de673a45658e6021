"""Wrong usage on 2 ranks: every rank gets a clear error, nobody hangs, and the group stays usable."""
import datetime
import time

import numpy as np

from _report import record  # workers/_report.py, next to this script
import tinytorch as torch
import tinytorch.distributed as dist

dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
r, n = dist.get_rank(), dist.get_world_size()
assert n == 2


def expect(name, exc, match, fn):
    try:
        fn()
    except exc as e:
        assert match in str(e), (name, str(e))
        record(r, name, str(e))
        return
    raise AssertionError(f"{name}: no {exc.__name__} on rank {r}")


expect("shape_mismatch", RuntimeError, "rank 0: all_reduce(ReduceOp.SUM) on float32 (2,); rank 1: all_reduce("
       "ReduceOp.SUM) on float32 (3,)", lambda: dist.all_reduce(torch.ones(2 + r)))
expect("dtype_mismatch", RuntimeError, "float64", lambda: dist.all_reduce(torch.ones(2, dtype=[torch.float32,
                                                                                               torch.float64][r])))
expect("op_mismatch", RuntimeError, "rank 1: all_reduce",
       lambda: dist.broadcast(torch.ones(2), 0) if r == 0 else dist.all_reduce(torch.ones(2)))
expect("reduce_op_mismatch", RuntimeError, "ReduceOp.MAX",
       lambda: dist.all_reduce(torch.ones(2), op=[dist.ReduceOp.SUM, dist.ReduceOp.MAX][r]))
expect("root_mismatch", RuntimeError, "rooted at group rank 1", lambda: dist.broadcast(torch.ones(2), src=r))
expect("non_contiguous", RuntimeError, "contiguous", lambda: dist.all_reduce(torch.ones(2, 3).t()))
expect("avg_int", TypeError, "ReduceOp.AVG needs a floating", lambda: dist.all_reduce(
    torch.ones(2, dtype=torch.int64), op=dist.ReduceOp.AVG))
expect("bad_op", ValueError, "op must be a ReduceOp", lambda: dist.all_reduce(torch.ones(2), op="median"))
expect("all_gather_list", ValueError, "world_size=2", lambda: dist.all_gather([torch.ones(2)], torch.ones(2)))
expect("all_gather_into_tensor_size", ValueError, "world_size=2 times",
       lambda: dist.all_gather_into_tensor(torch.zeros(3), torch.ones(2)))
expect("bad_src", ValueError, "src=5 is not a rank", lambda: dist.broadcast(torch.ones(2), src=5))
expect("gather_list_off_root", ValueError, "must NOT be specified",
       lambda: dist.gather(torch.ones(2), [torch.ones(2), torch.ones(2)], dst=1 - r))
expect("all_to_all_splits", RuntimeError, "disagree", lambda: dist.all_to_all_single(
    torch.zeros(3), torch.zeros(3), [1, 2] if r == 0 else [2, 1], [1, 2]))
expect("tensor_type", TypeError, "must be a Tensor", lambda: dist.all_reduce(np.ones(2)))

# a receive buffer of the wrong size: a clear error, and the message can still be received
if r == 0:
    dist.send(torch.arange(3, dtype=torch.float64), dst=1)
else:
    expect("recv_size", RuntimeError, "sent 24 bytes", lambda: dist.recv(torch.zeros(4, dtype=torch.float64), 0))
    t = torch.zeros(3, dtype=torch.float64)
    assert dist.recv(t, 0) == 0 and t.tolist() == [0.0, 1.0, 2.0]
    record(r, "recv_after_error")

# the group still works after all of that
t = torch.ones(2) * (r + 1)
dist.all_reduce(t)
assert t.tolist() == [3.0, 3.0], t
record(r, "still_usable")

# a rank that does not show up: the other times out with DistBackendError instead of hanging
if r == 0:
    t0 = time.monotonic()
    expect("timeout", dist.DistBackendError, "timed out after 1 s",
           lambda: dist.barrier(timeout=datetime.timedelta(seconds=1)))
    assert time.monotonic() - t0 < 30
    dist.group.WORLD.comm.Ibarrier().Wait()  # pairs with rank 1's (whose fingerprint completed our pending one)
else:
    time.sleep(2.5)
    dist.barrier()
    record(r, "timeout")
