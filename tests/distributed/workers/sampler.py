"""DistributedSampler without num_replicas/rank reads them from the process group (torch's behaviour)."""
from _report import record  # workers/_report.py, next to this script
import tinytorch.distributed as dist
from tinytorch.utils.data.distributed import DistributedSampler

dist.init_process_group("gloo")
r, n = dist.get_rank(), dist.get_world_size()
s = DistributedSampler(list(range(11)), seed=3)
assert (s.num_replicas, s.rank) == (n, r), (s.num_replicas, s.rank)
assert list(s) == list(DistributedSampler(list(range(11)), num_replicas=n, rank=r, seed=3))
record(r, "sampler_from_group")
