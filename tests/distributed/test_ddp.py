"""DistributedDataParallel on 2 ranks through MPI: equal to single-process training on the full batch."""
from __future__ import annotations

import pytest

from .launch import run_ranks
from .test_collectives import passed

CHECKS = ["broadcast_at_construction", "ddp_equals_full_batch", "state_dict_prefix", "buckets_launched_during_backward",
          "gradient_as_bucket_view",
          "no_sync_accumulation", "find_unused_parameters", "unused_without_flag_names_them", "broadcast_buffers",
          "mismatched_replicas"]


@pytest.fixture(scope="module")
def ddp_run():
    return passed(run_ranks("ddp.py", timeout=240))


@pytest.mark.parametrize("name", CHECKS)
def test_ddp_on_2_ranks(ddp_run, name):
    assert ddp_run.get(name) == {0, 1}, f"{name}: {ddp_run.get(name)}"


def test_distributed_sampler_reads_rank_and_world_size_from_the_group():
    assert passed(run_ranks("sampler.py", timeout=120)).get("sampler_from_group") == {0, 1}


def test_ddp_constructor_arguments_are_checked_before_anything_else():
    import tinytorch as torch
    from tinytorch.nn.parallel import DistributedDataParallel as DDP

    lin = torch.nn.Linear(2, 1)
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['bogus'\]"):
        DDP(lin, bogus=1)
    with pytest.raises(NotImplementedError, match="mixed_precision"):
        DDP(lin, mixed_precision=object())
    with pytest.raises(TypeError, match="expected an nn.Module"):
        DDP(lambda x: x)
