"""Embedding extras: EmbeddingBag / F.embedding_bag (bags, modes, padding, weights), scale_grad_by_freq, sparse=True."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
import tinytorch.nn.functional as F

CASES = [
    dict(input=[1, 2, 4, 5, 4, 3, 2, 0], offsets=[0, 3, 3, 6]),  # an empty bag in the middle
    dict(input=[1, 2, 4, 5, 4, 3, 2, 0], offsets=[0, 2, 5, 8], include_last_offset=True),
    dict(input=[[1, 2, 0], [4, 0, 0]]),
]


def test_by_hand():
    w = tinytorch.arange(12.0).view(6, 2)  # row i = (2i, 2i+1)
    x, off = tinytorch.tensor([1, 3, 0, 5]), tinytorch.tensor([0, 2])
    assert F.embedding_bag(x, w, off, mode="sum").tolist() == [[8.0, 10.0], [10.0, 12.0]]
    assert F.embedding_bag(x, w, off).tolist() == [[4.0, 5.0], [5.0, 6.0]]  # mean is the default
    assert F.embedding_bag(x, w, off, mode="max").tolist() == [[6.0, 7.0], [10.0, 11.0]]
    # padding entries are left out of the mean's count; an empty bag is zeros
    assert F.embedding_bag(x, w, off, padding_idx=0).tolist() == [[4.0, 5.0], [10.0, 11.0]]
    assert F.embedding_bag(x, w, tinytorch.tensor([0, 4])).tolist() == [[4.5, 5.5], [0.0, 0.0]]
    bag = nn.EmbeddingBag(6, 2, mode="sum")
    with tinytorch.no_grad():
        bag.weight.copy_(w)
    out = bag(tinytorch.tensor([[1, 3], [0, 5]]))
    assert out.tolist() == [[8.0, 10.0], [10.0, 12.0]]
    out.sum().backward()
    assert bag.weight.grad[:, 0].tolist() == [1.0, 1.0, 0.0, 1.0, 0.0, 1.0]


def test_errors():
    w = tinytorch.randn(5, 2)
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(tinytorch.tensor([[1, 2]]), w, tinytorch.tensor([0]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(tinytorch.tensor([1, 2]), w)
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(tinytorch.tensor([1, 2]), w, tinytorch.tensor([1]))
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(tinytorch.tensor([[1, 2]]), w, per_sample_weights=tinytorch.ones(1, 2))
    with pytest.raises(ValueError, match="mode has to be one of"):
        nn.EmbeddingBag(5, 2, mode="median")


@pytest.mark.parametrize("case,mode,pad,weighted", [
    (c, m, p, wt) for c, m, p, wt in itertools.product(range(len(CASES)), ("sum", "mean", "max"), (None, 0), (False, True))
    if not (wt and m != "sum")
])
def test_matches_torch(case, mode, pad, weighted):
    torch = pytest.importorskip("torch")
    c = CASES[case]
    rng = np.random.default_rng(case)
    w = rng.standard_normal((7, 3))
    tw, ow = torch.tensor(w, requires_grad=True), tinytorch.tensor(w, requires_grad=True)
    kw = dict(mode=mode, padding_idx=pad, include_last_offset=c.get("include_last_offset", False))
    toff = torch.tensor(c["offsets"]) if "offsets" in c else None
    ooff = tinytorch.tensor(c["offsets"]) if "offsets" in c else None
    psw = rng.standard_normal(np.shape(c["input"])) if weighted else None
    tr = torch.nn.functional.embedding_bag(torch.tensor(c["input"]), tw, toff,
                                           per_sample_weights=None if psw is None else torch.tensor(psw), **kw)
    ours = F.embedding_bag(tinytorch.tensor(c["input"]), ow, ooff,
                           per_sample_weights=None if psw is None else tinytorch.tensor(psw), **kw)
    np.testing.assert_allclose(ours.detach().numpy(), tr.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(tuple(tr.shape))
    (tr * torch.tensor(g)).sum().backward()
    (ours * tinytorch.tensor(g)).sum().backward()
    np.testing.assert_allclose(ow.grad.numpy(), tw.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_scale_grad_by_freq_and_sparse_flag():
    w = tinytorch.ones(4, 2, requires_grad=True)
    x = tinytorch.tensor([[1, 1, 2], [1, 3, 0]])
    F.embedding(x, w, padding_idx=0, scale_grad_by_freq=True).sum().backward()
    # index 1 occurs 3 times: its summed gradient 3 is divided by 3; padding row 0 gets none
    assert w.grad[:, 0].tolist() == [0.0, 1.0, 1.0, 1.0]
    emb = nn.Embedding(4, 2, sparse=True)
    with pytest.warns(UserWarning, match="dense gradient"):
        emb(tinytorch.tensor([2, 2])).sum().backward()
    assert emb.weight.grad[:, 0].tolist() == [0.0, 0.0, 2.0, 0.0]


def test_scale_grad_by_freq_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    w, idx = rng.standard_normal((6, 3)), rng.integers(0, 6, (4, 5))
    g = rng.standard_normal((4, 5, 3))
    tw, ow = torch.tensor(w, requires_grad=True), tinytorch.tensor(w, requires_grad=True)
    (torch.nn.functional.embedding(torch.tensor(idx), tw, padding_idx=2, scale_grad_by_freq=True)
     * torch.tensor(g)).sum().backward()
    (F.embedding(tinytorch.tensor(idx), ow, padding_idx=2, scale_grad_by_freq=True) * tinytorch.tensor(g)).sum().backward()
    np.testing.assert_allclose(ow.grad.numpy(), tw.grad.numpy(), rtol=1e-12, atol=1e-12)
