"""Activations, dropout and attention beyond the generic registry checks: in-place forms, numerical
stability, dropout statistics, attention masks, errors, and the nn.functional namespace."""
from __future__ import annotations


import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tests.helpers import host, tensor_of as _t


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# ---- namespace -------------------------------------------------------------------------------------------------

def test_functional_exports_every_activation():
    for name in ["relu", "relu_", "sigmoid", "tanh", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish",
                 "softplus", "softsign", "hardtanh", "hardsigmoid", "hardswish", "logsigmoid", "glu", "prelu", "threshold",
                 "tanhshrink", "softshrink", "hardshrink", "softmin", "rrelu", "dropout", "dropout1d", "dropout2d",
                 "dropout3d", "alpha_dropout", "scaled_dot_product_attention", "softmax", "log_softmax"]:
        assert callable(getattr(F, name)), name


# ---- in-place variants -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,kwargs", [
    ("elu", {"alpha": 0.5}), ("selu", {}), ("celu", {"alpha": 2.0}), ("leaky_relu", {"negative_slope": 0.2}),
    ("hardtanh", {"min_val": -0.5, "max_val": 0.5}), ("relu6", {}), ("hardsigmoid", {}), ("hardswish", {}),
    ("silu", {}), ("mish", {}), ("threshold", {"threshold": 0.1, "value": -3.0}),
])
def test_inplace_matches_out_of_place_and_keeps_gradients(name, kwargs, device, torch):
    x0 = np.random.default_rng(0).standard_normal((3, 4)) * 3
    leaf = _t(x0, device, requires_grad=True)
    y = leaf * 1.0
    out = getattr(F, name)(y, **kwargs, inplace=True)
    assert out is y
    out.sum().backward()
    tl = torch.tensor(x0, requires_grad=True)
    ty = getattr(torch.nn.functional, name)(tl * 1.0, **kwargs, inplace=True)
    ty.sum().backward()
    np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(host(leaf.grad), tl.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_inplace_without_grad_writes_into_the_storage(device):
    x = _t([-1.0, 2.0, -3.0], device)
    view = x[1:]
    F.leaky_relu_(x, 0.5)
    np.testing.assert_allclose(host(x), [-0.5, 2.0, -1.5])
    np.testing.assert_allclose(host(view), [2.0, -1.5])


def test_inplace_on_leaf_requiring_grad_raises(device):
    x = _t([1.0, -1.0], device, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        F.elu(x, inplace=True)


# ---- numerical stability -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [F.logsigmoid, F.softplus, F.silu, F.mish, F.elu, F.selu, F.celu, F.gelu, F.softsign])
def test_extreme_inputs_give_finite_values_and_gradients(fn, device):
    x = _t([-1000.0, -50.0, 0.0, 50.0, 1000.0], device, requires_grad=True)
    y = fn(x)
    y.sum().backward()
    assert np.isfinite(host(y)).all(), fn.__name__
    assert np.isfinite(host(x.grad)).all(), fn.__name__


def test_logsigmoid_and_softplus_extremes_are_exact(device):
    x = _t([-1000.0, 1000.0], device, requires_grad=True)
    np.testing.assert_allclose(host(F.logsigmoid(x)), [-1000.0, 0.0])
    np.testing.assert_allclose(host(F.softplus(x)), [0.0, 1000.0])
    F.logsigmoid(x).sum().backward()
    np.testing.assert_allclose(host(x.grad), [1.0, 0.0])


# ---- errors ----------------------------------------------------------------------------------------------------------

def test_argument_errors(device):
    x = _t(np.ones((2, 3)), device)
    with pytest.raises(ValueError, match="min_val"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(RuntimeError, match="even"):
        F.glu(x, -1)
    with pytest.raises(RuntimeError, match="approximate"):
        F.gelu(x, approximate="fast")
    with pytest.raises(RuntimeError, match="prelu"):
        F.prelu(x, _t([0.1, 0.2], device))
    with pytest.raises(RuntimeError, match="lambda"):
        F.softshrink(x, -1.0)
    with pytest.raises(NotImplementedError, match="floating point"):  # torch: not implemented for Long
        F.elu(tinytorch.tensor([1, 2], device=device))


def test_softmin_is_softmax_of_negated_input(device, torch):
    x0 = np.random.default_rng(0).standard_normal((3, 4))
    for dim in (0, 1):
        np.testing.assert_allclose(host(F.softmin(_t(x0, device), dim)),
                                   torch.nn.functional.softmin(torch.tensor(x0), dim).numpy(), rtol=1e-6)


def test_rrelu_eval_uses_mean_slope_and_train_draws_slopes_in_range(device):
    x = _t(-np.ones(2000), device)
    np.testing.assert_allclose(host(F.rrelu(x, 0.1, 0.3)), -0.2)
    slopes = -host(F.rrelu(x, 0.1, 0.3, training=True))
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03


# ---- dropout ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_statistics(p, device):
    x = _t(np.ones((200, 100)), device, requires_grad=True)
    y = F.dropout(x, p)
    out = host(y)
    zeroed = (out == 0).mean()
    assert abs(zeroed - p) < 0.02, zeroed
    np.testing.assert_allclose(out[out != 0], 1.0 / (1.0 - p), rtol=1e-12)
    y.sum().backward()
    np.testing.assert_array_equal(host(x.grad), out)  # gradient is the same scaled mask


def test_dropout_eval_and_trivial_p(device):
    x = _t(np.arange(6.0).reshape(2, 3), device)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    np.testing.assert_array_equal(host(F.dropout(x, 1.0)), 0.0)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            F.dropout(x, bad)


def test_dropout_is_reproducible_under_manual_seed(device):
    x = _t(np.ones((10, 10)), device)
    tinytorch.manual_seed(3)
    a = host(F.dropout(x, 0.5))
    tinytorch.manual_seed(3)
    b = host(F.dropout(x, 0.5))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, host(F.dropout(x, 0.5)))


def test_dropout_inplace(device):
    x = _t(np.ones((50, 40)), device)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x
    assert 0.4 < (host(x) == 0).mean() < 0.6


def test_dropout2d_zeroes_whole_channels(device):
    x = _t(np.ones((8, 16, 3, 3)), device)
    out = host(F.dropout2d(x, 0.5))
    per_channel = out.reshape(8, 16, 9)
    assert ((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1)).all()
    assert 0.2 < (per_channel[..., 0] == 0).mean() < 0.8
    out1 = host(F.dropout1d(_t(np.ones((16, 5)), device), 0.5))  # unbatched (C, L)
    assert ((out1 == 0).all(-1) | (out1 == 2.0).all(-1)).all()
    with pytest.raises(RuntimeError, match="dropout2d"):
        F.dropout2d(_t(np.ones(3), device))


def test_alpha_dropout_keeps_mean_and_variance(device):
    x0 = np.random.default_rng(0).standard_normal(100_000)
    y = host(F.alpha_dropout(_t(x0, device), 0.3, training=True))
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1.0) < 0.02
    x = _t(x0[:10], device)
    assert F.alpha_dropout(x, 0.3) is x  # training=False by default, like torch


# ---- attention ------------------------------------------------------------------------------------------------------

def _sdpa_both(torch, device, q, k, v, **kw):
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    ours = [_t(a, device, requires_grad=True) for a in (q, k, v)]
    tkw = {key: (torch.tensor(val) if isinstance(val, np.ndarray) else val) for key, val in kw.items()}
    okw = {key: (tinytorch.tensor(val, device=device) if isinstance(val, np.ndarray) else val) for key, val in kw.items()}
    y = F.scaled_dot_product_attention(*ours, **okw)
    ty = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, **tkw)
    np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=1e-6, atol=1e-8)
    g = np.random.default_rng(5).standard_normal(ty.shape)
    y.backward(_t(g, device))
    ty.backward(torch.tensor(g))
    for a, b in zip(ours, (tq, tk, tv)):
        np.testing.assert_allclose(host(a.grad), b.grad.numpy(), rtol=1e-6, atol=1e-8)
    return y


@pytest.mark.parametrize("kw", [
    {}, {"is_causal": True}, {"scale": 0.25},
    {"attn_mask": np.array([[True, False, True, False, True], [True, True, True, True, False],
                            [False, False, False, True, True], [True, False, False, False, False]])},
    {"attn_mask": np.random.default_rng(1).standard_normal((4, 5))},
], ids=["plain", "causal", "scale", "bool_mask", "float_mask"])
def test_sdpa_matches_torch(kw, device, torch):
    rng = np.random.default_rng(0)
    _sdpa_both(torch, device, rng.standard_normal((2, 3, 4, 6)), rng.standard_normal((2, 3, 5, 6)),
               rng.standard_normal((2, 3, 5, 2)), **kw)


def test_sdpa_fully_masked_row_gives_zeros_like_torch(device, torch):
    rng = np.random.default_rng(0)
    mask = np.array([[True, True, False], [False, False, False]])
    y = _sdpa_both(torch, device, rng.standard_normal((1, 2, 4)), rng.standard_normal((1, 3, 4)),
                   rng.standard_normal((1, 3, 2)), attn_mask=mask)
    np.testing.assert_array_equal(host(y)[0, 1], 0.0)


def test_sdpa_grouped_query_attention(device, torch):
    rng = np.random.default_rng(0)
    _sdpa_both(torch, device, rng.standard_normal((1, 4, 3, 2)), rng.standard_normal((1, 2, 3, 2)),
               rng.standard_normal((1, 2, 3, 2)), enable_gqa=True)


def test_sdpa_errors_and_dropout(device):
    q = _t(np.ones((2, 3, 4)), device)
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=_t(np.zeros((3, 3)), device), is_causal=True)
    with pytest.raises(RuntimeError, match="embedding size"):
        F.scaled_dot_product_attention(q, _t(np.ones((2, 3, 5)), device), q)
    out = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    assert tuple(out.shape) == (2, 3, 4)


def test_gumbel_softmax_soft_and_hard(device):
    x = _t(np.random.default_rng(0).standard_normal((4, 5)), device, True)
    tinytorch.manual_seed(1)
    soft = F.gumbel_softmax(x, tau=0.5)
    np.testing.assert_allclose(host(soft).sum(-1), 1.0)
    tinytorch.manual_seed(1)
    hard = F.gumbel_softmax(x, tau=0.5, hard=True)
    h = host(hard)
    assert ((h == 0) | (h == 1)).all() and (h.sum(-1) == 1).all()
    np.testing.assert_array_equal(h.argmax(-1), host(soft).argmax(-1))
    g = _t(np.random.default_rng(2).standard_normal((4, 5)), device)
    (ga,) = tinytorch.autograd.grad(soft, (x,), g)
    (gb,) = tinytorch.autograd.grad(hard, (x,), g)
    np.testing.assert_allclose(host(ga), host(gb), rtol=1e-12)  # straight-through: the soft sample's gradient


def test_feature_alpha_dropout_drops_whole_channels(device):
    x = _t(np.ones((6, 8, 5)), device)
    out = host(F.feature_alpha_dropout(x, 0.5, training=True))
    assert (out == out[..., :1]).all()
    assert len(np.unique(out)) == 2
