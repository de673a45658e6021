"""``Optimizer``: parameter groups, per-parameter state, ``state_dict`` and the ``step`` loop.

Subclasses implement ``_init_state(p, group, state)`` (fills ``state`` for a parameter's first step)
and ``_update(p, grad, state, group)``, which changes ``p``'s array in place with the
backend's ``xp`` (NumPy or CuPy: the one of the parameter's array). Updates run on raw arrays
so a step records no graph and allocates no tensors; the state holds ``Tensor`` objects on
the parameter's device and dtype, exactly what ``state_dict()`` hands out.
"""
from __future__ import annotations

import copy
from collections.abc import MutableMapping

import numpy as np

from .. import _arrays
from .. import _dtype as dtypes
from ..autograd import grad_mode
from .._arrays import kernels
from ..tensor import Tensor
import warnings

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class _IdentityDict(MutableMapping):
    """A dict keyed by object identity (a tensor's ``==`` is elementwise, so it cannot be a key).

    Missing keys read as a fresh ``{}`` that is stored, like torch's ``defaultdict(dict)``.
    The key objects are kept alive with their values, so an identity is never reused while stored.
    """

    def __init__(self, items=()):
        self._d = {}
        for k, v in (items.items() if isinstance(items, dict) else items):
            self[k] = v

    def __getitem__(self, key):
        entry = self._d.get(id(key))
        if entry is None:
            entry = self._d[id(key)] = (key, {})
        return entry[1]

    def __setitem__(self, key, value):
        self._d[id(key)] = (key, value)

    def __delitem__(self, key):
        del self._d[id(key)]

    def __contains__(self, key):
        return id(key) in self._d

    def __iter__(self):
        return (k for k, _ in self._d.values())

    def __len__(self):
        return len(self._d)

    def get(self, key, default=None):
        entry = self._d.get(id(key))
        return default if entry is None else entry[1]

    def __repr__(self):
        return "{" + ", ".join(f"<tensor {tuple(k.shape)}>: {v!r}" for k, v in self._d.values()) + "}"


def scalar_dtype():
    """dtype of scalar state such as ``step`` (torch: float64 under a float64 default, else float32)."""
    return dtypes.float64 if dtypes.get_default_dtype() is dtypes.float64 else dtypes.float32


def scalar_state(value: float) -> Tensor:
    """A 0-d CPU tensor for scalar state (torch keeps ``step`` on the CPU unless capturable)."""
    return Tensor._make(np.asarray(value, dtype=scalar_dtype().np))


def zeros_state(p: Tensor, fill: float = 0.0) -> Tensor:
    """A state buffer shaped like ``p``, on its device and dtype."""
    xp = _arrays.array_module(p._data)
    return Tensor._make(xp.full(p._data.shape, fill, dtype=p._data.dtype))


def adam_family_begin(p: Tensor, grad, state, group):
    """The start every Adam-family step shares: sign for ``maximize``, ``step += 1``, and weight
    decay, decoupled (AdamW-style, shrinking ``p`` in place) or added to the gradient.

    Returns the gradient array to use and the new step count.
    """
    g = -grad if group["maximize"] else grad
    state["step"]._data += 1
    step = float(state["step"]._data)
    wd = group["weight_decay"]
    if wd != 0:
        if group.get("decoupled_weight_decay", False):
            p._data *= 1 - group["lr"] * wd
        else:
            g = g + wd * p._data
    return g, step


def update_moments(state, g, beta1, beta2):
    """Adam's exponential moving averages, in place: m += (1-b1)(g-m); v = b2 v + (1-b2) g²."""
    m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
    m += (1 - beta1) * (g - m)
    v *= beta2
    v += (1 - beta2) * (g * g)
    return m, v


def check_nonneg(value, what: str):
    """torch's hyper-parameter message: ``Invalid learning rate: -1``."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"Tensor {what} must be 1-element, got shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"Invalid {what}: expected a number, got {type(value).__name__} {value!r}")
    if not 0.0 <= value:
        raise ValueError(f"Invalid {what}: {value}")


def check_betas(betas):
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"Invalid betas: expected a pair (beta1, beta2), got {betas!r}")
    for i, b in enumerate(betas):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {b}")


class Optimizer:
    """Base class of all optimizers (``torch.optim.Optimizer``).

    Args:
        params: an iterable of tensors, or of dicts defining parameter groups
            (``{'params': [...], 'lr': 0.1}``); options missing from a group take ``defaults``.
        defaults: the default value of every option.
    """

    # kind passed to the fused multi-tensor kernel; None means the optimizer has no fused path
    _fused_kind: str | None = None

    def __init__(self, params, defaults: dict):
        if defaults.get("differentiable"):
            raise NotImplementedError(
                f"{type(self).__name__}: differentiable=True is not supported; tinytorch steps update the "
                "parameters in place outside the autograd graph"
            )
        self.defaults = defaults
        self.state = _IdentityDict()
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {type(params).__name__}"
            )
        if isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of "
                "tensors in sets will change between runs. Please use a list instead."
            )
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ---- groups ------------------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (e.g. a new layer while fine-tuning)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of "
                "tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error", stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # ---- gradients ---------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to None (default) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    g = p.grad
                    if g.grad_fn is not None:
                        g.detach_()
                    with _arrays.guard(g._data):
                        g._data[...] = 0
                    g._vc[0] += 1

    # ---- stepping ----------------------------------------------------------------------------
    def step(self, closure=None):
        """Update every parameter that has a gradient; ``closure`` re-evaluates the loss and is returned."""
        loss = None
        if closure is not None:
            with grad_mode.enable_grad():
                loss = closure()
        with grad_mode.no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                for p in params:
                    state = self.state[p]
                    if len(state) == 0:
                        with _arrays.guard(p._data):  # each parameter's state lives on its GPU
                            self._init_state(p, group, state)
                if not params:
                    continue
                if group.get("fused") and self._try_fused(params, group):
                    continue
                for p in params:
                    with _arrays.guard(p._data):
                        self._update(p, p.grad._data, self.state[p], group)
                    p._vc[0] += 1  # an in-place change: graphs that saved p must refuse the stale value
        return loss

    def _try_fused(self, params, group) -> bool:
        """One multi-tensor kernel launch for the group; False (per-parameter path) when not applicable."""
        if self._fused_kind is None:
            return False
        hyper = {k: v for k, v in group.items() if k != "params"}
        # no copy of the step counters: the launcher advances them only once its launch went out, so a
        # False here (the per-parameter path then counts the step) has left them as they were
        done = kernels.fused_optimizer_step(
            self._fused_kind, [p._data for p in params], [p.grad._data for p in params],
            [self.state[p] for p in params], hyper,
        )
        if not done:
            return False
        for p in params:
            p._vc[0] += 1
        return True

    def _init_state(self, p: Tensor, group: dict, state: dict) -> None:
        """Fill ``state`` for a parameter's first step (default: nothing)."""

    def _update(self, p: Tensor, grad, state: dict, group: dict) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement _update")

    # ---- serialisation -----------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}`` like torch.

        Parameters are numbered in group order; state tensors are returned by reference.
        """
        index_of = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                if id(p) not in index_of:
                    index_of[id(p)] = len(index_of)
                ids.append(index_of[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for p in (p for g in self.param_groups for p in g["params"]):
            if p in self.state and len(self.state[p]) > 0:
                state[index_of[id(p)]] = self.state[p]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a ``state_dict()``: state tensors are copied onto each parameter's device and dtype."""
        state_dict = copy.copy(state_dict)
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups ({len(saved_groups)}) "
                f"than the optimizer ({len(self.param_groups)})"
            )
        for g, sg in zip(self.param_groups, saved_groups):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size of optimizer's "
                    f"group ({len(sg['params'])} vs {len(g['params'])} parameters)"
                )
        id_map = {}
        for g, sg in zip(self.param_groups, saved_groups):
            for p, idx in zip(g["params"], sg["params"]):
                id_map[idx] = p
        new_state = _IdentityDict()
        for key, value in state_dict["state"].items():
            key = int(key)  # checkpoint formats may stringify dict keys
            if key not in id_map:
                continue
            p = id_map[key]
            new_state[p] = {k: _cast_state(p, k, v) for k, v in value.items()}
        self.state = new_state
        new_groups = []
        for g, sg in zip(self.param_groups, saved_groups):
            ng = {k: v for k, v in sg.items() if k != "params"}
            if "betas" in ng and isinstance(ng["betas"], list):
                ng["betas"] = tuple(ng["betas"])
            ng["params"] = g["params"]
            new_groups.append(ng)
        self.param_groups = new_groups

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        lines.append(")")
        return "\n".join(lines)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)


def _cast_state(p: Tensor, key: str, value):
    """A loaded state value on ``p``'s device; floating buffers also take ``p``'s dtype (``step`` does not)."""
    if not isinstance(value, Tensor):
        if isinstance(value, np.ndarray):
            value = Tensor._make(value.copy())
        else:
            return copy.deepcopy(value)
    data = value._data
    if key == "step" or data.ndim == 0 and key in ("mu_product",):
        return Tensor._make(_arrays.as_numpy(data).copy())
    if data.dtype.kind in "fV" and p._data.dtype.kind in "fV":
        data = data.astype(p._data.dtype)
    data = _arrays.to_device(data, p.device)
    xp = _arrays.array_module(data)
    return Tensor._make(xp.array(data, copy=True))
