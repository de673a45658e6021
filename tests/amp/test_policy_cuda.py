"""CUDA float16 autocast over the whole op registry, through the strict CuPy stand-in (or a real GPU).

For every registry op and sample, under ``autocast("cuda")`` (float16):
- on "cuda" the op runs (no implicit host conversion, no host data in device ops: the stand-in refuses them),
- its output dtypes equal those of the same call on CPU tensors with the CUDA op lists in force (the dispatch
  is shared; this checks the device path), and its values agree with that CPU run,
- an op whose torch name is on CUDA's lower-precision list returns float16, one on CUDA's float32 list float32.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch.amp import autocast_mode, policy
from tests.opinfo import registry

from tests.helpers import build_args, host, outputs_of

pytestmark = pytest.mark.gpu

# random ops draw from different streams on the two devices; values and dtypes are compared elsewhere
OPS = [op for op in registry.all_ops() if op.gpu and "dropout" not in op.name and op.name not in (
    "gumbel_softmax", "rrelu", "multinomial", "bernoulli", "normal")]


def _run(op, sample, device, as_cuda):
    args, kwargs = build_args(sample, device, dtype=np.float32, requires_grad=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if as_cuda:  # CPU tensors, CUDA's lists: pretend the inputs are CUDA tensors for the dispatch
            real = autocast_mode._device_type
            autocast_mode._device_type = lambda a, k: "cuda" if real(a, k) is not None else None
            tinytorch.set_autocast_enabled("cuda", True)
            try:
                return outputs_of(op.op(*args, **kwargs))
            finally:
                tinytorch.set_autocast_enabled("cuda", False)
                autocast_mode._device_type = real
        with tinytorch.autocast("cuda"):
            return outputs_of(op.op(*args, **kwargs))


def _dtypes(outs):
    return [str(o.dtype).split(".")[-1] for o in outs]


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_cuda_autocast_float16_table(op):
    check(op)


def check(op):
    for sample in op.sample_inputs(np.random.default_rng(0)):
        try:
            want = _run(op, sample, "cpu", as_cuda=True)
        except Exception as refused:  # e.g. BCE under CUDA autocast: CUDA must refuse the same way
            with pytest.raises(type(refused)):
                _run(op, sample, "cuda", as_cuda=False)
            continue
        got = _run(op, sample, "cuda", as_cuda=False)
        assert all(o.device.type == "cuda" for o in got), f"{op.name}[{sample.name}]: output left the device"
        assert _dtypes(got) == _dtypes(want), f"{op.name}[{sample.name}]: cuda {_dtypes(got)}, cpu {_dtypes(want)}"
        for g, w in zip(got, want):
            if w.dtype.is_floating_point:
                tol = 2e-2 if w.dtype is tinytorch.float16 else 1e-4
                np.testing.assert_allclose(host(g).astype(np.float64), host(w).astype(np.float64), rtol=tol,
                                           atol=tol, err_msg=f"{op.name}[{sample.name}]")
        kind = policy.category((op.name,), "cuda")
        floats = [o for o in got if o.dtype.is_floating_point]
        if kind == "lower" and floats:
            assert floats[0].dtype is tinytorch.float16, f"{op.name}: on CUDA's float16 list, got {floats[0].dtype}"
        if kind == "fp32" and floats:
            assert floats[0].dtype is tinytorch.float32, f"{op.name}: on CUDA's float32 list, got {floats[0].dtype}"


def test_the_check_bites_when_the_device_path_ignores_the_policy(monkeypatch):
    """Autocast skipped for tensors on CUDA: the lower-precision list check must fail."""
    mm = registry.get("mm")
    check(mm)
    real = autocast_mode._device_type
    monkeypatch.setattr(autocast_mode, "_device_type",
                        lambda a, k: None if any(getattr(t, "is_cuda", False) for t in a) else real(a, k))
    with pytest.raises(AssertionError, match=r"mm\[\]: cuda \[.float32.\]|float16 list"):
        check(mm)


def test_the_table_covers_the_lists():
    """The check above must see ops of each kind, or it proves nothing."""
    kinds = {policy.category((op.name,), "cuda") for op in OPS}
    assert {"lower", "fp32"} <= kinds
