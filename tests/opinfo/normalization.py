"""The op registry entries for tinytorch/ops/normalization.py: sample inputs, NumPy references, PyTorch counterparts."""
from __future__ import annotations

import numpy as np

from tinytorch.ops.normalization import (
    batch_norm, cosine_similarity, embedding, embedding_bag, group_norm, instance_norm, layer_norm,
    local_response_norm, normalize, pairwise_distance, rms_norm,
)
from tests.opinfo.registry import Const, OpInfo, positive, randn, register, SampleInput


def _F(name):
    return lambda torch, *a, **k: getattr(torch.nn.functional, name)(*a, **k)


def _np_standardize(x, axes, eps):
    m = x.mean(axis=axes, keepdims=True)
    v = x.var(axis=axes, keepdims=True)
    return (x - m) / np.sqrt(v + eps)


def _np_batch_norm(x, rm, rv, w=None, b=None, training=False, momentum=0.1, eps=1e-5):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        y = _np_standardize(x, (0,) + tuple(range(2, x.ndim)), eps)
    else:
        y = (x - rm.reshape(shape)) / np.sqrt(rv.reshape(shape) + eps)
    if w is not None:
        y = y * w.reshape(shape)
    if b is not None:
        y = y + b.reshape(shape)
    return y


def _np_layer_norm(x, shape, w=None, b=None, eps=1e-5):
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    y = _np_standardize(x, tuple(range(x.ndim - len(shape), x.ndim)), eps)
    return y * (1 if w is None else w) + (0 if b is None else b)


def _np_group_norm(x, g, w=None, b=None, eps=1e-5):
    n, c = x.shape[:2]
    y = _np_standardize(x.reshape(n, g, -1), (2,), eps).reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    return y * (1 if w is None else w.reshape(shape)) + (0 if b is None else b.reshape(shape))


def _np_norm(x, p, axis, keepdims=False):
    return np.linalg.norm(x, ord=p, axis=axis, keepdims=keepdims) if p != 2 else np.sqrt((x * x).sum(axis, keepdims=keepdims))


def _bn_samples(rng):
    c = 3
    return [
        SampleInput((randn(rng, 4, c), Const(randn(rng, c)), Const(positive(rng, c)), randn(rng, c), randn(rng, c)),
                    {"training": True}, name="train_2d"),
        SampleInput((randn(rng, 2, c, 5), None, None, randn(rng, c), None), {"training": True, "eps": 1e-3},
                    name="train_3d_noaffine_bias"),
        SampleInput((randn(rng, 2, c, 2, 3), None, None), {"training": True}, name="train_4d_plain"),
        SampleInput((randn(rng, 2, c, 2, 2), Const(randn(rng, c)), Const(positive(rng, c)), randn(rng, c), randn(rng, c)),
                    {"training": False}, name="eval_4d"),
    ]


def _register_all():
    register(OpInfo("batch_norm", batch_norm, _bn_samples, ref=_np_batch_norm, torch_fn=_F("batch_norm"),
                    gradcheck_atol=1e-4))
    register(OpInfo(
        "layer_norm", layer_norm,
        lambda rng: [SampleInput((randn(rng, 3, 5), (5,), randn(rng, 5), randn(rng, 5)), name="affine"),
                     SampleInput((randn(rng, 2, 3, 4), (3, 4)), {"eps": 1e-3}, name="two_dims_plain"),
                     SampleInput((randn(rng, 2, 3, 4), 4, randn(rng, 4)), name="int_shape_weight_only")],
        ref=_np_layer_norm, gradcheck_atol=1e-4,
        torch_fn=lambda torch, x, shape, *a, **k: torch.nn.functional.layer_norm(
            x, (shape,) if isinstance(shape, int) else shape, *a, **k)))
    register(OpInfo(
        "group_norm", group_norm,
        lambda rng: [SampleInput((randn(rng, 2, 4, 3), 2, randn(rng, 4), randn(rng, 4)), name="affine"),
                     SampleInput((randn(rng, 2, 6, 2, 2), 3), name="4d_plain")],
        ref=_np_group_norm, torch_fn=_F("group_norm"), gradcheck_atol=1e-4))
    register(OpInfo(
        "instance_norm", instance_norm,
        lambda rng: [SampleInput((randn(rng, 2, 3, 5),), {"weight": randn(rng, 3), "bias": randn(rng, 3)}, name="affine"),
                     SampleInput((randn(rng, 2, 2, 2, 3),), name="4d_plain")],
        ref=lambda x, weight=None, bias=None: _np_group_norm(x, x.shape[1], weight, bias),
        torch_fn=_F("instance_norm"), gradcheck_atol=1e-4))
    register(OpInfo(
        "rms_norm", rms_norm,
        lambda rng: [SampleInput((randn(rng, 3, 5), (5,), randn(rng, 5)), name="weight"),
                     SampleInput((randn(rng, 2, 3, 4), [3, 4]), {"eps": 1e-3}, name="two_dims")],
        ref=lambda x, shape, w=None, eps=None: x / np.sqrt(
            (x * x).mean(axis=tuple(range(x.ndim - len(shape), x.ndim)), keepdims=True)
            + (np.finfo(x.dtype).eps if eps is None else eps)) * (1 if w is None else w),
        torch_fn=_F("rms_norm")))
    register(OpInfo(
        "local_response_norm", local_response_norm,
        lambda rng: [SampleInput((randn(rng, 2, 5, 3), 3), {"alpha": 0.1, "k": 2.0}, name="size3"),
                     SampleInput((randn(rng, 1, 4, 2, 2), 2), {"alpha": 0.5, "beta": 0.5}, name="size2")],
        ref=_np_lrn, torch_fn=_F("local_response_norm")))
    register(OpInfo(
        "normalize", normalize,
        lambda rng: [SampleInput((randn(rng, 3, 4),), name="default"),
                     SampleInput((randn(rng, 3, 4),), {"p": 1.0, "dim": 0}, name="p1_dim0"),
                     SampleInput((randn(rng, 2, 3, 2),), {"p": 3.0, "dim": -1}, name="p3")],
        ref=lambda x, p=2.0, dim=1, eps=1e-12: x / np.maximum(_np_norm(x, p, dim, True), eps),
        torch_fn=_F("normalize"), skip_noncontiguous=False))
    register(OpInfo(
        "cosine_similarity", cosine_similarity,
        lambda rng: [SampleInput((randn(rng, 3, 4), randn(rng, 3, 4)), name="same"),
                     SampleInput((randn(rng, 2, 3, 4), randn(rng, 3, 4)), {"dim": -1}, name="broadcast")],
        ref=lambda a, b, dim=1, eps=1e-8: (a * b).sum(dim) / (
            np.maximum(_np_norm(a, 2, dim), eps) * np.maximum(_np_norm(b, 2, dim), eps)),
        torch_fn=_F("cosine_similarity")))
    register(OpInfo(
        "pairwise_distance", pairwise_distance,
        lambda rng: [SampleInput((randn(rng, 3, 4), randn(rng, 3, 4)), name="p2"),
                     SampleInput((randn(rng, 3, 4), randn(rng, 4)), {"p": 3.0, "keepdim": True}, name="p3_broadcast")],
        ref=lambda a, b, p=2.0, eps=1e-6, keepdim=False: _np_norm(a - b + eps, p, -1, keepdim),
        torch_fn=_F("pairwise_distance")))
    register(OpInfo(
        "embedding", embedding,
        lambda rng: [SampleInput((np.array([[0, 2, 2], [3, 1, 0]]), randn(rng, 4, 3)), name="plain"),
                     SampleInput((np.array(3), randn(rng, 4, 2)), name="scalar_index")],
        ref=lambda idx, w, padding_idx=None: w[idx], torch_fn=_F("embedding")))
    register(OpInfo(
        "embedding_bag", embedding_bag,
        lambda rng: [SampleInput((np.array([[0, 2, 2], [3, 1, 0]]), randn(rng, 4, 3)), {"mode": m}, name=f"2d_{m}")
                     for m in ("sum", "mean", "max")]
        + [SampleInput((np.array([1, 0, 3, 3, 2]), randn(rng, 4, 2)), {"offsets": np.array([0, 2]), "mode": "sum"},
                       name="offsets_sum"),
           SampleInput((np.array([1, 0, 3, 3, 2]), randn(rng, 4, 2)),
                       {"offsets": np.array([0, 2]), "mode": "mean", "padding_idx": 3}, name="offsets_mean_padding")],
        ref=_np_embedding_bag, torch_fn=_F("embedding_bag"), gradgradcheck=False))


def _np_embedding_bag(idx, w, offsets=None, mode="mean", padding_idx=None):
    if idx.ndim == 2:
        bags = list(idx)
    else:
        bounds = list(offsets) + [len(idx)]
        bags = [idx[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    red = {"sum": np.sum, "mean": np.mean, "max": np.max}[mode]
    rows = [w[[i for i in bag if i != padding_idx]] for bag in bags]
    return np.stack([red(r, axis=0) if len(r) else np.zeros(w.shape[1]) for r in rows])


def _np_lrn(x, size, alpha=1e-4, beta=0.75, k=1.0):
    c = x.shape[1]
    sq = x * x
    pad = [(0, 0)] * x.ndim
    pad[1] = (size // 2, (size - 1) // 2)
    sq = np.pad(sq, pad)
    win = sum(sq[:, s:s + c] for s in range(size))
    return x / (k + alpha / size * win) ** beta


_register_all()
