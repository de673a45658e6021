"""The op registry entries for tinytorch/ops/activation.py: sample inputs, NumPy references, PyTorch counterparts."""
from __future__ import annotations

import math
import numpy as np

from tinytorch.ops.activation import (
    _SELU_ALPHA, _SELU_SCALE, alpha_dropout, celu, dropout, dropout2d, elu, feature_alpha_dropout, gelu, glu,
    gumbel_softmax, hardshrink, hardsigmoid, hardswish, hardtanh, leaky_relu, logsigmoid, mish, prelu, relu6,
    scaled_dot_product_attention, selu, silu, softmin, softplus, softshrink, softsign, tanhshrink, threshold,
)
from tests.opinfo.registry import away_from, Const, OpInfo, randn, register, SampleInput


def _F(name):
    return lambda torch, *a, **k: getattr(torch.nn.functional, name)(*a, **k)


def _pointwise_samples(points=(0.0,), margin=0.1, **kwargs_list):
    def samples(rng):
        out = [SampleInput((away_from(rng, (3, 4), points, margin) * 2.0,), name="default")]
        for name, kw in kwargs_list.items():
            out.append(SampleInput((away_from(rng, (2, 5), points, margin) * 2.0,), kw, name=name))
        return out
    return samples


def _np_elu(x, alpha=1.0, scale=1.0, input_scale=1.0):

    return np.where(x > 0, scale * x, scale * alpha * np.expm1(np.minimum(x, 0) * input_scale))


def _np_softplus(x, beta=1.0, threshold=20.0):

    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


def _np_sigmoid(x):

    return 1.0 / (1.0 + np.exp(-x))


def _np_gelu(x, approximate="none"):

    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


def _reg(name, fn, samples, ref, smooth=True, **kw):
    register(OpInfo(name, fn, samples, ref=ref, torch_fn=_F(name), gradgradcheck=smooth, **kw))


def _register_all():

    _reg("hardtanh", hardtanh, _pointwise_samples((-1.0, 1.0, -0.5, 2.0), range_={"min_val": -0.5, "max_val": 2.0}),
         lambda x, min_val=-1.0, max_val=1.0: np.clip(x, min_val, max_val))
    _reg("relu6", relu6, _pointwise_samples((0.0, 6.0)), lambda x: np.clip(x, 0, 6))
    _reg("leaky_relu", leaky_relu, _pointwise_samples(slope={"negative_slope": 0.2}),
         lambda x, negative_slope=0.01: np.where(x > 0, x, negative_slope * x))
    _reg("threshold", threshold,
         lambda rng: [SampleInput((away_from(rng, (3, 4), (0.5,)), 0.5, -2.0))],
         lambda x, t, v: np.where(x > t, x, v))
    _reg("softshrink", softshrink, _pointwise_samples((-0.5, 0.5, -1.0, 1.0), lam={"lambd": 1.0}),
         lambda x, lambd=0.5: np.where(np.abs(x) > lambd, x - np.sign(x) * lambd, 0.0))
    _reg("hardshrink", hardshrink, _pointwise_samples((-0.5, 0.5, -1.0, 1.0), lam={"lambd": 1.0}),
         lambda x, lambd=0.5: np.where(np.abs(x) > lambd, x, 0.0))
    _reg("hardsigmoid", hardsigmoid, _pointwise_samples((-3.0, 3.0)), lambda x: np.clip(x + 3, 0, 6) / 6)
    _reg("hardswish", hardswish, _pointwise_samples((-3.0, 3.0)), lambda x: x * np.clip(x + 3, 0, 6) / 6,
         smooth=False)
    _reg("elu", elu, _pointwise_samples(alpha={"alpha": 0.7}), lambda x, alpha=1.0: _np_elu(x, alpha))
    _reg("selu", selu, _pointwise_samples(), lambda x: _np_elu(x, _SELU_ALPHA, _SELU_SCALE))
    _reg("celu", celu, _pointwise_samples(alpha={"alpha": 2.0}),
         lambda x, alpha=1.0: _np_elu(x, alpha, 1.0, 1.0 / alpha))
    _reg("gelu", gelu, _pointwise_samples(tanh={"approximate": "tanh"}), _np_gelu)
    _reg("silu", silu, _pointwise_samples(), lambda x: x * _np_sigmoid(x))
    _reg("mish", mish, _pointwise_samples(), lambda x: x * np.tanh(np.log1p(np.exp(x))))
    _reg("softplus", softplus,
         lambda rng: [SampleInput((randn(rng, 3, 4) * 3,)),
                      SampleInput((away_from(rng, (2, 5), (1.5,), 0.2) * 2,), {"beta": 2.0, "threshold": 3.0},
                                  name="beta_threshold")],
         _np_softplus)
    _reg("logsigmoid", logsigmoid, lambda rng: [SampleInput((randn(rng, 3, 4) * 3,))],
         lambda x: np.log(_np_sigmoid(x)))
    _reg("softsign", softsign, _pointwise_samples(), lambda x: x / (1 + np.abs(x)))
    _reg("tanhshrink", tanhshrink, _pointwise_samples(), lambda x: x - np.tanh(x))
    _reg("glu", glu, lambda rng: [SampleInput((randn(rng, 3, 4),)), SampleInput((randn(rng, 4, 3), 0), name="dim0")],
         lambda x, dim=-1: np.split(x, 2, axis=dim)[0] * _np_sigmoid(np.split(x, 2, axis=dim)[1]))
    _reg("prelu", prelu,
         lambda rng: [SampleInput((away_from(rng, (2, 3, 4), (0.0,)), np.array([0.25, -0.5, 1.5])), name="per_channel"),
                      SampleInput((away_from(rng, (3, 4), (0.0,)), np.array([0.3])), name="shared")],
         lambda x, w: np.where(x > 0, x, x * (w.reshape((1, -1) + (1,) * (x.ndim - 2)) if w.size > 1 else w)),
         smooth=False)
    _reg("softmin", softmin, lambda rng: [SampleInput((randn(rng, 3, 4), 1)), SampleInput((randn(rng, 3, 4), 0))],
         lambda x, d: np.exp(-x) / np.exp(-x).sum(axis=d, keepdims=True))
    register(OpInfo("dropout", dropout,
                    lambda rng: [SampleInput((randn(rng, 4, 5),), {"p": 0.3}), SampleInput((randn(rng, 4, 5),), {"p": 0.0})],
                    nondeterministic=True))
    register(OpInfo("dropout2d", dropout2d, lambda rng: [SampleInput((randn(rng, 2, 3, 2, 2),), {"p": 0.5})],
                    nondeterministic=True))
    register(OpInfo("gumbel_softmax", gumbel_softmax,
                    lambda rng: [SampleInput((randn(rng, 3, 4),), {"tau": 0.5}),
                                 SampleInput((randn(rng, 3, 4),), {"dim": 0}, name="dim0")],
                    nondeterministic=True))
    register(OpInfo("feature_alpha_dropout", feature_alpha_dropout,
                    lambda rng: [SampleInput((randn(rng, 3, 4, 2),), {"p": 0.3, "training": True})], nondeterministic=True))
    register(OpInfo("alpha_dropout", alpha_dropout,
                    lambda rng: [SampleInput((randn(rng, 4, 5),), {"p": 0.2, "training": True})], nondeterministic=True))
    register(OpInfo(
        "scaled_dot_product_attention", scaled_dot_product_attention,
        lambda rng: [
            SampleInput((randn(rng, 1, 2, 3, 4), randn(rng, 1, 2, 3, 4), randn(rng, 1, 2, 3, 2)), name="plain"),
            SampleInput((randn(rng, 2, 3, 4), randn(rng, 2, 3, 4), randn(rng, 2, 3, 2)), {"is_causal": True}, name="causal"),
            SampleInput((randn(rng, 2, 3, 4), randn(rng, 2, 4, 4), randn(rng, 2, 4, 2)),
                        {"attn_mask": np.array([[True, False, True, True], [True, True, False, False], [False, True, True, True]])},
                        name="bool_mask"),
            SampleInput((randn(rng, 2, 3, 4), randn(rng, 2, 4, 4), randn(rng, 2, 4, 2)),
                        {"attn_mask": Const(randn(rng, 3, 4)), "scale": 0.3}, name="float_mask_scale"),
        ],
        ref=_np_sdpa, torch_fn=lambda torch, q, k, v, **kw: torch.nn.functional.scaled_dot_product_attention(q, k, v, **kw)))


def _np_sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):

    s = q @ np.swapaxes(k, -1, -2) * (1 / math.sqrt(q.shape[-1]) if scale is None else scale)
    if is_causal:
        s = np.where(np.tril(np.ones((q.shape[-2], k.shape[-2]), bool)), s, -np.inf)
    elif attn_mask is not None:
        s = np.where(attn_mask, s, -np.inf) if attn_mask.dtype == bool else s + attn_mask
    e = np.exp(s - s.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)) @ v


_register_all()
