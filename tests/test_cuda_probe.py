"""``cuda.is_available()`` tells the truth: the usability probe's failure branches, driven by fake CuPys.

A CuPy wheel without the CUDA libraries imports and counts devices fine, then fails on the first
elementwise kernel (NVRTC), matrix product (cuBLAS) or random draw (cuRAND). Each must make
``is_available()`` False with a reason naming the library and the extra that installs it.
"""
from __future__ import annotations

import sys
import types

import numpy as np
import pytest

import tinytorch
from tinytorch._arrays import _cuda
from tests import cupy_standin


class _FakeCupy(types.ModuleType):
    """The stand-in, with one step of the probe broken the way a missing library breaks it."""

    def __init__(self, *, count=1, driver=12040, broken=None, count_error=None):
        super().__init__("fake_cupy")
        self._broken = broken
        runtime = types.SimpleNamespace(
            getDeviceCount=(lambda: (_ for _ in ()).throw(count_error)) if count_error else (lambda: count),
            driverGetVersion=lambda: driver, getDevice=lambda: 0)
        self.cuda = types.SimpleNamespace(runtime=runtime, Device=cupy_standin.cuda.Device,
                                          set_allocator=lambda a=None: None,
                                          memory=cupy_standin.cuda.memory)
        self.random = types.SimpleNamespace(RandomState=self._random_state)
        self.float32 = np.float32
        self.__version__ = "14.2.0"

    def arange(self, *a, **k):
        if self._broken == "nvrtc":
            raise RuntimeError("CuPy failed to load libnvrtc.so.12: OSError: libnvrtc.so.12: cannot open shared "
                               "object file: No such file or directory")
        return cupy_standin.arange(*a, **k)

    def ones(self, *a, **k):
        if self._broken == "cublas":
            raise ImportError("libcublas.so.12: cannot open shared object file: No such file or directory")
        return cupy_standin.ones(*a, **k)

    def _random_state(self, seed):
        if self._broken == "curand":
            raise OSError("libcurand.so.10: cannot open shared object file")
        return cupy_standin.random.RandomState(seed)

    def get_default_memory_pool(self):
        return cupy_standin.get_default_memory_pool()


def test_the_stand_in_passes_the_probe():
    assert _cuda.probe(cupy_standin) is None


@pytest.mark.parametrize("broken, library", [("nvrtc", "NVRTC"), ("cublas", "cuBLAS"), ("curand", "cuRAND")])
@pytest.mark.parametrize("driver, extra", [(12040, "cuda12"), (13000, "cuda13")])
def test_a_missing_library_is_named_with_the_extra_that_installs_it(broken, library, driver, extra):
    reason = _cuda.probe(_FakeCupy(broken=broken, driver=driver))
    assert reason is not None and library in reason, reason
    assert f'tinytorch[{extra}]' in reason and "sees 1 device(s)" in reason


def test_no_device_and_a_failing_runtime_are_reported():
    assert "0 CUDA devices" in _cuda.probe(_FakeCupy(count=0))
    reason = _cuda.probe(_FakeCupy(count_error=RuntimeError("cudaErrorNoDevice: no CUDA-capable device")))
    assert "no CUDA device is usable" in reason and "cudaErrorNoDevice" in reason


@pytest.fixture
def fresh_cuda_state(monkeypatch):
    for k in ("tried", "cupy", "reason", "devices", "broken"):
        monkeypatch.setitem(_cuda._state, k, _cuda._state.get(k))
    monkeypatch.setitem(_cuda._state, "tried", False)
    monkeypatch.setitem(_cuda._state, "cupy", None)
    monkeypatch.delenv("TINYTORCH_DISABLE_CUDA", raising=False)
    return monkeypatch


def test_is_available_and_to_cuda_report_the_probe_reason(fresh_cuda_state):
    fresh_cuda_state.setitem(sys.modules, "fake_cupy_without_nvrtc", _FakeCupy(broken="nvrtc"))
    fresh_cuda_state.setenv("TINYTORCH_CUPY_MODULE", "fake_cupy_without_nvrtc")
    assert tinytorch.cuda.is_available() is False
    assert "NVRTC" in tinytorch.cuda.unavailable_reason()
    with pytest.raises(RuntimeError, match=r"CUDA is not available: .*NVRTC.*tinytorch\[cuda12\]"):
        tinytorch.zeros(2).to("cuda")


def test_a_broken_install_is_told_apart_from_a_cpu_only_machine(fresh_cuda_state):
    """conftest runs gpu tests on the stand-in only on machines without a GPU, never over a broken install."""
    fresh_cuda_state.setitem(sys.modules, "fake_cupy_without_cublas", _FakeCupy(broken="cublas"))
    fresh_cuda_state.setenv("TINYTORCH_CUPY_MODULE", "fake_cupy_without_cublas")
    assert _cuda.install_is_broken() is True
    fresh_cuda_state.setitem(_cuda._state, "tried", False)
    fresh_cuda_state.setitem(sys.modules, "fake_cupy_no_device", _FakeCupy(count=0))
    fresh_cuda_state.setenv("TINYTORCH_CUPY_MODULE", "fake_cupy_no_device")
    assert _cuda.install_is_broken() is False


def test_the_probe_runs_once_and_is_remembered(fresh_cuda_state):
    calls = []
    fake = _FakeCupy(broken="cublas")
    real_arange = fake.arange
    fake.arange = lambda *a, **k: calls.append(1) or real_arange(*a, **k)
    fresh_cuda_state.setitem(sys.modules, "fake_cupy_counting", fake)
    fresh_cuda_state.setenv("TINYTORCH_CUPY_MODULE", "fake_cupy_counting")
    for _ in range(3):
        assert not tinytorch.cuda.is_available()
    assert len(calls) == 1


def test_use_module_refuses_a_broken_cupy_and_restores_the_state():
    before = dict(_cuda._state)
    with pytest.raises(RuntimeError, match="not a usable CuPy.*cuRAND"):
        with _cuda.use_module(_FakeCupy(broken="curand")):
            pass
    assert _cuda._state == before


def test_the_gpu_skip_reason_is_the_probe_reason():
    """tests/conftest.py skips gpu tests with _arrays.cuda_unavailable_reason(): the probe's own words."""
    from tests import conftest

    src = open(conftest.__file__).read()
    assert "cuda_unavailable_reason()" in src and 'f"needs a GPU: {reason}"' in src
    assert "install_is_broken()" in src  # a broken GPU install never runs on the stand-in


class _Bf16Cupy(_FakeCupy):
    def __init__(self, capability="90", refuse=False):
        super().__init__()
        self._refuse = refuse
        self.cuda.Device = lambda *a: types.SimpleNamespace(compute_capability=capability)

    def asarray(self, a):
        if self._refuse and a.dtype.name == "bfloat16":
            raise TypeError("Unsupported dtype bfloat16")
        return cupy_standin.array(a)


@pytest.mark.parametrize("fake, want", [
    (_Bf16Cupy(capability="75"), False),      # Turing: no bfloat16 arithmetic
    (_Bf16Cupy(refuse=True), False),          # CuPy < 14: cannot hold bfloat16 arrays
    (_Bf16Cupy(), True),
])
def test_is_bf16_supported_is_checked_by_doing_it(fake, want):
    pytest.importorskip("ml_dtypes")
    with _cuda.use_module(fake):
        assert tinytorch.cuda.is_bf16_supported() is want
