"""Reduction semantics the registry cannot see: return types, ties, NaN, stability, dtypes, errors."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import tinytorch
from tests.helpers import host


def T(data, device="cpu", **kw):
    return tinytorch.tensor(data, device=device, **kw)


def vals(t):
    return host(t).tolist()


# ---- max / min / argmax ---------------------------------------------------------------------------------

def test_max_min_with_dim_return_named_tuples(device):
    x = T([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], device)
    r = tinytorch.max(x, 1)
    assert isinstance(r, tuple) and r._fields == ("values", "indices")
    assert vals(r.values) == [5.0, 7.0] and vals(r.indices) == [1, 0]
    assert r.indices.dtype == tinytorch.int64
    values, indices = x.min(dim=0, keepdim=True)
    assert vals(values) == [[1.0, 0.0, 2.0]] and vals(indices) == [[0, 1, 0]]
    assert type(r).__name__ == "max" and type(x.min(0)).__name__ == "min"
    # no dim: a plain 0-d tensor
    m = x.max()
    assert isinstance(m, tinytorch.Tensor) and tuple(m.shape) == () and m.item() == 7.0
    # binary form is maximum
    assert vals(tinytorch.max(x, T([[2.0, 2.0, 2.0]], device))) == [[2.0, 5.0, 2.0], [7.0, 2.0, 3.0]]
    mm = tinytorch.aminmax(x)
    assert mm.min.item() == 0.0 and mm.max.item() == 7.0


def test_max_gradients_ties(device):
    # amax and max() without dim share the gradient evenly among ties (as torch)
    x = T([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], device, requires_grad=True)
    tinytorch.amax(x, dim=1).sum().backward()
    assert vals(x.grad) == [[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]]
    y = T([4.0, 1.0, 4.0], device, requires_grad=True)
    y.max().backward()
    assert vals(y.grad) == [0.5, 0.0, 0.5]
    # max(dim) sends the whole gradient to the returned index
    z = T([[1.0, 3.0, 3.0]], device, requires_grad=True)
    v, i = z.max(1)
    v.sum().backward()
    assert vals(z.grad) == [[0.0, 1.0, 0.0]] and vals(i) == [1]


def test_max_tie_gradients_match_torch():
    torch = pytest.importorskip("torch")
    data = [[1.0, 3.0, 3.0, 3.0], [2.0, 2.0, 0.0, -1.0]]
    for op in ("amax", "amin"):
        ours = T(data, requires_grad=True)
        getattr(tinytorch, op)(ours, 1).sum().backward()
        theirs = torch.tensor(data, requires_grad=True)
        getattr(torch, op)(theirs, 1).sum().backward()
        np.testing.assert_allclose(host(ours.grad), theirs.grad.numpy(), err_msg=op)


def test_argmax_ties_and_flattening(device):
    x = T([[1.0, 9.0, 9.0], [9.0, 0.0, 9.0]], device)
    assert tinytorch.argmax(x).item() == 1  # flattened, first occurrence
    assert tuple(tinytorch.argmax(x).shape) == ()
    assert vals(x.argmax(1)) == [1, 0]
    assert vals(x.argmin(dim=0, keepdim=True)) == [[0, 1, 0]]
    assert tuple(tinytorch.argmax(x, keepdim=True).shape) == (1, 1)
    assert tinytorch.argmax(x).dtype == tinytorch.int64 and not x.argmax().requires_grad


def test_max_nan_propagates(device):
    x = T([[1.0, math.nan, 3.0], [4.0, 5.0, 6.0]], device)
    assert math.isnan(x.max().item())
    assert math.isnan(tinytorch.amin(x).item())
    v, i = x.max(1)
    assert math.isnan(vals(v)[0]) and vals(i)[0] == 1 and vals(v)[1] == 6.0
    assert x.argmax().item() == 1


def test_reductions_of_empty_tensors_raise():
    with pytest.raises(RuntimeError, match="max"):
        tinytorch.zeros(0).max()
    with pytest.raises(IndexError, match="argmax"):  # torch: IndexError
        tinytorch.zeros(0).argmax()


# ---- stability ------------------------------------------------------------------------------------------

def test_logsumexp_softmax_log_softmax_stable_at_1000(device):
    x = T([[1000.0, 1000.0, -1000.0], [-1000.0, -1000.0, -999.0]], device, dtype=tinytorch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lse = vals(tinytorch.logsumexp(x, 1))
        sm = vals(tinytorch.softmax(x, dim=1))
        lsm = vals(tinytorch.log_softmax(x, dim=1))
    np.testing.assert_allclose(lse, [1000.0 + math.log(2.0), -999.0 + math.log(1 + 2 * math.exp(-1.0))])
    np.testing.assert_allclose(sm[0], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(lsm[0], [-math.log(2.0), -math.log(2.0), -2000.0 - math.log(2.0)])
    assert all(math.isfinite(v) for row in lsm for v in row)
    np.testing.assert_allclose(np.sum(sm, axis=1), [1.0, 1.0])
    # the gradients are finite too
    xg = T([1000.0, -1000.0, 0.0], device, requires_grad=True)
    tinytorch.log_softmax(xg, dim=0)[1].backward()
    assert all(math.isfinite(v) for v in vals(xg.grad))


def test_logsumexp_of_all_minus_inf(device):
    x = T([[-math.inf, -math.inf], [0.0, -math.inf]], device)
    assert vals(tinytorch.logsumexp(x, 1)) == [-math.inf, 0.0]
    assert tuple(tinytorch.logsumexp(x, (0, 1), keepdim=True).shape) == (1, 1)


def test_softmax_matches_torch_and_warns_without_dim():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(0).standard_normal((2, 3, 4))
    for dim in (0, 1, -1):
        np.testing.assert_allclose(host(tinytorch.softmax(T(data), dim)), torch.softmax(torch.tensor(data), dim).numpy(),
                                   rtol=1e-12)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        tinytorch.nn.functional.softmax(T(data))
    assert tinytorch.softmax(T([1, 2]), 0).dtype == tinytorch.float32
    assert tinytorch.softmax(T([1.0, 2.0]), 0, dtype=tinytorch.float64).dtype == tinytorch.float64
    assert tinytorch.nn.functional.log_softmax is tinytorch.log_softmax


# ---- var / std / norm ----------------------------------------------------------------------------------------

def test_std_var_correction_and_unbiased(device):
    data = [[1.0, 2.0, 4.0, 7.0], [0.0, 0.0, 1.0, 3.0]]
    x = T(data, device, dtype=tinytorch.float64)
    a = np.array(data)
    np.testing.assert_allclose(vals(x.std()), a.std(ddof=1))
    np.testing.assert_allclose(vals(x.std(correction=0)), a.std(ddof=0))
    np.testing.assert_allclose(vals(x.var(1, unbiased=False)), a.var(axis=1, ddof=0))
    np.testing.assert_allclose(vals(tinytorch.var(x, 1, correction=2, keepdim=True)), a.var(axis=1, ddof=2, keepdims=True))
    np.testing.assert_allclose(vals(tinytorch.var(x, False)), a.var(ddof=0))  # legacy var(input, unbiased)
    v, m = tinytorch.var_mean(x, 0)
    np.testing.assert_allclose(vals(v), a.var(axis=0, ddof=1))
    np.testing.assert_allclose(vals(m), a.mean(axis=0))
    s, m = tinytorch.std_mean(x, dim=(0, 1), keepdim=True)
    assert tuple(s.shape) == (1, 1) and tuple(m.shape) == (1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        one = tinytorch.var(T([3.0], device))  # N - correction = 0: nan like torch, without warning
    assert math.isnan(one.item())
    with pytest.raises(RuntimeError, match="var.*floating point"):
        tinytorch.var(T([1, 2, 3], device))
    with pytest.raises(RuntimeError, match="unbiased.*correction"):
        tinytorch.std(x, 0, unbiased=True, correction=0)


def test_norm_variants_match_torch():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(1).standard_normal((3, 4))
    for p, dim in (("fro", None), (2, 1), (1, 0), (math.inf, 1), (-math.inf, None), (0, 1), (3.5, 0)):
        ours = tinytorch.norm(T(data), p, dim)
        theirs = torch.norm(torch.tensor(data), p, dim)
        np.testing.assert_allclose(host(ours), theirs.numpy(), rtol=1e-12, err_msg=f"p={p} dim={dim}")


def test_norm_gradient_at_zero_is_zero(device):
    x = tinytorch.zeros(3, device=device, requires_grad=True)
    x.norm().backward()
    assert vals(x.grad) == [0.0, 0.0, 0.0]
    with pytest.raises(NotImplementedError, match="nuc"):
        tinytorch.norm(tinytorch.ones(2, 2), "nuc")


# ---- sum / mean / prod / cumulative ------------------------------------------------------------------------------

def test_integer_reductions_dtypes(device):
    i = T([[1, 2], [3, 4]], device, dtype=tinytorch.int32)
    assert i.sum().dtype == tinytorch.int64 and i.sum().item() == 10
    assert i.prod().dtype == tinytorch.int64 and i.prod().item() == 24
    assert i.cumsum(0).dtype == tinytorch.int64 and vals(i.cumsum(1)) == [[1, 3], [3, 7]]
    assert T([True, True, False], device).sum().item() == 2
    with pytest.raises(RuntimeError, match="mean.*could not infer output dtype"):
        i.mean()
    assert i.mean(dtype=tinytorch.float64).item() == 2.5
    assert i.sum(dtype=tinytorch.float32).dtype == tinytorch.float32


def test_prod_and_cumprod_gradients_with_zeros_match_torch():
    torch = pytest.importorskip("torch")
    cases = [[2.0, 0.0, 3.0, 4.0], [0.0, 0.0, 2.0, 5.0], [1.5, -2.0, 3.0, 0.5], [0.0, 1.0, 2.0, 3.0]]
    for data in cases:
        for name, fn, tfn in (("prod", lambda x: x.prod(), lambda x: x.prod()),
                              ("cumprod", lambda x: x.cumprod(0), lambda x: x.cumprod(0))):
            ours = T(data, dtype=tinytorch.float64, requires_grad=True)
            theirs = torch.tensor(data, dtype=torch.float64, requires_grad=True)
            w = np.arange(1.0, 5.0)
            out = fn(ours)
            (out * T(w[: out.numel()], dtype=tinytorch.float64)).sum().backward()
            tout = tfn(theirs)
            (tout * torch.tensor(w[: tout.numel()])).sum().backward()
            np.testing.assert_allclose(host(ours.grad), theirs.grad.numpy(), err_msg=f"{name} {data}")


def test_all_any_count_nonzero(device):
    x = T([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]], device)
    assert x.all().item() is False and x.any().item() is True
    assert vals(x.all(1)) == [False, False] and vals(x.any(0)) == [False, True, True]
    assert tinytorch.all(x, 0).dtype == tinytorch.bool
    assert tinytorch.count_nonzero(x).item() == 3 and vals(tinytorch.count_nonzero(x, 1)) == [2, 1]
    assert tinytorch.count_nonzero(x).dtype == tinytorch.int64


def test_dims_tuple_negative_keepdim_and_errors(device):
    x = tinytorch.ones(2, 3, 4, device=device)
    assert tuple(x.sum((0, -1)).shape) == (3,)
    assert tuple(x.mean(-2, keepdim=True).shape) == (2, 1, 4)
    assert tuple(x.amax((1, 2)).shape) == (2,)
    with pytest.raises(IndexError, match=r"mean: Dimension out of range.*got 3"):
        x.mean(3)
    with pytest.raises(RuntimeError, match="sum: dim .* multiple times"):
        x.sum((1, -2))
    with pytest.raises(TypeError, match="logsumexp: expected a Tensor"):
        tinytorch.logsumexp([1.0, 2.0], 0)


def test_numpy_keyword_aliases():
    # torch's argument parser accepts axis=/keepdims= for dim=/keepdim= (makemore: P.sum(1, keepdims=True))
    x = T([[1.0, 2.0], [3.0, 5.0]])
    assert x.sum(1, keepdims=True).tolist() == [[3.0], [8.0]]
    assert tinytorch.mean(x, axis=0).tolist() == [2.0, 3.5]
    assert x.max(axis=1).values.tolist() == [2.0, 5.0]
    assert x.argmax(axis=0, keepdims=True).tolist() == [[1, 1]]
    assert x.std(axis=1, keepdims=True).shape == (2, 1)
    assert (x > 2).any(axis=1).tolist() == [False, True]
    with pytest.raises(TypeError, match="both 'dim' and its alias 'axis'"):
        x.sum(dim=0, axis=1)
