"""The tensor API training scripts lean on, checked against PyTorch, plus the legacy/compat names of
tinytorch/_compat.py (legacy typed constructors, finfo/iinfo, compile, autocast, GradScaler, switches)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinytorch

A = np.array([[3.0, -1.0, 2.5, 0.5], [1.5, 4.0, -2.0, 0.25], [-0.75, 2.0, 1.0, 3.5]])  # distinct values: no ties
INTS = np.array([1, 3, 3, 0, 5, 3, 1])
SORTED = np.array([0.5, 1.0, 2.5, 4.0])

# name -> f(torch_like_module, make) where make(ndarray) builds a tensor in that module
CASES = {
    "sort": lambda T, m: T.sort(m(A), dim=1, descending=True),
    "sort_stable": lambda T, m: T.sort(m(INTS), stable=True),
    "argsort": lambda T, m: T.argsort(m(A), dim=0),
    "topk": lambda T, m: T.topk(m(A), 2, dim=1),
    "topk_smallest": lambda T, m: m(A).topk(2, dim=0, largest=False),
    "kthvalue": lambda T, m: T.kthvalue(m(A), 2, dim=1),
    "median": lambda T, m: T.median(m(A)),
    "median_dim": lambda T, m: T.median(m(A), dim=1, keepdim=True),
    "mode": lambda T, m: T.mode(m(INTS)),
    "unique": lambda T, m: T.unique(m(INTS), return_inverse=True, return_counts=True),
    "nonzero": lambda T, m: T.nonzero(m(A) > 1),
    "nonzero_tuple": lambda T, m: T.nonzero(m(A) > 1, as_tuple=True),
    "argwhere": lambda T, m: T.argwhere(m(A) < 0),
    "searchsorted": lambda T, m: T.searchsorted(m(SORTED), m(np.array([0.1, 1.0, 3.0, 9.0]))),
    "searchsorted_right": lambda T, m: T.searchsorted(m(SORTED), m(np.array([1.0, 2.5])), right=True),
    "bincount": lambda T, m: T.bincount(m(INTS)),
    "bincount_weights": lambda T, m: T.bincount(m(INTS), weights=m(np.arange(7.0)), minlength=8),
    "histc": lambda T, m: T.histc(m(A), bins=4, min=-2, max=4),
    "meshgrid": lambda T, m: T.meshgrid(m(np.arange(3.0)), m(np.arange(2.0)), indexing="ij"),
    "meshgrid_xy": lambda T, m: T.meshgrid(m(np.arange(3.0)), m(np.arange(2.0)), indexing="xy"),
    "diag_vec": lambda T, m: T.diag(m(SORTED), 1),
    "diag_mat": lambda T, m: T.diag(m(A), -1),
    "diagonal": lambda T, m: T.diagonal(m(A), offset=1),
    "trace": lambda T, m: T.trace(m(A[:, :3])),
    "cdist": lambda T, m: T.cdist(m(A), m(A[:2] + 0.5)),
    "cdist_p1": lambda T, m: T.cdist(m(A), m(A[:2] + 0.5), p=1.0),
    "allclose": lambda T, m: T.allclose(m(A), m(A + 1e-9)),
    "isclose": lambda T, m: T.isclose(m(A), m(A + np.array([0, 1e-9, 1e-3, 1.0]))),
    "equal": lambda T, m: (T.equal(m(A), m(A.copy())), T.equal(m(A), m(A[:2]))),
    "take_along_dim": lambda T, m: T.take_along_dim(m(A), T.argsort(m(A), dim=1), dim=1),
    "masked_scatter": lambda T, m: m(A).masked_scatter(m(A) > 1, m(np.arange(12.0).reshape(3, 4))),
    "std_mean": lambda T, m: T.std_mean(m(A), dim=1),
    "var_mean": lambda T, m: T.var_mean(m(A), dim=0, correction=0, keepdim=True),
    "clone": lambda T, m: m(A).clone(),
    "numel": lambda T, m: (T.numel(m(A)), m(A).numel()),
    "view_as": lambda T, m: m(A).view_as(m(np.zeros((4, 3)))),
    "t": lambda T, m: m(A).t(),
    "size_dim": lambda T, m: (m(A).size(1), m(A).size(-2), m(A).size()),
    "element_size": lambda T, m: (m(A).element_size(), m(A).float().element_size(), m(INTS).nbytes),
    "type_as": lambda T, m: m(INTS).type_as(m(A)),
    "new_zeros": lambda T, m: m(A).new_zeros((2, 3)),
    "new_ones": lambda T, m: m(INTS).new_ones(2, 2),
    "new_full": lambda T, m: m(A).new_full((2,), 7.5),
    "new_tensor": lambda T, m: (m(A).new_tensor([1, 2]), m(INTS).new_tensor([1.0, 2.0])),
    "new_empty_shape": lambda T, m: (tuple(m(A).new_empty(2, 5).shape), str(m(A).new_empty(1).dtype).split(".")[-1]),
    "legacy_type": lambda T, m: (m(A).float().type(), m(INTS).type(), m(A).type("torch.LongTensor")),
    "is_tensor": lambda T, m: (T.is_tensor(m(A)), T.is_tensor(A)),
    "format": lambda T, m: ("{:+.2f}".format(m(np.array(1.456))), f"{m(np.array(3)):04d}"),
}


def _norm(v):
    """A framework-neutral form of a result: nested tuples of (dtype name, ndarray) / plain values."""
    if hasattr(v, "detach") and hasattr(v, "dtype") and hasattr(v, "shape"):
        return ("tensor", str(v.dtype).split(".")[-1], v.detach().cpu().numpy() if hasattr(v, "cpu") else v)
    if isinstance(v, (tuple, list)):
        return tuple(_norm(x) for x in v)
    if hasattr(v, "__iter__") and not isinstance(v, str):  # torch.Size
        return tuple(v)
    return v


def _assert_same(ours, theirs, path="result"):
    if isinstance(theirs, tuple) and theirs and theirs[0] == "tensor":
        assert isinstance(ours, tuple) and ours[0] == "tensor", f"{path}: expected a tensor, got {ours!r}"
        assert ours[1] == theirs[1], f"{path}: dtype {ours[1]} vs torch {theirs[1]}"
        assert ours[2].shape == theirs[2].shape, f"{path}: shape {ours[2].shape} vs torch {theirs[2].shape}"
        np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-6, atol=1e-7, err_msg=path)
    elif isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), f"{path}: {ours!r} vs torch {theirs!r}"
        for i, (o, t) in enumerate(zip(ours, theirs)):
            _assert_same(o, t, f"{path}[{i}]")
    else:
        assert ours == theirs and type(ours) is type(theirs), f"{path}: {ours!r} vs torch {theirs!r}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_tensor_api_matches_torch(name):
    torch = pytest.importorskip("torch")
    fn = CASES[name]
    ours = _norm(fn(tinytorch, lambda a: tinytorch.tensor(a)))
    theirs = _norm(fn(torch, lambda a: torch.tensor(a)))
    _assert_same(ours, theirs)


def test_named_tuple_fields():
    v = tinytorch.tensor(A)
    r = v.topk(2)
    assert r.values.shape == (3, 2) and r.indices.dtype is tinytorch.int64
    assert tinytorch.sort(v).indices.dtype is tinytorch.int64
    assert tinytorch.median(v, 0).values.shape == (4,)
    assert tinytorch.kthvalue(v, 1, 0).indices.tolist() == [2, 0, 1, 1]
