"""conv1d/conv2d, transposed convolutions, unfold/fold: against torch.nn.functional, errors, fast paths."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tinytorch.ops import conv as conv_ops

from tests.helpers import host, tensor_of as _t
from tests.opinfo.conv import _ref_conv_nd


def _compare(fn_ours, fn_torch, arrays, device, atol=1e-9, **kwargs):
    """Forward and every input gradient of ``fn(*arrays, **kwargs)`` against torch, float64."""
    torch = pytest.importorskip("torch")
    ours = [None if a is None else _t(a, device, requires_grad=True) for a in arrays]
    theirs = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    y = fn_ours(*ours, **kwargs)
    yt = fn_torch(*theirs, **kwargs)
    assert tuple(y.shape) == tuple(yt.shape)
    np.testing.assert_allclose(host(y), yt.detach().numpy(), atol=atol, rtol=1e-7)
    g = np.random.default_rng(5).standard_normal(tuple(yt.shape))
    gs = tinytorch.autograd.grad(y, [t for t in ours if t is not None], _t(g, device))
    gts = torch.autograd.grad(yt, [t for t in theirs if t is not None], torch.tensor(g))
    for a, b in zip(gs, gts):
        np.testing.assert_allclose(host(a), b.numpy(), atol=atol, rtol=1e-7)


CONV2D_CASES = [
    dict(),
    dict(stride=2),
    dict(stride=(2, 3), padding=(1, 2)),
    dict(padding=2, dilation=2),
    dict(dilation=(1, 3), padding=(0, 1)),
    dict(padding="same"),
    dict(padding="same", dilation=2),
    dict(padding="valid", stride=(1, 2)),
    dict(groups=2, padding=1),
    dict(groups=4, stride=2),  # depthwise
]


@pytest.mark.parametrize("kernel", [(3, 3), (2, 4), (1, 1), (4, 2)])
@pytest.mark.parametrize("case", CONV2D_CASES, ids=[str(c) for c in CONV2D_CASES])
def test_conv2d_matches_torch(case, kernel, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    groups = case.get("groups", 1)
    x = rng.standard_normal((2, 4, 9, 8))
    w = rng.standard_normal((4, 4 // groups) + kernel)
    b = rng.standard_normal(4)
    _compare(F.conv2d, torch.nn.functional.conv2d, [x, w, b], device, **case)
    _compare(F.conv2d, torch.nn.functional.conv2d, [x, w], device, **case)


@pytest.mark.parametrize("case", [dict(), dict(stride=3, padding=2), dict(dilation=2, padding="same"), dict(groups=3),
                                  dict(padding="same"), dict(padding="valid", stride=2, dilation=2)], ids=str)
@pytest.mark.parametrize("k", [1, 2, 3])
def test_conv1d_matches_torch(case, k, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    g = case.get("groups", 1)
    _compare(F.conv1d, torch.nn.functional.conv1d,
             [rng.standard_normal((2, 6, 11)), rng.standard_normal((3, 6 // g, k)), rng.standard_normal(3)], device, **case)


CONVT_CASES = [
    dict(),
    dict(stride=2),
    dict(stride=2, padding=1, output_padding=1),
    dict(stride=(3, 2), padding=(1, 0), output_padding=(2, 1)),
    dict(dilation=2, padding=1),
    dict(stride=2, dilation=3, output_padding=2),  # output_padding < dilation is allowed
    dict(groups=2, stride=2, padding=1),
]


@pytest.mark.parametrize("case", CONVT_CASES, ids=[str(c) for c in CONVT_CASES])
def test_conv_transpose2d_matches_torch(case, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    groups = case.get("groups", 1)
    x = rng.standard_normal((2, 4, 5, 4))
    w = rng.standard_normal((4, 6 // groups, 3, 2))
    b = rng.standard_normal(6)
    _compare(F.conv_transpose2d, torch.nn.functional.conv_transpose2d, [x, w, b], device, **case)


@pytest.mark.parametrize("case", [dict(), dict(stride=3, padding=1, output_padding=2), dict(groups=2, dilation=2)], ids=str)
def test_conv_transpose1d_matches_torch(case, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    g = case.get("groups", 1)
    _compare(F.conv_transpose1d, torch.nn.functional.conv_transpose1d,
             [rng.standard_normal((2, 4, 6)), rng.standard_normal((4, 4 // g, 3)), rng.standard_normal(4)], device, **case)


def test_unbatched_inputs(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    _compare(F.conv2d, torch.nn.functional.conv2d, [rng.standard_normal((3, 6, 5)), rng.standard_normal((2, 3, 3, 3))], device, padding=1)
    _compare(F.conv1d, torch.nn.functional.conv1d, [rng.standard_normal((3, 6)), rng.standard_normal((2, 3, 2))], device)
    _compare(F.conv_transpose2d, torch.nn.functional.conv_transpose2d,
             [rng.standard_normal((3, 4, 4)), rng.standard_normal((3, 2, 2, 2))], device, stride=2)


@pytest.mark.parametrize("kernel,dilation", [((2, 2), 1), ((4, 3), 1), ((2, 3), (3, 2)), ((5, 5), 1)])
def test_same_padding_keeps_the_size_and_pads_extra_after(kernel, dilation, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((1, 2, 7, 6)), rng.standard_normal((3, 2) + kernel)
    y = F.conv2d(_t(x, device, requires_grad=True), _t(w, device, requires_grad=True), padding="same", dilation=dilation)
    assert tuple(y.shape) == (1, 3, 7, 6)
    _compare(F.conv2d, torch.nn.functional.conv2d, [x, w], device, padding="same", dilation=dilation)


def test_same_padding_rejects_strides():
    x, w = tinytorch.randn(1, 2, 6, 6), tinytorch.randn(3, 2, 3, 3)
    with pytest.raises(ValueError, match="same.*strided"):
        F.conv2d(x, w, padding="same", stride=2)
    with pytest.raises(ValueError, match="invalid padding string"):
        F.conv2d(x, w, padding="full")


def test_float32_stays_float32():
    x = tinytorch.randn(2, 3, 6, 6, requires_grad=True)
    w = tinytorch.randn(4, 3, 3, 3, requires_grad=True)
    y = F.conv2d(x, w, tinytorch.randn(4), padding=1)
    assert y.dtype == tinytorch.float32
    y.sum().backward()
    assert x.grad.dtype == tinytorch.float32 and w.grad.dtype == tinytorch.float32


@pytest.mark.parametrize("fn,args,match", [
    (F.conv2d, ((3, 28, 28, 1, 1), (8, 3, 3, 3)), r"conv2d: expected 3-D \(unbatched\) or 4-D \(batched\) input.*\(3, 28, 28, 1, 1\)"),
    (F.conv2d, ((1, 4, 5, 5), (8, 3, 3, 3)), r"conv2d: expected input with 3 channels \(weight \(8, 3, 3, 3\), groups=1\), got 4 channels"),
    (F.conv2d, ((1, 4, 5, 5), (8, 4, 3)), r"conv2d: expected 4-D weight"),
    (F.conv2d, ((1, 2, 2, 2), (8, 2, 3, 3)), r"conv2d: calculated padded input size per channel \(2, 2\).*kernel size \(3, 3\)"),
    (F.conv1d, ((1, 2, 5), (3, 4, 3)), r"conv1d: expected input with 4 channels"),
    (F.conv_transpose2d, ((1, 3, 4, 4), (4, 2, 3, 3)), r"conv_transpose2d: expected input with 4 channels"),
])
def test_shape_errors_name_the_op_and_shapes(fn, args, match):
    x, w = tinytorch.randn(*args[0]), tinytorch.randn(*args[1])
    with pytest.raises(RuntimeError, match=match):
        fn(x, w)


def test_hyper_parameter_errors():
    x, w = tinytorch.randn(1, 4, 6, 6), tinytorch.randn(6, 2, 3, 3)
    with pytest.raises(RuntimeError, match="groups=3"):
        F.conv2d(x, tinytorch.randn(4, 2, 3, 3), groups=3)
    with pytest.raises(RuntimeError, match="stride must be greater than zero"):
        F.conv2d(x, w, groups=2, stride=0)
    with pytest.raises(RuntimeError, match="dilation must be greater than zero"):
        F.conv2d(x, w, groups=2, dilation=(1, -1))
    with pytest.raises(RuntimeError, match="padding must be non-negative"):
        F.conv2d(x, w, groups=2, padding=-1)
    with pytest.raises(RuntimeError, match=r"bias of shape \(6,\)"):
        F.conv2d(x, w, tinytorch.randn(5), groups=2)
    with pytest.raises(RuntimeError, match="groups must be a positive integer"):
        F.conv2d(x, w, groups=0)
    with pytest.raises(RuntimeError, match="input type.*weight type"):
        F.conv2d(x, w.double(), groups=2)
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        F.conv_transpose2d(x, tinytorch.randn(4, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(TypeError, match="stride must be an int"):
        F.conv2d(x, w, groups=2, stride=1.5)


def test_double_backward_matches_torch():
    """create_graph through conv2d: a gradient penalty's gradient, w.r.t. input and weight."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((2, 4, 6, 5)), rng.standard_normal((6, 2, 3, 2)), rng.standard_normal(6)
    kw = dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2)

    def penalty(lib, conv, x, w, b):
        y = conv(x, w, b, **kw)
        gx, gw = lib.autograd.grad((y * y).sum(), (x, w), create_graph=True)
        return (gx * gx).sum() + (gw * gw * gw).sum()

    xs = [tinytorch.tensor(a, requires_grad=True) for a in (x, w, b)]
    ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    ours = tinytorch.autograd.grad(penalty(tinytorch, F.conv2d, *xs), xs)
    theirs = torch.autograd.grad(penalty(torch, torch.nn.functional.conv2d, *ts), ts)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(host(a), t.numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("fn,shapes,kw", [
    (F.conv2d, ((2, 4, 7, 6), (6, 2, 3, 2), (6,)), dict(stride=2, padding=(1, 2), dilation=(2, 1), groups=2)),
    (F.conv1d, ((2, 3, 9), (4, 3, 3), (4,)), dict(stride=2, padding=1)),
    (F.conv_transpose2d, ((2, 4, 3, 4), (4, 3, 3, 2), (6,)), dict(stride=2, padding=1, output_padding=1, groups=2)),
])
def test_fast_backward_equals_differentiable_backward(fn, shapes, kw, device):
    """backward_arrays (first order) and backward (create_graph) give the same gradients."""
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal(s) for s in shapes]
    g = rng.standard_normal(tuple(fn(*[_t(a, device) for a in arrays], **kw).shape))
    results = []
    for create_graph in (False, True):
        ts = [_t(a, device, requires_grad=True) for a in arrays]
        y = fn(*ts, **kw)
        results.append(tinytorch.autograd.grad(y, ts, _t(g, device), create_graph=create_graph))
    for a, b in zip(*results):
        np.testing.assert_allclose(host(a), host(b), rtol=1e-10, atol=1e-12)


def test_cached_columns_survive_retain_graph_and_inplace_edits_are_caught():
    x = tinytorch.randn(2, 3, 6, 6, dtype=tinytorch.float64)
    w = tinytorch.randn(4, 3, 3, 3, dtype=tinytorch.float64, requires_grad=True)
    y = F.conv2d(x, w).sum()
    (g1,) = tinytorch.autograd.grad(y, w, retain_graph=True)
    (g2,) = tinytorch.autograd.grad(y, w)
    np.testing.assert_array_equal(host(g1), host(g2))
    y = F.conv2d(x, w).sum()
    with tinytorch.no_grad():
        x.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_cuda_kernel_hooks_are_called_first(monkeypatch):
    """conv2d asks _arrays.kernels first and uses what it returns; None falls back to the xp path."""
    from tinytorch._arrays import kernels

    calls = {}

    def fake_forward(x, w, b, stride, padding, dilation, groups):
        calls["fwd"] = (x.shape, w.shape, b is None, stride, padding, dilation, groups)
        return np.full((1, 2, 3, 3), 7.0)

    def fake_backward(x, w, g, stride, padding, dilation, groups, need_input, need_weight, need_bias):
        calls["bwd"] = (stride, padding, dilation, groups, need_input, need_weight, need_bias)
        return np.ones(x.shape), None, np.full(2, 3.0)

    monkeypatch.setattr(kernels, "conv2d_forward", fake_forward)
    monkeypatch.setattr(kernels, "conv2d_backward", fake_backward)
    x = tinytorch.randn(1, 2, 5, 5, dtype=tinytorch.float64, requires_grad=True)
    w = tinytorch.randn(2, 2, 3, 3, dtype=tinytorch.float64)
    b = tinytorch.randn(2, dtype=tinytorch.float64, requires_grad=True)
    y = F.conv2d(x, w, b, padding=0)
    assert calls["fwd"] == ((1, 2, 5, 5), (2, 2, 3, 3), False, (1, 1), (0, 0), (1, 1), 1)
    np.testing.assert_array_equal(host(y), 7.0)
    y.sum().backward()
    assert calls["bwd"] == ((1, 1), (0, 0), (1, 1), 1, True, False, True)
    np.testing.assert_array_equal(host(x.grad), 1.0)
    np.testing.assert_array_equal(host(b.grad), 3.0)


# ---- unfold / fold ----------------------------------------------------------------------------------

FOLD_CASES = [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=2), dict(kernel_size=3, padding=1, dilation=2),
              dict(kernel_size=(3, 1), stride=(1, 2), padding=(1, 0))]


@pytest.mark.parametrize("case", FOLD_CASES, ids=[str(c) for c in FOLD_CASES])
def test_unfold_and_fold_match_torch(case, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 3, 7, 6))
    _compare(F.unfold, torch.nn.functional.unfold, [x], device, **case)
    cols = torch.nn.functional.unfold(torch.tensor(x), **case).numpy()
    _compare(F.fold, torch.nn.functional.fold, [cols], device, output_size=(7, 6), **case)


def test_fold_of_unfold_counts_overlaps():
    x = tinytorch.ones(1, 1, 4, 4, dtype=tinytorch.float64)
    y = F.fold(F.unfold(x, 3, padding=1), (4, 4), 3, padding=1)
    counts = np.array([[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]])
    np.testing.assert_array_equal(host(y)[0, 0], counts)


def test_fold_errors():
    with pytest.raises(RuntimeError, match="divisible by the product of kernel_size"):
        F.fold(tinytorch.randn(1, 5, 9), (4, 4), 2)
    with pytest.raises(RuntimeError, match="number of sliding blocks"):
        F.fold(tinytorch.randn(1, 4, 8), (4, 4), 2)
    with pytest.raises(RuntimeError, match="unfold: expected 3-D"):
        F.unfold(tinytorch.randn(4, 4), 2)


def test_reference_is_independent_of_the_im2col_path():
    """The registry's NumPy reference (direct sums) agrees with the im2col implementation."""
    rng = np.random.default_rng(10)
    x, w = rng.standard_normal((2, 4, 6, 7)), rng.standard_normal((6, 2, 3, 2))
    got = F.conv2d(tinytorch.tensor(x), tinytorch.tensor(w), stride=(1, 2), padding=1, dilation=(2, 1), groups=2)
    want = _ref_conv_nd(x, w, None, (1, 2), 1, (2, 1), 2)
    np.testing.assert_allclose(host(got), want, atol=1e-12)


def test_sliding_windows_view():
    from tinytorch._arrays.strides import kernel_offsets, sliding_windows, window_slices

    x = np.arange(2 * 7 * 8, dtype=np.float64).reshape(2, 7, 8)
    win = sliding_windows(np, x, (2, 3), (2, 1), (1, 2), (3, 4))
    assert win.shape == (2, 3, 4, 2, 3) and not win.flags.writeable and np.shares_memory(win, x)
    for i in range(3):
        for j in range(4):
            np.testing.assert_array_equal(win[:, i, j], x[:, 2 * i:2 * i + 2, j:j + 5:2])
    for a, b in kernel_offsets((2, 3)):
        np.testing.assert_array_equal(x[(Ellipsis,) + window_slices((a, b), (2, 1), (1, 2), (3, 4))], win[..., a, b])


# ---- size-chosen CPU paths (ops/conv.py: chunked im2col vs whole-batch batch-last) -----------------
PATH_CASES = [  # (x shape, w shape, stride, padding, dilation)
    ((6, 3, 4, 4), (5, 3, 3, 3), (1, 1), (1, 1), (1, 1)),
    ((5, 2, 7, 6), (4, 2, 3, 2), (2, 1), (1, 0), (1, 1)),
    ((4, 3, 9, 8), (6, 3, 3, 3), (1, 2), (2, 1), (2, 1)),
    ((3, 1, 5, 5), (2, 1, 1, 1), (1, 1), (0, 0), (1, 1)),
    ((7, 4, 3, 5), (3, 4, 3, 3), (1, 1), (2, 2), (1, 2)),  # padding larger than the dilated kernel's reach
]


@pytest.mark.parametrize("case", PATH_CASES)
def test_conv_cpu_paths_are_equal_in_float64(case):
    xs, ws, stride, padding, dilation = case
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    b = rng.standard_normal(ws[0])
    out_size = tuple(conv_ops._out_size(n, k, s, p, d) for n, k, s, p, d in zip(xs[2:], ws[2:], stride, padding, dilation))
    g = rng.standard_normal((xs[0], ws[0]) + out_size)
    geom = (stride, padding, dilation, 1)
    res = {}
    for path in ("chunked", "batch_last"):
        res[path] = (conv_ops._conv_forward(np, x, w, b, *geom, out_size, path=path),
                     conv_ops._conv_input_grad(np, g, w, xs[2:], *geom, path=path),
                     conv_ops._conv_weight_grad(np, x, g, ws[2:], *geom, path=path))
    for got, want, what in zip(res["batch_last"], res["chunked"], ("forward", "input grad", "weight grad")):
        assert got.dtype == np.float64 and got.shape == want.shape, what
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=what)
    # and the chunked path against the direct definition of the convolution
    xp_ = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    ref = np.zeros((xs[0], ws[0]) + out_size)
    for i in range(out_size[0]):
        for j in range(out_size[1]):
            patch = xp_[:, :, i * stride[0]:i * stride[0] + dilation[0] * (ws[2] - 1) + 1:dilation[0],
                        j * stride[1]:j * stride[1] + dilation[1] * (ws[3] - 1) + 1:dilation[1]]
            ref[:, :, i, j] = np.einsum("nckl,ockl->no", patch, w)
    np.testing.assert_allclose(res["chunked"][0], ref + b[None, :, None, None], rtol=1e-12, atol=1e-12)


def test_conv_path_choice_by_size():
    pick = conv_ops._pick_path
    one = ((1, 1), (1, 1), (1, 1), 1)
    assert pick(np, (32, 16, 4, 4), (32, 16, 3, 3), *one) == "batch_last"  # the digits CNN's second conv
    assert pick(np, (32, 1, 8, 8), (16, 1, 3, 3), *one) == "chunked"  # 9 column rows, 16 output rows
    assert pick(np, (64, 1, 28, 28), (6, 1, 5, 5), (1, 1), (0, 0), (1, 1), 1) == "chunked"  # runs of 24 already
    assert pick(np, (512, 64, 32, 32), (64, 64, 3, 3), *one) == "chunked"  # columns far over the cache
    assert pick(np, (32, 16, 4, 4), (32, 8, 3, 3), (1, 1), (1, 1), (1, 1), 2) == "chunked"  # groups


def test_digits_sized_conv_trains_like_torch():
    """The batch-last path inside autograd (the digits CNN's second conv) against PyTorch, float64."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((32, 16, 4, 4)), rng.standard_normal((32, 16, 3, 3)), rng.standard_normal(32)
    assert conv_ops._pick_path(np, x.shape, w.shape, (1, 1), (1, 1), (1, 1), 1) == "batch_last"
    tx, tw, tb = (tinytorch.tensor(a, requires_grad=True) for a in (x, w, b))
    px, pw, pb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(tx, tw, tb, padding=1)
    py = torch.nn.functional.conv2d(px, pw, pb, padding=1)
    np.testing.assert_allclose(y.detach().numpy(), py.detach().numpy(), rtol=1e-10, atol=1e-10)
    (y * y).sum().backward()
    (py * py).sum().backward()
    for t, p in ((tx, px), (tw, pw), (tb, pb)):
        np.testing.assert_allclose(t.grad.numpy(), p.grad.numpy(), rtol=1e-10, atol=1e-9)
