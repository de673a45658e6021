"""ASGD: averaged stochastic gradient descent (Polyak & Juditsky), with torch's decaying step size."""
from __future__ import annotations

import numpy as np

from .optimizer import adam_family_begin, Optimizer, check_nonneg, scalar_dtype, scalar_state, zeros_state

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """``torch.optim.ASGD``.

    Per step ``k`` (from 1), with ``g`` the gradient (negated when ``maximize``)::

        g = g + weight_decay * p
        p = p * (1 - lambd * eta) - eta * g
        ax = ax + mu * (p - ax)           (ax = p while mu == 1)
        eta = lr / (1 + lambd * lr * k) ** alpha
        mu = 1 / max(1, k - t0)

    ``eta`` and ``mu`` are kept as scalar tensors of torch's scalar-state dtype (float32 unless the default
    dtype is float64), as torch does, so the rounding of ``eta`` matches torch's.

    Args:
        params, lr (1e-2), lambd (decay term, 1e-4), alpha (power of the eta update, 0.75), t0 (step at which
        averaging starts, 1e6), weight_decay, and foreach/maximize/differentiable/capturable as torch.
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        check_nonneg(lr, "learning rate")
        check_nonneg(weight_decay, "weight_decay value")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, p, group, state):
        state["step"] = scalar_state(0.0)
        state["eta"] = scalar_state(float(group["lr"]))
        state["mu"] = scalar_state(1.0)
        state["ax"] = zeros_state(p)

    def _update(self, p, grad, state, group):
        lr, lambd, alpha, t0 = group["lr"], group["lambd"], group["alpha"], group["t0"]
        g, step = adam_family_begin(p, grad, state, group)  # maximize sign, step += 1, weight decay
        eta = float(state["eta"]._data)
        mu = float(state["mu"]._data)
        p._data *= 1 - lambd * eta
        p._data += -eta * g
        ax = state["ax"]._data
        if mu != 1:
            ax += (p._data - ax) * mu
        else:
            ax[...] = p._data
        sdt = scalar_dtype().np
        state["eta"]._data[...] = np.asarray(lr / ((1 + lambd * lr * step) ** alpha), dtype=sdt)
        state["mu"]._data[...] = np.asarray(1 / max(1, step - t0), dtype=sdt)
