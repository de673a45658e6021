"""Layer behaviour vs torch: activations, losses, dropout modes, embedding, containers' forward, utils."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
from tests.helpers import tensor_of as _t

torch = pytest.importorskip("torch")
tnn = torch.nn


def _close(a, b, tol=1e-10):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


ACTS = [
    ("ReLU", ()), ("ReLU6", ()), ("LeakyReLU", (0.2,)), ("ELU", (0.7,)), ("SELU", ()), ("CELU", (0.5,)),
    ("GELU", ()), ("GELU", ("tanh",)), ("SiLU", ()), ("Mish", ()), ("Softplus", (2.0, 5.0)), ("Softsign", ()),
    ("Hardtanh", (-0.5, 0.7)), ("Hardsigmoid", ()), ("Hardswish", ()), ("Sigmoid", ()), ("Tanh", ()),
    ("LogSigmoid", ()), ("Softmax", (1,)), ("LogSoftmax", (0,)), ("Softmin", (1,)), ("GLU", (1,)),
    ("Threshold", (0.1, -2.0)), ("Hardshrink", (0.3,)), ("Softshrink", (0.3,)), ("Tanhshrink", ()), ("PReLU", ()),
]


@pytest.mark.parametrize("name,args", ACTS, ids=[f"{a[0]}{i}" for i, a in enumerate(ACTS)])
def test_activation_modules_match_torch(name, args):
    x = torch.randn(4, 6, dtype=torch.float64)
    x = torch.where(x.abs() < 0.05, x + 0.2, x)  # keep away from kinks
    theirs = getattr(tnn, name)(*args).double()
    ours = getattr(nn, name)(*args).double()
    ref = theirs(x)
    xo = _t(x).requires_grad_(True)
    out = ours(xo)
    _close(out, ref, 1e-9)
    out.sum().backward()
    xt = x.clone().requires_grad_(True)
    theirs(xt).sum().backward()
    _close(xo.grad, xt.grad, 1e-8)


def test_relu_inplace_modifies_input():
    x = tinytorch.tensor([-1.0, 2.0])
    out = nn.ReLU(inplace=True)(x)
    assert out is x and x.tolist() == [0.0, 2.0]


LOSSES = [
    ("MSELoss", {}, "reg"), ("L1Loss", {"reduction": "sum"}, "reg"), ("SmoothL1Loss", {"beta": 0.5}, "reg"),
    ("HuberLoss", {"delta": 0.7}, "reg"), ("CrossEntropyLoss", {"label_smoothing": 0.1}, "cls"),
    ("CrossEntropyLoss", {"weight": "w", "ignore_index": 1}, "cls"), ("NLLLoss", {"reduction": "none"}, "logp"),
    ("BCELoss", {}, "prob"), ("BCEWithLogitsLoss", {"pos_weight": "w"}, "bin"), ("KLDivLoss", {"reduction": "batchmean"}, "kl"),
    ("SoftMarginLoss", {}, "sign"), ("MultiMarginLoss", {"margin": 0.5}, "cls"),
    ("MSELoss", {"size_average": False}, "reg"),
]


def _loss_inputs(kind):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, dtype=torch.float64, generator=g)
    if kind == "reg":
        return x, torch.randn(4, 3, dtype=torch.float64, generator=g)
    if kind == "cls":
        return x, torch.tensor([0, 2, 1, 2])
    if kind == "logp":
        return torch.log_softmax(x, 1), torch.tensor([0, 2, 1, 2])
    if kind == "prob":
        return torch.sigmoid(x), torch.rand(4, 3, dtype=torch.float64, generator=g)
    if kind == "bin":
        return x, torch.rand(4, 3, dtype=torch.float64, generator=g).round()
    if kind == "kl":
        return torch.log_softmax(x, 1), torch.softmax(torch.randn(4, 3, dtype=torch.float64, generator=g), 1)
    return x, torch.randn(4, 3, dtype=torch.float64, generator=g).sign()


@pytest.mark.parametrize("name,kw,kind", LOSSES, ids=[f"{a[0]}{i}" for i, a in enumerate(LOSSES)])
def test_loss_modules_match_torch(name, kw, kind):
    w = torch.tensor([0.5, 2.0, 1.0], dtype=torch.float64)
    kw_t = {k: (w if v == "w" else v) for k, v in kw.items()}
    kw_o = {k: (_t(w) if v == "w" else v) for k, v in kw.items()}
    inp, tgt = _loss_inputs(kind)
    with pytest.warns(UserWarning) if "size_average" in kw else _nullcontext():
        ours = getattr(nn, name)(**kw_o)
    theirs = getattr(tnn, name)(**kw_t)
    _close(ours(_t(inp), _t(tgt)), theirs(inp, tgt), 1e-9)
    assert list(ours.state_dict()) == list(theirs.state_dict())


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_pair_losses_match_torch():
    a, b = torch.randn(5, 4, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64)
    y = torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0], dtype=torch.float64)
    _close(nn.CosineEmbeddingLoss(0.1)(_t(a), _t(b), _t(y)), tnn.CosineEmbeddingLoss(0.1)(a, b, y))
    _close(nn.MarginRankingLoss(0.2)(_t(a[:, 0]), _t(b[:, 0]), _t(y)), tnn.MarginRankingLoss(0.2)(a[:, 0], b[:, 0], y))
    c = torch.randn(5, 4, dtype=torch.float64)
    _close(nn.TripletMarginLoss(margin=0.5)(_t(a), _t(b), _t(c)), tnn.TripletMarginLoss(margin=0.5)(a, b, c), 1e-8)


def test_dropout_train_eval():
    d = nn.Dropout(0.5)
    x = tinytorch.ones(1000)
    y = d(x).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 350 < (y == 0).sum() < 650
    d.eval()
    assert d(x) is x or (d(x).numpy() == 1).all()
    assert repr(d) == "Dropout(p=0.5, inplace=False)"


def test_embedding_from_pretrained_and_padding_grad():
    w = tinytorch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    emb = nn.Embedding.from_pretrained(w)
    assert not emb.weight.requires_grad and emb.weight._data is w._data
    np.testing.assert_array_equal(emb(tinytorch.tensor([2, 0])).numpy(), [[5, 6], [1, 2]])
    emb = nn.Embedding(4, 2, padding_idx=1)
    emb(tinytorch.tensor([1, 2, 1])).sum().backward()
    g = emb.weight.grad.numpy()
    assert (g[1] == 0).all() and (g[2] == 1).all()


def test_sequential_forward_and_backward():
    torch.manual_seed(0)
    theirs = tnn.Sequential(tnn.Conv2d(1, 2, 3), tnn.BatchNorm2d(2), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
                            tnn.Linear(8, 3)).double()
    ours = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(8, 3)).double()
    ours.load_state_dict({k: _t(v) for k, v in theirs.state_dict().items()})
    x = torch.randn(2, 1, 6, 6, dtype=torch.float64)
    loss_t = tnn.CrossEntropyLoss()(theirs(x), torch.tensor([0, 2]))
    loss_t.backward()
    loss_o = nn.CrossEntropyLoss()(ours(_t(x)), tinytorch.tensor([0, 2]))
    loss_o.backward()
    _close(loss_o, loss_t, 1e-9)
    for (k, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        _close(p.grad, q.grad, 1e-8)
    for k in ("1.running_mean", "1.running_var"):
        _close(ours.state_dict()[k], theirs.state_dict()[k], 1e-9)


def test_transformer_encoder_with_masks_matches_torch():
    torch.manual_seed(0)
    layer_t = tnn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    theirs = tnn.TransformerEncoder(layer_t, 2, enable_nested_tensor=False).double().eval()
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2).double().eval()
    ours.load_state_dict({k: _t(v) for k, v in theirs.state_dict().items()})
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    mask = tnn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    kpm = torch.tensor([[False] * 5, [False, False, False, True, True]])
    with torch.no_grad():
        ref = theirs(x, mask=mask, src_key_padding_mask=kpm)
    out = ours(_t(x), mask=nn.Transformer.generate_square_subsequent_mask(5, dtype=tinytorch.float64),
               src_key_padding_mask=_t(kpm))
    _close(out, ref, 1e-9)


def test_clip_grad_norm_and_value_match_torch():
    for norm_type in (2.0, 1.0, float("inf")):
        torch.manual_seed(0)
        ps_t = [torch.randn(3, 4, dtype=torch.float64, requires_grad=True) for _ in range(3)]
        ps_o = [nn.Parameter(_t(p.detach())) for p in ps_t]
        for pt, po in zip(ps_t, ps_o):
            g = torch.randn_like(pt) * 3
            pt.grad = g
            po.grad = _t(g)
        tot_t = torch.nn.utils.clip_grad_norm_(ps_t, 1.5, norm_type=norm_type)
        tot_o = nn.utils.clip_grad_norm_(ps_o, 1.5, norm_type=norm_type)
        _close(tot_o, tot_t, 1e-9)
        for pt, po in zip(ps_t, ps_o):
            _close(po.grad, pt.grad, 1e-9)
    torch.nn.utils.clip_grad_value_(ps_t, 0.3)
    nn.utils.clip_grad_value_(ps_o, 0.3)
    for pt, po in zip(ps_t, ps_o):
        _close(po.grad, pt.grad, 1e-12)
    bad = nn.Parameter(tinytorch.ones(2))
    bad.grad = tinytorch.tensor([float("nan"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([bad], 1.0, error_if_nonfinite=True)


def test_parameters_to_vector_roundtrip():
    lin = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(lin.parameters())
    assert tuple(vec.shape) == (8,)
    w = lin.weight
    nn.utils.vector_to_parameters(vec * 0 + 1, lin.parameters())
    assert lin.weight is w and (lin.weight.detach().numpy() == 1).all() and (lin.bias.detach().numpy() == 1).all()
    seqs = [tinytorch.ones(3, 2), tinytorch.ones(1, 2)]
    padded = nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=-1)
    ref = torch.nn.utils.rnn.pad_sequence([torch.ones(3, 2), torch.ones(1, 2)], batch_first=True, padding_value=-1)
    np.testing.assert_array_equal(padded.numpy(), ref.numpy())
