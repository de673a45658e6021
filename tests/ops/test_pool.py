"""Pools, pad, interpolate and pixel_shuffle against torch.nn.functional: values, gradients, indices, shapes, errors."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F

from tests.helpers import host, tensor_of as _t


def _compare(fn_ours, fn_torch, x, device, atol=1e-10, create_graph=False, **kwargs):
    """Forward (and indices, if returned) plus the input gradient against torch, float64."""
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x, requires_grad=True)
    xo = _t(x, device, requires_grad=True)
    y, yt = fn_ours(xo, **kwargs), fn_torch(xt, **kwargs)
    if isinstance(yt, tuple):
        (y, idx), (yt, idxt) = y, yt
        assert idx.dtype == tinytorch.int64
        np.testing.assert_array_equal(host(idx), idxt.numpy())
    assert tuple(y.shape) == tuple(yt.shape), f"shape {tuple(y.shape)} != torch {tuple(yt.shape)}"
    np.testing.assert_allclose(host(y), yt.detach().numpy(), atol=atol, rtol=1e-7)
    g = np.random.default_rng(3).standard_normal(tuple(yt.shape))
    (gx,) = tinytorch.autograd.grad(y, xo, _t(g, device), create_graph=create_graph)
    (gxt,) = torch.autograd.grad(yt, xt, torch.tensor(g))
    np.testing.assert_allclose(host(gx), gxt.numpy(), atol=atol, rtol=1e-7)


def _distinct(rng, *shape):
    n = int(np.prod(shape))
    return (rng.permutation(n) - n / 2).reshape(shape) * 0.1


MAX_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=1),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1)),
    dict(kernel_size=2, dilation=2),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, dilation=(1, 2)),
    dict(kernel_size=2, stride=3, ceil_mode=True),
]


@pytest.mark.parametrize("create_graph", [False, True], ids=["fast", "graph"])
@pytest.mark.parametrize("case", MAX_CASES, ids=[str(c) for c in MAX_CASES])
def test_max_pool2d_matches_torch(case, create_graph, device):
    torch = pytest.importorskip("torch")
    x = _distinct(np.random.default_rng(0), 2, 3, 9, 8)
    _compare(F.max_pool2d, torch.nn.functional.max_pool2d, x, device, create_graph=create_graph, return_indices=True, **case)
    _compare(F.max_pool2d, torch.nn.functional.max_pool2d, x[0], device, create_graph=create_graph, **case)  # unbatched


@pytest.mark.parametrize("case", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                  dict(kernel_size=2, dilation=3)], ids=str)
def test_max_pool1d_matches_torch(case, device):
    torch = pytest.importorskip("torch")
    x = _distinct(np.random.default_rng(1), 2, 3, 11)
    _compare(F.max_pool1d, torch.nn.functional.max_pool1d, x, device, return_indices=True, **case)


@pytest.mark.parametrize("create_graph", [False, True], ids=["fast", "graph"])
@pytest.mark.parametrize("kernel,stride", [(2, 2), (3, 1), (3, 2)])
def test_max_pool_ties_go_to_the_first_maximum_like_torch(kernel, stride, create_graph, device):
    """After a ReLU whole windows are 0: the gradient goes to one element, the first, as in torch."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = np.maximum(np.round(rng.standard_normal((2, 2, 7, 7)), 0), 0.0)
    _compare(F.max_pool2d, torch.nn.functional.max_pool2d, x, device, create_graph=create_graph,
             kernel_size=kernel, stride=stride, return_indices=True)


def test_max_pool_propagates_nan_like_torch():
    torch = pytest.importorskip("torch")
    x = np.arange(32, dtype=np.float64).reshape(1, 2, 4, 4)
    x[0, 0, 0, 1] = np.nan
    x[0, 1, 2, 2] = x[0, 1, 3, 3] = np.nan
    y, i = F.max_pool2d(tinytorch.tensor(x), 2, return_indices=True)
    yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(host(y), yt.numpy())
    np.testing.assert_array_equal(host(i), it.numpy())


@pytest.mark.parametrize("size,kernel,stride,padding,dilation", [
    (7, 2, 2, 0, 1), (7, 3, 2, 1, 1), (8, 3, 3, 1, 1), (5, 2, 2, 1, 1), (10, 3, 4, 1, 2), (6, 4, 3, 2, 1), (9, 2, 5, 0, 2),
])
def test_ceil_mode_output_shapes_match_torch(size, kernel, stride, padding, dilation):
    torch = pytest.importorskip("torch")
    x = np.zeros((1, 1, size, size + 1))
    for ceil in (False, True):
        want = torch.nn.functional.max_pool2d(torch.tensor(x), kernel, stride, padding, dilation, ceil_mode=ceil).shape
        got = F.max_pool2d(tinytorch.tensor(x), kernel, stride, padding, dilation, ceil_mode=ceil).shape
        assert tuple(got) == tuple(want)
        if dilation == 1 and padding <= kernel // 2:
            want = torch.nn.functional.avg_pool2d(torch.tensor(x), kernel, stride, padding, ceil_mode=ceil).shape
            assert tuple(F.avg_pool2d(tinytorch.tensor(x), kernel, stride, padding, ceil_mode=ceil).shape) == tuple(want)


AVG_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=1, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 1), ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=2, stride=3, ceil_mode=True),
    dict(kernel_size=3, padding=1, divisor_override=2),
]


@pytest.mark.parametrize("create_graph", [False, True], ids=["fast", "graph"])
@pytest.mark.parametrize("case", AVG_CASES, ids=[str(c) for c in AVG_CASES])
def test_avg_pool2d_matches_torch(case, create_graph, device):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal((2, 3, 8, 7))
    _compare(F.avg_pool2d, torch.nn.functional.avg_pool2d, x, device, create_graph=create_graph, **case)


@pytest.mark.parametrize("case", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)], ids=str)
def test_avg_pool1d_matches_torch(case, device):
    torch = pytest.importorskip("torch")
    _compare(F.avg_pool1d, torch.nn.functional.avg_pool1d, np.random.default_rng(5).standard_normal((2, 3, 10)), device, **case)


@pytest.mark.parametrize("out", [1, 2, 3, (4, 5), (7, 2), (9, 11), (None, 3)], ids=str)
def test_adaptive_pools_match_torch(out, device):
    torch = pytest.importorskip("torch")
    x = _distinct(np.random.default_rng(6), 2, 3, 7, 9)
    _compare(F.adaptive_avg_pool2d, torch.nn.functional.adaptive_avg_pool2d, x, device, output_size=out)
    _compare(F.adaptive_max_pool2d, torch.nn.functional.adaptive_max_pool2d, x, device, output_size=out, return_indices=True)
    if not isinstance(out, tuple):
        _compare(F.adaptive_avg_pool1d, torch.nn.functional.adaptive_avg_pool1d, x[:, :, 0], device, output_size=out)
        _compare(F.adaptive_max_pool1d, torch.nn.functional.adaptive_max_pool1d, x[:, :, 0], device, output_size=out,
                 return_indices=True)


def test_pool_errors():
    x = tinytorch.randn(1, 2, 5, 5)
    with pytest.raises(RuntimeError, match=r"max_pool2d: expected 3-D \(unbatched\) or 4-D.*\(5, 5\)"):
        F.max_pool2d(tinytorch.randn(5, 5), 2)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.avg_pool2d(x, 3, padding=2)
    with pytest.raises(RuntimeError, match="output size .* is too small"):
        F.max_pool2d(x, 6)
    with pytest.raises(RuntimeError, match="stride must be greater than zero"):
        F.avg_pool2d(x, 2, stride=0)
    with pytest.raises(RuntimeError, match="divisor_override"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(RuntimeError, match="output_size must be positive"):
        F.adaptive_avg_pool2d(x, (0, 2))


# ---- pad ------------------------------------------------------------------------------------------

PAD_CASES = [
    ((2, 3, 5), (1, 2), "constant"),
    ((2, 3, 5, 4), (1, 2, 0, 3), "constant"),
    ((2, 3, 5, 4), (-1, 2, 1, -2), "constant"),
    ((3, 5, 4), (1, 1, 2, 2, 1, 0), "constant"),
    ((2, 3, 5), (2, 4), "reflect"),
    ((2, 3, 5, 4), (3, 1, 2, 4), "reflect"),
    ((3, 5, 4), (1, 2, 3, 0), "reflect"),
    ((2, 3, 5, 4), (3, 5, 1, 2), "replicate"),
    ((1, 2, 3, 4, 5), (1, 2, 2, 1, 0, 2), "replicate"),
    ((2, 3, 5, 4), (4, 1, 5, 2), "circular"),
    ((2, 3, 4, 4, 3), (1, 1, 2, 0, 3, 1), "circular"),
]


@pytest.mark.parametrize("shape,pads,mode", PAD_CASES, ids=[f"{m}{p}" for _, p, m in PAD_CASES])
def test_pad_matches_torch(shape, pads, mode, device):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(7).standard_normal(shape)
    _compare(F.pad, torch.nn.functional.pad, x, device, pad=pads, mode=mode)
    if mode == "constant":
        _compare(F.pad, torch.nn.functional.pad, x, device, pad=pads, value=-2.5)


def test_pad_errors():
    x = tinytorch.randn(1, 2, 3, 4)
    with pytest.raises(RuntimeError, match="divisible by 2"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(RuntimeError, match="less than or equal to two times"):
        F.pad(tinytorch.randn(3), (1, 1, 1, 1))
    with pytest.raises(RuntimeError, match=r"padding size should be less than the corresponding input dimension.*\(3, 0\)"):
        F.pad(x, (0, 0, 3, 0), mode="reflect")
    with pytest.raises(NotImplementedError, match="unsupported padding mode"):
        F.pad(x, (1, 1), mode="mirror")
    with pytest.raises(NotImplementedError, match="'reflect' pads the last 1-3 dims"):
        F.pad(tinytorch.randn(3), (1, 1), mode="reflect")
    with pytest.raises(RuntimeError, match="negative output size"):
        F.pad(x, (-3, -2))


# ---- interpolate ----------------------------------------------------------------------------------

INTERP_CASES = [
    dict(size=(7, 9), mode="nearest"),
    dict(scale_factor=2, mode="nearest"),
    dict(scale_factor=(0.6, 1.7), mode="nearest"),
    dict(scale_factor=1.3, mode="nearest", recompute_scale_factor=True),
    dict(size=(3, 11), mode="nearest-exact"),
    dict(size=(7, 9), mode="bilinear"),
    dict(size=(7, 9), mode="bilinear", align_corners=True),
    dict(scale_factor=(2.5, 0.7), mode="bilinear"),
    dict(size=(2, 3), mode="bilinear", align_corners=False),
    dict(size=(1, 1), mode="bilinear", align_corners=True),
    dict(size=(8, 6), mode="bicubic"),
    dict(scale_factor=1.5, mode="bicubic", align_corners=True),
    dict(size=(3, 4), mode="area"),
]


@pytest.mark.parametrize("case", INTERP_CASES, ids=[str(c) for c in INTERP_CASES])
def test_interpolate_matches_torch(case, device):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(8).standard_normal((2, 3, 5, 6))
    _compare(F.interpolate, torch.nn.functional.interpolate, x, device, **case)


@pytest.mark.parametrize("case", [dict(size=9, mode="linear"), dict(scale_factor=0.5, mode="linear", align_corners=True),
                                  dict(scale_factor=3, mode="nearest"), dict(size=4, mode="area")], ids=str)
def test_interpolate_1d_matches_torch(case, device):
    torch = pytest.importorskip("torch")
    _compare(F.interpolate, torch.nn.functional.interpolate, np.random.default_rng(9).standard_normal((2, 3, 7)), device, **case)


@pytest.mark.filterwarnings("ignore:.*is deprecated")
def test_upsample_aliases():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(10).standard_normal((1, 2, 3, 4))
    _compare(F.upsample_bilinear, torch.nn.functional.upsample_bilinear, x, "cpu", scale_factor=2)
    _compare(F.upsample_nearest, torch.nn.functional.upsample_nearest, x, "cpu", size=(5, 5))
    _compare(F.upsample, torch.nn.functional.upsample, x, "cpu", size=(5, 5), mode="bilinear")


def test_interpolate_errors():
    x = tinytorch.randn(1, 2, 4, 4)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, size=3, align_corners=True)
    with pytest.raises(NotImplementedError, match="'bilinear' expects a 4-D input"):
        F.interpolate(tinytorch.randn(1, 2, 4), size=3, mode="bilinear")
    with pytest.raises(NotImplementedError, match="unsupported mode"):
        F.interpolate(x, size=3, mode="lanczos")


# ---- pixel shuffle --------------------------------------------------------------------------------

def test_pixel_shuffle_matches_torch_and_round_trips(device):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(11).standard_normal((2, 3, 18, 2, 3))
    _compare(F.pixel_shuffle, torch.nn.functional.pixel_shuffle, x, device, upscale_factor=3)
    y = F.pixel_unshuffle(F.pixel_shuffle(tinytorch.tensor(x), 3), 3)
    np.testing.assert_array_equal(host(y), x)
    with pytest.raises(RuntimeError, match="divisible by upscale_factor"):
        F.pixel_shuffle(tinytorch.randn(1, 5, 2, 2), 2)


@pytest.mark.parametrize("dtype", ["uint8", "int64", "float32"])
def test_max_pool_never_picks_padding(dtype):
    """Integer inputs pad with the dtype's minimum; a tie with it must still pick a real element."""
    torch = pytest.importorskip("torch")
    x = np.arange(32).reshape(1, 2, 4, 4).astype(dtype)
    if dtype == "float32":
        x[:] = -np.inf
    y, i = F.max_pool2d(tinytorch.tensor(x), 3, stride=2, padding=1, return_indices=True)
    yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), 3, stride=2, padding=1, return_indices=True)
    assert y.dtype == tinytorch.tensor(x).dtype
    np.testing.assert_array_equal(host(y), yt.numpy())
    np.testing.assert_array_equal(host(i), it.numpy())


def test_nearest_interpolate_keeps_integer_images():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(12).integers(0, 255, (1, 3, 5, 4)).astype(np.uint8)
    y = F.interpolate(tinytorch.tensor(x), scale_factor=(1.5, 2.0))
    yt = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=(1.5, 2.0))
    assert y.dtype == tinytorch.uint8
    np.testing.assert_array_equal(host(y), yt.numpy())
    with pytest.raises(RuntimeError, match="floating point"):
        F.interpolate(tinytorch.tensor(x), size=(3, 3), mode="bilinear")


@pytest.mark.parametrize("case", [dict(kernel_size=2), dict(kernel_size=3, stride=3, padding=1), dict(kernel_size=(2, 3), stride=(2, 3))], ids=str)
def test_max_unpool2d_matches_torch(case, device):
    torch = pytest.importorskip("torch")
    x = _distinct(np.random.default_rng(13), 2, 3, 6, 9)
    y, idx = F.max_pool2d(_t(x, device, requires_grad=True), return_indices=True, **case)
    yt, idxt = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **case)
    v = np.random.default_rng(14).standard_normal(tuple(y.shape))
    kw = dict(case, output_size=x.shape[-2:])
    _compare(lambda a, **k: F.max_unpool2d(a, idx, **k), lambda a, **k: torch.nn.functional.max_unpool2d(a, idxt, **k), v, device, **kw)


def test_max_unpool_errors():
    x = tinytorch.randn(1, 1, 2, 2)
    idx = tinytorch.tensor([[[[0, 1], [2, 40]]]])
    with pytest.raises(RuntimeError, match="invalid max index"):
        F.max_unpool2d(x, idx, 2)
    with pytest.raises(ValueError, match="invalid output_size"):
        F.max_unpool2d(x, idx, 2, output_size=(9, 9))
    with pytest.raises(TypeError, match="integer Tensor"):
        F.max_unpool2d(x, x, 2)
