"""The op registry entries for tinytorch/ops/rnn.py: the fused recurrent layer and torch's cell functions."""
from __future__ import annotations

import numpy as np

from tinytorch.ops.rnn import _GATES, MODES, _step_order, gru_cell, lstm_cell, recurrent_layer, rnn_relu_cell, rnn_tanh_cell
from tests.opinfo.registry import Const, OpInfo, SampleInput, register

def _np_sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _np_layer(mode, gi, h0, c0, w, b=None, reverse=False):
    steps, n = gi.shape[0], h0.shape[-1]
    b = 0.0 if b is None else b
    h, c = h0, c0
    out = np.zeros((steps, *h0.shape))
    for t in _step_order(steps, reverse):
        gh = h @ w.T + b
        if mode == "GRU":
            r = _np_sigmoid(gi[t, :, :n] + gh[:, :n])
            z = _np_sigmoid(gi[t, :, n:2 * n] + gh[:, n:2 * n])
            cand = np.tanh(gi[t, :, 2 * n:] + r * gh[:, 2 * n:])
            h = (1 - z) * cand + z * h
        elif mode == "LSTM":
            a = gi[t] + gh
            i, f, o = _np_sigmoid(a[:, :n]), _np_sigmoid(a[:, n:2 * n]), _np_sigmoid(a[:, 3 * n:])
            c = f * c + i * np.tanh(a[:, 2 * n:3 * n])
            h = o * np.tanh(c)
        else:
            a = gi[t] + gh
            h = np.tanh(a) if mode == "RNN_TANH" else np.maximum(a, 0)
        out[t] = h
    return (out, h, c) if mode == "LSTM" else (out, h)


def _layer_samples(rng):
    samples = []
    for mode in MODES:
        n, g = 3, _GATES[mode] * 3
        for reverse, bias in ((False, True), (True, False)):
            gi = rng.standard_normal((4, 2, g))
            if mode == "RNN_RELU":  # keep pre-activations away from relu's kink
                gi = gi + np.sign(gi) * 0.5
            c0 = rng.standard_normal((2, n)) if mode == "LSTM" else None
            w = rng.standard_normal((g, n)) * 0.5
            args = (mode, gi, rng.standard_normal((2, n)), c0, w, rng.standard_normal(g) * 0.1 if bias else None,
                    reverse)
            samples.append(SampleInput(args, name=f"{mode}{'_reverse' if reverse else ''}"))
    gi = rng.standard_normal((3, 2, 12))
    samples.append(SampleInput(("LSTM", gi, Const(rng.standard_normal((2, 3))), rng.standard_normal((2, 3)),
                                rng.standard_normal((12, 3)) * 0.5, None, False), name="LSTM_const_h0"))
    return samples


# no torch_fn: torch has no such op (tests/nn/test_rnn_fused.py compares the modules built on it with torch's)
register(OpInfo(name="recurrent_layer", op=recurrent_layer, sample_inputs=_layer_samples, ref=_np_layer))


def _cell_samples(gates, relu_kink=False):
    def samples(rng):
        n, k = 3, 4
        out = []
        for bias in (True, False):
            x = rng.standard_normal((2, k))
            if relu_kink:
                x = x + np.sign(x) * 0.5
            ws = [rng.standard_normal((gates * n, k)) * 0.5, rng.standard_normal((gates * n, n)) * 0.5]
            bs = [rng.standard_normal(gates * n) * 0.1, rng.standard_normal(gates * n) * 0.1] if bias else []
            hs = [rng.standard_normal((2, n))] * (2 if gates == 4 else 1)
            out.append(SampleInput((x, *hs, *ws, *bs), name="bias" if bias else "no_bias"))
        return out
    return samples


def _np_cell(mode):
    def ref(x, *rest):
        hs, rest = (rest[:2], rest[2:]) if mode == "LSTM" else (rest[:1], rest[1:])
        w_ih, w_hh = rest[:2]
        b_ih, b_hh = (rest[2:] + (None, None))[:2]
        gi = x @ w_ih.T + (0.0 if b_ih is None else b_ih)
        res = _np_layer(mode, gi[None], hs[0], hs[1] if mode == "LSTM" else None, w_hh, b_hh)
        return (res[1], res[2]) if mode == "LSTM" else res[1]
    return ref


register(OpInfo(name="rnn_tanh_cell", op=rnn_tanh_cell, sample_inputs=_cell_samples(1), ref=_np_cell("RNN_TANH"),
                torch_fn=lambda torch, *a: torch.rnn_tanh_cell(*a)))
register(OpInfo(name="rnn_relu_cell", op=rnn_relu_cell, sample_inputs=_cell_samples(1, True),
                ref=_np_cell("RNN_RELU"), torch_fn=lambda torch, *a: torch.rnn_relu_cell(*a)))
register(OpInfo(name="gru_cell", op=gru_cell, sample_inputs=_cell_samples(3), ref=_np_cell("GRU"),
                torch_fn=lambda torch, *a: torch.gru_cell(*a)))
register(OpInfo(name="lstm_cell", op=lambda x, h, c, *w: lstm_cell(x, (h, c), *w), sample_inputs=_cell_samples(4),
                ref=_np_cell("LSTM"), torch_fn=lambda torch, x, h, c, *w: torch.lstm_cell(x, (h, c), *w)))
