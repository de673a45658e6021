"""tinytorch.onnx.export: every layer family and a few whole models, run by onnxruntime and compared with
tinytorch's own forward; dynamic batch; names, file targets, options; the error for an op with no mapping."""
from __future__ import annotations

import io

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import tinytorch  # noqa: E402
import tinytorch.nn.functional as F  # noqa: E402
from tinytorch import nn  # noqa: E402
from tinytorch.onnx.errors import OnnxExporterError, UnsupportedOperatorError  # noqa: E402

ATOL = 1e-5


def _session(proto):
    return ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])


def _eager(model, xs):
    if isinstance(model, nn.Module):
        model.eval()
    with tinytorch.no_grad():
        out = model(*xs)
    return out if isinstance(out, (tuple, list)) else (out,)


def roundtrip(model, *xs, batch_axis=None, opset=None, atol=ATOL, **kw):
    """Export, check, run with onnxruntime and compare with the eager forward (also at batch+2 if dynamic)."""
    names = [f"in{i}" for i in range(len(xs))]
    if batch_axis is not None:
        kw["dynamic_axes"] = {n: {batch_axis: "batch"} for n in names}
    proto = tinytorch.onnx.export(model, xs if len(xs) != 1 else xs[0], None, input_names=names,
                                  opset_version=opset, **kw)
    onnx.checker.check_model(proto)
    sess = _session(proto)
    trials = [xs]
    if batch_axis is not None:
        trials.append([tinytorch.cat([x, x[:2] if batch_axis == 0 else x.narrow(batch_axis, 0, 2)], batch_axis)
                       for x in xs])
    for trial in trials:
        ref = _eager(model, trial)
        got = sess.run(None, {n: x.numpy() for n, x in zip(names, trial)})
        assert len(got) == len(ref)
        for g, r in zip(got, ref):
            assert g.shape == tuple(r.shape)
            np.testing.assert_allclose(g, r.numpy(), atol=atol, rtol=1e-5)
    return proto


def _x(*shape, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return tinytorch.tensor((rng.standard_normal(shape) * scale).astype(np.float32))


ACTIVATIONS = [nn.ReLU(), nn.GELU(), nn.GELU(approximate="tanh"), nn.Tanh(), nn.Sigmoid(), nn.Softmax(-1),
               nn.LogSoftmax(1), nn.LeakyReLU(0.1), nn.ELU(alpha=0.7), nn.SELU(), nn.CELU(0.5), nn.SiLU(),
               nn.Softplus(beta=2.0, threshold=3.0), nn.Hardtanh(-0.5, 2.0), nn.ReLU6(), nn.Mish(), nn.Hardswish(),
               nn.Hardsigmoid(), nn.LogSigmoid(), nn.Softshrink(0.3), nn.Hardshrink(0.3), nn.Threshold(0.1, 20.0)]


@pytest.mark.parametrize("act", ACTIVATIONS, ids=[f"{type(a).__name__}{i}" for i, a in enumerate(ACTIVATIONS)])
def test_activations(act):
    roundtrip(act, _x(4, 6, scale=3.0), batch_axis=0)


LAYERS = {
    "linear": (lambda: nn.Linear(6, 5), (4, 6)),
    "linear-3d-nobias": (lambda: nn.Linear(6, 5, bias=False), (2, 4, 6)),
    "conv2d": (lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 8, 8)),
    "conv2d-groups-dilation-same": (lambda: nn.Conv2d(3, 6, 3, groups=3, dilation=2, padding="same"), (2, 3, 8, 8)),
    "conv1d": (lambda: nn.Conv1d(3, 4, 3, padding=1, stride=2), (2, 3, 10)),
    "conv-transpose2d": (lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), (2, 3, 5, 5)),
    "batchnorm2d": (lambda: _bn(nn.BatchNorm2d(3)), (2, 3, 6, 6)),
    "batchnorm1d": (lambda: _bn(nn.BatchNorm1d(6)), (4, 6)),
    "layernorm": (lambda: nn.LayerNorm(6), (4, 6)),
    "layernorm-2d-noaffine": (lambda: nn.LayerNorm((3, 6), elementwise_affine=False), (2, 3, 6)),
    "groupnorm": (lambda: nn.GroupNorm(1, 3), (2, 3, 4, 4)),
    "instancenorm": (lambda: nn.InstanceNorm2d(3, affine=True), (2, 3, 4, 4)),
    "channel-shuffle": (lambda: _Lambda(lambda x: x.view(x.shape[0], 2, 4, 3, 3).transpose(1, 2).reshape(
        x.shape[0], 8, 3, 3)), (2, 8, 3, 3)),
    "upsample-bilinear": (lambda: nn.Upsample(scale_factor=2, mode="bilinear"), (2, 3, 4, 4)),
    "conv-reflect-pad": (lambda: nn.Conv2d(3, 2, 3, padding=1, padding_mode="reflect"), (2, 3, 6, 6)),
    "prelu": (lambda: nn.PReLU(3), (2, 3, 4)),
    "maxpool2d": (lambda: nn.MaxPool2d(2), (2, 3, 8, 8)),
    "maxpool2d-pad": (lambda: nn.MaxPool2d(3, 2, 1), (2, 3, 8, 8)),
    "maxpool2d-ceil": (lambda: nn.MaxPool2d(3, 2, ceil_mode=True), (2, 2, 8, 8)),
    "avgpool2d": (lambda: nn.AvgPool2d(2), (2, 3, 8, 8)),
    "avgpool2d-pad": (lambda: nn.AvgPool2d(3, 2, 1), (2, 3, 8, 8)),
    "avgpool2d-exclude-pad": (lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=False), (2, 3, 8, 8)),
    "avgpool2d-ceil": (lambda: nn.AvgPool2d(3, 2, ceil_mode=True), (2, 2, 8, 8)),
    "adaptive-avg-1": (lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 7, 5)),
    "adaptive-avg-3x2": (lambda: nn.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5)),
    "adaptive-max-1": (lambda: nn.AdaptiveMaxPool2d(1), (2, 3, 7, 5)),
    "maxpool1d": (lambda: nn.MaxPool1d(2), (2, 3, 10)),
    "avgpool1d": (lambda: nn.AvgPool1d(3, 2), (2, 3, 10)),
    "adaptive-avg1d-1": (lambda: nn.AdaptiveAvgPool1d(1), (2, 3, 10)),
    "dropout-eval": (lambda: nn.Sequential(nn.Linear(6, 6), nn.Dropout(0.5)), (4, 6)),
    "flatten": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(48, 3)), (2, 3, 4, 4)),
}


class _Lambda(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def _bn(bn):
    """A BatchNorm with non-trivial running statistics and affine parameters."""
    rng = np.random.default_rng(3)
    c = bn.num_features
    bn.running_mean.copy_(tinytorch.tensor(rng.standard_normal(c).astype(np.float32)))
    bn.running_var.copy_(tinytorch.tensor(rng.uniform(0.5, 2.0, c).astype(np.float32)))
    with tinytorch.no_grad():
        bn.weight.copy_(tinytorch.tensor(rng.uniform(0.5, 1.5, c).astype(np.float32)))
        bn.bias.copy_(tinytorch.tensor(rng.standard_normal(c).astype(np.float32)))
    return bn


@pytest.mark.parametrize("name", list(LAYERS))
def test_layers_dynamic_batch(name):
    tinytorch.manual_seed(0)
    build, shape = LAYERS[name]
    roundtrip(build(), _x(*shape), batch_axis=0)


def test_embedding_with_dynamic_batch_and_padding_idx():
    tinytorch.manual_seed(0)
    emb = nn.Embedding(10, 4, padding_idx=0)
    proto = roundtrip(emb, tinytorch.tensor([[1, 2, 0], [3, 4, 9]]), batch_axis=0)
    assert [n.op_type for n in proto.graph.node if n.op_type != "Identity"] == ["Gather"]


def test_attention():
    tinytorch.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    q, kv = _x(2, 5, 8, seed=1), _x(2, 7, 8, seed=2)
    roundtrip(lambda a, b: mha(a, b, b)[0], q, kv, batch_axis=0)
    roundtrip(lambda a, b: mha(a, b, b, need_weights=True)[1], q, kv)  # the averaged weights too
    qs = [_x(2, 2, 5, 4, seed=s) for s in range(3)]
    roundtrip(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), *qs, batch_axis=0)
    mask = tinytorch.tensor(np.random.default_rng(0).random((5, 5)) > 0.3) | tinytorch.eye(5, dtype=tinytorch.bool)
    roundtrip(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=mask), *qs)


SHAPE_OPS = {
    "view-transpose-cat-slice": lambda x: tinytorch.cat([x.view(2, -1).transpose(0, 1),
                                                        x.reshape(12, 2).permute(1, 0).t()], 1)[1:3, ::2].flatten(),
    "stack-index_select": lambda x: tinytorch.stack([x, x * 2], 0).index_select(1, tinytorch.tensor([0, 2])) + 1,
    "getitem": lambda x: x[:, 1:3] + x[[0, 1, 2, 3]][:, [0, 1]] + x[0, :2] + x[..., None][..., 0][:, 2:4]
    + x[-1, -2:],
    "split-chunk-unbind-squeeze": lambda x: x.split(2, 1)[0].sum() + x.chunk(2, 0)[1].sum() + x.unbind(0)[2].sum()
    + x.unsqueeze(0).squeeze(0).sum(),
    "flip-tril-cumsum-gather-expand": lambda x: x.flip(0) + x.tril() + x.cumsum(1)
    + tinytorch.gather(x, 1, tinytorch.tensor([[0], [1], [2], [3]])).expand(4, 6),
    "pad": lambda x: F.pad(x, (1, 2), value=0.5),
    "pad-modes": lambda x: F.pad(x[None], (2, 1), mode="reflect")[0] + F.pad(x[None], (2, 1), mode="replicate")[0]
    + F.pad(x[None], (2, 1), mode="circular")[0],
    "interpolate": lambda x: F.interpolate(x[None, None], scale_factor=2, mode="nearest").sum(1)
    + F.interpolate(x[None, None], size=(8, 12), mode="bilinear", align_corners=False).sum(1)
    + F.interpolate(x[None, None], size=(8, 12), mode="bicubic", align_corners=True).sum(1),
    "einsum": lambda x: tinytorch.einsum("ij,kj->ik", x, x),
    "reductions": lambda x: x.sum() + x.mean() + x.max() + x.sum(0).sum() + x.amax(1).sum() + x.max(1)[0].sum()
    + x.argmax(1).float().sum() + x.logsumexp(1).sum() + x.norm() + x.prod(1).sum() + x.min(0)[1].float().sum(),
    "elementwise": lambda x: (x + 1) * 2 - 3 / x + x ** 2 + 2 ** x + x.abs().rsqrt() + x.exp().log1p()
    + tinytorch.maximum(x, x * 2) + tinytorch.minimum(x, x.new_zeros(())) + x.abs().sqrt() + x.sin() + x.cos()
    + tinytorch.erf(x) + x.expm1() + x.clamp(-1, 1) + x.clamp(min=0) + x.remainder(0.7),
    "compare-where-masked_fill": lambda x: tinytorch.where(x > 0, x, 0.0) + x.masked_fill(x < 0, 1.5)
    + (x == x).float() + (x != 0).float() + ((x > 0) & (x <= 1)).float() + (~(x >= 0)).float(),
    "dtype-casts": lambda x: x.to(tinytorch.float64).float() + x.long().float() + (x > 0).sum(1, keepdim=True),
    "gather-nd": lambda x: x[tinytorch.arange(4), tinytorch.tensor([0, 5, 2, 1])] + x[[0, 3], [1, 1]].sum()
    + x.unsqueeze(0)[[0], [2, 3]].sum(),
    "repeat-tile-roll": lambda x: x.repeat(2, 1)[:4] + tinytorch.tile(x, (1, 2))[:, :6] + x.roll(1, 0)
    + x.roll((2, -1), (0, 1)),
    "rounding-any-all": lambda x: x.floor() + x.ceil() + (x * 3).round() + x.sign() + x.trunc() + (x * 7) // 2
    + (x > 0).any(1, keepdim=True).float() + (x > -1).all(0).float() + (x > 0).any().float(),
    "norms-distances": lambda x: F.normalize(x, dim=1) + x.var(1, keepdim=True) + x.std(0)
    + F.cosine_similarity(x, x.flip(0))[:, None],
    "matmul": lambda x: x @ x.t() @ x + tinytorch.bmm(x.unsqueeze(0), x.t().unsqueeze(0)).sum(),
}


@pytest.mark.parametrize("name", list(SHAPE_OPS))
def test_shape_index_reduction_elementwise_ops(name):
    roundtrip(SHAPE_OPS[name], _x(4, 6, seed=5))


class _CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(4, 8, 3), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(8, 10), nn.LogSoftmax(dim=1))

    def forward(self, x):
        return self.head(self.features(x))


class _TinyLM(nn.Module):
    def __init__(self, vocab=20, d=8, ctx=6):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(tinytorch.randn(ctx, d) * 0.1)
        self.ln = nn.LayerNorm(d)
        self.att = nn.MultiheadAttention(d, 2, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        self.out = nn.Linear(d, vocab)

    def forward(self, idx):
        T = idx.shape[1]
        h = self.emb(idx) + self.pos[:T]
        a = self.ln(h)
        mask = tinytorch.triu(tinytorch.ones(T, T, dtype=tinytorch.bool), diagonal=1)
        h = h + self.att(a, a, a, attn_mask=mask, need_weights=False)[0]
        return self.out(h + self.mlp(self.ln(h)))


class _RNNTagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 5, batch_first=True, num_layers=2)
        self.fc = nn.Linear(5, 2)

    def forward(self, x):
        y, (h, c) = self.lstm(x)  # initial states are zeros sized by the batch: they follow the dynamic axis
        return self.fc(y), h


@pytest.mark.parametrize("name", ["cnn", "lm", "encoder-layer", "lstm"])
def test_whole_models(name):
    tinytorch.manual_seed(0)
    if name == "cnn":
        roundtrip(_CNN(), _x(3, 1, 12, 12), batch_axis=0)
    elif name == "lm":
        roundtrip(_TinyLM(), tinytorch.randint(0, 20, (2, 6)), batch_axis=0)
    elif name == "encoder-layer":
        layer = nn.TransformerEncoderLayer(8, 2, 16, activation="gelu", norm_first=True, batch_first=True)
        roundtrip(layer, _x(2, 5, 8), batch_axis=0)
    else:
        roundtrip(_RNNTagger(), _x(2, 4, 3), batch_axis=0)


def test_dynamic_axes_names_and_forms(tmp_path):
    model = nn.Sequential(nn.Linear(6, 3), nn.ReLU())
    path = tmp_path / "m.onnx"
    tinytorch.onnx.export(model, (_x(4, 6),), str(path), input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    proto = onnx.load(str(path))
    assert proto.graph.input[0].name == "x" and proto.graph.output[0].name == "y"
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.graph.input[0].type.tensor_type.shape.dim[1].dim_value == 6
    assert proto.opset_import[0].version == 17
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = _x(9, 6, seed=4)
    np.testing.assert_allclose(sess.run(None, {"x": x.numpy()})[0], _eager(model, [x])[0].numpy(), atol=ATOL)
    # the list form names the axes itself; a file object works as the target
    buf = io.BytesIO()
    tinytorch.onnx.export(model, _x(4, 6), buf, input_names=["x"], dynamic_axes={"x": [0]})
    dim = onnx.load_from_string(buf.getvalue()).graph.input[0].type.tensor_type.shape.dim[0]
    assert dim.dim_param == "x_dynamic_axes_1"
    # without dynamic axes the batch is fixed
    fixed = tinytorch.onnx.export(model, _x(4, 6), None)
    assert fixed.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 4
    assert fixed.graph.input[0].name == "input"  # nn.Sequential.forward(input)


def test_parameters_are_named_initializers_and_options():
    model = nn.Sequential(nn.Linear(6, 3), nn.Tanh())
    proto = tinytorch.onnx.export(model, _x(2, 6), None)
    assert {i.name for i in proto.graph.initializer} == {"0.weight", "0.bias"}
    w = next(i for i in proto.graph.initializer if i.name == "0.weight")
    np.testing.assert_array_equal(onnx.numpy_helper.to_array(w), model[0].weight.detach().numpy())
    # export_params=False: the parameters become graph inputs
    proto = tinytorch.onnx.export(model, _x(2, 6), None, export_params=False)
    assert not proto.graph.initializer and [i.name for i in proto.graph.input] == ["input", "0.weight", "0.bias"]
    # no constant folding: BatchNorm's reshapes of its parameters stay nodes, the result is the same
    bn = _bn(nn.BatchNorm2d(3))
    folded = roundtrip(bn, _x(2, 3, 4, 4))
    unfolded = roundtrip(bn, _x(2, 3, 4, 4), do_constant_folding=False)
    assert len(unfolded.graph.node) > len(folded.graph.node)


@pytest.mark.parametrize("opset", [13, 14, 18, 20])
def test_other_opsets(opset):
    tinytorch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 6), nn.LayerNorm(6), nn.GELU(), nn.Hardswish())
    proto = roundtrip(model, _x(3, 6), opset=opset, batch_axis=0)
    assert proto.opset_import[0].version == opset
    roundtrip(lambda x: x.mean(1) + x.amax(1), _x(3, 6), opset=opset)


def test_training_mode_is_restored_and_eval_is_used():
    model = nn.Sequential(nn.Linear(6, 6), nn.Dropout(0.9))
    model.train()
    proto = tinytorch.onnx.export(model, _x(4, 6), None)
    assert model.training and model[1].training
    assert [n.op_type for n in proto.graph.node] == ["Gemm", "Identity"]  # dropout absent: exported in eval mode
    with pytest.raises(UnsupportedOperatorError, match="eval mode"):
        tinytorch.onnx.export(model, _x(4, 6), None, training=tinytorch.onnx.TrainingMode.TRAINING)
    model.eval()
    tinytorch.onnx.export(model, _x(4, 6), None, training=tinytorch.onnx.TrainingMode.PRESERVE)
    assert not model.training


def test_unsupported_op_is_named():
    with pytest.raises(UnsupportedOperatorError, match="'Atan2' to ONNX opset version 17") as info:
        tinytorch.onnx.export(lambda x: tinytorch.atan2(x, x + 1).relu(), _x(2, 3), None)
    assert info.value.op_name == "Atan2" and "(2, 3)" in str(info.value)
    assert isinstance(info.value, OnnxExporterError) and isinstance(info.value, RuntimeError)
    # an unsupported op whose result is never used does not matter
    roundtrip(lambda x: (tinytorch.atan2(x, x), x.relu())[1], _x(2, 3))


def test_values_computed_outside_the_recorded_ops_are_refused():
    class NumpySin(tinytorch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return tinytorch.tensor(np.sin(x.detach().numpy()))

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(OnnxExporterError, match="outside the ops tinytorch records"):
        tinytorch.onnx.export(lambda x: NumpySin.apply(x) * 2, _x(2, 3), None)


def test_a_custom_function_built_from_tensor_ops_exports():
    class Scale(tinytorch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3 + 1

        @staticmethod
        def backward(ctx, g):
            return g * 3

    roundtrip(lambda x: Scale.apply(x).tanh(), _x(2, 3))


def test_argument_validation():
    with pytest.raises(ValueError, match="opset_version 9"):
        tinytorch.onnx.export(nn.ReLU(), _x(2), None, opset_version=9)
    with pytest.raises(ValueError, match="out of range"):
        tinytorch.onnx.export(nn.ReLU(), _x(2), None, input_names=["x"], dynamic_axes={"x": {3: "b"}})
    with pytest.raises(TypeError, match="binary file object"):
        tinytorch.onnx.export(nn.ReLU(), _x(2), 42)
    assert tinytorch.onnx.is_in_onnx_export() is False


class _PosLM(nn.Module):
    """Positions from ``arange(T)``, a causal mask from ``triu(ones(T, T))``, a reshape through ``B * T`` and a
    slice ``[:, :T]``: everything sized by the sequence length must follow it in the graph."""

    def __init__(self, vocab=20, d=8, ctx=12):
        super().__init__()
        self.emb, self.pos = nn.Embedding(vocab, d), nn.Embedding(ctx, d)
        self.ln = nn.LayerNorm(d)
        self.att = nn.MultiheadAttention(d, 2, batch_first=True)
        self.out = nn.Linear(d, vocab)

    def forward(self, idx):
        B, T = idx.shape
        h = self.emb(idx) + self.pos(tinytorch.arange(T))
        a = self.ln(h)
        mask = tinytorch.triu(tinytorch.ones(T, T, dtype=tinytorch.bool), diagonal=1)
        h = h + self.att(a, a, a, attn_mask=mask, need_weights=False)[0]
        h = h.view(B * T, -1)
        return self.out(h).view(B, T, -1)[:, :T]


def test_dynamic_batch_and_sequence_length():
    tinytorch.manual_seed(0)
    model = _PosLM().eval()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may be baked in as a constant
        proto = tinytorch.onnx.export(model, tinytorch.randint(0, 20, (2, 5)), None, input_names=["idx"],
                                      output_names=["logits"],
                                      dynamic_axes={"idx": {0: "B", 1: "T"}, "logits": {0: "B", 1: "T"}})
    sess = _session(proto)
    for shape in [(2, 5), (3, 7), (1, 2), (4, 12)]:
        x = tinytorch.randint(0, 20, shape)
        got = sess.run(None, {"idx": x.numpy()})[0]
        np.testing.assert_allclose(got, _eager(model, [x])[0].numpy(), atol=ATOL)


def test_sdpa_causal_with_dynamic_sequence():
    qs = [_x(2, 2, 5, 4, seed=s) for s in range(3)]
    fn = lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True)  # noqa: E731
    proto = tinytorch.onnx.export(fn, tuple(qs), None, input_names=["q", "k", "v"],
                                  dynamic_axes={n: {0: "B", 2: "T"} for n in "qkv"})
    sess = _session(proto)
    longer = [_x(3, 2, 8, 4, seed=s) for s in range(3)]
    got = sess.run(None, dict(zip("qkv", (t.numpy() for t in longer))))[0]
    np.testing.assert_allclose(got, fn(*longer).numpy(), atol=ATOL)


def test_a_constant_computed_from_input_values_is_refused():
    def fn(x):  # a mask computed in NumPy from the values: as a constant it would be wrong for any other input
        return x * tinytorch.tensor((x.detach().numpy() > 0).astype(np.float32))

    with pytest.raises(OnnxExporterError, match="changes from one call to the next"):
        tinytorch.onnx.export(fn, _x(4, 3), None)


def test_control_flow_on_values_is_refused():
    def fn(x):
        return x.relu() if x.sum().item() > 0 else x.tanh()

    x = _x(4, 3)
    x = x if x.sum().item() > 0 else -x
    with pytest.raises(OnnxExporterError, match="different ops"):
        for seed in range(20):  # the second trace draws other values: one of them takes the other branch
            tinytorch.onnx.export(fn, x * (seed + 1), None)


def test_a_constant_that_depends_on_a_dynamic_axis_is_reported():
    def fn(x):  # random noise of the input's size: neither a fill nor an arange, so it is baked in
        return x + tinytorch.tensor(np.arange(x.shape[0] * 3, dtype=np.float32).reshape(-1, 3) ** 2)

    with pytest.warns(tinytorch.onnx.errors.OnnxExporterWarning, match="depends on a dynamic axis"):
        tinytorch.onnx.export(fn, _x(4, 3), None, input_names=["x"], dynamic_axes={"x": [0]})


def test_is_in_onnx_export_during_the_forward():
    seen = []

    def fn(x):
        seen.append(tinytorch.onnx.is_in_onnx_export())
        return x + 1

    tinytorch.onnx.export(fn, _x(2), None)
    assert seen and all(seen) and not tinytorch.onnx.is_in_onnx_export()


def test_importable_as_torch_onnx_under_the_alias():
    import subprocess
    import sys
    from pathlib import Path

    code = ("import tinytorch.alias; tinytorch.alias.install()\n"
            "import io, torch, torch.nn as nn, torch.onnx\n"
            "from torch.onnx.errors import UnsupportedOperatorError\n"
            "m = nn.Sequential(nn.Linear(4, 2), nn.Softmax(dim=1)).eval()\n"
            "buf = io.BytesIO()\n"
            "torch.onnx.export(m, (torch.randn(3, 4),), buf, input_names=['x'], output_names=['p'],\n"
            "                  dynamic_axes={'x': {0: 'batch'}, 'p': {0: 'batch'}}, opset_version=17,\n"
            "                  training=torch.onnx.TrainingMode.EVAL, do_constant_folding=True)\n"
            "print(len(buf.getvalue()) > 100)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(Path(__file__).resolve().parents[2]))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"
