"""Run a worker script on N ranks through mpiexec (or the launcher), bounded by a hard timeout."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKERS = Path(__file__).resolve().parent / "workers"


def mpiexec() -> str:
    """The mpiexec next to this Python (the mpich wheel puts it there), else on PATH; skips without one."""
    pytest.importorskip("mpi4py")
    exe = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")
    if exe is None:
        pytest.skip("mpiexec not found (pip install 'tinytorch[distributed]')")
    return exe


def env(**extra) -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    e["PATH"] = str(Path(sys.executable).parent) + os.pathsep + e.get("PATH", "")
    e["OMP_NUM_THREADS"] = "1"  # 2 ranks on 2 cores: one BLAS thread each
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "TORCHELASTIC_RUN_ID"):
        e.pop(k, None)
    e.update({k: str(v) for k, v in extra.items()})
    return e


def run(cmd, timeout=120, **extra_env) -> subprocess.CompletedProcess:
    """Run ``cmd`` in its own session; on timeout kill the whole session (no orphaned ranks) and fail."""
    p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         cwd=str(ROOT), env=env(**extra_env), start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        pytest.fail(f"{cmd} did not finish in {timeout} s\n--- stdout\n{out}\n--- stderr\n{err}")
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def run_ranks(worker: str, *args, n: int = 2, timeout=120, **extra_env) -> subprocess.CompletedProcess:
    """Run a worker script on ``n`` ranks; ``.results`` holds the lines its ranks recorded (workers/_report.py)."""
    with tempfile.TemporaryDirectory() as folder:
        cp = run([mpiexec(), "-n", n, sys.executable, WORKERS / worker, *args], timeout=timeout,
                 TT_DIST_RESULTS=folder, **extra_env)
        cp.results = "".join(p.read_text() for p in sorted(Path(folder).glob("rank*.txt")))
    return cp


def check(cp: subprocess.CompletedProcess) -> str:
    assert cp.returncode == 0, f"exit {cp.returncode}\n--- stdout\n{cp.stdout}\n--- stderr\n{cp.stderr}"
    return cp.stdout
