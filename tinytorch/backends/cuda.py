"""``tinytorch.backends.cuda``: CUDA switches. ``matmul.allow_tf32`` is the one TF32 switch for matmuls."""
from __future__ import annotations
from .. import _arrays

_PRECISIONS = ("highest", "high", "medium")


class _MatmulSwitches:
    """``backends.cuda.matmul``: ``allow_tf32`` and the reduced-precision reduction flags.

    ``allow_tf32`` is a view of the float32 matmul precision (``tinytorch.set_float32_matmul_precision``):
    True means 'high' (TF32 allowed), False 'highest'. Unknown attributes raise, like torch's, so a typo in a
    script does not pass silently.
    """

    __slots__ = ("_precision", "allow_fp16_reduced_precision_reduction", "allow_bf16_reduced_precision_reduction")

    def __init__(self):
        self._precision = "highest"  # torch's default: TF32 off for matmuls
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True

    @property
    def allow_tf32(self) -> bool:
        return self._precision != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        self._precision = "high" if bool(value) else "highest"

    def __repr__(self):
        return f"backends.cuda.matmul(allow_tf32={self.allow_tf32})"


matmul = _MatmulSwitches()


def matmul_allows_tf32() -> bool:
    """Whether float32 matmuls on CUDA may use TF32 tensor cores (CuPy's compute-type choice reads this)."""
    return matmul.allow_tf32


def is_built() -> bool:
    """Whether tinytorch can drive CUDA at all (CuPy importable and a device present)."""
    return _arrays.cuda_available()


def preferred_linalg_library(backend=None):
    return "default"


def flash_sdp_enabled() -> bool:
    """True: scaled_dot_product_attention has one (math) implementation, always enabled."""
    return True


mem_efficient_sdp_enabled = math_sdp_enabled = flash_sdp_enabled


def enable_flash_sdp(enabled: bool) -> None:
    """Accepted and ignored: there is only the math kernel to choose."""


enable_mem_efficient_sdp = enable_math_sdp = enable_flash_sdp
