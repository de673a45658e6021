"""Worker processes for ``DataLoader(num_workers > 0)``."""
from __future__ import annotations

_worker_info = None


def get_worker_info():
    return _worker_info


class MultiProcessIter:
    def __init__(self, loader):
        raise NotImplementedError(
            "DataLoader: num_workers > 0 is not implemented in tinytorch yet; use num_workers=0"
        )
