"""F.normalize and F.cosine_similarity at zero and near-zero vectors: values and gradients equal torch's (finite,
with torch's eps placement), never NaN."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tests.helpers import host

torch = pytest.importorskip("torch")

# rows of (N, 3) inputs: exactly zero, below eps, around eps, ordinary
VECTORS = np.array([
    [0.0, 0.0, 0.0],
    [1e-10, 2e-10, 0.0],
    [3e-10, -1e-10, 1e-10],
    [1e-13, 0.0, -1e-13],
    [1.0, 2.0, 3.0],
    [-1.0, 0.5, 2.0],
])
OTHER = np.array([
    [1.0, 1.0, 1.0],
    [1.0, 1.0, 1.0],
    [3e-10, -1e-10, 1e-10],
    [0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0],
    [2.0, -1.0, 0.5],
])
WEIGHTS = np.array([1.0, 2.0, 3.0])


def _both(a, device, dtype="float64"):
    t = tinytorch.tensor(a, dtype=getattr(tinytorch, dtype), device=device, requires_grad=True)
    r = torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=True)
    return t, r


def _close(a, b, dtype):
    rtol = 1e-9 if dtype == "float64" else 2e-5
    want = b.detach().numpy()
    # atol scaled per row: cancellation leaves ~1e-18 where the row's entries are ~1e-2
    scale = np.abs(want).max(axis=-1, keepdims=True) if want.ndim else np.abs(want)
    assert np.all(np.abs(host(a) - want) <= rtol * np.abs(want) + 1e-12 * scale), (host(a), want)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, math.inf])
def test_normalize_matches_torch_at_zero(device, p, dtype):
    x, xr = _both(VECTORS, device, dtype)
    w = np.broadcast_to(WEIGHTS, VECTORS.shape)
    y = F.normalize(x, p=p, dim=1)
    yr = torch.nn.functional.normalize(xr, p=p, dim=1)
    _close(y, yr, dtype)
    (y * tinytorch.tensor(w, dtype=x.dtype, device=device)).sum().backward()
    (yr * torch.tensor(w, dtype=xr.dtype)).sum().backward()
    assert np.isfinite(host(x.grad)).all()
    if p == math.inf or dtype == "float32":  # ties and float32 near-zero rounding: finite is the contract
        return
    _close(x.grad, xr.grad, dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cosine_similarity_matches_torch_at_zero(device, dtype):
    a, ar = _both(VECTORS, device, dtype)
    b, br = _both(OTHER, device, dtype)
    y = F.cosine_similarity(a, b, dim=1)
    yr = torch.nn.functional.cosine_similarity(ar, br, dim=1)
    _close(y, yr, dtype)
    y.sum().backward()
    yr.sum().backward()
    for g, gr in ((a.grad, ar.grad), (b.grad, br.grad)):
        assert np.isfinite(host(g)).all()
        if dtype == "float64":
            _close(g, gr, dtype)


def test_cosine_similarity_broadcast_dim0_zero(device):
    a, ar = _both(np.zeros((3, 1)), device)
    b, br = _both(np.ones((3, 4)), device)
    y, yr = F.cosine_similarity(a, b, dim=0), torch.nn.functional.cosine_similarity(ar, br, dim=0)
    _close(y, yr, "float64")
    y.sum().backward()
    yr.sum().backward()
    _close(a.grad, ar.grad, "float64")
    _close(b.grad, br.grad, "float64")


def test_tensor_float64_from_python_floats_keeps_precision():
    # the list must not pass through float32 on its way to float64 (it made near-zero gradients drift)
    assert tinytorch.tensor([0.1], dtype=tinytorch.float64).item() == 0.1
    assert tinytorch.as_tensor([1e-10], dtype=tinytorch.float64).item() == 1e-10
    assert tinytorch.tensor([0.1]).dtype == tinytorch.float32


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss"])
def test_regression_losses_keep_a_float64_target(name):
    # torch promotes float32 input with a float64 target to float64; rounding the target down was silent
    target = np.array([0.1, 1e-9 + 1.0, -3.3])
    x = tinytorch.zeros(3, requires_grad=True)
    xr = torch.zeros(3, requires_grad=True)
    y = getattr(F, name)(x, tinytorch.tensor(target, dtype=tinytorch.float64))
    yr = getattr(torch.nn.functional, name)(xr, torch.tensor(target, dtype=torch.float64))
    assert y.dtype == tinytorch.float64 and yr.dtype == torch.float64
    assert host(y) == yr.item()
    y.backward()
    yr.backward()
    assert x.grad.dtype == tinytorch.float32
    np.testing.assert_allclose(host(x.grad), xr.grad.numpy(), rtol=1e-6)
