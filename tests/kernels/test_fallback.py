"""A fused kernel that fails to launch falls back to the plain path (ops and optimizers), counts no launch,
and leaves no optimizer ``step`` counter advanced; ``TINYTORCH_CUDA_KERNELS=strict`` lets the error through.

The dispatch layer is pointed at the g++ emulation runtime (NumPy arrays stand in for device arrays), so
the real wrappers, launchers and callers run on the CPU; a launcher or ``launch`` is patched to raise.
"""
from __future__ import annotations

import contextlib

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tinytorch._arrays import kernels
from tinytorch._arrays.kernels import launchers
from tests.kernels import reference as ref


class _OnDevice:
    """The emulation runtime with the CuPy runtime's ``device_of``."""

    def __init__(self, emu):
        self._emu = emu
        self.xp = np
        self.fail = None  # an exception to raise from launch()

    def launch(self, *args):
        if self.fail is not None:
            raise self.fail
        self._emu.launch(*args)

    def address(self, a):
        return self._emu.address(a)

    def asarray(self, a):
        return self._emu.asarray(a)

    def device_of(self, a):
        return contextlib.nullcontext()


@pytest.fixture
def rt(emu, monkeypatch):
    """Every kernel enabled and dispatched to the emulation, for NumPy arrays too."""
    runtime = _OnDevice(emu)
    monkeypatch.setenv("TINYTORCH_CUDA_KERNELS", "1")
    monkeypatch.setattr(kernels, "_runtime", lambda a, kernel: runtime)
    return runtime


def _conv_args(rng):
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    return x, w, b


def test_a_working_launch_is_counted(rt, rng):
    x, w, b = _conv_args(rng)
    before = kernels.launch_counts["conv2d_forward"]
    y = kernels.conv2d_forward(x, w, b, 1, 1, 1, 1)
    np.testing.assert_allclose(y, ref.conv2d_forward(x, w, b, 1, 1, 1, 1), rtol=1e-4, atol=1e-4)
    assert kernels.launch_counts["conv2d_forward"] == before + 1


@pytest.mark.parametrize("error", [RuntimeError("CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES"),
                                   TypeError("conv2d_forward: expected weight of dtype float32, got float64")])
def test_failed_launch_falls_back_with_a_warning(rt, rng, error):
    x, w, b = _conv_args(rng)
    rt.fail = error
    before = kernels.launch_counts["conv2d_forward"]
    with pytest.warns(RuntimeWarning, match=r"conv2d_forward failed.*" + type(error).__name__):
        assert kernels.conv2d_forward(x, w, b, 1, 1, 1, 1) is None
    assert kernels.launch_counts["conv2d_forward"] == before  # nothing ran: a benchmark row would see it


def test_unsupported_configuration_falls_back_silently(rt, rng, recwarn):
    x, w, b = _conv_args(rng)
    assert kernels.conv2d_forward(x.astype(np.float16), w.astype(np.float16), None, 1, 1, 1, 1) is None
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_strict_mode_raises(rt, rng, monkeypatch):
    monkeypatch.setenv("TINYTORCH_CUDA_KERNELS", "strict")
    assert kernels.enabled("conv2d_forward") and kernels.strict()
    rt.fail = RuntimeError("launch failed")
    with pytest.raises(RuntimeError, match="launch failed"):
        kernels.conv2d_forward(*_conv_args(rng), 1, 1, 1, 1)


def test_every_wrapper_falls_back(rt, rng, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("no kernel image is available for execution on the device")

    for name in ("conv2d_forward", "conv2d_backward", "linear_act_backward", "softmax_cross_entropy",
                 "fused_optimizer_step"):
        monkeypatch.setattr(launchers, name, boom)
    x, w, b = _conv_args(rng)
    dy = np.ones((2, 4, 7, 6), np.float32)
    g = np.ones((5, 3), np.float32)
    with pytest.warns(RuntimeWarning):
        assert kernels.conv2d_forward(x, w, b, 1, 1, 1, 1) is None
        assert kernels.conv2d_backward(x, w, dy, 1, 1, 1, 1, True, True, True) is None
        assert kernels.linear_act_backward(g, g, "relu", True) is None
        assert kernels.softmax_cross_entropy(g, np.zeros(5, np.int64), -100, True) is None
        assert kernels.fused_optimizer_step("sgd", [g], [g], [{}], {"lr": 0.1}) is False


def test_conv_op_falls_back_to_the_plain_path(rt, rng):
    x, w, b = (tinytorch.tensor(a, requires_grad=True) for a in _conv_args(rng))
    want = F.conv2d(x, w, b, padding=1)  # through the (emulated) kernel
    want.sum().backward()
    want_grads = [t.grad.numpy().copy() for t in (x, w, b)]
    for t in (x, w, b):
        t.grad = None
    rt.fail = RuntimeError("CUDA_ERROR_LAUNCH_FAILED")
    with pytest.warns(RuntimeWarning, match="conv2d"):
        got = F.conv2d(x, w, b, padding=1)
        got.sum().backward()
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-4, atol=1e-4)
    for t, g in zip((x, w, b), want_grads):
        np.testing.assert_allclose(t.grad.numpy(), g, rtol=1e-4, atol=1e-4)


def _train(make, steps, rng_seed=0):
    rng = np.random.default_rng(rng_seed)
    ps = [tinytorch.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True) for s in [(3, 4), (5,)]]
    opt = make(ps)
    for _ in range(steps):
        for p in ps:
            p.grad = tinytorch.tensor(rng.standard_normal(p.shape).astype(np.float32))
        opt.step()
    return ps, opt


@pytest.mark.parametrize("name,opts", [
    ("Adam", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, amsgrad=True)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
])
def test_failed_fused_optimizer_step_counts_each_step_once(rt, name, opts):
    cls = getattr(tinytorch.optim, name)
    ref_ps, ref_opt = _train(lambda ps: cls(ps, **opts), 3)
    before = kernels.launch_counts["fused_optimizer_step"]
    rt.fail = RuntimeError("CUDA_ERROR_LAUNCH_FAILED")
    with pytest.warns(RuntimeWarning, match="fused_optimizer_step"):
        ps, opt = _train(lambda ps: cls(ps, fused=True, **opts), 3)
    assert kernels.launch_counts["fused_optimizer_step"] == before
    for p, q in zip(ps, ref_ps):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-7)
        if "step" in opt.state[p]:
            assert float(opt.state[p]["step"]) == 3.0 == float(ref_opt.state[q]["step"])


def test_working_fused_optimizer_step_runs_the_kernel(rt):
    before = kernels.launch_counts["fused_optimizer_step"]
    ps, opt = _train(lambda ps: tinytorch.optim.Adam(ps, lr=0.01, fused=True), 3)
    ref_ps, _ = _train(lambda ps: tinytorch.optim.Adam(ps, lr=0.01), 3)
    assert kernels.launch_counts["fused_optimizer_step"] == before + 3
    for p, q in zip(ps, ref_ps):
        assert float(opt.state[p]["step"]) == 3.0
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_launcher_leaves_step_alone_when_the_launch_raises(emu):
    rt = _OnDevice(emu)
    rt.fail = RuntimeError("launch failed")
    p, g = np.ones(5, np.float32), np.ones(5, np.float32)
    state = {"step": np.asarray(4.0), "exp_avg": np.zeros(5, np.float32), "exp_avg_sq": np.zeros(5, np.float32)}
    with pytest.raises(RuntimeError):
        launchers.fused_optimizer_step(rt, "adam", [p], [g], [state], dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8))
    assert float(state["step"]) == 4.0
    rt.fail = None
    assert launchers.fused_optimizer_step(rt, "adam", [p], [g], [state], dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8))
    assert float(state["step"]) == 5.0


def test_optimizer_restores_step_when_a_launcher_fails_part_way(rt, monkeypatch):
    def half_done(rt_, kind, params, grads, states, hyper):
        for s in states:
            s["step"]._data += 1  # a buggy launcher that counted before failing
        raise RuntimeError("CUDA_ERROR_ILLEGAL_ADDRESS")

    monkeypatch.setattr(launchers, "fused_optimizer_step", half_done)
    with pytest.warns(RuntimeWarning):
        ps, opt = _train(lambda ps: tinytorch.optim.Adam(ps, lr=0.01, fused=True), 2)
    assert [float(opt.state[p]["step"]) for p in ps] == [2.0, 2.0]
