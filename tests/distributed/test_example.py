"""examples/ddp_digits.py, a torch-style DDP script, under the launcher on 2 ranks."""
from __future__ import annotations

import re
import sys

import pytest

from .launch import ROOT, check, mpiexec, run


def test_ddp_digits_trains_checkpoints_and_keeps_replicas_equal(tmp_path):
    pytest.importorskip("sklearn")
    mpiexec()
    ck = tmp_path / "ddp.pt"
    out = check(run([sys.executable, "-m", "tinytorch.distributed.run", "--nproc_per_node=2",
                     ROOT / "examples" / "ddp_digits.py", "--smoke", "--checkpoint", ck], timeout=240))
    m = re.search(r"test accuracy ([0-9.]+) on 2 rank\(s\); replicas identical: True", out)
    assert m and float(m.group(1)) > 0.85, out
    assert ck.exists()
