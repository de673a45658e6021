"""loss ops (to be filled)."""
from __future__ import annotations

TENSOR_METHODS = ()
