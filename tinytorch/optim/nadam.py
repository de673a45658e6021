"""NAdam: Adam with Nesterov momentum (Dozat), with torch's momentum-decay schedule."""
from __future__ import annotations

from .. import _arrays
from .optimizer import Optimizer, adam_family_begin, check_betas, check_nonneg, scalar_state, update_moments, zeros_state

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """``torch.optim.NAdam``.

    Per step t, with ``g`` the gradient (negated when ``maximize``)::

        g = g + weight_decay * p        (or p = p * (1 - lr * weight_decay) when decoupled)
        mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay)); prod_t = prod_{i<=t} mu_i
        m = beta1 * m + (1 - beta1) * g; v = beta2 * v + (1 - beta2) * g * g
        d = sqrt(v / (1 - beta2**t)) + eps
        p = p - lr * (1 - mu_t) / (1 - prod_t) * g / d - lr * mu_{t+1} / (1 - prod_t * mu_{t+1}) * m / d

    ``prod_t`` is kept as a scalar tensor in the state (``mu_product``), in the scalar dtype torch uses.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None):
        check_nonneg(lr, "learning rate")
        check_nonneg(eps, "epsilon value")
        check_betas(betas)
        check_nonneg(weight_decay, "weight_decay value")
        check_nonneg(momentum_decay, "momentum_decay value")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, group, state):
        state["step"] = scalar_state(0.0)
        state["mu_product"] = scalar_state(1.0)
        state["exp_avg"] = zeros_state(p)
        state["exp_avg_sq"] = zeros_state(p)

    def _update(self, p, grad, state, group):
        xp = _arrays.array_module(p._data)
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        g, step = adam_family_begin(p, grad, state, group)
        bias_correction2 = 1 - beta2**step
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * group["momentum_decay"]))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * group["momentum_decay"]))
        prod = state["mu_product"]._data
        prod *= mu  # stays in the scalar-state dtype, like torch's tensor
        mu_product = float(prod)
        m, v = update_moments(state, g, beta1, beta2)
        denom = xp.sqrt(v / bias_correction2) + eps
        p._data += (-lr * (1.0 - mu) / (1.0 - mu_product)) * (g / denom)
        p._data += (-lr * mu_next / (1.0 - mu_product * mu_next)) * (m / denom)
