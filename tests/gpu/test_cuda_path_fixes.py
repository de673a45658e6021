"""First-contact failures of the CUDA path (issue #11 section 3), each pinned by a test.

Marked ``gpu``: on a machine without a GPU they run on the strict CuPy stand-in (tests/cupy_standin), where
each of them failed before its fix; on a GPU they run on real CuPy.
"""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch import _arrays

pytestmark = pytest.mark.gpu


def _np(t):
    return t.detach().cpu().numpy()


def _pair(*shape, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape)
    return (torch.tensor(x, requires_grad=True), torch.tensor(x, device="cuda", requires_grad=True))


@pytest.mark.parametrize("loss", [
    lambda x, t, w: F.nll_loss(F.log_softmax(x, 1), t, weight=w),
    lambda x, t, w: F.cross_entropy(x, t, weight=w),
    lambda x, t, w: F.cross_entropy(x, t, label_smoothing=0.2),
    lambda x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.1, ignore_index=1),
    lambda x, t, w: F.multi_margin_loss(x, t),
    lambda x, t, w: F.multi_margin_loss(x, t, p=2, weight=w),
], ids=["nll_weight", "ce_weight", "ce_smoothing", "ce_all", "multi_margin", "multi_margin_weight"])
def test_class_index_losses_with_device_indices_match_cpu(loss):
    xc, xg = _pair(5, 4)
    t = np.array([0, 3, 1, 1, 2])
    w = np.array([1.0, 2.0, 0.5, 1.5])
    lc = loss(xc, torch.tensor(t), torch.tensor(w))
    lg = loss(xg, torch.tensor(t, device="cuda"), torch.tensor(w, device="cuda"))
    np.testing.assert_allclose(_np(lg), _np(lc), rtol=1e-12)
    lc.backward()
    lg.backward()
    np.testing.assert_allclose(_np(xg.grad), _np(xc.grad), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("assign", [
    lambda t: t.__setitem__(0, [1.0, 2.0, 3.0]),
    lambda t: t.__setitem__((slice(None), 0), np.array([4.0, 5.0])),
    lambda t: t.__setitem__(t > 0.5, np.array([7.0, 7.0, 7.0, 7.0])),
    lambda t: t.__setitem__(np.array([True, False]), np.array([9.0, 9.0, 9.0])),
], ids=["list", "numpy_column", "mask_host_values", "host_mask"])
def test_setitem_with_host_values_on_cuda(assign):
    c = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
    g = c.to("cuda")
    assign(c)
    assign(g)
    assert g.device.type == "cuda"
    np.testing.assert_array_equal(_np(g), _np(c))


@pytest.mark.parametrize("call, other", [
    (lambda x: F.cross_entropy(x, torch.tensor([0, 1, 2])), "target"),
    (lambda x: F.nll_loss(x, torch.tensor([0, 1, 2])), "target"),
    (lambda x: F.multi_margin_loss(x, torch.tensor([0, 1, 2])), "target"),
    (lambda x: F.hinge_embedding_loss(x, torch.ones(3, 3)), "target"),
    (lambda x: F.multilabel_margin_loss(x, torch.tensor([[0, -1, 0]] * 3)), "target"),
    (lambda x: F.cross_entropy(x, torch.tensor([0, 1, 2], device="cuda"), weight=torch.ones(3)), "weight"),
    (lambda x: F.nll_loss(x, torch.tensor([0, 1, 2], device="cuda"), weight=torch.ones(3)), "weight"),
])
def test_cpu_targets_and_weights_name_both_devices(call, other):
    x = torch.randn(3, 3, device="cuda")
    with pytest.raises(RuntimeError, match=rf"cuda:0 \(input\) and cpu \({other}\)"):
        call(x)


@pytest.mark.parametrize("call", [
    lambda a: torch.linalg.inv(a), lambda a: torch.inverse(a),
    lambda a: torch.linalg.solve(a, torch.ones(3, device=a.device, dtype=a.dtype)),
    lambda a: torch.linalg.cholesky(a),
], ids=["inv", "inverse", "solve", "cholesky"])
def test_singular_and_not_pd_raise_on_cuda_like_on_cpu(call):
    singular = torch.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]], dtype=torch.float64)
    with pytest.raises(RuntimeError) as cpu_err:
        call(singular)
    with pytest.raises(RuntimeError) as gpu_err:
        call(singular.to("cuda"))
    assert str(gpu_err.value).split(" (")[0] == str(cpu_err.value).split(" (")[0]
    ok = torch.tensor([[4.0, 1.0, 0.0], [1.0, 3.0, 0.0], [0.0, 0.0, 2.0]], dtype=torch.float64)
    np.testing.assert_allclose(_np(call(ok.to("cuda"))), _np(call(ok)), rtol=1e-12)


@pytest.mark.parametrize("dtype", [torch.int8, torch.uint8, torch.int16, torch.bool, torch.int32, torch.int64])
@pytest.mark.parametrize("op", ["index_add_", "scatter_add_", "index_put_accumulate"])
def test_accumulating_index_ops_on_small_dtypes(op, dtype):
    def run(device):
        base = torch.tensor([0, 1, 0, 5], dtype=dtype, device=device)
        idx = torch.tensor([0, 2, 0, 3], device=device)
        src = torch.tensor([1, 1, 1, 0], dtype=dtype, device=device)
        if op == "index_add_":
            return base.index_add_(0, idx, src)
        if op == "scatter_add_":
            return base.scatter_add_(0, idx, src)
        return base.index_put_((idx,), src, accumulate=True)

    got, want = run("cuda"), run("cpu")
    assert got.dtype == want.dtype == dtype
    np.testing.assert_array_equal(_np(got), _np(want))


def test_tensor_of_a_raw_device_array():
    cp = _arrays.cupy_module()
    raw = cp.arange(4, dtype=cp.float32)
    t = torch.tensor(raw)
    assert t.device.type == "cuda" and t.dtype == torch.float32
    raw[0] = 10.0
    np.testing.assert_array_equal(_np(t), [0, 1, 2, 3])  # a copy, as torch.tensor makes


def test_load_state_dict_with_raw_device_arrays():
    cp = _arrays.cupy_module()
    lin = nn.Linear(2, 2).to("cuda")
    lin.load_state_dict({"weight": cp.ones((2, 2), dtype=cp.float32), "bias": cp.zeros((2,), dtype=cp.float32)})
    np.testing.assert_array_equal(_np(lin.weight), np.ones((2, 2)))
    assert lin.weight.device.type == "cuda"


def test_is_bf16_supported_is_honest():
    ok = torch.cuda.is_bf16_supported()
    if ok:  # then bfloat16 tensors really work on the device
        x = torch.ones(3, dtype=torch.bfloat16, device="cuda")
        assert float((x + x).sum().item()) == 6.0


def test_scalar_operands_are_reused_on_the_device():
    x = torch.ones(3, device="cuda")
    a = torch.add(x, 2.5)
    cache = dict(_arrays._cuda.scalar_cache)
    b = torch.add(x, 2.5)
    assert _arrays._cuda.scalar_cache == cache  # no new 0-d array for a scalar seen before
    np.testing.assert_array_equal(_np(a), _np(b))
    assert not np.signbit(_np(x * 0.0)).any() and np.signbit(_np(x * -0.0)).all()  # -0.0 is not 0.0
    n = len(_arrays._cuda.scalar_cache)
    for _ in range(3):
        assert np.isnan(_np(x + float("nan"))).all()
    assert len(_arrays._cuda.scalar_cache) == n + 1  # one NaN entry, not one per call


def test_loss_and_index_validation_do_not_sync_the_host(_cupy_standin, monkeypatch):
    """Range checks on CUDA run on the device and raise at the next host sync (like torch's device asserts)."""
    if _cupy_standin is None:
        pytest.skip("counts host reads through the stand-in")
    monkeypatch.delenv("TINYTORCH_CUDA_SYNC_CHECKS", raising=False)
    x = torch.randn(4, 3, device="cuda", requires_grad=True)
    t = torch.tensor([0, 2, 1, 1], device="cuda")
    emb = torch.randn(5, 2, device="cuda")
    before = _cupy_standin._State.syncs
    loss = F.cross_entropy(x, t) + F.nll_loss(F.log_softmax(x, 1), t) + x[t].sum() + F.embedding(t, emb).sum()
    loss = loss + torch.index_select(x, 0, t).sum() + torch.gather(x, 1, t[:, None]).sum()
    loss.backward()
    assert _cupy_standin._State.syncs == before, "a validation read a device flag back to the host"
    bad = F.cross_entropy(x, torch.tensor([0, 7, 1, 1], device="cuda"))  # no error yet: nothing synced
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        bad.item()
    monkeypatch.setenv("TINYTORCH_CUDA_SYNC_CHECKS", "1")  # the debug switch: check at the call
    with pytest.raises(IndexError, match="index 9 is out of bounds"):
        x[torch.tensor([9], device="cuda")]


def test_queued_device_checks_are_read_in_one_transfer(_cupy_standin, monkeypatch):
    if _cupy_standin is None:
        pytest.skip("counts host reads through the stand-in")
    monkeypatch.delenv("TINYTORCH_CUDA_SYNC_CHECKS", raising=False)
    _arrays.raise_pending_checks()
    x = torch.randn(6, 3, device="cuda")
    for i in range(5):
        x[torch.tensor([i], device="cuda")]  # five queued range checks
    assert len(_arrays._cuda.pending_checks) >= 5
    before = _cupy_standin._State.syncs
    _arrays.raise_pending_checks()
    assert _cupy_standin._State.syncs - before == 1


@pytest.fixture
def two_devices(_cupy_standin):
    """Two GPUs: the stand-in's two fake devices without a GPU; skipped on a machine with one real GPU."""
    if _cupy_standin is None:
        if torch.cuda.device_count() < 2:
            pytest.skip("needs two GPUs")
        yield None
        return
    from tinytorch._arrays import _cuda

    _cupy_standin.set_device_count(2)
    with _cuda.use_module(_cupy_standin):
        yield _cupy_standin
    _cupy_standin.set_device_count(1)


def test_a_model_on_cuda1_trains_under_its_device(two_devices):
    """Everything on cuda:1 while cuda:0 is current: the stand-in refuses any op that touches a cuda:1
    array from the cuda:0 context, so this fails if any forward, backward, loss, dropout, BN update,
    optimizer step or scalar operand runs on the wrong device."""
    torch.manual_seed(0)
    assert torch.cuda.current_device() == 0
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Dropout(0.2), nn.Flatten(),
                          nn.Linear(12, 4), nn.LayerNorm(4)).to("cuda:1")
    opt = torch.optim.AdamW(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, 1)
    x = torch.randn(5, 1, 4, 4, device="cuda:1")
    t = torch.randint(0, 4, (5,), device="cuda:1")
    w = torch.tensor([1.0, 2.0, 1.0, 0.5], device="cuda:1")
    for _ in range(2):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), t, weight=w, label_smoothing=0.1) + (model[0].weight ** 2).sum() * 1e-3
        loss.backward()
        opt.step()
        sched.step()
    assert loss.device == torch.device("cuda:1")
    for p in model.parameters():
        assert p.device == torch.device("cuda:1") and p.grad.device == torch.device("cuda:1")
    y = x.clone()
    y[0] = 0.0
    y[:, 0, 0, 0] = np.arange(5.0)
    assert torch.clamp(y, min=0.5).device == torch.device("cuda:1")
    with pytest.raises(RuntimeError, match="cuda:0 and cuda:1|cuda:1 and cuda:0"):
        x + torch.ones(1, device="cuda:0")
    with pytest.raises(RuntimeError, match=r"same device as the indexed tensor \(cuda:1\), got indices on cuda:0"):
        x[torch.tensor([0], device="cuda:0")]
    assert torch.cuda.current_device() == 0


def test_conv_chunk_size_is_chosen_per_device():
    """The CPU chunks for its cache; on a GPU a LeNet batch is one chunk (not ~20 launches per sample)."""
    from tinytorch.ops import conv

    cp = _arrays.cupy_module()
    rows, cols, itemsize = 6 * 5 * 5, 8 * 8, 4  # LeNet's second conv, float32
    assert conv._chunk_size(np, 64, rows, cols, itemsize) < 64
    assert conv._chunk_size(cp, 64, rows, cols, itemsize) == 64
    assert conv._chunk_size(cp, 10**6, rows, cols, itemsize) < 10**6  # still bounded


def test_int64_scatter_add_on_cupy_13(_cupy_standin, monkeypatch):
    """CuPy 13's scatter_add has no int64 atomics: tinytorch goes through uint64 (exact, two's complement)."""
    if _cupy_standin is None:
        pytest.skip("emulates CuPy 13 through the stand-in")
    monkeypatch.setattr(_cupy_standin, "__version__", "13.3.0")
    monkeypatch.setitem(_cupy_standin.SCATTER_DTYPES, "add", _cupy_standin.SCATTER_DTYPES["add"] - {"int64"})
    base = torch.tensor([5, -7, 2**40], device="cuda")
    got = base.index_add_(0, torch.tensor([0, 0, 2], device="cuda"), torch.tensor([-9, 1, -(2**41)], device="cuda"))
    np.testing.assert_array_equal(_np(got), [5 - 9 + 1, -7, 2**40 - 2**41])
