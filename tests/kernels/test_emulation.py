"""The CPU emulation is faithful enough to catch the bugs it is there for.

A kernel built with a needed __syncthreads() removed (-DTT_TEST_DROP_SYNC) must give wrong results;
warp shuffles must really exchange lanes; a barrier skipped by some threads must be reported.
"""
from __future__ import annotations

import numpy as np
import pytest

from tinytorch._arrays.kernels import launchers
from tests.kernels import reference as ref

from .emu.build import EmuError


def test_dropping_the_tile_barrier_in_conv2d_forward_is_detected(emu, emu_drop_sync, rng):
    x = rng.standard_normal((2, 3, 9, 9))
    w = rng.standard_normal((5, 3, 3, 3))
    want = ref.conv2d_forward(x, w, None, 1, 1)
    good = launchers.conv2d_forward(emu, x, w, None, 1, 1, 1, 1)
    np.testing.assert_allclose(good, want, rtol=1e-12, atol=1e-12)
    bad = launchers.conv2d_forward(emu_drop_sync, x, w, None, 1, 1, 1, 1)
    assert not np.allclose(bad, want, rtol=1e-3, atol=1e-3), "a missing __syncthreads went unnoticed"


def test_dropping_the_barrier_in_a_shared_memory_reversal_is_detected(emu, emu_drop_sync, rng):
    a = rng.standard_normal((2, 64)).astype(np.float32)
    for rt, ok in ((emu, True), (emu_drop_sync, False)):
        out = np.full_like(a, np.nan)
        rt.launch("selftest", "emu_reverse", (2, 1, 1), (64, 1, 1), (a, out))
        assert np.array_equal(out, a[:, ::-1]) == ok


@pytest.mark.parametrize("delta,lane_mask", [(1, 1), (5, 16), (16, 31)])
def test_warp_shuffles_exchange_lanes(emu, delta, lane_mask):
    n = 96  # three warps
    a = (np.arange(n, dtype=np.int32) * 7 + 3).astype(np.int32)
    down, xor = np.zeros(n, np.int32), np.zeros(n, np.int32)
    emu.launch("selftest", "emu_shuffle_probe", (1, 1, 1), (n, 1, 1), (a, down, xor, np.int32(delta),
                                                                        np.int32(lane_mask)))
    lane = np.arange(n) % 32
    base = np.arange(n) - lane
    want_down = np.where(lane + delta < 32, a[np.minimum(np.arange(n) + delta, n - 1)], a)
    np.testing.assert_array_equal(down, want_down)
    np.testing.assert_array_equal(xor, a[base + (lane ^ lane_mask)])


def test_barrier_skipped_by_exited_threads_is_reported(emu):
    out = np.zeros(64, np.int32)
    emu.launch("selftest", "emu_divergent_barrier", (1, 1, 1), (64, 1, 1), (out, np.int32(64)))
    np.testing.assert_array_equal(out, (np.arange(64) + 1) % 64)
    with pytest.raises(EmuError, match="__syncthreads: 40 of 64 threads"):
        emu.launch("selftest", "emu_divergent_barrier", (1, 1, 1), (64, 1, 1), (out, np.int32(40)))


def test_argument_types_are_checked_like_the_kernel_signature(emu):
    x = np.zeros(4, np.float32)
    with pytest.raises(EmuError, match="argument 3 must be int32, got int 1"):
        emu.launch("selftest", "emu_shuffle_probe", (1, 1, 1), (32, 1, 1),
                   (np.zeros(32, np.int32),) * 3 + (1, np.int32(1)))
    with pytest.raises(EmuError, match=r"argument 0 is \*f but got an array of float64"):
        emu.launch("selftest", "emu_reverse", (1, 1, 1), (4, 1, 1), (x.astype(np.float64), x))
    with pytest.raises(EmuError, match="invalid launch configuration"):
        emu.launch("selftest", "emu_reverse", (1, 1, 1), (2048, 1, 1), (x, x))
