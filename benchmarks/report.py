"""Turn pytest-benchmark JSON into a Markdown table and a PNG bar chart.

    python benchmarks/report.py benchmarks/results/cpu.json [--out benchmarks/results]

Writes ``<stem>.md`` and ``<stem>.png`` next to each other under ``--out``. Per group (one op or model at
one size): the median time per backend, tinytorch/torch on the same device, tinytorch's GPU-over-CPU
speedup, tinytorch's share of the measured ceiling (GEMM FLOP/s or copy bandwidth) where the case
declares one, and peak memory. A targets section checks the CPU goals.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

BACKENDS = ("tinytorch-cpu", "torch-cpu", "tinytorch-cuda", "torch-cuda")
COLORS = {"tinytorch-cpu": "#1f77b4", "torch-cpu": "#ff7f0e", "tinytorch-cuda": "#6baed6", "torch-cuda": "#fdae6b"}

# CPU goals: (label, group prefix, what is compared, limit on tinytorch/torch)
TARGETS = [
    ("MLP training step time", "train step mlp", "time", 1.1),
    ("LeNet CNN training step time", "train step lenet", "time", 1.5),
    ("tiny-op autograd chain time", "autograd chain", "time", 1.0),
    ("LeNet CNN training step peak memory", "train step lenet", "memory", 1.2),
    # user workloads (benchmarks/bench_workloads.py, issue #17: <= 1.0x at 1 thread)
    ("char-MLP LM training step time", "train step charmlp", "time", 1.0),
    ("bigram LM training step time", "train step bigram", "time", 1.0),
    ("bag-of-words training step time", "train step bow", "time", 1.0),
    ("GRU char model training step time", "train step gru char", "time", 1.0),
    ("RNN char model training step time", "train step rnn char", "time", 1.0),
    ("word-level LSTM LM training step time", "train step lstm word", "time", 1.0),
    ("GPT char model training step time", "train step gpt char", "time", 1.0),
    ("digits CNN training epoch time", "digits cnn epoch", "time", 1.0),
    ("DataLoader epoch time (0 workers)", "dataloader epoch workers0", "time", 1.0),
    ("DataLoader epoch time (2 workers)", "dataloader epoch workers2", "time", 1.0),
]


def load(path: str) -> tuple[dict, dict]:
    """``(machine_info, {group: {backend: benchmark}})`` from a pytest-benchmark JSON file."""
    with open(path) as f:
        data = json.load(f)
    groups: dict = {}
    for b in data.get("benchmarks", []):
        backend = b.get("extra_info", {}).get("backend")
        if backend is None:  # e.g. bench_kernels.py rows: not a backend comparison, left out here
            continue
        groups.setdefault(b.get("group") or b["name"], {})[backend] = b
    return data.get("machine_info", {}), groups


def _median(b):
    return b["stats"]["median"] if b else None


def _min(b):
    return b["stats"]["min"] if b else None


def fmt_time(s) -> str:
    if s is None:
        return "–"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def fmt_bytes(n) -> str:
    if n is None:
        return "–"
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} B"


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def fmt_ratio(r, suffix="×") -> str:
    return "–" if r is None else f"{r:.2f}{suffix}"


def ceiling_share(b) -> float | None:
    """Fraction of the measured ceiling reached by benchmark ``b`` (None when it declares none)."""
    if not b:
        return None
    info, t = b.get("extra_info", {}), _median(b)
    bound = info.get("bound")
    if bound == "flops" and info.get("ceiling_flops_per_s"):
        return info["flops"] / t / info["ceiling_flops_per_s"]
    if bound == "bytes" and info.get("ceiling_bytes_per_s"):
        return info["bytes"] / t / info["ceiling_bytes_per_s"]
    return None


def peak_mem(b):
    return b.get("extra_info", {}).get("peak_mem_bytes") if b else None


def group_row(group: str, runs: dict) -> list[str]:
    tc, pc, tg, pg = (runs.get(k) for k in BACKENDS)
    share = [ceiling_share(tc), ceiling_share(tg)]
    return [
        group,
        fmt_time(_median(tc)), fmt_time(_median(pc)), fmt_ratio(ratio(_median(tc), _median(pc))),
        fmt_ratio(ratio(_min(tc), _min(pc))),
        fmt_time(_median(tg)), fmt_time(_median(pg)), fmt_ratio(ratio(_median(tg), _median(pg))),
        fmt_ratio(ratio(_median(tc), _median(tg))),
        " / ".join("–" if s is None else f"{100 * s:.0f} %" for s in share),
        f"{fmt_bytes(peak_mem(tc))} / {fmt_bytes(peak_mem(pc))}",
    ]


HEADER = ["group", "tinytorch cpu", "torch cpu", "tt/torch cpu", "(on min)", "tinytorch cuda", "torch cuda",
          "tt/torch cuda", "tt GPU speedup", "tt % ceiling (cpu / cuda)", "peak mem cpu (tt / torch)"]


def _table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def target_results(groups: dict) -> list[dict]:
    """Each CPU target with the measured tinytorch/torch ratio (None when not measured)."""
    out = []
    for label, prefix, kind, limit in TARGETS:
        runs = next((r for g, r in groups.items() if g.startswith(prefix)), {})
        tt, pt = runs.get("tinytorch-cpu"), runs.get("torch-cpu")
        if kind == "time":
            r, r_min = ratio(_median(tt), _median(pt)), ratio(_min(tt), _min(pt))
        else:
            r = r_min = ratio(peak_mem(tt), peak_mem(pt))
        out.append({"label": label, "kind": kind, "limit": limit, "ratio": r, "ratio_min": r_min,
                    "met": None if r is None else r <= limit})
    return out


def _timer(groups: dict) -> str:
    for runs in groups.values():
        for b in runs.values():
            return b.get("options", {}).get("timer", "?")
    return "?"


def machine_lines(machine: dict, groups: dict) -> list[str]:
    tb = machine.get("tinytorch_bench", {})
    timer = _timer(groups)
    kind = "CPU time of the process" if "process_time" in timer else "wall-clock"
    lines = [
        f"- timer: `{timer}` ({kind})",
        f"- date: {tb.get('date', '?')}; git commit: `{tb.get('git_commit', '?')}`",
        f"- CPU: {tb.get('cpu_model', machine.get('cpu', {}).get('brand_raw', '?'))}, "
        f"{tb.get('usable_cores', '?')} usable / {tb.get('logical_cores', '?')} logical cores; "
        f"benchmark threads: {tb.get('threads', '?')}",
        f"- Python {machine.get('python_version', '?')}, NumPy {tb.get('numpy', '?')}, "
        f"PyTorch {tb.get('torch') or 'not installed'}",
    ]
    loads = [b.get("extra_info", {}).get("loadavg_1min") for r in groups.values() for b in r.values()]
    loads = [x for x in loads if x is not None]
    if loads:
        cores = tb.get("usable_cores") or tb.get("logical_cores") or 1
        warn = ""
        if max(loads) > cores:
            warn = (" — above the core count: the CPU-time timer does not count preemption, but caches and memory "
                    "bandwidth were shared" if "process_time" in timer else
                    " — above the core count: other processes share the cores, so wall-clock timings "
                    "(multi-threaded ones most) are inflated")
        lines.append(f"- machine load (1-min load average at case start): median {sorted(loads)[len(loads) // 2]:.1f}, "
                     f"max {max(loads):.1f}{warn}")
    if tb.get("gpu"):
        lines.append(f"- GPU: {tb['gpu']} (cc {tb.get('gpu_compute_capability')}), CUDA driver "
                     f"{tb.get('cuda_driver')}, runtime {tb.get('cuda_runtime')}, CuPy {tb.get('cupy')}, "
                     f"torch CUDA {tb.get('torch_cuda')}")
    else:
        lines.append("- GPU: none (CUDA rows empty)")
    if tb.get("smoke"):
        lines.append("- **smoke run: tiny shapes, one call each; the times mean nothing**")
    return lines


def render_markdown(machine: dict, groups: dict, source: str) -> str:
    ops = [g for g in groups if not g.startswith("train step")]
    models = [g for g in groups if g.startswith("train step")]
    parts = [f"# tinytorch vs PyTorch benchmarks\n\nFrom `{os.path.basename(source)}`.\n",
             "\n".join(machine_lines(machine, groups)), ""]
    parts.append("Median time per call. Ratios > 1 mean tinytorch is slower. `% ceiling`: achieved "
                 "FLOP/s (or bytes/s) over the measured fp32 GEMM (or copy) rate of raw NumPy/CuPy on the "
                 "same threads (the copy ceiling is measured out of cache, so cache-resident sizes can exceed 100 %). "
                 "Peak memory: extra resident memory during one call (VmHWM − RSS before).\n")
    parts.append("`(on min)`: the same ratio on the fastest call of each backend, less sensitive to other "
                 "processes on a shared machine (stalls only ever add time).\n")
    parts += ["## CPU targets\n", "| target | tinytorch / torch-cpu (median) | (on min) | limit | met (median) |",
              "|---|---|---|---|---|"]
    for t in target_results(groups):
        met = "–" if t["met"] is None else ("yes" if t["met"] else "**no**")
        parts.append(f"| {t['label']} | {fmt_ratio(t['ratio'])} | {fmt_ratio(t['ratio_min'])} | ≤ {t['limit']} | {met} |")
    parts += ["", "## Training steps\n", _table([group_row(g, groups[g]) for g in models]), "",
              "## Ops\n", _table([group_row(g, groups[g]) for g in ops]), ""]
    return "\n".join(parts)


def render_chart(groups: dict, path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [g for g in sorted(groups, key=lambda g: (not g.startswith("train step"), g))
             if any(b in groups[g] for b in BACKENDS)]
    present = [b for b in BACKENDS if any(b in groups[g] for g in names)]
    height = max(3.0, 0.32 * len(names) * max(1, len(present)) / 2 + 1.5)
    fig, (ax_t, ax_r) = plt.subplots(1, 2, figsize=(15, height), sharey=True,
                                     gridspec_kw={"width_ratios": [3, 2]})
    bar = 0.8 / max(1, len(present))
    for i, backend in enumerate(present):
        ys = [y + (i - (len(present) - 1) / 2) * bar for y in range(len(names))]
        ts = [_median(groups[g].get(backend)) or 0 for g in names]
        ax_t.barh(ys, [t * 1e3 for t in ts], height=bar, color=COLORS[backend], label=backend)
    ax_t.set_xscale("log")
    ax_t.set_xlabel("median time per call (ms, log scale)")
    ax_t.set_yticks(range(len(names)), names, fontsize=8)
    ax_t.invert_yaxis()
    ax_t.legend(loc="lower right", fontsize=8)
    ax_t.grid(axis="x", which="both", alpha=0.3)
    devices = [d for d in ("cpu", "cuda") if f"torch-{d}" in present and f"tinytorch-{d}" in present]
    bar_r = 0.8 / max(1, len(devices))
    for i, dev in enumerate(devices):
        ys = [y + (i - (len(devices) - 1) / 2) * bar_r for y in range(len(names))]
        rs = [ratio(_median(groups[g].get(f"tinytorch-{dev}")), _median(groups[g].get(f"torch-{dev}"))) or 0
              for g in names]
        ax_r.barh(ys, rs, height=bar_r, color=COLORS[f"tinytorch-{dev}"], label=f"tinytorch/torch {dev}")
        for y, r in zip(ys, rs):
            if r:
                ax_r.text(r, y, f" {r:.3g}", va="center", fontsize=7)
    all_r = [ratio(_median(groups[g].get(f"tinytorch-{d}")), _median(groups[g].get(f"torch-{d}")))
             for g in names for d in devices]
    all_r = [r for r in all_r if r]
    if all_r:  # room on the right for the value labels
        ax_r.set_xlim(min(all_r) / 1.5, max(all_r) * 3)
    ax_r.axvline(1.0, color="black", lw=1)
    ax_r.set_xscale("log")
    ax_r.set_xlabel("time ratio tinytorch / torch (log; < 1 is faster)")
    ax_r.grid(axis="x", which="both", alpha=0.3)
    if devices:
        ax_r.legend(loc="lower right", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("json", help="pytest-benchmark --benchmark-json output")
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"),
                   help="output folder (default: benchmarks/results)")
    args = p.parse_args(argv)
    machine, groups = load(args.json)
    if not groups:
        print(f"report: no benchmarks in {args.json}", file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.splitext(os.path.basename(args.json))[0]
    md_path, png_path = os.path.join(args.out, stem + ".md"), os.path.join(args.out, stem + ".png")
    with open(md_path, "w") as f:
        f.write(render_markdown(machine, groups, args.json))
        f.write(f"\n![chart]({stem}.png)\n")
    tb = machine.get("tinytorch_bench", {})
    render_chart(groups, png_path, f"tinytorch vs PyTorch — {tb.get('cpu_model', '')}, threads: "
                                   f"{tb.get('threads', '?')}, timer: {_timer(groups)}, {tb.get('date', '')[:10]}")
    print(f"wrote {md_path} and {png_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
