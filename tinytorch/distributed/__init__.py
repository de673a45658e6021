"""``tinytorch.distributed``: process groups and collectives with torch.distributed's API.

Engines, never a home-made protocol: **MPI through mpi4py** for CPU tensors -- backends ``"mpi"``
and ``"gloo"`` (torch scripts ask for gloo; here MPI serves it) -- and **NCCL through CuPy** for CUDA
tensors (``"nccl"``; its unique id is broadcast over MPI, so MPI is needed there too). The ranks
come from MPI: start a job with ``python -m tinytorch.distributed.run --nproc_per_node=N script.py``
(torchrun's flags and variables) or ``mpiexec -n N python script.py``. Install with
``pip install "tinytorch[distributed]"`` (mpi4py and the mpich wheel, which brings ``mpiexec``).

Without an initialized group, ``is_initialized()`` is False and the rank queries and collectives
raise ``ValueError`` as torch's do, so ``if dist.is_initialized(): ...`` takes the single-process path.

>>> import tinytorch as torch, tinytorch.distributed as dist
>>> dist.init_process_group("gloo")
>>> t = torch.ones(3) * dist.get_rank()
>>> dist.all_reduce(t, op=dist.ReduceOp.SUM)
"""
from __future__ import annotations

from .collectives import (P2POp, all_gather, all_gather_into_tensor, all_gather_object, all_reduce,
                          all_to_all_single, barrier, batch_isend_irecv, broadcast, broadcast_object_list, gather,
                          gather_object, irecv, isend, monitored_barrier, recv, reduce, reduce_scatter_tensor, scatter,
                          scatter_object_list, send)
from .process_group import (Backend, GroupMember, ProcessGroup, default_pg_timeout, destroy_process_group,
                            get_backend, get_global_rank, get_group_rank, get_node_local_rank,
                            get_process_group_ranks, get_rank,
                            get_world_size, group, init_process_group, is_available, is_backend_available,
                            is_gloo_available, is_initialized, is_mpi_available, is_nccl_available,
                            is_torchelastic_launched, new_group)
from .reduce_op import ReduceOp
from .work import DistBackendError, DistError, DistNetworkError, DistStoreError, Work

__all__ = [
    "Backend", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "DistError", "DistBackendError",
    "DistNetworkError", "DistStoreError", "default_pg_timeout", "group",
    "is_available", "is_mpi_available", "is_gloo_available", "is_nccl_available", "is_backend_available",
    "is_initialized", "is_torchelastic_launched", "init_process_group", "destroy_process_group", "new_group",
    "get_rank", "get_world_size", "get_backend", "get_global_rank", "get_group_rank", "get_process_group_ranks",
    "get_node_local_rank", "P2POp", "batch_isend_irecv",
    "all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor", "reduce_scatter_tensor",
    "gather", "scatter", "all_to_all_single", "send", "recv", "isend", "irecv", "barrier", "monitored_barrier",
    "broadcast_object_list", "all_gather_object", "gather_object", "scatter_object_list",
]
