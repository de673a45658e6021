"""The op registry's contents: one module per op family holds its ``register(OpInfo(...))`` calls, sample
input builders and NumPy references (PyTorch keeps its OpInfo definitions in its testing package too).

Importing this package imports every family module, so ``tests.opinfo.registry.all_ops()`` is complete.
"""
from __future__ import annotations

import tinytorch  # noqa: F401 - every op the registrations name is importable

from tests.opinfo import conv  # noqa: F401
from tests.opinfo import fusion  # noqa: F401
