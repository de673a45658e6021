"""``tinytorch.nn.parallel``: the data-parallel wrappers, usable on a single device.

``DataParallel`` runs its module directly (tinytorch drives one device per process), keeping torch's
``module.`` prefix in state dicts. ``DistributedDataParallel`` needs an initialized process group, which
tinytorch never has, so it raises a clear error: guard it with ``torch.distributed.is_initialized()``.
"""
from __future__ import annotations

from ..modules import Module
from ... import distributed as _dist

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


class DistributedDataParallel(Module):
    """``DistributedDataParallel(module, ...)``: raises unless a process group is initialized (never, here)."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters: bool = False, **kwargs):
        if not _dist.is_initialized():
            raise ValueError("DistributedDataParallel: the default process group has not been initialized "
                             "(tinytorch has no distributed backend; use the module directly or DataParallel)")
        super().__init__()
        self.module = module

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
