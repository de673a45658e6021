"""Shared fixtures: the ``device`` fixture runs a test on every available device."""
from __future__ import annotations

import os

import numpy as np
import pytest

import tinytorch
from tinytorch import _arrays

DEVICES = ["cpu"] + (["cuda"] if _arrays.cuda_available() else [])
# Without a usable GPU, gpu-marked tests run on the strict CuPy stand-in (tests/cupy_standin) unless they are
# also marked real_gpu; TINYTORCH_TEST_STANDIN=0 turns that off (they are then skipped with the reason).
# A GPU whose CuPy install is broken is not replaced: its gpu tests skip with the probe's reason.
STANDIN = (not _arrays.cuda_available() and not _arrays._cuda.install_is_broken()
           and os.environ.get("TINYTORCH_TEST_STANDIN", "1") != "0")
# gpu tests that launch tinytorch's own CUDA kernels (RawKernel/RawModule): the stand-in runs none
REAL_GPU_ONLY = ("tests/kernels/", "tests/examples/test_examples.py::test_custom_op[cuda]")


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a usable CUDA GPU (skipped with the reason otherwise)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    config.addinivalue_line("markers", "real_gpu: needs real CUDA (kernels, memory pool): not run on the stand-in")


def pytest_collection_modifyitems(config, items):
    if _arrays.cuda_available():
        return
    reason = _arrays.cuda_unavailable_reason() or "CUDA unavailable"
    skip = pytest.mark.skip(reason=f"needs a GPU: {reason}")
    for item in items:
        if item.get_closest_marker("gpu") is None:  # not item.keywords: it holds the tests/gpu/ folder name
            continue
        if not STANDIN or item.get_closest_marker("real_gpu") is not None or item.nodeid.startswith(REAL_GPU_ONLY):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _cupy_standin(request):
    """A gpu-marked test, without a GPU, runs with the strict CuPy stand-in as tinytorch's CuPy."""
    if not STANDIN or request.node.get_closest_marker("gpu") is None:
        yield None
        return
    from tests import cupy_standin
    from tinytorch._arrays import _cuda

    cupy_standin.set_device_count(1)
    kernels = os.environ.get("TINYTORCH_CUDA_KERNELS")
    os.environ["TINYTORCH_CUDA_KERNELS"] = "0"  # the stand-in runs no CUDA kernels: the plain xp path
    try:
        with _cuda.use_module(cupy_standin):
            yield cupy_standin
    finally:
        if kernels is None:
            os.environ.pop("TINYTORCH_CUDA_KERNELS", None)
        else:
            os.environ["TINYTORCH_CUDA_KERNELS"] = kernels


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request):
    """Every test that takes ``device`` runs on the CPU and, marked ``gpu``, on CUDA."""
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _seed():
    tinytorch.manual_seed(0)
    yield
