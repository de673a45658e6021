"""Where the CUDA sources are: the ``tinytorch._kernels`` package (``kernels/`` in the repo)."""
from __future__ import annotations

import importlib.resources
import pathlib


def kernel_dir() -> pathlib.Path:
    """Directory holding the ``.cu``/``.cuh`` files, from a wheel, an editable install or the source tree."""
    try:
        return pathlib.Path(str(importlib.resources.files("tinytorch._kernels")))
    except ModuleNotFoundError:
        return pathlib.Path(__file__).resolve().parents[1] / "kernels"
