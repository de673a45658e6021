"""``tinytorch.utils``."""
from __future__ import annotations

from . import data  # noqa: F401
from . import checkpoint  # torch.utils.checkpoint is reachable after `import torch`
