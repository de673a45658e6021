"""``tinytorch.utils.data``: datasets, samplers, ``DataLoader`` and collation, with torch's API."""
from __future__ import annotations

from .dataset import Dataset, IterableDataset, TensorDataset, Subset, ConcatDataset, ChainDataset, random_split
from .sampler import (
    Sampler, SequentialSampler, RandomSampler, SubsetRandomSampler, WeightedRandomSampler, BatchSampler,
)
from .dataloader import DataLoader, get_worker_info
from .distributed import DistributedSampler
from ._utils.collate import default_collate, default_convert
from .mnist import MNIST, read_idx, write_idx

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "ChainDataset", "random_split",
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
    "BatchSampler", "DistributedSampler", "DataLoader", "get_worker_info", "default_collate", "default_convert",
    "MNIST", "read_idx", "write_idx",
]
