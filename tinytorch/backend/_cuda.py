"""Lazy, remembered CuPy import. Never touches the GPU at import time of tinytorch."""
from __future__ import annotations

import os

_state = {"tried": False, "cupy": None, "reason": None}


def _try_import():
    _state["tried"] = True
    if os.environ.get("TINYTORCH_DISABLE_CUDA", "") not in ("", "0"):
        _state["reason"] = "CUDA disabled by TINYTORCH_DISABLE_CUDA"
        return
    try:
        import cupy  # noqa: PLC0415
    except Exception as e:  # ImportError, or a broken CUDA install raising anything
        _state["reason"] = f"CuPy could not be imported: {type(e).__name__}: {e}"
        return
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:
        _state["reason"] = f"CuPy is installed but no CUDA device is usable: {type(e).__name__}: {e}"
        return
    if n < 1:
        _state["reason"] = "CuPy is installed but reports 0 CUDA devices"
        return
    from . import memory  # noqa: PLC0415 - peak tracking and OOM messages from the first CUDA use on

    memory.install(cupy)
    _state["cupy"] = cupy


def get_cupy():
    if not _state["tried"]:
        _try_import()
    return _state["cupy"]


def loaded_cupy():
    """CuPy if it was already imported successfully, without trying (keeps CPU paths cheap)."""
    return _state["cupy"]


def failure_reason():
    return _state["reason"]


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
