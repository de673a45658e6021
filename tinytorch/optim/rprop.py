"""Rprop: resilient backpropagation, a per-element step size driven by the sign of the gradient only."""
from __future__ import annotations

from .. import _arrays
from .optimizer import Optimizer, check_nonneg, scalar_state, zeros_state

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """``torch.optim.Rprop``.

    Per element, with ``g`` the gradient (negated when ``maximize``) and ``g_prev`` the last one kept::

        g * g_prev > 0:  step = min(step * etaplus, step_max)
        g * g_prev < 0:  step = max(step * etaminus, step_min), and g is taken as 0 (no move, no memory)
        p = p - sign(g) * step;  g_prev = g

    Args:
        params, lr (initial step size, 1e-2), etas ((etaminus, etaplus), default (0.5, 1.2)),
        step_sizes ((min, max), default (1e-6, 50)), and capturable/foreach/maximize/differentiable as torch.
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False,
                 foreach=None, maximize=False, differentiable=False):
        check_nonneg(lr, "learning rate")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, p, group, state):
        state["step"] = scalar_state(0.0)
        state["prev"] = zeros_state(p)
        state["step_size"] = zeros_state(p, float(group["lr"]))

    def _update(self, p, grad, state, group):
        xp = _arrays.array_module(p._data)
        etaminus, etaplus = group["etas"]
        step_min, step_max = group["step_sizes"]
        g = -grad if group["maximize"] else grad
        state["step"]._data += 1
        prev, step_size = state["prev"]._data, state["step_size"]._data
        sign = xp.sign(g * prev)
        factor = xp.where(sign > 0, etaplus, xp.where(sign < 0, etaminus, 1.0)).astype(p._data.dtype)
        step_size *= factor
        xp.clip(step_size, step_min, step_max, out=step_size)
        g = xp.where(sign < 0, 0, g).astype(p._data.dtype)  # a sign flip: skip this element's move once
        p._data -= xp.sign(g) * step_size
        prev[...] = g
