"""autocast: state API, nesting, threads, decorator, aliases, casts and their gradients, the weight cache,
CPU numerics against torch, the BCE refusal, custom_fwd/custom_bwd."""
from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tinytorch.amp import autocast_mode

bf16, f16, f32 = tinytorch.bfloat16, tinytorch.float16, tinytorch.float32


def _w(*shape, seed=0):
    return tinytorch.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=f32, requires_grad=True)


# ---- state ----------------------------------------------------------------------------------------------
def test_defaults_and_availability():
    assert tinytorch.get_autocast_dtype("cpu") is bf16 and tinytorch.get_autocast_dtype("cuda") is f16
    assert tinytorch.amp.is_autocast_available("cpu") and tinytorch.amp.is_autocast_available("cuda")
    assert not tinytorch.amp.is_autocast_available("mps")
    assert not tinytorch.is_autocast_enabled() and not tinytorch.is_autocast_enabled("cpu")
    assert tinytorch.is_autocast_cache_enabled()


def test_nesting_restores_state_and_dtype():
    with tinytorch.autocast("cpu"):
        assert tinytorch.is_autocast_enabled("cpu") and not tinytorch.is_autocast_enabled()  # no arg: cuda
        with tinytorch.autocast("cpu", dtype=f16):
            assert tinytorch.get_autocast_dtype("cpu") is f16
            with tinytorch.autocast("cpu", enabled=False):
                assert not tinytorch.is_autocast_enabled("cpu")
                assert (_w(2, 2) @ _w(2, 2)).dtype is f32
            assert (_w(2, 2) @ _w(2, 2)).dtype is f16
        assert tinytorch.get_autocast_dtype("cpu") is bf16
    assert not tinytorch.is_autocast_enabled("cpu")
    assert not autocast_mode._local.on and autocast_mode._local.nesting == 0


def test_state_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with tinytorch.autocast("cpu"):
            1 / 0
    assert not tinytorch.is_autocast_enabled("cpu") and not autocast_mode._local.on


def test_set_autocast_enabled_both_signatures():
    tinytorch.set_autocast_enabled("cpu", True)
    try:
        assert tinytorch.is_autocast_enabled("cpu") and (_w(2, 2) @ _w(2, 2)).dtype is bf16
    finally:
        tinytorch.set_autocast_enabled("cpu", False)
    tinytorch.set_autocast_enabled(True)  # old spelling: cuda
    try:
        assert tinytorch.is_autocast_enabled()
    finally:
        tinytorch.set_autocast_enabled(False)
    assert not autocast_mode._local.on


def test_state_is_per_thread():
    seen = {}

    def other():
        seen["enabled"] = tinytorch.is_autocast_enabled("cpu")
        seen["dtype"] = (_w(2, 2) @ _w(2, 2)).dtype

    with tinytorch.autocast("cpu"):
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert seen == {"enabled": False, "dtype": f32}


def test_decorator_and_bad_arguments():
    @tinytorch.autocast("cpu")
    def f(a, b):
        return a @ b

    assert f(_w(2, 3), _w(3, 2)).dtype is bf16
    assert (_w(2, 3) @ _w(3, 2)).dtype is f32
    with pytest.raises(TypeError, match="requires a callable"):
        tinytorch.autocast("cpu")(3)
    with pytest.raises(ValueError, match="device_type"):
        tinytorch.autocast(0)
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'tpu'"):
        tinytorch.autocast("tpu")


def test_unsupported_dtype_and_missing_cuda_disable_with_torchs_warnings():
    with pytest.warns(UserWarning, match="In CPU autocast, but the target dtype is not supported"):
        ac = tinytorch.autocast("cpu", dtype=tinytorch.float64)
    with ac:
        assert not tinytorch.is_autocast_enabled("cpu")
    if not tinytorch.cuda.is_available():
        with pytest.warns(UserWarning, match="CUDA is not available"):
            ac = tinytorch.autocast("cuda")
        with ac:
            assert not tinytorch.is_autocast_enabled("cuda")


def test_deprecated_aliases_warn_like_torch():
    with pytest.warns(FutureWarning, match=r"torch.cpu.amp.autocast\(args...\)` is deprecated"):
        ac = tinytorch.cpu.amp.autocast()
    with ac:
        assert tinytorch.is_autocast_enabled("cpu") and (_w(2, 2) @ _w(2, 2)).dtype is bf16
    with pytest.warns(FutureWarning, match=r"torch.cuda.amp.autocast\(args...\)` is deprecated"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            tinytorch.cuda.amp.autocast()
    assert tinytorch.amp.autocast is tinytorch.autocast


# ---- casts ----------------------------------------------------------------------------------------------
def test_policy_categories_on_cpu():
    x, w, b = _w(4, 3), _w(5, 3, seed=1), _w(5, seed=2)
    with tinytorch.autocast("cpu"):
        y = F.linear(x, w, b)
        assert y.dtype is bf16
        assert F.mse_loss(y, y.detach()).dtype is f32  # fp32 list
        assert (y + 1).dtype is bf16  # unlisted: the input's dtype
        assert (y + x[:, :1]).dtype is f32  # unlisted binary ops promote natively
        assert tinytorch.cat([y, _w(4, 5)]).dtype is f32  # promote: the widest input
        assert tinytorch.cat([y, y]).dtype is bf16
        assert tinytorch.softmax(y, -1).dtype is bf16  # softmax is float32 only on CUDA
        d = tinytorch.tensor(np.ones((2, 2)), dtype=tinytorch.float64)
        assert (d @ d).dtype is tinytorch.float64  # float64 is never autocast


def test_casts_are_differentiable_and_grads_come_back_in_the_parameter_dtype():
    x, w, b = _w(4, 3), _w(5, 3, seed=1), _w(5, seed=2)
    with tinytorch.autocast("cpu"):
        loss = F.cross_entropy(F.linear(x, w, b), tinytorch.tensor([0, 1, 2, 3]))
    assert loss.dtype is f32
    loss.backward()
    for p in (x, w, b):
        assert p.grad is not None and p.grad.dtype is f32 and p.grad.shape == p.shape


def test_cpu_numerics_match_torch_autocast():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    xa, wa, ba = (rng.standard_normal(s).astype(np.float32) for s in ((8, 64), (32, 64), (32,)))
    x, w, b = (tinytorch.tensor(a, requires_grad=True) for a in (xa, wa, ba))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (xa, wa, ba))
    with tinytorch.autocast("cpu"):
        y = F.linear(x, w, b)
        s = y.float().sum()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ty = torch.nn.functional.linear(tx, tw, tb)
        ts = ty.float().sum()
    # bfloat16 inputs, float32 accumulation, one rounding: equal to torch's up to a last-bit tie
    np.testing.assert_allclose(y.detach().float().numpy(), ty.float().detach().numpy(), rtol=8e-3, atol=1e-2)
    s.backward()
    ts.backward()
    for a, t in ((x, tx), (w, tw), (b, tb)):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-2, atol=1e-2)


def test_low_precision_sum_accumulates_in_float32():
    x = tinytorch.ones(100000).to(bf16)
    assert x.sum().item() == pytest.approx(1e5, rel=4e-3) and x.mean().item() == 1.0


def test_weight_cache_reuses_one_cast_per_region_and_notices_updates():
    w = _w(3, 3)
    casts = []
    real = autocast_mode._to

    def counting(t, npd):
        out = real(t, npd)
        if out is not t:
            casts.append(npd)
        return out

    autocast_mode._to = counting
    try:
        with tinytorch.autocast("cpu"):
            a = w @ w
            n = len(casts)
            b = w @ w
            assert len(casts) == n + 1  # only the output's rounding: w's cast came from the cache
            with tinytorch.no_grad():
                w.add_(1.0)  # a new version: the cached cast is stale
            c = w @ w
            assert len(casts) == n + 4  # w cast again (to bfloat16 and back to float32), then the output
        assert not autocast_mode._local.cache  # cleared on leaving the region
        with tinytorch.autocast("cpu", cache_enabled=False):
            before = len(casts)
            w @ w
            w @ w
            assert len(casts) - before == 10  # both operands cast each time
    finally:
        autocast_mode._to = real
    assert tinytorch.allclose(c.float(), ((w.detach()) @ (w.detach())), rtol=3e-2, atol=3e-2)
    (a.float().sum() + b.float().sum()).backward()
    assert w.grad is not None and w.grad.dtype is f32


def test_autocast_off_costs_one_check(monkeypatch):
    def boom(*a):
        raise AssertionError("dispatch called outside an autocast region")

    monkeypatch.setattr(autocast_mode, "dispatch", boom)
    from tinytorch.autograd import function

    monkeypatch.setattr(function._autocast, "dispatch", boom)
    _ = (_w(2, 2) @ _w(2, 2)).sum()


def test_binary_cross_entropy_refused_under_cuda_autocast(monkeypatch):
    p = tinytorch.tensor([0.2, 0.7], requires_grad=True)
    t = tinytorch.tensor([0.0, 1.0])
    with tinytorch.autocast("cpu"):
        assert F.binary_cross_entropy(p, t).dtype is f32  # the CPU list casts it to float32
    # no GPU here: pretend the tensors live on CUDA and CUDA autocast is on
    monkeypatch.setattr(autocast_mode, "_device_type", lambda args, kwargs: "cuda")
    tinytorch.set_autocast_enabled("cuda", True)
    try:
        with pytest.raises(RuntimeError, match="unsafe to autocast"):
            F.binary_cross_entropy(p, t)
        assert F.binary_cross_entropy_with_logits(p, t).dtype is f32
        assert tinytorch.softmax(p, 0).dtype is f32  # CUDA's float32 list
    finally:
        tinytorch.set_autocast_enabled("cuda", False)


# ---- custom autograd Functions --------------------------------------------------------------------------
class _MyMM(tinytorch.autograd.Function):
    @staticmethod
    @tinytorch.amp.custom_fwd(device_type="cpu", cast_inputs=tinytorch.float32)
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.dtypes = (a.dtype, b.dtype, tinytorch.is_autocast_enabled("cpu"))
        return a @ b

    @staticmethod
    @tinytorch.amp.custom_bwd(device_type="cpu")
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ctx.bwd_autocast = tinytorch.is_autocast_enabled("cpu")
        return grad @ b.T, a.T @ grad


class _Plain(tinytorch.autograd.Function):
    @staticmethod
    @tinytorch.amp.custom_fwd(device_type="cpu")
    def forward(ctx, a):
        return a @ a

    @staticmethod
    @tinytorch.amp.custom_bwd(device_type="cpu")
    def backward(ctx, grad):
        ctx.bwd_autocast = tinytorch.is_autocast_enabled("cpu")
        return grad


def test_custom_fwd_casts_inputs_and_runs_without_autocast():
    a, b = _w(2, 3), _w(3, 2, seed=1)
    with tinytorch.autocast("cpu"):
        y = _MyMM.apply(a.to(bf16), b)
    assert y.dtype is f32 and y.grad_fn.dtypes == (f32, f32, False)
    y.sum().backward()
    assert not y.grad_fn.bwd_autocast and a.grad.dtype is f32
    with tinytorch.autocast("cpu"):
        z = _Plain.apply(_w(2, 2))
    assert z.dtype is bf16  # no cast_inputs: the inner matmul autocasts
    z.float().sum().backward()  # backward outside the region runs under forward's state
    assert z.grad_fn.bwd_autocast
    with pytest.raises(ValueError, match="device_type"):
        tinytorch.amp.custom_fwd(device_type=1)


def test_cuda_lists_drive_the_same_dispatch(monkeypatch):
    """No GPU here: pretend the tensors are CUDA tensors to check that the CUDA lists (not the CPU ones) apply.
    The full CUDA float16 table runs through the CuPy stand-in elsewhere."""
    monkeypatch.setattr(autocast_mode, "_device_type", lambda args, kwargs: "cuda")
    x, w = _w(4, 3), _w(5, 3, seed=1)
    h = x.to(f16)
    tinytorch.set_autocast_enabled("cuda", True)
    try:
        assert F.linear(x, w).dtype is f16  # lower: float16 by default on CUDA
        for y in (tinytorch.softmax(h, -1), F.layer_norm(h, (3,)), h.exp(), h.sum(), h.pow(2), h.log_softmax(0),
                  F.mse_loss(h, h.detach())):
            assert y.dtype is f32, y.grad_fn  # CUDA's float32 list
        assert tinytorch.cat([h, h]).dtype is f16  # cat is not on CUDA's promote list: natively promoted
        assert (h + 1).dtype is f16
    finally:
        tinytorch.set_autocast_enabled("cuda", False)


_NUMERIC_CASES = {
    "conv2d": (lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1), (2, 3, 8, 8), (4, 3, 3, 3)),
    "bmm": (lambda lib, x, w: lib.bmm(x, w), (3, 16, 32), (3, 32, 8)),
    "sdpa": (lambda lib, x, w: lib.nn.functional.scaled_dot_product_attention(x, w, w, is_causal=True),
             (2, 4, 8, 16), (2, 4, 8, 16)),
    "linear_softmax": (lambda lib, x, w: lib.softmax(lib.nn.functional.linear(x, w), -1), (4, 32), (16, 32)),
}


@pytest.mark.parametrize("case", list(_NUMERIC_CASES))
def test_cpu_autocast_values_and_grads_match_torch(case):
    torch = pytest.importorskip("torch")
    fn, xs, ws = _NUMERIC_CASES[case]
    rng = np.random.default_rng(3)
    xa, wa = rng.standard_normal(xs).astype(np.float32), rng.standard_normal(ws).astype(np.float32)
    x, w = tinytorch.tensor(xa, requires_grad=True), tinytorch.tensor(wa, requires_grad=True)
    tx, tw = torch.tensor(xa, requires_grad=True), torch.tensor(wa, requires_grad=True)
    with tinytorch.autocast("cpu"):
        y = fn(tinytorch, x, w)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ty = fn(torch, tx, tw)
    assert str(y.dtype).split(".")[-1] == str(ty.dtype).split(".")[-1]
    scale = float(np.abs(ty.float().detach().numpy()).max())
    np.testing.assert_allclose(y.detach().float().numpy(), ty.float().detach().numpy(), rtol=2e-2, atol=2e-2 * scale)
    g = rng.standard_normal(tuple(y.shape)).astype(np.float32)
    y.float().backward(tinytorch.tensor(g))
    ty.float().backward(torch.tensor(g))
    for a, t in ((x, tx), (w, tw)):
        ref = t.grad.numpy()
        assert a.grad.dtype is f32
        np.testing.assert_allclose(a.grad.numpy(), ref, rtol=3e-2, atol=3e-2 * float(np.abs(ref).max()))
