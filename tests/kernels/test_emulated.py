"""Every fused kernel, run by the g++ CUDA emulation through its real launcher, against the NumPy reference.

Shapes are small and ragged (not multiples of the 32x32 tiles, the 16-step or a warp) so edge
handling is exercised; the launchers' exact scalar types are checked by the emulation runtime.
"""
from __future__ import annotations

import numpy as np
import pytest

from tinytorch._arrays.kernels import launchers
from tests.kernels import reference as ref

TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}
DTYPES = [np.float32, np.float64]

# (x shape, w shape, stride, padding, dilation, groups)
CONV_CASES = [
    ((1, 1, 5, 5), (1, 1, 3, 3), 1, 0, 1, 1),
    ((2, 3, 7, 6), (5, 3, 3, 2), 1, 1, 1, 1),
    ((2, 4, 9, 8), (6, 2, 3, 3), (2, 1), (1, 2), (1, 2), 2),
    ((1, 6, 6, 7), (6, 1, 3, 3), 2, 1, 1, 6),          # depthwise
    ((3, 2, 5, 5), (35, 2, 1, 1), 1, 0, 1, 1),         # K > one 32-channel tile, 1x1
    ((1, 18, 5, 4), (4, 18, 2, 2), 1, 0, 2, 1),        # Q = 72 > several 16-steps and > a 32 tile
    ((2, 2, 11, 10), (4, 1, 3, 3), 3, 2, 2, 2),
]


def _conv_inputs(rng, dtype, xs, ws):
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype)
    return x, w, b


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_forward(emu, rng, dtype, case):
    xs, ws, stride, padding, dilation, groups = case
    x, w, b = _conv_inputs(rng, dtype, xs, ws)
    y = launchers.conv2d_forward(emu, x, w, b, stride, padding, dilation, groups)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, ref.conv2d_forward(x, w, b, stride, padding, dilation, groups), **TOL[dtype])
    y0 = launchers.conv2d_forward(emu, x, w, None, stride, padding, dilation, groups)
    np.testing.assert_allclose(y0, ref.conv2d_forward(x, w, None, stride, padding, dilation, groups), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("relu", [False, True])
def test_conv2d_backward(emu, rng, dtype, case, relu):
    xs, ws, stride, padding, dilation, groups = case
    x, w, b = _conv_inputs(rng, dtype, xs, ws)
    y = ref.conv2d_forward(x, w, b, stride, padding, dilation, groups)
    dy = rng.standard_normal(y.shape).astype(dtype)
    relu_out = np.maximum(y, 0).astype(dtype) if relu else None
    gx, gw, gb = launchers.conv2d_backward(emu, x, w, dy, stride, padding, dilation, groups, True, True, True,
                                           relu_out=relu_out)
    rx, rw, rb = ref.conv2d_backward(x, w, dy, stride, padding, dilation, groups, relu_out=relu_out)
    for got, want in ((gx, rx), (gw, rw), (gb, rb)):
        assert got.dtype == dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, **TOL[dtype])


def test_conv2d_backward_only_what_is_needed(emu, rng):
    x, w, _ = _conv_inputs(rng, np.float64, (2, 3, 6, 5), (4, 3, 3, 3))
    dy = rng.standard_normal((2, 4, 4, 3))
    gx, gw, gb = launchers.conv2d_backward(emu, x, w, dy, 1, 0, 1, 1, False, False, True)
    assert gx is None and gw is None
    np.testing.assert_allclose(gb, dy.sum(axis=(0, 2, 3)), rtol=1e-12)
    gx, gw, gb = launchers.conv2d_backward(emu, x, w, dy, 1, 0, 1, 1, True, False, False)
    assert gw is None and gb is None and gx.shape == x.shape


def test_conv2d_grad_weight_is_split_and_deterministic(emu, rng):
    """A large N*OH*OW is split into several parts, and two runs agree bit for bit."""
    x, w, _ = _conv_inputs(rng, np.float32, (4, 2, 20, 20), (3, 2, 3, 3))
    dy = rng.standard_normal((4, 3, 18, 18)).astype(np.float32)
    emu.launches.clear()
    _, gw1, gb1 = launchers.conv2d_backward(emu, x, w, dy, 1, 0, 1, 1, False, True, True)
    grid_z = [g for name, g, _ in emu.launches if name.startswith("conv2d_grad_weight")][0][2]
    assert grid_z > 1, "the reduction over pixels should be split into parts"
    _, gw2, gb2 = launchers.conv2d_backward(emu, x, w, dy, 1, 0, 1, 1, False, True, True)
    assert np.array_equal(gw1, gw2) and np.array_equal(gb1, gb2)
    _, rw, rb = ref.conv2d_backward(x, w, dy)
    np.testing.assert_allclose(gw1, rw, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(gb1, rb, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", DTYPES + [np.float16])
@pytest.mark.parametrize("activation", [None, "relu", "gelu", "gelu_tanh"])
@pytest.mark.parametrize("shape", [(1, 1), (37, 45), (3, 5, 130), (300, 3)])
def test_linear_act_backward(emu, rng, dtype, activation, shape):
    g = rng.standard_normal(shape).astype(dtype)
    z = rng.standard_normal(shape).astype(dtype)
    dz, db = launchers.linear_act_backward(emu, g, z, activation, True)
    rz, rb = ref.linear_act_backward(g.astype(np.float64), z.astype(np.float64), activation)
    tol = dict(rtol=2e-3, atol=2e-3 * max(1, shape[0])) if dtype == np.float16 else TOL[dtype]
    assert dz.dtype == dtype and db.dtype == dtype and db.shape == (shape[-1],)
    np.testing.assert_allclose(dz.astype(np.float64), rz, **(dict(rtol=2e-3, atol=2e-3) if dtype == np.float16
                                                             else TOL[dtype]))
    np.testing.assert_allclose(db.astype(np.float64), rb, **tol)
    dz2, db2 = launchers.linear_act_backward(emu, g, z, activation, False)
    assert db2 is None and np.array_equal(dz2, dz)


@pytest.mark.parametrize("dtype", DTYPES + [np.float16])
@pytest.mark.parametrize("shape", [(1, 1), (5, 70), (3, 300), (40, 9)])
def test_softmax_cross_entropy(emu, rng, dtype, shape):
    n, c = shape
    logits = (3 * rng.standard_normal(shape)).astype(dtype)
    target = rng.integers(0, c, size=n).astype(np.int64)
    target[::3] = -100
    loss, grad = launchers.softmax_cross_entropy(emu, logits, target, -100, True)
    rl, rg = ref.softmax_cross_entropy(logits.astype(np.float64), target, -100)
    tol = dict(rtol=5e-3, atol=5e-3) if dtype == np.float16 else TOL[dtype]
    np.testing.assert_allclose(loss.astype(np.float64), rl, **tol)
    np.testing.assert_allclose(grad.astype(np.float64), rg, **tol)
    loss2, grad2 = launchers.softmax_cross_entropy(emu, logits, target, -100, False)
    assert grad2 is None and np.array_equal(loss2, loss)


def test_softmax_cross_entropy_is_stable_and_flags_bad_targets(emu):
    logits = np.array([[1000.0, 0.0, -1000.0], [0.0, 1.0, 2.0]], dtype=np.float32)
    loss, grad = launchers.softmax_cross_entropy(emu, logits, np.array([1, 7]), -100, True)
    assert loss[0] == pytest.approx(1000.0) and np.isfinite(grad[0]).all()
    assert np.isnan(loss[1])  # out-of-range target that is not ignore_index


class _State(dict):
    """Optimizer state as tinytorch keeps it: entries are objects holding ``_data``."""


class _Box:
    def __init__(self, a):
        self._data = a


def _params(rng, dtype, sizes):
    ps = [rng.standard_normal(s).astype(dtype) for s in sizes]
    gs = [rng.standard_normal(s).astype(dtype) for s in sizes]
    return ps, gs


SIZES = [(3,), (5, 7), (4100,), (2, 3, 2)]  # one tensor spans two 4096-element chunks


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opts", [
    dict(momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False),
    dict(momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=False, maximize=True),
    dict(momentum=0.8, dampening=0.0, weight_decay=0.1, nesterov=True, maximize=False),
    dict(momentum=0.0, dampening=0.0, weight_decay=0.1, nesterov=False, maximize=False),
])
def test_fused_sgd(emu, rng, dtype, opts):
    ps, gs = _params(rng, dtype, SIZES)
    bufs = [rng.standard_normal(p.shape).astype(dtype) for p in ps]
    states = [_State(momentum_buffer=_Box(b.copy())) if opts["momentum"] else _State() for b in bufs]
    hyper = dict(lr=0.05, **opts)
    want = [ref.sgd_step(p, g, b, **hyper) for p, g, b in zip(ps, gs, bufs)]
    assert launchers.fused_optimizer_step(emu, "sgd", ps, gs, states, hyper) is True
    for p, s, (wp, wb) in zip(ps, states, want):
        np.testing.assert_allclose(p, wp, **TOL[dtype])
        if opts["momentum"]:
            np.testing.assert_allclose(s["momentum_buffer"]._data, wb, **TOL[dtype])


def test_fused_optimizer_leaves_mixed_groups_to_the_caller(emu, rng):
    ps, gs = _params(rng, np.float32, [(3,), (4,)])
    ps[1] = ps[1].astype(np.float64)
    with pytest.raises(launchers.Unsupported, match="param 1"):
        launchers.fused_optimizer_step(emu, "sgd", ps, gs, [_State(), _State()], dict(lr=0.1))
    strided = np.zeros((4, 4), np.float32)[:, ::2]
    with pytest.raises(launchers.Unsupported, match="contiguous=False"):
        launchers.fused_optimizer_step(emu, "sgd", [strided], [np.zeros((4, 2), np.float32)], [_State()],
                                       dict(lr=0.1))


def test_fused_sgd_first_momentum_step_is_left_to_the_caller(emu, rng):
    ps, gs = _params(rng, np.float32, [(3,)])
    before = ps[0].copy()
    with pytest.raises(launchers.Unsupported, match="momentum_buffer"):
        launchers.fused_optimizer_step(emu, "sgd", ps, gs, [_State()], dict(lr=0.1, momentum=0.9))
    assert np.array_equal(ps[0], before)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind,opts", [
    ("adam", dict(weight_decay=0.0, amsgrad=False, maximize=False)),
    ("adam", dict(weight_decay=0.1, amsgrad=True, maximize=True)),
    ("adamw", dict(weight_decay=0.01, amsgrad=False, maximize=False)),
    ("adamw", dict(weight_decay=0.05, amsgrad=True, maximize=False)),
])
def test_fused_adam(emu, rng, dtype, kind, opts):
    ps, gs = _params(rng, dtype, SIZES)
    hyper = dict(lr=1e-2, betas=(0.9, 0.99), eps=1e-8, **opts)
    states, want = [], []
    for i, (p, g) in enumerate(zip(ps, gs)):
        m = rng.standard_normal(p.shape).astype(dtype)
        v = rng.random(p.shape).astype(dtype)
        vmax = (v + rng.random(p.shape)).astype(dtype) * rng.integers(0, 2, p.shape)
        step = i + 1  # per-parameter step counts may differ
        st = _State(step=_Box(np.asarray(float(step - 1))), exp_avg=_Box(m.copy()), exp_avg_sq=_Box(v.copy()))
        if opts["amsgrad"]:
            st["max_exp_avg_sq"] = _Box(vmax.astype(dtype))
        states.append(st)
        want.append(ref.adam_step(p, g, m, v, vmax, step, hyper["lr"], hyper["betas"], hyper["eps"],
                                  opts["weight_decay"], opts["amsgrad"], opts["maximize"], kind == "adamw"))
    assert launchers.fused_optimizer_step(emu, kind, ps, gs, states, hyper) is True
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else TOL[dtype]
    for i, (p, st, (wp, wm, wv, wvmax)) in enumerate(zip(ps, states, want)):
        assert float(st["step"]._data) == i + 1
        np.testing.assert_allclose(p, wp, **tol)
        np.testing.assert_allclose(st["exp_avg"]._data, wm, **tol)
        np.testing.assert_allclose(st["exp_avg_sq"]._data, wv, **tol)
        if opts["amsgrad"]:
            np.testing.assert_allclose(st["max_exp_avg_sq"]._data, wvmax, **tol)


def test_launchers_validate(emu, rng):
    x, w, _ = _conv_inputs(rng, np.float32, (1, 2, 5, 5), (3, 2, 3, 3))
    with pytest.raises(ValueError, match=r"expected 4-D input \(N, C, H, W\), got shape \(2, 5, 5\)"):
        launchers.conv2d_forward(emu, x[0], w, None, 1, 0, 1, 1)
    with pytest.raises(TypeError, match="float32.*float64"):
        launchers.conv2d_forward(emu, x, w.astype(np.float64), None, 1, 0, 1, 1)
    with pytest.raises(ValueError, match="C-contiguous"):
        launchers.conv2d_forward(emu, x[:, :, :, ::-1], w, None, 1, 0, 1, 1)
    with pytest.raises(ValueError, match="do not match groups=2"):
        launchers.conv2d_forward(emu, x, w, None, 1, 0, 1, 2)
    with pytest.raises(ValueError, match="grad_output of shape"):
        launchers.conv2d_backward(emu, x, w, np.zeros((1, 3, 2, 2), np.float32), 1, 0, 1, 1, True, True, True)
    with pytest.raises(launchers.Unsupported):
        launchers.conv2d_forward(emu, x.astype(np.float16), w.astype(np.float16), None, 1, 0, 1, 1)
    with pytest.raises(launchers.Unsupported):
        launchers.conv2d_forward(emu, x, w, None, 1, "same", 1, 1)
    with pytest.raises(launchers.Unsupported):
        launchers.linear_act_backward(emu, x, x, "silu", True)


@pytest.mark.parametrize("make", [
    lambda optim, ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda optim, ps: optim.Adam(ps, lr=0.01, weight_decay=0.1, amsgrad=True),
    lambda optim, ps: optim.AdamW(ps, lr=0.01, maximize=True),
])
def test_fused_step_matches_tinytorch_optimizers(emu, rng, make):
    """The state layout the launcher reads is the one tinytorch.optim keeps: fused == per-parameter."""
    tt = pytest.importorskip("tinytorch")
    optim = pytest.importorskip("tinytorch.optim")
    init = [rng.standard_normal(s).astype(np.float32) for s in [(3, 4), (5,)]]
    ps_a = [tt.tensor(a.copy(), requires_grad=True) for a in init]
    ps_b = [tt.tensor(a.copy(), requires_grad=True) for a in init]
    opt_a, opt_b = make(optim, ps_a), make(optim, ps_b)
    for step in range(3):
        grads = [rng.standard_normal(a.shape).astype(np.float32) for a in init]
        for pa, pb, g in zip(ps_a, ps_b, grads):
            pa.grad, pb.grad = tt.tensor(g.copy()), tt.tensor(g.copy())
        opt_a.step()
        group = opt_b.param_groups[0]
        if step == 0:
            opt_b.step()  # creates the state (SGD's momentum buffers are born on the first step)
            continue
        hyper = {k: v for k, v in group.items() if k != "params"}
        assert launchers.fused_optimizer_step(emu, opt_b._fused_kind, [p._data for p in ps_b],
                                              [p.grad._data for p in ps_b], [opt_b.state[p] for p in ps_b], hyper)
    for pa, pb in zip(ps_a, ps_b):
        np.testing.assert_allclose(pb._data, pa._data, rtol=1e-5, atol=1e-6)
