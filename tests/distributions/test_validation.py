"""Argument and sample validation (torch's ValueError messages), constraints, transforms and KL dispatch."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
import tinytorch.distributions as D
from tinytorch.distributions import constraints


@pytest.mark.parametrize("make, param", [
    (lambda: D.Normal(0.0, -1.0), "scale"),
    (lambda: D.Normal(tinytorch.tensor([0.0, float("nan")]), 1.0), "loc"),
    (lambda: D.Exponential(tinytorch.tensor([1.0, 0.0])), "rate"),
    (lambda: D.Gamma(-1.0, 1.0), "concentration"),
    (lambda: D.Laplace(0.0, 0.0), "scale"),
    (lambda: D.Uniform(1.0, 0.0), "low"),
    (lambda: D.Bernoulli(probs=tinytorch.tensor([0.5, 1.5])), "probs"),
    (lambda: D.Categorical(probs=tinytorch.tensor([0.5, -0.1, 0.6])), "probs"),
    (lambda: D.Dirichlet(tinytorch.tensor([1.0, 0.0])), "concentration"),
    (lambda: D.Beta(tinytorch.tensor([1.0]), tinytorch.tensor([-2.0])), "concentration"),
    (lambda: D.MultivariateNormal(tinytorch.zeros(2), tinytorch.tensor([[1.0, 2.0], [2.0, 1.0]])), "covariance_matrix"),
    (lambda: D.MultivariateNormal(tinytorch.zeros(2), scale_tril=tinytorch.tensor([[1.0, 0.0], [0.5, -1.0]])),
     "scale_tril"),
])
def test_invalid_parameters_raise_value_error(make, param):
    with pytest.raises(ValueError, match=f"Expected parameter {param} .* to satisfy the constraint"):
        make()


def test_validation_message_is_torchs():
    with pytest.raises(ValueError) as exc:
        D.Normal(tinytorch.zeros(2), tinytorch.tensor([1.0, -1.0]))
    msg = str(exc.value)
    assert msg.startswith("Expected parameter scale (Tensor of shape (2,)) of distribution Normal(loc: ")
    assert "to satisfy the constraint GreaterThan(lower_bound=0.0), but found invalid values:" in msg


def test_validate_args_false_and_default_switch():
    D.Normal(0.0, -1.0, validate_args=False)  # no error
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(0.0, -1.0)
        D.Exponential(1.0).log_prob(tinytorch.tensor(-1.0))
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")


@pytest.mark.parametrize("dist, value", [
    (D.Exponential(1.0), tinytorch.tensor(-1.0)),
    (D.Gamma(1.0, 1.0), tinytorch.tensor([1.0, -0.5])),
    (D.Beta(1.0, 1.0), tinytorch.tensor(1.5)),
    (D.Bernoulli(0.5), tinytorch.tensor(0.5)),
    (D.Categorical(logits=tinytorch.zeros(3)), tinytorch.tensor(3)),
    (D.Categorical(logits=tinytorch.zeros(3)), tinytorch.tensor(-1)),
    (D.Dirichlet(tinytorch.ones(3)), tinytorch.tensor([0.5, 0.2, 0.2])),
    (D.OneHotCategorical(tinytorch.ones(3)), tinytorch.tensor([1.0, 1.0, 0.0])),
    (D.Uniform(0.0, 1.0), tinytorch.tensor(1.5)),
    (D.LogNormal(0.0, 1.0), tinytorch.tensor(-1.0)),
])
def test_out_of_support_values_raise(dist, value):
    with pytest.raises(ValueError, match=r"Expected value argument .* to be within the support"):
        dist.log_prob(value)


def test_value_shape_errors():
    m = D.Normal(tinytorch.zeros(3), 1.0)
    with pytest.raises(ValueError, match="Value is not broadcastable with batch_shape\\+event_shape: \\(2,\\) vs \\(3,\\)"):
        m.log_prob(tinytorch.zeros(2))
    with pytest.raises(ValueError, match="The value argument to log_prob must be a Tensor"):
        m.log_prob(0.0)
    mvn = D.MultivariateNormal(tinytorch.zeros(3), tinytorch.eye(3))
    with pytest.raises(ValueError, match="The right-most size of value must match event_shape"):
        mvn.log_prob(tinytorch.zeros(2))


def test_constructor_errors():
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
        D.Categorical()
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
        D.Bernoulli(probs=0.5, logits=0.0)
    with pytest.raises(ValueError, match="`probs` parameter must be at least one-dimensional."):
        D.Categorical(probs=tinytorch.tensor(1.0))
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix or precision_matrix or scale_tril"):
        D.MultivariateNormal(tinytorch.zeros(2))
    with pytest.raises(ValueError, match="loc must be at least one-dimensional."):
        D.MultivariateNormal(tinytorch.tensor(0.0), tinytorch.eye(1))
    with pytest.raises(ValueError, match=r"covariance_matrix of shape \(3, 3\) does not match loc of shape \(2,\)"):
        D.MultivariateNormal(tinytorch.zeros(2), tinytorch.eye(3))
    with pytest.raises(ValueError, match="Expected reinterpreted_batch_ndims <= len"):
        D.Independent(D.Normal(tinytorch.zeros(3), 1.0), 2)
    with pytest.raises(ValueError, match="transforms must be a Transform or"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), "exp")


def test_kl_unregistered_pair_and_register_kl():
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Normal and q type Laplace"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Laplace(0.0, 1.0))

    class MyNormal(D.Normal):
        pass

    # subclasses dispatch to the base pair
    kl = D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(1.0, 1.0))
    assert abs(float(kl) - 0.5) < 1e-6

    @D.register_kl(MyNormal, D.Laplace)
    def _kl(p, q):
        return tinytorch.tensor(42.0)

    assert float(D.kl_divergence(MyNormal(0.0, 1.0), D.Laplace(0.0, 1.0))) == 42.0
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Laplace(0.0, 1.0))  # the base pair is still unregistered
    with pytest.raises(TypeError):
        D.register_kl(int, D.Normal)


def test_kl_is_zero_for_identical_and_positive_otherwise():
    a, b = D.Gamma(tinytorch.tensor([2.0]), tinytorch.tensor([3.0])), D.Gamma(tinytorch.tensor([2.5]), tinytorch.tensor([3.0]))
    assert abs(float(D.kl_divergence(a, a))) < 1e-6
    assert float(D.kl_divergence(a, b)) > 0


def test_constraints_check_and_repr():
    assert bool(constraints.positive.check(tinytorch.tensor(1.0)))
    assert not bool(constraints.positive.check(tinytorch.tensor(0.0)))
    assert bool(constraints.nonnegative.check(tinytorch.tensor(0.0)))
    assert constraints.simplex.check(tinytorch.tensor([[0.2, 0.8], [0.5, 0.6]])).tolist() == [True, False]
    assert constraints.integer_interval(0, 3).check(tinytorch.tensor([0.0, 3.0, 1.5, 4.0])).tolist() == [True, True, False, False]
    assert constraints.independent(constraints.real, 1).check(tinytorch.tensor([[0.0, float("nan")], [1.0, 2.0]])).tolist() == [False, True]
    assert constraints.lower_cholesky.check(tinytorch.tensor([[1.0, 0.0], [3.0, 2.0]])).item()
    assert not constraints.lower_cholesky.check(tinytorch.tensor([[1.0, 1.0], [3.0, 2.0]])).item()
    assert constraints.positive_definite.check(tinytorch.eye(2)).item()
    assert repr(constraints.interval(0.0, 1.0)) == "Interval(lower_bound=0.0, upper_bound=1.0)"
    assert repr(constraints.real) == "Real()"
    assert constraints.is_dependent(constraints.dependent) and not constraints.is_dependent(constraints.real)
    assert constraints.real_vector.event_dim == 1 and constraints.simplex.event_dim == 1
    assert repr(D.Uniform(0.0, 2.0).support) == "Interval(lower_bound=0.0, upper_bound=2.0)"
    assert repr(D.Categorical(logits=tinytorch.zeros(4)).support) == "IntegerInterval(lower_bound=0, upper_bound=3)"


def _num_jacobian(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("t, x", [
    (D.ExpTransform(), np.array([-1.0, 0.3, 2.0])),
    (D.SigmoidTransform(), np.array([-3.0, 0.1, 2.5])),
    (D.TanhTransform(), np.array([-2.0, 0.1, 1.5])),
    (D.AffineTransform(1.0, -2.5), np.array([-2.0, 0.1, 1.5])),
    (D.SoftplusTransform(), np.array([-2.0, 0.1, 1.5])),
    (D.PowerTransform(tinytorch.tensor(3.0, dtype=tinytorch.float64)), np.array([0.5, 1.0, 2.0])),
    (D.ComposeTransform([D.AffineTransform(0.5, 2.0), D.SigmoidTransform()]), np.array([-1.0, 0.0, 0.7])),
    (D.ExpTransform().inv, np.array([0.5, 1.0, 4.0])),
])
def test_transform_inverse_and_log_det_jacobian(t, x):
    xt = tinytorch.tensor(x)
    y = t(xt)
    np.testing.assert_allclose(t.inv(y).numpy(), x, rtol=1e-9, atol=1e-12)
    jac = _num_jacobian(lambda v: t(tinytorch.tensor(v)).numpy(), x)
    np.testing.assert_allclose(t.log_abs_det_jacobian(xt, y).numpy(), np.log(np.abs(jac)), rtol=1e-6, atol=1e-8)


def test_transform_cache_and_equality():
    t = D.ExpTransform(cache_size=1)
    x = tinytorch.tensor([0.5])
    y = t(x)
    assert t.inv(y) is x
    assert D.ExpTransform() == D.ExpTransform() and D.ExpTransform() != D.SigmoidTransform()
    assert D.AffineTransform(0.0, 2.0) == D.AffineTransform(0.0, 2.0)
    assert D.ExpTransform().inv.inv == D.ExpTransform()
    assert D.AffineTransform(0.0, -2.0).sign == -1
    with pytest.raises(ValueError):
        D.ExpTransform(cache_size=2)


def test_transformed_distribution_with_decreasing_transform_has_increasing_cdf():
    base = D.Normal(tinytorch.tensor([0.0], dtype=tinytorch.float64), tinytorch.tensor([1.0], dtype=tinytorch.float64))
    d = D.TransformedDistribution(base, [D.AffineTransform(2.0, -3.0)])  # N(2, 3^2) via a decreasing map
    x = tinytorch.tensor([[-1.0], [2.0], [4.0]], dtype=tinytorch.float64)
    ref = D.Normal(2.0 * tinytorch.ones(1, dtype=tinytorch.float64), 3.0 * tinytorch.ones(1, dtype=tinytorch.float64))
    np.testing.assert_allclose(d.cdf(x).numpy(), ref.cdf(x).numpy(), rtol=1e-12)
    np.testing.assert_allclose(d.log_prob(x).numpy(), ref.log_prob(x).numpy(), rtol=1e-12)
    np.testing.assert_allclose(d.icdf(tinytorch.tensor([0.3], dtype=tinytorch.float64)).numpy(),
                               ref.icdf(tinytorch.tensor([0.3], dtype=tinytorch.float64)).numpy(), rtol=1e-12)


def test_transformed_distribution_event_dims():
    d = D.TransformedDistribution(D.Normal(tinytorch.zeros(2, 3), 1.0), [D.AffineTransform(0.0, 2.0, event_dim=1)])
    assert tuple(d.batch_shape) == (2,) and tuple(d.event_shape) == (3,)
    assert tuple(d.log_prob(d.sample()).shape) == (2,)
    s = D.TransformedDistribution(D.Normal(tinytorch.zeros(4), 1.0), [D.SoftmaxTransform()])
    assert tuple(s.event_shape) == (4,) and repr(s.support) == "Simplex()"
    x = s.sample((3,))
    np.testing.assert_allclose(x.sum(-1).numpy(), np.ones(3), rtol=1e-6)


def test_lognormal_is_a_transformed_distribution_and_expands():
    d = D.LogNormal(tinytorch.zeros(3), 1.0)
    assert isinstance(d, D.TransformedDistribution)
    e = d.expand((2, 3))
    assert type(e) is D.LogNormal and tuple(e.batch_shape) == (2, 3) and tuple(e.loc.shape) == (2, 3)


def test_mixture_same_family_expand_matches_torch():
    torch = pytest.importorskip("torch")
    logits = np.array([[0.1, -0.4, 0.3], [0.0, 0.5, -0.2]])
    loc = np.linspace(-1, 1, 6).reshape(2, 3)
    scale = np.linspace(0.5, 1.5, 6).reshape(2, 3)
    x = np.linspace(-2, 2, 8).reshape(4, 2)

    def build(m, a):
        mix = m.distributions.Categorical(logits=a(logits))
        comp = m.distributions.Normal(a(loc), a(scale))
        return m.distributions.MixtureSameFamily(mix, comp).expand((4, 2))

    ours = build(tinytorch, lambda v: tinytorch.tensor(v, dtype=tinytorch.float64))
    ref = build(torch, lambda v: torch.tensor(v, dtype=torch.float64))
    assert tuple(ours.batch_shape) == tuple(ref.batch_shape) == (4, 2)
    assert tuple(ours.event_shape) == tuple(ref.event_shape)
    got = ours.log_prob(tinytorch.tensor(x, dtype=tinytorch.float64)).detach().numpy()
    want = ref.log_prob(torch.tensor(x, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-10)
