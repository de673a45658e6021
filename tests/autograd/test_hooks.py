"""Tensor.register_hook on leaves and non-leaves; replacement; removal."""
from __future__ import annotations

import pytest

import tinytorch


def test_leaf_hook_sees_and_replaces_grad():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h = x.register_hook(lambda g: seen.append(g.tolist()) or g * 10)
    (x * 3).sum().backward()
    assert seen == [[3.0, 3.0]]
    assert x.grad.tolist() == [30.0, 30.0]
    h.remove()
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0] and len(seen) == 1


def test_non_leaf_hook_changes_upstream_gradient():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()))
    y.register_hook(lambda g: g * 0.5)
    (y * 4).sum().backward()
    assert seen == [[4.0, 4.0]]
    assert x.grad.tolist() == [4.0, 4.0]


def test_hook_on_retained_grad_order_matches_torch():
    torch = pytest.importorskip("torch")

    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 3)
        (y * 1).sum().backward()
        return y.grad.tolist(), x.grad.tolist()

    assert run(tinytorch) == run(torch)


def test_hook_requires_grad():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        tinytorch.tensor([1.0]).register_hook(lambda g: g)


def test_hook_handle_as_context_manager():
    x = tinytorch.tensor([1.0], requires_grad=True)
    with x.register_hook(lambda g: g * 2):
        (x * 1).sum().backward()
    assert x.grad.tolist() == [2.0]
    (x * 1).sum().backward()
    assert x.grad.tolist() == [3.0]


def test_post_accumulate_grad_hook():
    x = tinytorch.tensor([1.0], requires_grad=True)
    seen = []
    x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    (x * 2).sum().backward()
    assert seen == [[2.0]]
