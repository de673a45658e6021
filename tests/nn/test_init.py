"""nn.init: distributions (mean/std/bounds over large tensors), gains, fans, generator reproducibility."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tinytorch as torch
import tinytorch.nn as nn
from tinytorch.nn import init


def _np(t):
    return t.detach().numpy()


def test_calculate_gain_and_fans():
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("conv2d") == 1 and init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    assert init._calculate_fan_in_and_fan_out(torch.empty(6, 4, 3, 3)) == (36, 54)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(torch.empty(5))


def test_uniform_normal_constant(device):
    t = torch.empty(200, 200, device=device)
    a = _np(init.uniform_(t, -2.0, 3.0).cpu())
    assert a.min() >= -2 and a.max() <= 3 and abs(a.mean() - 0.5) < 0.05
    assert abs(a.std() - 5 / math.sqrt(12)) < 0.05
    a = _np(init.normal_(t, 1.0, 2.0).cpu())
    assert abs(a.mean() - 1) < 0.05 and abs(a.std() - 2) < 0.05
    assert (_np(init.constant_(t, 0.25).cpu()) == 0.25).all()
    assert (_np(init.zeros_(t).cpu()) == 0).all() and (_np(init.ones_(t).cpu()) == 1).all()
    np.testing.assert_array_equal(_np(init.eye_(torch.empty(3, 4, device=device)).cpu()), np.eye(3, 4))


def test_trunc_normal_bounds_and_moments():
    a = _np(init.trunc_normal_(torch.empty(100000), mean=0.5, std=1.0, a=-1.0, b=1.0))
    assert a.min() >= -1 and a.max() <= 1
    # moments of N(0.5, 1) truncated to [-1, 1]
    from math import erf, exp, pi, sqrt

    alpha, beta = -1.5, 0.5
    phi = lambda x: exp(-x * x / 2) / sqrt(2 * pi)  # noqa: E731
    cdf = lambda x: 0.5 * (1 + erf(x / sqrt(2)))  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    mean = 0.5 + (phi(alpha) - phi(beta)) / z
    assert abs(a.mean() - mean) < 0.01


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming_and_xavier(mode):
    w = torch.empty(256, 128, 3)
    fan = 128 * 3 if mode == "fan_in" else 256 * 3
    a = _np(init.kaiming_uniform_(w, a=0, mode=mode, nonlinearity="relu"))
    bound = math.sqrt(2) * math.sqrt(3 / fan)
    assert a.max() <= bound and a.min() >= -bound and a.max() > 0.98 * bound
    a = _np(init.kaiming_normal_(w, mode=mode, nonlinearity="relu"))
    assert abs(a.std() - math.sqrt(2 / fan)) < 0.02 * math.sqrt(2 / fan) * 5
    a = _np(init.xavier_uniform_(w, gain=2.0))
    bound = 2.0 * math.sqrt(6 / (128 * 3 + 256 * 3))
    assert a.max() <= bound and a.max() > 0.98 * bound
    a = _np(init.xavier_normal_(w))
    assert abs(a.std() - math.sqrt(2 / (128 * 3 + 256 * 3))) < 0.002
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(w, mode="fan_avg")


def test_orthogonal_sparse_dirac():
    for shape in [(6, 10), (10, 6), (4, 2, 3)]:
        q = _np(init.orthogonal_(torch.empty(*shape), gain=2.0)).reshape(shape[0], -1)
        small = min(q.shape)
        gram = q @ q.T if q.shape[0] == small else q.T @ q
        np.testing.assert_allclose(gram, 4 * np.eye(small), atol=1e-5)
    s = _np(init.sparse_(torch.empty(10, 5), sparsity=0.3))
    assert ((s == 0).sum(0) >= 3).all()
    w = init.dirac_(torch.empty(4, 2, 3, 3), groups=2)
    x = torch.randn(1, 4, 5, 5)
    # a dirac kernel makes the (grouped) convolution the identity
    np.testing.assert_allclose(_np(torch.nn.functional.conv2d(x, w, padding=1, groups=2)), _np(x), atol=1e-6)
    arr = _np(w)
    assert arr.sum() == 4 and arr[0, 0, 1, 1] == 1 and arr[1, 1, 1, 1] == 1 and arr[2, 0, 1, 1] == 1


def test_generator_reproducible_and_no_history():
    g = torch.Generator().manual_seed(3)
    a = _np(init.normal_(torch.empty(5), generator=g)).copy()
    g.manual_seed(3)
    b = _np(init.normal_(torch.empty(5), generator=g))
    np.testing.assert_array_equal(a, b)
    p = nn.Parameter(torch.empty(3, 3))
    out = init.xavier_uniform_(p)
    assert out is p and p.is_leaf and p.requires_grad


def test_layer_default_init_distributions():
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w = _np(lin.weight)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert np.abs(_np(lin.bias)).max() <= bound
    conv = nn.Conv2d(8, 16, 3)
    assert np.abs(_np(conv.weight)).max() <= 1 / math.sqrt(72)
    emb = _np(nn.Embedding(1000, 64).weight)
    assert abs(emb.mean()) < 0.02 and abs(emb.std() - 1) < 0.02
    assert (_np(nn.Embedding(5, 3, padding_idx=-1).weight)[4] == 0).all()
    lstm = nn.LSTM(10, 50)
    for p in lstm.parameters():
        assert np.abs(_np(p)).max() <= 1 / math.sqrt(50)
    mha = nn.MultiheadAttention(64, 4)
    assert (_np(mha.in_proj_bias) == 0).all() and (_np(mha.out_proj.bias) == 0).all()
    assert np.abs(_np(mha.in_proj_weight)).max() <= math.sqrt(6 / (64 + 192))
    bn = nn.BatchNorm2d(3)
    assert (_np(bn.weight) == 1).all() and (_np(bn.bias) == 0).all() and (_np(bn.running_var) == 1).all()
