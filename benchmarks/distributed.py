"""Distributed benchmarks: all_reduce bus bandwidth next to raw mpi4py, and DDP step time 1 -> N ranks.

    python benchmarks/distributed.py                       # runs 1 and 2 ranks, writes the table
    python benchmarks/distributed.py --out benchmarks/results/distributed-cpu.md --ranks 2
    python benchmarks/distributed.py --smoke               # tiny sizes, a few repetitions

Not a ``bench_*.py`` file (pytest does not collect it): it starts its own jobs through
``python -m tinytorch.distributed.run``. Per message size it times, on the same NumPy buffer,
``dist.all_reduce`` (with the cross-rank argument check, the default), ``dist.all_reduce`` with
``TINYTORCH_DISTRIBUTED_CHECKS=0``, and mpi4py's ``Allreduce(IN_PLACE)`` and ``Iallreduce().Wait()`` --
the engine itself (ours is built on the non-blocking one; MPICH picks different algorithms for the two). Bus
bandwidth is NCCL-tests' definition, ``bytes * 2 (n - 1) / n / time``. The DDP part times one training
step (forward, backward with the bucketed all-reduce, SGD) of an MLP with a fixed per-rank batch, so
perfect scaling keeps the step time flat from 1 to N ranks (one BLAS thread per rank). Times are medians
over repetitions of the slowest rank's time.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _median_max(comm, fn, reps):
    """Median over ``reps`` of the slowest rank's time of ``fn()``."""
    from mpi4py import MPI
    times = []
    for _ in range(reps):
        comm.Barrier()
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        times.append(comm.allreduce(dt, op=MPI.MAX))
    times.sort()
    return times[len(times) // 2]


def worker(out_path: str, smoke: bool):
    from mpi4py import MPI

    import tinytorch as torch
    import tinytorch.distributed as dist
    import tinytorch.nn as nn
    from tinytorch.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("gloo")
    n, rank = dist.get_world_size(), dist.get_rank()
    raw = dist.group.WORLD.comm
    rows = {"world_size": n, "allreduce": [], "ddp": {}}
    if n > 1:
        sizes = [1 << k for k in (range(10, 17, 6) if smoke else range(10, 27, 2))]  # 1 KiB .. 64 MiB
        for nbytes in sizes:
            reps = 5 if smoke else max(5, min(200, (64 << 20) // nbytes // 4))
            t = torch.ones(nbytes // 4)
            a = t.numpy()
            res = {"bytes": nbytes}
            res["mpi4py"] = _median_max(raw, lambda: raw.Allreduce(MPI.IN_PLACE, a, op=MPI.SUM), reps)
            res["mpi4py_nb"] = _median_max(raw, lambda: raw.Iallreduce(MPI.IN_PLACE, a, op=MPI.SUM).Wait(), reps)
            res["tinytorch"] = _median_max(raw, lambda: dist.all_reduce(t), reps)
            dist.group.WORLD.checks = False
            res["tinytorch_nocheck"] = _median_max(raw, lambda: dist.all_reduce(t), reps)
            dist.group.WORLD.checks = True
            rows["allreduce"].append(res)

    torch.manual_seed(0)
    hidden = 256 if smoke else 1024
    model = nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                          nn.Linear(hidden, 10))
    nparams = sum(p.numel() for p in model.parameters())
    ddp = DDP(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.01)
    x, y = torch.randn(64, 784), torch.randint(0, 10, (64,))

    def step(m):
        opt.zero_grad()
        nn.functional.cross_entropy(m(x), y).backward()
        opt.step()

    reps = 3 if smoke else 20
    step(ddp)
    rows["ddp"] = {"params": nparams, "batch_per_rank": 64, "ddp_step": _median_max(raw, lambda: step(ddp), reps)}
    with ddp.no_sync():  # the same step without communication: compute alone, with N ranks sharing the cores
        rows["ddp"]["local_step"] = _median_max(raw, lambda: step(ddp), reps)
    if rank == 0:
        Path(out_path).write_text(json.dumps(rows))
    dist.destroy_process_group()


def _run(n, smoke, tmp):
    out = Path(tmp) / f"ranks{n}.json"
    cmd = [sys.executable, "-m", "tinytorch.distributed.run", f"--nproc_per_node={n}", __file__, "--worker",
           str(out)] + (["--smoke"] if smoke else [])
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    subprocess.run(cmd, check=True, env=env, timeout=1800)
    return json.loads(out.read_text())


def report(results, smoke) -> str:
    lines = [f"# Distributed benchmarks ({'smoke' if smoke else 'full'})", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores ({platform.platform()}); MPI: "
             f"{_mpi_version()}; Python {platform.python_version()}. Ranks share the cores; load average "
             f"{os.getloadavg()[0]:.1f} when the run ended (other work on the machine makes the numbers noisy).", ""]
    multi = [r for r in results if r["world_size"] > 1]
    for r in multi:
        n = r["world_size"]
        lines += [f"## all_reduce, float32, {n} ranks", "",
                  "| size | mpi4py Allreduce | mpi4py Iallreduce+Wait | tinytorch (checks off) | tinytorch (default) "
                  "| bus GB/s (Iallreduce / ours) | ours over Iallreduce (checks off / default) |",
                  "|---|---|---|---|---|---|---|"]
        for a in r["allreduce"]:
            bus = a["bytes"] * 2 * (n - 1) / n
            nb = a["mpi4py_nb"]
            lines.append(f"| {_size(a['bytes'])} | {a['mpi4py'] * 1e6:.1f} us | {nb * 1e6:.1f} us | "
                         f"{a['tinytorch_nocheck'] * 1e6:.1f} us | {a['tinytorch'] * 1e6:.1f} us | "
                         f"{bus / nb / 1e9:.2f} / "
                         f"{bus / a['tinytorch_nocheck'] / 1e9:.2f} | {a['tinytorch_nocheck'] / nb:.2f}x / "
                         f"{a['tinytorch'] / nb:.2f}x |")
        lines.append("")
    lines += ["## DDP step time (MLP, 64 samples per rank, SGD)", "",
              "| ranks | parameters | DDP step | same step, no communication (no_sync) |", "|---|---|---|---|"]
    for r in results:
        d = r["ddp"]
        lines.append(f"| {r['world_size']} | {d['params']:,} | {d['ddp_step'] * 1e3:.2f} ms | "
                     f"{d['local_step'] * 1e3:.2f} ms |")
    return "\n".join(lines) + "\n"


def _size(b):
    return f"{b >> 20} MiB" if b >= 1 << 20 else f"{b >> 10} KiB"


def _mpi_version():
    try:
        from mpi4py import MPI
        return MPI.Get_library_version().splitlines()[0].strip()
    except Exception as e:  # noqa: BLE001
        return f"unknown ({e})"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--ranks", type=int, default=2, help="the largest job (every count from 1 is run)")
    p.add_argument("--out", default=None, help="write the Markdown table here (and .json next to it)")
    args = p.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.smoke)
    with tempfile.TemporaryDirectory() as tmp:
        results = [_run(n, args.smoke, tmp) for n in range(1, args.ranks + 1)]
    text = report(results, args.smoke)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
        Path(args.out).with_suffix(".json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
