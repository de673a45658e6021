"""Lazy, remembered CuPy import and usability probe. Never touches the GPU at import time of tinytorch.

CUDA counts as available only when CuPy really works: it imports, sees a device, compiles and runs a tiny
elementwise kernel (NVRTC), multiplies two matrices (cuBLAS) and draws random numbers (cuRAND). The first
question asks; the answer, or the precise reason it is no, is remembered.

``TINYTORCH_CUPY_MODULE`` names the module to load in CuPy's place (default ``cupy``); tests set it, or
call :func:`use_module`, to run the CUDA path on the strict CPU stand-in ``tests.cupy_standin``.
"""
from __future__ import annotations

import contextlib
import importlib
import os

_state = {"tried": False, "cupy": None, "reason": None, "devices": 0, "broken": False}
scalar_cache: dict = {}  # _arrays.scalar_like's reused 0-d device arrays, emptied when the CuPy module changes
pending_checks: list = []  # _arrays.device_check's queued device-side flags, dropped when the module changes

# which CuPy dependency a failure message points at, and what it is
_LIBRARIES = (
    ("nvrtc", "NVRTC (the CUDA runtime compiler CuPy builds elementwise kernels with)"),
    ("cublas", "cuBLAS (matrix products)"),
    ("curand", "cuRAND (random numbers)"),
    ("cusolver", "cuSOLVER (linear algebra)"),
    ("cusparse", "cuSPARSE (sparse matrices)"),
    ("cudart", "the CUDA runtime"),
    ("libcuda", "the NVIDIA driver library (libcuda)"),
)


def _extra_hint(cp) -> str:
    """Which tinytorch extra installs the CUDA libraries matching this driver."""
    try:
        drv = int(cp.cuda.runtime.driverGetVersion())
    except Exception:  # noqa: BLE001 - no driver at all: say both
        drv = 0
    if drv >= 13000:
        which = '`pip install "tinytorch[cuda13]"` (this driver supports CUDA 13)'
    elif drv >= 12000:
        which = '`pip install "tinytorch[cuda12]"` (this driver supports CUDA 12)'
    else:
        which = '`pip install "tinytorch[cuda12]"` (CUDA 12 drivers) or `"tinytorch[cuda13]"` (CUDA 13 drivers)'
    return f"install the CUDA libraries CuPy needs with {which}"


def _library_of(exc: BaseException) -> str | None:
    text = f"{type(exc).__name__} {exc}".lower()
    for key, what in _LIBRARIES:
        if key in text:
            return what
    return None


def probe(cp) -> str | None:
    """None when ``cp`` really works (device, kernel compile + run, cuBLAS, cuRAND), else why not."""
    try:
        n = int(cp.cuda.runtime.getDeviceCount())
    except Exception as e:  # noqa: BLE001 - CUDA errors come as many types
        return f"CuPy is installed but no CUDA device is usable: {type(e).__name__}: {e}"
    if n < 1:
        return "CuPy is installed but reports 0 CUDA devices"
    steps = (
        ("an elementwise kernel", lambda: float((cp.arange(4, dtype=cp.float32) * 2).sum()) == 12.0),
        ("a cuBLAS matrix product", lambda: float(cp.ones((2, 2), dtype=cp.float32).dot(
            cp.ones((2, 2), dtype=cp.float32)).sum()) == 8.0),
        ("cuRAND", lambda: cp.random.RandomState(0).standard_normal(2).shape == (2,)),
    )
    for what, step in steps:
        try:
            ok = step()
        except Exception as e:  # noqa: BLE001 - a missing .so surfaces as many types
            lib = _library_of(e)
            missing = f"{lib} could not be loaded" if lib else f"{what} failed"
            return (f"CuPy {getattr(cp, '__version__', '?')} sees {n} device(s) but {missing} "
                    f"({type(e).__name__}: {e}); {_extra_hint(cp)}")
        if not ok:
            return f"CuPy sees {n} device(s) but {what} returned a wrong result"
    return None


def _try_import():
    _state["tried"], _state["broken"] = True, False
    if os.environ.get("TINYTORCH_DISABLE_CUDA", "") not in ("", "0"):
        _state["reason"] = "CUDA disabled by TINYTORCH_DISABLE_CUDA"
        return
    name = os.environ.get("TINYTORCH_CUPY_MODULE", "") or "cupy"
    try:
        cupy = importlib.import_module(name)
    except Exception as e:  # ImportError, or a broken CUDA install raising anything
        _state["reason"] = (f"CuPy could not be imported: {type(e).__name__}: {e}; install tinytorch with "
                            'the "cuda12" or "cuda13" extra matching your driver')
        return
    _activate(cupy)


def _activate(cupy) -> None:
    reason = probe(cupy)
    if reason is not None:
        _state["reason"] = reason
        # a GPU is there but CuPy cannot use it: a broken install, not a CPU-only machine
        _state["broken"] = " device(s) but " in reason
        return
    from . import memory  # peak tracking and OOM messages from the first CUDA use on

    memory.install(cupy)
    scalar_cache.clear()
    # the device count, remembered: ops check it to know whether a device context may be needed
    _state["devices"] = int(cupy.cuda.runtime.getDeviceCount())
    _state["cupy"], _state["reason"], _state["tried"] = cupy, None, True


@contextlib.contextmanager
def use_module(module):
    """Run the block with ``module`` (e.g. the test stand-in) as tinytorch's CuPy; the state is restored after."""
    saved = dict(_state)
    _state.update(tried=True, cupy=None, reason=None, devices=0, broken=False)
    _activate(module)
    try:
        if _state["cupy"] is None:
            raise RuntimeError(f"use_module: {module!r} is not a usable CuPy: {_state['reason']}")
        yield module
    finally:
        _state.clear()
        _state.update(saved)
        scalar_cache.clear()
        pending_checks.clear()


def get_cupy():
    if not _state["tried"]:
        _try_import()
    return _state["cupy"]


def loaded_cupy():
    """CuPy if it was already imported successfully, without trying (keeps CPU paths cheap)."""
    return _state["cupy"]


def cupyx(submodule: str = ""):
    """``cupyx`` (or ``cupyx.<submodule>``) for the loaded CuPy; a stand-in module carries its own."""
    cp = require_cupy()
    own = getattr(cp, "cupyx", None)
    if own is None:
        return importlib.import_module("cupyx" + ("." + submodule if submodule else ""))
    for part in filter(None, submodule.split(".")):
        own = getattr(own, part)
    return own


def failure_reason():
    return _state["reason"]


def install_is_broken() -> bool:
    """True when CuPy sees a GPU but fails the probe (missing NVRTC/cuBLAS/cuRAND): tests must not hide it."""
    get_cupy()
    return bool(_state.get("broken"))


def require_cupy():
    cp = get_cupy()
    if cp is None:
        raise RuntimeError(f"CUDA is not available: {_state['reason']}")
    return cp


def device_count() -> int:
    cp = get_cupy()
    if cp is None:
        return 0
    return int(cp.cuda.runtime.getDeviceCount())
