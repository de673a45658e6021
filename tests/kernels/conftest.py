"""Fixtures for the kernel tests: the CPU emulation, built once per session (and cached on disk)."""
from __future__ import annotations

import numpy as np
import pytest

from .emu import build as emu_build


def _runtime(defines=()):
    if emu_build.gxx() is None:
        pytest.skip("g++ not found: the CUDA kernels cannot be emulated on the CPU")
    return emu_build.EmuRuntime(emu_build.build(defines))


@pytest.fixture(scope="session")
def emu():
    """Launcher runtime over the g++ emulation of kernels/*.cu."""
    return _runtime()


@pytest.fixture(scope="session")
def emu_drop_sync():
    """The same, compiled with -DTT_TEST_DROP_SYNC: one needed __syncthreads() removed."""
    return _runtime(("TT_TEST_DROP_SYNC",))


@pytest.fixture
def rng():
    return np.random.default_rng(20240611)
