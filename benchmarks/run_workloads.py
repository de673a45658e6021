"""Run the user-workload benchmarks at 1 thread (CPU time) and 2 threads (wall clock), then one table.

    python benchmarks/run_workloads.py                       # full run, results in benchmarks/results/
    python benchmarks/run_workloads.py --smoke --out /tmp/x  # every case once on tiny shapes

Each thread count is its own pytest process (BLAS and OpenMP read their thread count once, at load),
writing ``workloads-1thread-cputime.json`` and ``workloads-2threads-wall.json`` with their ``report.py``
tables, and ``workloads.md``: per case, tinytorch/torch at 1 thread (bar 1.0) and at 2 threads (bar 1.2),
and the peak-memory ratio (bar 1.0). The cases: every ``bench_workloads.py`` model, the digits CNN epoch,
DataLoader epochs, and the 100-op autograd chain from ``bench_ops.py``.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import report  # noqa: E402

SELECT = "cpu and (workload or digits or dataloader or autograd_chain)"
RUNS = (  # (file stem, threads, timer, bar on tinytorch/torch)
    ("workloads-1thread-cputime", 1, "time.process_time", 1.0),
    ("workloads-2threads-wall", 2, "time.perf_counter", 1.2),
)
MEMORY_BAR = 1.0
MEMORY_FLOOR = 1 << 20  # peak memory is judged where either library's peak reaches 1 MiB


def run(stem, threads, timer, out, smoke, seconds) -> str:
    path = os.path.join(out, stem + ".json")
    env = dict(os.environ, TT_BENCH_THREADS=str(threads), TT_BENCH_SECONDS=str(seconds), MPLBACKEND="Agg")
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "pytest", os.path.join(HERE, "bench_workloads.py"), os.path.join(HERE, "bench_ops.py"),
           "-q", "-p", "no:cacheprovider", "-k", SELECT, f"--benchmark-json={path}",
           f"--benchmark-timer={timer}", "--benchmark-columns=min,median,rounds", "--rootdir", ROOT]
    if smoke:
        cmd.append("--smoke")
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    report.main([path, "--out", out])
    return path


def _cpu_ratio(runs, pick):
    tt, pt = runs.get("tinytorch-cpu"), runs.get("torch-cpu")
    return report.ratio(pick(tt), pick(pt))


def combine(paths: dict) -> str:
    """The one table: {stem: json path} of the RUNS -> Markdown."""
    loaded = {stem: report.load(p) for stem, p in paths.items()}
    groups = sorted({g for _, gs in loaded.values() for g in gs})
    lines = ["# User workloads: tinytorch / PyTorch on the CPU", ""]
    for stem, (machine, gs) in loaded.items():
        tb = machine.get("tinytorch_bench", {})
        loads = [b["extra_info"].get("loadavg_1min") for r in gs.values() for b in r.values()
                 if b["extra_info"].get("loadavg_1min") is not None]
        lines.append(f"- `{stem}`: {tb.get('date', '?')}, commit `{tb.get('git_commit', '?')}`, "
                     f"{tb.get('cpu_model', '?')} ({tb.get('usable_cores', '?')} usable cores), NumPy {tb.get('numpy', '?')}, "
                     f"PyTorch {tb.get('torch', '?')}, load average median {sorted(loads)[len(loads) // 2] if loads else '?'}"
                     + (" — smoke run, the numbers mean nothing" if tb.get("smoke") else ""))
    lines += ["", "Ratio = tinytorch / torch-cpu, median (fastest call in brackets). Bars: 1 thread (CPU time) ≤ 1.0, "
              "2 threads (wall clock) ≤ 1.2, peak memory ≤ 1.0 (judged from 1 MiB up; below it the "
              "two peaks are shown, tinytorch / torch). CPU time does not count DataLoader worker "
              "processes, so the 2-worker case is judged on wall clock only.", "",
              "| case | tinytorch 1 thread | 1 thread | 2 threads | peak memory | met |", "|---|---|---|---|---|---|"]
    for g in groups:
        cells, met = [], True
        tt_time = "–"
        for (stem, threads, _, bar) in RUNS:
            runs = loaded[stem][1].get(g, {}) if stem in loaded else {}
            r, r_min = _cpu_ratio(runs, report._median), _cpu_ratio(runs, report._min)
            if threads == 1 and runs.get("tinytorch-cpu"):
                tt_time = report.fmt_time(report._median(runs["tinytorch-cpu"]))
            if threads == 1 and "workers2" in g:
                cells.append("(n/a)")
                continue
            cells.append(f"{report.fmt_ratio(r)} ({report.fmt_ratio(r_min)})")
            met = met and r is not None and r <= bar
        runs1 = loaded[RUNS[0][0]][1].get(g, {}) if RUNS[0][0] in loaded else {}
        mem = _cpu_ratio(runs1, report.peak_mem)
        tt_mem, pt_mem = (report.peak_mem(runs1.get(b)) for b in ("tinytorch-cpu", "torch-cpu"))
        if mem is None or max(tt_mem or 0, pt_mem or 0) < MEMORY_FLOOR:
            # page-granular high-water marks of a few KiB are noise, not a comparison
            cells.append(f"({report.fmt_bytes(tt_mem)} / {report.fmt_bytes(pt_mem)})")
        else:
            cells.append(report.fmt_ratio(mem))
            met = met and mem <= MEMORY_BAR
        lines.append(f"| {g} | {tt_time} | " + " | ".join(cells) + f" | {'yes' if met else '**no**'} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    p.add_argument("--smoke", action="store_true", help="tiny shapes, one call per case")
    p.add_argument("--seconds", type=float, default=1.0, help="timed budget per case (TT_BENCH_SECONDS)")
    p.add_argument("--only", choices=["1", "2"], help="run one thread count only")
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    paths = {}
    for stem, threads, timer, _ in RUNS:
        if args.only and str(threads) != args.only:
            existing = os.path.join(args.out, stem + ".json")
            if os.path.exists(existing):
                paths[stem] = existing
            continue
        paths[stem] = run(stem, threads, timer, args.out, args.smoke, args.seconds)
    md = combine(paths)
    with open(os.path.join(args.out, "workloads.md"), "w") as f:
        f.write(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
