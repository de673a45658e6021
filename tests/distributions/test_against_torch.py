"""Values and gradients of every distribution against PyTorch (float64, seeded parameters).

Each case builds the same distribution in tinytorch and in torch from the same NumPy parameters,
then compares log_prob at in-support values, entropy, mean, mode, variance, stddev, cdf/icdf where
torch has them, and the gradients of (log_prob + entropy) with respect to every parameter.
"""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
import tinytorch.distributions as tdist

torch = pytest.importorskip("torch")

R = np.random.default_rng(7)


def _pos(*shape, low=0.5, high=3.0):
    return R.uniform(low, high, size=shape)


def _spd(n, batch=()):
    a = R.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _tril(n, batch=()):
    low = np.tril(R.standard_normal(batch + (n, n)), -1)
    return low + np.eye(n) * R.uniform(0.5, 2.0, size=batch + (n,))[..., None, :]


_P = np.array([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.4, 0.1], [0.7, 0.1, 0.1, 0.1]])

# name -> (constructor(module, params), params, values to score, methods torch has)
CASES = {
    "Normal": (lambda D, p: D.Normal(p["loc"], p["scale"]),
               {"loc": R.standard_normal((3, 4)), "scale": _pos(3, 4)}, R.standard_normal((2, 3, 4)),
               {"cdf", "icdf"}),
    "Normal_broadcast": (lambda D, p: D.Normal(p["loc"], p["scale"]),
                         {"loc": R.standard_normal((3, 1)), "scale": _pos(4)}, R.standard_normal((3, 4)),
                         {"cdf", "icdf"}),
    "Uniform": (lambda D, p: D.Uniform(p["low"], p["low"] + p["width"]),
                {"low": R.standard_normal(5), "width": _pos(5)}, None, {"cdf", "icdf"}),
    "Laplace": (lambda D, p: D.Laplace(p["loc"], p["scale"]),
                {"loc": R.standard_normal(5), "scale": _pos(5)}, R.standard_normal((3, 5)), {"cdf", "icdf"}),
    "Exponential": (lambda D, p: D.Exponential(p["rate"]), {"rate": _pos(2, 3)}, _pos(4, 2, 3, low=0.01, high=4),
                    {"cdf", "icdf"}),
    "Gamma": (lambda D, p: D.Gamma(p["concentration"], p["rate"]),
              {"concentration": _pos(6, low=0.3, high=5), "rate": _pos(6)}, _pos(2, 6, low=0.05, high=5), {"cdf"}),
    "Beta": (lambda D, p: D.Beta(p["a"], p["b"]), {"a": _pos(5, low=0.3), "b": _pos(5, low=0.3)},
             R.uniform(0.05, 0.95, (2, 5)), set()),
    "Dirichlet": (lambda D, p: D.Dirichlet(p["concentration"]), {"concentration": _pos(3, 4, low=0.3, high=4)},
                  R.dirichlet(np.ones(4), size=(2, 3)), set()),
    "Bernoulli_probs": (lambda D, p: D.Bernoulli(probs=p["probs"]), {"probs": R.uniform(0.1, 0.9, (3, 2))},
                        R.integers(0, 2, (5, 3, 2)).astype(np.float64), set()),
    "Bernoulli_logits": (lambda D, p: D.Bernoulli(logits=p["logits"]), {"logits": R.standard_normal(4)},
                         R.integers(0, 2, (4,)).astype(np.float64), set()),
    "Categorical_probs": (lambda D, p: D.Categorical(probs=p["probs"]), {"probs": _P},
                          R.integers(0, 4, (5, 3)), set()),
    "Categorical_logits": (lambda D, p: D.Categorical(logits=p["logits"]), {"logits": R.standard_normal((2, 3, 5))},
                           R.integers(0, 5, (3,)), set()),  # value broadcasts against the batch (2, 3)
    "OneHotCategorical": (lambda D, p: D.OneHotCategorical(probs=p["probs"]), {"probs": _P},
                          np.eye(4)[R.integers(0, 4, (2, 3))], set()),
    "MultivariateNormal_cov": (lambda D, p: D.MultivariateNormal(p["loc"], covariance_matrix=p["cov"]),
                               {"loc": R.standard_normal((2, 3)), "cov": _spd(3, (2,))},
                               R.standard_normal((4, 2, 3)), set()),
    "MultivariateNormal_prec": (lambda D, p: D.MultivariateNormal(p["loc"], precision_matrix=p["prec"]),
                                {"loc": R.standard_normal(3), "prec": _spd(3)}, R.standard_normal((4, 3)), set()),
    "MultivariateNormal_tril": (lambda D, p: D.MultivariateNormal(p["loc"], scale_tril=p["tril"]),
                                {"loc": R.standard_normal((2, 3)), "tril": _tril(3)},
                                R.standard_normal((2, 3)), set()),
    "Independent": (lambda D, p: D.Independent(D.Normal(p["loc"], p["scale"]), 1),
                    {"loc": R.standard_normal((3, 4)), "scale": _pos(3, 4)}, R.standard_normal((2, 3, 4)), set()),
    "LogNormal": (lambda D, p: D.LogNormal(p["loc"], p["scale"]),
                  {"loc": R.standard_normal(4), "scale": _pos(4)}, _pos(3, 4, low=0.1, high=5), {"cdf", "icdf"}),
    "Cauchy": (lambda D, p: D.Cauchy(p["loc"], p["scale"]), {"loc": R.standard_normal(4), "scale": _pos(4)},
               R.standard_normal((3, 4)) * 3, {"cdf", "icdf"}),
    "HalfNormal": (lambda D, p: D.HalfNormal(p["scale"]), {"scale": _pos(4)}, _pos(3, 4, low=0.01, high=4),
                   {"cdf", "icdf"}),
    "Gumbel": (lambda D, p: D.Gumbel(p["loc"], p["scale"]), {"loc": R.standard_normal(4), "scale": _pos(4)},
               R.standard_normal((3, 4)) * 2, set()),
    "Chi2": (lambda D, p: D.Chi2(p["df"]), {"df": _pos(4, low=0.5, high=8)}, _pos(3, 4, low=0.05, high=6), {"cdf"}),
    "StudentT": (lambda D, p: D.StudentT(p["df"], p["loc"], p["scale"]),
                 {"df": _pos(5, low=0.5, high=6), "loc": R.standard_normal(5), "scale": _pos(5)},
                 R.standard_normal((3, 5)) * 2, set()),
    "Poisson": (lambda D, p: D.Poisson(p["rate"]), {"rate": _pos(4, low=0.1, high=9)},
                R.integers(0, 12, (3, 4)).astype(np.float64), set()),
    "Geometric_probs": (lambda D, p: D.Geometric(probs=p["probs"]), {"probs": R.uniform(0.1, 0.9, 4)},
                        R.integers(0, 8, (3, 4)).astype(np.float64), set()),
    "Geometric_logits": (lambda D, p: D.Geometric(logits=p["logits"]), {"logits": R.standard_normal(4)},
                         R.integers(0, 8, (3, 4)).astype(np.float64), set()),
    "Binomial": (lambda D, p: D.Binomial(10, probs=p["probs"]), {"probs": R.uniform(0.1, 0.9, 4)},
                 R.integers(0, 11, (3, 4)).astype(np.float64), set()),
    "Binomial_logits": (lambda D, p: D.Binomial(p["n"], logits=p["logits"]),
                        {"n": np.array([3.0, 5.0, 7.0, 7.0]), "logits": R.standard_normal(4) * 3},
                        R.integers(0, 4, (3, 4)).astype(np.float64), set()),
    "MixtureSameFamily": (lambda D, p: D.MixtureSameFamily(D.Categorical(logits=p["logits"]),
                                                           D.Normal(p["loc"], p["scale"])),
                          {"logits": R.standard_normal((2, 3)), "loc": R.standard_normal((2, 3)), "scale": _pos(2, 3)},
                          R.standard_normal((4, 2)), {"cdf"}),
    "MixtureSameFamily_mvn": (lambda D, p: D.MixtureSameFamily(
                                  D.Categorical(logits=p["logits"]),
                                  D.Independent(D.Normal(p["loc"], p["scale"]), 1)),
                              {"logits": R.standard_normal(3), "loc": R.standard_normal((3, 2)), "scale": _pos(3, 2)},
                              R.standard_normal((4, 2)), set()),
    "Multinomial": (lambda D, p: D.Multinomial(6, probs=p["probs"]), {"probs": _P},
                    np.array([[1.0, 2.0, 3.0, 0.0], [0.0, 0.0, 6.0, 0.0], [2.0, 2.0, 1.0, 1.0]]), set()),
    "Multinomial_logits": (lambda D, p: D.Multinomial(3, logits=p["logits"]), {"logits": R.standard_normal((2, 3))},
                           np.array([[3.0, 0.0, 0.0], [1.0, 1.0, 1.0]]), set()),
    "NegativeBinomial": (lambda D, p: D.NegativeBinomial(p["n"], probs=p["probs"]),
                         {"n": _pos(4, low=0.5, high=6), "probs": R.uniform(0.1, 0.9, 4)},
                         R.integers(0, 9, (3, 4)).astype(np.float64), set()),
    "NegativeBinomial_logits": (lambda D, p: D.NegativeBinomial(3.0, logits=p["logits"]), {"logits": R.standard_normal(4)},
                                R.integers(0, 9, (3, 4)).astype(np.float64), set()),
    "Weibull": (lambda D, p: D.Weibull(p["scale"], p["concentration"]),
                {"scale": _pos(4), "concentration": _pos(4, low=0.8, high=4)}, _pos(3, 4, low=0.05, high=4), {"cdf", "icdf"}),
    "Pareto": (lambda D, p: D.Pareto(p["scale"], p["alpha"]), {"scale": _pos(4, low=0.2, high=1), "alpha": _pos(4, low=0.5, high=4)},
               _pos(3, 4, low=1.0, high=6), {"cdf", "icdf"}),
    "InverseGamma": (lambda D, p: D.InverseGamma(p["concentration"], p["rate"]),
                     {"concentration": _pos(5, low=0.5, high=5), "rate": _pos(5)}, _pos(3, 5, low=0.1, high=5), set()),
    "RelaxedBernoulli": (lambda D, p: D.RelaxedBernoulli(p["temperature"], probs=p["probs"]),
                         {"temperature": np.array([0.7]), "probs": R.uniform(0.1, 0.9, 4)},
                         R.uniform(0.05, 0.95, (3, 4)), set()),
    "RelaxedOneHotCategorical": (lambda D, p: D.RelaxedOneHotCategorical(p["temperature"], logits=p["logits"]),
                                 {"temperature": np.array(0.5), "logits": R.standard_normal((2, 3))},
                                 R.dirichlet(np.ones(3), size=(4, 2)), set()),
    "TransformedDistribution": (
        lambda D, p: D.TransformedDistribution(
            D.Normal(p["loc"], p["scale"]),
            [D.AffineTransform(p["shift"], p["mult"]), D.SigmoidTransform(), D.AffineTransform(-1.0, 2.0),
             D.TanhTransform().inv, D.ExpTransform()]),
        {"loc": R.standard_normal(3), "scale": _pos(3), "shift": R.standard_normal(3), "mult": _pos(3)},
        _pos(2, 3, low=0.2, high=5), set()),
}


def _build(D, name, params, backend):
    ctor = CASES[name][0]
    if backend == "tiny":
        ps = {k: tinytorch.tensor(v, dtype=tinytorch.float64, requires_grad=v.dtype.kind == "f") for k, v in params.items()}
    else:
        ps = {k: torch.tensor(v, dtype=torch.float64, requires_grad=v.dtype.kind == "f") for k, v in params.items()}
    return ctor(D, ps), ps


def _value(name):
    value = CASES[name][2]
    if name == "Uniform":
        p = CASES[name][1]
        value = p["low"] + p["width"] * R.uniform(0, 1, (3, 5))
        CASES[name] = CASES[name][:2] + (value,) + CASES[name][3:]
    return value


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _close(ours, theirs, name, what, rtol=1e-7, atol=1e-9):
    a = np.asarray(tinytorch.Tensor.numpy(ours.detach())) if isinstance(ours, tinytorch.Tensor) else np.asarray(ours)
    b = _np(theirs)
    assert a.shape == b.shape, f"{name}.{what}: shape {a.shape} vs torch {b.shape}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=f"{name}.{what}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_torch(name):
    _, params, _, extra = CASES[name]
    value = _value(name)
    ours, _ = _build(tdist, name, params, "tiny")
    theirs, _ = _build(torch.distributions, name, params, "torch")
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape), name
    assert tuple(ours.event_shape) == tuple(theirs.event_shape), name
    assert ours.has_rsample == theirs.has_rsample, name
    int_value = value.dtype.kind == "i"
    tv = tinytorch.tensor(value, dtype=tinytorch.int64 if int_value else tinytorch.float64)
    xv = torch.tensor(value, dtype=torch.int64 if int_value else torch.float64)
    _close(ours.log_prob(tv), theirs.log_prob(xv), name, "log_prob")
    try:
        want = theirs.entropy()
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            ours.entropy()
    else:
        _close(ours.entropy(), want, name, "entropy")
    for attr in ("mean", "mode", "variance", "stddev"):
        try:
            want = getattr(theirs, attr)
        except NotImplementedError:
            continue
        _close(getattr(ours, attr), want, name, attr)
    if "cdf" in extra:
        _close(ours.cdf(tv), theirs.cdf(xv), name, "cdf")
    if "icdf" in extra:
        q = R.uniform(0.05, 0.95, tuple(ours.batch_shape))
        _close(ours.icdf(tinytorch.tensor(q)), theirs.icdf(torch.tensor(q)), name, "icdf")


@pytest.mark.parametrize("name", sorted(CASES))
def test_expand_matches_torch(name):
    _, params, _, _ = CASES[name]
    value = _value(name)
    ours, _ = _build(tdist, name, params, "tiny")
    theirs, _ = _build(torch.distributions, name, params, "torch")
    shape = (2,) + tuple(theirs.batch_shape)
    big_ours, big_theirs = ours.expand(shape), theirs.expand(shape)
    assert type(big_ours).__name__ == type(big_theirs).__name__
    assert tuple(big_ours.batch_shape) == tuple(big_theirs.batch_shape), name
    assert tuple(big_ours.event_shape) == tuple(big_theirs.event_shape), name
    int_value = value.dtype.kind == "i"
    tv = tinytorch.tensor(value, dtype=tinytorch.int64 if int_value else tinytorch.float64)
    xv = torch.tensor(value, dtype=torch.int64 if int_value else torch.float64)
    # a 1 where the new batch dim goes: sample dims, then (1,), then the old batch and event dims
    cut = max(0, xv.dim() - len(theirs.batch_shape) - len(theirs.event_shape))
    vshape = tuple(xv.shape[:cut]) + (1,) + tuple(xv.shape[cut:])
    _close(big_ours.log_prob(tv.reshape(vshape)), big_theirs.log_prob(xv.reshape(vshape)), name, "expand().log_prob")
    assert tuple(big_ours.sample().shape) == tuple(big_theirs.sample().shape), name


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_match_torch(name):
    _, params, _, _ = CASES[name]
    value = _value(name)
    ours, tps = _build(tdist, name, params, "tiny")
    theirs, xps = _build(torch.distributions, name, params, "torch")
    int_value = value.dtype.kind == "i"
    tv = tinytorch.tensor(value, dtype=tinytorch.int64 if int_value else tinytorch.float64)
    xv = torch.tensor(value, dtype=torch.int64 if int_value else torch.float64)
    try:
        their_entropy = theirs.entropy().sum()
    except NotImplementedError:  # e.g. TransformedDistribution, Poisson, a Binomial with mixed total_count
        their_entropy, our_entropy = 0, 0
    else:
        our_entropy = ours.entropy().sum()
    (ours.log_prob(tv).sum() + our_entropy).backward()
    (theirs.log_prob(xv).sum() + their_entropy).backward()
    for k in params:
        if xps[k].grad is None:
            assert tps[k].grad is None or not np.any(tps[k].grad.numpy()), f"{name}: grad of {k}"
            continue
        assert tps[k].grad is not None, f"{name}: no gradient reached {k}"
        _close(tps[k].grad, xps[k].grad, name, f"grad[{k}]", rtol=1e-6, atol=1e-8)


KL_PAIRS = {
    "Normal": lambda D, p: (D.Normal(p["a"], p["s1"]), D.Normal(p["b"], p["s2"])),
    "Laplace": lambda D, p: (D.Laplace(p["a"], p["s1"]), D.Laplace(p["b"], p["s2"])),
    "Exponential": lambda D, p: (D.Exponential(p["s1"]), D.Exponential(p["s2"])),
    "Gamma": lambda D, p: (D.Gamma(p["s1"], p["s2"]), D.Gamma(p["s2"], p["s3"])),
    "Beta": lambda D, p: (D.Beta(p["s1"], p["s2"]), D.Beta(p["s3"], p["s1"])),
    "Dirichlet": lambda D, p: (D.Dirichlet(p["c1"]), D.Dirichlet(p["c2"])),
    "Uniform": lambda D, p: (D.Uniform(p["a"] - p["s1"], p["a"] + p["s2"]),
                             D.Uniform(p["a"] - p["s1"] - p["s3"], p["a"] + p["s2"] + p["s3"])),
    "Bernoulli": lambda D, p: (D.Bernoulli(probs=p["u1"]), D.Bernoulli(logits=p["a"])),
    "Categorical": lambda D, p: (D.Categorical(probs=p["c1"]), D.Categorical(logits=p["c2"])),
    "OneHotCategorical": lambda D, p: (D.OneHotCategorical(probs=p["c1"]), D.OneHotCategorical(logits=p["c2"])),
    "MultivariateNormal": lambda D, p: (D.MultivariateNormal(p["v1"], covariance_matrix=p["cov"]),
                                        D.MultivariateNormal(p["v2"], scale_tril=p["tril"])),
    "Independent": lambda D, p: (D.Independent(D.Normal(p["c1"], p["c2"]), 1),
                                 D.Independent(D.Normal(p["c2"], p["c1"]), 1)),
    "LogNormal": lambda D, p: (D.LogNormal(p["a"], p["s1"]), D.LogNormal(p["b"], p["s2"])),
    "Binomial": lambda D, p: (D.Binomial(7, probs=p["u1"]), D.Binomial(7, logits=p["a"])),
    "Cauchy": lambda D, p: (D.Cauchy(p["a"], p["s1"]), D.Cauchy(p["b"], p["s2"])),
    "Geometric": lambda D, p: (D.Geometric(probs=p["u1"]), D.Geometric(logits=p["a"])),
    "Gumbel": lambda D, p: (D.Gumbel(p["a"], p["s1"]), D.Gumbel(p["b"], p["s2"])),
    "HalfNormal": lambda D, p: (D.HalfNormal(p["s1"]), D.HalfNormal(p["s2"])),
    "Poisson": lambda D, p: (D.Poisson(p["s1"]), D.Poisson(p["s2"])),
    "Chi2": lambda D, p: (D.Chi2(p["s1"]), D.Chi2(p["s3"])),
}

KL_PARAMS = {"a": R.standard_normal(5), "b": R.standard_normal(5), "s1": _pos(5), "s2": _pos(5), "s3": _pos(5),
             "u1": R.uniform(0.1, 0.9, 5), "c1": _pos(2, 4), "c2": _pos(2, 4), "v1": R.standard_normal((2, 3)),
             "v2": R.standard_normal(3), "cov": _spd(3, (2,)), "tril": _tril(3)}


@pytest.mark.parametrize("name", sorted(KL_PAIRS))
def test_kl_divergence_matches_torch(name):
    tp = {k: tinytorch.tensor(v, requires_grad=True) for k, v in KL_PARAMS.items()}
    xp = {k: torch.tensor(v, requires_grad=True) for k, v in KL_PARAMS.items()}
    ours = tdist.kl_divergence(*KL_PAIRS[name](tdist, tp))
    theirs = torch.distributions.kl_divergence(*KL_PAIRS[name](torch.distributions, xp))
    _close(ours, theirs, name, "kl")
    ours.sum().backward()
    theirs.sum().backward()
    for k in KL_PARAMS:
        if xp[k].grad is not None:
            assert tp[k].grad is not None, f"KL {name}: no gradient reached {k}"
            _close(tp[k].grad, xp[k].grad, name, f"kl grad[{k}]", rtol=1e-6, atol=1e-8)


def test_kl_infinite_where_torch_is():
    ours = tdist.kl_divergence(tdist.Uniform(0.0, 2.0), tdist.Uniform(0.5, 3.0))
    theirs = torch.distributions.kl_divergence(torch.distributions.Uniform(0.0, 2.0), torch.distributions.Uniform(0.5, 3.0))
    assert float(ours) == float(theirs) == float("inf")
    p = [0.5, 0.5, 0.0]
    q = [0.5, 0.0, 0.5]
    ours = tdist.kl_divergence(tdist.Categorical(tinytorch.tensor(p)), tdist.Categorical(tinytorch.tensor(q)))
    theirs = torch.distributions.kl_divergence(torch.distributions.Categorical(torch.tensor(p)),
                                               torch.distributions.Categorical(torch.tensor(q)))
    assert float(ours) == float(theirs) == float("inf")
    ours = tdist.kl_divergence(tdist.Categorical(tinytorch.tensor(q)), tdist.Categorical(tinytorch.tensor([0.5, 0.25, 0.25])))
    theirs = torch.distributions.kl_divergence(torch.distributions.Categorical(torch.tensor(q)),
                                               torch.distributions.Categorical(torch.tensor([0.5, 0.25, 0.25])))
    np.testing.assert_allclose(float(ours), float(theirs), rtol=1e-6)


def test_rsample_gradients_match_torch_for_location_scale():
    """With the same standard draw, rsample's gradients equal torch's (loc + eps * scale is exact)."""
    loc, scale = R.standard_normal(4), _pos(4)
    tl, ts = tinytorch.tensor(loc, requires_grad=True), tinytorch.tensor(scale, requires_grad=True)
    xl, xs = torch.tensor(loc, requires_grad=True), torch.tensor(scale, requires_grad=True)
    tinytorch.manual_seed(0)
    y = tdist.Normal(tl, ts).rsample((1000,))
    eps = (y.detach() - tl.detach()) / ts.detach()
    (y ** 2).sum().backward()
    ((xl + torch.tensor(eps.numpy()) * xs) ** 2).sum().backward()
    np.testing.assert_allclose(tl.grad.numpy(), xl.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ts.grad.numpy(), xs.grad.numpy(), rtol=1e-10)
