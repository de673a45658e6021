"""``tinytorch.distributed``: importable so scripts that check for a process group run single-process.

tinytorch has no collective communication backend: ``is_available()`` and ``is_initialized()`` are False,
``init_process_group`` raises, and the rank/world-size queries raise like torch's do before initialization.
The usual guard ``if dist.is_available() and dist.is_initialized(): ...`` therefore takes the single-process path.
"""
from __future__ import annotations

import enum

__all__ = ["is_available", "is_initialized", "init_process_group", "destroy_process_group", "get_rank",
           "get_world_size", "barrier", "all_reduce", "broadcast", "all_gather", "ReduceOp", "is_torchelastic_launched"]

_NOT_INIT = ("Default process group has not been initialized, please make sure to call init_process_group. "
             "(tinytorch has no distributed backend: run single-process)")


class ReduceOp(enum.Enum):
    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    AVG = "avg"


def is_available() -> bool:
    """False: tinytorch has no distributed communication backend."""
    return False


def is_initialized() -> bool:
    return False


def is_torchelastic_launched() -> bool:
    return False


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    raise RuntimeError(f"init_process_group: tinytorch has no distributed backend (requested backend={backend!r}); "
                       "run the script as a single process")


def destroy_process_group(group=None) -> None:
    raise ValueError(_NOT_INIT)


def get_rank(group=None) -> int:
    raise ValueError(_NOT_INIT)


def get_world_size(group=None) -> int:
    raise ValueError(_NOT_INIT)


def barrier(group=None, async_op=False, device_ids=None):
    raise ValueError(_NOT_INIT)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    raise ValueError(_NOT_INIT)


def broadcast(tensor, src=0, group=None, async_op=False):
    raise ValueError(_NOT_INIT)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    raise ValueError(_NOT_INIT)
