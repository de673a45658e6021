"""``Linear`` on inputs with more than two dims runs one 2-D GEMM over all rows: same results as torch."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import tinytorch


@pytest.mark.parametrize("shape, transpose", [((5, 4, 3), True), ((2, 3, 4, 3), False), ((0, 4, 3), False),
                                              ((4, 3), False), ((2, 5, 0), False)])
def test_linear_leading_dims_match_torch(shape, transpose):
    rng = np.random.default_rng(0)
    xs = rng.standard_normal(shape)
    w, b = rng.standard_normal((6, shape[-1])), rng.standard_normal(6)
    x = tinytorch.tensor(xs, requires_grad=True)
    xt = torch.tensor(xs, requires_grad=True)
    tw, tb = tinytorch.tensor(w, requires_grad=True), tinytorch.tensor(b, requires_grad=True)
    pw, pb = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    xi, pxi = (x.transpose(0, 1), xt.transpose(0, 1)) if transpose else (x, xt)  # a non-contiguous input
    y = tinytorch.nn.functional.linear(xi, tw, tb)
    yt = torch.nn.functional.linear(pxi, pw, pb)
    assert tuple(y.shape) == tuple(yt.shape)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(tuple(yt.shape))
    y.backward(tinytorch.tensor(g))
    yt.backward(torch.tensor(g))
    for a, p in ((x, xt), (tw, pw), (tb, pb)):
        np.testing.assert_allclose(a.grad.numpy(), p.grad.numpy(), rtol=1e-12, atol=1e-12)
