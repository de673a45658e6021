"""The Python half of ``tools/gpu_validate.sh``: one GPU validation run, everything written to one folder.

    python tools/gpu_validate.py --out DIR [--dry-run] [--budget SECONDS]

Steps, in order of importance (each in a subprocess with its own time limit, all under one overall
budget so the run ends well inside a 10-minute device command):

1. environment: device name, driver, CUDA runtime, CuPy/NumPy/PyTorch versions, git commit;
2. ceilings: device-to-device copy bandwidth and cuBLAS GEMM (fp32, tf32, bf16) at 4096^3 through
   CuPy, timed with CUDA events, median of N runs after warm-up;
3. ``pytest -m gpu`` with JUnit XML (the CUDA half of the suite);
4. compute-sanitizer memcheck and racecheck on a small script that runs every fused kernel
   (``--exercise-kernels``), when the tool exists;
5. the benchmark suite (``benchmarks/``, pytest-benchmark JSON) and its Markdown report;
6. ``pytest -m "not gpu"`` with JUnit XML (the rest of the suite: 3 and 6 together are the whole suite),
   started first and run in the background beside steps 2-4 (its own log, ``cpu_tests.log``).

``summary.json`` and ``summary.md`` say what ran, what passed, how long each step took and why
anything was skipped. At most 8 files are written (the device tool brings back 8): summary.json,
summary.md, validate.log, cpu_tests.log, junit-gpu.xml, junit-cpu.xml, bench.json, bench.md. ``--dry-run``
runs none of the GPU or test steps: it records the environment and writes the summary (used by
``tests/test_gpu_validate_dryrun.py`` on machines without a GPU).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEMM_N = 4096
DEFAULT_BUDGET_S = 530.0  # the device tool's command limit is 600 s: leave room for start-up and transfers
# per-step limits (seconds); the overall budget trims the later ones
LIMITS = {"ceilings": 75, "gpu_tests": 300, "sanitizer": 90, "benchmarks": 90, "cpu_tests": 420}


# ---- small helpers ---------------------------------------------------------------------------------

def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _run_quiet(cmd, timeout=20) -> str | None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_commit() -> str:
    """The commit under test: $TT_GIT_COMMIT, else ``git rev-parse HEAD`` (plus '-dirty'), else 'unknown'."""
    env = os.environ.get("TT_GIT_COMMIT")
    if env:
        return env
    sha = _run_quiet(["git", "rev-parse", "HEAD"])
    if not sha:
        return "unknown (no git here: run with TT_GIT_COMMIT=<sha>)"
    dirty = _run_quiet(["git", "status", "--porcelain", "--untracked-files=no"])
    return sha + ("-dirty" if dirty else "")


def _version(module: str) -> str | None:
    try:
        mod = __import__(module)
    except Exception as e:  # noqa: BLE001 - a broken install is reported, not raised
        return None if isinstance(e, ImportError) else f"broken: {type(e).__name__}: {e}"
    return str(getattr(mod, "__version__", "?"))


def environment() -> dict:
    """What the results were measured on; GPU fields are None without a usable GPU."""
    env = {
        "time_utc": _now(), "git_commit": git_commit(), "python": platform.python_version(),
        "platform": platform.platform(), "cpu_count": os.cpu_count(), "numpy": _version("numpy"),
        "cupy": _version("cupy"), "torch": _version("torch"), "gpu": None, "driver": None,
        "cuda_runtime": None, "cuda_driver_api": None, "gpu_reason": None,
    }
    smi = _run_quiet(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"])
    if smi:
        env["nvidia_smi"] = smi
        parts = [p.strip() for p in smi.splitlines()[0].split(",")]
        env["gpu"], env["driver"] = parts[0], parts[1] if len(parts) > 1 else None
    sys.path.insert(0, ROOT)
    try:
        from tinytorch import backend
    except Exception as e:  # noqa: BLE001
        env["gpu_reason"] = f"tinytorch failed to import: {type(e).__name__}: {e}"
        return env
    if not backend.cuda_available():
        env["gpu_reason"] = backend.cuda_unavailable_reason() or "CUDA unavailable"
        return env
    cp = backend.cupy_module()
    props = cp.cuda.runtime.getDeviceProperties(0)
    name = props["name"]
    env["gpu"] = name.decode() if isinstance(name, bytes) else str(name)
    env["compute_capability"] = f"{props['major']}.{props['minor']}"
    env["sm_count"] = int(props["multiProcessorCount"])
    env["total_memory_bytes"] = int(props["totalGlobalMem"])
    env["cuda_runtime"] = _cuda_version(cp.cuda.runtime.runtimeGetVersion())
    env["cuda_driver_api"] = _cuda_version(cp.cuda.runtime.driverGetVersion())
    return env


def _cuda_version(v: int) -> str:
    return f"{v // 1000}.{(v % 1000) // 10}"


# ---- steps -----------------------------------------------------------------------------------------

class Runner:
    """Runs steps under one overall deadline, appending every step's output to one log file."""

    def __init__(self, out_dir: str, budget_s: float, log_name: str = "validate.log"):
        self.out_dir = out_dir
        self.deadline = time.monotonic() + budget_s
        self.log_path = os.path.join(out_dir, log_name)
        self.steps: list[dict] = []
        self.min_step_s = 10.0  # a step with less time left than this is skipped, not started

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def log(self, text: str) -> None:
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(text if text.endswith("\n") else text + "\n")

    def skip(self, name: str, reason: str) -> dict:
        step = {"name": name, "status": "skipped", "reason": reason, "seconds": 0.0}
        self.steps.append(step)
        print(f"[gpu_validate] {name}: skipped ({reason})", flush=True)
        return step

    def run(self, name: str, cmd: list[str], limit: float, env: dict | None = None) -> dict:
        """Run ``cmd`` to completion or its time limit (see ``start``)."""
        return self.finish(self.start(name, cmd, limit, env))

    def start(self, name: str, cmd: list[str], limit: float, env: dict | None = None, log_name: str | None = None):
        """Start ``cmd`` in the background; ``finish`` waits for it. Output goes to the log (or ``log_name``)."""
        limit = min(limit, self.remaining() - 5)  # 5 s kept for the summary
        if limit < self.min_step_s:
            return self.skip(name, "overall time budget spent")
        print(f"[gpu_validate] {name}: {' '.join(cmd)} (limit {limit:.0f} s)", flush=True)
        path = self.log_path if log_name is None else os.path.join(self.out_dir, log_name)
        with open(path, "a", encoding="utf-8") as logf:
            logf.write(f"\n===== {name}: {' '.join(cmd)} =====\n")
            logf.flush()
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=logf, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        return {"name": name, "proc": proc, "t0": time.monotonic(), "limit": limit, "cmd": cmd, "log": path}

    def finish(self, handle) -> dict:
        """Wait for a started step; past its limit send SIGINT (pytest still writes its JUnit XML), then kill."""
        if "proc" not in handle:  # skipped at start
            return handle
        proc, t0 = handle["proc"], handle["t0"]
        timed_out = False
        try:
            rc = proc.wait(timeout=max(0.0, handle["limit"] - (time.monotonic() - t0)))
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGINT)
            try:
                rc = proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                rc = proc.wait()
        seconds = round(time.monotonic() - t0, 1)
        status = "timeout" if timed_out else ("passed" if rc == 0 else "failed")
        step = {"name": handle["name"], "status": status, "returncode": rc, "seconds": seconds,
                "command": " ".join(handle["cmd"])}
        if handle["log"] != self.log_path:
            step["log"] = os.path.basename(handle["log"])
        self.steps.append(step)
        print(f"[gpu_validate] {handle['name']}: {status} (rc {rc}, {seconds} s)", flush=True)
        return step


def parse_junit(path: str) -> dict | None:
    """Counts (tests, failures, errors, skipped) and the first failing test ids of a JUnit XML file."""
    if not os.path.exists(path):
        return None
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        return {"error": f"unreadable JUnit XML: {e}"}
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counts = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
    failed = []
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(f"{case.get('classname')}::{case.get('name')}")
    counts["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    counts["failed_tests"] = failed[:40]
    return counts


def _py_env(**extra) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def step_ceilings(runner: Runner) -> dict:
    """Each mode in its own process: CUPY_TF32 is read once, when CuPy is imported."""
    results = {}
    for mode, extra in (("copy", {}), ("fp32", {"CUPY_TF32": "0"}), ("tf32", {"CUPY_TF32": "1"}), ("bf16", {})):
        path = os.path.join(tempfile.gettempdir(), f"tt_ceiling_{mode}.json")
        if os.path.exists(path):
            os.remove(path)
        step = runner.run(f"ceiling_{mode}", [sys.executable, __file__, "--ceiling", mode, "--json", path],
                          LIMITS["ceilings"] / 2, env=_py_env(**extra))
        if os.path.exists(path):
            with open(path) as f:
                results[mode] = json.load(f)
        else:
            results[mode] = {"error": f"no result ({step['status']})"}
    return results


def measure_ceiling(mode: str, repeats: int = 20, warmup: int = 3) -> dict:
    """Median time of one op with CUDA events: a copy (bytes read + written) or a 4096^3 GEMM."""
    import numpy as np
    import cupy as cp

    rng = np.random.default_rng(0)
    if mode == "copy":
        n = 1 << 28  # 1 GiB of float32: far beyond L2
        src = cp.ones(n, dtype=cp.float32)
        dst = cp.empty_like(src)
        op, work, unit = (lambda: cp.copyto(dst, src)), 2.0 * src.nbytes, "bytes/s"
    else:
        dtype = cp.float32
        if mode == "bf16":
            import ml_dtypes

            dtype = ml_dtypes.bfloat16
        a = cp.asarray(rng.standard_normal((GEMM_N, GEMM_N), dtype=np.float32)).astype(dtype)
        b = cp.asarray(rng.standard_normal((GEMM_N, GEMM_N), dtype=np.float32)).astype(dtype)
        c = cp.empty((GEMM_N, GEMM_N), dtype=dtype)
        op, work, unit = (lambda: cp.matmul(a, b, out=c)), 2.0 * GEMM_N**3, "flop/s"
    for _ in range(warmup):
        op()
    times = []
    for _ in range(repeats):
        start, end = cp.cuda.Event(), cp.cuda.Event()
        start.record()
        op()
        end.record()
        end.synchronize()
        times.append(cp.cuda.get_elapsed_time(start, end) / 1e3)
    med = statistics.median(times)
    return {"mode": mode, "median_s": med, "min_s": min(times), "repeats": repeats, unit: work / med,
            "note": "copy: 1 GiB fp32, bytes read + written" if mode == "copy" else f"cupy.matmul {GEMM_N}^3 {mode}"}


def exercise_kernels() -> int:
    """Run every fused kernel once on small shapes against its NumPy reference (for compute-sanitizer)."""
    import numpy as np

    sys.path.insert(0, ROOT)
    import tinytorch
    from tinytorch import backend
    from tinytorch.backend import kernels
    from tinytorch.backend.kernels import reference as ref

    cp = backend.cupy_module()
    cp.cuda.set_allocator(None)  # raw cudaMalloc per array: memcheck sees each array's real bounds
    rng = np.random.default_rng(0)
    failures = []

    def check(name, got, want, tol=2e-4):
        ok = got is not None and np.allclose(cp.asnumpy(got), want, rtol=tol, atol=tol)
        print(f"{name}: {'ok' if ok else 'MISMATCH'}", flush=True)
        if not ok:
            failures.append(name)

    x = rng.standard_normal((2, 4, 9, 8)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    geo = ((2, 1), (1, 2), (1, 2), 2)
    y = kernels.conv2d_forward(cp.asarray(x), cp.asarray(w), cp.asarray(b), *geo)
    want = ref.conv2d_forward(x, w, b, *geo)
    check("conv2d_forward", y, want)
    dy = rng.standard_normal(want.shape).astype(np.float32)
    relu_out = np.maximum(want, 0).astype(np.float32)
    got = kernels.conv2d_backward(cp.asarray(x), cp.asarray(w), cp.asarray(dy), *geo, True, True, True,
                                  relu_out=cp.asarray(relu_out))
    for name, g, r in zip(("gx", "gw", "gb"), got or (None,) * 3,
                          ref.conv2d_backward(x, w, dy, *geo, relu_out=relu_out)):
        check(f"conv2d_backward_relu.{name}", g, r, 1e-3)
    for act in ("relu", "gelu", "gelu_tanh"):
        g = rng.standard_normal((37, 70)).astype(np.float32)
        z = rng.standard_normal((37, 70)).astype(np.float32)
        got = kernels.linear_act_backward(cp.asarray(g), cp.asarray(z), act, True)
        rz, rb = ref.linear_act_backward(g, z, act)
        check(f"linear_act_backward.{act}.dz", got[0] if got else None, rz)
        check(f"linear_act_backward.{act}.db", got[1] if got else None, rb, 1e-3)
    logits = rng.standard_normal((33, 10)).astype(np.float32)
    target = rng.integers(0, 10, 33)
    target[3] = -100
    got = kernels.softmax_cross_entropy(cp.asarray(logits), cp.asarray(target), -100, True)
    rl, rg = ref.softmax_cross_entropy(logits, target, -100)
    check("softmax_cross_entropy.loss", got[0] if got else None, rl)
    check("softmax_cross_entropy.grad", got[1] if got else None, rg)
    # the fused optimizer steps, through the optimizers (fused=True), against the per-parameter path
    for make in (lambda p: tinytorch.optim.SGD(p, lr=0.1, momentum=0.9, fused=True),
                 lambda p: tinytorch.optim.Adam(p, lr=0.01, fused=True),
                 lambda p: tinytorch.optim.AdamW(p, lr=0.01, weight_decay=0.1, fused=True)):
        finals = []
        for fused in (True, False):
            os.environ["TINYTORCH_CUDA_KERNELS"] = "1" if fused else "0"
            tinytorch.manual_seed(0)
            model = tinytorch.nn.Linear(7, 5).to("cuda")
            opt = make(model.parameters())
            for _ in range(3):
                opt.zero_grad()
                y = model(tinytorch.ones(4, 7, device="cuda"))
                (y * y).sum().backward()
                opt.step()
            finals.append(model.weight.detach().cpu().numpy())
        os.environ["TINYTORCH_CUDA_KERNELS"] = "1"
        check(f"fused_optimizer.{type(opt).__name__}", cp.asarray(finals[0]), finals[1], 1e-5)
    cp.cuda.runtime.deviceSynchronize()
    print("exercise_kernels:", "FAILED " + ", ".join(failures) if failures else "all ok", flush=True)
    return 1 if failures else 0


def step_sanitizer(runner: Runner) -> dict:
    tool = shutil.which("compute-sanitizer")
    for guess in ("/usr/local/cuda/bin/compute-sanitizer", "/opt/nvidia/compute-sanitizer/compute-sanitizer"):
        if tool is None and os.path.exists(guess):
            tool = guess
    if tool is None:
        return {"memcheck": runner.skip("sanitizer_memcheck", "compute-sanitizer not found"),
                "racecheck": runner.skip("sanitizer_racecheck", "compute-sanitizer not found")}
    out = {}
    for check in ("memcheck", "racecheck"):
        cmd = [tool, "--tool", check, "--error-exitcode", "97", "--print-limit", "20",
               sys.executable, __file__, "--exercise-kernels"]
        out[check] = runner.run(f"sanitizer_{check}", cmd, LIMITS["sanitizer"] / 2, env=_py_env())
    return out


def step_benchmarks(runner: Runner) -> dict | None:
    if not os.path.isdir(os.path.join(ROOT, "benchmarks")):
        runner.skip("benchmarks", "no benchmarks/ folder")
        return None
    bench_json = os.path.join(runner.out_dir, "bench.json")
    runner.run("benchmarks", [sys.executable, "-m", "pytest", "-q", "benchmarks", "-p", "no:cacheprovider",
                              f"--benchmark-json={bench_json}"],
               LIMITS["benchmarks"], env=_py_env(TT_BENCH_SECONDS="0.25", MPLBACKEND="Agg"))
    report = os.path.join(ROOT, "benchmarks", "report.py")
    if os.path.exists(bench_json) and os.path.exists(report):
        with tempfile.TemporaryDirectory() as tmp:  # report.py writes .md + .png: keep only the Markdown
            runner.run("benchmark_report", [sys.executable, report, bench_json, "--out", tmp], 30,
                       env=_py_env(MPLBACKEND="Agg"))
            for name in os.listdir(tmp):
                if name.endswith(".md"):
                    shutil.copy(os.path.join(tmp, name), os.path.join(runner.out_dir, "bench.md"))
    return {"json": "bench.json" if os.path.exists(bench_json) else None}


def _pytest_cmd(marker: str, junit_path: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-m", marker, "tests", "-p", "no:cacheprovider",
            f"--junitxml={junit_path}", "-o", "junit_family=xunit2"]


def step_pytest(runner: Runner, name: str, marker: str, junit: str) -> dict:
    path = os.path.join(runner.out_dir, junit)
    step = runner.run(name, _pytest_cmd(marker, path), LIMITS[name], env=_py_env())
    step["junit"] = parse_junit(path)
    return step


def start_cpu_tests(runner: Runner):
    """The non-GPU half of the suite, in the background on a few cores while the GPU steps run."""
    path = os.path.join(runner.out_dir, "junit-cpu.xml")
    threads = {k: "4" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    handle = runner.start("cpu_tests", _pytest_cmd("not gpu", path), LIMITS["cpu_tests"],
                          env=_py_env(**threads), log_name="cpu_tests.log")
    handle["junit_path"] = path
    return handle


def finish_cpu_tests(runner: Runner, handle) -> dict:
    step = runner.finish(handle)
    if "junit_path" in handle:
        step["junit"] = parse_junit(handle["junit_path"])
    return step


# ---- summary ---------------------------------------------------------------------------------------

def render_markdown(summary: dict) -> str:
    env = summary["environment"]
    lines = [f"# GPU validation — {env.get('gpu') or 'no GPU'}", "",
             f"- when: {env['time_utc']}; commit: `{env['git_commit']}`; mode: {summary['mode']}",
             f"- driver {env.get('driver')}, CUDA runtime {env.get('cuda_runtime')} (driver API "
             f"{env.get('cuda_driver_api')}), CuPy {env.get('cupy')}, NumPy {env.get('numpy')}, "
             f"PyTorch {env.get('torch')}, Python {env.get('python')}"]
    if env.get("gpu_reason"):
        lines.append(f"- no GPU: {env['gpu_reason']}")
    lines += ["", "## Steps", "", "| step | status | seconds | detail |", "| --- | --- | --- | --- |"]
    for s in summary["steps"]:
        detail = s.get("reason", "")
        j = s.get("junit")
        if j and "tests" in j:
            detail = f"{j['passed']} passed, {j['failures']} failed, {j['errors']} errors, {j['skipped']} skipped"
        lines.append(f"| {s['name']} | {s['status']} | {s['seconds']} | {detail} |")
    ceil = summary.get("ceilings") or {}
    if ceil:
        lines += ["", "## Measured ceilings (median of CUDA-event timings)", ""]
        for mode, r in ceil.items():
            if "error" in r:
                lines.append(f"- {mode}: {r['error']}")
            elif "bytes/s" in r:
                lines.append(f"- {mode}: {r['bytes/s'] / 1e12:.2f} TB/s ({r['note']})")
            else:
                lines.append(f"- {mode}: {r['flop/s'] / 1e12:.1f} TFLOP/s ({r['note']})")
    failed = [t for s in summary["steps"] for t in ((s.get("junit") or {}).get("failed_tests") or [])]
    if failed:
        lines += ["", "## Failing tests (first 40 per step)", ""] + [f"- `{t}`" for t in failed]
    lines += ["", f"Verdict: **{summary['verdict']}**", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", help="output folder (default: benchmarks/results/gpu-<UTC time>)")
    p.add_argument("--dry-run", action="store_true", help="environment and summary only: no GPU or test steps")
    p.add_argument("--budget", type=float, default=DEFAULT_BUDGET_S, help="overall seconds for all steps")
    p.add_argument("--ceiling", choices=["copy", "fp32", "tf32", "bf16"], help=argparse.SUPPRESS)
    p.add_argument("--json", help=argparse.SUPPRESS)
    p.add_argument("--exercise-kernels", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.ceiling:  # child process of step_ceilings
        try:
            result = measure_ceiling(args.ceiling)
        except Exception as e:  # noqa: BLE001 - e.g. no bf16 in this CuPy: recorded, not fatal
            result = {"mode": args.ceiling, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(result), flush=True)
        with open(args.json, "w") as f:
            json.dump(result, f)
        return 0
    if args.exercise_kernels:
        return exercise_kernels()

    out_dir = args.out or os.path.join(ROOT, "benchmarks", "results",
                                       "gpu-" + datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S"))
    os.makedirs(out_dir, exist_ok=True)
    runner = Runner(out_dir, args.budget)
    t0 = time.monotonic()
    env = environment()
    runner.log(json.dumps(env, indent=1))
    print(f"[gpu_validate] device: {env.get('gpu') or 'none'}; driver {env.get('driver')}; CUDA "
          f"{env.get('cuda_runtime')}; CuPy {env.get('cupy')}; torch {env.get('torch')}; commit {env['git_commit']}",
          flush=True)
    has_gpu = env.get("cuda_runtime") is not None
    summary = {"mode": "dry-run" if args.dry_run else "full", "environment": env, "steps": runner.steps,
               "ceilings": None, "out_dir": out_dir}
    no_gpu = f"no GPU: {env.get('gpu_reason')}"
    if args.dry_run:
        reason = "dry run" + ("" if has_gpu else f"; {no_gpu}")
        for name in ("ceilings", "gpu_tests", "sanitizer", "benchmarks", "cpu_tests"):
            runner.skip(name, reason)
    else:
        # the CPU half runs beside the GPU steps (16 cores there); benchmarks run last, on a quiet machine
        cpu = start_cpu_tests(runner)
        if has_gpu:
            summary["ceilings"] = step_ceilings(runner)
            step_pytest(runner, "gpu_tests", "gpu", "junit-gpu.xml")
            step_sanitizer(runner)
        else:
            for name in ("ceilings", "gpu_tests", "sanitizer"):
                runner.skip(name, no_gpu)
        finish_cpu_tests(runner, cpu)
        step_benchmarks(runner)

    bad = [s["name"] for s in runner.steps if s["status"] in ("failed", "timeout")]
    summary["verdict"] = ("dry run: nothing executed" if args.dry_run else
                          "all steps passed" + ("" if has_gpu else " (no GPU: GPU steps skipped)") if not bad
                          else "problems in: " + ", ".join(bad))
    summary["seconds"] = round(time.monotonic() - t0, 1)
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, default=str)
    with open(os.path.join(out_dir, "summary.md"), "w") as f:
        f.write(render_markdown(summary))
    print(render_markdown(summary), flush=True)
    print(f"[gpu_validate] wrote {out_dir} ({summary['seconds']} s)", flush=True)
    return 1 if bad and not args.dry_run else 0


if __name__ == "__main__":
    sys.exit(main())
