"""tinytorch.device parsing and equality; device-mismatch errors; CUDA availability reporting."""
from __future__ import annotations

import pytest

import tinytorch
from tinytorch import _arrays
from tinytorch.autograd import function as _function


@pytest.mark.parametrize("args", [("cpu",), ("cuda",), ("cuda:0",), ("cuda:1",), ("cuda", 2), ("cpu", 0), ("cpu:0",), ("cpu:1",)])
def test_device_matches_torch(args):
    torch = pytest.importorskip("torch")
    d, t = tinytorch.device(*args), torch.device(*args)
    assert (d.type, d.index) == (t.type, t.index)
    assert str(d) == str(t) and repr(d) == repr(t)


def test_device_equality_and_hash():
    assert tinytorch.device("cuda:0") == tinytorch.device("cuda", 0)
    assert tinytorch.device("cuda") != tinytorch.device("cuda:0")  # like torch: index None differs
    assert tinytorch.device("cpu") == "cpu"
    assert len({tinytorch.device("cpu"), tinytorch.device("cpu")}) == 1
    assert tinytorch.device(tinytorch.device("cuda:1")).index == 1


@pytest.mark.parametrize("bad", ["gpu:0", "cuda:x", "tpu", "", "cuda:-1"])
def test_unknown_device_strings_raise(bad):
    with pytest.raises(RuntimeError, match="Invalid device"):
        tinytorch.device(bad)
    with pytest.raises(RuntimeError, match="Invalid device"):
        tinytorch.zeros(2, device=bad)


def test_bad_device_types():
    with pytest.raises(TypeError, match="device"):
        tinytorch.device(3.5)
    with pytest.raises(ValueError, match="index"):
        tinytorch.device("cuda", -1)


def test_cuda_module_without_gpu():
    if _arrays.cuda_available():
        pytest.skip("a GPU is available here")
    assert tinytorch.cuda.is_available() is False
    assert tinytorch.cuda.device_count() == 0
    assert tinytorch.cuda.unavailable_reason()
    assert tinytorch.cuda.memory_allocated() == 0
    tinytorch.cuda.synchronize()  # a no-op without a GPU
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        tinytorch.cuda.current_device()


class _FakeXp:
    """Stands in for CuPy: arrays carry a device tag through a side table."""


def test_mixed_devices_error_names_op_and_both_devices(monkeypatch):
    a = tinytorch.ones(2)
    b = tinytorch.ones(2)
    where = {id(a._data): _arrays.device("cuda", 0), id(b._data): _arrays.device("cpu")}
    monkeypatch.setattr(_arrays, "array_module", lambda *arrays: _FakeXp)
    monkeypatch.setattr(_arrays, "device_of", lambda arr: where.get(id(arr), _arrays.CPU))
    monkeypatch.setattr(_arrays, "cupy_loaded", lambda: True)  # apply skips the check while CuPy is unloaded
    with pytest.raises(RuntimeError) as info:
        _function.Function.apply.__func__(type("Add", (_function.Function,), {
            "forward": staticmethod(lambda ctx, x, y: x._data + y._data)}), a, b)
    msg = str(info.value)
    assert "add" in msg and "cpu" in msg and "cuda:0" in msg and "same device" in msg


def test_mixed_devices_through_public_op(monkeypatch):
    a = tinytorch.ones(2)
    b = tinytorch.ones(2)
    where = {id(a._data): _arrays.device("cuda", 1)}
    monkeypatch.setattr(_arrays, "array_module", lambda *arrays: _FakeXp)
    monkeypatch.setattr(_arrays, "device_of", lambda arr: where.get(id(arr), _arrays.CPU))
    monkeypatch.setattr(_arrays, "cupy_loaded", lambda: True)
    with pytest.raises(RuntimeError, match=r"mul: expected all tensors to be on the same device.*cpu and cuda:1"):
        _function.Function.apply.__func__  # keep flake quiet
        tinytorch.mul(a, b)


@pytest.mark.gpu
def test_real_mixed_devices():
    with pytest.raises(RuntimeError, match="cpu and cuda:0"):
        tinytorch.ones(2) + tinytorch.ones(2, device="cuda")
