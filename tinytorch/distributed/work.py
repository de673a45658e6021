"""``Work``: the handle of a collective in flight, and the distributed error classes."""
from __future__ import annotations

import time

__all__ = ["DistError", "DistBackendError", "DistNetworkError", "DistStoreError", "Work"]


class DistError(RuntimeError):
    """Base class of errors raised by tinytorch.distributed (as torch.distributed.DistError)."""


class DistBackendError(DistError):
    """The engine failed or timed out (as torch.distributed.DistBackendError)."""


class DistNetworkError(DistError):
    pass


class DistStoreError(DistError):
    pass


class Work:
    """A collective in flight: ``wait()`` blocks until it is done (then the tensors hold the result).

    ``test`` polls the engine (returns True when done); ``finish`` runs once after completion (it
    copies staged results back into the caller's tensors). ``timeout`` (seconds) bounds ``wait``.
    """

    def __init__(self, op: str, test, finish=None, timeout: float = 1800.0, rank: int = 0, result=None):
        self._op = op
        self._test = test
        self._finish = finish
        self._timeout = timeout
        self._rank = rank
        self._done = False
        self._exc = None
        self._result = result

    def is_completed(self) -> bool:
        """True once the operation finished (non-blocking)."""
        if not self._done and self._exc is None and self._test():
            self._complete()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed() and self._exc is None

    def exception(self):
        return self._exc

    def wait(self, timeout=None) -> bool:
        """Block until done; raises ``DistBackendError`` after ``timeout`` (default: the group's)."""
        if self._done:
            return True
        if self._exc is not None:
            raise self._exc
        limit = self._timeout if timeout is None else _seconds(timeout)
        start = time.monotonic()
        spins, pause = 0, 0.0
        while not self._test():
            spins += 1
            if spins & 63:
                continue
            waited = time.monotonic() - start
            if waited > limit:
                self._exc = DistBackendError(
                    f"{self._op}: rank {self._rank} timed out after {limit:g} s waiting for the other ranks (one "
                    "may have crashed, be stuck, or be running a different collective); the process group cannot "
                    "be used any more")
                raise self._exc
            if waited > 0.01:  # a long wait: stop hogging the core the other ranks may need
                pause = min(max(pause * 2, 2e-5), 1e-3)
                time.sleep(pause)
        self._complete()
        return True

    def _complete(self):
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()
        self._done = True

    def result(self):
        """The output tensors (after ``wait``)."""
        self.wait()
        return self._result if self._result is not None else []

    def get_future(self):
        raise NotImplementedError("Work.get_future: futures are not supported by tinytorch; call wait()")


def _seconds(t) -> float:
    return t.total_seconds() if hasattr(t, "total_seconds") else float(t)


def done_work(op: str, result=None) -> Work:
    """A Work that is already complete (synchronous engines, and non-members of a group)."""
    w = Work(op, lambda: True, result=result)
    w._done = True
    return w
