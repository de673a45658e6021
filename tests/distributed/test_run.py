"""The torchrun-like launcher: torchrun's variables, exit codes, a failing rank ending the job."""
from __future__ import annotations

import os
import sys
import time
import uuid

import pytest

from tinytorch.distributed import run as launcher

from .launch import WORKERS, check, mpiexec, run

ENV_SCRIPT = """
import os, sys
import tinytorch.distributed as dist
assert dist.is_torchelastic_launched()
names = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
want = {k: os.environ[k] for k in names}
dist.init_process_group("gloo")
assert int(want["RANK"]) == dist.get_rank() and int(want["WORLD_SIZE"]) == dist.get_world_size() == 2
got = [None, None]  # one line from rank 0: the ranks' own prints may interleave mid-line
dist.all_gather_object(got, [want[k] for k in names] + [sys.argv[1:], __name__])
if dist.get_rank() == 0:
    print("WORKERS", got, flush=True)
dist.destroy_process_group()
"""


def _launch(*args, timeout=120):
    mpiexec()  # skips without MPI
    return run([sys.executable, "-m", "tinytorch.distributed.run", *args], timeout=timeout)


def test_launcher_sets_torchrun_variables(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(ENV_SCRIPT)
    out = check(_launch("--nproc_per_node=2", "--master_port", "29511", script, "--lr", "0.1"))
    want = [[str(r), str(r), "2", "2", "127.0.0.1", "29511", ["--lr", "0.1"], "__main__"] for r in range(2)]
    assert f"WORKERS {want}" in out, out


@pytest.mark.parametrize("mode,code,message", [("raise", 1, "ValueError: rank 1 broke on purpose"),
                                               ("exit", 7, "sys.exit(7)")])
def test_failing_rank_ends_the_job_with_its_code_and_rank(mode, code, message):
    cp = _launch("--nproc-per-node", "2", WORKERS / "crash.py", mode, timeout=90)
    assert cp.returncode == code, (cp.returncode, cp.stderr)
    assert f"worker rank 1 (local_rank 1) failed with exit code {code}: {message}" in cp.stderr, cp.stderr
    assert "UNREACHABLE" not in cp.stdout


def _processes_with(token: str) -> list:
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    if token.encode() in f.read():
                        found.append(int(d))
            except OSError:
                pass
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killed_rank_ends_the_job_and_leaves_no_process():
    token = f"tt-kill-{uuid.uuid4().hex}"
    cp = _launch("--nproc_per_node=2", WORKERS / "crash.py", "kill", token, timeout=90)
    assert cp.returncode != 0 and "a worker was killed or failed before it could report" in cp.stderr, cp.stderr
    assert "UNREACHABLE" not in cp.stdout
    time.sleep(0.5)
    assert _processes_with(token) == []


def test_plain_mpiexec_uncaught_exception_aborts_the_job():
    cp = run([mpiexec(), "-n", 2, sys.executable, WORKERS / "crash.py", "raise"], timeout=90)
    assert cp.returncode != 0 and "[rank 1] uncaught ValueError: aborting the job" in cp.stderr, cp.stderr


def test_command_line_is_torchruns():
    args = launcher.parse_args(["--nproc-per-node=3", "-m", "pkg.train", "--epochs", "2"])
    cmd = launcher.build_command(args, 3, "/x/mpiexec")
    assert cmd[:3] == ["/x/mpiexec", "-n", "3"]
    assert cmd[-5:] == ["tinytorch.distributed._worker", "-m", "pkg.train", "--epochs", "2"]
    for bad in (["--nnodes=2", "s.py"], ["--max_restarts=3", "s.py"]):
        with pytest.raises(SystemExit):
            launcher.parse_args(bad)
    with pytest.raises(SystemExit, match="expected a number"):
        launcher._nproc("many")


def test_worker_reads_rank_from_the_mpi_launchers_variables(monkeypatch):
    from tinytorch.distributed._worker import mpi_layout

    for k in ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("OMPI_COMM_WORLD_RANK", "5")
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "8")
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_RANK", "1")
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "4")
    assert mpi_layout() == (5, 8, 1, 4)
    monkeypatch.setenv("PMI_RANK", "2")
    monkeypatch.setenv("PMI_SIZE", "3")
    assert mpi_layout()[:2] == (2, 3)


def test_unchanged_torch_script_under_the_alias_and_the_launcher():
    out = check(_launch("--nproc_per_node=2", "-m", "tinytorch.alias", WORKERS / "torch_style.py"))
    assert "TORCHY [(0, True, 'tinytorch'), (1, True, 'tinytorch')]" in out, out


@pytest.mark.slow
def test_the_same_script_is_valid_pytorch_under_torchrun():
    pytest.importorskip("torch")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", WORKERS / "torch_style.py"]
    cp = run(cmd, timeout=240)
    if cp.returncode != 0 and "terminate called without an active exception" in cp.stderr:
        cp = run(cmd, timeout=240)  # torch's own gloo teardown aborts now and then on a loaded machine: once more
    out = check(cp)
    assert "TORCHY [(0, True, 'torch'), (1, True, 'torch')]" in out, out
