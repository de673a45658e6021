"""The GPU tools do not mislead: the one-command validation fits one 8-minute device call on paper, stops
plainly when a GPU is there but CuPy is not usable, keeps what it measured when cut short, shards the gpu
tests without losing any, and every fused-kernel benchmark row proves its kernel ran."""
from __future__ import annotations

import ast
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import types

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, path))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def gv():
    return _load("gpu_validate", "tools/gpu_validate.py")


# ---- the budget on paper ---------------------------------------------------------------------------

def test_per_step_limits_fit_one_8_minute_call(gv):
    assert gv.DEVICE_CALL_S <= 480
    worst = sum(gv.LIMITS.values()) + gv.KILL_GRACE_S * len(gv.LIMITS)  # every step runs to its limit, then the grace
    assert worst <= 480, f"per-step limits sum to {worst} s (with kill grace) > 480 s"
    assert gv.DEFAULT_BUDGET_S <= gv.DEVICE_CALL_S - 5  # the summary is written inside the call
    # priority order: environment and ceilings, gpu tests, sanitizer, benchmarks
    order = list(gv.LIMITS)
    assert order.index("environment") < order.index("ceiling_copy") < order.index("gpu_tests") \
        < order.index("sanitizer_memcheck") < order.index("benchmarks")


class _FakeProc:
    _pid = 10**6

    def __init__(self):
        _FakeProc._pid += 1
        self.pid = _FakeProc._pid

    def wait(self, timeout=None):
        return 0


def test_full_run_on_paper_starts_each_step_within_its_limit_in_order(gv, tmp_path, monkeypatch):
    """A full run on a (pretended) working GPU: which subprocesses start, in which order, with which limits."""
    started = []

    def fake_start(self, name, cmd, limit, env=None, log_name=None, record=True):
        limit = min(limit, self.remaining() - gv.KILL_GRACE_S)
        started.append((name, limit, env or {}))
        if log_name is not None:
            open(os.path.join(self.out_dir, log_name), "a").close()
        return {"name": name, "proc": _FakeProc(), "t0": time.monotonic(), "limit": limit, "cmd": cmd,
                "log": self.log_path, "record": record}

    env = {"time_utc": "t", "git_commit": "c", "gpu": "NVIDIA H200", "driver": "580.65", "cupy_usable": True,
           "nvidia_smi": "NVIDIA H200, 580.65, 143771 MiB", "cuda_runtime": "13.0", "gpu_reason": None}
    monkeypatch.setattr(gv, "environment", lambda runner: dict(env))
    monkeypatch.setattr(gv.Runner, "start", fake_start)
    monkeypatch.setattr(gv.shutil, "which", lambda tool: "/usr/bin/" + tool)
    rc = gv.main(["--out", str(tmp_path), "--shards", "3"])
    names = [n for n, _, _ in started]
    assert names[:4] == ["ceiling_copy", "ceiling_fp32", "ceiling_tf32", "ceiling_bf16"]
    assert names[4:7] == ["gpu_tests[0]", "gpu_tests[1]", "gpu_tests[2]"]
    assert names[7:] == ["sanitizer_memcheck", "sanitizer_racecheck", "benchmarks"]
    for name, limit, _ in started:
        assert limit <= gv.LIMITS[name.split("[")[0]], name
    assert all(e.get("TINYTORCH_CUDA_KERNELS") == "strict" for n, _, e in started if n.startswith("sanitizer"))
    summary = json.loads((tmp_path / "summary.json").read_text())
    status = {s["name"]: s for s in summary["steps"]}
    assert status["gpu_tests"]["parallel"] == 3 and status["cpu_tests"]["status"] == "skipped"
    assert rc == 0 and summary["verdict"] == "all steps passed"


# ---- a GPU that CuPy cannot use --------------------------------------------------------------------

@pytest.mark.parametrize("dry", [False, True])
def test_gpu_seen_but_cupy_unusable_exits_nonzero_plainly(gv, tmp_path, monkeypatch, capsys, dry):
    monkeypatch.setattr(gv, "nvidia_smi", lambda: "NVIDIA H200, 580.65.06, 143771 MiB")
    monkeypatch.setattr(gv, "probe_cuda", None)  # the probe runs in a child process anyway
    probe = {"usable": False, "checks": {"nvrtc": "elementwise kernel compiled by NVRTC: CompileException: "
                                                  "libnvrtc.so.13: cannot open shared object file"},
             "reason": "CuPy fails on nvrtc (...) (install CuPy with the CUDA libraries: ...)"}
    real_run = gv.subprocess.run

    def fake_probe(cmd, **kw):
        if "--probe" in cmd:
            with open(cmd[cmd.index("--json") + 1], "w") as f:
                json.dump(probe, f)
            return subprocess.CompletedProcess(cmd, 0, "", "")
        return real_run(cmd, **kw)

    monkeypatch.setattr(gv.subprocess, "run", fake_probe)
    monkeypatch.setenv("TT_GIT_COMMIT", "abc")
    rc = gv.main(["--out", str(tmp_path)] + (["--dry-run"] if dry else []))
    assert rc == 2
    err = capsys.readouterr().err
    assert "FAIL: nvidia-smi sees NVIDIA H200 but CuPy is unusable" in err and "nvrtc" in err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["verdict"].startswith("FAILED: nvidia-smi sees NVIDIA H200")
    assert all(s["status"] == "skipped" for s in summary["steps"])
    assert "libnvrtc" in (tmp_path / "summary.md").read_text()


def test_the_real_probe_reports_a_missing_cupy(gv, tmp_path):
    pytest.importorskip("numpy")
    try:
        import cupy  # noqa: F401
        pytest.skip("CuPy is installed here")
    except ImportError:
        pass
    out = tmp_path / "p.json"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gpu_validate.py"), "--probe", "--json",
                           str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    probe = json.loads(out.read_text())
    assert probe["usable"] is False and "CuPy could not be imported" in probe["reason"]
    assert ".[cuda13]" in probe["reason"] and ".[cuda12]" in probe["reason"]


# ---- cut short -------------------------------------------------------------------------------------

def test_sigterm_keeps_what_was_measured(tmp_path):
    env = dict(os.environ, TT_GIT_COMMIT="abc", PYTHONPATH=ROOT)
    # --cpu-tests: the run then certainly lasts minutes, so the signal lands mid-run
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "tools", "gpu_validate.py"), "--out", str(tmp_path),
                             "--cpu-tests"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    summary = tmp_path / "summary.json"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # wait until the environment step is recorded
            if summary.exists():
                try:
                    if "numpy" in json.loads(summary.read_text())["environment"]:
                        break
                except (json.JSONDecodeError, KeyError):
                    pass
            time.sleep(0.2)
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 3, out[-3000:]
    got = json.loads(summary.read_text())
    assert got["verdict"].startswith("stopped from outside") and got["environment"]["numpy"]
    assert "stopped from outside" in (tmp_path / "summary.md").read_text()


# ---- gpu test shards ---------------------------------------------------------------------------------

def test_shards_split_the_selected_tests_without_loss_or_overlap():
    shard = _load("pytest_shard", "tools/pytest_shard.py")
    items = [types.SimpleNamespace(nodeid=f"t{i}") for i in range(11)]
    seen = []
    for i in range(3):
        got = list(items)
        deselected = []
        config = types.SimpleNamespace(getoption=lambda name, i=i: f"{i}/3",
                                       hook=types.SimpleNamespace(pytest_deselected=lambda items: deselected.extend(items)))
        shard.pytest_collection_modifyitems(config, got)
        assert len(got) + len(deselected) == 11
        seen += [it.nodeid for it in got]
    assert sorted(seen) == sorted(it.nodeid for it in items)
    with pytest.raises(pytest.UsageError):
        shard.parse_shard("3/3")


def test_gpu_test_paths_put_the_basic_files_first_and_miss_none(gv):
    paths = gv.gpu_test_paths()
    assert paths[0] == "tests/test_device.py" and len(paths) == len(set(paths))
    assert "tests/gpu/test_registry_cuda_vs_cpu.py" in paths and "tests/test_gpu_tools.py" in paths


def test_merge_junit(gv, tmp_path):
    for i, (n, f) in enumerate([(2, 0), (3, 1)]):
        (tmp_path / f"{i}.xml").write_text(
            f'<testsuites><testsuite name="pytest" tests="{n}" failures="{f}" errors="0" skipped="0">'
            + "".join(f'<testcase classname="c{i}" name="t{j}"/>' for j in range(n - f))
            + ("<testcase classname='x' name='bad'><failure message='m'/></testcase>" if f else "")
            + "</testsuite></testsuites>")
    out = tmp_path / "all.xml"
    gv.merge_junit([str(tmp_path / "0.xml"), str(tmp_path / "1.xml"), str(tmp_path / "missing.xml")], str(out))
    got = gv.parse_junit(str(out))
    assert (got["tests"], got["failures"], got["passed"]) == (5, 1, 4) and got["failed_tests"] == ["x::bad"]


# ---- the fused-kernel benchmark rows -----------------------------------------------------------------

def test_every_fused_benchmark_row_checks_its_kernel_launched():
    tree = ast.parse(open(os.path.join(ROOT, "benchmarks", "bench_kernels.py")).read())
    rows = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_timed":
            fn = node.args[1]
            body = fn.body if isinstance(fn, ast.Lambda) else None
            if isinstance(body, ast.Call) and isinstance(body.func, ast.Attribute) \
                    and getattr(body.func.value, "id", None) == "kernels":
                rows += 1
                assert len(node.args) == 3 and isinstance(node.args[2], ast.Constant) \
                    and node.args[2].value == body.func.attr, ast.unparse(node)
    assert rows == 5
    src = open(os.path.join(ROOT, "benchmarks", "bench_kernels.py")).read()
    assert 'setenv("TINYTORCH_CUDA_KERNELS", "strict")' in src and "launch_counts" in src
