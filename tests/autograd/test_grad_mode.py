"""no_grad / enable_grad / set_grad_enabled / inference_mode: context managers, decorators, threads."""
from __future__ import annotations

import threading

import pytest

import tinytorch


def _x():
    return tinytorch.tensor([1.0, 2.0], requires_grad=True)


def test_no_grad_context_and_nesting():
    x = _x()
    with tinytorch.no_grad():
        assert not tinytorch.is_grad_enabled()
        y = x * 2
        with tinytorch.enable_grad():
            assert tinytorch.is_grad_enabled()
            z = x * 2
        assert not tinytorch.is_grad_enabled()
    assert tinytorch.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None


def test_decorators():
    @tinytorch.no_grad()
    def f(x):
        return x * 2

    @tinytorch.enable_grad()
    def g(x):
        return x * 2

    @tinytorch.inference_mode()
    def h(x):
        return x * 2

    @tinytorch.inference_mode
    def h2(x):
        return x * 2

    @tinytorch.set_grad_enabled(False)
    def k(x):
        return x * 2

    x = _x()
    assert tinytorch.is_grad_enabled()  # building the set_grad_enabled decorator changes nothing
    assert not f(x).requires_grad
    assert not h(x).requires_grad and not h2(x).requires_grad
    assert not k(x).requires_grad
    with tinytorch.no_grad():
        assert g(x).requires_grad
    assert f.__name__ == "f"


def test_set_grad_enabled_as_function_and_context():
    x = _x()
    tinytorch.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        tinytorch.set_grad_enabled(True)
    with tinytorch.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert tinytorch.is_grad_enabled()
    with tinytorch.no_grad():
        with tinytorch.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not tinytorch.is_grad_enabled()


def test_inference_mode_false_keeps_mode():
    x = _x()
    with tinytorch.inference_mode(False):
        assert (x * 2).requires_grad
    with tinytorch.inference_mode():
        assert not (x * 2).requires_grad


def test_restored_after_exception():
    with pytest.raises(ValueError):
        with tinytorch.no_grad():
            raise ValueError
    assert tinytorch.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = {}

    def worker():
        seen["enabled"] = tinytorch.is_grad_enabled()
        seen["rg"] = (_x() * 2).requires_grad

    with tinytorch.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen == {"enabled": True, "rg": True}


def test_detach_and_requires_grad_():
    x = _x()
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None
    d.add_(1)  # shares storage
    assert y.tolist() == [3.0, 5.0]
    y2 = x * 3
    y2.detach_()
    assert y2.grad_fn is None and not y2.requires_grad and y2.is_leaf
    leaf = tinytorch.tensor([1.0])
    assert leaf.requires_grad_() is leaf and leaf.requires_grad
    leaf.requires_grad = False
    assert not leaf.requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad_(False)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "uint8"])
def test_integer_tensors_cannot_require_grad(dtype):
    t = tinytorch.zeros(2, dtype=getattr(tinytorch, dtype))
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        t.requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        t.requires_grad = True
    with pytest.raises(RuntimeError, match="floating point"):
        tinytorch.ones(2, dtype=getattr(tinytorch, dtype), requires_grad=True)
