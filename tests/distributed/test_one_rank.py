"""One-rank jobs (no mpiexec): every collective and a DDP step on the CPU through MPI, and on CUDA through
NCCL (marked gpu: skipped without one -- the first check to run on a GPU machine)."""
from __future__ import annotations

import sys

import pytest

from .launch import WORKERS, check, run


@pytest.mark.parametrize("backend,device", [
    ("gloo", "cpu"),
    pytest.param("nccl", "cuda", marks=[pytest.mark.gpu, pytest.mark.real_gpu]),
    pytest.param("gloo", "cuda", marks=[pytest.mark.gpu, pytest.mark.real_gpu]),  # MPI staging CUDA tensors through the host
])
def test_one_rank_collectives_and_ddp(backend, device):
    pytest.importorskip("mpi4py")
    out = check(run([sys.executable, WORKERS / "one_rank.py", backend, device], timeout=180))
    assert "ALL PASSED" in out and out.count("PASS ddp_one_rank_grad") == 4, out
