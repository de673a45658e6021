"""In-place ops and version counters: correct gradients, stale saved tensors, leaf protection."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch


def _pair(torch, vals):
    return (tinytorch.tensor(vals, dtype=tinytorch.float64, requires_grad=True),
            torch.tensor(vals, dtype=torch.float64, requires_grad=True))


def _run_both(fn, vals=(1.0, -2.0, 3.0)):
    """Same gradients as torch, or the same stale-saved-tensor error where torch raises it."""
    torch = pytest.importorskip("torch")
    x, tx = _pair(torch, list(vals))
    try:
        fn(torch, tx).sum().backward()
    except RuntimeError as e:
        assert "modified by an inplace operation" in str(e)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            fn(tinytorch, x).sum().backward()
        return None
    fn(tinytorch, x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    return x


@pytest.mark.parametrize("name,fn", [
    ("mul_self_raises_like_torch", lambda lib, x: (lambda y: y.mul_(y))(x * 2)),
    ("add_", lambda lib, x: (lambda y: y.add_(x, alpha=3))(x * 2)),
    ("sub_", lambda lib, x: (lambda y: y.sub_(x * x))(x * 2)),
    ("div_", lambda lib, x: (lambda y: y.div_(x * x + 1))(x * 2)),
    ("chain", lambda lib, x: (lambda y: y.mul_(3).add_(1).mul_(y))(x + 0)),
    ("iadd", lambda lib, x: (lambda y: (y.__iadd__(x), y)[1])(x * x)),
    ("zero_", lambda lib, x: (lambda y: y.zero_() + x)(x * 2)),
    ("fill_", lambda lib, x: (lambda y: y.fill_(2.0) * x)(x * 2)),
    ("copy_", lambda lib, x: (lambda y: y.copy_(x * x) * 2)(x * 1)),
    ("clamp_", lambda lib, x: (lambda y: y.clamp_(-1.0, 2.5) * x)(x * 1)),
    ("setitem", lambda lib, x: (lambda y: (y.__setitem__(1, x[0] * 5), y)[1] * x)(x * 1)),
])
def test_inplace_on_non_leaf_matches_torch(name, fn):
    if name == "clamp_" and not hasattr(tinytorch.Tensor, "clamp_"):
        pytest.skip("clamp_ not landed yet")
    _run_both(fn)


def test_inplace_on_leaf_requiring_grad_raises():
    x = tinytorch.tensor([1.0], requires_grad=True)
    for op in (lambda: x.add_(1), lambda: x.mul_(2), lambda: x.zero_(), lambda: x.fill_(1.0),
               lambda: x.__setitem__(0, 1.0), lambda: x.copy_(tinytorch.ones(1))):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
            op()
    with tinytorch.no_grad():
        x.mul_(3)  # allowed: this is how optimizers update parameters
    assert x.tolist() == [3.0]


def test_modified_saved_tensor_raises_at_backward():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * y  # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="one of the variables needed for gradient computation has been modified by an inplace operation"):
        z.sum().backward()


def test_modified_saved_leaf_raises_at_backward():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    w = tinytorch.tensor([3.0, 4.0])
    z = x * w  # saves w
    w.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_version_counter_bumps_and_is_shared_with_detach():
    x = tinytorch.zeros(3)
    v0 = x._version
    x.add_(1)
    x[0] = 5.0
    assert x._version == v0 + 2
    d = x.detach()
    d.mul_(2)
    assert x._version == v0 + 3 and x.tolist() == [10.0, 2.0, 2.0]


def test_inplace_without_grad_writes_into_shared_memory():
    a = np.zeros(3, dtype=np.float32)
    t = tinytorch.from_numpy(a)
    t.add_(2)
    t[1] = 7.0
    t.mul_(tinytorch.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(a, [2.0, 14.0, 6.0])
    t.zero_()
    assert a.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("op", ["uniform_", "normal_"])
def test_random_inplace(op):
    if not hasattr(tinytorch.Tensor, op):
        pytest.skip(f"{op} not landed yet")
    a = np.zeros(1000, dtype=np.float32)
    t = tinytorch.from_numpy(a)
    tinytorch.manual_seed(1)
    if op == "uniform_":
        getattr(t, op)(-2.0, 3.0)
        assert a.min() >= -2.0 and a.max() < 3.0 and abs(a.mean() - 0.5) < 0.3
    else:
        getattr(t, op)(1.0, 2.0)
        assert abs(a.mean() - 1.0) < 0.3 and abs(a.std() - 2.0) < 0.3
    first = a.copy()
    tinytorch.manual_seed(1)
    getattr(t, op)(-2.0, 3.0) if op == "uniform_" else getattr(t, op)(1.0, 2.0)
    np.testing.assert_array_equal(a, first)
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(tinytorch.zeros(2, requires_grad=True), op)()


def test_inplace_dtype_and_shape_errors():
    t = tinytorch.zeros(3, dtype=tinytorch.int64)
    with pytest.raises(RuntimeError, match="can't be cast"):
        t.add_(1.5)
    with pytest.raises(RuntimeError, match=r"\(3,\)"):
        tinytorch.zeros(3).add_(tinytorch.ones(2, 3))
