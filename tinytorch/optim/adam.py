"""Adam and AdamW (decoupled weight decay)."""
from __future__ import annotations

import math

import numpy as np

from .. import _arrays
from ..tensor import Tensor
from .optimizer import Optimizer, adam_family_begin, check_betas, check_nonneg, scalar_state, update_moments, zeros_state

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """``torch.optim.Adam`` (Kingma & Ba), with AMSGrad and optional decoupled weight decay.

    Per step t, with ``g`` the gradient (negated when ``maximize``)::

        g = g + weight_decay * p          (or p = p * (1 - lr * weight_decay) when decoupled)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        vmax = max(vmax, v)               (amsgrad; v below is then vmax)
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    Args:
        params: tensors or parameter-group dicts. lr: learning rate. betas: (beta1, beta2).
        eps: added to the denominator. weight_decay: L2 penalty. amsgrad: use the running max of v.
        maximize, foreach, differentiable, fused: as torch; ``fused=True`` tries the
            fused CUDA kernel and falls back to the per-parameter path.
        capturable: as torch, the step count is a 0-d tensor on the parameter's device and the bias
            corrections are computed there, so a step captured in a CUDA graph stays right on replay
            (the default keeps ``step`` on the host and reads it into Python each step).
        decoupled_weight_decay: AdamW's decay of the weights instead of the gradient.
    """

    _fused_kind = "adam"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        check_nonneg(lr, "learning rate")
        check_nonneg(eps, "epsilon value")
        check_betas(betas)
        check_nonneg(weight_decay, "weight_decay value")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, p, group, state):
        state["step"] = _device_step(p) if group["capturable"] else scalar_state(0.0)
        state["exp_avg"] = zeros_state(p)
        state["exp_avg_sq"] = zeros_state(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_state(p)

    def _update(self, p, grad, state, group):
        if group["capturable"]:
            self._update_capturable(p, grad, state, group)
            return
        xp = _arrays.array_module(p._data)
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        g, step = adam_family_begin(p, grad, state, group)
        m, v = update_moments(state, g, beta1, beta2)
        bias_correction1 = 1 - beta1**step
        bias_correction2_sqrt = math.sqrt(1 - beta2**step)
        if group["amsgrad"]:
            vmax = state["max_exp_avg_sq"]._data
            xp.maximum(vmax, v, out=vmax)
            v = vmax
        denom = xp.sqrt(v) / bias_correction2_sqrt + eps
        p._data += (-lr / bias_correction1) * (m / denom)


    def _update_capturable(self, p, grad, state, group):
        """``capturable=True``: the same step with ``step`` and the bias corrections kept on ``p``'s device
        (no host read, so the work can be captured in a CUDA graph and replayed)."""
        xp = _arrays.array_module(p._data)
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        if _arrays.array_module(state["step"]._data) is not xp:  # a loaded state_dict keeps step on the host
            state["step"] = _device_step(p, state["step"]._data)
        step = state["step"]._data
        step += 1
        g = -grad if group["maximize"] else grad
        wd = group["weight_decay"]
        if wd != 0:
            if group["decoupled_weight_decay"]:
                p._data *= 1 - lr * wd
            else:
                g = g + wd * p._data
        m, v = update_moments(state, g, beta1, beta2)
        # bias corrections as 0-d device arrays in step's dtype (torch's capturable path does the same)
        bias_correction1 = 1 - xp.power(step.dtype.type(beta1), step)
        bias_correction2_sqrt = xp.sqrt(1 - xp.power(step.dtype.type(beta2), step))
        if group["amsgrad"]:
            vmax = state["max_exp_avg_sq"]._data
            xp.maximum(vmax, v, out=vmax)
            v = vmax
        denom = xp.sqrt(v) / bias_correction2_sqrt.astype(v.dtype) + eps
        p._data += (-lr / bias_correction1).astype(p._data.dtype) * (m / denom)


def _device_step(p, value=0.0):
    """``step`` of a capturable optimizer: a 0-d tensor on ``p``'s device, of the host step's dtype."""
    host = np.array(_arrays.as_numpy(value), dtype=scalar_state(0.0)._data.dtype)
    return Tensor._make(_arrays.to_device(host, p.device))


class AdamW(Adam):
    """``torch.optim.AdamW``: Adam with decoupled weight decay ``p = p * (1 - lr * weight_decay)``.

    Same arguments as ``Adam``; ``weight_decay`` defaults to 1e-2.
    """

    _fused_kind = "adamw"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         foreach=foreach, maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused, decoupled_weight_decay=True)
