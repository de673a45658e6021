"""Adam and AdamW (decoupled weight decay)."""
from __future__ import annotations

import math

from .. import _arrays
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
        maximize, foreach, capturable, differentiable, fused: as torch; ``fused=True`` tries the
            fused CUDA kernel and falls back to the per-parameter path.
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
        state["step"] = scalar_state(0.0)
        state["exp_avg"] = zeros_state(p)
        state["exp_avg_sq"] = zeros_state(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_state(p)

    def _update(self, p, grad, state, group):
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
