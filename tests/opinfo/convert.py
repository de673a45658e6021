"""The op registry entries for tinytorch/ops/convert.py: sample inputs, NumPy references, PyTorch counterparts."""
from __future__ import annotations

import numpy as np

from tinytorch.ops.convert import clone, contiguous
from tests.opinfo.registry import OpInfo, randn, register, SampleInput


register(OpInfo("clone", clone, lambda rng: [SampleInput((randn(rng, 3, 4),))], ref=lambda x: x.copy(),
                torch_fn=lambda torch, x: x.clone()))
register(OpInfo("contiguous", lambda x: contiguous(x.T), lambda rng: [SampleInput((randn(rng, 3, 4),))],
                ref=lambda x: np.ascontiguousarray(x.T), torch_fn=lambda torch, x: x.T.contiguous()))
