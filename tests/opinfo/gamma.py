"""The op registry entries for tinytorch/ops/gamma.py: sample inputs, NumPy references, PyTorch counterparts."""
from __future__ import annotations

import tinytorch._arrays.special as _special

from tinytorch.ops.gamma import digamma, igamma, igammac, lgamma, polygamma
from tests.opinfo.registry import Const, OpInfo, positive, register, SampleInput


def _torch_fn(name):
    return lambda torch, *a, **k: getattr(torch, name)(*a, **k)


def _samples(rng):
    return [SampleInput((positive(rng, 3, 4, low=0.3, high=6.0),)), SampleInput((positive(rng, 5),), name="1d")]


register(OpInfo("lgamma", lgamma, _samples, ref=lambda x: _special.lgamma(x), torch_fn=_torch_fn("lgamma")))
register(OpInfo("digamma", digamma, _samples, ref=lambda x: _special.digamma(x), torch_fn=_torch_fn("digamma")))
register(OpInfo("polygamma", polygamma,
                lambda rng: [SampleInput((n, positive(rng, 3, 4, low=0.3, high=6.0)), name=f"n{n}") for n in (1, 2)],
                ref=lambda n, x: _special.polygamma(n, x), torch_fn=_torch_fn("polygamma")))


def _igamma_samples(rng):
    a = Const(positive(rng, 3, 4, low=0.3, high=6.0))
    return [SampleInput((a, positive(rng, 3, 4, low=0.1, high=8.0))),
            SampleInput((Const(positive(rng, 4, low=0.5, high=3.0)), positive(rng, 2, 4, low=0.1, high=4.0)),
                        name="broadcast")]


register(OpInfo("igamma", igamma, _igamma_samples, ref=lambda a, x: _special.gammainc(a, x), torch_fn=_torch_fn("igamma")))
register(OpInfo("igammac", igammac, _igamma_samples, ref=lambda a, x: _special.gammaincc(a, x),
                torch_fn=_torch_fn("igammac")))
