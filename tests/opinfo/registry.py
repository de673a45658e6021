"""The op registry: every differentiable op's sample inputs, NumPy reference and PyTorch counterpart.

An ``OpInfo`` names a public function, how to build sample inputs, a NumPy reference of
its forward and (optionally) the PyTorch function that computes the same thing. The
generic tests in ``tests/ops/test_registry.py`` walk this registry: forward against the
reference, float64 gradcheck (contiguous and non-contiguous inputs, on every available
device), gradgradcheck for smooth ops, float32 against float64, and PyTorch when it is
installed. Adding an op means adding one ``register(OpInfo(...))`` call to its family's
module in ``tests/opinfo/`` (PyTorch keeps its OpInfos in its testing package too), no test file.
Read the registry through ``tests.opinfo`` (``from tests.opinfo import registry``): importing the
package imports every family module, so ``all_ops()`` is complete.

Sample inputs are NumPy values: float arrays become float64 tensors that require grad;
``Const(array)`` becomes a tensor that does not; integer and bool arrays become tensors
that never do; ``TensorList([...])`` becomes a list of tensors; anything else (ints,
tuples, strings) passes through unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


class Const:
    """A float array that is an input but not differentiated (targets, masks, running stats)."""

    def __init__(self, array):
        self.array = np.asarray(array)


class TensorList(list):
    """A list argument whose float arrays become tensors (``cat``, ``stack``)."""


@dataclass
class SampleInput:
    args: tuple
    kwargs: dict = field(default_factory=dict)
    name: str = ""


@dataclass
class OpInfo:
    name: str
    op: Callable
    sample_inputs: Callable[[np.random.Generator], list]
    ref: Callable | None = None          # NumPy forward on the same args (arrays in, array(s) out)
    torch_fn: Callable | None = None     # callable(torch, *args, **kwargs) using torch tensors
    gradcheck: bool = True
    gradgradcheck: bool = True           # smooth ops only
    float32: bool = True                 # float32 vs float64 agreement
    nondeterministic: bool = False       # random ops: only shapes/dtypes compared
    atol: float = 1e-5
    rtol: float = 1e-4
    float32_atol: float = 1e-4
    float32_rtol: float = 1e-3
    gradcheck_atol: float = 1e-5
    gradcheck_rtol: float = 1e-3
    skip_noncontiguous: bool = False
    gpu: bool = True                     # run on CUDA in the gpu-marked tests
    extra: dict[str, Any] = field(default_factory=dict)


_REGISTRY: dict[str, OpInfo] = {}


def register(info: OpInfo) -> OpInfo:
    if info.name in _REGISTRY:
        raise ValueError(f"op registry: {info.name!r} is registered twice")
    _REGISTRY[info.name] = info
    return info


def all_ops() -> list[OpInfo]:
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def get(name: str) -> OpInfo:
    return _REGISTRY[name]


# ---- helpers for sample inputs -------------------------------------------------------------------

def randn(rng, *shape):
    return rng.standard_normal(shape)


def positive(rng, *shape, low=0.5, high=2.0):
    return rng.uniform(low, high, size=shape)


def away_from(rng, shape, points=(0.0,), margin=0.1):
    """Random values kept at least ``margin`` away from kinks (for relu, abs, clamp ...)."""
    x = rng.standard_normal(shape)
    for p in points:
        close = np.abs(x - p) < margin
        x = np.where(close, x + np.sign(x - p + 1e-12) * 2 * margin, x)
    return x
