"""``detect_anomaly``: record forward call sites and fail at the first NaN/Inf gradient."""
from __future__ import annotations

import threading
import functools

class _State(threading.local):
    on = False  # per thread, off by default


_local = _State()


def enabled() -> bool:
    return _local.on


class detect_anomaly:  # noqa: N801 - torch's name
    """Context manager / decorator: a backward that produces NaN or Inf raises an error naming
    the op and the place in the forward pass where that op was called."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = enabled()
        _local.on = self.check_nan
        return self

    def __exit__(self, *exc):
        _local.on = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*a, **k):
            with detect_anomaly(self.check_nan):
                return fn(*a, **k)

        return wrapper


class set_detect_anomaly(detect_anomaly):  # noqa: N801
    def __init__(self, mode: bool, check_nan: bool = True):
        super().__init__(check_nan=mode and check_nan)
        self._prev = enabled()
        _local.on = bool(mode and check_nan)

    def __enter__(self):
        return self


def is_anomaly_enabled() -> bool:
    return enabled()
