"""The Python half of ``tools/gpu_validate.sh``: one GPU validation run, everything written to one folder.

    python tools/gpu_validate.py --out DIR [--dry-run] [--budget SECONDS] [--cpu-tests]

GPU time comes in budgets of 15 minutes, all runs together, so the whole run fits one device call of at
most 8 minutes: every step is a subprocess with its own time limit (``LIMITS``; their sum plus a kill
grace each is <= 480 s, checked by tests/test_gpu_tools.py), all under one overall budget, in order of value:

1. environment: nvidia-smi, then a child process that imports CuPy and runs one tiny operation per CUDA
   library tinytorch needs (an NVRTC-compiled elementwise kernel, cuBLAS, cuRAND, cuSOLVER), plus device
   name, driver, CUDA runtime, CuPy/NumPy/PyTorch versions and the git commit. **When nvidia-smi sees a
   GPU but CuPy is unusable the run stops there and exits 2**, saying which library failed;
2. ceilings: device-to-device copy bandwidth and cuBLAS GEMM (fp32, tf32, bf16) at 4096^3 through
   CuPy, timed with CUDA events, median of N runs after warm-up;
3. ``pytest -m gpu`` with JUnit XML, split into shards run side by side (``--shards``): CuPy compiles
   each new elementwise kernel with NVRTC on first use, single-threaded per process, and the compile
   dominates a cold run; shards compile in parallel and share CuPy's on-disk kernel cache;
4. compute-sanitizer memcheck and racecheck on a small script that runs every fused kernel
   (``--exercise-kernels``, ``TINYTORCH_CUDA_KERNELS=strict``), when the tool exists;
5. the benchmarks (``benchmarks/``, fused-kernel rows first; pytest-benchmark JSON) and their Markdown report;
6. only with ``--cpu-tests`` and time left: ``pytest -m "not gpu"`` (CI runs that half anyway).

``summary.json`` and ``summary.md`` say what ran, what passed, how long each step took and why anything
was skipped; they are rewritten after every step and on SIGTERM/SIGINT, so a run cut short still leaves
what it measured. Files written: summary.json, summary.md, validate.log, junit-gpu.xml, bench.json,
bench.md (and cpu_tests.log, junit-cpu.xml with ``--cpu-tests``). ``--dry-run`` runs the environment step
only (used by ``tests/test_gpu_validate_dryrun.py`` on machines without a GPU).
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
DEVICE_CALL_S = 480  # one device call of at most 8 minutes, leaving room in the 15-minute budget to rerun
DEFAULT_BUDGET_S = 470.0  # overall deadline of all steps; the summary is written within the last seconds
KILL_GRACE_S = 5.0  # a step past its limit gets SIGINT, then SIGKILL this much later
# Time limit of every subprocess (seconds), in the order they run. sum(LIMITS) + KILL_GRACE_S per entry
# <= DEVICE_CALL_S, so the limits alone keep the run inside one device call; the overall budget trims
# the later ones further when earlier steps ran long.
LIMITS = {
    "environment": 20,
    "ceiling_copy": 12, "ceiling_fp32": 12, "ceiling_tf32": 12, "ceiling_bf16": 12,
    "gpu_tests": 220,
    "sanitizer_memcheck": 50, "sanitizer_racecheck": 35,
    "benchmarks": 45, "benchmark_report": 10,
}
CPU_TESTS_LIMIT = 300  # --cpu-tests only, and only with that much budget left: not part of the 8 minutes
BENCH_FILES = ("bench_kernels.py", "bench_models.py", "bench_workloads.py", "bench_ops.py",
               "bench_cuda_graphs.py")  # most telling first
BENCH_SELECT = "cuda or fused or cupy"  # GPU rows only: CI and the CPU results cover the CPU rows
# gpu tests: most basic first, so a run cut short still says whether the CUDA path works at all
GPU_TEST_PRIORITY = ("tests/test_device.py", "tests/gpu/test_cuda_module.py", "tests/kernels/test_gpu.py",
                     "tests/gpu/test_cuda_models.py", "tests/gpu/test_registry_cuda_vs_cpu.py")


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


# the one tiny operation per CUDA library tinytorch loads; a failure names the library
CUPY_CHECKS = (
    ("nvrtc", "elementwise kernel compiled by NVRTC", "float((cp.arange(4, dtype=cp.float32) * 2 + 1).sum()) == 16.0"),
    ("cublas", "matmul", "float((cp.ones((8, 8), cp.float32) @ cp.ones((8, 8), cp.float32))[0, 0]) == 8.0"),
    ("curand", "RandomState.standard_normal", "cp.random.RandomState(0).standard_normal(64).shape == (64,)"),
    ("cusolver", "linalg.inv", "float(cp.linalg.inv(2 * cp.eye(3))[1, 1]) == 0.5"),
)
EXTRA_HINT = ('install CuPy with the CUDA libraries: pip install -e ".[cuda13]" (driver >= 580) or '
              '".[cuda12]" (driver >= 525); see README, CPU and GPU')


def probe_cuda() -> dict:
    """In a child process (it may hang or crash): can CuPy really work here, and on what device?"""
    out: dict = {"usable": False, "checks": {}}
    try:
        import cupy as cp
    except Exception as e:  # noqa: BLE001 - reported, not raised
        out["reason"] = f"CuPy could not be imported: {type(e).__name__}: {e} ({EXTRA_HINT})"
        return out
    out["cupy"] = str(getattr(cp, "__version__", "?"))
    try:
        n = cp.cuda.runtime.getDeviceCount()
        props = cp.cuda.runtime.getDeviceProperties(0)
    except Exception as e:  # noqa: BLE001
        out["reason"] = f"CuPy sees no usable device: {type(e).__name__}: {e}"
        return out
    name = props["name"]
    out.update(gpu=name.decode() if isinstance(name, bytes) else str(name), device_count=int(n),
               compute_capability=f"{props['major']}.{props['minor']}", sm_count=int(props["multiProcessorCount"]),
               total_memory_bytes=int(props["totalGlobalMem"]),
               cuda_runtime=_cuda_version(cp.cuda.runtime.runtimeGetVersion()),
               cuda_driver_api=_cuda_version(cp.cuda.runtime.driverGetVersion()))
    failed = []
    for lib, what, expr in CUPY_CHECKS:
        try:
            ok = bool(eval(expr, {"cp": cp}))  # noqa: S307 - fixed expressions above
            out["checks"][lib] = "ok" if ok else f"{what}: wrong result"
        except Exception as e:  # noqa: BLE001
            out["checks"][lib] = f"{what}: {type(e).__name__}: {str(e)[:300]}"
        if out["checks"][lib] != "ok":
            failed.append(f"{lib} ({out['checks'][lib]})")
    if failed:
        out["reason"] = "CuPy fails on " + "; ".join(failed) + f" ({EXTRA_HINT})"
        return out
    sys.path.insert(0, ROOT)
    try:
        from tinytorch import _arrays

        out["tinytorch_cuda_available"] = bool(_arrays.cuda_available())
        if not out["tinytorch_cuda_available"]:
            out["reason"] = f"CuPy works but tinytorch says CUDA is unavailable: {_arrays.cuda_unavailable_reason()}"
            return out
    except Exception as e:  # noqa: BLE001
        out["reason"] = f"tinytorch failed to import: {type(e).__name__}: {e}"
        return out
    out["usable"] = True
    return out


def nvidia_smi() -> str | None:
    """``name, driver, memory`` per GPU as nvidia-smi reports them, or None (no tool, no GPU, no driver)."""
    return _run_quiet(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"])


def environment(runner: "Runner") -> dict:
    """What the results were measured on; GPU fields are None without a usable GPU. Never raises."""
    env = {
        "time_utc": _now(), "git_commit": git_commit(), "python": platform.python_version(),
        "platform": platform.platform(), "cpu_count": os.cpu_count(), "numpy": _version("numpy"),
        "cupy": None, "torch": _version("torch"), "gpu": None, "driver": None,
        "cuda_runtime": None, "cuda_driver_api": None, "gpu_reason": None, "cupy_usable": False,
        "nvidia_smi": None,
    }
    smi = nvidia_smi()
    if smi:
        env["nvidia_smi"] = smi
        parts = [p.strip() for p in smi.splitlines()[0].split(",")]
        env["gpu"], env["driver"] = parts[0], parts[1] if len(parts) > 1 else None
    path = os.path.join(tempfile.gettempdir(), f"tt_probe_{os.getpid()}.json")
    if os.path.exists(path):
        os.remove(path)
    # not through the runner: the probe decides everything after it, so no budget can skip it
    t0 = time.monotonic()
    cmd = [sys.executable, __file__, "--probe", "--json", path]
    try:
        done = subprocess.run(cmd, cwd=ROOT, env=_py_env(), capture_output=True, text=True,
                              timeout=LIMITS["environment"])
        runner.log(f"\n===== environment: {' '.join(cmd)} =====\n{done.stdout}{done.stderr}")
        status = f"exit code {done.returncode}"
    except subprocess.TimeoutExpired:
        status = f"no answer within {LIMITS['environment']} s"
    probe = {}
    if os.path.exists(path):
        with open(path) as f:
            probe = json.load(f)
        os.remove(path)
    else:
        probe = {"usable": False, "reason": f"the CuPy probe crashed or hung ({status}; see validate.log)"}
    env["probe_seconds"] = round(time.monotonic() - t0, 1)
    env["cupy_checks"] = probe.get("checks")
    for key in ("cupy", "gpu", "compute_capability", "sm_count", "total_memory_bytes", "cuda_runtime",
                "cuda_driver_api", "device_count"):
        if probe.get(key) is not None:
            env[key] = probe[key]
    env["cupy_usable"] = bool(probe.get("usable"))
    if not env["cupy_usable"]:
        env["gpu_reason"] = probe.get("reason") or "CUDA unavailable"
        env["cuda_runtime"] = None  # measured nothing on this GPU
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
        self.running: list = []  # processes to end if this run is itself stopped
        self.on_step = None  # called after each recorded step (rewrites the summary)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def log(self, text: str) -> None:
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(text if text.endswith("\n") else text + "\n")

    def record(self, step: dict) -> dict:
        self.steps.append(step)
        if self.on_step is not None:
            self.on_step()
        return step

    def skip(self, name: str, reason: str, record: bool = True) -> dict:
        step = {"name": name, "status": "skipped", "reason": reason, "seconds": 0.0}
        print(f"[gpu_validate] {name}: skipped ({reason})", flush=True)
        return self.record(step) if record else step

    def run(self, name: str, cmd: list[str], limit: float, env: dict | None = None, record: bool = True) -> dict:
        """Run ``cmd`` to completion or its time limit (see ``start``)."""
        return self.finish(self.start(name, cmd, limit, env, record=record))

    def start(self, name: str, cmd: list[str], limit: float, env: dict | None = None, log_name: str | None = None,
              record: bool = True):
        """Start ``cmd`` in the background; ``finish`` waits for it. Output goes to the log (or ``log_name``)."""
        limit = min(limit, self.remaining() - KILL_GRACE_S)  # the kill grace stays inside the budget
        if limit < self.min_step_s:
            return self.skip(name, "overall time budget spent", record=record)
        print(f"[gpu_validate] {name}: {' '.join(cmd)} (limit {limit:.0f} s)", flush=True)
        path = self.log_path if log_name is None else os.path.join(self.out_dir, log_name)
        with open(path, "a", encoding="utf-8") as logf:
            logf.write(f"\n===== {name}: {' '.join(cmd)} =====\n")
            logf.flush()
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=logf, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.running.append(proc)
        return {"name": name, "proc": proc, "t0": time.monotonic(), "limit": limit, "cmd": cmd, "log": path,
                "record": record}

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
            _signal_group(proc, signal.SIGINT)
            try:
                rc = proc.wait(timeout=KILL_GRACE_S)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                rc = proc.wait()
        if proc in self.running:
            self.running.remove(proc)
        seconds = round(time.monotonic() - t0, 1)
        status = "timeout" if timed_out else ("passed" if rc == 0 else "failed")
        step = {"name": handle["name"], "status": status, "returncode": rc, "seconds": seconds,
                "command": " ".join(handle["cmd"])}
        if handle["log"] != self.log_path:
            step["log"] = os.path.basename(handle["log"])
        print(f"[gpu_validate] {handle['name']}: {status} (rc {rc}, {seconds} s)", flush=True)
        return self.record(step) if handle.get("record", True) else step

    def run_parallel(self, name: str, cmds: list[list[str]], limit: float, env: dict | None = None) -> dict:
        """Run ``cmds`` side by side under one limit, as one step (status: the worst of them)."""
        tmp = tempfile.mkdtemp(prefix="tt_validate_")
        handles = [self.start(f"{name}[{i}]", cmd, limit, env, log_name=os.path.join(tmp, f"{i}.log"), record=False)
                   for i, cmd in enumerate(cmds)]
        if any("proc" not in h for h in handles):
            for h in handles:
                if "proc" in h:
                    _signal_group(h["proc"], signal.SIGKILL)
                    h["proc"].wait()
            shutil.rmtree(tmp, ignore_errors=True)
            return self.skip(name, "overall time budget spent")
        parts = [self.finish(h) for h in handles]
        for i in range(len(cmds)):  # the shards' output, one after the other
            with open(os.path.join(tmp, f"{i}.log"), encoding="utf-8", errors="replace") as f:
                self.log(f.read())
        shutil.rmtree(tmp, ignore_errors=True)
        worst = next((st for st in ("timeout", "failed", "passed") if any(p["status"] == st for p in parts)), "passed")
        step = {"name": name, "status": worst, "returncode": max(abs(p["returncode"]) for p in parts),
                "seconds": max(p["seconds"] for p in parts), "parallel": len(parts),
                "command": parts[0]["command"] + f" (x{len(parts)})"}
        print(f"[gpu_validate] {name}: {worst} ({len(parts)} in parallel, {step['seconds']} s)", flush=True)
        return self.record(step)

    def stop_all(self) -> None:
        """End every child still running (this run was itself stopped)."""
        for proc in list(self.running):
            _signal_group(proc, signal.SIGKILL)
        self.running.clear()


def _signal_group(proc, sig) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


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
                          LIMITS[f"ceiling_{mode}"], env=_py_env(**extra))
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
    from tinytorch import _arrays
    from tinytorch._arrays import kernels
    from tests.kernels import reference as ref  # the repository checkout, not the wheel

    os.environ["TINYTORCH_CUDA_KERNELS"] = "strict"  # every kernel on; a failing launch raises, never falls back
    cp = _arrays.cupy_module()
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
            os.environ["TINYTORCH_CUDA_KERNELS"] = "strict" if fused else "0"
            tinytorch.manual_seed(0)
            model = tinytorch.nn.Linear(7, 5).to("cuda")
            opt = make(model.parameters())
            for _ in range(3):
                opt.zero_grad()
                y = model(tinytorch.ones(4, 7, device="cuda"))
                (y * y).sum().backward()
                opt.step()
            finals.append(model.weight.detach().cpu().numpy())
        os.environ["TINYTORCH_CUDA_KERNELS"] = "strict"
        check(f"fused_optimizer.{type(opt).__name__}", cp.asarray(finals[0]), finals[1], 1e-5)
    cp.cuda.runtime.deviceSynchronize()
    for kernel in ("conv2d_forward", "conv2d_backward", "linear_act_backward", "softmax_cross_entropy",
                   "fused_optimizer_step"):  # a kernel that never launched was not checked at all
        if kernels.launch_counts[kernel] == 0:
            print(f"{kernel}: NEVER LAUNCHED", flush=True)
            failures.append(f"{kernel} (never launched)")
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
        out[check] = runner.run(f"sanitizer_{check}", cmd, LIMITS[f"sanitizer_{check}"],
                                env=_py_env(TINYTORCH_CUDA_KERNELS="strict"))
    return out


def step_benchmarks(runner: Runner) -> dict | None:
    if not os.path.isdir(os.path.join(ROOT, "benchmarks")):
        runner.skip("benchmarks", "no benchmarks/ folder")
        return None
    bench_json = os.path.join(runner.out_dir, "bench.json")
    files = [os.path.join("benchmarks", f) for f in BENCH_FILES if os.path.exists(os.path.join(ROOT, "benchmarks", f))]
    # the fused-kernel rows set TINYTORCH_CUDA_KERNELS=strict themselves and fail unless the kernel launched
    runner.run("benchmarks", [sys.executable, "-m", "pytest", "-q", *files, "-k", BENCH_SELECT, "-p",
                              "no:cacheprovider", f"--benchmark-json={bench_json}"],
               LIMITS["benchmarks"], env=_py_env(TT_BENCH_SECONDS="0.1", MPLBACKEND="Agg"))
    report = os.path.join(ROOT, "benchmarks", "report.py")
    if os.path.exists(bench_json) and os.path.exists(report):
        with tempfile.TemporaryDirectory() as tmp:  # report.py writes .md + .png: keep only the Markdown
            runner.run("benchmark_report", [sys.executable, report, bench_json, "--out", tmp],
                       LIMITS["benchmark_report"], env=_py_env(MPLBACKEND="Agg"))
            for name in os.listdir(tmp):
                if name.endswith(".md"):
                    shutil.copy(os.path.join(tmp, name), os.path.join(runner.out_dir, "bench.md"))
    return {"json": "bench.json" if os.path.exists(bench_json) else None}


def _pytest_cmd(marker: str, junit_path: str, paths=("tests",), extra=()) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-m", marker, *paths, "-p", "no:cacheprovider",
            f"--junitxml={junit_path}", "-o", "junit_family=xunit2", *extra]


def gpu_test_paths() -> list[str]:
    """Every test file, the most basic GPU checks first (pytest keeps the command line's order)."""
    first = [p for p in GPU_TEST_PRIORITY if os.path.exists(os.path.join(ROOT, p))]
    rest = sorted(os.path.relpath(os.path.join(d, f), ROOT)
                  for d, _, names in os.walk(os.path.join(ROOT, "tests")) for f in names
                  if f.startswith("test_") and f.endswith(".py"))
    return first + [p for p in rest if p not in first]


def default_shards() -> int:
    return max(1, min(6, (os.cpu_count() or 2) // 2))


def step_gpu_tests(runner: Runner, shards: int) -> dict:
    """``pytest -m gpu`` split into ``shards`` interleaved slices run side by side; one merged JUnit file."""
    tmp = tempfile.mkdtemp(prefix="tt_junit_")
    paths = gpu_test_paths()
    cmds = [_pytest_cmd("gpu", os.path.join(tmp, f"{i}.xml"), paths,
                        ("-p", "tools.pytest_shard", f"--shard={i}/{shards}")) for i in range(shards)]
    step = runner.run_parallel("gpu_tests", cmds, LIMITS["gpu_tests"], env=_py_env())
    out = os.path.join(runner.out_dir, "junit-gpu.xml")
    merge_junit([os.path.join(tmp, f"{i}.xml") for i in range(shards)], out)
    shutil.rmtree(tmp, ignore_errors=True)
    step["junit"] = parse_junit(out)
    if runner.on_step is not None:
        runner.on_step()
    return step


def merge_junit(parts: list[str], out: str) -> None:
    """One ``<testsuites>`` file from several JUnit files (missing or unreadable ones are left out)."""
    root = ET.Element("testsuites")
    for path in parts:
        if not os.path.exists(path):
            continue
        try:
            got = ET.parse(path).getroot()
        except ET.ParseError:
            continue
        for suite in ([got] if got.tag == "testsuite" else list(got.iter("testsuite"))):
            root.append(suite)
    if len(root):
        ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)


def step_cpu_tests(runner: Runner, requested: bool) -> dict:
    """The non-GPU half of the suite, last and only on request (CI runs it; device time is for the GPU)."""
    if runner.remaining() - KILL_GRACE_S < runner.min_step_s:
        return runner.skip("cpu_tests", "overall time budget spent")
    if not requested:
        return runner.skip("cpu_tests", "not requested (--cpu-tests; CI runs the non-GPU half)")
    path = os.path.join(runner.out_dir, "junit-cpu.xml")
    threads = {k: "4" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    handle = runner.start("cpu_tests", _pytest_cmd("not gpu", path), CPU_TESTS_LIMIT, env=_py_env(**threads),
                          log_name="cpu_tests.log")
    step = runner.finish(handle)
    step["junit"] = parse_junit(path)
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
    if env.get("cupy_checks"):
        lines.append("- CuPy checks: " + ", ".join(f"{k} {v}" for k, v in env["cupy_checks"].items()))
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


class _Stopped(BaseException):
    """SIGTERM (the device tool's time limit): stop the steps, keep what was measured."""


def _on_sigterm(signum, frame):
    raise _Stopped()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", help="output folder (default: benchmarks/results/gpu-<UTC time>)")
    p.add_argument("--dry-run", action="store_true", help="environment and summary only: no GPU or test steps")
    p.add_argument("--budget", type=float, default=DEFAULT_BUDGET_S, help="overall seconds for all steps")
    p.add_argument("--shards", type=int, default=None, help="parallel pytest processes for the gpu tests")
    p.add_argument("--cpu-tests", action="store_true", help="also run the non-GPU half of the suite, if time is left")
    p.add_argument("--ceiling", choices=["copy", "fp32", "tf32", "bf16"], help=argparse.SUPPRESS)
    p.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json", help=argparse.SUPPRESS)
    p.add_argument("--exercise-kernels", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.ceiling or args.probe:  # child processes of step_ceilings / environment
        try:
            result = probe_cuda() if args.probe else measure_ceiling(args.ceiling)
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
    summary = {"mode": "dry-run" if args.dry_run else "full", "environment": {"time_utc": _now(),
               "git_commit": git_commit()}, "steps": runner.steps, "ceilings": None, "out_dir": out_dir,
               "verdict": "running (cut short: the summary was not finished)"}

    def write_summary() -> None:
        summary["seconds"] = round(time.monotonic() - t0, 1)
        with open(os.path.join(out_dir, "summary.json"), "w") as f:
            json.dump(summary, f, indent=1, default=str)
        with open(os.path.join(out_dir, "summary.md"), "w") as f:
            f.write(render_markdown(summary))

    runner.on_step = write_summary
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if threading_main() else None
    rc = 0
    try:
        write_summary()
        env = environment(runner)
        summary["environment"] = env
        runner.log(json.dumps(env, indent=1))
        print(f"[gpu_validate] device: {env.get('gpu') or 'none'}; driver {env.get('driver')}; CUDA "
              f"{env.get('cuda_runtime')}; CuPy {env.get('cupy')}; torch {env.get('torch')}; "
              f"commit {env['git_commit']}", flush=True)
        write_summary()
        has_gpu = env["cupy_usable"]
        broken = None
        if env.get("nvidia_smi") and not has_gpu:
            broken = f"nvidia-smi sees {env.get('gpu')} but CuPy is unusable: {env.get('gpu_reason')}"
            print(f"[gpu_validate] FAIL: {broken}", file=sys.stderr, flush=True)
        no_gpu = broken or f"no GPU: {env.get('gpu_reason')}"
        if args.dry_run or broken:
            reason = ("dry run" + ("" if has_gpu else f"; {no_gpu}")) if args.dry_run else no_gpu
            for name in ("ceilings", "gpu_tests", "sanitizer", "benchmarks", "cpu_tests"):
                runner.skip(name, reason)
        else:
            if has_gpu:
                summary["ceilings"] = step_ceilings(runner)
                step_gpu_tests(runner, args.shards or default_shards())
                step_sanitizer(runner)
            else:
                for name in ("ceilings", "gpu_tests", "sanitizer"):
                    runner.skip(name, no_gpu)
            step_benchmarks(runner)
            step_cpu_tests(runner, args.cpu_tests)
        bad = [s["name"] for s in runner.steps if s["status"] in ("failed", "timeout")]
        if broken:
            summary["verdict"], rc = f"FAILED: {broken}", 2
        elif args.dry_run:
            summary["verdict"] = "dry run: nothing executed"
        elif bad:
            summary["verdict"], rc = "problems in: " + ", ".join(bad), 1
        else:
            summary["verdict"] = "all steps passed" + ("" if has_gpu else " (no GPU: GPU steps skipped)")
    except (_Stopped, KeyboardInterrupt):
        runner.stop_all()
        summary["verdict"] = "stopped from outside (time limit?): the steps above are what was measured"
        rc = 3
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        write_summary()
    print(render_markdown(summary), flush=True)
    print(f"[gpu_validate] wrote {out_dir} ({summary['seconds']} s)", flush=True)
    return rc


def threading_main() -> bool:
    """Signal handlers can only be installed from the main thread."""
    import threading

    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":
    sys.exit(main())
