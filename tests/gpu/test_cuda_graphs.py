"""CUDA graphs (issue #18, CUDA part): ``tinytorch.cuda.CUDAGraph``, ``graph``, ``make_graphed_callables``.

Marked ``gpu``: without a GPU they run on the strict CuPy stand-in (tests/cupy_standin), whose streams
record the launches a capture makes and whose graphs replay them, under CUDA's capture rules (host syncs
and default-stream work fail, nothing captured runs before the first replay). On a GPU they run on CuPy.
"""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch import _arrays
from tinytorch._arrays import _cuda

pytestmark = [pytest.mark.gpu, pytest.mark.usefixtures("no_capture_left")]


def _np(t):
    return t.detach().cpu().numpy()


def _mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3)).to("cuda")


def _rand(*shape, seed=0):
    return torch.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=torch.float32, device="cuda")


def _warm_up(fn, n=2):
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(n):
            fn()
    torch.cuda.current_stream().wait_stream(s)


# ---- forward capture ---------------------------------------------------------------------------------
def test_mlp_forward_replays_with_new_static_inputs():
    model = _mlp()
    static_x = _rand(5, 6)
    with torch.no_grad():
        _warm_up(lambda: model(static_x))
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            static_y = model(static_x)
        for seed in range(1, 4):
            x = _rand(5, 6, seed=seed)
            static_x.copy_(x)
            g.replay()
            np.testing.assert_allclose(_np(static_y), _np(model(x)), rtol=1e-6, atol=1e-6)


def test_nothing_runs_until_replay(_cupy_standin):
    if _cupy_standin is None:
        pytest.skip("on a GPU the values of unreplayed graph outputs are undefined, not checkable")
    x = _rand(4, 3)
    before = _np(x)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        x.mul_(2.0)  # an in-place update of a buffer that existed before the capture
        y = x + 1.0
    np.testing.assert_array_equal(_np(x), before)  # the capture did not run it
    assert np.isnan(_np(y)).all()  # a buffer made during the capture holds garbage until a replay
    g.replay()
    np.testing.assert_allclose(_np(x), before * 2, rtol=1e-6)
    np.testing.assert_allclose(_np(y), before * 2 + 1, rtol=1e-6)
    g.replay()  # the captured in-place update applies once per replay
    np.testing.assert_allclose(_np(x), before * 4, rtol=1e-6)


def test_capture_then_eager_scalar_operand_is_not_poisoned():
    # scalar operands are cached device arrays; one first made inside a capture is filled only by replays
    x = _rand(3)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        y = x * 1.2345678
    z = _rand(3, seed=5)
    np.testing.assert_allclose(_np(z * 1.2345678), _np(z) * np.float32(1.2345678), rtol=1e-6)
    g.replay()
    np.testing.assert_allclose(_np(y), _np(x) * np.float32(1.2345678), rtol=1e-6)


def test_replay_on_default_stream_and_is_current_stream_capturing():
    x = _rand(3)
    seen = []
    g = torch.cuda.CUDAGraph()
    assert not torch.cuda.is_current_stream_capturing()
    with torch.cuda.graph(g):
        seen.append(torch.cuda.is_current_stream_capturing())
        y = x.exp()
    assert seen == [True] and not torch.cuda.is_current_stream_capturing()
    g.replay()  # on the default stream
    np.testing.assert_allclose(_np(y), np.exp(_np(x)), rtol=1e-6)


def test_graphs_share_a_pool_and_reset():
    x = _rand(4)
    g1, g2 = torch.cuda.CUDAGraph(), torch.cuda.CUDAGraph()
    with torch.cuda.graph(g1):
        y = x * 3.0
    with torch.cuda.graph(g2, pool=g1.pool()):
        z = y + 1.0
    assert g2.pool() is g1.pool()
    g1.replay()
    g2.replay()
    np.testing.assert_allclose(_np(z), _np(x) * 3 + 1, rtol=1e-6)
    handle = torch.cuda.graph_pool_handle()
    g3 = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g3, pool=handle):
        w = x - 1.0
    assert g3.pool() is handle
    g3.replay()
    np.testing.assert_allclose(_np(w), _np(x) - 1, rtol=1e-6)
    g3.reset()
    with pytest.raises(RuntimeError, match="no captured graph"):
        g3.replay()


def test_capture_allocates_from_the_graph_pool_not_the_default_one(_cupy_standin):
    if _cupy_standin is None:
        pytest.skip("pool internals of the stand-in")
    x = _rand(64, 64)
    default = _cupy_standin.get_default_memory_pool()
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        used_before = default.used_bytes()
        y = (x @ x).relu() + 1.0
        assert default.used_bytes() == used_before  # the default pool gave nothing to the capture
    assert g.pool().pool.used_bytes() >= 64 * 64 * 4  # y (at least) lives in the graph's pool
    g.replay()
    np.testing.assert_allclose(_np(y), np.maximum(_np(x) @ _np(x), 0) + 1, rtol=1e-5, atol=1e-5)


# ---- whole training step ------------------------------------------------------------------------------
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_whole_training_step_capture_equals_eager_steps(momentum):
    """torch's "whole network capture" recipe: warm up, capture forward + backward + step, replay per batch."""
    model, ref = _mlp(), _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=momentum)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.05, momentum=momentum)
    static_x, static_t = _rand(8, 6), torch.tensor(np.arange(8) % 3, device="cuda")

    def step(m, o, x, t):
        o.zero_grad(set_to_none=True)
        loss = F.cross_entropy(m(x), t)
        loss.backward()
        o.step()
        return loss

    _warm_up(lambda: step(model, opt, static_x, static_t), n=3)
    for _ in range(3):
        step(ref, ref_opt, static_x, static_t)
    opt.zero_grad(set_to_none=True)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        static_loss = F.cross_entropy(model(static_x), static_t)
        static_loss.backward()
        opt.step()
    rng = np.random.default_rng(7)
    for i in range(4):
        x = _rand(8, 6, seed=10 + i)
        t = torch.tensor(rng.integers(0, 3, 8), device="cuda")
        static_x.copy_(x)
        static_t.copy_(t)
        g.replay()
        ref_loss = step(ref, ref_opt, x, t)
        np.testing.assert_allclose(_np(static_loss), _np(ref_loss), rtol=1e-5, atol=1e-6)
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(_np(p), _np(q), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(_np(p.grad), _np(q.grad), rtol=1e-5, atol=1e-6)


def test_device_checks_of_a_graph_are_reported_after_its_replays():
    logits = _rand(4, 3)
    static_t = torch.tensor([0, 1, 2, 1], device="cuda")
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        loss = F.cross_entropy(logits, static_t)
    g.replay()
    _np(loss)  # a valid target: the check passes at the sync
    static_t.copy_(torch.tensor([0, 1, 7, 1], device="cuda"))
    g.replay()
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        _np(loss)


# ---- make_graphed_callables ----------------------------------------------------------------------------
def test_make_graphed_callables_module_grads_equal_eager():
    model, ref = _mlp(), _mlp()
    x0 = _rand(5, 6).requires_grad_()
    graphed = torch.cuda.make_graphed_callables(model, (x0,))
    assert graphed is model
    for seed in (1, 2):
        x = _rand(5, 6, seed=seed).requires_grad_()
        xr = _rand(5, 6, seed=seed).requires_grad_()
        y, yr = graphed(x), ref(xr)
        np.testing.assert_allclose(_np(y), _np(yr), rtol=1e-5, atol=1e-6)
        w = _rand(5, 3, seed=seed + 20)
        (y * w).sum().backward()
        (yr * w).sum().backward()
        np.testing.assert_allclose(_np(x.grad), _np(xr.grad), rtol=1e-5, atol=1e-6)
    for p, q in zip(model.parameters(), ref.parameters()):  # accumulated over both calls, as eager
        np.testing.assert_allclose(_np(p.grad), _np(q.grad), rtol=1e-5, atol=1e-6)
    model.eval()  # another training mode than at capture: the eager forward runs
    ref.eval()
    np.testing.assert_allclose(_np(model(_rand(2, 6))), _np(ref(_rand(2, 6))), rtol=1e-6, atol=1e-6)


def test_make_graphed_callables_functions_tuple():
    w = _rand(3, 3).requires_grad_()

    def f(a):
        return (a @ w).sin()

    def h(a, b):
        return a * b + 1.0, (a - b).sum()

    a0, b0 = _rand(2, 3).requires_grad_(), _rand(2, 3, seed=3).requires_grad_()
    gf, gh = torch.cuda.make_graphed_callables((f, h), ((a0,), (a0, b0)), num_warmup_iters=1)
    a, b = _rand(2, 3, seed=4).requires_grad_(), _rand(2, 3, seed=5).requires_grad_()
    ar, br = _rand(2, 3, seed=4).requires_grad_(), _rand(2, 3, seed=5).requires_grad_()
    y1, y2 = gh(a, b)
    r1, r2 = h(ar, br)
    np.testing.assert_allclose(_np(y1), _np(r1), rtol=1e-6)
    np.testing.assert_allclose(_np(y2), _np(r2), rtol=1e-5)
    (y1.sum() * 2 + y2).backward()
    (r1.sum() * 2 + r2).backward()
    np.testing.assert_allclose(_np(a.grad), _np(ar.grad), rtol=1e-6)
    np.testing.assert_allclose(_np(b.grad), _np(br.grad), rtol=1e-6)
    z = gf(a)
    np.testing.assert_allclose(_np(z), _np(f(ar)), rtol=1e-5, atol=1e-6)
    w.grad = None
    z.sum().backward()
    assert w.grad is None  # f's closure weight is not a graphed input (as torch: only args and module params)
    assert a.grad is not None


def test_make_graphed_callables_validates():
    with pytest.raises(TypeError, match="must be a tuple"):
        torch.cuda.make_graphed_callables(lambda a: a, [_rand(2)])
    with pytest.raises(TypeError, match="all inputs must be tensors"):
        torch.cuda.make_graphed_callables(lambda a: a, (3.0,))
    with pytest.raises(RuntimeError, match="CUDA tensors only"):
        torch.cuda.make_graphed_callables(lambda a: a * 2, (torch.ones(2),))
    m = _mlp()
    m.register_forward_hook(lambda *a: None)
    with pytest.raises(RuntimeError, match="no hooks"):
        torch.cuda.make_graphed_callables(m, (_rand(2, 6),))
    g = torch.cuda.make_graphed_callables(lambda a: a * 2, (_rand(2, 3),), num_warmup_iters=0)
    with pytest.raises(RuntimeError, match="must match sample_args"):
        g(_rand(4, 3))


# ---- what breaks a capture -----------------------------------------------------------------------------
@pytest.mark.parametrize("sync", [
    lambda t: t.sum().item(),
    lambda t: t.cpu(),
    lambda t: t.tolist(),
    lambda t: torch.cuda.synchronize(),
], ids=["item", "cpu", "tolist", "synchronize"])
def test_host_sync_during_capture_raises_and_leaves_a_clean_state(sync):
    x = _rand(3)
    g = torch.cuda.CUDAGraph()
    # CUDA's text (the stand-in's); on a GPU the failing call may be a copy or a synchronize: both say so
    with pytest.raises(RuntimeError, match="captur"):
        with torch.cuda.graph(g):
            y = x * 2
            sync(y)
    assert not torch.cuda.is_current_stream_capturing() and not _cuda._state.get("capturing")
    np.testing.assert_allclose(_np(x * 2), _np(x) * 2)  # syncs work again after the failed capture
    g2 = torch.cuda.CUDAGraph()  # and so do new captures
    with torch.cuda.graph(g2):
        y = x + 1.0
    g2.replay()
    np.testing.assert_allclose(_np(y), _np(x) + 1, rtol=1e-6)


def test_capture_errors():
    with pytest.raises(RuntimeError, match="non-default stream"):
        torch.cuda.CUDAGraph().capture_begin()
    with pytest.raises(RuntimeError, match="Unknown capture error mode"):
        with torch.cuda.graph(torch.cuda.CUDAGraph(), capture_error_mode="loose"):
            pass
    with pytest.raises(TypeError, match="pool must come from"):
        with torch.cuda.graph(torch.cuda.CUDAGraph(), pool=3):
            pass
    g = torch.cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="no captured graph"):
        g.replay()
    with pytest.raises(RuntimeError, match="no capture is underway"):
        g.capture_end()
    with torch.cuda.graph(g, capture_error_mode="relaxed"):
        pass
    with pytest.raises(RuntimeError, match="already owns a captured graph"):
        with torch.cuda.graph(g):
            pass
    with pytest.raises(TypeError, match="expected a tinytorch.cuda.CUDAGraph"):
        torch.cuda.graph(object())
    with pytest.raises(RuntimeError, match="enable_debug_mode"):
        g.debug_dump("/nonexistent")


def test_debug_dump(tmp_path):
    g = torch.cuda.CUDAGraph()
    g.enable_debug_mode()
    x = _rand(2)
    with torch.cuda.graph(g):
        x.add_(1.0)
    g.replay()
    g.debug_dump(str(tmp_path / "g.txt"))
    assert "replays=1" in (tmp_path / "g.txt").read_text()


# ---- the stand-in's capture rules (what CuPy and CUDA do) ----------------------------------------------
def test_standin_stream_capture_rules(_cupy_standin):
    if _cupy_standin is None:
        pytest.skip("checks the stand-in itself")
    cp = _cupy_standin
    with pytest.raises(RuntimeError, match="default \\(legacy\\) stream"):
        cp.cuda.Stream.null.begin_capture()
    with pytest.raises(NotImplementedError):
        cp.cuda.graph.Graph()
    a = cp.arange(4, dtype=cp.float32)
    s = cp.cuda.Stream(non_blocking=True)
    with s:
        s.begin_capture()
        assert s.is_capturing() == cp.cuda.runtime.streamCaptureStatusActive
        b = a * 2
        a += 1
        graph = s.end_capture()
    assert not s.is_capturing()
    np.testing.assert_array_equal(a.get(), [0, 1, 2, 3])
    graph.launch()
    np.testing.assert_array_equal(b.get(), [0, 2, 4, 6])
    np.testing.assert_array_equal(a.get(), [1, 2, 3, 4])
    # a synchronous copy to the host invalidates the capture
    with s:
        s.begin_capture()
        with pytest.raises(cp.cuda.runtime.CUDARuntimeError, match="cudaErrorStreamCaptureUnsupported"):
            a.get()
        assert s.is_capturing() == cp.cuda.runtime.streamCaptureStatusInvalidated
        with pytest.raises(cp.cuda.runtime.CUDARuntimeError, match="cudaErrorStreamCaptureInvalidated"):
            s.end_capture()
    # a stream synchronize during the capture fails too
    with s:
        s.begin_capture()
        with pytest.raises(cp.cuda.runtime.CUDARuntimeError, match="Unsupported"):
            s.synchronize()
        with pytest.raises(cp.cuda.runtime.CUDARuntimeError, match="Invalidated"):
            s.end_capture()
    # a graph launched inside a capture becomes part of the new graph
    with s:
        s.begin_capture()
        graph.launch()
        outer = s.end_capture()
    np.testing.assert_array_equal(a.get(), [1, 2, 3, 4])
    outer.launch()
    np.testing.assert_array_equal(a.get(), [2, 3, 4, 5])
    # the legacy stream may not wait on a capturing blocking stream
    blocking = cp.cuda.Stream()
    blocking.begin_capture()
    with pytest.raises(cp.cuda.runtime.CUDARuntimeError, match="cudaErrorStreamCaptureImplicit"):
        a + 1
    with pytest.raises(cp.cuda.runtime.CUDARuntimeError, match="Invalidated"):
        blocking.end_capture()


def test_standin_pool_during_capture_follows_the_capture_mode(_cupy_standin):
    """cudaMalloc is allowed only in relaxed mode; a block cached in the capturing stream's arena always is."""
    if _cupy_standin is None:
        pytest.skip("checks the stand-in itself")
    cp = _cupy_standin
    rt = cp.cuda.runtime
    a = cp.ones(1000, dtype=cp.float32)
    s = cp.cuda.Stream(non_blocking=True)
    with s:
        s.begin_capture(mode=rt.streamCaptureModeGlobal)
        with pytest.raises(rt.CUDARuntimeError, match="StreamCaptureUnsupported"):
            a * 2  # the pool has no cached block on this stream: cudaMalloc
        with pytest.raises(rt.CUDARuntimeError, match="Invalidated"):
            s.end_capture()
        b = a * 2  # a warm-up on the capture stream caches a block of that size in its arena
        del b
        s.begin_capture(mode=rt.streamCaptureModeGlobal)
        c = a * 3
        graph = s.end_capture()
        s.begin_capture()  # relaxed (CuPy's default): the pool may grow
        d = a * 4
        graph2 = s.end_capture()
    graph.launch()
    graph2.launch()
    np.testing.assert_array_equal(c.get(), np.full(1000, 3.0))
    np.testing.assert_array_equal(d.get(), np.full(1000, 4.0))


# ---- without CUDA ---------------------------------------------------------------------------------------
@pytest.mark.skipif(_arrays.cuda_available(), reason="checks the behaviour without CUDA")
def test_without_cuda_graphs_raise_with_the_reason():
    saved = dict(_cuda._state)
    _cuda._state.update(tried=True, cupy=None, reason="no GPU in this test")
    try:
        with pytest.raises(RuntimeError, match="CUDA is not available: no GPU in this test"):
            torch.cuda.CUDAGraph()
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            torch.cuda.graph_pool_handle()
        assert torch.cuda.is_current_stream_capturing() is False
    finally:
        _cuda._state.clear()
        _cuda._state.update(saved)


def _lenet():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 3))


def _block():
    return nn.Sequential(nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True),
                         nn.Flatten(), nn.Linear(4 * 8, 3))


@pytest.mark.parametrize("build, shape", [(_lenet, (6, 1, 8, 8)), (_block, (6, 4, 8))], ids=["lenet", "encoder"])
def test_whole_step_capture_of_conv_and_transformer_models(build, shape):
    torch.manual_seed(3)
    model = build().to("cuda")
    torch.manual_seed(3)
    ref = build().to("cuda")
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    static_x, static_t = _rand(*shape), torch.tensor(np.arange(shape[0]) % 3, device="cuda")

    def step(m, o, x, t):
        o.zero_grad(set_to_none=True)
        loss = F.cross_entropy(m(x), t)
        loss.backward()
        o.step()
        return loss

    _warm_up(lambda: step(model, opt, static_x, static_t), n=2)
    for _ in range(2):
        step(ref, ref_opt, static_x, static_t)
    opt.zero_grad(set_to_none=True)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        static_loss = F.cross_entropy(model(static_x), static_t)
        static_loss.backward()
        opt.step()
    for i in range(3):
        x = _rand(*shape, seed=30 + i)
        static_x.copy_(x)
        g.replay()
        np.testing.assert_allclose(_np(static_loss), _np(step(ref, ref_opt, x, static_t)), rtol=1e-5, atol=1e-6)
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(_np(p), _np(q), rtol=1e-5, atol=1e-6)
