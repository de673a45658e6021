"""``tinytorch.version``: what scripts read from ``torch.version`` (``__version__``, ``cuda``, ``git_version``)."""
from __future__ import annotations

__all__ = ["__version__", "cuda", "hip", "git_version", "debug"]

__version__ = "0.1.0"
cuda = None  # no CUDA toolkit is built in; CuPy supplies CUDA at run time (see tinytorch.cuda.is_available)
hip = None
git_version = "unknown"
debug = False
