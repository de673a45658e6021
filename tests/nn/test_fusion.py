"""Fused Linear+activation and Conv2d+ReLU: equal to the unfused pair (values and gradients, first
and second order), wired into Sequential, switched off by TINYTORCH_FUSION=0 and by hooks."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as torch
from tinytorch import nn
from tinytorch.nn import fusion
from tinytorch.nn import functional as F


def _to_np(t):
    return t.detach().cpu().numpy()


def _unfused(kind, x, w, b):
    if kind == "relu":
        return F.relu(F.linear(x, w, b))
    return F.gelu(F.linear(x, w, b), approximate="none" if kind == "gelu" else "tanh")


def _leaves(rng, device, *shapes, dtype=torch.float64):
    return [torch.tensor(rng.standard_normal(s), dtype=dtype, device=device, requires_grad=True) for s in shapes]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("act", fusion.ACTIVATIONS)
def test_linear_act_matches_unfused(device, rng, act, bias):
    x, w, b = _leaves(rng, device, (2, 3, 6), (5, 6), (5,))
    b = b if bias else None
    y = fusion.linear_act(x, w, b, act)
    assert y.grad_fn.name() == "LinearActBackward0"
    want = _unfused(act, x, w, b)
    np.testing.assert_allclose(_to_np(y), _to_np(want), rtol=1e-12, atol=1e-12)
    g = torch.tensor(rng.standard_normal((2, 3, 5)), device=device)
    inputs = [x, w] + ([b] if bias else [])
    fast = torch.autograd.grad(y, inputs, g)  # backward_arrays (the kernels' fallback path)
    graph = torch.autograd.grad(fusion.linear_act(x, w, b, act), inputs, g, create_graph=True)  # backward
    ref = torch.autograd.grad(want, inputs, g)
    for a, c, r in zip(fast, graph, ref):
        np.testing.assert_allclose(_to_np(a), _to_np(r), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(_to_np(c), _to_np(r), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("act", ["gelu", "gelu_tanh"])
def test_linear_act_double_backward_matches_unfused(rng, act):
    x, w, b = _leaves(rng, "cpu", (3, 4), (2, 4), (2,))
    outs = []
    for fn in (lambda: fusion.linear_act(x, w, b, act), lambda: _unfused(act, x, w, b)):
        gx, = torch.autograd.grad(fn().sum(), [x], create_graph=True)
        outs.append(torch.autograd.grad((gx * gx).sum(), [x, w, b]))
    for a, r in zip(*outs):
        np.testing.assert_allclose(_to_np(a), _to_np(r), rtol=1e-9, atol=1e-12)


def test_relu_forward_is_bit_identical_float32(rng):
    x, w, b = _leaves(rng, "cpu", (4, 8), (6, 8), (6,), dtype=torch.float32)
    np.testing.assert_array_equal(_to_np(fusion.linear_act(x, w, b, "relu")), _to_np(F.relu(F.linear(x, w, b))))
    np.testing.assert_array_equal(_to_np(fusion.linear_act(x, w, b, "gelu")), _to_np(F.gelu(F.linear(x, w, b))))


@pytest.mark.parametrize("opts", [{}, dict(stride=2, padding=1), dict(padding=(1, 0), dilation=(2, 1), groups=2)])
def test_conv2d_relu_matches_unfused(device, rng, opts):
    x, w, b = _leaves(rng, device, (2, 4, 7, 6), (6, 4 // opts.get("groups", 1), 3, 2), (6,))
    y = fusion.conv2d_relu(x, w, b, **opts)
    assert y.grad_fn.name() == "ConvReLUBackward0"
    want = F.relu(F.conv2d(x, w, b, **opts))
    np.testing.assert_allclose(_to_np(y), _to_np(want), rtol=1e-12, atol=1e-12)
    g = torch.tensor(rng.standard_normal(tuple(want.shape)), device=device)
    fast = torch.autograd.grad(y, [x, w, b], g)
    graph = torch.autograd.grad(fusion.conv2d_relu(x, w, b, **opts), [x, w, b], g, create_graph=True)
    ref = torch.autograd.grad(want, [x, w, b], g)
    for a, c, r in zip(fast, graph, ref):
        np.testing.assert_allclose(_to_np(a), _to_np(r), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(_to_np(c), _to_np(r), rtol=1e-10, atol=1e-12)


def test_uncovered_calls_fall_back_with_the_unfused_errors():
    x = torch.randn(3, 4)
    y = fusion.linear_act(x, torch.randn(4), None, "relu")  # 1-D weight: the unfused pair
    assert tuple(y.shape) == (3,)
    with pytest.raises(RuntimeError, match="linear"):
        fusion.linear_act(x, torch.randn(5, 3), None, "gelu")
    with pytest.raises(ValueError, match="activation"):
        fusion.linear_act(x, torch.randn(5, 4), None, "tanh")
    with pytest.raises(RuntimeError, match="conv2d"):
        fusion.conv2d_relu(torch.randn(1, 3, 5, 5), torch.randn(2, 4, 3, 3))
    y = fusion.conv2d_relu(torch.randn(3, 5, 5), torch.randn(2, 3, 3, 3), padding="same")
    assert tuple(y.shape) == (2, 5, 5) and float(y.min()) >= 0


def _mlp_and_cnn():
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 5),
                        nn.GELU(approximate="tanh"), nn.Linear(5, 2))
    cnn = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Conv2d(3, 3, 3, padding_mode="reflect",
                        padding=1), nn.ReLU(inplace=True), nn.Flatten(), nn.Linear(3 * 5 * 5, 2))
    return mlp, cnn


def _run(model, x):
    for p in model.parameters():
        p.grad = None
    y = model(x)
    y.sum().backward()
    return _to_np(y), [_to_np(p.grad) for p in model.parameters()]


def _grad_fn_names(y):
    names, stack, seen = set(), [y.grad_fn], set()
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        names.add(n.name())
        stack.extend(f for f, _ in n.next_functions)
    return names


def test_sequential_same_results_with_fusion_on_and_off(monkeypatch, rng):
    mlp, cnn = _mlp_and_cnn()
    for model, shape in ((mlp, (4, 6)), (cnn, (2, 2, 5, 5))):
        model.double()
        x = torch.tensor(rng.standard_normal(shape))
        monkeypatch.setenv("TINYTORCH_FUSION", "1")
        y1, g1 = _run(model, x)
        names_on = _grad_fn_names(model(x))
        monkeypatch.setenv("TINYTORCH_FUSION", "0")
        y0, g0 = _run(model, x)
        names_off = _grad_fn_names(model(x))
        np.testing.assert_allclose(y1, y0, rtol=1e-12, atol=1e-13)
        for a, b in zip(g1, g0):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
        fused = {"LinearActBackward0", "ConvReLUBackward0"}
        assert names_on & fused and not names_off & fused


def test_hooks_disable_fusion(monkeypatch):
    monkeypatch.setenv("TINYTORCH_FUSION", "1")
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    x = torch.randn(2, 3)
    assert "LinearActBackward0" in _grad_fn_names(model(x))
    seen = []
    h = model[0].register_forward_hook(lambda m, i, o: seen.append(o))
    y = model(x)
    assert len(seen) == 1 and "LinearActBackward0" not in _grad_fn_names(y)
    np.testing.assert_allclose(_to_np(y), np.maximum(_to_np(seen[0]), 0))
    h.remove()
    h = model[1].register_forward_pre_hook(lambda m, i: None)
    assert "LinearActBackward0" not in _grad_fn_names(model(x))
    h.remove()
    model[1].register_full_backward_hook(lambda m, gi, go: None)
    assert "LinearActBackward0" not in _grad_fn_names(model(x))


def test_cpu_graphs_keep_torch_node_names_by_default(monkeypatch, device):
    monkeypatch.delenv("TINYTORCH_FUSION", raising=False)
    assert fusion.enabled()
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU()).to(device)
    names = _grad_fn_names(model(torch.randn(2, 3, device=device)))
    if device == "cpu":
        assert "ReluBackward0" in names and "LinearActBackward0" not in names
    else:  # CUDA inputs are fused by default
        assert "LinearActBackward0" in names


def test_subclasses_are_not_fused(monkeypatch):
    class MyLinear(nn.Linear):
        def forward(self, input):
            return super().forward(input) * 2

    monkeypatch.setenv("TINYTORCH_FUSION", "1")
    model = nn.Sequential(MyLinear(3, 4), nn.ReLU())
    x = torch.randn(2, 3)
    want = np.maximum(2 * _to_np(F.linear(x, model[0].weight, model[0].bias)), 0)
    np.testing.assert_allclose(_to_np(model(x)), want, rtol=1e-6)
