"""``out=`` on the top-level functions that take it in torch (tinytorch/_out.py), against torch."""
from __future__ import annotations

import re

import numpy as np
import pytest

import tinytorch
from tinytorch._out import OUT_FUNCTIONS


def test_every_listed_function_exists_and_takes_out_in_torch():
    torch = pytest.importorskip("torch")
    for name in OUT_FUNCTIONS:
        assert callable(getattr(tinytorch, name)), name
        doc = getattr(torch, name).__doc__ or ""
        assert re.search(r"\*,.*out=None|out \(Tensor", doc), f"torch.{name} has no out= (remove it from the list)"


@pytest.mark.parametrize("call", [
    lambda m, a, b, o: m.matmul(a, b.T, out=o),
    lambda m, a, b, o: m.mul(a, b, out=o),
    lambda m, a, b, o: m.add(a, b, alpha=2, out=o),
    lambda m, a, b, o: m.exp(a, out=o),
    lambda m, a, b, o: m.clamp(a, min=0.1, out=o),
    lambda m, a, b, o: m.where(a > 0.5, a, b, out=o),
])
def test_out_matches_torch_and_is_the_returned_tensor(call):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, b = rng.random((3, 3)), rng.random((3, 3))
    o = tinytorch.zeros(3, 3, dtype=tinytorch.float64)
    r = call(tinytorch, tinytorch.tensor(a), tinytorch.tensor(b), o)
    ot = torch.zeros(3, 3, dtype=torch.float64)
    call(torch, torch.tensor(a), torch.tensor(b), ot)
    assert r is o
    np.testing.assert_allclose(o.numpy(), ot.numpy(), rtol=1e-12)


def test_tuple_out_resize_warning_and_refusals():
    x = tinytorch.tensor([[1.0, 3.0], [4.0, 2.0]])
    values, indices = tinytorch.empty(0), tinytorch.empty(0, dtype=tinytorch.int64)
    tinytorch.max(x, 1, out=(values, indices))
    assert values.tolist() == [3.0, 4.0] and indices.tolist() == [1, 0]
    o = tinytorch.zeros(5)
    with pytest.warns(UserWarning, match="was resized"):
        tinytorch.mul(x, 2, out=o)
    assert o.shape == (2, 2) and o.tolist() == [[2.0, 6.0], [8.0, 4.0]]
    w = tinytorch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        tinytorch.mul(w, 2, out=tinytorch.empty(2))
    with tinytorch.no_grad():
        tinytorch.mul(w, 2, out=tinytorch.empty(2))  # no_grad: allowed
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        tinytorch.exp(x, out=tinytorch.zeros(2, 2, dtype=tinytorch.int64))
    with pytest.raises(TypeError, match="argument 'out' must be Tensor"):
        tinytorch.exp(x, out=[1, 2])
