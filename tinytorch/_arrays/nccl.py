"""CuPy's NCCL bindings (``cupy.cuda.nccl``) for tinytorch.distributed's "nccl" _arrays.

Here because only ``tinytorch/_arrays/`` imports CuPy. Nothing is imported until asked for.
"""
from __future__ import annotations

import importlib.util

__all__ = ["nccl_importable", "nccl_module"]


def nccl_importable() -> bool:
    """True when CuPy and its NCCL bindings import (says nothing about a usable GPU)."""
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        from cupy.cuda import nccl  # noqa: F401 - optional dependency (probe)
    except Exception:  # a CuPy without NCCL, or a broken install
        return False
    return True


def nccl_module():
    """``cupy.cuda.nccl``, or a RuntimeError that says why it cannot be used."""
    from ._cuda import require_cupy  # loads CuPy: only when NCCL is asked for

    require_cupy()  # the reason when CUDA is unusable
    try:
        from cupy.cuda import nccl  # optional dependency
    except Exception as e:
        raise RuntimeError(f"backend 'nccl' needs CuPy's NCCL bindings ({type(e).__name__}: {e}); install the "
                           "nvidia-nccl wheel of your CUDA version") from e
    return nccl
