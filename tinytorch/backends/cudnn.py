"""``tinytorch.backends.cudnn``: cuDNN switches. tinytorch's convolutions do not go through cuDNN, so
``benchmark`` and ``deterministic`` are recorded for scripts that set and read them; ``allow_tf32`` is the
convolution counterpart of ``backends.cuda.matmul.allow_tf32``.
"""
from __future__ import annotations

benchmark: bool = False
deterministic: bool = False
allow_tf32: bool = True  # torch's default for convolutions
enabled: bool = True


def is_available() -> bool:
    """False: tinytorch does not use cuDNN."""
    return False


def version():
    """None, as torch reports when cuDNN is absent."""
    return None
