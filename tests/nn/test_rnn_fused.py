"""The fused recurrent node (ops.rnn.recurrent_layer) against the step-by-step tensor-op path and PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
from tinytorch.ops import rnn as rnn_ops

MODES = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]


def _inputs(mode, rng, steps=5, batch=3, hidden=4, bias=True, dtype=tinytorch.float64):
    g = rnn_ops._GATES[mode] * hidden

    def t(*shape, scale=1.0):
        return tinytorch.tensor(rng.standard_normal(shape) * scale, dtype=dtype, requires_grad=True)

    return (t(steps, batch, g), t(batch, hidden), t(batch, hidden) if mode == "LSTM" else None,
            t(g, hidden, scale=0.5), t(g, scale=0.1) if bias else None)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_fused_layer_equals_composite(mode, reverse, bias):
    rng = np.random.default_rng(0)
    ins = _inputs(mode, rng, bias=bias)
    fused = rnn_ops.recurrent_layer(mode, *ins, reverse=reverse)
    plain = rnn_ops.composite_layer(mode, *ins, reverse=reverse)
    assert type(fused[0].grad_fn).__name__ == "RecurrentLayer"
    leaves = [t for t in ins if t is not None]
    gos = [tinytorch.tensor(rng.standard_normal(tuple(o.shape))) for o in fused]
    got = tinytorch.autograd.grad(fused, leaves, gos)
    want = tinytorch.autograd.grad(plain, leaves, gos)
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_fused_layer_float32_matches_float64(mode):
    rng = np.random.default_rng(1)
    ins64 = _inputs(mode, rng)
    ins32 = [None if t is None else t.detach().float().requires_grad_() for t in ins64]
    o64 = rnn_ops.recurrent_layer(mode, *ins64)
    o32 = rnn_ops.recurrent_layer(mode, *ins32)
    assert o32[0].dtype == tinytorch.float32
    sum(o.sum() for o in o64).backward()
    sum(o.sum() for o in o32).backward()
    for a, b in zip(ins32, ins64):
        if a is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_module_fused_equals_composite_and_torch(cls):
    torch = pytest.importorskip("torch")
    tinytorch.manual_seed(0)
    m = getattr(tinytorch.nn, cls)(5, 4, num_layers=2, bidirectional=True, batch_first=True).double()
    ref = getattr(torch.nn, cls)(5, 4, num_layers=2, bidirectional=True, batch_first=True).double()
    ref.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy()) for k, v in m.state_dict().items()})
    x_np = np.random.default_rng(2).standard_normal((3, 6, 5))
    x = tinytorch.tensor(x_np, requires_grad=True)
    xt = torch.tensor(x_np, requires_grad=True)
    out, _ = m(x)
    out_t, _ = ref(xt)
    np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    out.pow(2).sum().backward()
    out_t.pow(2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (name, p), (_, q) in zip(m.named_parameters(), ref.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_torch(cls):
    torch = pytest.importorskip("torch")
    tinytorch.manual_seed(0)
    m = getattr(tinytorch.nn, cls)(5, 4).double()
    ref = getattr(torch.nn, cls)(5, 4).double()
    ref.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy()) for k, v in m.state_dict().items()})
    x_np = np.random.default_rng(3).standard_normal((3, 5))
    h = m(tinytorch.tensor(x_np))
    ht = ref(torch.tensor(x_np))
    h, ht = (h[1], ht[1]) if cls == "LSTMCell" else (h, ht)
    np.testing.assert_allclose(h.detach().numpy(), ht.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert type(h.grad_fn).__name__ == "RecurrentLayer"


def test_create_graph_through_lstm_gives_second_derivatives():
    """Double backward through the fused node goes through the composite path and agrees with it."""
    rng = np.random.default_rng(4)
    ins = _inputs("LSTM", rng, steps=3, batch=2, hidden=3)
    gi = ins[0]

    def loss(fn):
        out, h, c = fn("LSTM", *ins)
        (g,) = tinytorch.autograd.grad((out ** 2).sum() + c.sum(), [gi], create_graph=True)
        return (g ** 2).sum()

    (a,) = tinytorch.autograd.grad(loss(rnn_ops.recurrent_layer), [ins[3]])
    (b,) = tinytorch.autograd.grad(loss(rnn_ops.composite_layer), [ins[3]])
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


def test_second_backward_without_retain_graph_raises():
    ins = _inputs("GRU", np.random.default_rng(5))
    out, h = rnn_ops.recurrent_layer("GRU", *ins)
    out.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.sum().backward()


def test_inplace_change_of_output_is_detected():
    ins = _inputs("RNN_TANH", np.random.default_rng(6))
    out, h = rnn_ops.recurrent_layer("RNN_TANH", *ins)
    y = out.sum()
    with tinytorch.no_grad():
        out.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_shape_and_dtype_errors_name_the_op():
    rng = np.random.default_rng(7)
    gi, h0, _, w, b = _inputs("GRU", rng)
    with pytest.raises(RuntimeError, match="recurrent_layer \\(GRU\\): shapes do not agree"):
        rnn_ops.recurrent_layer("GRU", gi[:, :, :5], h0, None, w, b)
    with pytest.raises(RuntimeError, match="same dtype"):
        rnn_ops.recurrent_layer("GRU", gi, h0.float(), None, w, b)
    with pytest.raises(RuntimeError, match="c0 must be given"):
        lg, lh, _, lw, lb = _inputs("LSTM", rng)
        rnn_ops.recurrent_layer("LSTM", lg, lh, None, lw, lb)
    with pytest.raises(ValueError, match="mode must be one of"):
        rnn_ops.recurrent_layer("LSTMX", gi, h0, None, w, b)


def test_cell_functions_check_both_weights_and_name_the_cell():
    x, h = tinytorch.ones(2, 3), tinytorch.ones(2, 4)
    with pytest.raises(RuntimeError, match=r"gru_cell: w_hh of shape \(9, 4\) does not fit hx \(2, 4\)"):
        tinytorch.gru_cell(x, h, tinytorch.ones(12, 3), tinytorch.ones(9, 4))
    with pytest.raises(RuntimeError, match=r"lstm_cell: w_ih of shape \(12, 3\)"):
        tinytorch.lstm_cell(x, (h, h), tinytorch.ones(12, 3), tinytorch.ones(16, 4))
