"""Elementwise semantics the generic registry tests cannot see: dtypes, scalars, NaN, errors."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch._arrays import special
from tests.helpers import host


def T(data, device="cpu", **kw):
    return tinytorch.tensor(data, device=device, **kw)


def vals(t):
    return host(t).tolist()


# ---- reflected scalar forms and integer arithmetic ---------------------------------------------------

def test_reflected_scalar_operators(device):
    t = T([1.0, 2.0, 4.0], device)
    assert vals(2 - t) == [1.0, 0.0, -2.0]
    assert vals(2 ** t) == [2.0, 4.0, 16.0]
    assert vals(1 / t) == [1.0, 0.5, 0.25]
    assert vals(9 // t) == [9.0, 4.0, 2.0]
    assert vals(5 % t) == [0.0, 1.0, 1.0]
    assert vals(3 * t) == [3.0, 6.0, 12.0]
    assert vals(1 + t) == [2.0, 3.0, 5.0]
    assert (2 ** t).dtype == tinytorch.float32


def test_integer_division_semantics_match_python(device):
    a = T([7, -7, 7, -7], device)
    b = T([2, 2, -2, -2], device)
    assert vals(a // b) == [7 // 2, -7 // 2, 7 // -2, -7 // -2]
    assert vals(a % b) == [7 % 2, -7 % 2, 7 % -2, -7 % -2]
    assert vals(tinytorch.div(a, b, rounding_mode="trunc")) == [3, -3, -3, 3]
    assert tinytorch.div(a, b, rounding_mode="trunc").dtype == tinytorch.int64
    assert (a // b).dtype == tinytorch.int64
    q = a / b
    assert q.dtype == tinytorch.float32 and vals(q) == [3.5, -3.5, -3.5, 3.5]
    assert vals(tinytorch.fmod(a, b)) == [1, -1, 1, -1]


def test_float_rounding_modes(device):
    a = T([7.0, -7.0], device)
    assert vals(tinytorch.div(a, 2.0, rounding_mode="floor")) == [3.0, -4.0]
    assert vals(tinytorch.div(a, 2.0, rounding_mode="trunc")) == [3.0, -3.0]
    assert vals(tinytorch.remainder(a, -3.0)) == [7.0 % -3.0, -7.0 % -3.0]
    with pytest.raises(ValueError, match="div: rounding_mode"):
        tinytorch.div(a, 2.0, rounding_mode="round")


def test_integer_division_by_zero_raises(device):
    with pytest.raises(RuntimeError, match="floor_divide: ZeroDivisionError"):
        T([1, 2], device) // 0
    with pytest.raises(RuntimeError, match="remainder"):
        T([1, 2], device) % T([1, 0], device)
    # float division by zero is inf/nan, quietly, as in torch
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = T([1.0, 0.0, -1.0], device) / 0.0
    assert vals(r)[0] == math.inf and math.isnan(vals(r)[1]) and vals(r)[2] == -math.inf


def test_pow_dtypes_and_integer_powers(device):
    i = T([1, 2, 3], device)
    assert (i ** 2).dtype == tinytorch.int64 and vals(i ** 2) == [1, 4, 9]
    assert (i ** 0.5).dtype == tinytorch.float32
    assert (2 ** i).dtype == tinytorch.int64 and vals(2 ** i) == [2, 4, 8]
    assert (2.0 ** i).dtype == tinytorch.float32
    assert vals(tinytorch.pow(i, i)) == [1, 4, 27]
    with pytest.raises(RuntimeError, match="negative integer powers"):
        i ** -1
    with pytest.raises(RuntimeError, match="negative integer powers"):
        tinytorch.pow(i, T([1, -1, 2], device))
    assert vals(T([2.0], device) ** -1) == [0.5]
    assert tinytorch.square(i).dtype == tinytorch.int64


def test_pow_gradient_at_zero_base_matches_torch():
    torch = pytest.importorskip("torch")
    a = [0.0, 0.0, 2.0, 1.5]
    b = [2.0, 0.0, -1.0, 0.5]
    ta, tb = T(a, requires_grad=True), T(b, requires_grad=True)
    (ta ** tb).sum().backward()
    ra = torch.tensor(a, requires_grad=True)
    rb = torch.tensor(b, requires_grad=True)
    (ra ** rb).sum().backward()
    np.testing.assert_allclose(host(ta.grad), ra.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(host(tb.grad), rb.grad.numpy(), rtol=1e-6)
    # exponent 0: zero gradient, not NaN (0 ** -1 would be inf)
    x = T([0.0, 3.0], requires_grad=True)
    (x ** 0).sum().backward()
    assert vals(x.grad) == [0.0, 0.0]


# ---- comparisons, logic, bits ------------------------------------------------------------------------

def test_comparisons_are_bool_and_never_require_grad(device):
    x = T([1.0, 2.0, 3.0], device, requires_grad=True)
    for r, want in ((x == 2, [False, True, False]), (x != 2, [True, False, True]), (x < 2, [True, False, False]),
                    (x <= 2, [True, True, False]), (x > 2, [False, False, True]), (x >= 2, [False, True, True]),
                    (2 < x, [False, False, True]), (tinytorch.eq(x, T([1, 0, 3], device)), [True, False, True])):
        assert r.dtype == tinytorch.bool
        assert not r.requires_grad and r.grad_fn is None
        assert vals(r) == want
    # promotion before comparing: an int tensor against a float scalar
    assert vals(T([1, 2], device) < 1.5) == [True, False]


def test_bitwise_ops(device):
    a = T([True, False, True], device)
    b = T([True, True, False], device)
    assert vals(a & b) == [True, False, False]
    assert vals(a | b) == [True, True, True]
    assert vals(a ^ b) == [False, True, True]
    assert vals(~a) == [False, True, False]
    i = T([6, 3], device)
    assert vals(i & 5) == [4, 1] and vals(3 | i) == [7, 3] and vals(~i) == [-7, -4]
    with pytest.raises(RuntimeError, match="bitwise_and.*float"):
        T([1.0], device) & T([1.0], device)
    with pytest.raises(TypeError, match="bitwise_not"):
        ~T([1.0], device)


def test_logical_ops(device):
    a = T([0.0, 1.5, -2.0], device)
    b = T([1, 0, 3], device)
    assert vals(tinytorch.logical_and(a, b)) == [False, False, True]
    assert vals(tinytorch.logical_or(a, b)) == [True, True, True]
    assert vals(tinytorch.logical_xor(a, b)) == [True, True, False]
    assert vals(tinytorch.logical_not(a)) == [True, False, False]


# ---- dtypes of float functions --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "sigmoid", "tanh", "erf", "reciprocal", "rsqrt",
                                  "log2", "expm1"])
def test_integer_inputs_give_the_default_float_dtype(name, device):
    i = T([1, 2, 3], device)
    out = getattr(tinytorch, name)(i)
    assert out.dtype == tinytorch.float32
    np.testing.assert_allclose(host(out), host(getattr(tinytorch, name)(i.double())), rtol=1e-6)
    assert not out.requires_grad
    prev = tinytorch.get_default_dtype()
    try:
        tinytorch.set_default_dtype(tinytorch.float64)
        assert getattr(tinytorch, name)(i).dtype == tinytorch.float64
    finally:
        tinytorch.set_default_dtype(prev)


def test_integer_tensors_never_require_grad():
    with pytest.raises(RuntimeError):
        T([1, 2]).requires_grad_(True)
    x = T([1.0, 2.0], requires_grad=True)
    assert not (x > 1).requires_grad
    assert not tinytorch.floor_divide(T([3, 4]), 2).requires_grad


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc", "sign"])
def test_rounding_ops_have_zero_gradients(name, device):
    x = T([-1.7, -0.2, 0.4, 2.6], device, requires_grad=True)
    y = getattr(tinytorch, name)(x)
    assert y.requires_grad and y.grad_fn is not None
    (y * 3).sum().backward()
    assert vals(x.grad) == [0.0, 0.0, 0.0, 0.0]
    expect = {"floor": np.floor, "ceil": np.ceil, "round": np.round, "trunc": np.trunc, "sign": np.sign}[name]
    np.testing.assert_allclose(host(y), expect(host(x)))


def test_rounding_integers_and_decimals(device):
    i = T([1, -2], device)
    for fn in (tinytorch.floor, tinytorch.ceil, tinytorch.round, tinytorch.trunc):
        r = fn(i)
        assert r.dtype == tinytorch.int64 and vals(r) == [1, -2]
    # half to even, like torch
    assert vals(tinytorch.round(T([0.5, 1.5, 2.5, -0.5], device))) == [0.0, 2.0, 2.0, -0.0]
    np.testing.assert_allclose(host(tinytorch.round(T([1.234, -5.678], device, dtype=tinytorch.float64), decimals=2)),
                               [1.23, -5.68])
    x = T([1.75, -1.25], device, requires_grad=True)
    f = tinytorch.frac(x)
    assert vals(f) == [0.75, -0.25]
    f.sum().backward()
    assert vals(x.grad) == [1.0, 1.0]


# ---- clamp, where, maximum ---------------------------------------------------------------------------------

def test_clamp_with_none_and_tensors(device):
    x = T([-2.0, 0.0, 2.0], device)
    assert vals(tinytorch.clamp(x, min=-1)) == [-1.0, 0.0, 2.0]
    assert vals(tinytorch.clamp(x, max=1)) == [-2.0, 0.0, 1.0]
    assert vals(x.clamp(-1, 1)) == [-1.0, 0.0, 1.0]
    assert vals(tinytorch.clip(x, T([-3.0, 0.5, 0.0], device), None)) == [-2.0, 0.5, 2.0]
    with pytest.raises(RuntimeError, match="clamp.*min.*max"):
        tinytorch.clamp(x)
    # an empty range gives max, as torch
    assert vals(tinytorch.clamp(x, min=1, max=0)) == [0.0, 0.0, 0.0]
    # integer input, float bound: promoted like torch
    r = tinytorch.clamp(T([1, 2, 3], device), min=1.5)
    assert r.dtype == tinytorch.float32 and vals(r) == [1.5, 2.0, 3.0]
    assert tinytorch.clamp(T([1, 5], device), 0, 3).dtype == tinytorch.int64
    nan = tinytorch.clamp(T([math.nan], device), 0, 1)
    assert math.isnan(vals(nan)[0])


def test_clamp_gradients_match_torch():
    torch = pytest.importorskip("torch")
    x = [-2.0, -1.0, 0.3, 1.0, 2.0]
    lo = [-1.5, -1.0, 0.5, 0.0, 3.0]
    ours_x, ours_lo = T(x, requires_grad=True), T(lo, requires_grad=True)
    tinytorch.clamp(ours_x, min=ours_lo, max=1.0).sum().backward()
    rx, rlo = torch.tensor(x, requires_grad=True), torch.tensor(lo, requires_grad=True)
    torch.clamp(rx, min=rlo, max=torch.tensor(1.0)).sum().backward()
    np.testing.assert_allclose(host(ours_x.grad), rx.grad.numpy())
    np.testing.assert_allclose(host(ours_lo.grad), rlo.grad.numpy())
    # scalar bounds: the boundary points themselves keep their gradient
    y = T(x, requires_grad=True)
    y.clamp(-1.0, 1.0).sum().backward()
    ry = torch.tensor(x, requires_grad=True)
    ry.clamp(-1.0, 1.0).sum().backward()
    np.testing.assert_allclose(host(y.grad), ry.grad.numpy())


def test_where_broadcasting_scalars_and_gradients(device):
    cond = T([[True], [False]], device)
    a = T([1.0, 2.0, 3.0], device, requires_grad=True)
    b = T([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]], device, requires_grad=True)
    out = tinytorch.where(cond, a, b)
    assert tuple(out.shape) == (2, 3)
    assert vals(out) == [[1.0, 2.0, 3.0], [40.0, 50.0, 60.0]]
    out.sum().backward()
    assert vals(a.grad) == [1.0, 1.0, 1.0]
    assert vals(b.grad) == [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]
    s = tinytorch.where(T([True, False], device), T([1.0, 2.0], device, dtype=tinytorch.float64), 0.0)
    assert s.dtype == tinytorch.float64 and vals(s) == [1.0, 0.0]
    assert [vals(i) for i in tinytorch.where(T([[True, False], [False, True]], device))] == [[0, 1], [0, 1]]
    both = tinytorch.where(T([True, False], device), 1.0, 0)
    assert both.dtype == tinytorch.float32 and vals(both) == [1.0, 0.0]
    with pytest.raises(RuntimeError, match="where: expected condition to be a boolean"):
        tinytorch.where(T([1.0, 0.0], device), a[:2], 0.0)


def test_maximum_ties_share_the_gradient_and_nan_propagates(device):
    a = T([1.0, 2.0, 3.0], device, requires_grad=True)
    b = T([1.0, 5.0, 0.0], device, requires_grad=True)
    tinytorch.maximum(a, b).sum().backward()
    assert vals(a.grad) == [0.5, 0.0, 1.0]
    assert vals(b.grad) == [0.5, 1.0, 0.0]
    n = T([math.nan, 1.0], device)
    m = T([0.0, math.nan], device)
    assert all(math.isnan(v) for v in vals(tinytorch.maximum(n, m)))
    assert all(math.isnan(v) for v in vals(tinytorch.minimum(n, m)))
    assert vals(tinytorch.fmax(n, m)) == [0.0, 1.0]
    assert vals(tinytorch.fmin(n, m)) == [0.0, 1.0]
    assert tinytorch.maximum(T([1, 5], device), T([3, 2], device)).dtype == tinytorch.int64


def test_nan_to_num_and_predicates(device):
    x = T([math.nan, math.inf, -math.inf, 1.0], device)
    r = vals(tinytorch.nan_to_num(x))
    big = float(np.finfo(np.float32).max)
    assert r == [0.0, big, -big, 1.0]
    assert vals(tinytorch.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-2.0)) == [1.0, 2.0, -2.0, 1.0]
    assert vals(x.isnan()) == [True, False, False, False]
    assert vals(x.isinf()) == [False, True, True, False]
    assert vals(x.isfinite()) == [False, False, False, True]
    assert vals(tinytorch.isposinf(x)) == [False, True, False, False]
    assert vals(tinytorch.isneginf(x)) == [False, False, True, False]
    assert vals(tinytorch.isinf(T([1, 2], device))) == [False, False]


def test_sigmoid_and_tanh_are_stable_at_large_inputs(device):
    x = T([-1000.0, -50.0, 0.0, 50.0, 1000.0], device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = vals(tinytorch.sigmoid(x))
        t = vals(tinytorch.tanh(x))
    assert s[0] == 0.0 and s[2] == 0.5 and s[4] == 1.0
    assert t[0] == -1.0 and t[4] == 1.0
    assert all(math.isfinite(v) for v in s + t)


# ---- special functions ------------------------------------------------------------------------------------

def test_special_fallbacks_are_float64_accurate():
    x = np.linspace(-7, 7, 1401)
    want_erf = np.array([math.erf(v) for v in x])
    want_erfc = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(special.erf(x, use_scipy=False), want_erf, rtol=0, atol=2e-15)
    np.testing.assert_allclose(special.erfc(x, use_scipy=False), want_erfc, rtol=1e-10, atol=1e-300)
    y = np.linspace(-0.999999, 0.999999, 1001)
    inv = special.erfinv(y, use_scipy=False)
    np.testing.assert_allclose([math.erf(v) for v in inv], y, rtol=0, atol=1e-15)
    edge = special.erfinv(np.array([-1.0, 1.0, 1.5, np.nan, 0.0]), use_scipy=False)
    assert edge[0] == -np.inf and edge[1] == np.inf and np.isnan(edge[2]) and np.isnan(edge[3]) and edge[4] == 0.0
    assert special.erf(np.float32(0.5) * np.ones(2, np.float32), use_scipy=False).dtype == np.float32


def test_erf_family_values_and_gradients(device):
    x = T([-1.0, 0.0, 0.5], device, dtype=tinytorch.float64, requires_grad=True)
    np.testing.assert_allclose(host(tinytorch.erf(x)), [math.erf(v) for v in (-1.0, 0.0, 0.5)], rtol=1e-14)
    np.testing.assert_allclose(host(tinytorch.erfc(x)), [math.erfc(v) for v in (-1.0, 0.0, 0.5)], rtol=1e-14)
    tinytorch.erf(x).sum().backward()
    np.testing.assert_allclose(host(x.grad), [2 / math.sqrt(math.pi) * math.exp(-v * v) for v in (-1.0, 0.0, 0.5)])
    y = tinytorch.erfinv(T([0.0, 0.5, -0.9], device, dtype=tinytorch.float64))
    np.testing.assert_allclose([math.erf(v) for v in vals(y)], [0.0, 0.5, -0.9], atol=1e-15)


# ---- composites, errors, methods, in-place -----------------------------------------------------------------------

def test_lerp_addcmul_addcdiv(device):
    a = T([0.0, 1.0], device)
    b = T([10.0, 3.0], device)
    assert vals(tinytorch.lerp(a, b, 0.5)) == [5.0, 2.0]
    assert vals(a.lerp(b, T([0.1, 1.0], device))) == [1.0, 3.0]
    assert vals(tinytorch.addcmul(a, b, b, value=0.5)) == [50.0, 5.5]
    assert vals(tinytorch.addcdiv(a, b, b, value=2)) == [2.0, 3.0]


def test_errors_name_the_op_and_the_shapes(device):
    with pytest.raises(RuntimeError, match=r"add.*\(2, 3\).*\(4,\)"):
        tinytorch.add(tinytorch.ones(2, 3, device=device), tinytorch.ones(4, device=device))
    with pytest.raises(TypeError, match="exp: expected a Tensor"):
        tinytorch.exp([1.0, 2.0])
    with pytest.raises(RuntimeError, match="sub.*bool"):
        T([True], device) - T([False], device)
    with pytest.raises(RuntimeError, match="neg.*bool"):
        -T([True], device)


def test_tensor_methods_are_attached():
    x = T([-1.0, 4.0])
    assert vals(x.abs()) == [1.0, 4.0] and vals(abs(x)) == [1.0, 4.0]
    assert vals(x.clamp(min=0).sqrt()) == [0.0, 2.0]
    assert vals(x.pow(2)) == [1.0, 16.0] and vals(x.maximum(T([0.0, 5.0]))) == [0.0, 5.0]
    assert vals(x.relu()) == [0.0, 4.0] and vals(x.sign()) == [-1.0, 1.0]
    assert vals(x.eq(4)) == [False, True] and x.allclose(x + 1e-9)


def test_inplace_variants_match_out_of_place_and_bump_the_version(device):
    base = T([-1.5, 0.25, 2.0], device)
    cases = [
        ("clamp_", (-1.0, 1.0), {}, lambda t: t.clamp(-1.0, 1.0)),
        ("clip_", (None, 0.5), {}, lambda t: t.clip(None, 0.5)),
        ("pow_", (2,), {}, lambda t: t.pow(2)),
        ("neg_", (), {}, lambda t: t.neg()),
        ("abs_", (), {}, lambda t: t.abs()),
        ("exp_", (), {}, lambda t: t.exp()),
        ("sigmoid_", (), {}, lambda t: t.sigmoid()),
        ("tanh_", (), {}, lambda t: t.tanh()),
        ("relu_", (), {}, lambda t: t.relu()),
        ("floor_", (), {}, lambda t: t.floor()),
        ("ceil_", (), {}, lambda t: t.ceil()),
        ("round_", (), {}, lambda t: t.round()),
        ("sign_", (), {}, lambda t: t.sign()),
        ("reciprocal_", (), {}, lambda t: t.reciprocal()),
        ("lerp_", (T([1.0, 1.0, 1.0], device), 0.5), {}, lambda t: t.lerp(T([1.0, 1.0, 1.0], device), 0.5)),
        ("addcmul_", (base, base), {"value": 2}, lambda t: t.addcmul(base, base, value=2)),
        ("addcdiv_", (base, base), {"value": 2}, lambda t: t.addcdiv(base, base, value=2)),
    ]
    for name, args, kwargs, ref in cases:
        t = base.clone()
        v0 = t._version
        out = getattr(t, name)(*args, **kwargs)
        assert out is t, name
        assert t._version > v0, name
        np.testing.assert_allclose(host(t), host(ref(base)), err_msg=name)
    p = T([4.0, 9.0], device)
    p.sqrt_()
    p.log_()
    np.testing.assert_allclose(host(p), np.log([2.0, 3.0]), rtol=1e-6)


def test_inplace_on_leaf_requiring_grad_raises_and_records_on_non_leaf(device):
    w = T([1.0, -2.0], device, requires_grad=True)
    with pytest.raises(RuntimeError, match="clamp_: a leaf Variable that requires grad"):
        w.clamp_(0, 1)
    with tinytorch.no_grad():
        w.clamp_(0, 1)
    assert vals(w) == [1.0, 0.0]
    x = T([0.5, 2.0], device, requires_grad=True)
    y = x * 1.0
    y.exp_()
    y.sum().backward()
    np.testing.assert_allclose(host(x.grad), np.exp([0.5, 2.0]), rtol=1e-6)
    with pytest.raises(RuntimeError, match="exp_.*int64"):
        T([1, 2], device).exp_()
