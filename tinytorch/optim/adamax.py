"""Adamax: Adam with the infinity norm."""
from __future__ import annotations

from .. import _arrays
from .optimizer import Optimizer, adam_family_begin, check_betas, check_nonneg, scalar_state, zeros_state

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """``torch.optim.Adamax``.

    Per step t, with ``g`` the gradient (negated when ``maximize``)::

        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1**t) * m / u
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False, fused=None):
        check_nonneg(lr, "learning rate")
        check_nonneg(eps, "epsilon value")
        check_betas(betas)
        check_nonneg(weight_decay, "weight_decay value")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, p, group, state):
        state["step"] = scalar_state(0.0)
        state["exp_avg"] = zeros_state(p)
        state["exp_inf"] = zeros_state(p)

    def _update(self, p, grad, state, group):
        xp = _arrays.array_module(p._data)
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        g, step = adam_family_begin(p, grad, state, group)  # Adamax: coupled decay only
        m, u = state["exp_avg"]._data, state["exp_inf"]._data
        m += (1 - beta1) * (g - m)
        u *= beta2
        xp.maximum(u, xp.abs(g) + eps, out=u)
        p._data += (-lr / (1 - beta1**step)) * (m / u)
