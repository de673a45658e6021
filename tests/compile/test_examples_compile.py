"""The examples' ``--compile`` flag trains to exactly the eager result."""
from __future__ import annotations

import warnings

from tests.examples.test_examples import load


def test_spiral_compiled_matches_eager(tmp_path):
    spiral = load("spiral")
    eager = spiral.main(["--smoke", "--device", "cpu", "--no-plot", "--epochs", "20"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no fallback note: the training forward really compiles
        compiled = spiral.main(["--smoke", "--device", "cpu", "--no-plot", "--epochs", "20", "--compile"])
    assert compiled == eager
