"""Normalization, distances, embedding and one_hot beyond the registry: running statistics over
several steps, the array fast path against the graph path, padding_idx, max_norm, errors."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tests.helpers import host, tensor_of as _t


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# ---- batch norm ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 4)], ids=["NC", "NCL", "NCHW"])
@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_batch_norm_running_stats_over_steps_match_torch(shape, momentum, device, torch):
    rng = np.random.default_rng(0)
    c = shape[1]
    rm, rv = _t(np.zeros(c), device), _t(np.ones(c), device)
    trm, trv = torch.zeros(c, dtype=torch.float64), torch.ones(c, dtype=torch.float64)
    w0, b0 = rng.standard_normal(c), rng.standard_normal(c)
    for step in range(3):
        x0 = rng.standard_normal(shape) * (step + 1) + step
        w, b = _t(w0, device, True), _t(b0, device, True)
        x = _t(x0, device, True)
        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x0, w0, b0))
        v_before = rm._version
        y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=momentum)
        ty = torch.nn.functional.batch_norm(tx, trm, trv, tw, tb, training=True, momentum=momentum)
        assert rm._version > v_before
        np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(host(rm), trm.numpy(), rtol=1e-12)
        np.testing.assert_allclose(host(rv), trv.numpy(), rtol=1e-12)
        g = rng.standard_normal(shape)
        y.backward(_t(g, device))
        ty.backward(torch.tensor(g))
        for a, ta in ((x, tx), (w, tw), (b, tb)):
            np.testing.assert_allclose(host(a.grad), ta.grad.numpy(), rtol=1e-6, atol=1e-9)
    # eval mode uses the accumulated statistics
    x0 = rng.standard_normal(shape)
    y = F.batch_norm(_t(x0, device), rm, rv, _t(w0, device), _t(b0, device), training=False)
    ty = torch.nn.functional.batch_norm(torch.tensor(x0), trm, trv, torch.tensor(w0), torch.tensor(b0), training=False)
    np.testing.assert_allclose(host(y), ty.numpy(), rtol=1e-7, atol=1e-9)


def test_batch_norm_errors(device):
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(_t(np.ones((1, 3)), device), None, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean"):
        F.batch_norm(_t(np.ones((2, 3)), device), _t(np.zeros(4), device), _t(np.ones(3), device), training=True)
    with pytest.raises(ValueError, match="2-D"):
        F.batch_norm(_t(np.ones(3), device), None, None, training=True)


def test_standardize_fast_path_equals_graph_path(device):
    """backward_arrays (used without create_graph) and the op-based backward give the same gradients."""
    rng = np.random.default_rng(0)
    x0, w0, g0 = rng.standard_normal((4, 3, 2)), rng.standard_normal(3), rng.standard_normal((4, 3, 2))
    grads = []
    for create_graph in (False, True):
        x, w = _t(x0, device, True), _t(w0, device, True)
        y = F.batch_norm(x, None, None, w, None, training=True)
        grads.append([host(g) for g in tinytorch.autograd.grad(y, (x, w), _t(g0, device), create_graph=create_graph)])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_layer_norm_double_backward_matches_torch(device, torch):
    rng = np.random.default_rng(1)
    x0, w0 = rng.standard_normal((3, 4)), rng.standard_normal(4)
    x, w = _t(x0, device, True), _t(w0, device, True)
    tx, tw = torch.tensor(x0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    (gx,) = tinytorch.autograd.grad((F.layer_norm(x, (4,), w) ** 3).sum(), (x,), create_graph=True)
    (tgx,) = torch.autograd.grad((torch.nn.functional.layer_norm(tx, (4,), tw) ** 3).sum(), (tx,), create_graph=True)
    (gx * gx).sum().backward()
    (tgx * tgx).sum().backward()
    np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(host(w.grad), tw.grad.numpy(), rtol=1e-6, atol=1e-9)


def test_instance_norm_running_stats_match_torch(device, torch):
    rng = np.random.default_rng(2)
    rm, rv = _t(np.zeros(3), device), _t(np.ones(3), device)
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    for _ in range(2):
        x0 = rng.standard_normal((2, 3, 5)) * 2 + 1
        y = F.instance_norm(_t(x0, device), rm, rv, momentum=0.3)
        ty = torch.nn.functional.instance_norm(torch.tensor(x0), trm, trv, momentum=0.3)
        np.testing.assert_allclose(host(y), ty.numpy(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(host(rm), trm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(host(rv), trv.numpy(), rtol=1e-12)
    x0 = rng.standard_normal((2, 3, 5))
    y = F.instance_norm(_t(x0, device), rm, rv, use_input_stats=False)
    ty = torch.nn.functional.instance_norm(torch.tensor(x0), trm, trv, use_input_stats=False)
    np.testing.assert_allclose(host(y), ty.numpy(), rtol=1e-7, atol=1e-9)


def test_shape_errors_name_the_shapes(device):
    x = _t(np.ones((2, 3)), device)
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[4\].*\[2, 3\]"):
        F.layer_norm(x, (4,))
    with pytest.raises(RuntimeError, match="weight"):
        F.layer_norm(x, (3,), _t(np.ones(4), device))
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(_t(np.ones((2, 6, 2)), device), 4)
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.rms_norm(x, (2,))


def test_rms_norm_default_eps_is_dtype_eps(device, torch):
    x0 = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32) * 1e-4
    y = F.rms_norm(_t(x0, device, dtype=np.float32), (4,))
    ty = torch.nn.functional.rms_norm(torch.tensor(x0), (4,))
    np.testing.assert_allclose(host(y), ty.numpy(), rtol=1e-5)


# ---- distances -----------------------------------------------------------------------------------------------------

def test_normalize_zero_vector_gives_zeros(device):
    x = _t([[0.0, 0.0], [3.0, 4.0]], device)
    np.testing.assert_allclose(host(F.normalize(x)), [[0, 0], [0.6, 0.8]])


def test_cosine_similarity_and_pairwise_distance_vs_torch(device, torch):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    np.testing.assert_allclose(host(F.cosine_similarity(_t(a, device), _t(b, device))),
                               torch.nn.functional.cosine_similarity(torch.tensor(a), torch.tensor(b)).numpy(), rtol=1e-10)
    for p in (1.0, 2.0, 3.0, float("inf")):
        np.testing.assert_allclose(host(F.pairwise_distance(_t(a, device), _t(b, device), p)),
                                   torch.nn.functional.pairwise_distance(torch.tensor(a), torch.tensor(b), p).numpy(),
                                   rtol=1e-10)


# ---- embedding / one_hot --------------------------------------------------------------------------------------------

def test_embedding_padding_idx_gets_no_gradient(device, torch):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((5, 3))
    idx = np.array([[0, 2, 4], [2, 2, 1]])
    for pad in (2, -1):
        w = _t(w0, device, True)
        out = F.embedding(tinytorch.tensor(idx, device=device), w, padding_idx=pad)
        tw = torch.tensor(w0, requires_grad=True)
        tout = torch.nn.functional.embedding(torch.tensor(idx), tw, padding_idx=pad)
        g = rng.standard_normal(out.shape)
        out.backward(_t(g, device))
        tout.backward(torch.tensor(g))
        np.testing.assert_allclose(host(out), tout.detach().numpy())
        np.testing.assert_allclose(host(w.grad), tw.grad.numpy(), rtol=1e-12)
        assert not host(w.grad)[pad].any()


def test_embedding_max_norm_renormalizes_rows_in_place(device, torch):
    w0 = np.random.default_rng(0).standard_normal((4, 3)) * 3
    idx = np.array([0, 2])
    w = _t(w0, device)
    tw = torch.tensor(w0)
    out = F.embedding(tinytorch.tensor(idx, device=device), w, max_norm=1.0)
    tout = torch.nn.functional.embedding(torch.tensor(idx), tw, max_norm=1.0)
    np.testing.assert_allclose(host(out), tout.numpy(), rtol=1e-7)
    np.testing.assert_allclose(host(w), tw.numpy(), rtol=1e-7)


def test_embedding_errors(device):
    w = _t(np.ones((3, 2)), device)
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding(tinytorch.tensor([3], device=device), w).cpu()  # CUDA: raised at the host sync
    with pytest.raises(RuntimeError, match="integer"):
        F.embedding(_t([0.0], device), w)
    with pytest.raises(AssertionError, match="Padding_idx"):  # torch asserts
        F.embedding(tinytorch.tensor([0], device=device), w, padding_idx=3)


def test_one_hot(device, torch):
    idx = np.array([[0, 3], [1, 1]])
    out = F.one_hot(tinytorch.tensor(idx, device=device))
    assert out.dtype == tinytorch.int64
    np.testing.assert_array_equal(host(out), torch.nn.functional.one_hot(torch.tensor(idx)).numpy())
    assert tuple(F.one_hot(tinytorch.tensor(idx, device=device), 6).shape) == (2, 2, 6)
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(tinytorch.tensor([3], device=device), 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(tinytorch.tensor([-1], device=device))
    with pytest.raises(RuntimeError, match="index tensor"):
        F.one_hot(_t([1.0], device))
