"""``tinytorch.optim`` (filled by the nn issue)."""
from __future__ import annotations
