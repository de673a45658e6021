"""DistributedSampler without num_replicas/rank reads them from the process group (torch's behaviour)."""
import tinytorch.distributed as dist
from tinytorch.utils.data.distributed import DistributedSampler

dist.init_process_group("gloo")
r, n = dist.get_rank(), dist.get_world_size()
s = DistributedSampler(list(range(11)), seed=3)
assert (s.num_replicas, s.rank) == (n, r), (s.num_replicas, s.rank)
assert list(s) == list(DistributedSampler(list(range(11)), num_replicas=n, rank=r, seed=3))
print(f"rank {r} PASS sampler_from_group", flush=True)
