"""Shape ops beyond the registry's generic checks: views, aliases, errors, torch semantics."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
from tests.helpers import host, tensor_of as _t


def test_views_share_memory_and_version_counter(device):
    x = _t(np.arange(12.0).reshape(3, 4), device)
    for v in (x.view(4, 3), x.unsqueeze(0), x.t(), x.transpose(0, 1), x.narrow(1, 1, 2), x.diagonal(),
              x.expand(2, 3, 4), x.squeeze(), x.flatten(), x.movedim(0, 1), x.split(2, 1)[1], x.unflatten(1, (2, 2))):
        before = v._version
        x.add_(1)
        assert v._version == before + 1
        assert host(v).size == 0 or np.shares_memory(host(v), host(x)) or device == "cuda"
    y = x.flip(0)  # flip copies, like torch
    assert not np.shares_memory(host(y), host(x)) or device == "cuda"


def test_squeeze_unsqueeze_semantics(device):
    x = _t(np.zeros((2, 1, 3, 1)), device)
    assert x.squeeze().shape == (2, 3)
    assert x.squeeze(0).shape == (2, 1, 3, 1)  # size != 1: no-op
    assert x.squeeze((1, 3)).shape == (2, 3)
    assert x.squeeze(-1).shape == (2, 1, 3)
    assert x.unsqueeze(-1).shape == (2, 1, 3, 1, 1)
    assert x.unsqueeze(0).shape == (1, 2, 1, 3, 1)
    with pytest.raises(IndexError, match="unsqueeze"):
        x.unsqueeze(6)


def test_flatten_t_and_errors(device):
    x = _t(np.zeros((2, 3, 4)), device)
    assert x.flatten(1).shape == (2, 12)
    assert tinytorch.flatten(_t(3.0, device)).shape == (1,)
    with pytest.raises(RuntimeError, match=r"t\(\) expects a tensor with <= 2 dimensions.*\(2, 3, 4\)"):
        x.t()
    assert _t([1.0, 2.0], device).t().shape == (2,)
    with pytest.raises(RuntimeError, match=r"view: shape '\[5, -1\]' is invalid for input of size 24"):
        x.view(5, -1)


def test_cat_promotion_and_empty_rule(device):
    a = tinytorch.ones(2, 3, device=device)
    b = tinytorch.zeros(1, 3, dtype=tinytorch.float64, device=device)
    out = tinytorch.cat([a, b])
    assert out.dtype == tinytorch.float64 and out.shape == (3, 3)
    assert tinytorch.cat([tinytorch.zeros(0, device=device), a]).shape == (2, 3)  # legacy 1-D empty skipped
    i = tinytorch.tensor([1, 2], device=device)
    assert tinytorch.cat([i, tinytorch.tensor([0.5], device=device)]).dtype == tinytorch.float32
    with pytest.raises(RuntimeError, match=r"Sizes of tensors must match except in dimension 0.*\(2, 3\) and \(1, 4\)"):
        tinytorch.cat([a, tinytorch.ones(1, 4, device=device)])
    assert tinytorch.concat is tinytorch.cat and tinytorch.concatenate is tinytorch.cat


def test_cat_gradient_flows_to_each_input(device):
    a = _t(np.ones((2, 3)), device, True)
    b = _t(np.ones((1, 3)), device, True)
    w = _t(np.arange(9.0).reshape(3, 3), device)
    (tinytorch.cat([a, b]) * w).sum().backward()
    np.testing.assert_allclose(host(a.grad), np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(host(b.grad), [[6.0, 7.0, 8.0]])


def test_split_chunk_sizes(device):
    x = _t(np.arange(10.0), device)
    assert [p.shape[0] for p in x.split(3)] == [3, 3, 3, 1]
    assert [p.shape[0] for p in tinytorch.split(x, [2, 8])] == [2, 8]
    assert [p.shape[0] for p in x.chunk(4)] == [3, 3, 3, 1]
    assert [p.shape[0] for p in _t(np.arange(6.0), device).chunk(4)] == [2, 2, 2]  # fewer chunks, like torch
    with pytest.raises(RuntimeError, match="split_with_sizes expects split_sizes to sum exactly to 10"):
        x.split([2, 3])


def test_split_backward_with_unused_piece(device):
    x = _t(np.arange(6.0), device, True)
    a, b = x.split(4)
    (a * 2).sum().backward()
    np.testing.assert_allclose(host(x.grad), [2, 2, 2, 2, 0, 0])


def test_repeat_tile_expand(device):
    x = _t([[1.0, 2.0]], device)
    np.testing.assert_array_equal(host(x.repeat(2, 2)), np.tile([[1.0, 2.0]], (2, 2)))
    assert x.repeat(3, 1, 1).shape == (3, 1, 2)
    np.testing.assert_array_equal(host(tinytorch.tile(_t([1.0, 2.0], device), (2,))), [1, 2, 1, 2])
    with pytest.raises(RuntimeError, match="repeat dims"):
        x.repeat(2)
    with pytest.raises(RuntimeError, match=r"expanded size of the tensor \(3\) must match the existing size \(2\)"):
        x.expand(2, 3)


def test_roll_flip_movedim_match_numpy(device):
    a = np.arange(24.0).reshape(2, 3, 4)
    x = _t(a, device)
    np.testing.assert_array_equal(host(x.roll(1)), np.roll(a, 1))
    np.testing.assert_array_equal(host(x.roll((1, -2), (0, 2))), np.roll(a, (1, -2), (0, 2)))
    np.testing.assert_array_equal(host(x.flip((0, 2))), np.flip(a, (0, 2)))
    np.testing.assert_array_equal(host(x.movedim((0, 1), (2, 0))), np.moveaxis(a, (0, 1), (2, 0)))
    np.testing.assert_array_equal(host(tinytorch.fliplr(x)), np.fliplr(a))


def test_diag_trace_tril_triu(device):
    a = np.arange(12.0).reshape(3, 4)
    x = _t(a, device)
    np.testing.assert_array_equal(host(x.diag(1)), np.diag(a, 1))
    np.testing.assert_array_equal(host(tinytorch.diag(_t([1.0, 2.0], device), -1)), np.diag([1.0, 2.0], -1))
    assert x.trace().item() == np.trace(a)
    np.testing.assert_array_equal(host(x.tril(-1)), np.tril(a, -1))
    np.testing.assert_array_equal(host(x.triu(2)), np.triu(a, 2))
    y = x.clone()
    y.tril_()
    np.testing.assert_array_equal(host(y), np.tril(a))


def test_meshgrid_and_broadcast(device):
    a, b = _t([1.0, 2.0, 3.0], device), _t([4.0, 5.0], device)
    gx, gy = tinytorch.meshgrid(a, b, indexing="xy")
    nx, ny = np.meshgrid([1.0, 2.0, 3.0], [4.0, 5.0], indexing="xy")
    np.testing.assert_array_equal(host(gx), nx)
    np.testing.assert_array_equal(host(gy), ny)
    p, q = tinytorch.broadcast_tensors(_t(np.zeros((3, 1)), device), _t(np.zeros(4), device))
    assert p.shape == q.shape == (3, 4)
    assert tinytorch.broadcast_shapes((3, 1), (4,)) == (3, 4)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        tinytorch.broadcast_shapes((3,), (4,))


def test_stack_family(device):
    a, b = _t([1.0, 2.0], device), _t([3.0, 4.0], device)
    assert tinytorch.hstack([a, b]).shape == (4,)
    assert tinytorch.vstack([a, b]).shape == (2, 2)
    assert tinytorch.dstack([a, b]).shape == (1, 2, 2)
    assert tinytorch.column_stack([a, b]).shape == (2, 2)
    assert tinytorch.atleast_2d(a).shape == (1, 2)
    assert tinytorch.atleast_3d(_t(np.zeros((2, 3)), device)).shape == (2, 3, 1)


def test_diagonal_view_is_writable_like_torch(device):
    x = tinytorch.zeros(3, 4, device=device)
    x.diagonal().fill_(1.0)
    x.diagonal(1).add_(2.0)
    want = np.eye(3, 4) + 2 * np.eye(3, 4, 1)
    np.testing.assert_array_equal(host(x), want)
    b = tinytorch.zeros(2, 3, 3, device=device)
    b.diagonal(0, -2, -1).fill_(5.0)
    np.testing.assert_array_equal(host(b), 5 * np.broadcast_to(np.eye(3), (2, 3, 3)))


def test_view_raises_like_torch_when_no_view_exists():
    torch = pytest.importorskip("torch")
    import itertools

    for shp in [(2, 3, 4), (4, 6), (2, 1, 6)]:
        a = np.arange(int(np.prod(shp)), dtype=np.float32).reshape(shp)
        for perm in itertools.permutations(range(len(shp))):
            ta, tt = torch.from_numpy(a).permute(perm), tinytorch.from_numpy(a).permute(perm)
            n = ta.numel()
            for ns in [(n,), (-1, 1), tuple(ta.shape[::-1]), (ta.shape[0], -1), (-1, ta.shape[-1])]:
                try:
                    want = ta.view(ns).numpy()
                except RuntimeError:
                    with pytest.raises(RuntimeError, match="view size is not compatible"):
                        tt.view(ns)
                    continue
                got = tt.view(ns)
                np.testing.assert_array_equal(got.numpy(), want)
                assert np.shares_memory(got.numpy(), a)


def test_view_of_transposed_matrix_raises_without_torch():
    x = tinytorch.arange(6.0).reshape(2, 3).t()
    with pytest.raises(RuntimeError, match=r"Use \.reshape"):
        x.view(6)
    assert x.reshape(6).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
