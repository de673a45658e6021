"""One rank of a job started by ``tinytorch.distributed.run``: torchrun's variables, then the script.

``python -m tinytorch.distributed._worker [-m] TARGET ARGS...`` runs under mpiexec. It sets RANK,
LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE (from the MPI launcher's variables, so the script can read
them before ``init_process_group``), runs TARGET as ``__main__``, and when the script fails -- an
exception or a non-zero ``sys.exit`` -- writes an error file for the launcher and aborts the whole MPI
job, so no rank is left waiting in a collective.
"""
from __future__ import annotations

import json
import os
import runpy
import sys
import traceback

# (rank, size, local rank, local size) variables of MPICH/Hydra, Open MPI, PMIx and Slurm launchers
_SCHEMES = [("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),
            ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
             "OMPI_COMM_WORLD_LOCAL_SIZE"),
            ("PMIX_RANK", "PMIX_SIZE", "PMIX_LOCAL_RANK", "PMIX_LOCAL_SIZE"),
            ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE")]


def mpi_layout() -> tuple:
    """(rank, world size, local rank, local world size) of this process, read without starting MPI
    when the launcher's variables say it; else from MPI itself."""
    env = os.environ
    for rank, size, lrank, lsize in _SCHEMES:
        if rank in env and size in env:
            r, n = int(env[rank]), int(env[size])
            lr = int(env[lrank]) if lrank in env else r
            ln = int(env[lsize].split("(")[0]) if lsize in env else n
            return r, n, lr, ln
    from mpi4py import MPI
    world = MPI.COMM_WORLD
    node = world.Split_type(MPI.COMM_TYPE_SHARED)
    out = world.Get_rank(), world.Get_size(), node.Get_rank(), node.Get_size()
    node.Free()
    return out


def _fail(code: int, message: str, tb: str, rank: int, local_rank: int) -> None:
    """Report the failure to the launcher, then end the whole job with ``code``."""
    err_dir = os.environ.get("TINYTORCH_RUN_ERROR_DIR")
    if err_dir:
        try:
            with open(os.path.join(err_dir, f"rank{rank}.json"), "w") as f:
                json.dump({"rank": rank, "local_rank": local_rank, "exitcode": code, "message": message,
                           "traceback": tb}, f)
        except OSError:
            pass
    sys.stdout.flush()
    sys.stderr.write(f"[rank {rank}] failed with exit code {code}: {message}\n")
    sys.stderr.flush()
    try:
        from mpi4py import MPI
        if not MPI.Is_finalized():
            MPI.COMM_WORLD.Abort(code)
    finally:
        os._exit(code)


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    as_module = bool(argv) and argv[0] == "-m"
    if as_module:
        argv = argv[1:]
    if not argv:
        raise SystemExit("usage: python -m tinytorch.distributed._worker [-m] TARGET [ARGS...]")
    rank, size, local_rank, local_size = mpi_layout()
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(size), LOCAL_RANK=str(local_rank),
                      LOCAL_WORLD_SIZE=str(local_size), GROUP_RANK=os.environ.get("GROUP_RANK", "0"),
                      ROLE_RANK=str(rank), ROLE_WORLD_SIZE=str(size))
    target, sys.argv = argv[0], argv
    try:
        if as_module:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
            runpy.run_path(target, run_name="__main__")
    except SystemExit as e:
        code = e.code
        if code is None or code == 0:
            return
        if not isinstance(code, int):
            sys.stderr.write(f"{code}\n")
            code = 1
        _fail(code, f"sys.exit({e.code!r})", "", rank, local_rank)
    except BaseException as e:  # noqa: BLE001 - any failure must take the job down
        tb = traceback.format_exc()
        sys.stderr.write(f"[rank {rank}] {tb}")
        _fail(1, f"{type(e).__name__}: {e}", tb, rank, local_rank)


if __name__ == "__main__":
    main()
