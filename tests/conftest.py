"""Shared fixtures: the ``device`` fixture runs a test on every available device."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
from tinytorch import backend

DEVICES = ["cpu"] + (["cuda"] if backend.cuda_available() else [])


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a usable CUDA GPU (skipped with the reason otherwise)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


def pytest_collection_modifyitems(config, items):
    if backend.cuda_available():
        return
    reason = backend.cuda_unavailable_reason() or "CUDA unavailable"
    skip = pytest.mark.skip(reason=f"needs a GPU: {reason}")
    for item in items:
        if item.get_closest_marker("gpu") is not None:  # not item.keywords: it holds the tests/gpu/ folder name
            item.add_marker(skip)


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
