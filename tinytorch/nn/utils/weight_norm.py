"""``weight_norm`` (Salimans & Kingma, 2016), the hook-based API: ``w = g * v / ||v||``.

The parameter ``name`` is replaced by ``name_g`` (the norms, shaped to broadcast along ``dim``) and ``name_v``
(the direction); a forward pre-hook recomputes ``name`` from them before every call, as PyTorch's
``torch.nn.utils.weight_norm`` does. ``dim=None`` uses one norm over the whole tensor.
"""
from __future__ import annotations

import warnings

from ..parameter import Parameter

__all__ = ["weight_norm", "remove_weight_norm"]


def _norm_except_dim(v, dim):
    """2-norm over every dim but ``dim`` (kept as size 1 so it broadcasts); all dims when ``dim`` is None."""
    if dim is None:
        return (v * v).sum().sqrt()
    dims = tuple(d for d in range(v.dim()) if d != dim)
    return (v * v).sum(dim=dims, keepdim=True).sqrt() if dims else v.abs()


class _WeightNorm:
    def __init__(self, name, dim):
        self.name, self.dim = name, dim

    def compute_weight(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name: str = "weight", dim: int | None = 0):
    """Reparameterise ``module.<name>`` as ``g * v / ||v||``; returns the module."""
    warnings.warn("torch.nn.utils.weight_norm is deprecated in favor of torch.nn.utils.parametrizations.weight_norm.",
                  FutureWarning, stacklevel=2)  # torch's own notice; the hook API still works as in torch
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, _WeightNorm) and hook.name == name:
            raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"weight_norm: module {type(module).__name__} has no parameter {name!r}")
    if dim == -1:  # torch: -1 (like None) is one norm over the whole tensor, not the last dim
        dim = None
    elif dim is not None and dim < 0:
        dim += weight.dim()
    fn = _WeightNorm(name, dim)
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, dim).detach().clone()))
    module.register_parameter(name + "_v", Parameter(weight.detach().clone()))
    setattr(module, name, fn.compute_weight(module))
    module.register_forward_pre_hook(fn)
    return module


def remove_weight_norm(module, name: str = "weight"):
    """Undo ``weight_norm``: ``name`` becomes a plain parameter holding the current ``g * v / ||v||``."""
    for hid, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, _WeightNorm) and hook.name == name:
            weight = hook.compute_weight(module).detach()
            delattr(module, name)
            del module._parameters[name + "_g"]
            del module._parameters[name + "_v"]
            module.register_parameter(name, Parameter(weight))
            del module._forward_pre_hooks[hid]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
