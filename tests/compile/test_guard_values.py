"""Guards on the plain values a compiled function reads: a replay must never reuse a value Python would now
read differently (review findings: dict/namespace globals, helpers' globals, a module forward's globals,
tuple attributes, and 1 vs 1.0)."""
from __future__ import annotations

import argparse
import warnings

import numpy as np

import tinytorch as tt
from tinytorch import nn

CFG = {"s": 2.0}
ARGS = argparse.Namespace(temperature=2.0)
SCALE = 2.0
S = 1


def _helper(x):
    return x * SCALE


class _Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = (2.0,)

    def forward(self, x):
        return x * SCALE * self.scale[0]


def _calls(f, x, n=3):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [f(x) for _ in range(n)]


def test_dict_and_namespace_globals_are_guarded():
    global CFG, ARGS
    f = tt.compile(lambda x: x * CFG["s"] * ARGS.temperature)
    x = tt.ones(2)
    _calls(f, x)
    assert f.replays >= 1
    CFG["s"] = 5.0
    ARGS.temperature = 3.0
    try:
        assert f(x).tolist() == [15.0, 15.0]
    finally:
        CFG["s"], ARGS.temperature = 2.0, 2.0


def test_a_helpers_globals_and_a_module_forwards_globals_are_guarded():
    global SCALE
    g = tt.compile(lambda x: _helper(x))
    m = _Scaled()
    cm = tt.compile(m)
    x = tt.ones(2)
    _calls(g, x)
    _calls(cm, x)
    SCALE = 7.0
    try:
        assert g(x).tolist() == [7.0, 7.0]
        assert cm(x).tolist() == [14.0, 14.0]
        m.scale = (10.0,)
        assert cm(x).tolist() == [70.0, 70.0]
    finally:
        SCALE = 2.0


def test_int_and_float_globals_are_different_guards():
    global S
    f = tt.compile(lambda x: x * S)
    x = tt.ones(2, dtype=tt.int64)
    _calls(f, x)
    S = 1.0
    try:
        out = f(x)
        assert out.dtype is tt.float32
        np.testing.assert_array_equal(out.numpy(), [1.0, 1.0])
    finally:
        S = 1


def test_one_call_that_cannot_be_traced_leaves_other_calls_compiled():
    lin = nn.Linear(3, 2)
    f = tt.compile(lin)
    x = tt.randn(4, 3)
    _calls(f, x)
    cf = f._compiled_call
    replays = cf.replays
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tt.autocast("cpu"):  # autocast regions are not captured: this guard variant runs eagerly
            f(x)
    _calls(f, x)
    assert cf.replays == replays + 3
