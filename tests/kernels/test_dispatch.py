"""The dispatch API: inert on NumPy arrays and at import time, switchable off by environment."""
from __future__ import annotations

import subprocess
import sys

import numpy as np

from tinytorch._arrays import kernels


def test_dispatch_returns_none_for_numpy_arrays():
    x, w = np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2))
    assert kernels.conv2d_forward(x, w, None, 1, 0, 1, 1) is None
    assert kernels.conv2d_backward(x, w, np.ones((1, 1, 2, 2)), 1, 0, 1, 1, True, True, True) is None
    assert kernels.linear_act_backward(np.ones((2, 3)), np.ones((2, 3)), "relu", True) is None
    assert kernels.softmax_cross_entropy(np.ones((2, 3)), np.zeros(2, np.int64), -100, True) is None
    assert kernels.fused_optimizer_step("adam", [np.ones(3)], [np.ones(3)], [{}], {"lr": 0.1}) is False
    assert kernels.fused_optimizer_step("adam", [], [], [], {"lr": 0.1}) is False


def test_env_switch(monkeypatch):
    monkeypatch.setenv("TINYTORCH_CUDA_KERNELS", "0")
    assert not kernels.enabled()
    monkeypatch.setenv("TINYTORCH_CUDA_KERNELS", "1")
    assert kernels.enabled()
    assert kernels.enabled("conv2d_forward")


def test_auto_mode_uses_only_measured_defaults(monkeypatch):
    monkeypatch.delenv("TINYTORCH_CUDA_KERNELS", raising=False)
    for name, default in kernels.MEASURED_DEFAULTS.items():
        assert kernels.enabled(name) is default
    # nothing has a recorded GPU measurement yet: the compute kernels stay opt-in
    assert not kernels.enabled("conv2d_forward") and not kernels.enabled("softmax_cross_entropy")


def test_import_touches_neither_cupy_nor_the_sources():
    code = ("import sys, tinytorch\n"
            "from tinytorch._arrays import kernels\n"
            "from tinytorch._arrays.kernels import launchers\n"
            "print('cupy' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
