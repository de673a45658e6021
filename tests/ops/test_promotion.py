"""Type promotion of binary ops: every dtype pair, 0-d and n-d tensors, Python scalars.

Hard-coded expectations cover the key cases (so the file fails without torch too); with
torch installed every combination is compared against it.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import tinytorch

DTYPES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"]
SCALARS = [True, 3, 2.5]
OPS = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "lt": lambda a, b: a < b,
    "eq": lambda a, b: a == b,
}


def _ours(dtype, ndim):
    shape = (2,) if ndim else ()
    return tinytorch.ones(shape, dtype=getattr(tinytorch, dtype if dtype != "bool" else "bool"))


def _name(dt) -> str:
    return str(dt).split(".")[-1]


# (a dtype, a is n-d, b dtype or scalar, b is n-d, op) -> result dtype name
KEY_CASES = [
    ("int32", True, 2.5, None, "add", "float32"),
    ("int32", True, True, None, "add", "int32"),
    ("bool", True, 3, None, "add", "int64"),
    ("bool", True, True, None, "add", "bool"),
    ("uint8", True, 3, None, "mul", "uint8"),
    ("float16", True, 2.5, None, "mul", "float16"),
    ("uint8", True, "int32", True, "add", "int32"),
    ("uint8", True, "int64", False, "add", "uint8"),       # a 0-d tensor of the same category does not win
    ("float16", True, "float64", False, "add", "float16"),
    ("int64", True, "float64", False, "add", "float64"),   # ... a 0-d tensor of a higher category does
    ("bool", True, "float32", False, "mul", "float32"),
    ("int32", False, "int64", False, "add", "int64"),      # two 0-d tensors promote normally
    ("float16", True, "float32", True, "add", "float32"),
    ("int32", True, "int32", True, "div", "float32"),      # true division of integers
    ("bool", True, "bool", True, "div", "float32"),
    ("uint8", True, 3, None, "div", "float32"),
    ("float64", True, 3, None, "div", "float64"),
    ("int64", True, 2.5, None, "lt", "bool"),
    ("float16", True, "int64", True, "eq", "bool"),
]


@pytest.mark.parametrize("a, a_nd, b, b_nd, op, want", KEY_CASES)
def test_key_promotions(a, a_nd, b, b_nd, op, want):
    ta = _ours(a, a_nd)
    tb = b if b_nd is None else _ours(b, b_nd)
    assert _name(OPS[op](ta, tb).dtype) == want
    if b_nd is None and op in ("add", "mul"):  # reflected scalar forms agree
        assert _name(OPS[op](tb, ta).dtype) == want


def test_default_dtype_drives_float_scalars():
    prev = tinytorch.get_default_dtype()
    try:
        tinytorch.set_default_dtype(tinytorch.float64)
        assert (tinytorch.ones(2, dtype=tinytorch.int32) + 2.5).dtype == tinytorch.float64
        assert (tinytorch.ones(2, dtype=tinytorch.int32) / 2).dtype == tinytorch.float64
        assert (tinytorch.ones(2, dtype=tinytorch.float16) + 2.5).dtype == tinytorch.float16
    finally:
        tinytorch.set_default_dtype(prev)


def _torch_result(torch, a, a_nd, b, b_nd, fn):
    def make(dt, nd):
        return torch.ones((2,) if nd else (), dtype=getattr(torch, dt))

    ta = make(a, a_nd)
    tb = b if b_nd is None else make(b, b_nd)
    try:
        return str(fn(ta, tb).dtype).split(".")[-1]
    except (RuntimeError, TypeError):
        return "error"


def _our_result(a, a_nd, b, b_nd, fn):
    ta = _ours(a, a_nd)
    tb = b if b_nd is None else _ours(b, b_nd)
    try:
        with np.errstate(all="ignore"):
            return _name(fn(ta, tb).dtype)
    except (RuntimeError, TypeError):
        return "error"


@pytest.mark.parametrize("op", list(OPS))
def test_tensor_tensor_promotion_matches_torch(op):
    torch = pytest.importorskip("torch")
    fn = OPS[op]
    bad = []
    for a, b in itertools.product(DTYPES, DTYPES):
        for a_nd, b_nd in itertools.product((True, False), repeat=2):
            want = _torch_result(torch, a, a_nd, b, b_nd, fn)
            got = _our_result(a, a_nd, b, b_nd, fn)
            if got != want:
                bad.append(f"{a}{'[n]' if a_nd else '[0]'} {op} {b}{'[n]' if b_nd else '[0]'}: {got} != torch {want}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("op", list(OPS))
def test_tensor_scalar_promotion_matches_torch(op):
    torch = pytest.importorskip("torch")
    fn = OPS[op]
    bad = []
    for a, s, nd in itertools.product(DTYPES, SCALARS, (True, False)):
        for order in ("tensor_first", "scalar_first"):
            f = fn if order == "tensor_first" else (lambda x, y: fn(y, x))
            want = _torch_result(torch, a, nd, s, None, f)
            got = _our_result(a, nd, s, None, f)
            if got != want:
                bad.append(f"{order} {a}{'[n]' if nd else '[0]'} {op} {s!r}: {got} != torch {want}")
    assert not bad, "\n".join(bad)
