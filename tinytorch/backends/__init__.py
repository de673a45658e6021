"""``tinytorch.backends``: the settable switches scripts touch (``backends.cudnn.benchmark``,
``backends.cuda.matmul.allow_tf32`` ...).

``backends.cuda.matmul.allow_tf32`` is the single source of truth for TF32 in matrix products: the CUDA path
reads it (through :func:`tinytorch.backends.cuda.matmul_allows_tf32`) to pick CuPy's compute type, and
``tinytorch.set_float32_matmul_precision`` writes it.
"""
from __future__ import annotations

from . import cuda, cudnn, mps  # noqa: F401

__all__ = ["cuda", "cudnn", "mps"]
