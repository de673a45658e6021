"""A fast, deterministic ``target[index] += values`` for NumPy (repeated indices accumulate).

``np.add.at`` is NumPy's slowest scatter: an unbuffered loop with per-element overhead, about 15 ns per
element whatever the row length (a (4096, 512) embedding gradient takes ~70 ms). Gradients of embedding
lookups, ``x[idx]``, ``index_select`` and ``gather`` are all this scatter, so it dominates small
language-model steps.

The fast path sorts the indices once (stable), numbers each occurrence of a row within its run of equal
indices (its *level*), and then adds level by level: within one level every row occurs at most once,
so ``target[rows] += vals`` is an ordinary buffered fancy-index add over whole rows. Each row still
receives its values one at a time in their original order, so the result is bit-identical to
``np.add.at`` (and deterministic). The number of levels is the largest multiplicity of an index; when
that is large compared with the rows it covers (a few indices repeated very often), the per-level
overhead would dominate and ``np.add.at`` runs instead, as it does for tiny problems and for index
forms other than integer arrays over leading (or one) dimensions.

It is the NumPy branch of ``_arrays.scatter_add`` (CuPy's is ``cupyx.scatter_add``), which every op's
scatter goes through.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["add_at", "row_sums"]

# np.add.at wins below this many scattered elements (its fixed cost is low) and for rows shorter than
# _MIN_ROW elements (NumPy 2's add.at inner loop is fast there); measured over vocab 27..50k, rows 2..512, 32..4096 indices; benchmarks/bench_scatter.py
_MIN_ELEMENTS = 4096
_MIN_ROW = 32
# most levels per scattered element: past it, few rows repeated very often, and np.add.at is as fast
_MAX_LEVELS_PER_ELEMENT = 1 / 256  # a level costs ~2 us, np.add.at ~8 ns per element


def add_at(target: np.ndarray, index, values) -> np.ndarray:
    """``np.add.at(target, index, values)``, faster for integer-array indices; returns ``target``.

    ``index``: what ``np.add.at`` takes — an integer array, or a tuple of integer arrays, slices, None.
    Bit-identical to ``np.add.at`` on every path.
    """
    prepared = _as_rows(target, index, values)
    if prepared is None or not _add_rows(*prepared):
        np.add.at(target, index, values)
    return target


# row_sums: one bincount over (index, column) keys beats the sorted level-wise add while the (rows, D) result
# is this small (measured: vocab 27..1000, D 10..64, 96..1024 indices)
_BINCOUNT_MAX_CELLS = 1 << 15


def row_sums(index, values, num_rows: int) -> np.ndarray:
    """A fresh (num_rows, *row) array whose row r is the sum of ``values[i]`` over ``index[i] == r``.

    ``index`` (n,) non-negative ints below ``num_rows``, ``values`` (n, *row). The gradient of an
    embedding lookup. Small results sum each cell in float64 in index order with one ``np.bincount``
    and round once (as accurate as ``np.add.at`` or more, not bit-identical to it); larger ones are
    ``add_at`` into zeros. Deterministic either way.
    """
    row = values.shape[1:]
    d = math.prod(row)
    cells = num_rows * d
    if values.dtype.kind == "f" and 0 < cells <= _BINCOUNT_MAX_CELLS and index.size:
        keys = (index.reshape(-1, 1) * d + np.arange(d)).reshape(-1)
        sums = np.bincount(keys, weights=values.reshape(-1), minlength=cells)
        return sums.astype(values.dtype, copy=False).reshape((num_rows, *row))
    out = np.zeros((num_rows, *row), dtype=values.dtype)
    return add_at(out, index.reshape(-1), values.reshape(-1, *row))


def _as_rows(target, index, values):
    """(rows, flat, vals): ``target[index] += values`` restated as ``rows[flat[i]] += vals[i]``, or None.

    ``rows`` is a view of ``target`` whose first axis is the indexed one. Covered: an int array; a tuple
    of int arrays over the leading dims (broadcast together); ``(slice(None),) * d + (int array,)``
    (one indexed dim, e.g. index_select along d). Everything else is left to np.add.at.
    """
    if target.dtype.kind not in "fc" or not target.flags.writeable:
        return None
    values = np.asarray(values)
    if values.dtype != target.dtype:
        return None  # np.add.at adds in the promoted type: only the same dtype is bit-identical here
    index = index if isinstance(index, tuple) else (index,)
    lead = 0
    while lead < len(index) and isinstance(index[lead], slice) and index[lead] == slice(None):
        lead += 1
    arrays = index[lead:]
    if not arrays or not all(isinstance(a, np.ndarray) and a.dtype.kind in "iu" for a in arrays):
        return None
    k = len(arrays)
    if lead and k > 1:
        return None  # NumPy moves several indexed dims after a slice to the front
    if lead + k > target.ndim:
        return None
    dims = target.shape[lead:lead + k]
    if k > 1:
        try:
            arrays = np.broadcast_arrays(*arrays)
        except ValueError:
            return None
    shape = arrays[0].shape
    n = arrays[0].size
    row_size = math.prod(target.shape[:lead] + target.shape[lead + k:])
    if row_size < _MIN_ROW or n * row_size < _MIN_ELEMENTS or 0 in dims:
        return None  # np.add.at is as fast there (its inner loop is cheap for short rows)
    norm = []
    for a, size in zip(arrays, dims):
        a = a.astype(np.int64, copy=False)
        lo, hi = int(a.min()), int(a.max())
        if lo < -size or hi >= size:
            return None  # np.add.at raises its IndexError
        norm.append(a + (a < 0) * size if lo < 0 else a)
    flat = (norm[0] if k == 1 else np.ravel_multi_index(tuple(norm), dims)).reshape(-1)
    pre, post = target.shape[:lead], target.shape[lead + k:]
    try:
        vals = np.broadcast_to(values, pre + shape + post)
    except ValueError:
        return None
    if k > 1:
        if not target.flags.c_contiguous:
            return None
        rows = target.reshape((int(np.prod(dims)),) + post)
    else:
        rows = np.moveaxis(target, lead, 0) if lead else target
    vals = vals.reshape(pre + (n,) + post)
    if lead:
        vals = np.moveaxis(vals, lead, 0)
    return rows, flat, vals


def _add_rows(rows, flat, vals) -> bool:
    """rows[flat[i]] += vals[i] for all i, each row in index order; False (nothing done) when it would not pay."""
    n = flat.size
    order = np.argsort(flat, kind="stable")
    s = flat[order]
    new_run = np.empty(n, dtype=bool)
    new_run[0] = True
    np.not_equal(s[1:], s[:-1], out=new_run[1:])
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(n), 0))
    level = np.arange(n) - run_start
    n_levels = int(level.max()) + 1
    row_size = max(1, int(np.prod(rows.shape[1:])))
    if n_levels > max(8, n * row_size * _MAX_LEVELS_PER_ELEMENT):
        return False
    by_level = np.argsort(level, kind="stable")  # every run's 1st entry, then every 2nd...: order kept
    perm = order[by_level]
    idx, v = flat[perm], vals[perm]
    bounds = np.searchsorted(level[by_level], np.arange(n_levels + 1))
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        rows[idx[a:b]] += v[a:b]  # the rows within one level are distinct
    return True
