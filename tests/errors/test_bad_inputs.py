"""Runs the bad-input table: tinytorch raises torch's class with a message naming the values, and torch (when
installed) raises the same class for the same row, so the table cannot drift from PyTorch."""
from __future__ import annotations

import os
import traceback
import warnings

import pytest

import tinytorch
from tests.errors.bad_input_table import ROWS, STRICTER_ROWS, WARN_ROWS

_PKG = os.path.dirname(tinytorch.__file__)


def _params(rows, xfail=True):
    out = []
    for r in rows:
        marks = [pytest.mark.xfail(reason=r.xfail, strict=True)] if r.xfail and xfail else []
        out.append(pytest.param(r, id=r.id, marks=marks))
    return out


def test_table_is_big_and_ids_unique():
    ids = [r.id for r in ROWS + WARN_ROWS + STRICTER_ROWS]
    assert len(ROWS) >= 200
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


@pytest.mark.parametrize("row", _params(ROWS + STRICTER_ROWS))
def test_tinytorch_raises(row):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as info:
            row.call(tinytorch)
    err = info.value
    assert isinstance(err, row.exc), f"{row.id}: expected {row.exc.__name__}, got {type(err).__name__}: {err}"
    msg = str(err).lower()
    missing = [w for w in row.words if w.lower() not in msg]
    assert not missing, f"{row.id}: {missing} not in message {str(err)!r}"
    frames = traceback.extract_tb(err.__traceback__)
    last = os.path.abspath(frames[-1].filename)
    # raised by tinytorch itself (or by the test's own call), never from inside NumPy or the standard library
    assert last.startswith(_PKG) or last.endswith("bad_input_table.py"), \
        f"{row.id}: raised from {last}:{frames[-1].lineno}: {type(err).__name__}: {err}"


@pytest.mark.parametrize("row", _params(ROWS, xfail=False))  # xfail marks tinytorch's open gaps only
def test_torch_raises_the_same_class(row):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(row.exc):
            row.call(torch)


@pytest.mark.parametrize("row", _params(WARN_ROWS))
def test_tinytorch_warns(row):
    with pytest.warns(row.exc) as record:
        row.call(tinytorch)
    text = " ".join(str(w.message) for w in record if issubclass(w.category, row.exc)).lower()
    missing = [w for w in row.words if w.lower() not in text]
    assert not missing, f"{row.id}: {missing} not in {text!r}"


@pytest.mark.parametrize("row", _params(WARN_ROWS, xfail=False))
def test_torch_warns_the_same(row):
    torch = pytest.importorskip("torch")
    with pytest.warns(row.exc):
        row.call(torch)


@pytest.mark.parametrize("row", _params(STRICTER_ROWS, xfail=False))
def test_torch_still_accepts_the_stricter_rows(row):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        row.call(torch)
