"""Indexing, scatter/gather and sorting beyond the registry's generic checks."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
from tinytorch.autograd import gradcheck
from tests.helpers import host, tensor_of as _t


def _i(a, device):
    return tinytorch.tensor(np.asarray(a, dtype=np.int64), device=device)


# ---- __getitem__ / __setitem__ ----------------------------------------------------------------------

def test_getitem_matches_numpy(device):
    a = np.arange(60.0).reshape(3, 4, 5)
    x = _t(a, device)
    idx = [
        (1,), (slice(None, None, 2),), (Ellipsis, 2), (None, 1, slice(1, 3)), (slice(None), [0, 2, 2]),
        ([0, 2], slice(None), [1, 4]), (a[:, :, 0] > 20,), (1, a[1, :, 0] > 25), (-1, -2, -3),
        (slice(None, None, 2), None, Ellipsis, slice(0, 3, 2)),
    ]
    for i in idx:
        np.testing.assert_array_equal(host(x[i]), a[i], err_msg=str(i))
    np.testing.assert_array_equal(host(x[_i([2, 0], device)]), a[[2, 0]])
    np.testing.assert_array_equal(host(x[tinytorch.tensor(a[:, 0, 0] > 10, device=device)]), a[a[:, 0, 0] > 10])


def test_getitem_errors(device):
    x = _t(np.zeros((3, 4)), device)
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x[3]
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match=r"mask \(2,\)"):
        x[tinytorch.tensor([True, False], device=device)]


def test_repeated_index_accumulates_gradient(device):
    x = _t(np.arange(5.0), device, True)
    x[_i([0, 2, 2, 2, 4], device)].sum().backward()
    np.testing.assert_array_equal(host(x.grad), [1, 0, 3, 0, 1])


def test_basic_slice_is_view(device):
    x = _t(np.arange(6.0), device)
    v = x[1:4]
    x.add_(1)
    assert v._version == x._version
    np.testing.assert_array_equal(host(v), [2, 3, 4])


def test_setitem_gradient_flows_to_target_and_value(device):
    base = _t(np.ones((3, 4)), device, True)
    val = _t([1.0, 2.0, 3.0, 4.0], device, True)
    y = base * 2
    y[1] = val * 3
    w = _t(np.arange(12.0).reshape(3, 4), device)
    (y * w).sum().backward()
    g = 2 * np.arange(12.0).reshape(3, 4)
    g[1] = 0
    np.testing.assert_allclose(host(base.grad), g)
    np.testing.assert_allclose(host(val.grad), 3 * np.arange(4.0, 8.0))


def test_setitem_no_grad_writes_in_place(device):
    x = _t(np.zeros((2, 3)), device)
    view = x[0]
    data_before = x._data
    x[0, _i([0, 2], device)] = 5.0
    assert x._data is data_before
    np.testing.assert_array_equal(host(view), [5, 0, 5])
    with tinytorch.no_grad():
        w = _t(np.zeros(3), device, True)
        w[1] = 2.0
    np.testing.assert_array_equal(host(w.detach()), [0, 2, 0])


def test_setitem_mask_and_leaf_error(device):
    x = _t(np.arange(6.0), device)
    x[x > 2] = -1.0
    np.testing.assert_array_equal(host(x), [0, 1, 2, -1, -1, -1])
    leaf = _t(np.zeros(3), device, True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf[0] = 1.0


# ---- gather / scatter family -------------------------------------------------------------------------

def test_gather_scatter_match_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 5))
    idx = np.array([[0, 4, 4], [1, 1, 0], [3, 2, 2]])
    src = rng.standard_normal((3, 4))
    x, ti = _t(a, device), _i(idx, device)
    ta, tidx = torch.from_numpy(a), torch.from_numpy(idx)
    np.testing.assert_allclose(host(x.gather(1, ti)), ta.gather(1, tidx).numpy())
    np.testing.assert_allclose(host(x.scatter_add(1, ti, _t(src, device))), ta.scatter_add(1, tidx, torch.from_numpy(src)).numpy())
    np.testing.assert_allclose(host(x.scatter(1, ti, 7.0)), ta.scatter(1, tidx, 7.0).numpy())
    y = x.clone()
    y.scatter_(0, _i([[2, 0]], device), _t([[9.0, 8.0]], device))
    np.testing.assert_allclose(host(y), ta.clone().scatter_(0, torch.tensor([[2, 0]]), torch.tensor([[9.0, 8.0]], dtype=torch.float64)).numpy())


def test_scatter_add_larger_src_gradcheck(device):
    idx = _i([[0, 2], [1, 1]], device)
    x = _t(np.random.default_rng(1).standard_normal((3, 3)), device, True)
    s = _t(np.random.default_rng(2).standard_normal((2, 3)), device, True)  # src wider than index: only its corner is used
    assert gradcheck(lambda a, b: tinytorch.scatter_add(a, 0, idx, b), (x, s))
    tinytorch.scatter_add(x, 0, idx, s).sum().backward()
    np.testing.assert_array_equal(host(s.grad), [[1, 1, 0], [1, 1, 0]])


def test_index_ops_and_inplace(device):
    a = np.arange(12.0).reshape(4, 3)
    x = _t(a, device)
    i = _i([3, 0, 3], device)
    np.testing.assert_array_equal(host(x.index_select(0, i)), a[[3, 0, 3]])
    want = a.copy()
    np.add.at(want, [3, 0, 3], 2 * np.ones((3, 3)))
    np.testing.assert_array_equal(host(x.index_add(0, i, _t(np.ones((3, 3)), device), alpha=2)), want)
    y = x.clone()
    y.index_fill_(1, _i([1], device), -1.0)
    assert host(y)[:, 1].tolist() == [-1, -1, -1, -1]
    y.index_copy_(0, _i([1], device), _t([[7.0, 8.0, 9.0]], device))
    np.testing.assert_array_equal(host(y)[1], [7, 8, 9])
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 0 with size 4"):
        x.index_select(0, _i([4], device)).cpu()  # CUDA: raised at the host sync
    with pytest.raises(RuntimeError, match="Expected dtype int64 for index"):
        x.index_select(0, _t([1.0], device))


def test_masked_ops(device):
    a = np.arange(6.0).reshape(2, 3)
    x = _t(a, device, True)
    m = tinytorch.tensor([True, False, True], device=device)
    v = _t(5.0, device, True)
    y = x.masked_fill(m, v)  # mask broadcast over rows, 0-d tensor value
    np.testing.assert_array_equal(host(y.detach()), np.where([True, False, True], 5.0, a))
    y.sum().backward()
    np.testing.assert_array_equal(host(x.grad), [[0, 1, 0], [0, 1, 0]])
    assert v.grad.item() == 4
    np.testing.assert_array_equal(host(x.masked_select(m).detach()), [0, 2, 3, 5])
    s = x.detach().masked_scatter(m.expand(2, 3), _t([10.0, 20.0, 30.0, 40.0], device))
    np.testing.assert_array_equal(host(s), [[10, 1, 20], [30, 4, 40]])
    with pytest.raises(RuntimeError, match="masked_fill: expected mask to be a bool tensor"):
        x.masked_fill(_i([1, 0, 1], device), 0.0)
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        x.masked_fill(m, _t([1.0, 2.0], device))
    z = x.detach().clone()
    z.masked_fill_(z > 2, 0.0)
    np.testing.assert_array_equal(host(z), [[0, 1, 2], [0, 0, 0]])


def test_take_nonzero_argwhere(device):
    a = np.array([[0.0, 1.5], [2.0, 0.0]])
    x = _t(a, device)
    np.testing.assert_array_equal(host(x.take(_i([3, 1], device))), [0.0, 1.5])
    nz = tinytorch.nonzero(x)
    assert nz.dtype == tinytorch.int64 and host(nz).tolist() == [[0, 1], [1, 0]]
    assert [host(t).tolist() for t in x.nonzero(as_tuple=True)] == [[0, 1], [1, 0]]
    assert host(tinytorch.argwhere(x)).tolist() == [[0, 1], [1, 0]]
    out = tinytorch.take_along_dim(x, _i([[1], [0]], device), 1)
    np.testing.assert_array_equal(host(out), [[1.5], [2.0]])


# ---- sorting / selection ---------------------------------------------------------------------------------

def test_sort_is_stable_and_namedtuple(device):
    x = _t([3.0, 1.0, 3.0, 2.0, 1.0], device)
    r = tinytorch.sort(x)
    assert type(r).__name__ == "sort" and r._fields == ("values", "indices")
    assert host(r.indices).tolist() == [1, 4, 3, 0, 2]
    d = x.sort(descending=True)
    assert host(d.values).tolist() == [3, 3, 2, 1, 1] and host(d.indices).tolist() == [0, 2, 3, 1, 4]
    assert host(x.argsort(descending=True)).tolist() == [0, 2, 3, 1, 4]


def test_sort_values_gradient_routes_to_sources(device):
    x = _t([3.0, 1.0, 2.0], device, True)
    v, _ = x.sort()
    (v * _t([1.0, 10.0, 100.0], device)).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [100, 1, 10])


def test_topk_kthvalue_median_mode_match_torch(device):
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, 3.0, 2.5, 2.0], [5.0, -1.0, 0.0, 4.0]])  # no ties: torch leaves tie order of topk unspecified
    x, ta = _t(a, device), torch.from_numpy(a)
    for ours, theirs in [
        (x.topk(2), ta.topk(2)), (x.topk(3, 1, largest=False), ta.topk(3, 1, largest=False)),
        (x.kthvalue(2, 1), ta.kthvalue(2, 1)), (x.median(1), ta.median(1)), (x.median(0, keepdim=True), ta.median(0, keepdim=True)),
    ]:
        np.testing.assert_array_equal(host(ours.values), theirs.values.numpy())
        np.testing.assert_array_equal(host(ours.indices), theirs.indices.numpy())
    assert x.median().item() == ta.median().item()
    m = np.array([[1, 2, 2, 3, 3, 1], [5, 5, 4, 4, 0, 0]])
    ours, theirs = tinytorch.mode(_i(m, device), 1), torch.mode(torch.from_numpy(m), 1)
    assert host(ours.values).tolist() == theirs.values.tolist()
    assert host(ours.indices).tolist() == theirs.indices.tolist()
    with pytest.raises(RuntimeError, match="topk: selected index k=5 out of range"):
        x.topk(5)


def test_unique_searchsorted_bincount_histc(device):
    torch = pytest.importorskip("torch")
    u, inv, cnt = tinytorch.unique(_i([3, 1, 2, 1], device), return_inverse=True, return_counts=True)
    assert host(u).tolist() == [1, 2, 3] and host(inv).tolist() == [2, 0, 1, 0] and host(cnt).tolist() == [2, 1, 1]
    rows = tinytorch.unique(_i([[1, 2], [1, 2], [0, 5]], device), dim=0)
    assert host(rows).tolist() == [[0, 5], [1, 2]]
    seq, vals = _i([1, 3, 5, 7], device), _i([[3, 6], [1, 9]], device)
    for right in (False, True):
        want = torch.searchsorted(torch.tensor([1, 3, 5, 7]), torch.tensor([[3, 6], [1, 9]]), right=right)
        assert host(tinytorch.searchsorted(seq, vals, right=right)).tolist() == want.tolist()
    assert host(tinytorch.searchsorted(seq, vals, side="right")).tolist() == [[2, 3], [1, 4]]
    b = tinytorch.bincount(_i([0, 1, 1, 4], device), minlength=6)
    assert host(b).tolist() == [1, 2, 0, 0, 1, 0] and b.dtype == tinytorch.int64
    h = tinytorch.histc(_t([1.0, 2.0, 1.0, 3.0, -5.0], device), bins=4, min=0, max=3)
    assert host(h).tolist() == torch.histc(torch.tensor([1.0, 2.0, 1.0, 3.0, -5.0]), bins=4, min=0, max=3).tolist()
    with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral inputs"):
        tinytorch.bincount(_t([1.0], device))


def test_index_put_accumulate_and_shape_error(device):
    x = _t(np.zeros(4), device)
    out = x.index_put((_i([0, 2, 0], device),), _t([1.0, 2.0, 3.0], device), accumulate=True)
    np.testing.assert_array_equal(host(out), [4, 0, 2, 0])
    y = _t(np.zeros((3, 5)), device, True) * 1
    with pytest.raises(RuntimeError, match=r"value tensor of shape \(2, 5\) cannot be broadcast to indexing result of shape \(5,\)"):
        y[0] = _t(np.ones((2, 5)), device)


def test_integer_index_is_a_writable_0d_view():
    # makemore's bigram counts: N[i, j] += 1 must write through, as in torch
    counts = tinytorch.zeros((3, 3), dtype=tinytorch.int32)
    for i, j in [(0, 1), (0, 1), (2, 0)]:
        counts[i, j] += 1
    assert counts.tolist() == [[0, 2, 0], [0, 0, 0], [1, 0, 0]]
    x = tinytorch.zeros(4)
    x[1].add_(5.0)  # a 0-d view shares storage
    assert x.tolist() == [0.0, 5.0, 0.0, 0.0]
    # the gradient still flows back to the right element
    w = tinytorch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (w[1, 0] * 2).backward()
    assert w.grad.tolist() == [[0.0, 0.0], [2.0, 0.0]]


def test_op_on_0d_result_is_writable():
    # torch.log(P[i, j]) is a fresh 0-d tensor: accumulating into it in place works
    P = tinytorch.tensor([[0.5, 0.25]])
    total = tinytorch.log(P[0, 1])
    total += tinytorch.log(P[0, 0])
    assert abs(total.item() - float(np.log(0.125))) < 1e-6
    s = tinytorch.tensor(2.0).sum()
    s.mul_(3)
    assert s.item() == 6.0
