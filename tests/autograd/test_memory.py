"""The graph is freed after backward: no reference cycles, flat memory over many steps."""
from __future__ import annotations

import gc
import tracemalloc

import numpy as np

import tinytorch
from tinytorch import autograd
from tinytorch.autograd.function import AccumulateGrad, SavedTensor


def _step(w, b, x, y):
    out = (x * w + b) * (x * w + b)
    loss = ((out - y) * (out - y)).sum()
    if hasattr(tinytorch, "tanh"):
        loss = loss + tinytorch.tanh(out).sum()
    loss = loss + tinytorch.exp(out * 0.01).sum()
    loss.backward()
    with tinytorch.no_grad():
        w.sub_(w.grad * 1e-3)
        b.sub_(b.grad * 1e-3)
    w.grad = None
    b.grad = None
    return loss.item()


def _params():
    w = tinytorch.tensor([[0.5, -0.2, 0.1]], requires_grad=True)
    b = tinytorch.tensor([0.1, 0.2, 0.3], requires_grad=True)
    x = tinytorch.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))
    y = tinytorch.ones(4, 3)
    return w, b, x, y


def _tinytorch_garbage(objs):
    bad = []
    for o in objs:
        mod = type(o).__module__ or ""
        if mod.startswith("tinytorch"):
            bad.append(type(o).__name__)
    return bad


def test_no_reference_cycles_in_forward_backward():
    class Custom(autograd.Function):
        @staticmethod
        def forward(ctx, a):
            out = a * 2
            ctx.save_for_backward(a, out)
            return out

        @staticmethod
        def backward(ctx, grad):
            a, out = ctx.saved_tensors
            return grad * 2

    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        w, b, x, y = _params()
        _step(w, b, x, y)
        h = x * w
        h.retain_grad()
        h.register_hook(lambda g: g)
        z = Custom.apply(h)
        (z * z).sum().backward()
        del w, b, x, y, h, z
        gc.collect()
        garbage = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert _tinytorch_garbage(garbage) == []


def test_graph_is_freed_when_outputs_die():
    import weakref

    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2) * x
    node = weakref.ref(y.grad_fn)
    y.sum().backward()
    del y
    assert node() is None  # freed by reference counting alone, no gc needed


def _live_tinytorch_objects():
    gc.collect()
    kinds = (tinytorch.Tensor, autograd.Function, AccumulateGrad, SavedTensor)
    return sum(1 for o in gc.get_objects() if issubclass(type(o), kinds))  # type(): no __class__ lookups


def test_memory_flat_over_many_steps():
    w, b, x, y = _params()
    for _ in range(50):  # warm up caches (imports, method tables)
        _step(w, b, x, y)
    base = _live_tinytorch_objects()
    for _ in range(1000):
        _step(w, b, x, y)
    mid = _live_tinytorch_objects()
    for _ in range(1000):
        _step(w, b, x, y)
    end = _live_tinytorch_objects()
    assert mid - base <= 5 and end - mid <= 5, (base, mid, end)
    # bytes, over a shorter window (tracemalloc slows every allocation down)
    tracemalloc.start()
    try:
        for _ in range(150):
            _step(w, b, x, y)
        gc.collect()
        first, _ = tracemalloc.get_traced_memory()
        for _ in range(150):
            _step(w, b, x, y)
        gc.collect()
        second, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert second - first < 16 * 1024, f"memory grew by {second - first} bytes over 150 steps"


def test_leak_detector_detects_a_leak():
    """The object count above would catch graphs kept alive across steps."""
    w, b, x, y = _params()
    keep = []
    base = _live_tinytorch_objects()
    for _ in range(20):
        keep.append((x * w + b).sum())
    assert _live_tinytorch_objects() - base >= 20
