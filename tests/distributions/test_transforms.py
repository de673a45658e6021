"""Transforms against torch (forward, inverse, log-det-Jacobian) and the biject_to / transform_to registries."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
import tinytorch.distributions as D
from tinytorch.distributions import constraints

R = np.random.default_rng(11)

# name -> (factory(module), input array)
TRANSFORMS = {
    "Exp": (lambda M: M.ExpTransform(), R.standard_normal((2, 3))),
    "Sigmoid": (lambda M: M.SigmoidTransform(), R.standard_normal((2, 3)) * 3),
    "Tanh": (lambda M: M.TanhTransform(), R.standard_normal((2, 3))),
    "Softplus": (lambda M: M.SoftplusTransform(), R.standard_normal((2, 3))),
    "Affine": (lambda M: M.AffineTransform(0.5, -2.0), R.standard_normal((2, 3))),
    "Affine_event": (lambda M: M.AffineTransform(0.5, 3.0, event_dim=1), R.standard_normal((2, 3))),
    "Power": (lambda M: M.PowerTransform(2.5), R.uniform(0.2, 3.0, (2, 3))),
    "StickBreaking": (lambda M: M.StickBreakingTransform(), R.standard_normal((2, 3))),
    "Compose": (lambda M: M.ComposeTransform([M.AffineTransform(1.0, 2.0), M.TanhTransform()]), R.standard_normal(4) / 4),
    "Independent": (lambda M: M.IndependentTransform(M.ExpTransform(), 1), R.standard_normal((2, 3))),
    "ExpInv": (lambda M: M.ExpTransform().inv, R.uniform(0.2, 3.0, (2, 3))),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transform_matches_torch(name):
    torch = pytest.importorskip("torch")
    make, x = TRANSFORMS[name]
    ours, theirs = make(D), make(torch.distributions.transforms)
    tx, xx = tinytorch.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ty, xy = ours(tx), theirs(xx)
    np.testing.assert_allclose(ty.detach().numpy(), xy.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.inv(ty).detach().numpy(), x, rtol=1e-6, atol=1e-10)  # Power: float32 exponent
    t_ladj, x_ladj = ours.log_abs_det_jacobian(tx, ty), theirs.log_abs_det_jacobian(xx, xy)
    np.testing.assert_allclose(t_ladj.detach().numpy(), x_ladj.detach().numpy(), rtol=1e-9, atol=1e-12)
    (ty.sum() + t_ladj.sum()).backward()
    (xy.sum() + x_ladj.sum()).backward()
    np.testing.assert_allclose(tx.grad.numpy(), xx.grad.numpy(), rtol=1e-8, atol=1e-10)
    assert ours.domain.event_dim == theirs.domain.event_dim and ours.codomain.event_dim == theirs.codomain.event_dim
    assert ours.bijective == theirs.bijective


def test_lower_cholesky_transform_matches_torch():
    torch = pytest.importorskip("torch")
    x = R.standard_normal((2, 3, 3))
    ours = D.LowerCholeskyTransform()(tinytorch.tensor(x)).numpy()
    theirs = torch.distributions.transforms.LowerCholeskyTransform()(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert constraints.lower_cholesky.check(tinytorch.tensor(ours)).all().item()
    np.testing.assert_allclose(D.LowerCholeskyTransform().inv(tinytorch.tensor(ours)).numpy(), np.tril(x) , rtol=1e-12)


@pytest.mark.parametrize("constraint", [
    constraints.real, constraints.positive, constraints.nonnegative, constraints.greater_than(2.0),
    constraints.less_than(-1.0), constraints.unit_interval, constraints.interval(-2.0, 5.0),
    constraints.half_open_interval(0.0, 3.0), constraints.simplex, constraints.real_vector,
    constraints.independent(constraints.positive, 1), constraints.lower_cholesky,
], ids=repr)
@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
def test_registry_maps_reals_into_the_constraint(constraint, registry):
    t = getattr(D, registry)(constraint)
    shape = (4, 3, 3) if constraint is constraints.lower_cholesky else (4, 3)
    x = tinytorch.tensor(R.standard_normal(shape) * 2)
    y = t(x)
    assert bool(constraint.check(y).all()), f"{registry}({constraint!r}) left the set"
    if registry == "biject_to" and constraint is not constraints.lower_cholesky:
        assert t.bijective
        np.testing.assert_allclose(t.inv(y).numpy(), x.numpy(), rtol=1e-6, atol=1e-6)


def test_registry_errors_and_custom_registration():
    with pytest.raises(NotImplementedError, match="Cannot transform _Boolean constraints"):
        D.biject_to(constraints.boolean)

    class Even(constraints.Constraint):
        def check(self, value):
            return value % 2 == 0

    D.transform_to.register(Even, lambda c: D.AffineTransform(0.0, 2.0))
    assert isinstance(D.transform_to(Even()), D.AffineTransform)
    with pytest.raises(TypeError):
        D.biject_to.register(int, lambda c: None)


def test_constrained_parameter_optimisation():
    """The transform_to pattern: optimise an unconstrained tensor, read the constrained value through it."""
    raw = tinytorch.zeros(3, requires_grad=True)
    to_simplex = D.transform_to(constraints.simplex)
    target = tinytorch.tensor([0.2, 0.5, 0.3])
    opt = tinytorch.optim.Adam([raw], lr=0.1)
    for _ in range(300):
        p = to_simplex(raw)
        loss = ((p - target) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(to_simplex(raw).detach().numpy(), target.numpy(), atol=1e-3)
