"""Every registered op on CUDA against the same op on the CPU: outputs and input gradients, float32 and
float64, from the same sample inputs and the same upstream gradient.

tests/ops/test_registry.py already runs each op on CUDA against its NumPy reference and gradchecks it
there; this adds the direct device-vs-device comparison of the first-order backward (the
``backward_arrays`` fast paths and CUDA kernels that gradcheck's float64 run exercises only once).
"""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
from tests.opinfo import registry
from tests.helpers import build_args, host, outputs_of

pytestmark = pytest.mark.gpu

# decompositions whose outputs are defined up to signs/phases: CPU and GPU solvers may pick differently
_GAUGE = ("svd", "qr", "eig", "lowrank")
OPS = [op for op in registry.all_ops()
       if op.gpu and not op.nondeterministic and not any(g in op.name for g in _GAUGE)]


def _grad_inputs(args, kwargs):
    flat = []
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, tinytorch.Tensor) and a.requires_grad:
            flat.append(a)
        elif isinstance(a, list):
            flat.extend(t for t in a if isinstance(t, tinytorch.Tensor) and t.requires_grad)
    return flat


def _run(op, sample, device, dtype):
    args, kwargs = build_args(sample, device, dtype=dtype)
    outs = outputs_of(op.op(*args, **kwargs))
    inputs = _grad_inputs(args, kwargs)
    diff = [o for o in outs if o.requires_grad]
    grads = []
    if diff and inputs:
        upstream = [tinytorch.Tensor._make(_upstream(o, device)) for o in diff]
        got = tinytorch.autograd.grad(diff, inputs, upstream, allow_unused=True)
        grads = [None if g is None else host(g) for g in got]
    return [host(o) for o in outs], grads


def _upstream(o, device):
    from tinytorch import _arrays

    n = int(np.prod(tuple(o.shape)))
    g = np.cos(np.arange(n, dtype=np.float64) * 0.7).reshape(tuple(o.shape)).astype(host(o).dtype)
    return _arrays.to_device(g, device)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_cuda_matches_cpu(op, dtype):
    if dtype == np.float64:
        tol = dict(rtol=1e-7, atol=1e-9)
    else:  # each side is off from the truth by at most the registry's float32 tolerance
        tol = dict(rtol=2 * op.float32_rtol, atol=2 * op.float32_atol)
    for s in op.sample_inputs(np.random.default_rng(0)):
        cpu_out, cpu_grads = _run(op, s, "cpu", dtype)
        gpu_out, gpu_grads = _run(op, s, "cuda", dtype)
        assert len(cpu_out) == len(gpu_out), f"{op.name}[{s.name}]"
        for i, (a, b) in enumerate(zip(gpu_out, cpu_out)):
            assert a.shape == b.shape and a.dtype == b.dtype, f"{op.name}[{s.name}] output {i}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
            if a.dtype.kind in "fc":
                np.testing.assert_allclose(a, b, err_msg=f"{op.name}[{s.name}] output {i}", equal_nan=True, **tol)
            else:
                np.testing.assert_array_equal(a, b, err_msg=f"{op.name}[{s.name}] output {i}")
        assert len(cpu_grads) == len(gpu_grads), f"{op.name}[{s.name}]"
        for i, (a, b) in enumerate(zip(gpu_grads, cpu_grads)):
            assert (a is None) == (b is None), f"{op.name}[{s.name}] grad {i}: None on one device only"
            if a is not None:
                np.testing.assert_allclose(a, b, err_msg=f"{op.name}[{s.name}] grad {i}", equal_nan=True, **tol)


def test_registry_covers_cuda():
    """The generic registry tests take the ``device`` fixture, so each runs on CUDA too."""
    import inspect

    from tests.ops import test_registry

    for name in ("test_forward_matches_numpy_reference", "test_gradcheck", "test_gradgradcheck",
                 "test_float32_matches_float64"):
        assert "device" in inspect.signature(getattr(test_registry, name)).parameters, name
    assert len(OPS) > 100
