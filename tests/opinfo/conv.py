"""The op registry entries for tinytorch/ops/conv.py: sample inputs, NumPy references, PyTorch counterparts."""
from __future__ import annotations

import numpy as np

from tinytorch.ops.conv import _fold_args, _ntuple, conv1d, conv2d, conv_transpose1d, conv_transpose2d, fold, unfold
from tests.opinfo.registry import OpInfo, randn, register, SampleInput


def _ref_conv_nd(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    nd = w.ndim - 2
    if x.ndim == nd + 1:
        return _ref_conv_nd(x[None], w, b, stride, padding, dilation, groups)[0]
    stride, dilation = _ntuple(stride, nd, "s", "ref"), _ntuple(dilation, nd, "d", "ref")
    kernel = w.shape[2:]
    if isinstance(padding, str):
        tot = [d * (k - 1) for d, k in zip(dilation, kernel)] if padding == "same" else [0] * nd
        pads = [(t // 2, t - t // 2) for t in tot]
    else:
        pads = [(p, p) for p in _ntuple(padding, nd, "p", "ref")]
    xp_ = np.pad(x, [(0, 0), (0, 0)] + pads)
    out_size = [(n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(xp_.shape[2:], kernel, stride, dilation)]
    n, c = x.shape[:2]
    o = w.shape[0]
    cg, og = c // groups, o // groups
    y = np.zeros((n, o, *out_size))
    for off in np.ndindex(*kernel):
        sl = tuple(slice(k * d, k * d + s * (m - 1) + 1, s) for k, s, d, m in zip(off, stride, dilation, out_size))
        patch = xp_[(slice(None), slice(None)) + sl]
        for gi in range(groups):
            wk = w[(slice(gi * og, (gi + 1) * og), slice(None)) + off]  # (og, cg)
            y[:, gi * og:(gi + 1) * og] += np.einsum("oc,nc...->no...", wk, patch[:, gi * cg:(gi + 1) * cg])
    if b is not None:
        y += b.reshape((1, o) + (1,) * nd)
    return y


def _ref_conv_transpose_nd(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    nd = w.ndim - 2
    if x.ndim == nd + 1:
        return _ref_conv_transpose_nd(x[None], w, b, stride, padding, output_padding, groups, dilation)[0]
    stride, dilation = _ntuple(stride, nd, "s", "ref"), _ntuple(dilation, nd, "d", "ref")
    padding, output_padding = _ntuple(padding, nd, "p", "ref"), _ntuple(output_padding, nd, "op", "ref")
    kernel = w.shape[2:]
    n, cin = x.shape[:2]
    cout_g = w.shape[1]
    cin_g = cin // groups
    full = [(m - 1) * s + d * (k - 1) + 1 + op for m, s, d, k, op in zip(x.shape[2:], stride, dilation, kernel, output_padding)]
    y = np.zeros((n, cout_g * groups, *full))
    for off in np.ndindex(*kernel):
        sl = tuple(slice(k * d, k * d + s * (m - 1) + 1, s) for k, s, d, m in zip(off, stride, dilation, x.shape[2:]))
        for gi in range(groups):
            wk = w[(slice(gi * cin_g, (gi + 1) * cin_g), slice(None)) + off]  # (cin_g, cout_g)
            y[(slice(None), slice(gi * cout_g, (gi + 1) * cout_g)) + sl] += np.einsum(
                "io,ni...->no...", wk, x[:, gi * cin_g:(gi + 1) * cin_g])
    crop = tuple(slice(p, f - p) for p, f in zip(padding, full))
    y = y[(slice(None), slice(None)) + crop]
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * nd)
    return y


def _ref_unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    k, d, p, s = _fold_args("ref", kernel_size, dilation, padding, stride)
    xp_ = np.pad(x, [(0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])])
    oh, ow = [(n - dd * (kk - 1) - 1) // ss + 1 for n, kk, ss, dd in zip(xp_.shape[2:], k, s, d)]
    blocks = []
    for i in range(oh):
        for j in range(ow):
            blk = xp_[:, :, i * s[0]:i * s[0] + d[0] * (k[0] - 1) + 1:d[0], j * s[1]:j * s[1] + d[1] * (k[1] - 1) + 1:d[1]]
            blocks.append(blk.reshape(x.shape[0], -1))
    return np.stack(blocks, axis=-1)


def _ref_fold(cols, output_size, kernel_size, dilation=1, padding=0, stride=1):
    k, d, p, s = _fold_args("ref", kernel_size, dilation, padding, stride)
    h, w = _ntuple(output_size, 2, "o", "ref")
    n = cols.shape[0]
    c = cols.shape[1] // (k[0] * k[1])
    out = np.zeros((n, c, h + 2 * p[0], w + 2 * p[1]))
    oh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    for i in range(oh):
        for j in range(ow):
            blk = cols[:, :, i * ow + j].reshape(n, c, k[0], k[1])
            out[:, :, i * s[0]:i * s[0] + d[0] * (k[0] - 1) + 1:d[0], j * s[1]:j * s[1] + d[1] * (k[1] - 1) + 1:d[1]] += blk
    return out[:, :, p[0]:p[0] + h, p[1]:p[1] + w]


def _conv2d_samples(rng):
    return [
        SampleInput((randn(rng, 2, 2, 5, 5), randn(rng, 3, 2, 3, 3), randn(rng, 3)), name="basic"),
        SampleInput((randn(rng, 2, 2, 6, 5), randn(rng, 2, 2, 2, 3)), dict(stride=2, padding=1), name="stride_pad_rect"),
        SampleInput((randn(rng, 1, 2, 7, 6), randn(rng, 2, 2, 2, 2), None, 1, 1, 2), name="dilation"),
        SampleInput((randn(rng, 2, 4, 5, 5), randn(rng, 4, 2, 2, 3), randn(rng, 4)), dict(groups=2, padding=(1, 0)), name="groups"),
        SampleInput((randn(rng, 1, 3, 5, 4), randn(rng, 3, 1, 3, 3)), dict(groups=3, padding="same"), name="depthwise_same"),
        SampleInput((randn(rng, 1, 2, 5, 5), randn(rng, 2, 2, 2, 2)), dict(padding="same", dilation=(1, 2)), name="same_even"),
        SampleInput((randn(rng, 2, 5, 5), randn(rng, 2, 2, 3, 3)), dict(padding="valid", stride=(2, 1)), name="unbatched"),
    ]


def _conv1d_samples(rng):
    return [
        SampleInput((randn(rng, 2, 2, 7), randn(rng, 3, 2, 3), randn(rng, 3)), name="basic"),
        SampleInput((randn(rng, 2, 4, 8), randn(rng, 4, 2, 2)), dict(stride=2, padding=1, dilation=2, groups=2), name="options"),
        SampleInput((randn(rng, 2, 6), randn(rng, 2, 2, 4)), dict(padding="same"), name="same_unbatched"),
    ]


def _conv_transpose2d_samples(rng):
    return [
        SampleInput((randn(rng, 2, 3, 3, 3), randn(rng, 3, 2, 3, 3), randn(rng, 2)), name="basic"),
        SampleInput((randn(rng, 1, 2, 3, 4), randn(rng, 2, 2, 3, 2)), dict(stride=2, padding=1, output_padding=1), name="stride_outpad"),
        SampleInput((randn(rng, 2, 4, 3, 3), randn(rng, 4, 1, 2, 2), randn(rng, 2)), dict(groups=2, dilation=2, padding=(0, 1)), name="groups_dilation"),
        SampleInput((randn(rng, 2, 3, 3), randn(rng, 2, 2, 2, 2)), dict(stride=(1, 2)), name="unbatched"),
    ]


def _conv_transpose1d_samples(rng):
    return [
        SampleInput((randn(rng, 2, 3, 4), randn(rng, 3, 2, 3), randn(rng, 2)), dict(stride=2, output_padding=1), name="basic"),
        SampleInput((randn(rng, 1, 4, 5), randn(rng, 4, 1, 2)), dict(groups=2, padding=1, dilation=2), name="groups"),
    ]


register(OpInfo("conv2d", conv2d, _conv2d_samples, ref=_ref_conv_nd,
                torch_fn=lambda torch, *a, **k: torch.nn.functional.conv2d(*a, **k)))
register(OpInfo("conv1d", conv1d, _conv1d_samples, ref=_ref_conv_nd,
                torch_fn=lambda torch, *a, **k: torch.nn.functional.conv1d(*a, **k)))
register(OpInfo("conv_transpose2d", conv_transpose2d, _conv_transpose2d_samples, ref=_ref_conv_transpose_nd,
                torch_fn=lambda torch, *a, **k: torch.nn.functional.conv_transpose2d(*a, **k)))
register(OpInfo("conv_transpose1d", conv_transpose1d, _conv_transpose1d_samples, ref=_ref_conv_transpose_nd,
                torch_fn=lambda torch, *a, **k: torch.nn.functional.conv_transpose1d(*a, **k)))
register(OpInfo("F.unfold", unfold,
                lambda rng: [SampleInput((randn(rng, 2, 2, 4, 5), (2, 3)), name="basic"),
                             SampleInput((randn(rng, 1, 2, 5, 5), 2), dict(dilation=2, padding=1, stride=(2, 1)), name="options")],
                ref=_ref_unfold, torch_fn=lambda torch, *a, **k: torch.nn.functional.unfold(*a, **k)))
register(OpInfo("F.fold", fold,
                lambda rng: [SampleInput((randn(rng, 2, 6, 9), (4, 5), (2, 3)), name="basic"),
                             SampleInput((randn(rng, 1, 4, 15), (5, 5), 2), dict(dilation=2, padding=1, stride=(2, 1)), name="options")],
                ref=_ref_fold, torch_fn=lambda torch, *a, **k: torch.nn.functional.fold(*a, **k)))
