"""Custom ``autograd.Function``: ctx API, users' forwards on tensors, gradcheck of user ops."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
from tinytorch import autograd
from tinytorch.autograd import Function, gradcheck, gradgradcheck


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


class WrongCube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x * x


class ExpSavesOutput(Function):
    @staticmethod
    def forward(ctx, x):
        y = tinytorch.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class ScaleBy(Function):
    """Mixed tensor / non-tensor args; only the tensor gets a gradient."""

    @staticmethod
    def forward(ctx, x, k, w):
        ctx.k = k
        ctx.save_for_backward(x, w)
        return x * w * k

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        gx = grad * w * ctx.k if ctx.needs_input_grad[0] else None
        gw = grad * x * ctx.k if ctx.needs_input_grad[2] else None
        return gx, None, gw


def _x(*vals):
    return tinytorch.tensor(list(vals), dtype=tinytorch.float64, requires_grad=True)


def test_user_forward_receives_tensors_and_backward_works():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(type(x))
            assert not x.requires_grad or not tinytorch.is_grad_enabled()
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = _x(1.0, 2.0)
    y = Probe.apply(x)
    assert seen == [tinytorch.Tensor]
    assert y.grad_fn.name() == "ProbeBackward"
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_save_for_backward_and_gradcheck():
    x = _x(0.5, -1.5, 2.0)
    assert gradcheck(Cube.apply, (x,))
    assert gradgradcheck(Cube.apply, (x,))


def test_gradcheck_fails_for_wrong_backward():
    x = _x(0.5, -1.5, 2.0)
    with pytest.raises(autograd.GradcheckError):
        gradcheck(WrongCube.apply, (x,))
    assert gradcheck(WrongCube.apply, (x,), raise_exception=False) is False


def test_saving_own_output():
    x = _x(0.1, 0.7)
    y = ExpSavesOutput.apply(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.1, 0.7]))
    assert gradcheck(ExpSavesOutput.apply, (_x(0.1, 0.7),))
    assert gradgradcheck(ExpSavesOutput.apply, (_x(0.1, 0.7),))


def test_needs_input_grad_and_non_tensor_args():
    x = _x(1.0, 2.0)
    w = tinytorch.tensor([3.0, 4.0], dtype=tinytorch.float64)
    flags = []

    class Spy(ScaleBy):
        @staticmethod
        def backward(ctx, grad):
            flags.append(ctx.needs_input_grad)
            return ScaleBy.backward(ctx, grad)

    Spy.apply(x, 5.0, w).sum().backward()
    assert flags == [(True, False, False)]
    assert x.grad.tolist() == [15.0, 20.0]
    assert gradcheck(lambda a, b: ScaleBy.apply(a, 2.0, b), (_x(1.0, 2.0), _x(0.5, 0.25)))


def test_mark_non_differentiable():
    class SortLike(Function):
        @staticmethod
        def forward(ctx, x):
            idx = tinytorch.tensor([1.0, 0.0], dtype=tinytorch.float64)
            ctx.mark_non_differentiable(idx)
            return x * 1, idx

        @staticmethod
        def backward(ctx, g, gidx):
            assert gidx is None or float(gidx.abs().sum() if hasattr(gidx, "abs") else 0) == 0
            return g

    x = _x(1.0, 2.0)
    y, idx = SortLike.apply(x)
    assert y.requires_grad and not idx.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_set_materialize_grads():
    got = []

    class Two(Function):
        @staticmethod
        def forward(ctx, x, materialize):
            ctx.set_materialize_grads(materialize)
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            got.append(g2)
            return g1 if g2 is None else g1 + g2 * 2

    x = _x(1.0)
    a, _ = Two.apply(x, True)
    a.sum().backward()
    assert got[-1] is not None and got[-1].tolist() == [0.0]
    a, _ = Two.apply(x, False)
    a.sum().backward()
    assert got[-1] is None


def test_wrong_number_of_gradients_raises():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, grad):
            return grad

    x, y = _x(1.0), _x(2.0)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(x, y).sum().backward()


def test_wrong_gradient_shape_raises():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return tinytorch.ones(5, dtype=tinytorch.float64)

    with pytest.raises(RuntimeError, match="shape"):
        Bad.apply(_x(1.0, 2.0)).sum().backward()


def test_no_graph_when_no_input_requires_grad():
    y = Cube.apply(tinytorch.tensor([1.0, 2.0]))
    assert y.grad_fn is None and not y.requires_grad
    with tinytorch.no_grad():
        y = Cube.apply(_x(1.0))
    assert y.grad_fn is None


def test_custom_function_matches_torch():
    torch = pytest.importorskip("torch")

    class TCube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    tx = torch.tensor([0.5, -2.0], dtype=torch.float64, requires_grad=True)
    (TCube.apply(tx) * tx).sum().backward()
    x = _x(0.5, -2.0)
    (Cube.apply(x) * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
