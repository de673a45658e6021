"""``tinytorch.backends``: settable switches scripts touch (``backends.cudnn.benchmark`` ...)."""
from __future__ import annotations

from types import SimpleNamespace

cudnn = SimpleNamespace(benchmark=False, deterministic=False, allow_tf32=True, enabled=True,
                        is_available=lambda: False)
cuda = SimpleNamespace(matmul=SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True))
mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
