"""Adadelta (Zeiler, 2012): step sizes from running averages of squared gradients and squared updates."""
from __future__ import annotations

from .. import _arrays
from .optimizer import adam_family_begin, Optimizer, check_nonneg, scalar_state, zeros_state

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """``torch.optim.Adadelta``.

    Per step, with ``g`` the gradient (negated when ``maximize``)::

        g = g + weight_decay * p
        s = rho * s + (1 - rho) * g * g
        d = sqrt(u + eps) / sqrt(s + eps) * g
        u = rho * u + (1 - rho) * d * d
        p = p - lr * d

    Args:
        params, lr (scales the update; torch's default 1.0), rho (averaging coefficient in [0, 1]), eps,
        weight_decay, and foreach/capturable/maximize/differentiable as torch.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        check_nonneg(lr, "learning rate")
        check_nonneg(eps, "epsilon value")
        check_nonneg(weight_decay, "weight_decay value")
        if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, group, state):
        state["step"] = scalar_state(0.0)
        state["square_avg"] = zeros_state(p)
        state["acc_delta"] = zeros_state(p)

    def _update(self, p, grad, state, group):
        xp = _arrays.array_module(p._data)
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        g, _ = adam_family_begin(p, grad, state, group)  # maximize sign, step += 1, weight decay
        s, u = state["square_avg"]._data, state["acc_delta"]._data
        s *= rho
        s += (1 - rho) * (g * g)
        delta = xp.sqrt(u + eps) / xp.sqrt(s + eps) * g
        u *= rho
        u += (1 - rho) * (delta * delta)
        p._data += -lr * delta
