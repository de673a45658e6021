"""Issue #13 §4: DataLoader worker faults surface promptly with torch's messages — a hung worker at the
timeout (then cleaned up without a long wait), a killed or crashed worker within a fraction of a second.
Bounds are loose (seconds) so a busy machine does not make them flaky; the old code took 8 s and 2 s."""
from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from tinytorch.utils.data import DataLoader, Dataset

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


class Faulty(Dataset):
    """Sample i is i, except ``bad`` which hangs, kills its worker, or exits it."""

    def __init__(self, mode, bad=3, n=16):
        self.mode, self.bad, self.n = mode, bad, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            if self.mode == "hang":
                time.sleep(60)
            elif self.mode == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            elif self.mode == "exit":
                os._exit(3)
        return i


def _drain(dl):
    it = iter(dl)
    start = time.monotonic()
    try:
        with pytest.raises(RuntimeError) as info:
            for _ in it:
                pass
    finally:
        elapsed = time.monotonic() - start
    return it, info.value, elapsed


def test_hung_worker_times_out_then_cleans_up_quickly():
    dl = DataLoader(Faulty("hang"), batch_size=1, num_workers=2, timeout=1.5)
    it, err, elapsed = _drain(dl)
    assert str(err) == "DataLoader timed out after 1.5 seconds"
    assert 1.4 <= elapsed < 3.5, elapsed  # the old code waited 5 s more for the hung worker
    assert not any(w.is_alive() for w in it._workers)


def test_killed_worker_is_detected_fast():
    dl = DataLoader(Faulty("kill"), batch_size=1, num_workers=2)
    it, err, elapsed = _drain(dl)
    assert "DataLoader worker (pid" in str(err) and "is killed by signal: Killed" in str(err)
    assert elapsed < 2.0, elapsed
    assert not any(w.is_alive() for w in it._workers)


def test_killed_worker_is_detected_fast_even_with_a_timeout():
    dl = DataLoader(Faulty("kill"), batch_size=2, num_workers=1, timeout=30)
    _, err, elapsed = _drain(dl)
    assert "is killed by signal" in str(err) and elapsed < 2.0, elapsed


def test_worker_exiting_reports_exit_code():
    dl = DataLoader(Faulty("exit"), batch_size=1, num_workers=2)
    _, err, elapsed = _drain(dl)
    assert "exited unexpectedly with exit code 3" in str(err) and elapsed < 2.0


def test_healthy_workers_with_timeout_still_finish():
    dl = DataLoader(Faulty("none"), batch_size=4, num_workers=2, timeout=5)
    assert [b.tolist() for b in dl] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]
