"""RMSprop (Hinton), optionally centered and with momentum."""
from __future__ import annotations

from .. import _arrays
from .optimizer import Optimizer, check_nonneg, scalar_state, zeros_state

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """``torch.optim.RMSprop``.

    Per step, with ``g`` the gradient (negated when ``maximize``)::

        g = g + weight_decay * p
        s = alpha * s + (1 - alpha) * g * g
        a = alpha * a + (1 - alpha) * g            (centered)
        d = sqrt(s - a * a) (centered) or sqrt(s), then d = d + eps
        b = momentum * b + g / d; p = p - lr * b   (momentum > 0)
        p = p - lr * g / d                         (otherwise)

    Args:
        params, lr, alpha (smoothing constant), eps, weight_decay, momentum, centered, and
        capturable/foreach/maximize/differentiable/fused as torch (fused: no fused kernel, accepted).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False, *, fused=None):
        check_nonneg(lr, "learning rate")
        check_nonneg(eps, "epsilon value")
        check_nonneg(momentum, "momentum value")
        check_nonneg(weight_decay, "weight_decay value")
        check_nonneg(alpha, "alpha value")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, group, state):
        state["step"] = scalar_state(0.0)
        state["square_avg"] = zeros_state(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_state(p)
        if group["centered"]:
            state["grad_avg"] = zeros_state(p)

    def _update(self, p, grad, state, group):
        xp = _arrays.array_module(p._data)
        lr, alpha, eps, wd, momentum = group["lr"], group["alpha"], group["eps"], group["weight_decay"], group["momentum"]
        g = -grad if group["maximize"] else grad
        state["step"]._data += 1
        if wd != 0:
            g = g + wd * p._data
        s = state["square_avg"]._data
        s *= alpha
        s += (1 - alpha) * (g * g)
        if group["centered"]:
            a = state["grad_avg"]._data
            a += (1 - alpha) * (g - a)
            avg = xp.sqrt(s - a * a)
        else:
            avg = xp.sqrt(s)
        avg += eps
        if momentum > 0:
            b = state["momentum_buffer"]._data
            b *= momentum
            b += g / avg
            p._data -= lr * b
        else:
            p._data += -lr * (g / avg)
