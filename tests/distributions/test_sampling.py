"""Samples: shapes (sample/batch/event), moments over many draws, seeding, and rsample gradients."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tinytorch
import tinytorch.distributions as D
from tests.helpers import tensor_of as _t

N = 200_000


def _moments(dist, n=N):
    x = dist.sample((n,)).double()
    return x.mean(0).cpu().numpy(), x.var(0).cpu().numpy()


def _se(var, n=N):
    return np.sqrt(np.asarray(var) / n)


# (distribution factory on a device, needs rsample)
MOMENT_CASES = {
    "Normal": lambda d: D.Normal(_t([0.0, -2.0], d), _t([1.0, 0.5], d)),
    "Uniform": lambda d: D.Uniform(_t([0.0, -3.0], d), _t([1.0, 5.0], d)),
    "Laplace": lambda d: D.Laplace(_t([1.0, -2.0], d), _t([0.5, 2.0], d)),
    "Exponential": lambda d: D.Exponential(_t([0.5, 3.0], d)),
    "Gamma": lambda d: D.Gamma(_t([0.3, 4.0], d), _t([1.0, 2.0], d)),
    "Beta": lambda d: D.Beta(_t([0.5, 3.0], d), _t([2.0, 1.5], d)),
    "Dirichlet": lambda d: D.Dirichlet(_t([0.5, 2.0, 4.0], d)),
    "Bernoulli": lambda d: D.Bernoulli(_t([0.1, 0.7], d)),
    "OneHotCategorical": lambda d: D.OneHotCategorical(_t([0.1, 0.2, 0.7], d)),
    "MultivariateNormal": lambda d: D.MultivariateNormal(_t([1.0, -1.0], d), _t([[2.0, 0.6], [0.6, 1.0]], d)),
    "LogNormal": lambda d: D.LogNormal(_t([0.0, 0.5], d), _t([0.5, 0.25], d)),
    "HalfNormal": lambda d: D.HalfNormal(_t([0.5, 2.0], d)),
    "Weibull": lambda d: D.Weibull(_t([1.0, 2.0], d), _t([1.5, 3.0], d)),
    "Pareto": lambda d: D.Pareto(_t([1.0, 2.0], d), _t([5.0, 7.0], d)),
    "InverseGamma": lambda d: D.InverseGamma(_t([5.0, 8.0], d), _t([1.0, 2.0], d)),
    "Multinomial": lambda d: D.Multinomial(10, _t([0.2, 0.5, 0.3], d)),
    "NegativeBinomial": lambda d: D.NegativeBinomial(_t([2.0, 7.5], d), _t([0.3, 0.6], d)),
    "Gumbel": lambda d: D.Gumbel(_t([0.0, 3.0], d), _t([1.0, 0.5], d)),
    "Chi2": lambda d: D.Chi2(_t([1.0, 5.0], d)),
    "StudentT": lambda d: D.StudentT(_t([6.0, 9.0], d), _t([1.0, -1.0], d), _t([1.0, 2.0], d)),
    "Poisson": lambda d: D.Poisson(_t([0.5, 7.0], d)),
    "Geometric": lambda d: D.Geometric(_t([0.2, 0.9], d)),
    "Binomial": lambda d: D.Binomial(_t([5.0, 20.0], d), _t([0.3, 0.8], d)),
    "MixtureSameFamily": lambda d: D.MixtureSameFamily(D.Categorical(_t([0.3, 0.7], d)),
                                                       D.Normal(_t([-2.0, 1.0], d), _t([0.5, 1.0], d))),
}


@pytest.mark.parametrize("name", sorted(MOMENT_CASES))
def test_sample_moments(name, device):
    tinytorch.manual_seed(0)
    dist = MOMENT_CASES[name](device)
    mean, var = _moments(dist)
    want_mean = dist.mean.cpu().numpy()
    want_var = dist.variance.cpu().numpy()
    # 6 standard errors for the mean; the variance within 5% (its spread is far smaller at this n)
    np.testing.assert_array_less(np.abs(mean - want_mean), 6 * _se(want_var) + 1e-12, err_msg=f"{name} mean")
    np.testing.assert_allclose(var, want_var, rtol=0.05, err_msg=f"{name} variance")


def test_cauchy_sample_quartiles():
    tinytorch.manual_seed(2)
    x = D.Cauchy(_t([1.0]), _t([2.0])).sample((N,)).numpy()[:, 0]
    q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75])
    np.testing.assert_allclose([q1, med, q3], [-1.0, 1.0, 3.0], atol=0.05)  # loc -+ scale


def test_relaxed_samples_approach_the_discrete_ones_at_low_temperature():
    tinytorch.manual_seed(4)
    probs = _t([0.2, 0.3, 0.5])
    x = D.RelaxedOneHotCategorical(_t(0.05), probs=probs).sample((20_000,)).numpy()
    np.testing.assert_allclose(x.sum(-1), 1.0, rtol=1e-9)
    np.testing.assert_allclose(np.bincount(x.argmax(-1), minlength=3) / 20_000, probs.numpy(), atol=0.015)
    b = D.RelaxedBernoulli(_t(0.05), probs=_t([0.3])).sample((20_000,)).numpy()
    assert ((b > 0) & (b < 1)).all() and abs((b > 0.5).mean() - 0.3) < 0.015


def test_mvn_sample_covariance():
    tinytorch.manual_seed(1)
    cov = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]])
    x = D.MultivariateNormal(_t(np.zeros(3)), _t(cov)).sample((N,)).numpy()
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.02)


def test_categorical_frequencies(device):
    tinytorch.manual_seed(0)
    probs = np.array([[0.05, 0.15, 0.0, 0.8], [0.25, 0.25, 0.25, 0.25]])
    s = D.Categorical(probs=_t(probs, device)).sample((N,)).cpu().numpy()
    assert s.dtype == np.int64 and s.shape == (N, 2)
    for row in range(2):
        freq = np.bincount(s[:, row], minlength=4) / N
        np.testing.assert_allclose(freq, probs[row], atol=6 * np.sqrt(0.25 / N))
    assert not (s[:, 0] == 2).any()  # a zero-probability class is never drawn


def test_categorical_logits_frequencies():
    tinytorch.manual_seed(3)
    logits = np.array([0.0, 1.0, -1.0])
    s = D.Categorical(logits=_t(logits)).sample((N,)).numpy()
    want = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(np.bincount(s, minlength=3) / N, want, atol=0.005)


def test_seeded_sampling_is_reproducible():
    dist = D.Normal(_t([0.0, 1.0]), _t([1.0, 2.0]))
    tinytorch.manual_seed(42)
    a = dist.sample((5,)).numpy()
    tinytorch.manual_seed(42)
    b = dist.sample((5,)).numpy()
    np.testing.assert_array_equal(a, b)
    tinytorch.manual_seed(42)
    c = D.Categorical(logits=_t([0.0, 0.0, 0.0])).sample((50,)).numpy()
    tinytorch.manual_seed(42)
    d = D.Categorical(logits=_t([0.0, 0.0, 0.0])).sample((50,)).numpy()
    np.testing.assert_array_equal(c, d)


SHAPE_CASES = {
    # factory, batch_shape, event_shape
    "Normal": (lambda: D.Normal(tinytorch.zeros(2, 3), 1.0), (2, 3), ()),
    "Normal_scalar": (lambda: D.Normal(0.0, 1.0), (), ()),
    "Categorical": (lambda: D.Categorical(logits=tinytorch.zeros(2, 5)), (2,), ()),
    "Categorical_1d": (lambda: D.Categorical(probs=tinytorch.ones(5)), (), ()),
    "OneHotCategorical": (lambda: D.OneHotCategorical(probs=tinytorch.ones(2, 5)), (2,), (5,)),
    "Dirichlet": (lambda: D.Dirichlet(tinytorch.ones(3, 4)), (3,), (4,)),
    "MultivariateNormal": (lambda: D.MultivariateNormal(tinytorch.zeros(2, 3), tinytorch.eye(3)), (2,), (3,)),
    "MultivariateNormal_batch_cov": (lambda: D.MultivariateNormal(tinytorch.zeros(3), tinytorch.eye(3).expand(4, 3, 3)),
                                     (4,), (3,)),
    "Independent": (lambda: D.Independent(D.Normal(tinytorch.zeros(2, 3, 4), 1.0), 2), (2,), (3, 4)),
    "Bernoulli": (lambda: D.Bernoulli(logits=tinytorch.zeros(3)), (3,), ()),
    "Beta": (lambda: D.Beta(tinytorch.ones(2), 2.0), (2,), ()),
    "Gamma": (lambda: D.Gamma(tinytorch.ones(2, 1), tinytorch.ones(3)), (2, 3), ()),
    "LogNormal": (lambda: D.LogNormal(tinytorch.zeros(3), 1.0), (3,), ()),
    "StudentT": (lambda: D.StudentT(tinytorch.ones(2, 3) * 3), (2, 3), ()),
    "Multinomial": (lambda: D.Multinomial(5, logits=tinytorch.zeros(2, 4)), (2,), (4,)),
    "Poisson": (lambda: D.Poisson(tinytorch.ones(3)), (3,), ()),
    "Binomial": (lambda: D.Binomial(4, tinytorch.ones(3) * 0.5), (3,), ()),
    "Gumbel": (lambda: D.Gumbel(tinytorch.zeros(3), 1.0), (3,), ()),
    "MixtureSameFamily": (lambda: D.MixtureSameFamily(D.Categorical(logits=tinytorch.zeros(2, 4)),
                                                      D.Independent(D.Normal(tinytorch.zeros(2, 4, 3), 1.0), 1)),
                          (2,), (3,)),
}


@pytest.mark.parametrize("name", sorted(SHAPE_CASES))
def test_shapes(name):
    make, batch, event = SHAPE_CASES[name]
    dist = make()
    assert tuple(dist.batch_shape) == batch and tuple(dist.event_shape) == event
    assert isinstance(dist.batch_shape, tinytorch.Size)
    assert tuple(dist.sample().shape) == batch + event
    s = dist.sample((4, 2))
    assert tuple(s.shape) == (4, 2) + batch + event
    assert tuple(dist.log_prob(s).shape) == (4, 2) + batch
    if name not in ("Poisson", "MixtureSameFamily"):  # torch has no entropy for these either
        assert tuple(dist.entropy().shape) == batch
    # expand: a larger batch, parameters broadcast, log_prob agrees with the unexpanded one
    big = dist.expand((5,) + batch)
    assert tuple(big.batch_shape) == (5,) + batch and tuple(big.event_shape) == event
    assert type(big) is type(dist)
    assert tuple(big.sample().shape) == (5,) + batch + event
    one = dist.sample()
    np.testing.assert_allclose(big.log_prob(one).numpy(), np.broadcast_to(dist.log_prob(one).numpy(), (5,) + batch))


def test_categorical_log_prob_broadcasting():
    logits = tinytorch.randn(3, 4)
    m = D.Categorical(logits=logits)
    # a (2, 1) value broadcasts against batch (3,) to (2, 3)
    v = tinytorch.tensor([[0], [3]])
    lp = m.log_prob(v)
    assert tuple(lp.shape) == (2, 3)
    ls = logits.log_softmax(-1).numpy()
    np.testing.assert_allclose(lp.numpy(), np.stack([ls[:, 0], ls[:, 3]]), rtol=1e-6)


def test_enumerate_support():
    m = D.Categorical(logits=tinytorch.zeros(2, 3))
    assert tuple(m.enumerate_support().shape) == (3, 2)
    assert m.enumerate_support(expand=False).shape == (3, 1)
    assert tuple(D.Bernoulli(tinytorch.ones(4) * 0.5).enumerate_support().shape) == (2, 4)
    assert tuple(D.OneHotCategorical(tinytorch.ones(2, 3)).enumerate_support().shape) == (3, 2, 3)


def test_sample_has_no_grad_rsample_has():
    loc = tinytorch.zeros(3, requires_grad=True)
    d = D.Normal(loc, 1.0)
    assert not d.sample().requires_grad
    assert d.rsample().requires_grad
    with pytest.raises(NotImplementedError):
        D.Categorical(logits=loc).rsample()
    assert not D.Bernoulli(0.5).has_rsample and D.Gamma(1.0, 1.0).has_rsample


def test_gamma_rsample_gradient_is_the_implicit_one():
    """d sample / d alpha equals the derivative of the inverse CDF at the sample's CDF value."""
    sp = pytest.importorskip("scipy.special")
    alpha = tinytorch.tensor([0.2, 1.0, 3.5, 40.0], dtype=tinytorch.float64, requires_grad=True)
    tinytorch.manual_seed(5)
    x = D.Gamma(alpha, 1.0).rsample((200,))
    x.sum().backward()
    a = alpha.detach().numpy()
    xs = x.detach().numpy()
    u = sp.gammainc(a, xs)
    h = 1e-6
    fd = (sp.gammaincinv(a + h, u) - sp.gammaincinv(a - h, u)) / (2 * h)
    np.testing.assert_allclose(alpha.grad.numpy(), fd.sum(0), rtol=1e-4)


def test_gamma_rate_and_beta_dirichlet_rsample_gradients_flow():
    rate = tinytorch.tensor([2.0], requires_grad=True)
    tinytorch.manual_seed(0)
    x = D.Gamma(3.0 * tinytorch.ones(1), rate).rsample((4,))
    x.sum().backward()
    # x = g / rate; float32, and the broadcast gradient is summed by BLAS (another order than NumPy's sum)
    np.testing.assert_allclose(rate.grad.numpy(), [-(x.detach().numpy() / 2.0).sum()], rtol=1e-6)
    a = tinytorch.tensor([2.0, 3.0], requires_grad=True)
    y = D.Dirichlet(a).rsample((10,))
    y[:, 0].sum().backward()
    assert a.grad is not None and np.isfinite(a.grad.numpy()).all() and (a.grad.numpy() != 0).all()
    c1 = tinytorch.tensor(2.0, requires_grad=True)
    D.Beta(c1, tinytorch.tensor(1.0)).rsample((10,)).sum().backward()
    assert c1.grad is not None and float(c1.grad) > 0  # a larger concentration1 moves mass right


def test_reparameterised_mean_gradient_estimates_the_true_gradient():
    """d/d alpha E[X] for X ~ Gamma(alpha, 1) is 1; the rsample estimator must average to it."""
    alpha = tinytorch.tensor(2.5, requires_grad=True)
    tinytorch.manual_seed(11)
    D.Gamma(alpha, 1.0).rsample((100_000,)).mean().backward()
    assert abs(float(alpha.grad) - 1.0) < 0.02
    # Beta mean a / (a + b): derivative in a is b / (a + b)^2
    a = tinytorch.tensor(2.0, requires_grad=True)
    D.Beta(a, tinytorch.tensor(3.0)).rsample((100_000,)).mean().backward()
    assert abs(float(a.grad) - 3.0 / 25.0) < 0.01
    # the entropy of a Normal is known exactly; an rsample Monte Carlo of -log p estimates it
    s = tinytorch.tensor(1.7, requires_grad=True)
    d = D.Normal(0.0, s)
    (-d.log_prob(d.rsample((100_000,)))).mean().backward()
    assert abs(float(s.grad) - 1 / 1.7) < 0.01


def test_samples_live_on_the_parameters_device(device):
    loc = tinytorch.zeros(3, device=device)
    for dist in (D.Normal(loc, 1.0), D.Categorical(logits=loc), D.Bernoulli(logits=loc), D.Gamma(loc + 1, 1.0),
                 D.Dirichlet(loc + 1), D.Uniform(loc, loc + 1), D.Laplace(loc, 1.0), D.Exponential(loc + 1),
                 D.MultivariateNormal(loc, tinytorch.eye(3, device=device))):
        s = dist.sample((2,))
        assert s.device.type == device, type(dist).__name__
        assert dist.log_prob(s).device.type == device


def test_icdf_inverts_cdf():
    for dist in (D.Normal(_t([0.5]), _t([2.0])), D.Laplace(_t([0.5]), _t([2.0])), D.Exponential(_t([1.5])),
                 D.Uniform(_t([-1.0]), _t([3.0])), D.LogNormal(_t([0.1]), _t([0.4]))):
        q = _t([[0.1], [0.5], [0.93]])
        np.testing.assert_allclose(dist.cdf(dist.icdf(q)).numpy(), q.numpy(), rtol=1e-9, err_msg=type(dist).__name__)
    assert math.isclose(float(D.Normal(0.0, 1.0).cdf(tinytorch.tensor(0.0))), 0.5)
