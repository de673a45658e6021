"""The op registry's contents: one module per op family holds its ``register(OpInfo(...))`` calls, sample
input builders and NumPy references (PyTorch keeps its OpInfo definitions in its testing package too).

Importing this package imports every family module, so ``tests.opinfo.registry.all_ops()`` is complete.
Read the registry as ``from tests.opinfo import registry``.
"""
from __future__ import annotations

from tests.opinfo import (  # noqa: F401 - imported for their register() calls
    activation, conv, convert, elementwise, fusion, gamma, index, linalg, loss, normalization, pool, reduce, shape,
    sparse, torch_linalg,
)
from tests.opinfo import registry  # noqa: F401
