"""``tinytorch.amp``: automatic mixed precision — ``autocast`` with PyTorch's op policy, and ``GradScaler``.

``autocast(device_type, dtype=None)`` runs matmul/linear/conv-like ops in float16/bfloat16 and the ops
PyTorch keeps in float32 (losses; on CUDA also softmax, norms, exp/log, sum ...) in float32; the lists are
PyTorch's, in :mod:`tinytorch.amp.policy`. On the CPU, autocast reproduces torch's numerics (bfloat16
inputs and outputs, float32 accumulation) but not its speed: NumPy computes in float32 and rounds.
``GradScaler`` scales the loss so float16 gradients do not underflow, and skips steps whose gradients
are inf/NaN.
"""
from __future__ import annotations

from .autocast_mode import (  # noqa: F401
    autocast, autocast_op, custom_bwd, custom_fwd, is_autocast_available, is_autocast_enabled,
    set_autocast_enabled, get_autocast_dtype, set_autocast_dtype, is_autocast_cache_enabled,
    set_autocast_cache_enabled, clear_autocast_cache,
)
from .grad_scaler import GradScaler  # noqa: F401

__all__ = ["autocast", "GradScaler", "is_autocast_available", "custom_fwd", "custom_bwd", "autocast_op"]
