"""autograd.explain: one case per reason, each built the way a user would hit it."""
from __future__ import annotations

import pytest

import tinytorch
import tinytorch.nn as nn
from tinytorch.autograd import explain


def _p(*shape):
    return tinytorch.randn(*shape, requires_grad=True)


def test_ok_with_path():
    w = _p(3)
    loss = (w * 2).sum()
    e = explain(loss, w)
    assert e.reason == "ok" and e.ok and e.grad_norm == pytest.approx(2 * 3 ** 0.5, rel=1e-5)
    assert e.path[0] == "SumBackward0" and "MulBackward0" in e.path
    assert "gradient reaches param" in str(e)


def test_ok_for_intermediate_and_nonscalar_loss():
    w = _p(3)
    h = w.exp()
    e = explain(h * 3, h)
    assert e.reason == "ok"


def test_integer_dtype():
    assert explain(_p(2).sum(), tinytorch.tensor([1, 2])).reason == "integer_dtype"


def test_not_requires_grad():
    w = tinytorch.randn(3)
    e = explain((w * _p(3)).sum(), w)
    assert e.reason == "not_requires_grad" and "requires_grad_()" in e.message


def test_created_under_no_grad_is_not_part_of_graph():
    w = _p(3)
    with tinytorch.no_grad():
        h = w * 2
    assert explain((h * _p(3)).sum(), w).reason == "not_used"
    assert explain((h * _p(3)).sum(), h).reason == "not_requires_grad"


def test_detached_use():
    w = _p(3)
    x = _p(3)
    e = explain((x * w.detach()).sum(), w)
    assert e.reason == "detached" and "MulBackward0" in e.message


def test_never_used():
    w, x = _p(3), _p(3)
    assert explain((x ** 2).sum(), w).reason == "not_used"


def test_loss_without_graph():
    w = _p(3)
    with tinytorch.no_grad():
        loss = (w ** 2).sum()
    assert explain(loss, w).reason == "loss_without_graph"
    assert explain(w.argmax().float(), w).reason == "loss_without_graph"


def test_dead_relu():
    lin = nn.Linear(2, 3)
    with tinytorch.no_grad():
        lin.bias.fill_(-100.0)
    loss = tinytorch.relu(lin(tinytorch.randn(4, 2))).sum()
    e = explain(loss, lin.weight)
    assert e.reason == "dead_relu" and e.grad_norm == 0.0 and "ReluBackward0" in e.blockers
    # one live unit is enough for the gradient to flow
    with tinytorch.no_grad():
        lin.bias[0] = 100.0
    assert explain(tinytorch.relu(lin(tinytorch.randn(4, 2))).sum(), lin.weight).reason == "ok"


def test_masked_fill_everything():
    w = _p(4)
    assert explain(w.masked_fill(tinytorch.ones(4, dtype=tinytorch.bool), 0.0).sum(), w).reason == "masked_fill"
    assert explain(w.masked_fill(tinytorch.tensor([True, False, True, True]), 0.0).sum(), w).reason == "ok"


def test_multiplied_by_zero():
    w = _p(3)
    e = explain((w * tinytorch.zeros(3)).sum() + 0 * _p(1).sum(), w)
    assert e.reason == "multiplied_by_zero"


def test_piecewise_constant_op():
    w = _p(3)
    e = explain((w.round() * 2).sum(), w)
    assert e.reason == "non_differentiable_op" and "straight-through" in e.message
    assert explain((w.round() + w).sum(), w).reason == "ok"  # another path carries the gradient


def test_zero_gradient_without_single_cause():
    w = _p(3)
    assert explain((w - w).sum(), w).reason == "zero_gradient"


def test_graph_freed():
    w = _p(3)
    loss = (w.exp() * w).sum()
    loss.backward()
    assert explain(loss, w).reason == "graph_freed"


def test_type_errors():
    with pytest.raises(TypeError, match="explain: param must be a Tensor"):
        explain(_p(1).sum(), 3.0)
