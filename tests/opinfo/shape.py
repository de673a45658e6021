"""The op registry entries for tinytorch/ops/shape.py: sample inputs, NumPy references, PyTorch counterparts."""
from __future__ import annotations

import numpy as np

from tinytorch.ops.shape import (
    broadcast_tensors, cat, chunk, diag, diag_embed, diagonal, expand, flatten, flip, hstack, meshgrid, movedim,
    narrow, permute, repeat, repeat_interleave, reshape, roll, rot90, select, split, squeeze, stack, t, tile, trace,
    transpose, tril, triu, unbind, unflatten, unsqueeze, vstack,
)
from tests.opinfo.registry import OpInfo, randn, register, SampleInput, TensorList


register(OpInfo("reshape", reshape, lambda rng: [SampleInput((randn(rng, 3, 4), (2, 6))), SampleInput((randn(rng, 3, 4), (-1,)))],
                ref=lambda x, s: x.reshape(s), torch_fn=lambda torch, x, s: x.reshape(s)))
register(OpInfo("expand", expand, lambda rng: [SampleInput((randn(rng, 3, 1), (2, 3, 4)))],
                ref=lambda x, s: np.broadcast_to(x, s), torch_fn=lambda torch, x, s: x.expand(s)))
register(OpInfo("permute", permute, lambda rng: [SampleInput((randn(rng, 2, 3, 4), (2, 0, 1)))],
                ref=lambda x, d: x.transpose(d), torch_fn=lambda torch, x, d: x.permute(d)))
register(OpInfo("transpose", transpose, lambda rng: [SampleInput((randn(rng, 2, 3, 4), 0, -1))],
                ref=lambda x, a, b: x.swapaxes(a, b), torch_fn=lambda torch, x, a, b: x.transpose(a, b)))
register(OpInfo("stack", stack, lambda rng: [SampleInput((TensorList([randn(rng, 3, 4), randn(rng, 3, 4)]), 1))],
                ref=lambda ts, d: np.stack(ts, d), torch_fn=lambda torch, ts, d: torch.stack(ts, d)))
register(OpInfo("unbind", unbind, lambda rng: [SampleInput((randn(rng, 3, 4), 1))],
                ref=lambda x, d: tuple(np.moveaxis(x, d, 0)), torch_fn=lambda torch, x, d: torch.unbind(x, d)))


def _reg(name, fn, samples, ref, torch_fn, **kw):
    register(OpInfo(name, fn, samples, ref=ref, torch_fn=torch_fn, **kw))


_reg("flatten", flatten, lambda rng: [SampleInput((randn(rng, 2, 3, 4),)), SampleInput((randn(rng, 2, 3, 4), 1, 2))],
     lambda x, s=0, e=-1: x.reshape(x.shape[:s] + (-1,) + x.shape[e % x.ndim + 1:]),
     lambda torch, x, s=0, e=-1: torch.flatten(x, s, e))
_reg("unflatten", unflatten, lambda rng: [SampleInput((randn(rng, 2, 12), 1, (3, -1)))],
     lambda x, d, s: x.reshape(2, 3, 4), lambda torch, x, d, s: torch.unflatten(x, d, s))
_reg("squeeze", squeeze, lambda rng: [SampleInput((randn(rng, 2, 1, 3, 1),)), SampleInput((randn(rng, 2, 1, 3, 1), (1, 3))),
                                      SampleInput((randn(rng, 2, 1, 3, 1), 0))],
     lambda x, d=None: np.squeeze(x, axis=tuple(a for a in ((d,) if isinstance(d, int) else d) if x.shape[a] == 1)) if d is not None else np.squeeze(x),
     lambda torch, x, d=None: torch.squeeze(x) if d is None else torch.squeeze(x, d))
_reg("unsqueeze", unsqueeze, lambda rng: [SampleInput((randn(rng, 2, 3), -1)), SampleInput((randn(rng, 2, 3), 1))],
     lambda x, d: np.expand_dims(x, d), lambda torch, x, d: torch.unsqueeze(x, d))
_reg("t", t, lambda rng: [SampleInput((randn(rng, 2, 3),)), SampleInput((randn(rng, 3),))],
     lambda x: x.T, lambda torch, x: torch.t(x))
_reg("movedim", movedim, lambda rng: [SampleInput((randn(rng, 2, 3, 4), 0, -1)), SampleInput((randn(rng, 2, 3, 4), (0, 1), (2, 0)))],
     lambda x, s, d: np.moveaxis(x, s, d), lambda torch, x, s, d: torch.movedim(x, s, d))
_reg("broadcast_tensors", broadcast_tensors, lambda rng: [SampleInput((randn(rng, 3, 1), randn(rng, 4)))],
     lambda a, b: np.broadcast_arrays(a, b), lambda torch, a, b: torch.broadcast_tensors(a, b))
_reg("repeat", repeat, lambda rng: [SampleInput((randn(rng, 2, 3), 2, 1, 2)), SampleInput((randn(rng, 3), (2, 2)))],
     lambda x, *r: np.tile(x, r[0] if isinstance(r[0], tuple) else r),
     lambda torch, x, *r: x.repeat(*r))
_reg("tile", tile, lambda rng: [SampleInput((randn(rng, 2, 3), (2,)))],
     lambda x, r: np.tile(x, r), lambda torch, x, r: torch.tile(x, r))
_reg("cat", cat, lambda rng: [SampleInput((TensorList([randn(rng, 2, 3), randn(rng, 1, 3), randn(rng, 2, 3)]),)),
                              SampleInput((TensorList([randn(rng, 2, 3), randn(rng, 2, 2)]), -1))],
     lambda ts, d=0: np.concatenate(ts, d), lambda torch, ts, d=0: torch.cat(ts, d))
_reg("hstack", hstack, lambda rng: [SampleInput((TensorList([randn(rng, 2, 3), randn(rng, 2, 1)]),)),
                                    SampleInput((TensorList([randn(rng, 3), randn(rng, 2)]),))],
     lambda ts: np.hstack(ts), lambda torch, ts: torch.hstack(ts))
_reg("vstack", vstack, lambda rng: [SampleInput((TensorList([randn(rng, 3), randn(rng, 2, 3)]),))],
     lambda ts: np.vstack(ts), lambda torch, ts: torch.vstack(ts))
_reg("split", split, lambda rng: [SampleInput((randn(rng, 5, 3), 2)), SampleInput((randn(rng, 3, 5), [1, 4], 1))],
     lambda x, s, d=0: np.split(x, list(range(s, x.shape[d], s)) if isinstance(s, int) else np.cumsum(s)[:-1], d),
     lambda torch, x, s, d=0: torch.split(x, s, d))
_reg("chunk", chunk, lambda rng: [SampleInput((randn(rng, 5, 3), 3)), SampleInput((randn(rng, 3, 4), 2, 1))],
     lambda x, c, d=0: np.split(x, list(range(-(-x.shape[d] // c), x.shape[d], -(-x.shape[d] // c))), d),
     lambda torch, x, c, d=0: torch.chunk(x, c, d))
_reg("narrow", narrow, lambda rng: [SampleInput((randn(rng, 4, 5), 1, 1, 3)), SampleInput((randn(rng, 4, 5), 0, -2, 2))],
     lambda x, d, s, n: np.take(x, range(s % x.shape[d], s % x.shape[d] + n), axis=d),
     lambda torch, x, d, s, n: torch.narrow(x, d, s, n))
_reg("flip", flip, lambda rng: [SampleInput((randn(rng, 2, 3, 4), (0, 2))), SampleInput((randn(rng, 3, 4), -1))],
     lambda x, d: np.flip(x, d), lambda torch, x, d: torch.flip(x, d if isinstance(d, tuple) else (d,)))
_reg("roll", roll, lambda rng: [SampleInput((randn(rng, 3, 4), 2)), SampleInput((randn(rng, 3, 4), (1, -1), (0, 1)))],
     lambda x, s, d=None: np.roll(x, s, d), lambda torch, x, s, d=None: torch.roll(x, s, d))
_reg("diagonal", diagonal, lambda rng: [SampleInput((randn(rng, 3, 4),)), SampleInput((randn(rng, 2, 3, 4), 1, -1, 0))],
     lambda x, o=0, a=0, b=1: np.diagonal(x, o, a, b), lambda torch, x, o=0, a=0, b=1: torch.diagonal(x, o, a, b))
_reg("diag_embed", diag_embed, lambda rng: [SampleInput((randn(rng, 2, 3),)), SampleInput((randn(rng, 2, 3), 1, 0, 2))],
     None, lambda torch, x, o=0, a=-2, b=-1: torch.diag_embed(x, o, a, b))
_reg("diag", diag, lambda rng: [SampleInput((randn(rng, 3),)), SampleInput((randn(rng, 3), -1)), SampleInput((randn(rng, 3, 4), 1))],
     lambda x, k=0: np.diag(x, k), lambda torch, x, k=0: torch.diag(x, k))
_reg("trace", trace, lambda rng: [SampleInput((randn(rng, 3, 4),))], lambda x: np.trace(x), lambda torch, x: torch.trace(x))
_reg("tril", tril, lambda rng: [SampleInput((randn(rng, 3, 4),)), SampleInput((randn(rng, 2, 3, 4), -1))],
     lambda x, k=0: np.tril(x, k), lambda torch, x, k=0: torch.tril(x, k))
_reg("triu", triu, lambda rng: [SampleInput((randn(rng, 3, 4),)), SampleInput((randn(rng, 2, 3, 4), 1))],
     lambda x, k=0: np.triu(x, k), lambda torch, x, k=0: torch.triu(x, k))
_reg("meshgrid", meshgrid, lambda rng: [SampleInput((randn(rng, 3), randn(rng, 2))), SampleInput((randn(rng, 3), randn(rng, 2)), {"indexing": "xy"})],
     lambda a, b, indexing="ij": np.meshgrid(a, b, indexing=indexing),
     lambda torch, a, b, indexing="ij": torch.meshgrid(a, b, indexing=indexing))
_reg("select", select, lambda rng: [SampleInput((randn(rng, 3, 4), 1, -1))], lambda x, d, i: np.take(x, i, axis=d),
     lambda torch, x, d, i: torch.select(x, d, i))
_reg("repeat_interleave", repeat_interleave, lambda rng: [
    SampleInput((randn(rng, 2, 3), 2)), SampleInput((randn(rng, 2, 3), np.array([1, 0, 3]), 1), name="tensor_repeats_dim1")],
     lambda x, r, d=None: np.repeat(x, r, axis=d), lambda torch, x, r, d=None: torch.repeat_interleave(x, r, d))
_reg("rot90", rot90, lambda rng: [SampleInput((randn(rng, 2, 3),)), SampleInput((randn(rng, 2, 3, 4), 3, (2, 0)), name="k3"),
                                  SampleInput((randn(rng, 2, 3), -2, (1, 0)), name="k_neg2")],
     lambda x, k=1, dims=(0, 1): np.rot90(x, k, dims), lambda torch, x, k=1, dims=(0, 1): torch.rot90(x, k, dims))
