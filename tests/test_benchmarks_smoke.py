"""The benchmark suite runs in smoke mode (tiny shapes, one call each) and the report renders it.

No timing is asserted: only that every case runs, that the models start from the same weights in
tinytorch and PyTorch (same first loss), and that report.py writes its table and chart.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "benchmarks")

pytest.importorskip("pytest_benchmark")


def _env():
    env = dict(os.environ, TT_BENCH_SMOKE="1", TT_BENCH_THREADS="1", MPLBACKEND="Agg")
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


@pytest.fixture(scope="module")
def smoke_json(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "smoke.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", BENCH, "-q", "-p", "no:cacheprovider", "--smoke",
         f"--benchmark-json={out}", "--benchmark-columns=median", "--rootdir", ROOT],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out


def _by_name(path):
    with open(path) as f:
        data = json.load(f)
    return data, {b["fullname"].split("::")[-1]: b for b in data["benchmarks"]}


def test_every_case_ran_on_tinytorch_cpu(smoke_json):
    data, runs = _by_name(smoke_json)
    names = {n.split("[")[0] for n, b in runs.items() if b["extra_info"]["backend"] == "tinytorch-cpu"}
    assert {"test_matmul", "test_linear_relu", "test_conv2d_3x3", "test_elementwise", "test_reduction",
            "test_softmax", "test_cross_entropy", "test_autograd_chain", "test_train_step", "test_workload_step",
            "test_embedding_backward", "test_digits_cnn_epoch", "test_dataloader_epoch"} <= names
    info = data["machine_info"]["tinytorch_bench"]
    assert info["smoke"] is True and info["threads"] == 1
    for b in runs.values():
        extra = b["extra_info"]
        assert extra["smoke"] is True
        assert "peak_mem_bytes" in extra or "peak_mem_tracemalloc_bytes" in extra, b["name"]


def test_models_start_from_the_same_weights_as_torch(smoke_json):
    pytest.importorskip("torch")
    _, runs = _by_name(smoke_json)
    for model in ("mlp", "lenet", "encoder"):
        tt = runs[f"test_train_step[tinytorch-cpu-{model}]"]["extra_info"]["loss0"]
        pt = runs[f"test_train_step[torch-cpu-{model}]"]["extra_info"]["loss0"]
        assert tt == pytest.approx(pt, rel=1e-4, abs=1e-5), model
    for model in ("charmlp", "bigram", "bow", "gru", "rnn", "lstm", "gpt"):  # benchmarks/bench_workloads.py (issue #17)
        tt = runs[f"test_workload_step[tinytorch-cpu-{model}]"]["extra_info"]["loss0"]
        pt = runs[f"test_workload_step[torch-cpu-{model}]"]["extra_info"]["loss0"]
        assert tt == pytest.approx(pt, rel=1e-4, abs=1e-5), model
    tt, pt = (runs[f"test_digits_cnn_epoch[{b}-cpu]"]["extra_info"]["loss0"] for b in ("tinytorch", "torch"))
    assert tt == pytest.approx(pt, rel=1e-4, abs=1e-5), "digits cnn"
    for workers in (0, 2):  # every sample arrives once per epoch, in both libraries
        for b in ("tinytorch", "torch"):
            assert runs[f"test_dataloader_epoch[{b}-cpu-{workers}]"]["extra_info"]["samples"] == 256


def test_report_writes_markdown_and_png(smoke_json, tmp_path):
    proc = subprocess.run([sys.executable, os.path.join(BENCH, "report.py"), str(smoke_json), "--out", str(tmp_path)],
                          cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "smoke.md").read_text()
    assert "## CPU targets" in md and "| MLP training step time |" in md
    assert "train step lenet" in md and "autograd chain" in md
    assert "train step charmlp" in md and "train step gpt char" in md and "| char-MLP LM training step time |" in md
    png = (tmp_path / "smoke.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def _fake_run(group, backend, median, **extra):
    info = {"backend": backend, "flops": 2e9, "bytes": 0.0, "bound": "flops", "ceiling_flops_per_s": 1e11,
            "peak_mem_bytes": 1 << 20}
    info.update(extra)
    return {"group": group, "name": f"x[{backend}]", "fullname": f"b.py::x[{backend}]",
            "stats": {"median": median, "min": median * 0.9}, "extra_info": info, "options": {"timer": "perf_counter"}}


def test_report_fills_gpu_columns_and_targets(tmp_path):
    # No GPU here: a hand-made JSON with all four backends exercises the CUDA columns and the chart.
    sys.path.insert(0, BENCH)
    try:
        import report
    finally:
        sys.path.remove(BENCH)
    times = {"tinytorch-cpu": 0.02, "torch-cpu": 0.01, "tinytorch-cuda": 0.002, "torch-cuda": 0.001}
    benches = [_fake_run("train step lenet cnn", b, t) for b, t in times.items()]
    benches += [_fake_run("matmul 1024", b, t / 2) for b, t in times.items()]
    benches.append({"group": None, "name": "test_conv2d_forward[fused]", "stats": {"median": 1.0}, "extra_info": {}})
    path = tmp_path / "gpu.json"
    path.write_text(json.dumps({"machine_info": {"tinytorch_bench": {"gpu": "Fake GPU", "threads": 2}},
                                "benchmarks": benches}))
    assert report.main([str(path), "--out", str(tmp_path)]) == 0
    md = (tmp_path / "gpu.md").read_text()
    row = next(line for line in md.splitlines() if line.startswith("| train step lenet cnn"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    # tinytorch/torch on each device: 2.00×; tinytorch's GPU speedup: 10.00×; 2e9 FLOP in 20 ms of 1e11 FLOP/s: 100 %
    assert cells[3] == "2.00×" and cells[7] == "2.00×" and cells[8] == "10.00×"
    assert cells[9].startswith("100 %")
    assert "| LeNet CNN training step time | 2.00× |" in md
    assert "test_conv2d_forward" not in md  # rows without a backend are not compared
    assert (tmp_path / "gpu.png").stat().st_size > 10_000


def test_run_workloads_combines_both_thread_counts(tmp_path):
    """run_workloads.py's one table: both thread counts per case, the bars, and CPU time n/a for workers."""
    sys.path.insert(0, BENCH)
    try:
        import run_workloads
    finally:
        sys.path.remove(BENCH)
    paths = {}
    for stem, scale in (("workloads-1thread-cputime", 1.0), ("workloads-2threads-wall", 1.3)):
        benches = [_fake_run("train step gpt char", "tinytorch-cpu", 0.01 * scale, peak_mem_bytes=4 << 20),
                   _fake_run("train step gpt char", "torch-cpu", 0.01, peak_mem_bytes=8 << 20),
                   _fake_run("dataloader epoch workers2 x", "tinytorch-cpu", 0.5 * scale),
                   _fake_run("dataloader epoch workers2 x", "torch-cpu", 1.0)]
        paths[stem] = tmp_path / f"{stem}.json"
        paths[stem].write_text(json.dumps({"machine_info": {"tinytorch_bench": {"threads": 1}}, "benchmarks": benches}))
    md = run_workloads.combine({k: str(v) for k, v in paths.items()})
    gpt = next(line for line in md.splitlines() if line.startswith("| train step gpt char"))
    assert [c.strip() for c in gpt.strip("|").split("|")][2:] == ["1.00× (1.00×)", "1.30× (1.30×)", "0.50×", "**no**"]
    loader = next(line for line in md.splitlines() if line.startswith("| dataloader epoch workers2"))
    assert "(n/a)" in loader and "0.65×" in loader and loader.endswith("| yes |")
