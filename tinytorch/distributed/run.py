"""``python -m tinytorch.distributed.run``: torchrun's command line, on top of ``mpiexec``.

    python -m tinytorch.distributed.run --nproc_per_node=2 train.py --epochs 3
    python -m tinytorch.distributed.run --nproc-per-node 2 -m mypackage.train

Starts ``mpiexec -n N python -m tinytorch.distributed._worker SCRIPT ARGS``: every worker gets
torchrun's RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT and
TORCHELASTIC_RUN_ID, and OMP_NUM_THREADS=1 unless it is set. MPI does the rendezvous, so MASTER_ADDR and
MASTER_PORT are informational. When a worker fails, the MPI job is aborted (no orphaned ranks) and the
launcher exits with that worker's exit code, naming its rank. One node only: for several nodes run
``mpiexec`` with a host file and ``python -m tinytorch.distributed._worker`` directly.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from .. import _arrays

__all__ = ["main", "build_command", "parse_args"]


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m tinytorch.distributed.run",
                                description="torchrun-compatible launcher for tinytorch, built on mpiexec")
    p.add_argument("--nproc_per_node", "--nproc-per-node", default="1",
                   help="workers on this node: a number, 'cpu' (one per core), 'gpu' (one per GPU) or 'auto'")
    p.add_argument("--nnodes", default="1", help="must be 1 (several nodes: use mpiexec with a host file)")
    p.add_argument("--node_rank", "--node-rank", type=int, default=0)
    p.add_argument("--master_addr", "--master-addr", default="127.0.0.1")
    p.add_argument("--master_port", "--master-port", type=int, default=29500)
    p.add_argument("--standalone", action="store_true", help="accepted (single node is the only mode)")
    p.add_argument("--max_restarts", "--max-restarts", type=int, default=0)
    p.add_argument("--rdzv_backend", "--rdzv-backend", default=None, help="ignored: MPI does the rendezvous")
    p.add_argument("--rdzv_endpoint", "--rdzv-endpoint", default=None, help="ignored: MPI does the rendezvous")
    p.add_argument("--rdzv_id", "--rdzv-id", default=None)
    p.add_argument("--run_path", "--run-path", action="store_true", help="accepted: scripts are run by path")
    p.add_argument("-m", "--module", action="store_true", help="run TARGET as a module (python -m)")
    p.add_argument("--no_python", "--no-python", action="store_true", help="run TARGET as an executable")
    p.add_argument("--mpiexec", default=None, help="the mpiexec to use (default: next to this Python, else PATH)")
    p.add_argument("--mpiexec_args", "--mpiexec-args", default="", help="extra mpiexec arguments, one string")
    p.add_argument("training_script", help="the script (or module with -m) to run on every worker")
    p.add_argument("training_script_args", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    if args.nnodes not in ("1", "1:1"):
        p.error(f"--nnodes={args.nnodes}: this launcher starts one node; for several nodes use mpiexec with a "
                "host file and 'python -m tinytorch.distributed._worker script.py'")
    if args.max_restarts:
        p.error("--max_restarts: elastic restarts are not supported (the MPI job ends when a worker fails)")
    return args


def _nproc(spec: str) -> int:
    if spec in ("cpu", "auto"):
        if spec == "auto":
            if _arrays.cuda_available():
                return _arrays.cuda_device_count()
        return os.cpu_count() or 1
    if spec == "gpu":
        n = _arrays.cuda_device_count()
        if n == 0:
            raise SystemExit(f"--nproc_per_node=gpu: no usable GPU ({_arrays.cuda_unavailable_reason()})")
        return n
    try:
        n = int(spec)
    except ValueError:
        raise SystemExit(f"--nproc_per_node={spec!r}: expected a number, 'cpu', 'gpu' or 'auto'") from None
    if n < 1:
        raise SystemExit(f"--nproc_per_node={n}: need at least one worker")
    return n


def find_mpiexec(explicit=None) -> str:
    if explicit:
        return explicit
    exe = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec") \
        or shutil.which("mpirun")
    if exe is None:
        raise SystemExit("tinytorch.distributed.run: mpiexec not found; pip install 'tinytorch[distributed]' "
                         "(mpi4py and the mpich wheel)")
    return exe


def build_command(args, nproc: int, mpiexec: str) -> list:
    """The mpiexec command line that starts the workers."""
    cmd = [mpiexec, "-n", str(nproc), *args.mpiexec_args.split()]
    if args.no_python:
        return cmd + [args.training_script, *args.training_script_args]
    worker = [sys.executable, "-m", "tinytorch.distributed._worker"]
    if args.module:
        worker.append("-m")
    return cmd + worker + [args.training_script, *args.training_script_args]


def worker_env(args, nproc: int, err_dir: str) -> dict:
    env = dict(os.environ)
    env.update(MASTER_ADDR=args.master_addr, MASTER_PORT=str(args.master_port), WORLD_SIZE=str(nproc),
               LOCAL_WORLD_SIZE=str(nproc), GROUP_RANK=str(args.node_rank),
               TORCHELASTIC_RUN_ID=args.rdzv_id or uuid.uuid4().hex, TINYTORCH_RUN_ERROR_DIR=err_dir)
    if nproc > 1 and "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = "1"  # as torchrun: N workers must not each start a thread per core
    here = str(Path(__file__).resolve().parents[2])  # so workers import this tinytorch, even uninstalled
    env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _report(err_dir: str, returncode: int) -> int:
    """Print which worker failed and why; return the exit code to leave with."""
    failures = []
    for f in sorted(Path(err_dir).glob("rank*.json")):
        try:
            failures.append((f.stat().st_mtime, json.loads(f.read_text())))
        except (OSError, ValueError):
            pass
    if not failures:
        sys.stderr.write(f"tinytorch.distributed.run: mpiexec exited with code {returncode} (a worker was killed "
                         "or failed before it could report)\n")
        return returncode or 1
    failures.sort(key=lambda x: x[0])
    for _, e in failures:
        sys.stderr.write(f"tinytorch.distributed.run: worker rank {e['rank']} (local_rank {e['local_rank']}) "
                         f"failed with exit code {e['exitcode']}: {e['message']}\n")
    return int(failures[0][1]["exitcode"]) or 1


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    nproc = _nproc(str(args.nproc_per_node))
    cmd = build_command(args, nproc, find_mpiexec(args.mpiexec))
    with tempfile.TemporaryDirectory(prefix="tinytorch-run-") as err_dir:
        proc = subprocess.Popen(cmd, env=worker_env(args, nproc, err_dir))
        old = signal.signal(signal.SIGTERM, lambda sig, frame: proc.send_signal(signal.SIGTERM))
        try:
            code = proc.wait()
        except KeyboardInterrupt:  # pass it on: mpiexec tears the workers down
            proc.send_signal(signal.SIGINT)
            try:
                code = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
            return 130
        finally:
            signal.signal(signal.SIGTERM, old)
        if code == 0:
            return 0
        return _report(err_dir, code)


if __name__ == "__main__":
    sys.exit(main())
