"""``tinytorch.nn.parallel``: the data-parallel wrappers.

``DataParallel`` runs its module directly (tinytorch drives one device per process), keeping torch's
``module.`` prefix in state dicts. ``DistributedDataParallel`` (in ``distributed.py``) averages gradients
across the ranks of an initialized process group (see ``tinytorch.distributed``).
"""
from __future__ import annotations

from ..modules import Module
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]


class DataParallel(Module):
    """``DataParallel(module, device_ids=None, output_device=None, dim=0)``: calls ``module`` directly.

    The wrapped module is ``self.module`` (so its state-dict keys gain the ``module.`` prefix, as in torch).
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: expected an nn.Module, got {type(module).__name__}")
        self.module = module
        self.device_ids = list(device_ids) if device_ids is not None else []
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
