"""Losses beyond the registry: every option combination against PyTorch, stability at extreme
logits, the cross-entropy fast path (array and graph backward, kernel hook), and errors."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tests.helpers import host, tensor_of as _t


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _compare(ours_fn, theirs_fn, arrays, grad_idx, device, torch, rtol=1e-7, atol=1e-10, **kw):
    """Run both with the same inputs (float arrays -> float64 tensors); compare forward and gradients."""
    ours, theirs = [], []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        rg = i in grad_idx
        if a.dtype.kind == "f":
            ours.append(_t(a, device, rg))
            theirs.append(torch.tensor(a, requires_grad=rg))
        else:
            ours.append(tinytorch.tensor(a, device=device))
            theirs.append(torch.tensor(a))
    okw = {k: (_t(v, device) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    tkw = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    y = ours_fn(*ours, **okw)
    ty = theirs_fn(*theirs, **tkw)
    np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(9).standard_normal(ty.shape)
    y.backward(_t(g, device))
    ty.backward(torch.tensor(g))
    for i in grad_idx:
        np.testing.assert_allclose(host(ours[i].grad), theirs[i].grad.numpy(), rtol=rtol * 10, atol=atol * 10)
    return y


# ---- cross-entropy / nll ------------------------------------------------------------------------------------------

_SHAPES = {"2d": ((6, 4), (6,)), "nd": ((3, 4, 2, 2), (3, 2, 2)), "unbatched": ((4,), ())}


@pytest.mark.parametrize("shape", list(_SHAPES), ids=list(_SHAPES))
@pytest.mark.parametrize("reduction,weighted,ignore,smoothing",
                         list(itertools.product(["mean", "sum", "none"], [False, True], [None, 1], [0.0, 0.25])))
def test_cross_entropy_class_indices_all_options_vs_torch(shape, reduction, weighted, ignore, smoothing, device, torch):
    rng = np.random.default_rng(0)
    xs, ts = _SHAPES[shape]
    x = rng.standard_normal(xs) * 2
    t = rng.integers(0, 4, size=ts)
    if shape != "unbatched":
        t.flat[0] = 1  # the ignore index occurs at least once
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    if weighted:
        kw["weight"] = rng.uniform(0.5, 2.0, size=4)
    if ignore is not None:
        kw["ignore_index"] = ignore
    _compare(F.cross_entropy, torch.nn.functional.cross_entropy, [x, t], [0], device, torch, **kw)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted,smoothing", [(False, 0.0), (True, 0.0), (False, 0.3), (True, 0.3)])
def test_cross_entropy_probability_targets_vs_torch(reduction, weighted, smoothing, device, torch):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 2))
    t = rng.dirichlet(np.ones(4), size=(3, 2)).transpose(0, 2, 1).copy()
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    if weighted:
        kw["weight"] = rng.uniform(0.5, 2.0, size=4)
    _compare(F.cross_entropy, torch.nn.functional.cross_entropy, [x, t], [0, 1], device, torch, **kw)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted,ignore", [(False, -100), (True, -100), (True, 2)])
def test_nll_loss_options_vs_torch(reduction, weighted, ignore, device, torch):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 3, 2))
    t = rng.integers(0, 3, size=(5, 2))
    kw = {"reduction": reduction, "ignore_index": ignore}
    if weighted:
        kw["weight"] = rng.uniform(0.5, 2.0, size=3)
    _compare(F.nll_loss, torch.nn.functional.nll_loss, [x, t], [0], device, torch, **kw)


def test_cross_entropy_all_ignored_mean_is_nan_like_torch(device, torch):
    x = _t(np.zeros((2, 3)), device, True)
    t = tinytorch.tensor([-100, -100], device=device)
    assert np.isnan(host(F.cross_entropy(x, t)))
    assert np.isnan(torch.nn.functional.cross_entropy(torch.zeros(2, 3), torch.tensor([-100, -100])).item())
    assert host(F.cross_entropy(x, t, reduction="sum")) == 0.0


def test_cross_entropy_fast_path_and_its_double_backward(device, torch):
    rng = np.random.default_rng(3)
    x0, t0 = rng.standard_normal((4, 5)), rng.integers(0, 5, size=4)
    x = _t(x0, device, True)
    loss = F.cross_entropy(x, tinytorch.tensor(t0, device=device))
    assert loss.grad_fn.name() == "CrossEntropyIndicesBackward0"
    (g,) = tinytorch.autograd.grad(loss, (x,), create_graph=True)
    (g * g).sum().backward()
    tx = torch.tensor(x0, requires_grad=True)
    (tg,) = torch.autograd.grad(torch.nn.functional.cross_entropy(tx, torch.tensor(t0)), (tx,), create_graph=True)
    (tg * tg).sum().backward()
    np.testing.assert_allclose(host(g), tg.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-7, atol=1e-12)


def test_cross_entropy_calls_the_kernel_hook_first(device, monkeypatch):
    from tinytorch._arrays import kernels

    calls = []

    def hook(logits, target, ignore_index, need_grad):
        calls.append((logits.shape, ignore_index, need_grad))
        return None

    monkeypatch.setattr(kernels, "softmax_cross_entropy", hook)
    x = _t(np.zeros((2, 3)), device, True)
    F.cross_entropy(x, tinytorch.tensor([0, 2], device=device), ignore_index=1)
    assert calls == [((2, 3), 1, True)]


def test_cross_entropy_uses_the_kernel_result_when_given(device, monkeypatch):
    """The hook's contract: per-sample loss and softmax - one_hot (zero on ignored rows)."""
    from tinytorch._arrays import kernels

    def hook(logits, target, ignore_index, need_grad):
        xp = tinytorch._arrays.array_module(logits)
        return xp.full(logits.shape[0], 7.0, dtype=logits.dtype), xp.ones_like(logits)

    monkeypatch.setattr(kernels, "softmax_cross_entropy", hook)
    x = _t(np.zeros((2, 3)), device, True)
    loss = F.cross_entropy(x, tinytorch.tensor([0, 2], device=device))
    loss.backward()
    assert host(loss) == 7.0
    np.testing.assert_allclose(host(x.grad), 0.5)


@pytest.mark.parametrize("fn", ["cross_entropy", "bce_with_logits", "soft_margin", "multilabel_soft_margin"])
def test_extreme_logits_give_finite_loss_and_gradient(fn, device, torch):
    x0 = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 5.0]])
    x = _t(x0, device, True)
    if fn == "cross_entropy":
        loss = F.cross_entropy(x, tinytorch.tensor([1, 0], device=device))
        want = torch.nn.functional.cross_entropy(torch.tensor(x0), torch.tensor([1, 0]))
    elif fn == "bce_with_logits":
        t = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 1.0]])
        loss = F.binary_cross_entropy_with_logits(x, _t(t, device), pos_weight=_t([2.0, 1.0, 0.5], device))
        want = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(x0), torch.tensor(t),
                                                                     pos_weight=torch.tensor([2.0, 1.0, 0.5]))
    elif fn == "soft_margin":
        t = np.array([[-1.0, 1.0, 1.0], [1.0, -1.0, -1.0]])
        loss = F.soft_margin_loss(x, _t(t, device))
        want = torch.nn.functional.soft_margin_loss(torch.tensor(x0), torch.tensor(t))
    else:
        t = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
        loss = F.multilabel_soft_margin_loss(x, _t(t, device))
        want = torch.nn.functional.multilabel_soft_margin_loss(torch.tensor(x0), torch.tensor(t))
    loss.backward()
    assert np.isfinite(host(loss)) and np.isfinite(host(x.grad)).all()
    if fn == "soft_margin":  # torch computes log1p(exp(1000)) = inf here; the exact value is finite
        want = torch.nn.functional.softplus(-torch.tensor(t) * torch.tensor(x0), threshold=50).mean()
    np.testing.assert_allclose(host(loss), want.item(), rtol=1e-10)


def test_binary_cross_entropy_clamps_log_like_torch(device, torch):
    x0, t0 = np.array([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 0.5])
    _compare(F.binary_cross_entropy, torch.nn.functional.binary_cross_entropy, [x0, t0], [0], device, torch,
             reduction="none")


def test_binary_cross_entropy_errors(device):
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(_t([1.5], device), _t([1.0], device)).cpu()  # CUDA: raised at the host sync
    with pytest.raises(ValueError, match="target size"):
        F.binary_cross_entropy(_t([0.5, 0.5], device), _t([[1.0, 0.0]], device))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(_t([0.5, 0.5], device), _t([1.0], device))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_weight_and_target_gradient_vs_torch(reduction, device, torch):
    rng = np.random.default_rng(4)
    x, t, w = rng.uniform(0.05, 0.95, (3, 4)), rng.uniform(0, 1, (3, 4)), rng.uniform(0.5, 2, (4,))
    _compare(F.binary_cross_entropy, torch.nn.functional.binary_cross_entropy, [x, t], [0, 1], device, torch,
             weight=w, reduction=reduction)
    _compare(F.binary_cross_entropy_with_logits, torch.nn.functional.binary_cross_entropy_with_logits,
             [x * 4 - 2, t], [0, 1], device, torch, weight=w, pos_weight=w[::-1].copy(), reduction=reduction)


# ---- the other losses -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_vs_torch(reduction, log_target, device, torch):
    rng = np.random.default_rng(5)
    x = np.log(rng.dirichlet(np.ones(4), size=3))
    t = rng.dirichlet(np.ones(4), size=3)
    t[0, 1] = 0.0  # xlogy(0, 0) = 0
    if log_target:
        t = np.log(t + 0.1)
    _compare(F.kl_div, torch.nn.functional.kl_div, [x, t], [0], device, torch, reduction=reduction, log_target=log_target)


@pytest.mark.parametrize("name,kw", [
    ("mse_loss", {}), ("mse_loss", {"weight": "w"}), ("l1_loss", {}), ("l1_loss", {"weight": "w"}),
    ("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {"delta": 0.7}),
    ("huber_loss", {"weight": "w"}), ("soft_margin_loss", {}), ("poisson_nll_loss", {}),
    ("poisson_nll_loss", {"log_input": False, "full": True}),
])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_pointwise_losses_vs_torch(name, kw, reduction, device, torch):
    rng = np.random.default_rng(6)
    x, t = rng.uniform(0.1, 3, (3, 4)), rng.uniform(0.1, 3, (3, 4))
    if name == "soft_margin_loss":
        t = np.sign(rng.standard_normal((3, 4)))
    if name == "poisson_nll_loss":
        t = rng.poisson(2.0, (3, 4)).astype(float)
    kw = {k: (rng.uniform(0.5, 2, (3, 4)) if v == "w" else v) for k, v in kw.items()}
    _compare(getattr(F, name), getattr(torch.nn.functional, name), [x, t], [0], device, torch, reduction=reduction, **kw)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_margin_and_embedding_losses_vs_torch(reduction, device, torch):
    rng = np.random.default_rng(7)
    a, b, c = (rng.standard_normal((5, 3)) for _ in range(3))
    y = np.array([1.0, -1.0, 1.0, -1.0, -1.0])
    _compare(F.cosine_embedding_loss, torch.nn.functional.cosine_embedding_loss, [a, b, y.astype(np.int64)], [0, 1],
             device, torch, margin=0.1, reduction=reduction)
    _compare(F.margin_ranking_loss, torch.nn.functional.margin_ranking_loss, [a[:, 0], b[:, 0], y], [0, 1], device, torch,
             margin=0.2, reduction=reduction)
    _compare(F.hinge_embedding_loss, torch.nn.functional.hinge_embedding_loss, [a, np.sign(b)], [0], device, torch,
             margin=0.5, reduction=reduction)
    for p, swap in ((2, False), (1, True), (3, True)):
        _compare(F.triplet_margin_loss, torch.nn.functional.triplet_margin_loss, [a, b, c], [0, 1, 2], device, torch,
                 margin=2.0, p=p, swap=swap, reduction=reduction)
    t = np.array([0, 2, 1, 1, 0])
    for p in (1, 2):
        _compare(F.multi_margin_loss, torch.nn.functional.multi_margin_loss, [a, t], [0], device, torch, p=p,
                 margin=0.8, weight=np.array([0.5, 1.0, 2.0]), reduction=reduction)
    _compare(F.multilabel_soft_margin_loss, torch.nn.functional.multilabel_soft_margin_loss,
             [a, (b > 0).astype(float)], [0], device, torch, weight=np.array([0.5, 1.0, 2.0]), reduction=reduction)
    _compare(F.gaussian_nll_loss, torch.nn.functional.gaussian_nll_loss, [a, b, np.abs(c) + 0.1], [0, 1, 2], device,
             torch, full=True, reduction=reduction)


def test_gaussian_nll_var_shapes_and_clamp(device, torch):
    rng = np.random.default_rng(8)
    x, t = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    for v in (np.abs(rng.standard_normal(3)), np.abs(rng.standard_normal((3, 1))), np.array([0.0, 1e-9, 1.0])[:, None]):
        _compare(F.gaussian_nll_loss, torch.nn.functional.gaussian_nll_loss, [x, t, v], [0, 2], device, torch)
    with pytest.raises(ValueError, match="incorrect size"):
        F.gaussian_nll_loss(_t(x, device), _t(t, device), _t(np.ones(4), device))
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(_t(x, device), _t(t, device), _t(-np.ones((3, 4)), device))


def test_legacy_size_average_and_reduce(device, torch):
    x, t = np.arange(4.0), np.zeros(4)
    for sa, red in ((False, None), (None, False), (True, True)):
        with pytest.warns(UserWarning):
            ours = F.mse_loss(_t(x, device), _t(t, device), size_average=sa, reduce=red)
        theirs = torch.nn.functional.mse_loss(torch.tensor(x), torch.tensor(t), size_average=sa, reduce=red)
        np.testing.assert_allclose(host(ours), theirs.numpy())


# ---- errors -----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div", "soft_margin_loss",
                                  "binary_cross_entropy", "binary_cross_entropy_with_logits", "poisson_nll_loss",
                                  "multilabel_soft_margin_loss"])
def test_invalid_reduction_raises(name, device):
    x = _t([[0.5, 0.5]], device)
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        getattr(F, name)(x, x, reduction="avg")


def test_class_index_errors(device):
    x = _t(np.zeros((3, 4)), device)
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        F.cross_entropy(x, tinytorch.tensor([0, 5, 1], device=device)).cpu()  # CUDA: raised at the host sync
    with pytest.raises(IndexError, match="out of bounds"):
        F.nll_loss(x, tinytorch.tensor([0, -3, 1], device=device)).cpu()
    with pytest.raises(ValueError, match=r"batch_size \(3\) to match target batch_size \(2\)"):
        F.cross_entropy(x, tinytorch.tensor([0, 1], device=device))
    with pytest.raises(RuntimeError, match="Long"):
        F.cross_entropy(x, tinytorch.tensor([0, 1, 2], device=device, dtype=tinytorch.int32))
    with pytest.raises(RuntimeError, match="weight tensor should be defined"):
        F.cross_entropy(x, tinytorch.tensor([0, 1, 2], device=device), weight=_t([1.0, 2.0], device))
    with pytest.raises(RuntimeError, match="label_smoothing"):
        F.cross_entropy(x, tinytorch.tensor([0, 1, 2], device=device), label_smoothing=1.5)
    with pytest.raises(ValueError, match="p == 1 and p == 2"):
        F.multi_margin_loss(x, tinytorch.tensor([0, 1, 2], device=device), p=3)
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_loss(x, x, x, margin=0.0)
