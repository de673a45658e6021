"""DistributedSampler (explicit ranks) and the pass-through activation checkpoint."""
from __future__ import annotations

import pytest

import tinytorch
from tinytorch.utils.checkpoint import checkpoint, checkpoint_sequential
from tinytorch.utils.data.distributed import DistributedSampler


def test_distributed_sampler_shards_like_torch():
    ds = list(range(10))
    # torch's layout: pad by wrapping around, then stride by rank
    assert [list(DistributedSampler(ds, 3, r, shuffle=False)) for r in range(3)] == \
        [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]
    trimmed = [list(DistributedSampler(ds, 3, r, drop_last=True)) for r in range(3)]
    assert all(len(p) == 3 for p in trimmed) and len(set(sum(trimmed, []))) == 9
    s = DistributedSampler(ds, 2, 0, seed=5)
    e0 = list(s)
    assert list(s) == e0  # same epoch, same order
    s.set_epoch(1)
    assert list(s) != e0 and len(s) == 5
    assert sorted(list(DistributedSampler(ds, 2, 0, seed=5)) + list(DistributedSampler(ds, 2, 1, seed=5))) == ds
    assert [list(DistributedSampler([7], 3, r, shuffle=False)) for r in range(3)] == [[0], [0], [0]]


def test_distributed_sampler_errors():
    with pytest.raises(RuntimeError, match="num_replicas and rank"):
        DistributedSampler(list(range(4)))
    with pytest.raises(ValueError, match="rank"):
        DistributedSampler(list(range(4)), num_replicas=2, rank=2)


def test_checkpoint_matches_plain_call():
    lin = tinytorch.nn.Linear(3, 2)
    x = tinytorch.randn(4, 3, requires_grad=True)
    checkpoint(lambda a: lin(a).tanh(), x, use_reentrant=False).sum().backward()
    g = x.grad.clone()
    x.grad = None
    lin(x).tanh().sum().backward()
    assert tinytorch.allclose(g, x.grad)
    seq = tinytorch.nn.Sequential(tinytorch.nn.Linear(3, 3), tinytorch.nn.ReLU(), tinytorch.nn.Linear(3, 1))
    assert tinytorch.equal(checkpoint_sequential(seq, 2, x), seq(x))
    with pytest.raises(TypeError, match="callable"):
        checkpoint(3, x)


def test_checkpoint_reachable_after_plain_import():
    # GPT scripts call torch.utils.checkpoint.checkpoint(...) after only `import torch`
    import subprocess
    import sys

    code = "import tinytorch; f = tinytorch.utils.checkpoint.checkpoint; print(f(lambda a: a + 1, 1))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "2", out.stderr[-2000:]
