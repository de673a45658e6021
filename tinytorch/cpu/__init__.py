"""``tinytorch.cpu``: torch.cpu's small surface — availability and the (deprecated) ``cpu.amp`` spelling."""
from __future__ import annotations

from . import amp  # noqa: F401 - torch.cpu.amp

__all__ = ["is_available", "device_count", "current_device", "synchronize", "amp"]


def is_available() -> bool:
    """Always True: the CPU runs everything on NumPy."""
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def synchronize(device=None) -> None:
    """Nothing to wait for: NumPy work is synchronous."""
