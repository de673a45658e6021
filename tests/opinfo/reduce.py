"""The op registry entries for tinytorch/ops/reduce.py: sample inputs, NumPy references, PyTorch counterparts."""
from __future__ import annotations

import numpy as np

from tinytorch.ops.reduce import (
    all, amax, amin, any, argmax, argmin, count_nonzero, cumprod, cumsum, log_softmax, logsumexp, max, mean, min,
    norm, prod, softmax, std, std_mean, sum, sum_to_size, var, var_mean,
)
from tests.opinfo.registry import away_from, OpInfo, positive, randn, register, SampleInput


def _reduce_samples(rng):
    return [
        SampleInput((randn(rng, 3, 4),), name="all"),
        SampleInput((randn(rng, 3, 4),), {"dim": 1}, name="dim1"),
        SampleInput((randn(rng, 2, 3, 4),), {"dim": (0, 2), "keepdim": True}, name="tuple_keepdim"),
        SampleInput((randn(rng, 2, 3, 4),), {"dim": -1}, name="neg_dim"),
    ]


def _axis(dim):
    return tuple(dim) if isinstance(dim, (list, tuple)) else dim


def _np_sum(x, dim=None, keepdim=False):
    return x.sum(axis=_axis(dim), keepdims=keepdim)


def _torch_reduce(name):
    """torch.<name>(x) without dim, torch.<name>(x, dim, keepdim) with one."""
    def fn(torch, x, dim=None, keepdim=False, **kw):
        f = getattr(torch, name)
        return f(x, **kw) if dim is None else f(x, dim, keepdim=keepdim, **kw)
    return fn


register(OpInfo("sum", sum, _reduce_samples, ref=_np_sum, torch_fn=_torch_reduce("sum")))
register(OpInfo("sum_to_size", sum_to_size,
                lambda rng: [SampleInput((randn(rng, 2, 3, 4), (3, 1))), SampleInput((randn(rng, 3, 4), (1, 4)))],
                ref=lambda x, s: x.sum(axis=tuple(range(x.ndim - len(s))) + tuple(
                    x.ndim - len(s) + i for i, k in enumerate(s) if k == 1), keepdims=False).reshape(s),
                torch_fn=lambda torch, x, s: x.sum_to_size(s)))
register(OpInfo("mean", mean, _reduce_samples, ref=lambda x, dim=None, keepdim=False: x.mean(axis=_axis(dim),
                                                                                              keepdims=keepdim),
                torch_fn=_torch_reduce("mean")))


def _prod_samples(rng):
    x = positive(rng, 3, 4) * np.where(rng.random((3, 4)) < 0.5, -1, 1)
    one_zero = x.copy()
    one_zero[1, 2] = 0.0
    two_zeros = x.copy()
    two_zeros[0, 1] = two_zeros[0, 3] = 0.0
    return [
        SampleInput((x,), name="all"),
        SampleInput((x,), {"dim": 1}, name="dim1"),
        SampleInput((one_zero,), {"dim": 1, "keepdim": True}, name="one_zero"),
        SampleInput((two_zeros,), {"dim": 1}, name="two_zeros"),
        SampleInput((one_zero,), name="all_one_zero"),
    ]


register(OpInfo("prod", prod, _prod_samples, ref=lambda x, dim=None, keepdim=False: x.prod(axis=dim, keepdims=keepdim),
                torch_fn=_torch_reduce("prod")))


def _distinct(rng, *shape):
    """Values with no ties (max/min are not differentiable at ties)."""
    return rng.permutation(np.arange(np.prod(shape)) * 0.37 - 2.0).reshape(shape) + 0.01 * rng.random(shape)


def _extreme_samples(rng):
    return [
        SampleInput((_distinct(rng, 3, 4),), name="all"),
        SampleInput((_distinct(rng, 3, 4),), {"dim": 1}, name="dim1"),
        SampleInput((_distinct(rng, 2, 3, 4),), {"dim": (0, 2), "keepdim": True}, name="tuple_keepdim"),
    ]


register(OpInfo("amax", amax, _extreme_samples, ref=lambda x, dim=None, keepdim=False: x.max(axis=_axis(dim),
                                                                                               keepdims=keepdim),
                torch_fn=lambda torch, x, dim=(), keepdim=False: torch.amax(x, dim, keepdim), gradgradcheck=False))
register(OpInfo("amin", amin, _extreme_samples, ref=lambda x, dim=None, keepdim=False: x.min(axis=_axis(dim),
                                                                                               keepdims=keepdim),
                torch_fn=lambda torch, x, dim=(), keepdim=False: torch.amin(x, dim, keepdim), gradgradcheck=False))


def _max_dim_samples(rng):
    return [
        SampleInput((_distinct(rng, 3, 4),), name="all"),
        SampleInput((_distinct(rng, 3, 4), 1), name="dim1"),
        SampleInput((_distinct(rng, 2, 3, 4), 0, True), name="dim0_keepdim"),
    ]


def _np_max(largest):
    def ref(x, dim=None, keepdim=False):
        if dim is None:
            return x.max() if largest else x.min()
        idx = np.argmax(x, axis=dim) if largest else np.argmin(x, axis=dim)
        vals = np.take_along_axis(x, np.expand_dims(idx, dim), dim)
        if keepdim:
            return vals, np.expand_dims(idx, dim)
        return vals.squeeze(dim), idx
    return ref


register(OpInfo("max", max, _max_dim_samples, ref=_np_max(True), torch_fn=lambda torch, *a: torch.max(*a),
                gradgradcheck=False))
register(OpInfo("min", min, _max_dim_samples, ref=_np_max(False), torch_fn=lambda torch, *a: torch.min(*a),
                gradgradcheck=False))
register(OpInfo("max_binary", max, lambda rng: [SampleInput((_distinct(rng, 3, 4), _distinct(rng, 4)))],
                ref=np.maximum, torch_fn=lambda torch, a, b: torch.max(a, b), gradgradcheck=False))


def _var_samples(rng):
    return [
        SampleInput((randn(rng, 3, 4),), name="all"),
        SampleInput((randn(rng, 3, 4), 1), name="dim1"),
        SampleInput((randn(rng, 2, 3, 4), (0, 2)), {"keepdim": True, "correction": 0}, name="tuple_correction0"),
        SampleInput((randn(rng, 3, 4), 0), {"unbiased": False}, name="biased"),
    ]


def _np_var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    ddof = correction if correction is not None else (0 if unbiased is False else 1)
    return x.var(axis=_axis(dim), ddof=ddof, keepdims=keepdim)


register(OpInfo("var", var, _var_samples, ref=_np_var, torch_fn=lambda torch, *a, **k: torch.var(*a, **k)))
register(OpInfo("std", std, _var_samples, ref=lambda *a, **k: np.sqrt(_np_var(*a, **k)),
                torch_fn=lambda torch, *a, **k: torch.std(*a, **k)))
register(OpInfo("var_mean", var_mean, _var_samples,
                ref=lambda x, dim=None, *a, keepdim=False, **k: (_np_var(x, dim, *a, keepdim=keepdim, **k),
                                                                 x.mean(axis=_axis(dim), keepdims=keepdim)),
                torch_fn=lambda torch, *a, **k: torch.var_mean(*a, **k)))
register(OpInfo("std_mean", std_mean, _var_samples,
                ref=lambda x, dim=None, *a, keepdim=False, **k: (np.sqrt(_np_var(x, dim, *a, keepdim=keepdim, **k)),
                                                                 x.mean(axis=_axis(dim), keepdims=keepdim)),
                torch_fn=lambda torch, *a, **k: torch.std_mean(*a, **k)))


def _np_norm(x, p="fro", dim=None, keepdim=False):
    ax = _axis(dim)
    a = np.abs(x)
    if p in ("fro", 2):
        return np.sqrt((a * a).sum(axis=ax, keepdims=keepdim))
    if p == np.inf:
        return a.max(axis=ax, keepdims=keepdim)
    if p == -np.inf:
        return a.min(axis=ax, keepdims=keepdim)
    return (a ** p).sum(axis=ax, keepdims=keepdim) ** (1 / p)


def _norm_samples(rng):
    x = lambda *s: away_from(rng, s)  # noqa: E731 - |x| has a kink at 0
    return [
        SampleInput((x(3, 4),), name="fro"),
        SampleInput((x(3, 4), 2, 1), name="p2_dim1"),
        SampleInput((x(3, 4), 1, (0, 1), True), name="p1_keepdim"),
        SampleInput((_distinct(rng, 3, 4), np.inf, 1), name="inf"),
        SampleInput((_distinct(rng, 3, 4), -np.inf, 0), name="neg_inf"),
        SampleInput((x(3, 4), 3.0, 0), name="p3"),
    ]


register(OpInfo("norm", norm, _norm_samples, ref=_np_norm, torch_fn=lambda torch, *a: torch.norm(*a),
                gradgradcheck=False))
register(OpInfo("norm_smooth", norm, lambda rng: [SampleInput((randn(rng, 3, 4),)),
                                                  SampleInput((randn(rng, 3, 4), 2, 1))],
                ref=_np_norm, torch_fn=lambda torch, *a: torch.norm(*a)))


def _np_logsumexp(x, dim, keepdim=False):
    m = x.max(axis=_axis(dim), keepdims=True)
    out = np.log(np.exp(x - m).sum(axis=_axis(dim), keepdims=True)) + m
    return out if keepdim else np.squeeze(out, axis=_axis(dim))


register(OpInfo("logsumexp", logsumexp,
                lambda rng: [SampleInput((randn(rng, 3, 4), 1)), SampleInput((randn(rng, 2, 3, 4), (0, 2), True)),
                             SampleInput((randn(rng, 3, 4) * 30, -1), name="large")],
                ref=_np_logsumexp, torch_fn=lambda torch, *a: torch.logsumexp(*a)))
register(OpInfo("cumsum", cumsum,
                lambda rng: [SampleInput((randn(rng, 3, 4), 1)), SampleInput((randn(rng, 2, 3, 4), 0))],
                ref=lambda x, d: np.cumsum(x, axis=d), torch_fn=lambda torch, x, d: torch.cumsum(x, d)))


def _cumprod_samples(rng):
    x = positive(rng, 3, 4) * np.where(rng.random((3, 4)) < 0.5, -1, 1)
    z = x.copy()
    z[0, 1] = 0.0
    z[1, 0] = z[1, 2] = 0.0
    z[2, 3] = 0.0
    return [SampleInput((x, 1), name="no_zeros"), SampleInput((x[:2], 0), name="dim0"),
            SampleInput((z, 1), name="zeros")]


register(OpInfo("cumprod", cumprod, _cumprod_samples, ref=lambda x, d: np.cumprod(x, axis=d),
                torch_fn=lambda torch, x, d: torch.cumprod(x, d)))


def _np_softmax(x, dim, log=False):
    s = x - x.max(axis=dim, keepdims=True)
    lse = np.log(np.exp(s).sum(axis=dim, keepdims=True))
    return s - lse if log else np.exp(s - lse)


def _softmax_samples(rng):
    return [SampleInput((randn(rng, 3, 4),), {"dim": 1}), SampleInput((randn(rng, 2, 3, 4),), {"dim": 0}),
            SampleInput((randn(rng, 3, 4) * 20,), {"dim": -1}, name="large")]


register(OpInfo("softmax", softmax, _softmax_samples, ref=lambda x, dim: _np_softmax(x, dim),
                torch_fn=lambda torch, x, dim: torch.softmax(x, dim)))
register(OpInfo("log_softmax", log_softmax, _softmax_samples, ref=lambda x, dim: _np_softmax(x, dim, log=True),
                torch_fn=lambda torch, x, dim: torch.log_softmax(x, dim)))

# non-differentiable reductions: forward against NumPy and torch
register(OpInfo("argmax", argmax, lambda rng: [SampleInput((_distinct(rng, 3, 4),)), SampleInput((_distinct(rng, 3, 4), 1)),
                                               SampleInput((_distinct(rng, 3, 4), 0, True))],
                ref=lambda x, dim=None, keepdim=False: np.argmax(x, axis=dim, keepdims=keepdim),
                torch_fn=lambda torch, *a: torch.argmax(*a), gradcheck=False))
register(OpInfo("argmin", argmin, lambda rng: [SampleInput((_distinct(rng, 3, 4),)), SampleInput((_distinct(rng, 3, 4), 1))],
                ref=lambda x, dim=None, keepdim=False: np.argmin(x, axis=dim, keepdims=keepdim),
                torch_fn=lambda torch, *a: torch.argmin(*a), gradcheck=False))
for _name, _fn in (("all", all), ("any", any)):
    register(OpInfo(_name, _fn, lambda rng: [SampleInput((rng.random((3, 4)) < 0.7,)),
                                             SampleInput((rng.random((3, 4)) < 0.3, 1))],
                    ref=lambda x, dim=None, keepdim=False, m=_name: getattr(np, m)(x, axis=dim, keepdims=keepdim),
                    torch_fn=lambda torch, *a, m=_name: getattr(torch, m)(*a), gradcheck=False))
register(OpInfo("count_nonzero", count_nonzero,
                lambda rng: [SampleInput((np.round(randn(rng, 3, 4)),)), SampleInput((np.round(randn(rng, 3, 4)), 1))],
                ref=lambda x, dim=None: np.count_nonzero(x, axis=dim),
                torch_fn=lambda torch, *a: torch.count_nonzero(*a), gradcheck=False))
