"""The op registry entries for tinytorch/ops/loss.py: sample inputs, NumPy references, PyTorch counterparts."""
from __future__ import annotations

import numpy as np

from tinytorch.ops.loss import (
    binary_cross_entropy, binary_cross_entropy_with_logits, cosine_embedding_loss, cross_entropy, gaussian_nll_loss,
    hinge_embedding_loss, huber_loss, kl_div, l1_loss, margin_ranking_loss, mse_loss, multi_margin_loss,
    multilabel_margin_loss, multilabel_soft_margin_loss, nll_loss, poisson_nll_loss, smooth_l1_loss, soft_margin_loss,
    triplet_margin_loss, triplet_margin_with_distance_loss,
)
from tests.opinfo.registry import away_from, Const, OpInfo, positive, randn, register, SampleInput


def _F(name):
    return lambda torch, *a, **k: getattr(torch.nn.functional, name)(*a, **k)


def _np_reduce(loss, reduction="mean"):
    return loss if reduction == "none" else (loss.sum() if reduction == "sum" else loss.mean())


def _np_log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def _np_nll(logp, t, weight=None, ignore_index=-100, reduction="mean"):
    lp = np.moveaxis(logp, 1, -1) if logp.ndim > 1 else logp[None]
    tt = t if logp.ndim > 1 else np.asarray(t)[None]
    c = lp.shape[-1]
    w = np.ones(c) if weight is None else weight
    valid = tt != ignore_index
    safe = np.where(valid, tt, 0)
    wt = w[safe] * valid
    loss = -np.take_along_axis(lp, safe[..., None], -1)[..., 0] * wt
    if reduction == "none":
        return loss if logp.ndim > 1 else loss[0]
    return loss.sum() if reduction == "sum" else loss.sum() / wt.sum()


def _np_ce(x, t, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    cdim = 1 if x.ndim > 1 else 0
    lp = _np_log_softmax(x, cdim)
    c = x.shape[cdim]
    if t.dtype.kind == "f":
        t = t * (1 - label_smoothing) + label_smoothing / c
        wshape = [1] * x.ndim
        wshape[cdim] = c
        loss = -(lp * t * (1 if weight is None else weight.reshape(wshape))).sum(cdim)
        return loss if reduction == "none" else (loss.sum() if reduction == "sum" else loss.sum() / (x.size // c))
    nll = _np_nll(lp, t, weight, ignore_index, reduction)
    if label_smoothing == 0:
        return nll
    w = np.ones(c) if weight is None else weight
    wshape = [1] * x.ndim
    wshape[cdim] = c
    valid = t != ignore_index
    smooth = -(lp * w.reshape(wshape)).sum(cdim) * valid
    if reduction == "none":
        s = smooth
    elif reduction == "sum":
        s = smooth.sum()
    else:
        s = smooth.sum() / (w[np.where(valid, t, 0)] * valid).sum()
    return (1 - label_smoothing) * nll + s * label_smoothing / c


def _np_huber(d, delta):
    a = np.abs(d)
    return np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))


def _np_logsig(x):
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def _reductions(rng, make, extra=()):
    out = [SampleInput(*make(rng), name="mean")]
    a, k = make(rng)
    out.append(SampleInput(a, dict(k, reduction="sum"), name="sum"))
    a, k = make(rng)
    out.append(SampleInput(a, dict(k, reduction="none"), name="none"))
    for name, kw in extra:
        a, k = make(rng)
        out.append(SampleInput(a, dict(k, **kw), name=name))
    return out


def _register_all():
    def pair(rng):
        return (randn(rng, 3, 4), Const(randn(rng, 3, 4))), {}

    def pair_grad_target(rng):
        return (randn(rng, 3, 4), randn(rng, 3, 4)), {}

    register(OpInfo("mse_loss", mse_loss,
                    lambda rng: _reductions(rng, pair) + [
                        SampleInput(*pair_grad_target(rng), name="target_grad"),
                        SampleInput((randn(rng, 3, 4), Const(randn(rng, 3, 4))), {"weight": Const(positive(rng, 3, 4))},
                                    name="weighted")],
                    ref=lambda x, t, reduction="mean", weight=None: (
                        ((x - t) ** 2 * weight).sum() / weight.sum() if weight is not None else _np_reduce((x - t) ** 2, reduction)),
                    torch_fn=_F("mse_loss")))

    def l1_pair(rng):
        t = randn(rng, 3, 4)
        return (t + away_from(rng, (3, 4)), Const(t)), {}

    register(OpInfo("l1_loss", l1_loss, lambda rng: _reductions(rng, l1_pair),
                    ref=lambda x, t, reduction="mean": _np_reduce(np.abs(x - t), reduction),
                    torch_fn=_F("l1_loss"), gradgradcheck=False))

    def huber_pair(rng):
        t = randn(rng, 3, 4)
        return (t + away_from(rng, (3, 4), (0.0, -1.0, 1.0, -0.5, 0.5)) * 1.5, Const(t)), {}

    register(OpInfo("smooth_l1_loss", smooth_l1_loss,
                    lambda rng: _reductions(rng, huber_pair, (("beta", {"beta": 0.5}),)),
                    ref=lambda x, t, reduction="mean", beta=1.0: _np_reduce(_np_huber(x - t, beta) / beta, reduction),
                    torch_fn=_F("smooth_l1_loss")))
    register(OpInfo("huber_loss", huber_loss,
                    lambda rng: _reductions(rng, huber_pair, (("delta", {"delta": 0.5}),)),
                    ref=lambda x, t, reduction="mean", delta=1.0: _np_reduce(_np_huber(x - t, delta), reduction),
                    torch_fn=_F("huber_loss")))

    def ce_idx(rng):
        return (randn(rng, 4, 5), rng.integers(0, 5, size=4)), {}

    register(OpInfo(
        "cross_entropy", cross_entropy,
        lambda rng: _reductions(rng, ce_idx, (
            ("weight", {"weight": Const(positive(rng, 5))}),
            ("ignore_index", {"ignore_index": 2}),
            ("label_smoothing", {"label_smoothing": 0.2}),
            ("all_options", {"weight": Const(positive(rng, 5)), "ignore_index": 1, "label_smoothing": 0.1}),
        )) + [
            SampleInput((randn(rng, 2, 3, 2, 2), rng.integers(0, 3, size=(2, 2, 2))), name="nd"),
            SampleInput((randn(rng, 2, 3, 4), rng.integers(0, 3, size=(2, 4))),
                        {"reduction": "none", "weight": Const(positive(rng, 3)), "label_smoothing": 0.3}, name="nd_none_options"),
            SampleInput((randn(rng, 5), np.array(3)), name="unbatched"),
            SampleInput((randn(rng, 3, 4), Const(rng.dirichlet(np.ones(4), size=3))), name="probs"),
            SampleInput((randn(rng, 2, 3, 2), Const(rng.dirichlet(np.ones(3), size=(2, 2)).transpose(0, 2, 1))),
                        {"weight": Const(positive(rng, 3)), "label_smoothing": 0.1, "reduction": "sum"}, name="probs_nd_options"),
        ],
        ref=_np_ce, torch_fn=_F("cross_entropy")))
    register(OpInfo(
        "nll_loss", nll_loss,
        lambda rng: _reductions(rng, ce_idx, (
            ("weight_ignore", {"weight": Const(positive(rng, 5)), "ignore_index": 0}),
        )) + [SampleInput((randn(rng, 2, 3, 4), rng.integers(0, 3, size=(2, 4))), {"weight": Const(positive(rng, 3))}, name="nd")],
        ref=_np_nll, torch_fn=_F("nll_loss")))

    def bce(rng):
        return (rng.uniform(0.1, 0.9, size=(3, 4)), Const(rng.uniform(0, 1, size=(3, 4)))), {}

    register(OpInfo(
        "binary_cross_entropy", binary_cross_entropy,
        lambda rng: _reductions(rng, bce, (("weight", {"weight": Const(positive(rng, 3, 4))}),)) + [
            SampleInput((rng.uniform(0.1, 0.9, size=(2, 3)), rng.uniform(0, 1, size=(2, 3))), name="target_grad")],
        ref=lambda x, t, weight=None, reduction="mean": _np_reduce(
            -(t * np.log(x) + (1 - t) * np.log(1 - x)) * (1 if weight is None else weight), reduction),
        torch_fn=_F("binary_cross_entropy")))

    def bcel(rng):
        return (randn(rng, 3, 4) * 2, Const(rng.uniform(0, 1, size=(3, 4)))), {}

    register(OpInfo(
        "binary_cross_entropy_with_logits", binary_cross_entropy_with_logits,
        lambda rng: _reductions(rng, bcel, (
            ("weight_pos_weight", {"weight": Const(positive(rng, 3, 4)), "pos_weight": Const(positive(rng, 4))}),
        )) + [SampleInput((randn(rng, 2, 3), randn(rng, 2, 3)), {"pos_weight": Const(positive(rng, 3))}, name="all_grads")],
        ref=lambda x, t, weight=None, reduction="mean", pos_weight=None: _np_reduce(
            ((1 - t) * x - (1 + ((pos_weight if pos_weight is not None else 1) - 1) * t) * _np_logsig(x))
            * (1 if weight is None else weight), reduction),
        torch_fn=_F("binary_cross_entropy_with_logits")))

    def kl(rng):
        return (_np_log_softmax(randn(rng, 3, 4), 1), Const(rng.dirichlet(np.ones(4), size=3))), {}

    register(OpInfo(
        "kl_div", kl_div,
        lambda rng: _reductions(rng, kl, (("batchmean", {"reduction": "batchmean"}),)) + [
            SampleInput((randn(rng, 3, 4), randn(rng, 3, 4)), {"log_target": True, "reduction": "batchmean"}, name="log_target"),
            SampleInput((randn(rng, 2, 3), positive(rng, 2, 3)), {"reduction": "sum"}, name="target_grad")],
        ref=lambda x, t, reduction="mean", log_target=False: (lambda l: l.sum() / x.shape[0] if reduction == "batchmean"
                                                              else _np_reduce(l, reduction))(
            np.exp(t) * (t - x) if log_target else np.where(t > 0, t * np.log(np.where(t > 0, t, 1)), 0) - t * x),
        torch_fn=_F("kl_div")))
    register(OpInfo(
        "poisson_nll_loss", poisson_nll_loss,
        lambda rng: [SampleInput((randn(rng, 3, 4), Const(rng.poisson(2.0, size=(3, 4)).astype(float))), name="log_input"),
                     SampleInput((positive(rng, 3, 4), Const(rng.poisson(2.0, size=(3, 4)).astype(float))),
                                 {"log_input": False, "full": True, "reduction": "sum"}, name="full")],
        ref=None, torch_fn=_F("poisson_nll_loss")))
    register(OpInfo(
        "gaussian_nll_loss", gaussian_nll_loss,
        lambda rng: [SampleInput((randn(rng, 3, 4), Const(randn(rng, 3, 4)), positive(rng, 3, 4)), name="hetero"),
                     SampleInput((randn(rng, 3, 4), Const(randn(rng, 3, 4)), positive(rng, 3, 1)),
                                 {"full": True, "reduction": "sum"}, name="homo_full"),
                     SampleInput((randn(rng, 3, 4), randn(rng, 3, 4), positive(rng, 3)), {"reduction": "none"}, name="unsqueeze")],
        ref=None, torch_fn=_F("gaussian_nll_loss")))
    register(OpInfo(
        "cosine_embedding_loss", cosine_embedding_loss,
        lambda rng: [SampleInput((randn(rng, 4, 3), randn(rng, 4, 3), np.array([1, -1, 1, -1])), {"margin": -0.9}, name="margin"),
                     SampleInput((randn(rng, 4, 3), randn(rng, 4, 3), np.array([1, -1, -1, 1])), {"reduction": "none", "margin": -1.0},
                                 name="none")],
        ref=None, torch_fn=_F("cosine_embedding_loss")))

    def ranking(rng):
        x1 = randn(rng, 5)
        y = np.array([1.0, -1.0, 1.0, 1.0, -1.0])
        # keep -y (x1 - x2) + margin away from the hinge at 0
        x2 = x1 + y * away_from(rng, (5,), (0.0,), 0.2)
        return (x1, x2, Const(y)), {}

    register(OpInfo("margin_ranking_loss", margin_ranking_loss,
                    lambda rng: _reductions(rng, ranking),
                    ref=lambda a, b, y, margin=0.0, reduction="mean": _np_reduce(np.maximum(0, -y * (a - b) + margin), reduction),
                    torch_fn=_F("margin_ranking_loss"), gradgradcheck=False))
    register(OpInfo(
        "hinge_embedding_loss", hinge_embedding_loss,
        lambda rng: [SampleInput((away_from(rng, (3, 4), (1.0, 0.5)), Const(np.sign(randn(rng, 3, 4)))), name="default"),
                     SampleInput((away_from(rng, (3, 4), (0.5,)), Const(np.sign(randn(rng, 3, 4)))), {"margin": 0.5, "reduction": "sum"},
                                 name="margin")],
        ref=lambda x, t, margin=1.0, reduction="mean": _np_reduce(np.where(t != 1, np.maximum(0, margin - x), 0)
                                                                  + np.where(t != -1, x, 0), reduction),
        torch_fn=_F("hinge_embedding_loss"), gradgradcheck=False))
    register(OpInfo(
        "soft_margin_loss", soft_margin_loss,
        lambda rng: _reductions(rng, lambda r: ((randn(r, 3, 4), Const(np.sign(randn(r, 3, 4)))), {})),
        ref=lambda x, t, reduction="mean": _np_reduce(np.log1p(np.exp(-t * x)), reduction),
        torch_fn=_F("soft_margin_loss")))
    register(OpInfo(
        "multilabel_soft_margin_loss", multilabel_soft_margin_loss,
        lambda rng: _reductions(rng, lambda r: ((randn(r, 3, 4), Const(r.integers(0, 2, size=(3, 4)).astype(float))), {}),
                                (("weight", {"weight": Const(positive(rng, 4))}),)),
        ref=lambda x, t, weight=None, reduction="mean": _np_reduce(
            (-(t * _np_logsig(x) + (1 - t) * _np_logsig(-x)) * (1 if weight is None else weight)).mean(-1), reduction),
        torch_fn=_F("multilabel_soft_margin_loss")))

    def mm(rng):
        return (randn(rng, 4, 5) * 3, np.array([0, 3, 4, 1])), {}

    register(OpInfo(
        "multi_margin_loss", multi_margin_loss,
        lambda rng: _reductions(rng, mm, (("p2_weight_margin", {"p": 2, "margin": 0.7, "weight": Const(positive(rng, 5))}),)),
        ref=None, torch_fn=_F("multi_margin_loss"), gradgradcheck=False))
    register(OpInfo(
        "triplet_margin_loss", triplet_margin_loss,
        lambda rng: [SampleInput((randn(rng, 4, 3), randn(rng, 4, 3), randn(rng, 4, 3)), {"margin": 5.0}, name="default"),
                     SampleInput((randn(rng, 4, 3), randn(rng, 4, 3), randn(rng, 4, 3)),
                                 {"margin": 5.0, "p": 1, "swap": True, "reduction": "none"}, name="p1_swap")],
        ref=None, torch_fn=_F("triplet_margin_loss"), gradgradcheck=False))
    register(OpInfo(
        "triplet_margin_with_distance_loss", triplet_margin_with_distance_loss,
        lambda rng: [SampleInput((randn(rng, 4, 3), randn(rng, 4, 3), randn(rng, 4, 3)), {"margin": 5.0, "swap": True},
                                 name="default_distance")],
        ref=None, torch_fn=_F("triplet_margin_with_distance_loss"), gradgradcheck=False))
    register(OpInfo(
        "multilabel_margin_loss", multilabel_margin_loss,
        lambda rng: [SampleInput((randn(rng, 3, 4) * 0.2, np.array([[3, 0, -1, 1], [1, 2, 3, 0], [2, -1, 0, 0]])), name="2d"),
                     SampleInput((randn(rng, 4) * 0.2, np.array([1, 3, -1, 0])), {"reduction": "sum"}, name="1d")],
        ref=None, torch_fn=_F("multilabel_margin_loss"), gradgradcheck=False))


_register_all()
