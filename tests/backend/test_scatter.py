"""tinytorch._arrays.scatter.add_at: bit-identical to np.add.at on every index form it takes, and the
fast (sorted, level-wise) path really runs where it should; the indexing ops' gradients use it."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tinytorch._arrays import scatter


def _both(target, index, values):
    want = target.copy()
    np.add.at(want, index, values)
    got = target.copy()
    assert scatter.add_at(got, index, values) is got
    return got, want


def _fast_path_taken(target, index, values):
    prepared = scatter._as_rows(target.copy(), index, np.asarray(values))
    return prepared is not None and scatter._add_rows(*prepared)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64])
@pytest.mark.parametrize("vocab,dim,idx_shape", [
    (27, 64, (32, 3)), (27, 512, (4096,)), (1000, 64, (12, 64)), (50000, 32, (512,)), (5, 128, (300,)),
])
def test_rows_equal_np_add_at_bitwise(rng, dtype, vocab, dim, idx_shape):
    idx = rng.integers(0, vocab, idx_shape)
    vals = rng.standard_normal(idx_shape + (dim,)).astype(dtype)
    target = rng.standard_normal((vocab, dim)).astype(dtype)  # a non-zero start: the add order matters
    assert _fast_path_taken(target, idx, vals)
    got, want = _both(target, idx, vals)
    np.testing.assert_array_equal(got, want)


def test_heavily_repeated_and_negative_indices(rng):
    target = np.zeros((10, 64), np.float32)
    idx = np.concatenate([np.full(500, 3), rng.integers(-10, 10, 500)])  # one row 500+ times, negatives
    vals = rng.standard_normal((1000, 64)).astype(np.float32)
    got, want = _both(target, idx, vals)
    np.testing.assert_array_equal(got, want)
    idx = rng.integers(-10, 10, 1000)
    assert _fast_path_taken(target, idx, vals)
    np.testing.assert_array_equal(*_both(target, idx, vals))


def test_all_indices_equal_falls_back_and_stays_equal(rng):
    target = np.zeros((4, 64), np.float64)
    idx = np.zeros(2000, np.int64)
    vals = rng.standard_normal((2000, 64))
    assert not _fast_path_taken(target, idx, vals)  # 2000 levels of one row: np.add.at is as fast
    np.testing.assert_array_equal(*_both(target, idx, vals))


@pytest.mark.parametrize("lead", [1, 2])
def test_index_along_an_inner_dim(rng, lead):
    shape = (3, 50, 40, 33)
    target = rng.standard_normal(shape).astype(np.float32)
    idx = rng.integers(0, shape[lead], 200)
    index = (slice(None),) * lead + (idx,)
    vals = rng.standard_normal(shape[:lead] + (200,) + shape[lead + 1:]).astype(np.float32)
    assert _fast_path_taken(target, index, vals)
    np.testing.assert_array_equal(*_both(target, index, vals))


def test_tuple_of_arrays_gather_style_and_broadcast_values(rng):
    target = rng.standard_normal((64, 200)).astype(np.float64)
    i = rng.integers(0, 64, (64, 100))
    j = np.arange(100)[None, :]  # broadcasts against i, like gather's along-dim index
    vals = rng.standard_normal((64, 100))
    np.testing.assert_array_equal(*_both(target, (i, j), vals))  # single elements: np.add.at's fast case
    rows = rng.integers(0, 64, 300)
    target3 = np.zeros((64, 8, 40), np.float32)
    pair = (rows, rng.integers(0, 8, 300))
    assert _fast_path_taken(target3, pair, np.float32(1.5))
    np.testing.assert_array_equal(*_both(target3, pair, np.float32(1.5)))
    np.testing.assert_array_equal(*_both(target3, rows, rng.standard_normal((1, 40)).astype(np.float32)))


@pytest.mark.parametrize("case", ["empty_index", "empty_rows", "int_target", "mixed_dtype", "small", "bool_index",
                                  "slice_step"])
def test_other_forms_fall_back_to_np_add_at(rng, case):
    target = rng.standard_normal((30, 64)).astype(np.float32)
    idx, vals = rng.integers(0, 30, 100), rng.standard_normal((100, 64)).astype(np.float32)
    if case == "empty_index":
        idx, vals = np.zeros(0, np.int64), np.zeros((0, 64), np.float32)
    elif case == "empty_rows":
        target, vals = np.zeros((30, 0), np.float32), np.zeros((100, 0), np.float32)
    elif case == "int_target":
        target, vals = (rng.integers(0, 5, (30, 64)), rng.integers(0, 5, (100, 64)))
    elif case == "mixed_dtype":
        vals = vals.astype(np.float64)
    elif case == "small":
        idx, vals = idx[:3], vals[:3]
    elif case == "bool_index":
        idx, vals = rng.random(30) > 0.5, np.float32(2.0)
    elif case == "slice_step":
        idx, vals = (slice(None, None, 2), rng.integers(0, 64, 100)), np.float32(1.0)
    assert not _fast_path_taken(target, idx, vals)
    np.testing.assert_array_equal(*_both(target, idx, vals))


def test_out_of_range_raises_like_np_add_at(rng):
    target = np.zeros((10, 64), np.float32)
    with pytest.raises(IndexError):
        scatter.add_at(target, np.array([0, 10] * 100), np.ones((200, 64), np.float32))


# ---- through the ops ------------------------------------------------------------------------------------

def test_embedding_gradient_uses_the_fast_path_and_matches_np_add_at(rng, monkeypatch):
    calls = []
    real = scatter._add_rows
    monkeypatch.setattr(scatter, "_add_rows", lambda *a: calls.append(1) or real(*a))
    idx = rng.integers(0, 1000, (32, 8))  # 1000 x 64 cells: past row_sums' bincount size
    w = tinytorch.tensor(rng.standard_normal((1000, 64)).astype(np.float32), requires_grad=True)
    g = rng.standard_normal((32, 8, 64)).astype(np.float32)
    F.embedding(tinytorch.tensor(idx), w).backward(tinytorch.tensor(g))
    want = np.zeros((1000, 64), np.float32)
    np.add.at(want, idx, g)
    assert calls, "the embedding gradient did not take the fast scatter"
    np.testing.assert_array_equal(w.grad.numpy(), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_embedding_gradient_is_a_float64_bincount_rounded_once(rng, monkeypatch, dtype):
    """Small vocabularies: row_sums sums each cell in float64 in index order (np.add.at in float64), rounds once."""
    monkeypatch.setattr(scatter, "add_at", lambda *a: pytest.fail("the small case must take the bincount path"))
    idx = rng.integers(0, 27, (32, 8))
    w = tinytorch.tensor(rng.standard_normal((27, 64)).astype(dtype), requires_grad=True)
    g = rng.standard_normal((32, 8, 64)).astype(dtype)
    F.embedding(tinytorch.tensor(idx), w, padding_idx=3).backward(tinytorch.tensor(g))
    want = np.zeros((27, 64), np.float64)
    np.add.at(want, idx, g.astype(np.float64))
    want[3] = 0
    np.testing.assert_array_equal(w.grad.numpy(), want.astype(dtype))
    monkeypatch.undo()  # the differentiable (create_graph) backward scatters with add_at, and agrees
    w2 = tinytorch.tensor(w.detach().numpy(), requires_grad=True)
    (gw,) = tinytorch.autograd.grad(F.embedding(tinytorch.tensor(idx), w2, padding_idx=3), [w2],
                                    tinytorch.tensor(g), create_graph=True)
    np.testing.assert_allclose(gw.detach().numpy(), want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


def test_row_sums_equal_add_at_on_both_paths(rng):
    for vocab, dim in ((27, 10), (5000, 64)):
        idx = rng.integers(0, vocab, 700)
        vals = rng.standard_normal((700, dim))
        want = np.zeros((vocab, dim))
        np.add.at(want, idx, vals)
        np.testing.assert_allclose(scatter.row_sums(idx, vals, vocab), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ["getitem", "index_select_dim1", "gather"])
def test_index_gradients_match_torch(rng, op):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((40, 60)).astype(np.float64)
    idx = rng.integers(0, 40, 300)
    t_tt = tinytorch.tensor(x, requires_grad=True)
    t_pt = torch.tensor(x, requires_grad=True)
    if op == "getitem":
        y_tt, y_pt = t_tt[tinytorch.tensor(idx)], t_pt[torch.tensor(idx)]
    elif op == "index_select_dim1":
        j = rng.integers(0, 60, 300)
        y_tt, y_pt = tinytorch.index_select(t_tt, 1, tinytorch.tensor(j)), torch.index_select(t_pt, 1, torch.tensor(j))
    else:
        gi = rng.integers(0, 40, (200, 60))
        y_tt, y_pt = tinytorch.gather(t_tt, 0, tinytorch.tensor(gi)), torch.gather(t_pt, 0, torch.tensor(gi))
    g = rng.standard_normal(tuple(y_pt.shape))
    y_tt.backward(tinytorch.tensor(g))
    y_pt.backward(torch.tensor(g))
    np.testing.assert_allclose(t_tt.grad.numpy(), t_pt.grad.numpy(), rtol=1e-12, atol=1e-12)
