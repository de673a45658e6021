"""Legacy names PyTorch scripts still use (``FloatTensor``, ``finfo`` ...). Filled by the drop-in issue."""
from __future__ import annotations

__all__: list[str] = []
