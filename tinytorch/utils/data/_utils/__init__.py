"""DataLoader internals: collation (and, later, worker processes)."""
from __future__ import annotations

from . import collate  # noqa: F401
