"""Grad-mode switches: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

Each works as a context manager and as a decorator, like torch's.
"""
from __future__ import annotations

import functools
import threading

class _State(threading.local):
    enabled = True  # the class attribute is every new thread's starting value


_local = _State()


def is_grad_enabled() -> bool:
    return _local.enabled


def _set(flag: bool) -> None:
    _local.enabled = flag


class _GradModeBase:
    _target: bool

    def __enter__(self):
        self._prev = is_grad_enabled()
        _set(self._target)
        return self

    def __exit__(self, *exc):
        _set(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__._fresh(self):
                return fn(*args, **kwargs)

        return wrapper

    @staticmethod
    def _fresh(inst):
        return inst.__class__()


class no_grad(_GradModeBase):
    """Disable gradient recording inside the block."""

    _target = False


class enable_grad(_GradModeBase):
    """Enable gradient recording inside the block (e.g. inside ``no_grad``)."""

    _target = True


class inference_mode(_GradModeBase):
    """Like ``no_grad`` (tinytorch has no separate inference tensors); ``mode=False`` is a no-op."""

    def __init__(self, mode: bool = True):
        if callable(mode) and not isinstance(mode, bool):  # used as a bare decorator
            self._mode = True
            self._wrapped = mode
        else:
            self._mode = bool(mode)
        self._target = False if self._mode else is_grad_enabled()

    def __enter__(self):
        self._target = False if self._mode else is_grad_enabled()
        return super().__enter__()

    def __call__(self, *args, **kwargs):
        if hasattr(self, "_wrapped"):
            with inference_mode(True):
                return self._wrapped(*args, **kwargs)
        return super().__call__(args[0])

    @staticmethod
    def _fresh(inst):
        return inference_mode(inst._mode)


class set_grad_enabled(_GradModeBase):
    """``set_grad_enabled(False)``: as a call it sets the mode at once; as a context it restores it."""

    def __init__(self, mode: bool):
        self._prev = is_grad_enabled()
        self._target = bool(mode)
        _set(self._target)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set(self._prev)
        return False

    def __call__(self, fn):
        _set(self._prev)  # used as a decorator: building it must not change the mode
        return super().__call__(fn)

    @staticmethod
    def _fresh(inst):
        return set_grad_enabled(inst._target)
