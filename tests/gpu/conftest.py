"""Fixtures shared by the CUDA-graph tests."""
from __future__ import annotations

import pytest

from tinytorch._arrays import _cuda


@pytest.fixture
def no_capture_left(_cupy_standin):
    """Fail a test that leaves a stream capturing or tinytorch's capture flag set (and clean up after it)."""
    yield
    leftover = _cuda._state.get("capturing", 0)
    _cuda._state["capturing"] = 0
    if _cupy_standin is not None:
        left = dict(_cupy_standin._State.captures)
        _cupy_standin._State.captures.clear()
        _cupy_standin._State.stream_stack.clear()
        assert not left, "a test left a stream capturing"
    assert not leftover, "a test left tinytorch's capture flag set"
