"""The op registry's contents: one module per op family holds its ``register(OpInfo(...))`` calls, sample
input builders and NumPy references (PyTorch keeps its OpInfo definitions in its testing package too).

Importing this package imports every family module (for their ``register`` calls), so
``tests.opinfo.registry.all_ops()`` is complete. Read the registry as ``from tests.opinfo import registry``.
"""
from __future__ import annotations

from tests.opinfo import (
    activation, conv, convert, elementwise, fusion, gamma, index, linalg, loss, normalization, pool, reduce, registry,
    rnn, shape, sparse, torch_linalg,
)

__all__ = ["activation", "conv", "convert", "elementwise", "fusion", "gamma", "index", "linalg", "loss",
           "normalization", "pool", "reduce", "registry", "rnn", "shape", "sparse", "torch_linalg"]
