"""Collectives on 2 ranks through the real MPI engine, and the errors of wrong usage."""
from __future__ import annotations

import re
import sys

import pytest

import tinytorch as torch
import tinytorch.distributed as dist

from .launch import check, run, run_ranks

COLLECTIVES = [
    "all_reduce_SUM", "all_reduce_PRODUCT", "all_reduce_MIN", "all_reduce_MAX", "all_reduce_AVG",
    "all_reduce_int64", "all_reduce_float16", "all_reduce_float32_AVG", "all_reduce_bool",
    "async_all_reduce_1", "async_all_reduce_2", "async_all_reduce_3", "async_is_completed_polling", "broadcast",
    "broadcast_async_int32",
    "reduce", "all_gather", "all_gather_into_tensor", "all_gather_into_tensor_stacked", "reduce_scatter_tensor",
    "reduce_scatter_tensor_AVG", "gather", "scatter", "all_to_all_single", "all_to_all_single_uneven",
    "send_recv", "isend_irecv", "batch_isend_irecv", "all_reduce_BOR", "all_reduce_BXOR", "broadcast_object_list", "all_gather_object", "object_gather_scatter",
    "new_group_broadcast_global_src", "new_group_broadcast_group_src", "teardown",
]
ERRORS = [
    "shape_mismatch", "dtype_mismatch", "op_mismatch", "reduce_op_mismatch", "root_mismatch", "non_contiguous",
    "avg_int", "bad_op", "all_gather_list", "all_gather_into_tensor_size", "bad_src", "gather_list_off_root",
    "all_to_all_splits", "tensor_type", "still_usable", "timeout",
]


def passed(cp) -> dict:
    """{check name: set of ranks that recorded it} of a finished ``run_ranks`` job (which must have succeeded)."""
    check(cp)
    got = {}
    for rank, name in re.findall(r"^rank (\d+) PASS (\w+)$", cp.results, re.M):
        got.setdefault(name, set()).add(int(rank))
    return got


@pytest.fixture(scope="module")
def collectives_run():
    return passed(run_ranks("collectives.py", timeout=180))


@pytest.fixture(scope="module")
def errors_run():
    return passed(run_ranks("errors.py", timeout=180))


@pytest.mark.parametrize("name", COLLECTIVES)
def test_collective_matches_numpy_on_2_ranks(collectives_run, name):
    assert collectives_run.get(name) == {0, 1}, f"{name} did not pass on both ranks: {collectives_run.get(name)}"


def test_new_group_member_and_non_member(collectives_run):
    assert collectives_run.get("new_group_member") == {1} and collectives_run.get("new_group_non_member") == {0}


@pytest.mark.parametrize("name", ERRORS)
def test_wrong_usage_raises_clearly_on_every_rank(errors_run, name):
    assert errors_run.get(name) == {0, 1}, f"{name}: {errors_run.get(name)}"


def test_recv_of_wrong_size_then_right_size(errors_run):
    assert errors_run.get("recv_size") == {1} and errors_run.get("recv_after_error") == {1}


# ---- single process: no MPI needed ---------------------------------------------------------------
def test_before_init_everything_raises_like_torch():
    assert not dist.is_initialized()
    for call in (dist.get_rank, dist.get_world_size, dist.barrier, lambda: dist.all_reduce(torch.ones(2)),
                 lambda: dist.broadcast(torch.ones(2), 0), dist.destroy_process_group, lambda: dist.new_group([0])):
        with pytest.raises(ValueError, match="Default process group has not been initialized"):
            call()
    with pytest.raises(ValueError, match="process group"):
        torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(2, 1))


@pytest.mark.parametrize("backend,match", [("ucc", "unsupported backend 'ucc'"), ("cpu:nccl", "NCCL cannot serve CPU"),
                                           ("cpu-gloo,cuda:x", "cannot parse backend")])
def test_unsupported_backend_is_named(backend, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        dist.init_process_group(backend)
    assert not dist.is_initialized()


def test_reduce_op_and_backend_names():
    assert {op.name for op in dist.ReduceOp} == {"SUM", "PRODUCT", "MIN", "MAX", "AVG", "BAND", "BOR", "BXOR"}
    assert dist.Backend("GLOO") == dist.Backend.GLOO == "gloo"
    assert issubclass(dist.DistBackendError, dist.DistError) and issubclass(dist.DistError, RuntimeError)


def test_is_available_follows_mpi4py():
    import importlib.util
    assert dist.is_available() == (importlib.util.find_spec("mpi4py") is not None)


_SINGLETON = """
import datetime, os, tinytorch as torch, tinytorch.distributed as dist
dist.init_process_group("mpi", world_size=1, rank=0, timeout=datetime.timedelta(seconds=30))
assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "mpi")
t = torch.arange(4.0); dist.all_reduce(t, op=dist.ReduceOp.AVG); assert t.tolist() == [0, 1, 2, 3]
try:
    dist.init_process_group("gloo")
except ValueError as e:
    assert "twice" in str(e)
else:
    raise AssertionError("double init")
dist.destroy_process_group(); assert not dist.is_initialized()
os.environ["WORLD_SIZE"] = "2"
try:
    dist.init_process_group("gloo")
except RuntimeError as e:
    assert "WORLD_SIZE=2 but MPI says this process is rank 0 of 1" in str(e) and "tinytorch.distributed.run" in str(e)
else:
    raise AssertionError("WORLD_SIZE mismatch")
del os.environ["WORLD_SIZE"]
if not torch.cuda.is_available():
    try:
        dist.init_process_group("nccl")
    except RuntimeError as e:
        assert "CUDA is not available" in str(e), e
    else:
        raise AssertionError("nccl without CUDA")
    assert not dist.is_initialized()
    dist.init_process_group()  # no backend: gloo on a CPU-only machine
    assert dist.get_backend() == "gloo"
    dist.destroy_process_group()
print("SINGLETON OK")
"""


def test_singleton_process_group_and_mismatched_world_size():
    pytest.importorskip("mpi4py")
    assert "SINGLETON OK" in check(run([sys.executable, "-c", _SINGLETON], timeout=60))
