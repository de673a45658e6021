"""pytest-benchmark harness comparing tinytorch and PyTorch on the CPU and on CUDA in one run.

    python -m pytest benchmarks --benchmark-json=benchmarks/results/cpu.json
    python benchmarks/report.py benchmarks/results/cpu.json

Every ``bench_*.py`` file here is collected. The ``bk`` fixture runs each case on tinytorch-cpu,
tinytorch-cuda, torch-cpu and torch-cuda (each skipped with its reason when unusable); the cases of
one size share a ``benchmark.group`` so each table row compares the backends.

Environment: ``TT_BENCH_THREADS`` (default 2) pins the BLAS/OpenMP threads of NumPy and PyTorch alike;
``TT_BENCH_SMOKE=1`` or ``--smoke`` runs every case once on small shapes; ``TT_BENCH_SECONDS`` is the
timed budget per case (default 1.0).
"""
from __future__ import annotations

import os

# Must happen before NumPy or PyTorch load their BLAS/OpenMP runtimes, which read these once.
_THREADS = os.environ.setdefault("TT_BENCH_THREADS", "2")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _THREADS

import datetime  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
import _harness  # noqa: E402

try:  # a plugin may have imported NumPy before us; threadpoolctl enforces the limit anyway
    from threadpoolctl import threadpool_info, threadpool_limits

    _LIMITS = threadpool_limits(limits=int(_THREADS))
except ImportError:
    threadpool_info = None

_torch = _harness.try_import_torch()
if _torch is not None:
    _torch.set_num_threads(int(_THREADS))
    try:
        _torch.set_num_interop_threads(1)
    except RuntimeError:  # already set once in this process
        pass


def pytest_addoption(parser):
    parser.addoption("--smoke", action="store_true", default=False,
                     help="tinytorch benchmarks: run every case once on small shapes")


def pytest_configure(config):
    if config.getoption("--smoke", default=False):
        os.environ["TT_BENCH_SMOKE"] = "1"


def pytest_collect_file(file_path, parent):
    # bench_*.py are collected like test files when the directory is given; explicit paths already are.
    if file_path.suffix == ".py" and file_path.name.startswith("bench_") \
            and not parent.session.isinitpath(file_path):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


@pytest.fixture(params=[pytest.param(name, marks=[pytest.mark.gpu] if name.endswith("cuda") else [])
                        for name in _harness.BACKENDS])
def bk(request):
    """The backend a case runs on: one of tinytorch-cpu, tinytorch-cuda, torch-cpu, torch-cuda."""
    reason = _harness.unavailable_reason(request.param)
    if reason:
        pytest.skip(reason)
    import tinytorch

    tinytorch.manual_seed(0)
    return _harness.make_backend(request.param)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             cwd=os.path.dirname(__file__), timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, cwd=os.path.dirname(__file__), timeout=10)
        return out.stdout.strip() + (" (dirty tree)" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def pytest_benchmark_update_machine_info(config, machine_info):
    import numpy

    info = {
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "threads": int(_THREADS),
        "numpy": numpy.__version__,
        "torch": getattr(_torch, "__version__", None),
        "git_commit": _git_commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "smoke": _harness.smoke(),
        "loadavg_at_end": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    if threadpool_info is not None:
        info["threadpools"] = [{k: p.get(k) for k in ("internal_api", "version", "num_threads")}
                               for p in threadpool_info()]
    import tinytorch

    if tinytorch.cuda.is_available():
        import cupy

        dev = cupy.cuda.Device()
        info["gpu"] = tinytorch.cuda.get_device_name()
        info["cuda_driver"] = cupy.cuda.runtime.driverGetVersion()
        info["cuda_runtime"] = cupy.cuda.runtime.runtimeGetVersion()
        info["cupy"] = cupy.__version__
        info["gpu_compute_capability"] = dev.compute_capability
    if _torch is not None and _torch.cuda.is_available():
        info["torch_cuda"] = _torch.version.cuda
    machine_info["tinytorch_bench"] = info
