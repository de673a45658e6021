"""The backward engine: deep chains, DAGs, accumulation, retain_graph, create_graph, autograd.grad."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
from tinytorch import autograd


def _need(*names):
    missing = [n for n in names if not hasattr(tinytorch, n)]
    if missing:
        pytest.skip(f"ops not landed yet: {missing}")


def test_deep_chain_is_iterative():
    x = tinytorch.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10_000], rtol=1e-3)


def test_wide_dag_counts_every_path():
    x = tinytorch.tensor([2.0], dtype=tinytorch.float64, requires_grad=True)
    parts = [x * float(i) for i in range(200)]
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    # a diamond on top: every branch reuses the same intermediate
    z = total * total
    z.sum().backward()
    s = sum(range(200))
    np.testing.assert_allclose(x.grad.numpy(), [2 * s * s * 2.0])


def test_diamond_node_runs_once_with_summed_gradient():
    calls = []

    class Spy(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            calls.append(grad.tolist())
            return grad

    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    h = Spy.apply(x)
    (h * 2 + h * 3).sum().backward()
    assert calls == [[5.0, 5.0]]
    assert x.grad.tolist() == [5.0, 5.0]


def test_accumulates_across_backward_calls():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 4).sum().backward()
    assert x.grad.tolist() == [7.0, 7.0]
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_grad_is_not_aliased_to_user_gradient():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    g = tinytorch.tensor([1.0, 1.0])
    (x * 1).backward(g)
    x.grad.mul_(5)
    assert g.tolist() == [1.0, 1.0]


def test_non_leaf_grad_only_with_retain_grad():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = x * 3
    z.retain_grad()
    assert z.retains_grad and not y.retains_grad
    (y + z).sum().backward()
    with pytest.warns(UserWarning, match="not a leaf Tensor"):  # as torch warns
        assert y.grad is None
    assert z.grad.tolist() == [1.0, 1.0]
    assert x.grad.tolist() == [5.0, 5.0]


def test_second_backward_needs_retain_graph():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_second_backward_error_matches_torch():
    torch = pytest.importorskip("torch")
    tx = torch.tensor([1.0], requires_grad=True)
    ty = (tx * tx).sum()
    ty.backward()
    with pytest.raises(RuntimeError) as want:
        ty.backward()
    x = tinytorch.tensor([1.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError) as got:
        y.backward()
    assert str(got.value) == str(want.value)


def test_saved_buffers_released_after_backward():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    node = y.grad_fn
    y.sum().backward()
    assert node._saved is None
    with pytest.raises(RuntimeError, match="second time"):
        node.saved_tensors


def test_create_graph_third_derivative_of_tanh():
    _need("tanh")
    x = tinytorch.tensor([-1.2, 0.3, 0.9], dtype=tinytorch.float64, requires_grad=True)
    y = tinytorch.tanh(x)
    (g1,) = autograd.grad(y.sum(), x, create_graph=True)
    (g2,) = autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = autograd.grad(g2.sum(), x)
    t = np.tanh(x.detach().numpy())
    np.testing.assert_allclose(g1.detach().numpy(), 1 - t**2)
    np.testing.assert_allclose(g2.detach().numpy(), -2 * t * (1 - t**2))
    np.testing.assert_allclose(g3.detach().numpy(), -2 * (1 - t**2) ** 2 + 4 * t**2 * (1 - t**2))
    assert g1.requires_grad and not g3.requires_grad


def test_create_graph_with_exp_and_mul():
    x = tinytorch.tensor([0.5, -1.0], dtype=tinytorch.float64, requires_grad=True)
    y = (tinytorch.exp(x * 2) * x).sum()
    (g,) = autograd.grad(y, x, create_graph=True)
    (gg,) = autograd.grad(g.sum(), x)
    e = np.exp(2 * x.detach().numpy())
    xv = x.detach().numpy()
    np.testing.assert_allclose(g.detach().numpy(), e * (2 * xv + 1))
    np.testing.assert_allclose(gg.numpy(), e * (4 * xv + 4))


def test_backward_create_graph_accumulates_graph_grad():
    x = tinytorch.tensor([3.0], dtype=tinytorch.float64, requires_grad=True)
    (x * x * x).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()
    assert x.grad.tolist() == [18.0]


def test_autograd_grad_semantics():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    w = tinytorch.tensor([3.0, 4.0], requires_grad=True)
    u = tinytorch.tensor([1.0], requires_grad=True)
    y = x * w
    gx, gw = autograd.grad(y, [x, w], grad_outputs=tinytorch.ones(2), retain_graph=True)
    assert gx.tolist() == [3.0, 4.0] and gw.tolist() == [1.0, 2.0]
    assert x.grad is None and w.grad is None  # grad() never touches .grad
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        autograd.grad(y.sum(), [x, u], retain_graph=True)
    gx, gu = autograd.grad(y.sum(), [x, u], allow_unused=True, retain_graph=True)
    assert gu is None and gx.tolist() == [3.0, 4.0]
    gx, gu = autograd.grad(y.sum(), [x, u], materialize_grads=True, retain_graph=True)
    assert gu.tolist() == [0.0]
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        autograd.grad(y, x, grad_outputs=tinytorch.ones(3))


def test_autograd_grad_of_intermediate():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = (h * h).sum()
    (gh,) = autograd.grad(y, h)
    assert gh.tolist() == [4.0, 8.0]
    assert x.grad is None


def test_autograd_grad_multiple_outputs():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    (g,) = autograd.grad([(x * 2).sum(), (x * 3).sum()], [x])
    assert g.tolist() == [5.0, 5.0]


def test_backward_inputs_restricts_accumulation():
    a = tinytorch.tensor([1.0], requires_grad=True)
    b = tinytorch.tensor([2.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.tolist() == [2.0] and b.grad is None


def test_backward_gradient_argument():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).backward(gradient=tinytorch.tensor([1.0, 10.0]))
    assert x.grad.tolist() == [3.0, 30.0]


def test_non_scalar_backward_without_gradient_raises():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()


def test_backward_on_tensor_without_grad_raises():
    x = tinytorch.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        (x * 2).sum().backward()


def test_grad_fn_names_and_next_functions():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y + x
    assert z.grad_fn.name() == "AddBackward0"
    nxt = z.grad_fn.next_functions
    assert nxt[0][0] is y.grad_fn
    assert nxt[1][0].name() == "torch::autograd::AccumulateGrad"
    assert nxt[1][0].variable is x
    assert x.grad_fn is None and x.is_leaf and not y.is_leaf


def test_gradient_dtype_follows_input_through_promotion():
    x = tinytorch.tensor([1.0, 2.0], dtype=tinytorch.float32, requires_grad=True)
    w = tinytorch.tensor([3.0, 4.0], dtype=tinytorch.float64, requires_grad=True)
    (x * w).sum().backward()
    assert x.grad.dtype is tinytorch.float32 and w.grad.dtype is tinytorch.float64


def test_broadcast_gradient_is_summed_to_input_shape():
    x = tinytorch.ones(2, 3, requires_grad=True)
    b = tinytorch.ones(3, requires_grad=True)
    (x * b * 2).sum().backward()
    assert b.grad.tolist() == [4.0, 4.0, 4.0]


def test_matches_torch_on_a_small_net():
    torch = pytest.importorskip("torch")
    _need("tanh", "matmul")
    rng = np.random.default_rng(0)
    a, w = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    ta, tw = torch.tensor(a, requires_grad=True), torch.tensor(w, requires_grad=True)
    (torch.tanh(ta @ tw) * ta.sum()).sum().backward()
    xa, xw = tinytorch.tensor(a, requires_grad=True), tinytorch.tensor(w, requires_grad=True)
    (tinytorch.tanh(xa @ xw) * xa.sum()).sum().backward()
    np.testing.assert_allclose(xa.grad.numpy(), ta.grad.numpy())
    np.testing.assert_allclose(xw.grad.numpy(), tw.grad.numpy())


def test_leaf_grads_own_writeable_memory():
    a = tinytorch.ones(3, requires_grad=True)
    b = tinytorch.ones(3, requires_grad=True)
    (a + b).sum().backward()  # one array flows to both inputs, as a broadcast view of the sum's grad
    a.grad.mul_(2)  # optimizers update grads in place
    assert a.grad.tolist() == [2.0, 2.0, 2.0] and b.grad.tolist() == [1.0, 1.0, 1.0]
    b.grad.zero_()
    assert a.grad.tolist() == [2.0, 2.0, 2.0]
    x = tinytorch.ones(2, 2, requires_grad=True)
    w = tinytorch.ones(2, requires_grad=True)
    (x * w).sum().backward(inputs=[x, w])
    x.grad.add_(1)
    w.grad.add_(1)
    assert x.grad.tolist() == [[2.0, 2.0], [2.0, 2.0]] and w.grad.tolist() == [3.0, 3.0]


def test_backward_on_scalar_leaf():
    x = tinytorch.tensor(3.0, requires_grad=True)
    x.backward()
    assert x.grad.tolist() == 1.0
