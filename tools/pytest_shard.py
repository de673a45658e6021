"""pytest plugin: ``-p tools.pytest_shard --shard=I/N`` keeps every N-th selected test starting at I.

Used by ``tools/gpu_validate.py`` to run the gpu tests as N processes side by side. The slices interleave
the collection order, so each shard gets a share of every file (the registry's many ops included) and
the most basic files, listed first, start in every shard at once.
"""
from __future__ import annotations

import pytest


def pytest_addoption(parser):
    parser.addoption("--shard", default=None, help="I/N: run only the tests at positions I, I+N, I+2N, ...")


def parse_shard(spec: str) -> tuple[int, int]:
    try:
        i, n = (int(v) for v in spec.split("/"))
    except ValueError:
        raise pytest.UsageError(f"--shard expects I/N with integers, got {spec!r}") from None
    if not 0 <= i < n:
        raise pytest.UsageError(f"--shard {spec}: need 0 <= I < N")
    return i, n


@pytest.hookimpl(trylast=True)  # after -m/-k deselection, so the shards split what is really selected
def pytest_collection_modifyitems(config, items):
    spec = config.getoption("--shard")
    if not spec:
        return
    i, n = parse_shard(spec)
    keep = items[i::n]
    kept = {id(item) for item in keep}
    config.hook.pytest_deselected(items=[item for item in items if id(item) not in kept])
    items[:] = keep
