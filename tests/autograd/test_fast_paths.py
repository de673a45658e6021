"""The first-order fast paths (backward_arrays, scalar operands) keep autograd's semantics."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch


def test_saved_arrays_keep_the_inplace_version_check():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    z = y * y  # Mul saves y
    y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_scalar_fast_path_promotes_like_torch():
    f32 = tinytorch.tensor([1.0, 2.0])
    assert (f32 * 2).dtype == tinytorch.float32 and (f32 + 2.5).dtype == tinytorch.float32
    i64 = tinytorch.tensor([1, 2])
    assert (i64 * 2).dtype == tinytorch.int64 and (i64 * 2.5).dtype == tinytorch.float32
    assert (i64 / 2).dtype == tinytorch.float32
    f64 = tinytorch.tensor([1.0], dtype=tinytorch.float64)
    assert (f64 - 1).dtype == tinytorch.float64


def test_fast_backward_matches_the_graph_backward():
    rng = np.random.default_rng(0)
    a0, b0 = rng.standard_normal(5), rng.standard_normal(5) + 3.0
    grads = []
    for create_graph in (False, True):  # backward_arrays vs the recorded backward
        a = tinytorch.tensor(a0, requires_grad=True)
        b = tinytorch.tensor(b0, requires_grad=True)
        out = ((a * b - b) / b + a * 0.5 - 1.0) * a
        ga, gb = tinytorch.autograd.grad(out.sum(), (a, b), create_graph=create_graph)
        grads.append((ga.detach().numpy(), gb.detach().numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-14)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-14)


def test_float_errors_stay_quiet_and_state_is_restored():
    import warnings

    x = tinytorch.tensor([1e38, -1e38, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = (x * 10.0) / 0.0 - x
    assert np.isnan(y.numpy()).any()
    assert np.geterr()["divide"] == "warn"  # the caller's NumPy error state is untouched
