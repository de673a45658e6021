"""Views share storage under autograd, as in PyTorch: in-place writes land in the shared memory in every
grad mode, the base's history is rebased (CopySlices), other views rebuild theirs from the base, and
torch's errors are raised where torch refuses (leaves, no_grad views, multi-output views, stale saves)."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
from tinytorch.autograd import gradcheck, gradgradcheck


def _w(lib, vals=(1.0, 2.0, 3.0, 4.0), device="cpu"):
    if lib is tinytorch:
        return lib.tensor(list(vals), dtype=lib.float64, device=device, requires_grad=True)
    return lib.tensor(list(vals), dtype=lib.float64, requires_grad=True)


def _np(t):
    return tinytorch.tensor(t).cpu().numpy() if isinstance(t, tinytorch.Tensor) else t.detach().cpu().numpy()


# ---- the issue's example: results do not depend on grad mode ------------------------------------------

@pytest.mark.parametrize("grad_on", [True, False])
def test_issue_example_view_sees_inplace_in_both_grad_modes(device, grad_on):
    w = tinytorch.ones(4, device=device, requires_grad=True)
    with tinytorch.set_grad_enabled(grad_on):
        x = w * 1
        v = x[:2]
        x.add_(1)
    np.testing.assert_array_equal(_np(v.detach()), [2.0, 2.0])
    np.testing.assert_array_equal(_np(x.detach()), [2.0, 2.0, 2.0, 2.0])
    assert v._version == x._version == 1


def test_issue_example_gradient_flows_through_the_rebased_view(device):
    w = tinytorch.ones(4, device=device, requires_grad=True)
    x = w * 1
    v = x[:2]
    x.add_(1)
    (v * tinytorch.tensor([3.0, 5.0], device=device)).sum().backward()
    np.testing.assert_array_equal(_np(w.grad), [3.0, 5.0, 0.0, 0.0])


# ---- _base, _is_view, shared version counter, detach ----------------------------------------------

def test_base_identity_and_chains():
    x = tinytorch.arange(12.0).reshape(3, 4)
    assert x._base is not None and not x._base._is_view()  # arange(12).reshape is a view of the 1-D tensor
    root = x._base
    assert x[1:]._base is root and x[1:][::2]._base is root
    assert x.t()[0]._base is root and x.transpose(0, 1).reshape(12)._base is None  # copy: not a view
    assert x.view(4, 3).unsqueeze(0).squeeze(0)._base is root
    assert x.narrow(1, 1, 2)._base is root and x.select(0, 1)._base is root and x.diagonal()._base is root
    assert x.expand(2, 3, 4)._base is root and x.flatten()._base is root
    assert all(t._base is root for t in x.unbind(0)) and all(t._base is root for t in x.split(2, 1))
    y = tinytorch.ones(3)
    assert y._base is None and not y._is_view() and y[0:2]._is_view()
    assert (y * 2)._base is None


def test_detach_shares_storage_and_version_but_is_not_a_view(device):
    w = tinytorch.ones(3, device=device, requires_grad=True)
    x = w * 2
    d = x.detach()
    assert d._base is None and not d._is_view() and not d.requires_grad
    x.mul_(3)  # recorded: must still write into the storage d shares
    np.testing.assert_array_equal(_np(d), [6.0, 6.0, 6.0])
    assert d._version == x._version == 1
    d.add_(1)  # and back: x sees changes made through the detached alias
    np.testing.assert_array_equal(_np(x.detach()), [7.0, 7.0, 7.0])
    assert x._version == 2


def test_data_shares_storage_but_not_the_version_counter():
    x = tinytorch.ones(3)
    x.data.add_(1)
    np.testing.assert_array_equal(x.numpy(), [2.0, 2.0, 2.0])
    assert x._version == 0


def test_version_counter_shared_by_all_views():
    w = tinytorch.ones(4, 4, requires_grad=True)
    x = w * 1
    a, b, c = x[1:], x[1:][::2], x.t()
    b.mul_(2)
    assert x._version == a._version == b._version == c._version == 1
    with tinytorch.no_grad():
        c.add_(1)
    assert a._version == 2


def test_inplace_on_base_then_view_sees_values(device):
    x = tinytorch.zeros(2, 3, device=device)
    v = x.t()[1]  # a view of a transpose
    x.add_(tinytorch.arange(6.0, device=device).reshape(2, 3))
    np.testing.assert_array_equal(_np(v), [1.0, 4.0])
    v.mul_(10)
    np.testing.assert_array_equal(_np(x), [[0.0, 10.0, 2.0], [3.0, 40.0, 5.0]])


def test_integer_views_written_in_place_with_grad_on():
    a = tinytorch.arange(6)
    a[2:4].add_(10)
    a.view(2, 3)[1].mul_(2)
    assert a.tolist() == [0, 1, 12, 26, 8, 10]


# ---- gradients after in-place through views, without torch ----------------------------------------

def test_inplace_on_view_gradient_analytic():
    # x = 2w; x[1:3] *= x[1:3] (squared through the view); loss = sum(x * [1, 2, 3, 4])
    w = _w(tinytorch)
    x = w * 2
    v = x[1:3]
    v.pow_(2)
    assert x.grad_fn.name() == "CopySlices"
    (x * tinytorch.tensor([1.0, 2.0, 3.0, 4.0], dtype=tinytorch.float64)).sum().backward()
    # d/dw of 2w1 = 2; of (2w)^2 * k = 8 w k
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 8 * 2.0 * 2, 8 * 3.0 * 3, 8.0])


def test_other_view_after_inplace_gets_the_base_history_analytic():
    w = _w(tinytorch)
    x = w * 1
    a, b = x[:3], x[2:]  # overlap at element 2
    a.mul_(5)
    np.testing.assert_array_equal(b.detach().numpy(), [15.0, 4.0])
    b.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [0.0, 0.0, 5.0, 1.0])


def _f_view_chain(w):
    x = w * 1
    v = x.view(2, 3).t()[1:]  # view of a transpose of a view, (2, 2)
    v.mul_(w[:2].reshape(1, 2))
    x[::2].exp_()
    return x.sin()


def _f_copy_into_view(w):
    z = w.new_zeros((7,))
    z[1:7].view(2, 3)[1].copy_(w[:3] * w[3:])
    return z * z


def _f_diagonal(w):
    m = (w.reshape(2, 3)[:, :2] * 1).repeat(2, 1)[:3, :2].clone()
    m.diagonal().mul_(w[0])
    return m


@pytest.mark.parametrize("fn", [_f_view_chain, _f_copy_into_view, _f_diagonal])
def test_gradcheck_through_views_modified_in_place(fn):
    w = tinytorch.tensor([0.3, -0.7, 1.1, 0.5, -1.3, 0.9], dtype=tinytorch.float64, requires_grad=True)
    assert gradcheck(fn, (w,))
    assert gradgradcheck(fn, (w,))


def test_base_without_grad_gets_history_from_a_view_write():
    w = _w(tinytorch, (1.0, 2.0))
    z = tinytorch.zeros(4, dtype=tinytorch.float64)
    other = z[2:]
    z[1:3].copy_(w * w)
    assert z.requires_grad and z.grad_fn.name() == "CopySlices"
    assert other.requires_grad and other.grad_fn is not None  # rebuilt from the base on use
    (other * 3).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [0.0, 12.0])


def test_slice_gradient_buffer_still_used_for_plain_views(monkeypatch):
    from tinytorch.autograd import engine

    calls = []
    orig = engine._add_slice_grad
    monkeypatch.setattr(engine, "_add_slice_grad", lambda *a: (calls.append(1), orig(*a))[1])
    w = tinytorch.ones(3, 4, requires_grad=True)
    h = w * 2
    sum(h[:, t].sum() for t in range(4)).backward()
    assert len(calls) == 4
    np.testing.assert_array_equal(w.grad.numpy(), np.full((3, 4), 2.0))


# ---- torch's errors -------------------------------------------------------------------------------

def test_leaf_requiring_grad_refuses_inplace():
    w = _w(tinytorch)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being used in an "
                                           "in-place operation"):
        w[:2].mul_(2)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        w[1:][0] = 3.0
    with tinytorch.no_grad():  # optimizers do this
        w[:2].mul_(2)
        w.add_(1)
    np.testing.assert_array_equal(w.detach().numpy(), [3.0, 5.0, 4.0, 5.0])


def test_view_made_in_no_grad_refuses_inplace_with_grad_on():
    x = _w(tinytorch) * 1
    with tinytorch.no_grad():
        v = x[:2]
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode and is being modified inplace "
                                           "with grad mode enabled"):
        v.mul_(2)
    with pytest.raises(RuntimeError, match="created in no_grad mode"):
        v[0] = 1.0
    with tinytorch.no_grad():
        v.mul_(2)  # fine inside no_grad
    x.add_(1)  # the base changed: using the no_grad view with grad on is refused too
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode and its base or another view of "
                                           "its base has been modified inplace"):
        _ = v * 2
    z = tinytorch.zeros(3)  # nothing requires grad: no error
    with tinytorch.no_grad():
        zv = z[1:]
    zv.add_(1)
    assert z.tolist() == [0.0, 1.0, 1.0]


@pytest.mark.parametrize("make", [lambda x: x.split(2), lambda x: x.chunk(2), lambda x: x.unbind(0),
                                  lambda x: tuple(iter(x))])
def test_multi_output_views_refuse_inplace(make):
    x = _w(tinytorch) * 1
    outs = make(x)
    with pytest.raises(RuntimeError, match="is a view and is being modified inplace. This view is the output "
                                           "of a function that returns multiple views"):
        outs[0].mul_(2)
    x.mul_(2)  # modifying the base is allowed, but the views may not be used with grad afterwards
    with pytest.raises(RuntimeError, match="its base or another view of its base has been modified inplace"):
        _ = outs[1] * 1
    with tinytorch.no_grad():
        outs[0].mul_(2)  # not recorded: allowed, as in torch


def test_multi_output_error_names_the_output_and_op():
    x = _w(tinytorch) * 1
    with pytest.raises(RuntimeError, match="^Output 1 of Split is a view"):
        x.split(2)[1].add_(1)


def test_stale_saved_tensor_raises_at_backward():
    x = _w(tinytorch) * 1
    e = x.exp()
    v = e[1:]
    v.add_(1)  # the view's write bumps the counter ExpBackward's saved output shares
    with pytest.raises(RuntimeError, match="one of the variables needed for gradient computation has been "
                                           "modified by an inplace operation.*is at version 1; expected version 0"):
        e.sum().backward()


def test_inplace_saving_its_output_then_modified_raises():
    w = _w(tinytorch)
    x = w * 1
    x.exp_()
    x.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        x.sum().backward()


def test_inplace_saving_self_keeps_the_original_value():
    w = _w(tinytorch)
    x = w * 2
    x[1:].pow_(3)
    x.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 3 * 16 * 2, 3 * 36 * 2, 3 * 64 * 2])


def test_expanded_view_refuses_inplace():
    x = tinytorch.ones(1, 3).expand(2, 3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor refers to a single "
                                           "memory location"):
        x.add_(1)


# ---- optimizers (they modify parameters under no_grad) ----------------------------------------------

@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_optimizer_updates_are_seen_by_views_and_training_still_works(opt):
    tinytorch.manual_seed(0)
    lin = tinytorch.nn.Linear(3, 2)
    row = lin.weight[0]  # a view made with grad on, before any step
    o = getattr(tinytorch.optim, opt)(lin.parameters(), lr=0.1)
    x = tinytorch.randn(5, 3)
    losses = []
    for _ in range(3):
        o.zero_grad()
        loss = (lin(x) ** 2).mean() + row.sum() ** 2  # row: its grad_fn is rebuilt after each step
        loss.backward()
        o.step()
        losses.append(loss.item())
        np.testing.assert_array_equal(row.detach().numpy(), lin.weight.detach().numpy()[0])
    assert losses[-1] < losses[0]


# ---- against torch ------------------------------------------------------------------------------

def _ex_view_chain(lib):
    w = _w(lib)
    x = w * 2
    x[1:][::2].mul_(3)
    return [x, (x * x).sum()], w


def _ex_transpose(lib):
    w = lib.arange(6.0, dtype=lib.float64).reshape(2, 3).requires_grad_()
    x = w.sin()
    v = x.t()[1]
    v.mul_(w[0, :2] + 1)
    return [x, (x ** 2).sum()], w


def _ex_base_then_view(lib):
    w = _w(lib)
    x = w * 2
    v = x.view(2, 2)[1]
    x.mul_(w)
    return [v, (v ** 3).sum()], w


def _ex_view_of_view_modified(lib):
    w = _w(lib)
    x = w * 1
    a = x[1:]
    b = a[:2]
    b.mul_(4)
    a.add_(w[:3])
    return [x, a, b, (x * x).sum() + (b * 3).sum()], w


def _ex_setitem(lib):
    w = _w(lib)
    x = w * 1
    v = x[1:]
    v[0] = w[0] * 10
    v[1:] += w[2:]
    return [x, v, (x * x).sum()], w


def _ex_zero_and_fill(lib):
    w = _w(lib)
    x = w * 2
    x[1:3].zero_()
    x[0:1].fill_(7.0)
    return [x, (x * w).sum()], w


def _ex_unsqueeze_expand_squeeze(lib):
    w = _w(lib)
    x = w * 1
    v = x.unsqueeze(0).squeeze(0)
    v.mul_(2)
    return [x, x.prod()], w


def _ex_diagonal(lib):
    w = lib.arange(9.0, dtype=lib.float64).reshape(3, 3).requires_grad_()
    x = w * 1
    x.diagonal().mul_(5)
    x.diagonal(1).add_(w[0, :2])
    return [x, (x * x).sum()], w


def _ex_higher_order(lib):
    w = _w(lib)
    x = w * 1
    x[:2].pow_(3)
    (g,) = lib.autograd.grad(x.sum(), w, create_graph=True)
    return [g, g.sum()], w


@pytest.mark.parametrize("case", [_ex_view_chain, _ex_transpose, _ex_base_then_view, _ex_view_of_view_modified,
                                  _ex_setitem, _ex_zero_and_fill, _ex_unsqueeze_expand_squeeze, _ex_diagonal,
                                  _ex_higher_order])
def test_values_and_gradients_match_torch(case):
    torch = pytest.importorskip("torch")
    ours, w = case(tinytorch)
    theirs, tw = case(torch)
    ours[-1].backward()
    theirs[-1].backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(_np(a), b.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12)


def _err_leaf(lib):
    _w(lib).mul_(2)


def _err_view_of_leaf(lib):
    _w(lib)[1:].mul_(2)


def _err_no_grad_view(lib):
    x = _w(lib) * 1
    with lib.no_grad():
        v = x[1:]
    v.add_(1)


def _err_unbind(lib):
    (_w(lib) * 1).unbind()[0].add_(1)


def _err_split_base_modified(lib):
    x = _w(lib) * 1
    a, b = x.split(2)
    x.mul_(2)
    b.sum().backward()


def _err_stale(lib):
    x = _w(lib) * 1
    y = x.sigmoid()
    y[:2].mul_(2)
    y.sum().backward()


@pytest.mark.parametrize("case,words", [
    (_err_leaf, "a leaf Variable that requires grad is being used in an in-place operation."),
    (_err_view_of_leaf, "a view of a leaf Variable that requires grad is being used in an in-place operation."),
    (_err_no_grad_view, "A view was created in no_grad mode and is being modified inplace with grad mode enabled"),
    (_err_unbind, "Output 0 of Unbind is a view and is being modified inplace"),
    (_err_split_base_modified, "Output 1 of Split is a view and its base or another view of its base has been "
                               "modified inplace"),
    (_err_stale, "one of the variables needed for gradient computation has been modified by an inplace operation"),
])
def test_errors_match_torch(case, words):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as theirs:
        case(torch)
    assert words in str(theirs.value)
    with pytest.raises(RuntimeError) as ours:
        case(tinytorch)
    assert words in str(ours.value)


def test_inplace_on_view_leaves_no_reference_cycle():
    import gc
    import weakref

    w = tinytorch.ones(8, requires_grad=True)
    x = w * 1
    x[:3].mul_(2)  # x -> CopySlices node: the node must not hold x (freed by refcount, not by the cycle GC)
    ref = weakref.ref(x)
    enabled = gc.isenabled()
    gc.disable()
    try:
        del x
        assert ref() is None
    finally:
        if enabled:
            gc.enable()


# ---- same-shape view ops return a new view, as torch (ops that torch makes return self, stay self) --------

_SAME_SHAPE = {
    "reshape": lambda x: x.reshape(tuple(x.shape)), "reshape-1": lambda x: x.reshape(-1) if x.dim() == 1 else x[...],
    "view": lambda x: x.view(tuple(x.shape)), "view_as": lambda x: x.view_as(x), "reshape_as": lambda x: x.reshape_as(x),
    "expand": lambda x: x.expand(tuple(x.shape)), "expand_as": lambda x: x.expand_as(x),
    "broadcast_to": lambda x: x.broadcast_to(tuple(x.shape)), "squeeze": lambda x: x.squeeze(),
    "permute": lambda x: x.permute(tuple(range(x.dim()))), "transpose": lambda x: x.transpose(0, -1),
    "movedim": lambda x: x.movedim(0, 0), "unflatten": lambda x: x.unflatten(0, (x.shape[0],)) if x.dim() else x[...],
    "flatten": lambda x: x.flatten(), "contiguous": lambda x: x.contiguous(), "t": lambda x: x.t() if x.dim() < 3 else x[...],
    "mT": lambda x: x.mT.mT if x.dim() != 1 else x[...], "flatten(0,0)": lambda x: x.flatten(0, 0),
    "broadcast_tensors": lambda x: tinytorch.broadcast_tensors(x, x)[0] if isinstance(x, tinytorch.Tensor) else
    __import__("torch").broadcast_tensors(x, x)[0],
}


def _identity_and_base(make, lib, shape):
    x = lib.ones(shape, dtype=lib.float64, requires_grad=True)
    y = make(x)
    return y is x, y._base is x, y.grad_fn is None


@pytest.mark.parametrize("shape", [(2, 3), (3,), ()], ids=str)
@pytest.mark.parametrize("name", sorted(_SAME_SHAPE))
def test_same_shape_view_identity_matches_torch(name, shape):
    torch = pytest.importorskip("torch")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation of .mT on 0-d
        theirs = _identity_and_base(_SAME_SHAPE[name], torch, shape)
    assert _identity_and_base(_SAME_SHAPE[name], tinytorch, shape) == theirs


def test_same_shape_reshape_and_expand_are_views():
    x = tinytorch.ones(2, 3, requires_grad=True)
    for y in (x.reshape(2, 3), x.expand(2, 3), x.view_as(x), x.squeeze(), x.reshape_as(x), x.expand_as(x)):
        assert y is not x and y._base is x and y.grad_fn is not None
    assert x.contiguous() is x and x.flatten(1, 1) is x  # torch returns self for these
    v = tinytorch.ones(3)
    assert v.flatten() is v and v.reshape(3)._base is v
    with tinytorch.no_grad():
        y = x.reshape(2, 3)
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode"):
        y.mul_(2)  # x is a leaf; the no_grad view error comes first in torch too
    b = x * 1
    y = b.reshape(2, 3)
    y.mul_(3)  # the write goes through the view into b, with b's history rebased
    b.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 3.0))


# ---- a view without history of a base that requires grad (made under no_grad) -------------------------

def _no_grad_view_case(lib):
    w = lib.ones(4, dtype=lib.float64, requires_grad=True)
    with lib.no_grad():
        v = w[:2]
        v2 = v[:1]
        d = w.detach()[:2]
    flags = [v.requires_grad, v.is_leaf, v.grad_fn is None, v2.requires_grad, d.requires_grad, "requires_grad=True" in
             repr(v)]
    y = (v * 3).sum()
    flags += [y.requires_grad, y.grad_fn is not None]
    y.backward()  # runs, but the gradient reaches neither the view nor its base
    flags += [w.grad is None, v.grad is None]
    x = w * 1
    with lib.no_grad():
        u = x[:2]
    flags += [u.requires_grad, u.is_leaf]
    z = lib.ones(3)
    with lib.no_grad():
        zv = z[:2]
    flags.append(zv.requires_grad)
    z.requires_grad_()
    flags.append(zv.requires_grad)  # follows the base
    v.register_hook(lambda g: None)  # allowed: it requires grad
    return flags


def test_no_grad_view_of_a_base_requiring_grad_requires_grad():
    flags = _no_grad_view_case(tinytorch)
    assert flags == [True, True, True, True, False, True, True, True, True, True, True, True, False, True]
    w = tinytorch.ones(4, requires_grad=True)
    with tinytorch.no_grad():
        v = w[:2]
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        tinytorch.autograd.grad((v * 5).sum(), v)


def test_no_grad_view_requires_grad_matches_torch():
    torch = pytest.importorskip("torch")
    assert _no_grad_view_case(tinytorch) == _no_grad_view_case(torch)


# ---- hooks and retain_grad across in-place ops ---------------------------------------------------------

def _hooks_case(lib):
    """(hook calls, w.grad) per scenario: hooks registered before an in-place op stay on the old node and see
    the gradient of the value before it; those registered after see the new value's."""
    out = []
    w = lib.ones(3, dtype=lib.float64, requires_grad=True)
    scenarios = ["before", "after", "two_inplace", "old_value_used", "base_hook_view_write", "removed"]
    for name in scenarios:
        calls = []
        w.grad = None
        x = w * 2
        h = None
        if name == "before":
            x.register_hook(lambda g: calls.append(g.tolist()) or g * 10)
            x.mul_(3)
        elif name == "after":
            x.mul_(3)
            x.register_hook(lambda g: calls.append(g.tolist()) or g * 10)
        elif name == "two_inplace":
            x.register_hook(lambda g: calls.append(g.tolist()))
            x.add_(1)
            x.mul_(2)
        elif name == "old_value_used":
            x.register_hook(lambda g: calls.append(g.tolist()) or g * 0 + 7)
            y = x * 5
            x.add_(1)
            x = x + y
        elif name == "base_hook_view_write":
            x.register_hook(lambda g: calls.append(g.tolist()))
            x[:2].mul_(3)
        else:
            h = x.register_hook(lambda g: calls.append(g.tolist()))
            x.mul_(3)
            h.remove()
        x.sum().backward()
        out.append((name, calls, w.grad.tolist()))
    return out


def test_hooks_registered_before_inplace_see_the_old_value_gradient():
    got = dict((n, (c, g)) for n, c, g in _hooks_case(tinytorch))
    assert got["before"] == ([[3.0] * 3], [60.0] * 3)  # d(3x)/dx = 3 reaches the old x; the hook's *10 flows on
    assert got["after"] == ([[1.0] * 3], [60.0] * 3)
    assert got["two_inplace"] == ([[2.0] * 3], [4.0] * 3)
    assert got["old_value_used"] == ([[6.0] * 3], [14.0] * 3)
    assert got["base_hook_view_write"] == ([[3.0, 3.0, 1.0]], [6.0, 6.0, 2.0])
    assert got["removed"] == ([], [6.0] * 3)


def test_hooks_across_inplace_match_torch():
    torch = pytest.importorskip("torch")
    assert _hooks_case(tinytorch) == _hooks_case(torch)


def _retain_case(lib):
    w = lib.ones(3, dtype=lib.float64, requires_grad=True)
    c3, c2 = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64), lib.tensor([1.0, 2.0], dtype=lib.float64)
    res = []
    x = w * 2
    x.retain_grad()
    x.mul_(3)
    x.sum().backward()
    res.append((x.grad.tolist(), x.retains_grad))
    x = w * 2
    x.retain_grad()
    x[:2].mul_(3)  # the base's new history is CopySlices: retain_grad follows it
    (x * c3).sum().backward()
    res.append((x.grad.tolist(), x.retains_grad))
    x = w * 2
    v = x[:2]
    v.retain_grad()
    x.mul_(3)  # the view's history is rebuilt from the base: retain_grad follows it
    (v * c2).sum().backward()
    res.append((v.grad.tolist(), v.retains_grad))
    x = w * 2
    x.retain_grad()
    x.mul_(3)
    y = x * 1
    x.retain_grad()
    x.add_(1)
    (x + y).sum().backward()
    res.append((x.grad.tolist(), x.retains_grad))
    return res


def test_retain_grad_follows_the_tensor_through_inplace_ops():
    assert _retain_case(tinytorch) == [([1.0] * 3, True), ([1.0, 2.0, 3.0], True), ([1.0, 2.0], True),
                                       ([1.0] * 3, True)]


def test_retain_grad_across_inplace_matches_torch():
    torch = pytest.importorskip("torch")
    assert _retain_case(tinytorch) == _retain_case(torch)


# ---- Function.mark_dirty: a user forward's in-place write -------------------------------------------------

def _dirty_fns(lib):
    class AddOne(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class Square(lib.autograd.Function):  # saves its dirty output
        @staticmethod
        def forward(ctx, x):
            x.mul_(x)
            ctx.mark_dirty(x)
            ctx.save_for_backward(x)
            return x

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * 2 * y.sqrt()

    class NotReturned(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g

    class AddInto(lib.autograd.Function):
        @staticmethod
        def forward(ctx, z, a):
            z.add_(a)
            ctx.mark_dirty(z)
            return z

        @staticmethod
        def backward(ctx, g):
            return g, g

    class Two(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x, x * 2

        @staticmethod
        def backward(ctx, g, h):
            return g + 2 * h

    return AddOne, Square, NotReturned, AddInto, Two


def _dirty_case(lib):
    AddOne, Square, _, AddInto, Two = _dirty_fns(lib)
    res = []
    w = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
    x = w * 1
    v0 = x._version
    y = AddOne.apply(x)
    res.append((y is x, x._version - v0, x.grad_fn.name(), x.tolist()))
    x.sum().backward()
    res.append(w.grad.tolist())
    w.grad = None
    x = w * 1
    y = Square.apply(x)
    y.sum().backward()
    res.append((y is x, x.tolist(), w.grad.tolist()))
    w.grad = None
    x = w * 1
    v = x[:2]
    y = AddOne.apply(v)
    res.append((y is v, v._base is x, x.grad_fn.name(), x.tolist()))
    (x * lib.tensor([1.0, 10.0, 100.0], dtype=lib.float64)).sum().backward()
    res.append(w.grad.tolist())
    w.grad = None
    z = lib.zeros(3, dtype=lib.float64)
    y = AddInto.apply(z, w)
    res.append((y is z, z.requires_grad, z.is_leaf))
    z.sum().backward()
    res.append(w.grad.tolist())
    w.grad = None
    x = w * 1
    a, b = Two.apply(x)
    (a.sum() + b.sum()).backward()
    res.append((a is x, w.grad.tolist()))
    z = lib.ones(2)
    y = AddOne.apply(z)  # nothing requires grad: the same tensor back, version bumped for the write and the mark
    res.append((y is z, z.tolist(), z._version, z.grad_fn is None))
    with lib.no_grad():
        x = w.detach().clone().requires_grad_()
        y = AddOne.apply(x)  # torch hands back a detached alias of an input requiring grad
        res.append((y is x, y.requires_grad, y._version, x.tolist()))
    return res


def test_mark_dirty_returns_the_input_with_its_history_rebased():
    res = _dirty_case(tinytorch)
    assert res[0] == (True, 2, "AddOneBackward", [2.0, 3.0, 4.0])
    assert res[1] == [2.0, 2.0, 2.0]
    assert res[2] == (True, [1.0, 4.0, 9.0], [2.0, 4.0, 6.0])
    assert res[3] == (True, True, "CopySlices", [2.0, 3.0, 3.0])
    assert res[4] == [2.0, 20.0, 100.0]  # the base's gradient passes CopySlices: the view's region through AddOne
    assert res[5:7] == [(True, True, False), [1.0, 1.0, 1.0]]
    assert res[7] == (True, [3.0, 3.0, 3.0])
    assert res[8] == (True, [2.0, 2.0], 2, True)
    assert res[9] == (False, False, 2, [2.0, 3.0, 4.0])


def test_mark_dirty_matches_torch():
    torch = pytest.importorskip("torch")
    theirs = _dirty_case(torch)
    theirs[3] = (*theirs[3][:2], theirs[3][2].replace("torch::autograd::", ""), theirs[3][3])  # its C++ namespace
    assert _dirty_case(tinytorch) == theirs


def _dirty_err_leaf(lib):
    lib_fn = _dirty_fns(lib)[0]
    lib_fn.apply(lib.ones(3, dtype=lib.float64, requires_grad=True))


def _dirty_err_view_of_leaf(lib):
    _dirty_fns(lib)[0].apply(lib.ones(3, dtype=lib.float64, requires_grad=True)[:2])


def _dirty_err_no_grad_view(lib):
    x = lib.ones(3, dtype=lib.float64, requires_grad=True) * 1
    with lib.no_grad():
        v = x[:2]
    _dirty_fns(lib)[0].apply(v)  # such a view is a leaf that requires grad (see above)


def _dirty_err_multi_output_view(lib):
    _dirty_fns(lib)[0].apply((lib.ones(4, dtype=lib.float64, requires_grad=True) * 1).split(2)[0])


def _dirty_err_not_returned(lib):
    _dirty_fns(lib)[2].apply(lib.ones(3, dtype=lib.float64, requires_grad=True) * 1)


def _dirty_err_view_two_outputs(lib):
    _dirty_fns(lib)[4].apply((lib.ones(3, dtype=lib.float64, requires_grad=True) * 1)[:2])


@pytest.mark.parametrize("case,words", [
    (_dirty_err_leaf, "a leaf Variable that requires grad has been used in an in-place operation"),
    (_dirty_err_view_of_leaf, "a view of a leaf Variable that requires grad is being used in an in-place operation."),
    (_dirty_err_no_grad_view, "a leaf Variable that requires grad has been used in an in-place operation"),
    (_dirty_err_multi_output_view, "Output 0 of Split is a view and is being modified inplace"),
    (_dirty_err_not_returned, "Some elements marked as dirty during the forward method were not returned as output"),
    (_dirty_err_view_two_outputs, "If your Function modifies inplace an input that is a view of another Tensor, your "
                                  "Function cannot return more than one Tensor"),
])
def test_mark_dirty_errors(case, words):
    with pytest.raises(RuntimeError) as ours:
        case(tinytorch)
    assert words in str(ours.value)
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as theirs:
        case(torch)
    assert words in str(theirs.value)
