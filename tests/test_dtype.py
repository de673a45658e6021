"""dtypes: names, defaults, casts, and PyTorch's type promotion for tensor/0-d/scalar mixes."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import tinytorch
from tinytorch import _dtype

NAMES = ["float32", "float64", "float16", "bfloat16", "int8", "uint8", "int16", "int32", "int64", "bool"]


def _tt(name):
    return getattr(tinytorch, name)


def test_dtype_names_and_aliases():
    assert repr(tinytorch.float32) == "tinytorch.float32"
    assert tinytorch.float is tinytorch.float32 and tinytorch.double is tinytorch.float64
    assert tinytorch.half is tinytorch.float16 and tinytorch.long is tinytorch.int64
    assert tinytorch.int is tinytorch.int32 and tinytorch.short is tinytorch.int16
    assert tinytorch.bool.name == "bool"
    assert tinytorch.float16.is_floating_point and not tinytorch.int64.is_floating_point
    assert tinytorch.int8.is_signed and not tinytorch.uint8.is_signed


def test_python_scalar_defaults():
    assert tinytorch.tensor(1.5).dtype is tinytorch.float32
    assert tinytorch.tensor([1, 2]).dtype is tinytorch.int64
    assert tinytorch.tensor([True]).dtype is tinytorch.bool
    assert tinytorch.tensor(np.zeros(2)).dtype is tinytorch.float64  # NumPy arrays keep their dtype


def test_set_default_dtype_roundtrip():
    try:
        tinytorch.set_default_dtype(tinytorch.float64)
        assert tinytorch.get_default_dtype() is tinytorch.float64
        assert tinytorch.tensor([1.0]).dtype is tinytorch.float64
        assert tinytorch.zeros(2).dtype is tinytorch.float64
        assert tinytorch.arange(0.0, 1.0, 0.5).dtype is tinytorch.float64
        assert (tinytorch.tensor([1, 2]) * 1.5).dtype is tinytorch.float64
    finally:
        tinytorch.set_default_dtype(tinytorch.float32)
    assert tinytorch.tensor([1.0]).dtype is tinytorch.float32
    with pytest.raises(TypeError, match="floating point"):
        tinytorch.set_default_dtype(tinytorch.int64)


@pytest.mark.parametrize("method,name", [("float", "float32"), ("double", "float64"), ("half", "float16"),
                                         ("bfloat16", "bfloat16"), ("long", "int64"), ("int", "int32"),
                                         ("bool", "bool"), ("short", "int16"), ("byte", "uint8"), ("char", "int8")])
def test_cast_methods(method, name):
    t = tinytorch.tensor([0.0, 1.5, -2.0])
    out = getattr(t, method)()
    assert out.dtype is _tt(name)
    torch = pytest.importorskip("torch")
    ref = getattr(torch.tensor([0.0, 1.5, -2.0]), method)()
    assert out.tolist() == ref.tolist()
    assert t.to(_tt(name)).dtype is _tt(name)


def test_bfloat16_without_ml_dtypes(monkeypatch):
    d = _dtype.dtype("bfloat16", None, 2, 2)
    with pytest.raises(TypeError, match="ml_dtypes"):
        d.np


def test_bfloat16_values_and_grad():
    x = tinytorch.tensor([1.5, -2.0], dtype=tinytorch.bfloat16, requires_grad=True)
    y = (x * 3).sum()
    y.backward()
    assert x.grad.dtype is tinytorch.bfloat16
    assert x.grad.tolist() == [3.0, 3.0]
    assert x.float().tolist() == [1.5, -2.0]


def test_unknown_dtype_name():
    with pytest.raises(TypeError, match="dtype"):
        tinytorch.zeros(2, dtype="float7")


def _torch_operand(torch, kind, name):
    d = getattr(torch, name)
    if kind == "t":
        return torch.ones(2, dtype=d)
    if kind == "z":
        return torch.ones((), dtype=d)
    return {"float": 1.5, "int": 2, "bool": True}[name]


def _tt_operand(kind, name):
    if kind == "t":
        return tinytorch.ones(2, dtype=_tt(name))
    if kind == "z":
        return tinytorch.ones((), dtype=_tt(name))
    return {"float": 1.5, "int": 2, "bool": True}[name]


_CASES = []
for ka, kb in [("t", "t"), ("t", "z"), ("z", "z"), ("t", "s"), ("z", "s")]:
    for na in NAMES:
        for nb in (NAMES if kb != "s" else ["float", "int", "bool"]):
            _CASES.append((ka, na, kb, nb))


def test_result_type_matches_torch():
    torch = pytest.importorskip("torch")
    bad = []
    for ka, na, kb, nb in _CASES:
        want = torch.result_type(_torch_operand(torch, ka, na), _torch_operand(torch, kb, nb))
        got = _dtype.result_type(_tt_operand(ka, na), _tt_operand(kb, nb))
        if str(want).replace("torch.", "") != got.name:
            bad.append((ka, na, kb, nb, want, got))
    assert not bad, bad[:10]


@pytest.mark.parametrize("a,b", list(itertools.combinations(NAMES, 2)))
def test_promote_types_matches_torch(a, b):
    torch = pytest.importorskip("torch")
    want = torch.promote_types(getattr(torch, a), getattr(torch, b))
    assert tinytorch.promote_types(_tt(a), _tt(b)).name == str(want).replace("torch.", "")


@pytest.mark.parametrize("ka,kb", [("t", "t"), ("t", "z"), ("z", "t"), ("t", "s"), ("s", "t")])
def test_binary_op_result_dtype_matches_torch(ka, kb):
    torch = pytest.importorskip("torch")
    for na, nb in [("int32", "float16"), ("uint8", "int8"), ("int64", "float32"), ("bool", "int16"),
                   ("float16", "float64"), ("int32", "int64")]:
        if ka == "s":
            na = {"int32": "int", "uint8": "int", "int64": "int", "bool": "bool"}.get(na, "float")
        if kb == "s":
            nb = {"int8": "int", "int64": "int", "int16": "int"}.get(nb, "float")
        a, b = _tt_operand(ka, na), _tt_operand(kb, nb)
        ta, tb = _torch_operand(torch, ka, na), _torch_operand(torch, kb, nb)
        assert (a + b).dtype.name == str((ta + tb).dtype).replace("torch.", ""), (ka, na, kb, nb)
        assert (a * b).dtype.name == str((ta * tb).dtype).replace("torch.", ""), (ka, na, kb, nb)
        assert (a / b).dtype.name == str((ta / tb).dtype).replace("torch.", ""), (ka, na, kb, nb)


def test_can_cast_and_from_numpy_dtype_errors():
    with pytest.raises(TypeError, match="complex128"):
        tinytorch.from_numpy(np.zeros(2, dtype=np.complex128))
