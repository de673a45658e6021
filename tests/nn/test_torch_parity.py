"""Parity with PyTorch: same state_dict keys and shapes, and same outputs after loading torch's weights."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
from tests.helpers import tensor_of as _t

torch = pytest.importorskip("torch")
tnn = torch.nn


def _keys_shapes(model):
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


def _load_from_torch(ours, theirs):
    sd = {k: tinytorch.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(sd)


def _close(a, b, tol=1e-10):
    np.testing.assert_allclose(np.asarray(a.detach().numpy()), b.detach().numpy(), rtol=tol, atol=tol)


# (builder(ns) -> module, input shape or None): built identically from tinytorch.nn and torch.nn
ARCHS = {
    "linear": lambda n: n.Linear(5, 3),
    "linear_nobias": lambda n: n.Linear(5, 3, bias=False),
    "bilinear": lambda n: n.Bilinear(3, 4, 2),
    "conv2d": lambda n: n.Conv2d(3, 4, 3, stride=2, padding=1),
    "conv1d": lambda n: n.Conv1d(2, 4, 3, groups=2),
    "convT2d": lambda n: n.ConvTranspose2d(3, 2, 3, stride=2),
    "bn2d": lambda n: n.BatchNorm2d(4),
    "bn1d_noaffine": lambda n: n.BatchNorm1d(4, affine=False),
    "layernorm": lambda n: n.LayerNorm((4, 5)),
    "groupnorm": lambda n: n.GroupNorm(2, 4),
    "rmsnorm": lambda n: n.RMSNorm(6),
    "embedding": lambda n: n.Embedding(10, 4, padding_idx=0),
    "prelu": lambda n: n.PReLU(3),
    "mha": lambda n: n.MultiheadAttention(8, 2),
    "mha_kvdim": lambda n: n.MultiheadAttention(8, 2, kdim=5, vdim=3, bias=False),
    "encoder_layer": lambda n: n.TransformerEncoderLayer(8, 2, dim_feedforward=16),
    "encoder": lambda n: n.TransformerEncoder(n.TransformerEncoderLayer(8, 2, 16), 2),
    "decoder_layer": lambda n: n.TransformerDecoderLayer(8, 2, dim_feedforward=16),
    "lstm": lambda n: n.LSTM(3, 4, num_layers=2, bidirectional=True),
    "gru": lambda n: n.GRU(3, 4, num_layers=2, bidirectional=True),
    "rnn": lambda n: n.RNN(3, 4, bias=False),
    "cells": lambda n: n.ModuleList([n.RNNCell(2, 3), n.LSTMCell(2, 3), n.GRUCell(2, 3)]),
    "nested": lambda n: n.Sequential(
        n.Conv2d(1, 2, 3), n.BatchNorm2d(2), n.ReLU(),
        n.ModuleList([n.Linear(2, 2), n.Sequential(n.Linear(2, 2), n.LayerNorm(2))]),
        n.ModuleDict({"head": n.Linear(2, 1), "act": n.Tanh()}),
    ),
    "ce_weight": lambda n: n.CrossEntropyLoss(weight=(tinytorch if n is nn else torch).ones(3)),
}


@pytest.mark.parametrize("name", list(ARCHS))
def test_state_dict_keys_and_shapes_match_torch(name):
    ours, theirs = ARCHS[name](nn), ARCHS[name](tnn)
    assert _keys_shapes(ours) == _keys_shapes(theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]


REPRS = {
    "nested": ARCHS["nested"],
    "convs": lambda n: n.Sequential(n.Conv2d(3, 8, (3, 5), stride=2, padding=1, bias=False),
                                    n.Conv1d(2, 2, 3, dilation=2, groups=2, padding_mode="reflect"),
                                    n.ConvTranspose2d(2, 2, 3, stride=2, output_padding=1),
                                    n.MaxPool2d(2), n.AvgPool2d(3, 1), n.AvgPool1d(2), n.AdaptiveAvgPool2d((1, 1)),
                                    n.Flatten(), n.Unflatten(1, (2, 3)), n.Dropout(0.2), n.Identity()),
    "acts": lambda n: n.Sequential(n.ReLU(), n.ReLU(inplace=True), n.ReLU6(), n.LeakyReLU(0.2), n.ELU(), n.SELU(),
                                   n.CELU(0.5), n.GELU(), n.GELU("tanh"), n.SiLU(), n.Mish(), n.Softplus(),
                                   n.Softsign(), n.Hardtanh(), n.Hardsigmoid(), n.Hardswish(), n.Sigmoid(),
                                   n.Tanh(), n.LogSigmoid(), n.Softmax(dim=1), n.LogSoftmax(1), n.GLU(),
                                   n.PReLU(), n.Threshold(0.1, 0.0), n.Hardshrink(), n.Softshrink(0.3)),
    "norms": lambda n: n.Sequential(n.BatchNorm2d(4), n.LayerNorm(5), n.GroupNorm(2, 4), n.RMSNorm(3),
                                    n.InstanceNorm2d(3), n.Embedding(10, 3, padding_idx=1)),
    "rnns": lambda n: n.ModuleList([n.LSTM(3, 4, 2, bidirectional=True, batch_first=True, dropout=0.1),
                                    n.GRU(3, 4), n.RNN(2, 2, nonlinearity="relu"), n.GRUCell(2, 3)]),
    "transformer": lambda n: n.TransformerEncoderLayer(8, 2, 16),
    "mlist_groups": lambda n: n.ModuleList([n.Linear(2, 2), n.Linear(2, 2), n.Linear(2, 2), n.ReLU()]),
    "misc": lambda n: n.Sequential(n.Upsample(scale_factor=2), n.ZeroPad2d(1), n.ConstantPad1d(2, 3.5),
                                   n.ReflectionPad2d(1), n.AdaptiveMaxPool2d(2), n.MaxPool1d(3), n.Bilinear(2, 3, 4),
                                   n.RNNCell(2, 3, nonlinearity="relu"), n.Dropout2d(), n.RReLU(),
                                   n.MultiheadAttention(4, 2, kdim=3, vdim=3)),
    "paramdict": lambda n: n.ParameterDict({"a": (tinytorch if n is nn else torch).ones(2, 3)}),
    "losses": lambda n: n.ModuleList([n.MSELoss(), n.CrossEntropyLoss(label_smoothing=0.1), n.BCEWithLogitsLoss()]),
}


@pytest.mark.parametrize("name", list(REPRS))
def test_repr_matches_torch(name):
    assert repr(REPRS[name](nn)) == repr(REPRS[name](tnn))


def _forward_pair(ours, theirs, *inputs, train=False):
    ours = ours.double()
    theirs = theirs.double()
    _load_from_torch(ours, theirs)
    ours.train(train)
    theirs.train(train)
    with torch.no_grad():
        ref = theirs(*inputs)
    out = ours(*[_t(x) for x in inputs])
    return out, ref


def _rand(*shape):
    return torch.randn(*shape, dtype=torch.float64)


FORWARDS = {
    "linear": (lambda n: n.Linear(5, 3), lambda: (_rand(2, 4, 5),)),
    "bilinear": (lambda n: n.Bilinear(3, 4, 2), lambda: (_rand(5, 3), _rand(5, 4))),
    "conv2d": (lambda n: n.Conv2d(3, 4, 3, stride=2, padding=1), lambda: (_rand(2, 3, 7, 7),)),
    "conv2d_same_reflect": (lambda n: n.Conv2d(2, 2, 3, padding="same", padding_mode="reflect"),
                            lambda: (_rand(1, 2, 5, 5),)),
    "conv1d": (lambda n: n.Conv1d(2, 4, 3, groups=2), lambda: (_rand(2, 2, 9),)),
    "convT2d": (lambda n: n.ConvTranspose2d(3, 2, 3, stride=2), lambda: (_rand(1, 3, 4, 4),)),
    "bn2d_eval": (lambda n: n.BatchNorm2d(3), lambda: (_rand(4, 3, 2, 2),)),
    "layernorm": (lambda n: n.LayerNorm(6), lambda: (_rand(3, 6),)),
    "groupnorm": (lambda n: n.GroupNorm(2, 4), lambda: (_rand(2, 4, 3),)),
    "embedding": (lambda n: n.Embedding(10, 4, padding_idx=0), lambda: (torch.tensor([[1, 0, 9], [3, 3, 2]]),)),
    "maxpool2d": (lambda n: n.MaxPool2d(2), lambda: (_rand(1, 2, 4, 4),)),
    "avgpool2d": (lambda n: n.AvgPool2d(2, 1), lambda: (_rand(1, 2, 4, 4),)),
    "adaptiveavg": (lambda n: n.AdaptiveAvgPool2d((1, 1)), lambda: (_rand(2, 3, 4, 4),)),
    "mha": (lambda n: n.MultiheadAttention(8, 2), lambda: (_rand(4, 2, 8), _rand(5, 2, 8), _rand(5, 2, 8))),
    "mha_batch_first_kvdim": (lambda n: n.MultiheadAttention(8, 2, kdim=5, vdim=3, batch_first=True),
                              lambda: (_rand(2, 4, 8), _rand(2, 5, 5), _rand(2, 5, 3))),
    "encoder_layer": (lambda n: n.TransformerEncoderLayer(8, 2, 16), lambda: (_rand(5, 2, 8),)),
    "encoder_layer_prenorm_gelu": (lambda n: n.TransformerEncoderLayer(8, 2, 16, activation="gelu", norm_first=True,
                                                                       batch_first=True), lambda: (_rand(2, 5, 8),)),
    "decoder_layer": (lambda n: n.TransformerDecoderLayer(8, 2, 16), lambda: (_rand(3, 2, 8), _rand(5, 2, 8))),
    "lstm": (lambda n: n.LSTM(3, 4, num_layers=2, bidirectional=True), lambda: (_rand(5, 2, 3),)),
    "gru": (lambda n: n.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True), lambda: (_rand(2, 5, 3),)),
    "rnn_relu": (lambda n: n.RNN(3, 4, nonlinearity="relu"), lambda: (_rand(5, 2, 3),)),
    "lstm_unbatched": (lambda n: n.LSTM(3, 4), lambda: (_rand(5, 3),)),
    "gru_cell": (lambda n: n.GRUCell(3, 4), lambda: (_rand(2, 3), _rand(2, 4))),
    "lstm_cell": (lambda n: n.LSTMCell(3, 4), lambda: (_rand(2, 3),)),
    "gru_h0_unbatched": (lambda n: n.GRU(3, 4, num_layers=2), lambda: (_rand(5, 3), _rand(2, 4))),
    "mha_unbatched": (lambda n: n.MultiheadAttention(8, 4), lambda: (_rand(3, 8), _rand(5, 8), _rand(5, 8))),
    "mha_bias_kv_zero_attn": (lambda n: n.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True),
                              lambda: (_rand(3, 2, 8), _rand(4, 2, 8), _rand(4, 2, 8))),
    "instancenorm2d": (lambda n: n.InstanceNorm2d(3, affine=True), lambda: (_rand(2, 3, 4, 4),)),
    "instancenorm1d_unbatched": (lambda n: n.InstanceNorm1d(3), lambda: (_rand(3, 6),)),
    "rmsnorm": (lambda n: n.RMSNorm((2, 3), eps=1e-6), lambda: (_rand(4, 2, 3),)),
    "upsample_bilinear": (lambda n: n.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                          lambda: (_rand(1, 2, 3, 3),)),
    "pools_1d": (lambda n: n.Sequential(n.MaxPool1d(2), n.AvgPool1d(2, 1), n.AdaptiveAvgPool1d(2)),
                 lambda: (_rand(2, 3, 9),)),
    "adaptive_max": (lambda n: n.AdaptiveMaxPool2d((2, 3)), lambda: (_rand(1, 2, 5, 7),)),
    "dropout_eval": (lambda n: n.Sequential(n.Dropout(0.3), n.Dropout2d(0.4), n.Linear(4, 4)),
                     lambda: (_rand(2, 3, 5, 4),)),
    "reflect_pad": (lambda n: n.ReflectionPad2d((1, 2, 0, 1)), lambda: (_rand(1, 2, 3, 4),)),
}


def _flat(x):
    if isinstance(x, (tuple, list)):
        out = []
        for i in x:
            out += _flat(i)
        return out
    return [] if x is None else [x]


@pytest.mark.parametrize("name", list(FORWARDS))
def test_forward_matches_torch_after_loading_its_state_dict(name):
    build, inputs = FORWARDS[name]
    torch.manual_seed(0)
    theirs = build(tnn)
    ours = build(nn)
    if name == "bn2d_eval":  # non-trivial running statistics
        with torch.no_grad():
            theirs.running_mean.uniform_(-1, 1)
            theirs.running_var.uniform_(0.5, 2)
    out, ref = _forward_pair(ours, theirs, *inputs())
    outs, refs = _flat(out), _flat(ref)
    assert len(outs) == len(refs)
    for a, b in zip(outs, refs):
        assert tuple(a.shape) == tuple(b.shape)
        _close(a, b, 1e-9)


def test_mha_masks_and_weights_match_torch():
    torch.manual_seed(0)
    theirs, ours = tnn.MultiheadAttention(8, 2, batch_first=True).double(), nn.MultiheadAttention(8, 2, batch_first=True).double()
    _load_from_torch(ours, theirs)
    q, k = _rand(2, 3, 8), _rand(2, 4, 8)
    attn_mask = torch.tensor([[False, True, False, False]] * 3)
    kpm = torch.tensor([[False, False, False, True], [False, False, False, False]])
    for avg in (True, False):
        ref = theirs(q, k, k, key_padding_mask=kpm, attn_mask=attn_mask, average_attn_weights=avg)
        out = ours(_t(q), _t(k), _t(k), key_padding_mask=_t(kpm), attn_mask=_t(attn_mask), average_attn_weights=avg)
        _close(out[0], ref[0], 1e-9)
        _close(out[1], ref[1], 1e-9)
    mask3 = torch.rand(2 * 2, 3, 4) < 0.3
    mask3[..., 0] = False  # every query keeps one key
    ref = theirs(q, k, k, attn_mask=mask3)
    out = ours(_t(q), _t(k), _t(k), attn_mask=_t(mask3))
    _close(out[0], ref[0], 1e-9)
    causal = torch.triu(torch.ones(3, 3, dtype=torch.bool), 1)
    ref = theirs(q, q, q, attn_mask=causal, is_causal=True)
    out = ours(_t(q), _t(q), _t(q), is_causal=True)
    _close(out[1], ref[1], 1e-9)
    float_mask = _rand(3, 4)
    ref = theirs(q, k, k, attn_mask=float_mask, need_weights=False)
    out = ours(_t(q), _t(k), _t(k), attn_mask=_t(float_mask), need_weights=False)
    assert out[1] is None
    _close(out[0], ref[0], 1e-9)
    ref[0].sum().backward()
    out[0].sum().backward()
    for (name, p), (_, r) in zip(ours.named_parameters(), theirs.named_parameters()):
        _close(p.grad, r.grad, 1e-9)


def test_lstm_with_initial_state_and_gradients_match_torch():
    torch.manual_seed(0)
    theirs, ours = tnn.LSTM(3, 4, 2).double(), nn.LSTM(3, 4, 2).double()
    _load_from_torch(ours, theirs)
    x, h0, c0 = _rand(4, 2, 3), _rand(2, 2, 4), _rand(2, 2, 4)
    x.requires_grad_(True)
    out_t, (h_t, c_t) = theirs(x, (h0, c0))
    (out_t.sum() + h_t.sum() * 2 + c_t.sum()).backward()
    xo = _t(x).requires_grad_(True)
    out, (h, c) = ours(xo, (_t(h0), _t(c0)))
    (out.sum() + h.sum() * 2 + c.sum()).backward()
    _close(out, out_t, 1e-9)
    _close(xo.grad, x.grad, 1e-9)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        _close(p.grad, q.grad, 1e-9)


def test_batchnorm_training_updates_running_stats_like_torch():
    torch.manual_seed(0)
    theirs, ours = tnn.BatchNorm2d(3, momentum=None).double(), nn.BatchNorm2d(3, momentum=None).double()
    _load_from_torch(ours, theirs)
    for _ in range(2):
        x = _rand(4, 3, 2, 2)
        ref = theirs(x)
        out = ours(_t(x))
        _close(out, ref, 1e-9)
    for k in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(getattr(ours, k).numpy(), getattr(theirs, k).numpy(), rtol=1e-9)
