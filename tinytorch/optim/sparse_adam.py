"""SparseAdam: Adam that touches only the entries present in the gradient."""
from __future__ import annotations

import math

from .. import _arrays
from .optimizer import Optimizer, check_betas, check_nonneg, zeros_state

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """``torch.optim.SparseAdam``: the moments and the parameter change only where the gradient has entries.

    tinytorch has no sparse tensors, so the gradient arrives dense and its non-zero elements play the role of
    a sparse gradient's stored values: ``torch.optim.SparseAdam`` given ``grad.to_sparse()`` (which keeps
    exactly the non-zeros) takes the same steps. Where the gradient is zero, ``exp_avg``, ``exp_avg_sq`` and
    the parameter stay as they are (dense Adam would decay the moments there). For a gradient ``g`` present
    at an element, at step ``k``::

        m = m + (1 - beta1) * (g - m);  v = v + (1 - beta2) * (g*g - v)
        p = p - lr * sqrt(1 - beta2**k) / (1 - beta1**k) * m / (sqrt(v) + eps)

    Args:
        params, lr (1e-3), betas ((0.9, 0.999)), eps (1e-8), maximize.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        check_nonneg(lr, "learning rate")
        check_betas(betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, group, state):
        state["step"] = 0
        state["exp_avg"] = zeros_state(p)
        state["exp_avg_sq"] = zeros_state(p)

    def _update(self, p, grad, state, group):
        xp = _arrays.array_module(p._data)
        beta1, beta2 = group["betas"]
        g = -grad if group["maximize"] else grad
        state["step"] += 1
        present = g != 0
        if not bool(present.any()):
            return
        gv = g[present]
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        m_new = m[present] + (gv - m[present]) * (1 - beta1)
        v_new = v[present] + (gv * gv - v[present]) * (1 - beta2)
        m[present], v[present] = m_new, v_new
        k = state["step"]
        step_size = group["lr"] * math.sqrt(1 - beta2 ** k) / (1 - beta1 ** k)
        p._data[present] += -step_size * (m_new / (xp.sqrt(v_new) + group["eps"]))
