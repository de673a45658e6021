"""The sparse-matrix module for an array module: ``scipy.sparse`` on NumPy, ``cupyx.scipy.sparse`` on CuPy.

SciPy is optional: it is imported on first use, and a missing install is reported with
the command that fixes it. This is the only place that imports ``cupyx.scipy``.
"""
from __future__ import annotations

import numpy as np

from . import _cuda


def sparse_module(xp):
    """``scipy.sparse`` when ``xp`` is NumPy, ``cupyx.scipy.sparse`` when it is CuPy."""
    if xp is np:
        try:
            import scipy.sparse as sp  # optional dependency
        except ImportError as e:
            raise ImportError(
                "tinytorch sparse ops on the CPU need SciPy, which is not installed: "
                "pip install scipy  (or pip install 'tinytorch[examples]')") from e
        return sp
    try:
        csp = _cuda.cupyx("scipy.sparse")
    except (ImportError, AttributeError) as e:
        raise ImportError(f"tinytorch sparse ops on CUDA need cupyx.scipy.sparse (part of CuPy): {e}") from e
    return csp
