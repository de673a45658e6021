"""tools/gpu_validate.sh: the CPU-side logic of the one-command GPU run (dry run, step runner with its
time limits, JUnit parsing, summary), so the first run on a lent GPU does not fail on plumbing."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from tinytorch import _arrays

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "tools", "gpu_validate.sh")


def _module():
    spec = importlib.util.spec_from_file_location("gpu_validate", os.path.join(ROOT, "tools", "gpu_validate.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_dry_run_exits_0_and_writes_a_summary(tmp_path):
    env = dict(os.environ, OUT=str(tmp_path), TT_GIT_COMMIT="abc123")
    proc = subprocess.run(["bash", SCRIPT, "--dry-run"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    files = sorted(os.listdir(tmp_path))
    assert {"summary.json", "summary.md"} <= set(files) and len(files) <= 8  # the device tool returns 8 files
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["mode"] == "dry-run" and summary["environment"]["git_commit"] == "abc123"
    names = [s["name"] for s in summary["steps"]]
    assert names == ["ceilings", "gpu_tests", "sanitizer", "benchmarks", "cpu_tests"]
    assert all(s["status"] == "skipped" for s in summary["steps"])
    md = (tmp_path / "summary.md").read_text()
    assert "dry run" in md and "abc123" in md
    if not _arrays.cuda_available():
        assert "no GPU" in md and summary["environment"]["gpu_reason"]
        assert all("no GPU" in s["reason"] for s in summary["steps"])


def test_full_mode_without_time_or_gpu_skips_cleanly(tmp_path, monkeypatch):
    if _arrays.cuda_available():
        pytest.skip("checks the no-GPU path")
    mod = _module()
    monkeypatch.setenv("TT_GIT_COMMIT", "deadbeef")
    rc = mod.main(["--out", str(tmp_path), "--budget", "1"])
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert rc == 0 and summary["mode"] == "full"
    status = {s["name"]: (s["status"], s["reason"]) for s in summary["steps"]}
    assert status["gpu_tests"][0] == "skipped" and "no GPU" in status["gpu_tests"][1]
    assert status["cpu_tests"] == ("skipped", "overall time budget spent")
    assert "no GPU" in summary["verdict"]


def test_runner_statuses_and_timeout(tmp_path):
    mod = _module()
    r = mod.Runner(str(tmp_path), budget_s=60)
    r.min_step_s = 0.1
    ok = r.run("ok", [sys.executable, "-c", "print('hello')"], 30)
    bad = r.run("bad", [sys.executable, "-c", "raise SystemExit(3)"], 30)
    # the child ignores nothing: SIGINT ends it like pytest's KeyboardInterrupt handling would
    slow = r.run("slow", [sys.executable, "-c", "import time; time.sleep(30)"], 2)
    assert (ok["status"], bad["status"], bad["returncode"], slow["status"]) == ("passed", "failed", 3, "timeout")
    assert slow["seconds"] < 20
    log = (tmp_path / "validate.log").read_text()
    assert "hello" in log and "===== bad" in log
    r.deadline = 0  # budget spent: later steps are skipped, not started
    assert r.run("late", [sys.executable, "-c", "pass"], 30)["status"] == "skipped"


def test_parse_junit(tmp_path):
    mod = _module()
    xml = tmp_path / "j.xml"
    xml.write_text(
        '<testsuites><testsuite name="pytest" tests="4" failures="1" errors="1" skipped="1">'
        '<testcase classname="tests.a" name="t1"/>'
        '<testcase classname="tests.a" name="t2"><failure message="x"/></testcase>'
        '<testcase classname="tests.b" name="t3"><error message="y"/></testcase>'
        '<testcase classname="tests.b" name="t4"><skipped/></testcase>'
        "</testsuite></testsuites>")
    got = mod.parse_junit(str(xml))
    assert (got["tests"], got["passed"], got["failures"], got["errors"], got["skipped"]) == (4, 1, 1, 1, 1)
    assert got["failed_tests"] == ["tests.a::t2", "tests.b::t3"]
    assert mod.parse_junit(str(tmp_path / "missing.xml")) is None


def test_markdown_reports_ceilings_and_failures():
    mod = _module()
    summary = {
        "mode": "full", "verdict": "problems in: gpu_tests",
        "environment": {"gpu": "NVIDIA H100", "time_utc": "t", "git_commit": "c", "driver": "580",
                        "cuda_runtime": "13.0", "cuda_driver_api": "13.0", "cupy": "14", "numpy": "2",
                        "torch": "2", "python": "3.12"},
        "steps": [{"name": "gpu_tests", "status": "failed", "seconds": 3.0,
                   "junit": {"tests": 2, "passed": 1, "failures": 1, "errors": 0, "skipped": 0,
                             "failed_tests": ["tests/x::y"]}}],
        "ceilings": {"copy": {"bytes/s": 3.0e12, "note": "copy"}, "fp32": {"flop/s": 5.0e13, "note": "gemm"},
                     "bf16": {"error": "TypeError: no bf16"}},
    }
    md = mod.render_markdown(summary)
    assert "NVIDIA H100" in md and "3.00 TB/s" in md and "50.0 TFLOP/s" in md and "no bf16" in md
    assert "1 passed, 1 failed" in md and "`tests/x::y`" in md and "problems in: gpu_tests" in md
