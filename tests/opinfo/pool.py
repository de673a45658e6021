"""The op registry entries for tinytorch/ops/pool.py: sample inputs, NumPy references, PyTorch counterparts."""
from __future__ import annotations

import numpy as np

from tinytorch.ops.conv import _ntuple
from tinytorch.ops.pool import (
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool2d, avg_pool1d, avg_pool2d,
    interpolate, lp_pool1d, lp_pool2d, max_pool1d, max_pool2d, max_unpool1d, max_unpool2d, pad, pixel_shuffle,
    pixel_unshuffle,
)
from tests.opinfo.registry import OpInfo, positive, randn, register, SampleInput


def _ref_pool_nd(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, kind="max",
                 count_include_pad=True, divisor_override=None, return_indices=False):
    nd = 1 if kind.endswith("1d") else 2
    if x.ndim == nd + 1:
        res = _ref_pool_nd(x[None], kernel_size, stride, padding, dilation, ceil_mode, kind, count_include_pad,
                           divisor_override, return_indices)
        return tuple(r[0] for r in res) if return_indices else res[0]
    k = _ntuple(kernel_size, nd, "k", "ref")
    s = k if stride is None else _ntuple(stride, nd, "s", "ref")
    p, d = _ntuple(padding, nd, "p", "ref"), _ntuple(dilation, nd, "d", "ref")
    if nd == 1:
        x, k, s, p, d = x[:, :, None, :], (1,) + k, (1,) + s, (0,) + p, (1,) + d
    n_, c_, h, w = x.shape
    outs = []
    for n, kk, ss, pp, dd in zip((h, w), k, s, p, d):
        span = n + 2 * pp - dd * (kk - 1) - 1
        o = (-(-span // ss) if ceil_mode else span // ss) + 1
        if ceil_mode and (o - 1) * ss >= n + pp:
            o -= 1
        outs.append(o)
    out = np.zeros((n_, c_, *outs))
    idx = np.zeros((n_, c_, *outs), dtype=np.int64)
    for i in range(outs[0]):
        for j in range(outs[1]):
            h0, w0 = i * s[0] - p[0], j * s[1] - p[1]
            rows = [h0 + a * d[0] for a in range(k[0])]
            cols = [w0 + b * d[1] for b in range(k[1])]
            inside = [(r, c) for r in rows for c in cols if 0 <= r < h and 0 <= c < w]
            if kind.startswith("max"):
                vals = np.stack([x[:, :, r, c] for r, c in inside], -1)
                best = vals.argmax(-1)
                out[:, :, i, j] = vals.max(-1)
                idx[:, :, i, j] = np.array([r * w + c for r, c in inside])[best]
            else:
                total = sum(x[:, :, r, c] for r, c in inside)
                he, we = min(h0 + k[0], h + p[0]), min(w0 + k[1], w + p[1])
                if divisor_override:
                    div = divisor_override
                elif count_include_pad:
                    div = (he - h0) * (we - w0)
                else:
                    div = (min(he, h) - max(h0, 0)) * (min(we, w) - max(w0, 0))
                out[:, :, i, j] = total / div
    if nd == 1:
        out, idx = out[:, :, 0], idx[:, :, 0]
    return (out, idx) if return_indices else out


def _ref_adaptive(x, output_size, kind="avg", return_indices=False):
    nd = 1 if kind.endswith("1d") else 2
    sizes = _ntuple(output_size, nd, "o", "ref")
    if nd == 1:
        x, sizes = x[..., None, :], (1,) + sizes
    h, w = x.shape[-2:]
    out = np.zeros(x.shape[:-2] + sizes)
    idx = np.zeros(x.shape[:-2] + sizes, dtype=np.int64)
    for i in range(sizes[0]):
        for j in range(sizes[1]):
            r0, r1 = (i * h) // sizes[0], -(-((i + 1) * h) // sizes[0])
            c0, c1 = (j * w) // sizes[1], -(-((j + 1) * w) // sizes[1])
            win = x[..., r0:r1, c0:c1]
            if kind.startswith("avg"):
                out[..., i, j] = win.mean(axis=(-2, -1))
            else:
                flat = win.reshape(win.shape[:-2] + (-1,))
                a = flat.argmax(-1)
                out[..., i, j] = flat.max(-1)
                idx[..., i, j] = (r0 + a // (c1 - c0)) * w + c0 + a % (c1 - c0)
    if nd == 1:
        out, idx = out[..., 0, :], idx[..., 0, :]
    return (out, idx) if return_indices else out


def _ref_pad(x, pad, mode="constant", value=None):
    k = len(pad) // 2
    widths = [(0, 0)] * (x.ndim - k) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k))]
    if mode == "constant":
        y = np.pad(x, [(max(lo, 0), max(hi, 0)) for lo, hi in widths], mode="constant",
                   constant_values=0 if value is None else value)
        return y[tuple(slice(max(-lo, 0), y.shape[i] - max(-hi, 0)) for i, (lo, hi) in enumerate(widths))]
    return np.pad(x, widths, mode={"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode])


def _ref_interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
    """Per-output-element formulas for 'nearest' and '(bi)linear' (gathers, no matrices)."""
    nd = x.ndim - 2
    spatial = x.shape[2:]
    if size is not None:
        out = _ntuple(size, nd, "s", "ref")
        scales = [n / o for n, o in zip(spatial, out)]
    else:
        sf = tuple(scale_factor) if isinstance(scale_factor, tuple) else (scale_factor,) * nd
        out = tuple(int(np.floor(n * f)) for n, f in zip(spatial, sf))
        scales = [1.0 / f for f in sf]
    y = x
    for axis, (n, o, sc) in enumerate(zip(spatial, out, scales)):
        ax = 2 + axis
        dst = np.arange(o)
        if mode == "nearest":
            src = np.minimum(np.floor(dst * np.float32(sc)).astype(np.int64), n - 1)
            y = np.take(y, src, axis=ax)
            continue
        if align_corners:
            pos = dst * ((n - 1) / (o - 1) if o > 1 else 0.0)
        else:
            pos = np.maximum((dst + 0.5) * sc - 0.5, 0.0)
        lo = np.minimum(np.floor(pos).astype(np.int64), n - 1)
        hi = np.minimum(lo + 1, n - 1)
        lam = (pos - lo).reshape((-1,) + (1,) * (y.ndim - ax - 1))
        y = np.take(y, lo, axis=ax) * (1 - lam) + np.take(y, hi, axis=ax) * lam
    return y


def _ref_pixel_shuffle(x, r):
    n, c, h, w = x.shape
    return x.reshape(n, c // (r * r), r, r, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(n, c // (r * r), h * r, w * r)


def _ref_pixel_unshuffle(x, r):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // r, r, w // r, r).transpose(0, 1, 3, 5, 2, 4).reshape(n, c * r * r, h // r, w // r)


def _distinct(rng, *shape):
    """Values at least 0.05 apart: no ties, so max pools have no kinks near the samples."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.05 - n * 0.025).reshape(shape) + rng.uniform(0, 0.01, size=shape)


def _max_pool2d_samples(rng):
    return [
        SampleInput((_distinct(rng, 2, 2, 4, 4), 2), name="basic"),
        SampleInput((_distinct(rng, 1, 2, 5, 6), (3, 2)), dict(stride=(2, 1), padding=1), name="overlap_pad"),
        SampleInput((_distinct(rng, 1, 2, 5, 5), 2), dict(stride=2, dilation=2, ceil_mode=True, return_indices=True), name="dilation_ceil_indices"),
        SampleInput((_distinct(rng, 2, 5, 4), 3), dict(stride=2, padding=1, ceil_mode=True), name="unbatched_ceil"),
    ]


def _max_pool1d_samples(rng):
    return [
        SampleInput((_distinct(rng, 2, 3, 7), 3), dict(stride=2, padding=1, return_indices=True), name="pad_indices"),
        SampleInput((_distinct(rng, 2, 8), 2), dict(dilation=2, ceil_mode=True), name="unbatched_dilation_ceil"),
    ]


def _avg_pool2d_samples(rng):
    return [
        SampleInput((randn(rng, 2, 2, 4, 4), 2), name="basic"),
        SampleInput((randn(rng, 1, 2, 5, 6), (3, 2), (2, 1), 1), dict(count_include_pad=False), name="pad_exclude"),
        SampleInput((randn(rng, 1, 2, 5, 5), 3), dict(stride=2, padding=1, ceil_mode=True), name="ceil"),
        SampleInput((randn(rng, 2, 5, 4), 2), dict(ceil_mode=True, divisor_override=3), name="unbatched_divisor"),
    ]


register(OpInfo("max_pool2d", max_pool2d, _max_pool2d_samples,
                ref=lambda x, *a, **k: _ref_pool_nd(x, *a, kind="max2d", **k),
                torch_fn=lambda torch, *a, **k: torch.nn.functional.max_pool2d(*a, **k)))
register(OpInfo("max_pool1d", max_pool1d, _max_pool1d_samples,
                ref=lambda x, *a, **k: _ref_pool_nd(x, *a, kind="max1d", **k),
                torch_fn=lambda torch, *a, **k: torch.nn.functional.max_pool1d(*a, **k)))
register(OpInfo("avg_pool2d", avg_pool2d, _avg_pool2d_samples,
                ref=lambda x, *a, **k: _ref_pool_nd(x, *a, kind="avg2d", **k),
                torch_fn=lambda torch, *a, **k: torch.nn.functional.avg_pool2d(*a, **k)))
register(OpInfo("avg_pool1d", avg_pool1d,
                lambda rng: [SampleInput((randn(rng, 2, 3, 7), 3), dict(stride=2, padding=1, count_include_pad=False), name="pad_exclude"),
                             SampleInput((randn(rng, 2, 8), 3), dict(ceil_mode=True), name="unbatched_ceil")],
                ref=lambda x, *a, **k: _ref_pool_nd(x, *a, kind="avg1d", **k),
                torch_fn=lambda torch, *a, **k: torch.nn.functional.avg_pool1d(*a, **k)))
register(OpInfo("lp_pool2d", lp_pool2d,
                # positive inputs keep x^p and the 1/p root away from their kinks at 0
                lambda rng: [SampleInput((positive(rng, 2, 2, 5, 4), 2, 2), name="p2"),
                             SampleInput((positive(rng, 1, 2, 5, 5), 3, (3, 2), (2, 1), True), name="p3_rect_ceil")],
                ref=None, torch_fn=lambda torch, *a: torch.nn.functional.lp_pool2d(*a)))
register(OpInfo("lp_pool1d", lp_pool1d, lambda rng: [SampleInput((positive(rng, 2, 3, 7), 2, 3), name="p2")],
                ref=None, torch_fn=lambda torch, *a: torch.nn.functional.lp_pool1d(*a)))
register(OpInfo("adaptive_avg_pool2d", adaptive_avg_pool2d,
                lambda rng: [SampleInput((randn(rng, 2, 2, 5, 7), (3, 4)), name="ragged"),
                             SampleInput((randn(rng, 2, 4, 4), 1), name="global_unbatched"),
                             SampleInput((randn(rng, 1, 2, 3, 4), (5, None)), name="upsizing_none")],
                ref=lambda x, o: _ref_adaptive(x, tuple(n if v is None else v for v, n in zip(o, x.shape[-2:])) if isinstance(o, tuple) else o),
                torch_fn=lambda torch, *a, **k: torch.nn.functional.adaptive_avg_pool2d(*a, **k)))
register(OpInfo("adaptive_avg_pool1d", adaptive_avg_pool1d,
                lambda rng: [SampleInput((randn(rng, 2, 3, 7), 3), name="ragged"), SampleInput((randn(rng, 2, 5), 7), name="up")],
                ref=lambda x, o: _ref_adaptive(x, o, kind="avg1d"),
                torch_fn=lambda torch, *a, **k: torch.nn.functional.adaptive_avg_pool1d(*a, **k)))
register(OpInfo("adaptive_max_pool2d", adaptive_max_pool2d,
                lambda rng: [SampleInput((_distinct(rng, 2, 2, 5, 7), (3, 4)), name="ragged"),
                             SampleInput((_distinct(rng, 2, 4, 4), (2, 1)), dict(return_indices=True), name="indices_unbatched")],
                ref=lambda x, o, **k: _ref_adaptive(x, o, kind="max2d", **k),
                torch_fn=lambda torch, *a, **k: torch.nn.functional.adaptive_max_pool2d(*a, **k)))
register(OpInfo("adaptive_max_pool1d", adaptive_max_pool1d,
                lambda rng: [SampleInput((_distinct(rng, 2, 3, 7), 3), dict(return_indices=True), name="ragged")],
                ref=lambda x, o, **k: _ref_adaptive(x, o, kind="max1d", **k),
                torch_fn=lambda torch, *a, **k: torch.nn.functional.adaptive_max_pool1d(*a, **k)))
register(OpInfo("F.pad", pad,
                lambda rng: [SampleInput((randn(rng, 2, 3, 4), (1, 2, 0, 1)), dict(value=0.5), name="constant"),
                             SampleInput((randn(rng, 2, 3, 4), (-1, 2, 1, -1)), name="constant_negative"),
                             SampleInput((randn(rng, 1, 2, 3, 4), (2, 3, 2, 1)), dict(mode="reflect"), name="reflect"),
                             SampleInput((randn(rng, 2, 3, 4), (1, 3)), dict(mode="replicate"), name="replicate"),
                             SampleInput((randn(rng, 1, 2, 3, 4), (4, 1, 1, 3)), dict(mode="circular"), name="circular")],
                ref=_ref_pad, torch_fn=lambda torch, *a, **k: torch.nn.functional.pad(*a, **k)))
register(OpInfo("interpolate", interpolate,
                lambda rng: [SampleInput((randn(rng, 1, 2, 3, 4),), dict(scale_factor=2), name="nearest_scale"),
                             SampleInput((randn(rng, 1, 2, 4, 5),), dict(size=(3, 7)), name="nearest_size"),
                             SampleInput((randn(rng, 1, 2, 3, 4),), dict(size=(5, 6), mode="bilinear"), name="bilinear"),
                             SampleInput((randn(rng, 1, 2, 4, 3),), dict(scale_factor=(1.5, 2.5), mode="bilinear", align_corners=True), name="bilinear_corners"),
                             SampleInput((randn(rng, 2, 2, 5),), dict(scale_factor=1.7, mode="linear"), name="linear")],
                ref=_ref_interpolate, torch_fn=lambda torch, *a, **k: torch.nn.functional.interpolate(*a, **k)))
register(OpInfo("interpolate_bicubic_area", lambda x, **k: interpolate(x, **k),
                lambda rng: [SampleInput((randn(rng, 1, 2, 4, 3),), dict(size=(5, 5), mode="bicubic"), name="bicubic"),
                             SampleInput((randn(rng, 1, 2, 3, 4),), dict(scale_factor=1.5, mode="bicubic", align_corners=True), name="bicubic_corners"),
                             SampleInput((randn(rng, 1, 2, 5, 7),), dict(size=(2, 3), mode="area"), name="area")],
                torch_fn=lambda torch, *a, **k: torch.nn.functional.interpolate(*a, **k)))
register(OpInfo("pixel_shuffle", pixel_shuffle, lambda rng: [SampleInput((randn(rng, 2, 8, 2, 3), 2))],
                ref=_ref_pixel_shuffle, torch_fn=lambda torch, *a, **k: torch.nn.functional.pixel_shuffle(*a, **k)))
register(OpInfo("pixel_unshuffle", pixel_unshuffle, lambda rng: [SampleInput((randn(rng, 2, 2, 4, 6), 2))],
                ref=_ref_pixel_unshuffle, torch_fn=lambda torch, *a, **k: torch.nn.functional.pixel_unshuffle(*a, **k)))


def _unpool_samples(rng):
    _, idx = _ref_pool_nd(_distinct(rng, 2, 2, 4, 4), 2, kind="max2d", return_indices=True)
    _, idx5 = _ref_pool_nd(_distinct(rng, 1, 2, 4, 5), 2, kind="max2d", return_indices=True)
    _, idx1 = _ref_pool_nd(_distinct(rng, 2, 6), 2, 2, 1, kind="max1d", return_indices=True)
    return [SampleInput((randn(rng, *idx.shape), idx, 2), name="basic"),
            SampleInput((randn(rng, *idx5.shape), idx5, 2), dict(output_size=(1, 2, 4, 5)), name="output_size"),
            SampleInput((randn(rng, *idx1.shape), idx1, 2, 2, 1), name="1d_unbatched")]


def _ref_unpool(x, idx, kernel_size, stride=None, padding=0, output_size=None):
    nd = 1 if x.ndim == 2 else 2
    k = _ntuple(kernel_size, nd, "k", "ref")
    s = k if stride is None else _ntuple(stride, nd, "s", "ref")
    p = _ntuple(padding, nd, "p", "ref")
    size = tuple(output_size)[-nd:] if output_size is not None else tuple(
        (n - 1) * ss - 2 * pp + kk for n, ss, pp, kk in zip(x.shape[-nd:], s, p, k))
    out = np.zeros(x.shape[:-nd] + (int(np.prod(size)),))
    flat_x = x.reshape(x.shape[:-nd] + (-1,))
    np.put_along_axis(out, idx.reshape(flat_x.shape), flat_x, -1)
    return out.reshape(x.shape[:-nd] + size)


register(OpInfo("max_unpool2d_1d", lambda x, i, *a, **k: (max_unpool1d if x.ndim == 2 else max_unpool2d)(x, i, *a, **k),
                _unpool_samples, ref=_ref_unpool,
                torch_fn=lambda torch, x, i, *a, **k: (torch.nn.functional.max_unpool1d if x.ndim == 2
                                                       else torch.nn.functional.max_unpool2d)(x, i, *a, **k)))
