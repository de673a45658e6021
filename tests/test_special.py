"""``tinytorch.special`` against ``torch.special``: values and gradients (float64), and the pure fallbacks."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
from tinytorch._arrays import special as backend_special

R = np.random.default_rng(3)
POS = R.uniform(0.2, 6.0, 7)
REAL = R.uniform(-3.0, 3.0, 7)
UNIT = R.uniform(0.05, 0.95, 7)

CASES = [
    ("gammaln", (POS,)), ("digamma", (POS,)), ("psi", (POS,)), ("polygamma", (2, POS)), ("expit", (REAL,)),
    ("logit", (UNIT,)), ("xlogy", (np.array([0.0, 1.5, 2.0, 0.0]), np.array([0.5, 2.0, 0.5, 3.0]))),
    ("xlog1py", (np.array([0.0, 1.5, 2.0]), np.array([-0.5, 2.0, 0.5]))), ("entr", (np.array([0.1, 0.3, 2.0]),)),
    ("ndtr", (REAL,)), ("ndtri", (UNIT,)), ("log_ndtr", (REAL,)), ("sinc", (np.array([0.0, 0.3, -1.7, 2.5]),)),
    ("multigammaln", (POS + 2.0, 3)), ("gammainc", (POS, REAL + 3.5)), ("gammaincc", (POS, REAL + 3.5)), ("erf", (REAL,)), ("erfc", (REAL,)), ("erfinv", (UNIT - 0.5,)),
]


@pytest.mark.parametrize("name, args", CASES, ids=[c[0] for c in CASES])
def test_matches_torch_special(name, args):
    torch = pytest.importorskip("torch")
    no_grad_first = name.startswith("gammainc")  # neither library differentiates in the shape parameter
    grad = [isinstance(a, np.ndarray) and not (no_grad_first and i == 0) for i, a in enumerate(args)]
    ours_args = [tinytorch.tensor(a, requires_grad=g) if isinstance(a, np.ndarray) else a for a, g in zip(args, grad)]
    their_args = [torch.tensor(a, requires_grad=g) if isinstance(a, np.ndarray) else a for a, g in zip(args, grad)]
    ours = getattr(tinytorch.special, name)(*ours_args)
    theirs = getattr(torch.special, name)(*their_args)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-9, atol=1e-12)
    ours.sum().backward()
    theirs.sum().backward()
    for a, b in zip(ours_args, their_args):
        if isinstance(a, tinytorch.Tensor) and b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-7, atol=1e-10, err_msg=f"{name} grad")


def test_boundary_values_match_torch():
    torch = pytest.importorskip("torch")
    x = np.array([0.0, 0.0, 0.0, 0.0, 2.0, -1.0])
    y = np.array([0.0, -1.0, np.inf, np.nan, 0.0, 2.0])  # at x == y == 0 torch's gradient is NaN, ours 0
    for name in ("xlogy", "xlog1py"):
        ours = getattr(tinytorch.special, name)(tinytorch.tensor(x), tinytorch.tensor(y)).numpy()
        theirs = getattr(torch.special, name)(torch.tensor(x), torch.tensor(y)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-14, err_msg=name)  # NaN where torch has NaN
    e = np.array([-1.0, 0.0, 0.5])
    np.testing.assert_array_equal(tinytorch.special.entr(tinytorch.tensor(e)).numpy(),
                                  torch.special.entr(torch.tensor(e)).numpy())


def test_gammainc_refuses_the_shape_gradient_like_torch():
    a = tinytorch.tensor([1.5], requires_grad=True)
    with pytest.raises(NotImplementedError, match="igamma: the derivative with respect to input"):
        tinytorch.special.gammainc(a, tinytorch.tensor([2.0])).sum().backward()


def test_top_level_gamma_functions_and_methods():
    x = tinytorch.tensor([0.5, 1.0, 4.0], dtype=tinytorch.float64)
    np.testing.assert_allclose(tinytorch.lgamma(x).numpy(), [np.log(np.sqrt(np.pi)), 0.0, np.log(6.0)], atol=1e-12)
    np.testing.assert_allclose(x.digamma().numpy()[1], -0.5772156649015329, rtol=1e-12)
    np.testing.assert_allclose(tinytorch.polygamma(1, x).numpy()[1], np.pi ** 2 / 6, rtol=1e-12)
    assert float(tinytorch.digamma(tinytorch.tensor(0.0))) == -np.inf
    with pytest.raises(RuntimeError, match="polygamma: n must be a non-negative integer"):
        tinytorch.polygamma(-1, x)


def test_pure_fallbacks_match_scipy():
    sp = pytest.importorskip("scipy.special")
    x = np.concatenate([np.linspace(-7.3, 30, 2001), np.logspace(-8, 3, 100)])
    x = x[np.abs(x - np.round(x)) > 1e-6]  # away from the poles
    np.testing.assert_allclose(backend_special.lgamma(x, use_scipy=False), sp.gammaln(x), rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(backend_special.digamma(x, use_scipy=False), sp.psi(x), rtol=1e-11, atol=1e-11)
    xp = x[x > 0]
    for n in (1, 2, 3):
        np.testing.assert_allclose(backend_special.polygamma(n, xp, use_scipy=False), sp.polygamma(n, xp), rtol=1e-12)
    assert backend_special.lgamma(np.array([0.0, -2.0]), use_scipy=False).tolist() == [np.inf, np.inf]
    a = np.repeat(np.logspace(-2, 3, 30), 30)
    x = np.tile(np.logspace(-3, 3.3, 30), 30)
    np.testing.assert_allclose(backend_special.gammainc(a, x, use_scipy=False), sp.gammainc(a, x), atol=1e-12)
    np.testing.assert_allclose(backend_special.gammaincc(a, x, use_scipy=False), sp.gammaincc(a, x), atol=1e-12)
    assert backend_special.digamma(np.array([0.0]), use_scipy=False)[0] == -np.inf


def test_log_ndtr_and_ndtri_in_the_tails_match_torch():
    torch = pytest.importorskip("torch")
    import tinytorch.special as ts

    xs = [-40.0, -25.0, -20.5, -19.5, -15.0, -10.0, -3.0, 0.0, 3.0, 8.0]
    for dtype in ("float32", "float64"):
        x = tinytorch.tensor(xs, dtype=getattr(tinytorch, dtype), requires_grad=True)
        xt = torch.tensor(xs, dtype=getattr(torch, dtype), requires_grad=True)
        y, yt = ts.log_ndtr(x), torch.special.log_ndtr(xt)
        y.sum().backward()
        yt.sum().backward()
        assert y.dtype is x.dtype
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-5)
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-4)
    p = [1e-10, 1e-4, 0.5, 1 - 1e-7]
    got = ts.ndtri(tinytorch.tensor(p)).numpy()
    np.testing.assert_allclose(got, torch.special.ndtri(torch.tensor(p)).numpy(), rtol=1e-5)


def test_polygamma_fallback_at_negative_arguments_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.array([0.0, -1.0, -2.5, -0.5, -30.5, 0.3, 7.0])
    for n in (1, 2, 3):
        got = backend_special.polygamma(n, x, use_scipy=False)
        want = torch.polygamma(n, torch.tensor(x)).numpy()
        finite = np.isfinite(want) & (np.abs(want) < 1e30)
        np.testing.assert_allclose(got[finite], want[finite], rtol=1e-9)
        assert (got[x == 0] == want[x == 0]).all()


def test_xlogy_shape_mismatch_names_xlogy():
    import tinytorch.special as ts

    for fn, name in ((ts.xlogy, "xlogy"), (ts.xlog1py, "xlog1py")):
        with pytest.raises(RuntimeError, match=rf"^{name}: .*\(3,\).*\(4,\)"):
            fn(tinytorch.ones(3), tinytorch.ones(4))
