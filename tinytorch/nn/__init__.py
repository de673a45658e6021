"""``tinytorch.nn``: modules, parameters, initialisation and functional ops."""
from __future__ import annotations

from . import functional  # noqa: F401
