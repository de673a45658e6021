"""The op registry entries for tinytorch/ops/sparse.py: sample inputs, NumPy references, PyTorch counterparts."""
from __future__ import annotations

import numpy as np

from tinytorch.ops.sparse import mm, segment_sum, sparse_coo_tensor
from tests.opinfo.registry import OpInfo, randn, register, SampleInput


def _coo_mm(values, dense, indices, size):
    """``mm(sparse_coo_tensor(indices, values, size), dense)`` with tensor arguments (for the op registry)."""
    return mm(sparse_coo_tensor(indices, values, size), dense)


def _np_coo_mm(values, dense, indices, size):
    a = np.zeros(size)
    np.add.at(a, (indices[0], indices[1]), values)
    return a @ dense


def _np_segment_sum(data, ids, n):
    out = np.zeros((n,) + data.shape[1:])
    np.add.at(out, ids, data)
    return out


register(OpInfo(
    "segment_sum", segment_sum,
    lambda rng: [
        SampleInput((randn(rng, 6, 3), np.array([0, 2, 0, 3, 2, 0]), 5), name="unsorted_empty_segments"),
        SampleInput((randn(rng, 5), np.array([1, 1, 0, 1, 0]), 2), name="1d"),
        SampleInput((randn(rng, 4, 2, 2), np.array([2, 0, 1, 2]), 3), name="3d"),
    ],
    ref=_np_segment_sum,
    torch_fn=lambda torch, d, i, n: torch.zeros((n,) + tuple(d.shape[1:]), dtype=d.dtype).index_add(0, i, d)))

register(OpInfo(
    "sparse.mm", _coo_mm,
    lambda rng: [
        SampleInput((randn(rng, 6), randn(rng, 3, 2), np.array([[0, 1, 3, 3, 2, 0], [2, 0, 1, 1, 2, 2]]), (4, 3)),
                    name="duplicates"),
        SampleInput((randn(rng, 3), randn(rng, 5, 4), np.array([[0, 2, 1], [4, 0, 2]]), (3, 5)), name="rect"),
    ],
    ref=_np_coo_mm,
    torch_fn=lambda torch, v, d, i, size: torch.sparse.mm(torch.sparse_coo_tensor(i, v, size), d)))
