"""The NCCL engine's GPU-free parts, with fakes: bootstrapping over MPI, dtype/op mapping, backend parsing.

The engine itself is unproven on a GPU (none was available); these tests pin the logic around it.
"""
from __future__ import annotations

import numpy as np
import pytest

from tinytorch.distributed import ReduceOp
from tinytorch.distributed._nccl import NcclEngine, bootstrap
from tinytorch.distributed.process_group import _parse_backend


class FakeComm:
    """An MPI communicator of one rank of a job whose rank 0 already broadcast ``shared``."""

    def __init__(self, rank, size, shared):
        self.rank, self.size, self.shared, self.bcasts = rank, size, shared, []

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.size

    def bcast(self, obj, root=0):
        self.bcasts.append((obj, root))
        if self.rank == root:
            self.shared["uid"] = obj
        return self.shared["uid"]


class FakeNccl:
    NCCL_FLOAT32, NCCL_FLOAT64, NCCL_UINT8, NCCL_INT64 = 7, 8, 1, 4
    NCCL_SUM, NCCL_PROD, NCCL_MAX, NCCL_MIN, NCCL_AVG = 0, 1, 2, 3, 4

    def __init__(self):
        self.made = []

    def get_unique_id(self):
        return b"unique-id-of-rank-0"

    def NcclCommunicator(self, ndev, uid, rank):
        self.made.append((ndev, uid, rank))
        return ("comm", ndev, uid, rank)


def test_bootstrap_broadcasts_rank0s_unique_id_over_mpi():
    shared, nccl = {}, FakeNccl()
    c0 = bootstrap(FakeComm(0, 2, shared), nccl)
    c1 = bootstrap(FakeComm(1, 2, shared), nccl)
    assert c0 == ("comm", 2, b"unique-id-of-rank-0", 0) and c1 == ("comm", 2, b"unique-id-of-rank-0", 1)


def test_only_rank0_makes_the_id():
    class Rank1Nccl(FakeNccl):
        def get_unique_id(self):
            raise AssertionError("rank 1 must not create an id")
    comm = FakeComm(1, 2, {"uid": b"from-0"})
    bootstrap(comm, Rank1Nccl())
    assert comm.bcasts == [(None, 0)]


def _engine(size=2, nccl=None):
    return NcclEngine(FakeComm(0, size, {}), nccl or FakeNccl(), None, None, 0)


@pytest.mark.parametrize("dtype,op,want_dt,want_op", [
    (np.float32, ReduceOp.SUM, "NCCL_FLOAT32", "NCCL_SUM"), (np.float64, ReduceOp.AVG, "NCCL_FLOAT64", "NCCL_AVG"),
    (np.bool_, ReduceOp.SUM, "NCCL_UINT8", "NCCL_MAX"), (np.bool_, ReduceOp.PRODUCT, "NCCL_UINT8", "NCCL_MIN"),
    (np.complex128, ReduceOp.SUM, "NCCL_FLOAT64", "NCCL_SUM"), (np.int64, ReduceOp.MAX, "NCCL_INT64", "NCCL_MAX")])
def test_dtype_and_op_mapping(dtype, op, want_dt, want_op):
    a = np.zeros(4, dtype=dtype)
    x, dt, nop, scale = _engine()._typed(a, op, "all_reduce")
    assert dt == getattr(FakeNccl, want_dt) and nop == getattr(FakeNccl, want_op) and scale is None
    assert x.nbytes == a.nbytes


class OldNccl:
    """NCCL before 2.10: no NCCL_AVG."""
    NCCL_FLOAT32, NCCL_SUM, NCCL_PROD, NCCL_MAX, NCCL_MIN = 7, 0, 1, 2, 3


def test_avg_falls_back_to_sum_then_divide_on_old_nccl():
    _, _, nop, scale = _engine(size=4, nccl=OldNccl())._typed(np.zeros(2, np.float32), ReduceOp.AVG, "all_reduce")
    assert nop == OldNccl.NCCL_SUM and scale == 4


@pytest.mark.parametrize("dtype,op,exc", [(np.int64, ReduceOp.AVG, "ReduceOp.AVG needs a floating"),
                                          (np.complex64, ReduceOp.MAX, "not supported for complex"),
                                          (np.int16, ReduceOp.SUM, "NCCL cannot reduce int16")])
def test_unsupported_reductions_are_named(dtype, op, exc):
    with pytest.raises(TypeError, match=exc):
        _engine()._typed(np.zeros(2, dtype=dtype), op, "all_reduce")


def test_cpu_tensor_on_nccl_is_refused():
    with pytest.raises(RuntimeError, match="backend 'nccl' takes CUDA tensors"):
        _engine()._check(np.zeros(2), "all_reduce")


@pytest.mark.parametrize("name,engines", [("gloo", {"cpu": "mpi", "cuda": "mpi"}),
                                          ("MPI", {"cpu": "mpi", "cuda": "mpi"}),
                                          ("nccl", {"cuda": "nccl"}),
                                          ("cpu:gloo,cuda:nccl", {"cpu": "mpi", "cuda": "nccl"})])
def test_backend_strings(name, engines):
    assert _parse_backend(name) == engines
