"""Sparse and segment ops: ``segment_sum``, COO sparse matrices and sparse @ dense (``tinytorch.sparse.mm``).

These are what a graph network needs: summing edge messages into their nodes
(``segment_sum``) and multiplying a normalised adjacency matrix by node features
(``sparse.mm``). The sparse product runs on ``scipy.sparse`` on the CPU and
``cupyx.scipy.sparse`` on CUDA (asked for through ``tinytorch._arrays.sparse``); its
backward is written with tinytorch ops, so higher-order gradients work.

``tinytorch.sparse`` is this module: ``tinytorch.sparse.mm(A, X)`` as in PyTorch.
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import _arrays
from ..autograd.function import Function
from .._arrays.sparse import sparse_module
from ..tensor import Tensor, Size
from .. import _dtype as dtypes
from .. import creation as _creation
from . import index as _index
from . import shape as _shape
from ..tensor import Tensor as _T

# ``mm`` stays out of __all__: ``tinytorch.mm`` is the dense product, ``tinytorch.sparse.mm`` this one.
__all__ = ["segment_sum", "sparse_coo_tensor"]

TENSOR_METHODS = ()


def _is_int_tensor(t) -> bool:
    return isinstance(t, Tensor) and t._data.dtype.kind in "iu"


# ---- segment_sum ------------------------------------------------------------------------------------------

class SegmentSum(Function):
    @staticmethod
    def forward(ctx, data, segment_ids, num_segments):
        xp = ctx.xp
        x = data._data
        ctx.save_for_backward(segment_ids)
        ids = segment_ids._data.astype(xp.int64, copy=False)
        n = ids.shape[0]
        feat = tuple(x.shape[1:])
        if n == 0:
            return xp.zeros((num_segments,) + feat, dtype=x.dtype)
        # Deterministic on both backends (no atomics): sort rows by segment, give each row its rank
        # inside its segment, write them into a (segments, max rows per segment, ...) zero-padded
        # buffer (every slot written once) and sum over the padding axis in a fixed order.
        order = xp.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        counts = xp.bincount(ids, minlength=num_segments)
        starts = xp.cumsum(counts) - counts
        rank = xp.arange(n) - starts[sorted_ids]
        width = builtins.int(counts.max())
        buf = xp.zeros((num_segments, width) + feat, dtype=x.dtype)
        buf[sorted_ids, rank] = x[order]
        return buf.sum(axis=1)

    @staticmethod
    def backward(ctx, grad):
        (segment_ids,) = ctx.saved_tensors
        return _index.index_select(grad, 0, segment_ids), None, None


def segment_sum(data, segment_ids, num_segments):
    """Sum the rows of ``data`` that share a segment id: ``out[s] = sum(data[i] for i where ids[i] == s)``.

    Args:
        data: (N, *) tensor.
        segment_ids: (N,) integer tensor with values in ``[0, num_segments)``; need not be sorted.
        num_segments: number of output rows S (segments without rows are zero).

    Returns:
        (S, *) tensor. Deterministic on CPU and CUDA. The gradient is ``grad[segment_ids]``.

    Example: ``segment_sum(messages, edge_dst, num_nodes)`` adds every edge's message into its node.
    """
    if not isinstance(data, Tensor):
        raise TypeError(f"segment_sum: data must be a Tensor, got {type(data).__name__}")
    if not _is_int_tensor(segment_ids):
        got = segment_ids.dtype if isinstance(segment_ids, Tensor) else type(segment_ids).__name__
        raise TypeError(f"segment_sum: segment_ids must be an integer Tensor, got {got}")
    if isinstance(num_segments, Tensor):
        num_segments = num_segments.item()
    if not isinstance(num_segments, (builtins.int, np.integer)) or isinstance(num_segments, builtins.bool) or num_segments < 0:
        raise ValueError(f"segment_sum: num_segments must be a non-negative int, got {num_segments!r}")
    if data._data.ndim < 1:
        raise ValueError("segment_sum: data must have at least 1 dimension (N, *), got a 0-d tensor")
    if segment_ids._data.ndim != 1 or segment_ids._data.shape[0] != data._data.shape[0]:
        raise ValueError(f"segment_sum: segment_ids must have shape ({data._data.shape[0]},) to match data of "
                         f"shape {tuple(data.shape)}, got {tuple(segment_ids.shape)}")
    if data.device != segment_ids.device:
        raise RuntimeError(f"segment_sum: data is on {data.device} but segment_ids is on {segment_ids.device}")
    if segment_ids._data.size:
        lo, hi = builtins.int(segment_ids._data.min()), builtins.int(segment_ids._data.max())
        if lo < 0 or hi >= num_segments:
            raise IndexError(f"segment_sum: segment_ids must lie in [0, {num_segments}), got values in [{lo}, {hi}]")
    return SegmentSum.apply(data, segment_ids, builtins.int(num_segments))


# ---- sparse COO matrices ----------------------------------------------------------------------------------

class SparseCOOTensor:
    """A 2-D sparse matrix in coordinate form: ``indices`` (2, nnz) int64, ``values`` (nnz,), ``size`` (M, K).

    Made by :func:`sparse_coo_tensor`. Unlike PyTorch this is not a ``Tensor`` subclass: it supports
    what graph networks need — ``tinytorch.sparse.mm`` / ``@``, ``to_dense``, ``coalesce``, ``t``,
    ``to(device)`` — and gradients flow into ``values`` when it requires grad.
    Duplicate coordinates add up, as in PyTorch.
    """

    is_sparse = True
    layout = "sparse_coo"

    def __init__(self, indices: Tensor, values: Tensor, size: tuple):
        self._idx = indices
        self._vals = values
        self._size = tuple(size)

    # -- inspection
    def indices(self) -> Tensor:
        return self._idx

    def values(self) -> Tensor:
        return self._vals

    def _nnz(self) -> int:
        return builtins.int(self._vals.shape[0])

    def size(self, dim=None):
        return Size(self._size) if dim is None else self._size[dim]

    @property
    def shape(self):
        return self.size()

    @property
    def dtype(self):
        return self._vals.dtype

    @property
    def device(self):
        return self._vals.device

    @property
    def requires_grad(self):
        return self._vals.requires_grad

    def dim(self) -> int:
        return len(self._size)

    def __repr__(self):
        return (f"sparse_coo_tensor(indices={self._idx!r},\n       values={self._vals!r},\n"
                f"       size={self._size}, nnz={self._nnz()}, layout=sparse_coo)")

    # -- conversions
    def to(self, *args, **kwargs) -> "SparseCOOTensor":
        return SparseCOOTensor(self._idx.to(*args, **kwargs) if not _dtype_only(args, kwargs) else self._idx,
                               self._vals.to(*args, **kwargs), self._size)

    def cuda(self, device=None) -> "SparseCOOTensor":
        return self.to("cuda" if device is None else device)

    def cpu(self) -> "SparseCOOTensor":
        return self.to("cpu")

    def detach(self) -> "SparseCOOTensor":
        return SparseCOOTensor(self._idx, self._vals.detach(), self._size)

    def t(self) -> "SparseCOOTensor":
        return SparseCOOTensor(_shape.flip(self._idx, 0), self._vals, (self._size[1], self._size[0]))

    def to_dense(self) -> Tensor:
        """The dense (M, K) tensor (differentiable with respect to the values)."""
        out = _creation.zeros(self._size, dtype=self._vals.dtype, device=self._vals.device)
        return _index.index_put(out, (self._idx[0], self._idx[1]), self._vals, accumulate=True)

    def coalesce(self) -> "SparseCOOTensor":
        """Sorted, duplicate-free coordinates (duplicates summed; differentiable with respect to the values)."""
        xp = _arrays.array_module(self._idx._data)
        idx = self._idx._data
        keys = idx[0] * self._size[1] + idx[1]
        uniq, inverse = xp.unique(keys, return_inverse=True)
        new_idx = xp.stack([uniq // self._size[1], uniq % self._size[1]])
        vals = segment_sum(self._vals, _T._make(inverse.reshape(-1).astype(xp.int64)), builtins.int(uniq.shape[0]))
        return SparseCOOTensor(_T._make(new_idx.astype(xp.int64)), vals, self._size)

    def is_coalesced(self) -> bool:
        return False

    def __matmul__(self, other):
        return mm(self, other)


def _dtype_only(args, kwargs) -> bool:
    return (len(args) == 1 and isinstance(args[0], dtypes.dtype) and not kwargs) or (not args and set(kwargs) == {"dtype"})


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, requires_grad=False):
    """A 2-D sparse COO matrix from coordinates and values.

    Args:
        indices: (2, nnz) integer tensor (or nested list): row indices, then column indices.
        values: (nnz,) tensor or list of values.
        size: (M, K); inferred as ``max index + 1`` per dimension when omitted.
        dtype, device, requires_grad: for the values, as in ``tinytorch.tensor``.

    Example::
        A = torch.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [3.0, 4.0, 5.0], (2, 3))
        y = torch.sparse.mm(A, x)          # (2, 3) @ (3, N)
    """
    if not isinstance(indices, Tensor):
        indices = _creation.tensor(np.asarray(indices, dtype=np.int64), device=device)
    if not _is_int_tensor(indices):
        raise TypeError(f"sparse_coo_tensor: indices must be integers, got {indices.dtype}")
    if not isinstance(values, Tensor):
        values = _creation.as_tensor(values, dtype=dtype, device=device)
    elif dtype is not None or device is not None:
        values = values.to(device=device, dtype=dtype)
    if device is not None:
        indices = indices.to(device)
    if indices.dim() != 2 or indices.shape[0] != 2:
        raise ValueError(f"sparse_coo_tensor: only 2-D sparse matrices are supported: indices must have shape "
                         f"(2, nnz), got {tuple(indices.shape)}")
    if values.dim() != 1 or values.shape[0] != indices.shape[1]:
        raise ValueError(f"sparse_coo_tensor: values must have shape ({indices.shape[1]},) to match indices of shape "
                         f"{tuple(indices.shape)}, got {tuple(values.shape)}")
    if indices.device != values.device:
        raise RuntimeError(f"sparse_coo_tensor: indices are on {indices.device} but values are on {values.device}")
    nnz = indices.shape[1]
    if size is None:
        if nnz == 0:
            raise ValueError("sparse_coo_tensor: size is required when there are no entries")
        size = tuple(builtins.int(m) + 1 for m in indices._data.max(axis=1))
    size = tuple(builtins.int(s) for s in size)
    if len(size) != 2:
        raise ValueError(f"sparse_coo_tensor: only 2-D sparse matrices are supported, got size {size}")
    if nnz:
        lo = [builtins.int(v) for v in indices._data.min(axis=1)]
        hi = [builtins.int(v) for v in indices._data.max(axis=1)]
        for d in range(2):
            if lo[d] < 0 or hi[d] >= size[d]:
                raise IndexError(f"sparse_coo_tensor: indices of dimension {d} must lie in [0, {size[d]}), "
                                 f"got values in [{lo[d]}, {hi[d]}] (size {size})")
    if indices._data.dtype != np.int64:
        indices = indices.long()
    if requires_grad:
        values.requires_grad_(True)
    return SparseCOOTensor(indices, values, size)


# ---- sparse @ dense ---------------------------------------------------------------------------------------

class SparseMM(Function):
    @staticmethod
    def forward(ctx, values, dense, indices, size):
        sp = sparse_module(ctx.xp)
        rows, cols = indices._data[0], indices._data[1]
        a = sp.coo_matrix((values._data, (rows, cols)), shape=size).tocsr()  # duplicates are summed here
        ctx.indices, ctx.size = indices, size
        ctx.save_for_backward(values, dense)
        out = a @ dense._data
        return ctx.xp.asarray(out, dtype=dense._data.dtype)

    @staticmethod
    def backward(ctx, grad):
        values, dense = ctx.saved_tensors
        gv = gd = None
        if ctx.needs_input_grad[1]:
            # d(A X)/dX applied to grad is A^T grad: the same op on the transposed coordinates
            gd = SparseMM.apply(values, grad, _shape.flip(ctx.indices, 0), (ctx.size[1], ctx.size[0]))
        if ctx.needs_input_grad[0]:
            # dL/dA[r, c] = <grad[r, :], X[c, :]>, read only at the stored coordinates
            gv = (_index.index_select(grad, 0, ctx.indices[0]) * _index.index_select(dense, 0, ctx.indices[1])).sum(1)
        return gv, gd, None, None


def mm(sparse, dense):
    """Sparse (M, K) @ dense (K, N) -> dense (M, N), differentiable w.r.t. ``dense`` and the sparse values.

    ``sparse`` is made by :func:`sparse_coo_tensor`. Uses scipy.sparse on the CPU and cupyx on CUDA.
    """
    if not isinstance(sparse, SparseCOOTensor):
        raise TypeError(f"sparse.mm: expected a sparse COO matrix (tinytorch.sparse_coo_tensor) as the first "
                        f"argument, got {type(sparse).__name__}")
    if not isinstance(dense, Tensor):
        raise TypeError(f"sparse.mm: expected a dense Tensor as the second argument, got {type(dense).__name__}")
    if dense.dim() != 2:
        raise ValueError(f"sparse.mm: expected a 2-D dense matrix (K, N), got shape {tuple(dense.shape)}")
    if dense.shape[0] != sparse._size[1]:
        raise RuntimeError(f"sparse.mm: shapes cannot be multiplied: sparse {sparse._size} @ dense {tuple(dense.shape)}")
    if dense.device != sparse.device:
        raise RuntimeError(f"sparse.mm: sparse matrix is on {sparse.device} but dense is on {dense.device}")
    if not (dense.is_floating_point() and sparse._vals.is_floating_point()):
        raise TypeError(f"sparse.mm: expected floating-point operands, got sparse {sparse.dtype} and dense {dense.dtype}")
    values = sparse._vals
    if values.dtype != dense.dtype:
        common = dtypes.promote_types(values.dtype, dense.dtype)
        values, dense = values.to(common), dense.to(common)
    return SparseMM.apply(values, dense, sparse._idx, sparse._size)
