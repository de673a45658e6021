"""The op registry entries for tinytorch/ops/index.py: sample inputs, NumPy references, PyTorch counterparts."""
from __future__ import annotations

import builtins
import numpy as np

from tinytorch.ops.index import (
    gather, getitem, index_add, index_copy, index_fill, index_put, index_select, kthvalue, masked_fill,
    masked_scatter, masked_select, median, scatter, scatter_add, sort, take, take_along_dim, topk,
)
from tests.opinfo.registry import OpInfo, randn, register, SampleInput


register(OpInfo(
    "getitem", getitem,
    lambda rng: [
        SampleInput((randn(rng, 4, 5), (1, slice(None, None, 2))), name="basic_step"),
        SampleInput((randn(rng, 4, 5), (Ellipsis, None, 2)), name="ellipsis_none"),
        SampleInput((randn(rng, 4, 5), (np.array([0, 2, 2, 3]),)), name="repeated_int_array"),
        SampleInput((randn(rng, 4, 5), (np.array([[True, False, True, False, True]] * 4),)), name="bool_mask"),
    ],
    ref=lambda x, idx: x[idx],
    torch_fn=lambda torch, x, idx: _torch_getitem(torch, x, idx)))


def _torch_getitem(torch, x, idx):
    return x[tuple(torch.from_numpy(i) if isinstance(i, np.ndarray) else i for i in idx)]
register(OpInfo(
    "index_put", index_put,
    lambda rng: [SampleInput((randn(rng, 4, 5), (slice(1, 3),), randn(rng, 5)), name="broadcast_value"),
                 SampleInput((randn(rng, 4, 5), (np.array([0, 3]),), randn(rng, 2, 5)), name="int_array"),
                 SampleInput((randn(rng, 4, 5), (np.array([0, 3, 0]), np.array([1, 1, 1])), randn(rng, 3), True), name="accumulate")],
    ref=lambda x, idx, v, acc=False: _np_index_put(x, idx, v, acc),
    torch_fn=lambda torch, x, idx, v, acc=False: _torch_index_put(torch, x, idx, v, acc)))


def _np_index_put(x, idx, v, accumulate=False):
    out = x.copy()
    if accumulate:
        np.add.at(out, idx, v)
    else:
        out[idx] = v
    return out


def _torch_index_put(torch, x, idx, v, acc):
    if builtins.all(isinstance(i, np.ndarray) for i in idx):
        return torch.index_put(x, tuple(torch.from_numpy(i) for i in idx), v, acc)
    out = x.clone()
    out[idx] = v
    return out


def _np_full_index(index, dim):
    return tuple(index if d == dim else np.arange(index.shape[d]).reshape([-1 if k == d else 1 for k in range(index.ndim)])
                 for d in range(index.ndim))


def _np_scatter(x, dim, index, src=None, value=None, add=False):
    out = x.copy()
    idx = _np_full_index(index, dim)
    s = np.broadcast_to(np.asarray(value if src is None else src), index.shape) if (src is None or np.ndim(src) == 0) \
        else src[tuple(slice(0, k) for k in index.shape)]
    if add:
        np.add.at(out, idx, s)
    else:
        out[idx] = s
    return out


def _np_index_add(x, dim, index, src, alpha=1):
    out = x.copy()
    np.add.at(out, (slice(None),) * dim + (index,), alpha * src)
    return out


def _np_index_set(x, dim, index, v):
    out = x.copy()
    out[(slice(None),) * dim + (index,)] = v
    return out


def _ints(rng, high, *shape):
    return rng.integers(0, high, size=shape)


def _np_sort(x, dim=-1, descending=False):
    idx = np.argsort(-x if descending else x, axis=dim, kind="stable")
    return np.take_along_axis(x, idx, dim), idx


def _np_kth(x, k, dim=-1, keepdim=False):
    idx = np.argsort(x, axis=dim, kind="stable")
    idx = np.take(idx, [k - 1], axis=dim)
    v = np.take_along_axis(x, idx, dim)
    return (v, idx) if keepdim else (v.squeeze(dim), idx.squeeze(dim))


_MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, False]])

register(OpInfo("gather", gather, lambda rng: [
    SampleInput((randn(rng, 3, 4), 1, _ints(rng, 4, 3, 5)), name="repeats"),
    SampleInput((randn(rng, 4, 5), 0, _ints(rng, 4, 2, 3)), name="smaller_index")],
    ref=lambda x, d, i: np.take_along_axis(x[tuple(slice(0, k) if a != d else slice(None) for a, k in enumerate(i.shape))], i, d),
    torch_fn=lambda torch, x, d, i: torch.gather(x, d, i)))
register(OpInfo("scatter", scatter, lambda rng: [
    SampleInput((randn(rng, 3, 5), 1, np.array([[0, 2], [4, 1], [3, 0]]), randn(rng, 3, 2)), name="src"),
    SampleInput((randn(rng, 3, 5), 0, np.array([[2, 0, 1]]), 1.5), name="value"),
    SampleInput((randn(rng, 3, 5), 1, np.array([[0, 2], [4, 4], [3, 3]]), randn(rng, 3, 2)), {"reduce": "add"}, name="reduce_add")],
    ref=lambda x, d, i, s, reduce=None: _np_scatter(x, d, i, s, add=reduce == "add"),
    torch_fn=lambda torch, x, d, i, s, reduce=None: torch.scatter_add(x, d, i, s)
    if reduce else torch.scatter(x, d, i, s)))
register(OpInfo("scatter_add", scatter_add, lambda rng: [
    SampleInput((randn(rng, 3, 5), 1, _ints(rng, 5, 3, 6), randn(rng, 3, 6)), name="repeats"),
    SampleInput((randn(rng, 4, 3), 0, _ints(rng, 4, 2, 2), randn(rng, 2, 2)), name="smaller")],
    ref=lambda x, d, i, s: _np_scatter(x, d, i, s, add=True),
    torch_fn=lambda torch, x, d, i, s: torch.scatter_add(x, d, i, s)))
register(OpInfo("index_select", index_select, lambda rng: [
    SampleInput((randn(rng, 3, 4), 1, np.array([3, 0, 3]))), SampleInput((randn(rng, 3, 4), 0, np.array([2])))],
    ref=lambda x, d, i: np.take(x, i, axis=d),
    torch_fn=lambda torch, x, d, i: torch.index_select(x, d, i)))
register(OpInfo("index_add", index_add, lambda rng: [
    SampleInput((randn(rng, 4, 3), 0, np.array([1, 3, 1]), randn(rng, 3, 3))),
    SampleInput((randn(rng, 4, 3), 1, np.array([2, 0]), randn(rng, 4, 2)), {"alpha": -2.0})],
    ref=lambda x, d, i, s, alpha=1: _np_index_add(x, d, i, s, alpha),
    torch_fn=lambda torch, x, d, i, s, alpha=1: torch.index_add(x, d, i, s, alpha=alpha)))
register(OpInfo("index_fill", index_fill, lambda rng: [
    SampleInput((randn(rng, 4, 3), 0, np.array([1, 3]), -1.0)),
    SampleInput((randn(rng, 4, 3), 1, np.array([2]), np.array(0.5)), name="tensor_value")],
    ref=lambda x, d, i, v: _np_index_set(x, d, i, v),
    torch_fn=lambda torch, x, d, i, v: torch.index_fill(x, d, i, v)))
register(OpInfo("index_copy", index_copy, lambda rng: [
    SampleInput((randn(rng, 4, 3), 0, np.array([3, 0]), randn(rng, 2, 3)))],
    ref=lambda x, d, i, s: _np_index_set(x, d, i, s),
    torch_fn=lambda torch, x, d, i, s: torch.index_copy(x, d, i, s)))
register(OpInfo("masked_fill", masked_fill, lambda rng: [
    SampleInput((randn(rng, 3, 4), _MASK, 2.0), name="scalar"),
    SampleInput((randn(rng, 3, 4), _MASK[0], np.array(-1.5)), name="tensor_value_broadcast_mask")],
    ref=lambda x, m, v: np.where(m, v, x),
    torch_fn=lambda torch, x, m, v: torch.masked_fill(x, m, v)))
register(OpInfo("masked_select", masked_select, lambda rng: [
    SampleInput((randn(rng, 3, 4), _MASK)), SampleInput((randn(rng, 4), _MASK), name="broadcast_input")],
    ref=lambda x, m: np.broadcast_to(x, np.broadcast_shapes(x.shape, m.shape))[np.broadcast_to(m, np.broadcast_shapes(x.shape, m.shape))],
    torch_fn=lambda torch, x, m: torch.masked_select(x, m)))
register(OpInfo("masked_scatter", masked_scatter, lambda rng: [
    SampleInput((randn(rng, 3, 4), _MASK, randn(rng, 2, 4)))],
    ref=lambda x, m, s: _np_masked_scatter(x, m, s),
    torch_fn=lambda torch, x, m, s: torch.masked_scatter(x, m, s)))
register(OpInfo("take", take, lambda rng: [SampleInput((randn(rng, 3, 4), np.array([[0, 11], [5, 5]])))],
                ref=lambda x, i: np.take(x, i), torch_fn=lambda torch, x, i: torch.take(x, i)))
register(OpInfo("take_along_dim", take_along_dim, lambda rng: [
    SampleInput((randn(rng, 3, 4), np.array([[0, 3, 3]]), 1), name="broadcast"),
    SampleInput((randn(rng, 3, 4), np.array([1, 7])), name="flat")],
    ref=lambda x, i, d=None: np.take(x, i) if d is None else np.take_along_axis(x, np.broadcast_to(i, (3, 3)), d),
    torch_fn=lambda torch, x, i, d=None: torch.take_along_dim(x, i, d)))
register(OpInfo("sort", sort, lambda rng: [
    SampleInput((randn(rng, 3, 4),)), SampleInput((randn(rng, 3, 4), 0, True), name="dim0_descending")],
    ref=_np_sort, torch_fn=lambda torch, x, d=-1, desc=False: torch.sort(x, dim=d, descending=desc, stable=True)))
register(OpInfo("topk", topk, lambda rng: [
    SampleInput((randn(rng, 3, 5), 2)), SampleInput((randn(rng, 3, 5), 2, 0, False), name="smallest_dim0")],
    ref=lambda x, k, d=-1, largest=True: tuple(np.take(a, range(k), axis=d) for a in _np_sort(x, d, largest)),
    torch_fn=lambda torch, x, k, d=-1, largest=True: torch.topk(x, k, d, largest)))
register(OpInfo("kthvalue", kthvalue, lambda rng: [
    SampleInput((randn(rng, 3, 5), 2)), SampleInput((randn(rng, 3, 5), 3, 0, True), name="dim0_keepdim")],
    ref=_np_kth, torch_fn=lambda torch, x, k, d=-1, keepdim=False: torch.kthvalue(x, k, d, keepdim)))
register(OpInfo("median", median, lambda rng: [
    SampleInput((randn(rng, 3, 4),), name="all"), SampleInput((randn(rng, 3, 4), 1), name="dim1_even"),
    SampleInput((randn(rng, 3, 4), 0, True), name="dim0_keepdim")],
    ref=lambda x, d=None, keepdim=False: np.sort(x.ravel())[(x.size - 1) // 2] if d is None else _np_kth(x, (x.shape[d] - 1) // 2 + 1, d, keepdim),
    torch_fn=lambda torch, x, d=None, keepdim=False: torch.median(x) if d is None else torch.median(x, d, keepdim)))


def _np_masked_scatter(x, m, s):
    out = x.copy()
    out[m] = s.ravel()[:m.sum()]
    return out
