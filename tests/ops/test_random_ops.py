"""In-place random fills: ranges, moments, seeding, generators, autograd rules and errors."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
from tests.helpers import host

N = 4000  # enough for loose moment checks, small enough to be instant


def test_uniform_range_and_moments(device):
    t = tinytorch.empty(N, device=device).uniform_(-2.0, 3.0)
    a = host(t)
    assert t.dtype == tinytorch.float32
    assert a.min() >= -2.0 and a.max() < 3.0
    assert abs(a.mean() - 0.5) < 0.15
    assert abs(a.var() - 25 / 12) < 0.3
    d = tinytorch.empty(10, device=device, dtype=tinytorch.float64).uniform_()
    assert host(d).min() >= 0 and host(d).max() < 1 and d.dtype == tinytorch.float64
    kw = tinytorch.empty(10, device=device).uniform_(**{"from": 5.0, "to": 6.0})
    assert host(kw).min() >= 5.0


def test_normal_moments(device):
    a = host(tinytorch.empty(N, device=device).normal_(2.0, 0.5))
    assert abs(a.mean() - 2.0) < 0.05 and abs(a.std() - 0.5) < 0.05
    z = host(tinytorch.zeros(5, device=device).normal_(1.0, 0.0))
    assert (z == 1.0).all()


def test_bernoulli_exponential_geometric_lognormal_cauchy(device):
    b = host(tinytorch.empty(N, device=device).bernoulli_(0.3))
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.05
    probs = tinytorch.tensor([0.0, 1.0, 0.0, 1.0], device=device)
    assert host(tinytorch.empty(4, device=device).bernoulli_(probs)).tolist() == [0.0, 1.0, 0.0, 1.0]
    bi = tinytorch.empty(6, device=device, dtype=tinytorch.int64).bernoulli_(0.5)
    assert bi.dtype == tinytorch.int64 and set(host(bi).tolist()) <= {0, 1}
    e = host(tinytorch.empty(N, device=device).exponential_(4.0))
    assert e.min() >= 0 and abs(e.mean() - 0.25) < 0.03
    g = host(tinytorch.empty(N, device=device).geometric_(0.5))
    assert g.min() >= 1 and (g == np.round(g)).all() and abs(g.mean() - 2.0) < 0.15
    ln = host(tinytorch.empty(N, device=device, dtype=tinytorch.float64).log_normal_(0.0, 0.25))
    assert ln.min() > 0 and abs(np.log(ln).mean()) < 0.03
    c = host(tinytorch.empty(N, device=device, dtype=tinytorch.float64).cauchy_(1.0, 0.5))
    assert abs(np.median(c) - 1.0) < 0.1


def test_random_integer_ranges(device):
    r = host(tinytorch.empty(N, device=device).random_(5))
    assert set(np.unique(r)) == {0.0, 1.0, 2.0, 3.0, 4.0}
    i = tinytorch.empty(N, device=device, dtype=tinytorch.int64).random_(-3, 2)
    assert i.dtype == tinytorch.int64 and set(host(i).tolist()) == {-3, -2, -1, 0, 1}
    u = host(tinytorch.empty(200, device=device, dtype=tinytorch.uint8).random_())
    assert u.min() >= 0 and u.max() <= 255 and len(np.unique(u)) > 50
    f = host(tinytorch.empty(200, device=device).random_())
    assert f.min() >= 0 and f.max() <= 2 ** 24 and (f == np.round(f)).all()
    bools = tinytorch.empty(50, device=device, dtype=tinytorch.bool).random_()
    assert set(host(bools).tolist()) == {False, True}


def test_seeding_and_generators(device):
    tinytorch.manual_seed(123)
    a = host(tinytorch.empty(6, device=device).normal_())
    b = host(tinytorch.empty(6, device=device).uniform_())
    tinytorch.manual_seed(123)
    assert (host(tinytorch.empty(6, device=device).normal_()) == a).all()
    assert (host(tinytorch.empty(6, device=device).uniform_()) == b).all()
    g1 = tinytorch.Generator(device).manual_seed(7)
    g2 = tinytorch.Generator(device).manual_seed(7)
    x = host(tinytorch.empty(5, device=device).uniform_(generator=g1))
    tinytorch.empty(5, device=device).uniform_()  # the global generator does not disturb g2
    y = host(tinytorch.empty(5, device=device).uniform_(generator=g2))
    assert (x == y).all()
    assert not (host(tinytorch.empty(5, device=device).uniform_(generator=g1)) == x).all()


def test_fills_write_through_views(device):
    base = tinytorch.zeros(6, device=device)
    v = base.view(2, 3)
    v.uniform_(1.0, 2.0)
    assert host(base).min() >= 1.0
    np.testing.assert_array_equal(host(base).reshape(2, 3), host(v))


def test_autograd_rules(device):
    w = tinytorch.zeros(3, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="normal_: a leaf Variable that requires grad"):
        w.normal_()
    with tinytorch.no_grad():
        w.normal_()
        w.uniform_(-1, 1)
    assert w.requires_grad and w.is_leaf and host(w).min() >= -1
    # on a non-leaf the fill is recorded: the old value gets a zero gradient
    x = tinytorch.ones(3, device=device, requires_grad=True)
    y = x * 2
    y.uniform_()
    assert y.requires_grad
    y.sum().backward()
    assert host(x.grad).tolist() == [0.0, 0.0, 0.0]


def test_errors_name_the_op(device):
    t = tinytorch.empty(3, device=device)
    with pytest.raises(RuntimeError, match="uniform_.*from=2.0 > to=1.0"):
        t.uniform_(2.0, 1.0)
    with pytest.raises(RuntimeError, match="normal_.*std"):
        t.normal_(0.0, -1.0)
    with pytest.raises(RuntimeError, match="bernoulli_.*p"):
        t.bernoulli_(1.5)
    with pytest.raises(RuntimeError, match="exponential_.*lambda"):
        t.exponential_(0.0)
    with pytest.raises(RuntimeError, match="random_.*from=3 >= to=3"):
        t.random_(3, 3)
    with pytest.raises(NotImplementedError, match="uniform_: .*expected a floating point tensor, got tinytorch.int64"):
        tinytorch.zeros(3, dtype=tinytorch.int64, device=device).uniform_()
    with pytest.raises(RuntimeError, match="geometric_"):
        t.geometric_(1.5)
