"""The dispatch functions on a real GPU (CuPy): kernels against the NumPy references and a plain
CuPy computation, determinism of the split weight-gradient reduction, and the env switch.
Marked ``gpu``: skipped with the reason where CUDA is unavailable."""
from __future__ import annotations

import numpy as np
import pytest

from tinytorch import _arrays
from tinytorch._arrays import kernels
from tests.kernels import reference as ref

pytestmark = pytest.mark.gpu


@pytest.fixture(autouse=True)
def _kernels_forced_on(monkeypatch):
    # unmeasured kernels are off by default ("auto"); these tests exercise them explicitly, and "strict"
    # makes a failing launch raise here instead of falling back to the plain path
    monkeypatch.setenv("TINYTORCH_CUDA_KERNELS", "strict")


@pytest.fixture
def cp():
    return _arrays.cupy_module()


def _tol(dtype):
    return dict(rtol=2e-4, atol=2e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", [
    ((2, 3, 7, 6), (5, 3, 3, 2), 1, 1, 1, 1),
    ((2, 4, 9, 8), (6, 2, 3, 3), (2, 1), (1, 2), (1, 2), 2),
    ((8, 16, 20, 20), (40, 16, 3, 3), 1, 1, 1, 1),
])
def test_conv2d(cp, rng, dtype, case):
    xs, ws, stride, padding, dilation, groups = case
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in (xs, ws, ws[0]))
    y = kernels.conv2d_forward(cp.asarray(x), cp.asarray(w), cp.asarray(b), stride, padding, dilation, groups)
    want = ref.conv2d_forward(x, w, b, stride, padding, dilation, groups)
    np.testing.assert_allclose(cp.asnumpy(y), want, **_tol(dtype))
    dy = rng.standard_normal(want.shape).astype(dtype)
    relu_out = np.maximum(want, 0).astype(dtype)
    got = kernels.conv2d_backward(cp.asarray(x), cp.asarray(w), cp.asarray(dy), stride, padding, dilation, groups,
                                  True, True, True, relu_out=cp.asarray(relu_out))
    for g, r in zip(got, ref.conv2d_backward(x, w, dy, stride, padding, dilation, groups, relu_out=relu_out)):
        np.testing.assert_allclose(cp.asnumpy(g), r, **_tol(dtype))


def test_conv2d_grad_weight_is_bit_identical_between_runs(cp, rng):
    x = cp.asarray(rng.standard_normal((16, 8, 32, 32)).astype(np.float32))
    w = cp.asarray(rng.standard_normal((16, 8, 3, 3)).astype(np.float32))
    dy = cp.asarray(rng.standard_normal((16, 16, 32, 32)).astype(np.float32))
    runs = [kernels.conv2d_backward(x, w, dy, 1, 1, 1, 1, False, True, True) for _ in range(3)]
    for _, gw, gb in runs[1:]:
        assert bool((gw == runs[0][1]).all()) and bool((gb == runs[0][2]).all())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["relu", "gelu", "gelu_tanh"])
def test_linear_act_backward(cp, rng, dtype, activation):
    g = rng.standard_normal((300, 70)).astype(dtype)
    z = rng.standard_normal((300, 70)).astype(dtype)
    dz, db = kernels.linear_act_backward(cp.asarray(g), cp.asarray(z), activation, True)
    rz, rb = ref.linear_act_backward(g, z, activation)
    np.testing.assert_allclose(cp.asnumpy(dz), rz, **_tol(dtype))
    np.testing.assert_allclose(cp.asnumpy(db), rb, **_tol(dtype))
    if activation == "relu":  # the plain CuPy path
        plain = cp.asarray(g) * (cp.asarray(z) > 0)
        np.testing.assert_allclose(cp.asnumpy(dz), cp.asnumpy(plain), **_tol(dtype))
        np.testing.assert_allclose(cp.asnumpy(db), cp.asnumpy(plain.sum(axis=0)), **_tol(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_softmax_cross_entropy(cp, rng, dtype):
    x = (3 * rng.standard_normal((33, 1000))).astype(dtype)
    t = rng.integers(0, 1000, 33)
    t[::4] = -100
    loss, grad = kernels.softmax_cross_entropy(cp.asarray(x), cp.asarray(t), -100, True)
    rl, rg = ref.softmax_cross_entropy(x.astype(np.float64), t, -100)
    tol = dict(rtol=5e-3, atol=5e-3) if dtype == np.float16 else _tol(dtype)
    np.testing.assert_allclose(cp.asnumpy(loss).astype(np.float64), rl, **tol)
    np.testing.assert_allclose(cp.asnumpy(grad).astype(np.float64), rg, **tol)


def test_fused_adam_matches_reference(cp, rng):
    p = rng.standard_normal(10000).astype(np.float32)
    g = rng.standard_normal(10000).astype(np.float32)
    cp_p = cp.asarray(p)

    class Box:
        def __init__(self, a):
            self._data = a

    state = {"step": Box(np.asarray(0.0)), "exp_avg": Box(cp.zeros(10000, np.float32)),
             "exp_avg_sq": Box(cp.zeros(10000, np.float32))}
    hyper = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=False, maximize=False)
    assert kernels.fused_optimizer_step("adamw", [cp_p], [cp.asarray(g)], [state], hyper) is True
    wp, *_ = ref.adam_step(p, g, np.zeros(10000), np.zeros(10000), None, 1, 1e-3, (0.9, 0.999), 1e-8, 0.01,
                           decoupled=True)
    np.testing.assert_allclose(cp.asnumpy(cp_p), wp, rtol=1e-5, atol=1e-6)


def test_disabled_by_environment(cp, monkeypatch):
    monkeypatch.setenv("TINYTORCH_CUDA_KERNELS", "0")
    x = cp.ones((1, 1, 4, 4), dtype=cp.float32)
    assert kernels.conv2d_forward(x, cp.ones((1, 1, 2, 2), dtype=cp.float32), None, 1, 0, 1, 1) is None
