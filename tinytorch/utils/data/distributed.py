"""``tinytorch.utils.data.distributed.DistributedSampler``: each of ``num_replicas`` ranks sees its own slice.

``num_replicas`` and ``rank`` default to the initialized process group's world size and rank
(``tinytorch.distributed``), as in torch; the sampler shards indices exactly as torch's does.
"""
from __future__ import annotations

import math

from ...random import Generator
from .sampler import Sampler
from ._utils.lazy_perm import permutation

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Indices ``rank, rank + num_replicas, ...`` of a (shuffled, padded or trimmed) permutation.

    Args:
        dataset: a sized dataset.
        num_replicas, rank: the number of ranks and this one's index (default: the process group's).
        shuffle: a fresh permutation per epoch from ``seed + epoch`` (call ``set_epoch`` each epoch).
        drop_last: trim the tail so every rank gets the same count (else pad by repeating indices).
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False):
        if num_replicas is None or rank is None:
            from ... import distributed as dist  # data sits beside distributed; read it only if asked

            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: no process group is initialized; call "
                                   "dist.init_process_group first or pass num_replicas and rank")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive int, got {num_replicas!r}")
        if not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank!r}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        # index j of the padded sequence is perm[j % n] (torch repeats the permutation from its start),
        # so this rank's indices are computed one by one, never all n of them at once
        n = len(self.dataset)
        if self.shuffle:
            g = Generator().manual_seed(self.seed + self.epoch)
            perm = permutation(n, g)
        else:
            perm = range(n)
        stop = min(self.total_size, n)
        if hasattr(perm, "iter_range"):  # a lazy permutation: computed in chunks, not one lookup per index
            yield from perm.iter_range(self.rank, stop, self.num_replicas)
        else:
            yield from (int(perm[j]) for j in range(self.rank, stop, self.num_replicas))
        start = self.rank + -(-(stop - self.rank) // self.num_replicas) * self.num_replicas  # first j >= stop
        for j in range(start, self.total_size, self.num_replicas):  # padding: torch wraps around to the start
            yield perm[j % n]

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use a different shuffle each epoch (the same on every rank)."""
        self.epoch = epoch
