"""``DistributedDataParallel``: one model replica per rank, gradients averaged in buckets during backward.

The design is torch's reducer, in small: at construction the parameters (and buffers) of rank 0 are
broadcast so every replica starts equal, and the parameters that need gradients are packed, in reverse
registration order (roughly the order backward produces their gradients), into flat buckets of at most
``bucket_cap_mb`` (the first one 1 MiB, so communication starts early). A post-accumulate-grad hook on
each parameter copies its gradient, divided by the world size, into its bucket; a full bucket's
all-reduce is launched at once, non-blocking, while backward goes on with the layers below. Buckets
launch strictly in index order so every rank issues the same collectives in the same order. When the
last bucket is launched, the reducer waits for all of them and writes the averages back into ``.grad``.
"""
from __future__ import annotations

import contextlib

from ... import _arrays
from ...autograd.grad_mode import is_grad_enabled
from ...distributed import process_group as _pg
from ...distributed._mpi import MpiEngine
from ...distributed.reduce_op import ReduceOp
from ...tensor import Tensor
from ..modules import Module
from ...autograd.function import AccumulateGrad

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024  # torch's dist._DEFAULT_FIRST_BUCKET_BYTES
# torch's other constructor arguments: accepted; those that would change the result raise when set
_ACCEPTED = {"mixed_precision", "device_mesh", "delay_all_reduce_named_params", "param_to_hook_all_reduce",
             "bucket_cap_mb_list", "skip_all_reduce_unused_params", "batched_grad_copy", "forward_sync_buffers"}


class _Bucket:
    __slots__ = ("index", "params", "offsets", "buffer", "pending", "work")

    def __init__(self, index, params, offsets, buffer):
        self.index = index
        self.params = params  # indices into DDP's parameter list
        self.offsets = offsets  # start of each parameter in buffer
        self.buffer = buffer
        self.pending = len(params)
        self.work = None


class DistributedDataParallel(Module):
    """Data-parallel training across the ranks of a process group.

    Args:
        module: the model replica of this rank (already on its device).
        device_ids: None for CPU modules; ``[i]`` for a module on CUDA device i.
        broadcast_buffers: send rank 0's buffers (e.g. BatchNorm statistics) to all ranks before each forward.
        process_group: the group to average over (default: the world).
        bucket_cap_mb: bucket size in MiB (default 25).
        find_unused_parameters: find the parameters a forward did not use (walking its graph) and count
            them as ready; without it such a parameter makes the next forward raise, naming it.
        gradient_as_bucket_view: ``.grad`` becomes a view of the bucket after each reduction (saves a copy).

    ``module`` is the wrapped model (state-dict keys gain the ``module.`` prefix, as in torch);
    ``no_sync()`` skips the reduction for gradient accumulation.

    >>> model = DistributedDataParallel(Net())        # after dist.init_process_group("gloo")
    >>> loss_fn(model(x), y).backward()               # grads are now averaged over the ranks
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, init_sync: bool = True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False, **kwargs):
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected an nn.Module, got {type(module).__name__}")
        unknown = set(kwargs) - _ACCEPTED
        if unknown:
            raise TypeError(f"DistributedDataParallel got unexpected keyword arguments {sorted(unknown)}")
        unsupported = [k for k in ("mixed_precision", "device_mesh", "delay_all_reduce_named_params",
                                   "param_to_hook_all_reduce", "bucket_cap_mb_list") if kwargs.get(k) is not None]
        if unsupported:
            raise NotImplementedError(f"DistributedDataParallel: {unsupported} are not supported by tinytorch")
        pg = _pg.resolve(process_group)  # ValueError before init_process_group, as torch
        if pg is None:
            raise ValueError("DistributedDataParallel: this rank is not a member of process_group")
        cap = 25 if bucket_cap_mb is None else bucket_cap_mb
        if not cap > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb}")
        super().__init__()
        self.module = module
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        devices = {str(p.device) for _, p in named}
        if len(devices) > 1:
            raise ValueError(f"DistributedDataParallel: the module's parameters are on several devices {devices}; "
                             "one device per process")
        dev = named[0][1].device
        if device_ids is not None and dev.type == "cpu":
            raise ValueError(f"DistributedDataParallel: device_ids={device_ids} only works with CUDA modules, but "
                             "the module's parameters are on cpu (pass device_ids=None)")
        self.device_ids = device_ids
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.process_group = pg
        self.bucket_bytes_cap = int(cap * 1024 * 1024)
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self._names = [n for n, _ in named]
        self._params = [p for _, p in named]
        self._engine = pg.engine_for(dev.type, "DistributedDataParallel")
        self._world = pg.size()
        self._verify_same_parameters()
        if init_sync:
            self._sync([p for _, p in module.named_parameters()] + list(module.buffers()))
        self._buckets, self._where = self._build_buckets()
        self._ready = [False] * len(self._params)
        self._used = [False] * len(self._params)
        self._next_bucket = 0
        self._expect_hooks = False  # a forward with grad enabled prepared a reduction
        self._hooks_fired = False
        self._finished = True
        self._hook_handles = [p.register_post_accumulate_grad_hook(self._hook(i)) for i, p in enumerate(self._params)]

    # ---- construction ---------------------------------------------------------------------------
    def _verify_same_parameters(self):
        pg = self.process_group
        mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in zip(self._names, self._params)]
        if pg.size() == 1:
            return
        every = pg.comm.allgather(mine)
        for k, other in enumerate(every):
            if other == mine:
                continue
            diff = next(((a, b) for a, b in zip(mine, other) if a != b), None)
            what = (f"this rank has {diff[0]} but rank {pg.ranks[k]} has {diff[1]}" if diff else
                    f"this rank has {len(mine)} parameters needing gradients, rank {pg.ranks[k]} has {len(other)}")
            raise RuntimeError(f"DistributedDataParallel: the model replicas differ across ranks: {what} "
                               "(name, shape, dtype)")

    def _sync(self, tensors):
        """Broadcast ``tensors`` from group rank 0, one flat message per dtype."""
        if self._world == 1:
            return
        by_dtype = {}
        for t in tensors:
            by_dtype.setdefault(t._data.dtype, []).append(t)
        limit = self.process_group.timeout.total_seconds()
        for ts in by_dtype.values():
            xp = _arrays.array_module(ts[0]._data)
            flat = xp.concatenate([t._data.reshape(-1) for t in ts])
            self._engine.broadcast(flat, 0, limit, "DistributedDataParallel(broadcast)").wait()
            off = 0
            for t in ts:
                n = t._data.size
                t._data[...] = flat[off:off + n].reshape(t._data.shape)
                t._vc[0] += 1
                off += n

    def _build_buckets(self):
        order = list(range(len(self._params)))[::-1]
        groups, cur, size, dtype = [], [], 0, None
        cap = min(_FIRST_BUCKET_BYTES, self.bucket_bytes_cap)  # torch keeps 1 MiB even for smaller caps
        for i in order:
            a = self._params[i]._data
            if cur and (a.dtype != dtype or size + a.nbytes > cap):
                groups.append(cur)
                cur, size, cap = [], 0, self.bucket_bytes_cap
            cur.append(i)
            size += a.nbytes
            dtype = a.dtype
        groups.append(cur)
        buckets, where = [], {}
        for b, idx in enumerate(groups):
            offsets, off = [], 0
            for i in idx:
                offsets.append(off)
                where[i] = (b, off)
                off += self._params[i]._data.size
            a0 = self._params[idx[0]]._data
            buf = _arrays.array_module(a0).zeros(off, dtype=a0.dtype)
            buckets.append(_Bucket(b, idx, offsets, buf))
        return buckets, where

    # ---- forward ---------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        sync = is_grad_enabled() and self.require_backward_grad_sync
        if sync:
            self._check_prior_reduction()  # as torch: an evaluation under no_grad may follow a broken step
        if self.broadcast_buffers and self.require_forward_param_sync:
            bufs = list(self.module.buffers())
            if bufs:
                self._sync(bufs)
        out = self.module(*inputs, **kwargs)
        if sync:
            self._prepare_for_backward(out)
        else:
            self._expect_hooks = False
        return out

    @contextlib.contextmanager
    def no_sync(self):
        """Accumulate gradients locally (no communication) inside the block; the next synced backward
        averages the accumulated sum."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def _check_prior_reduction(self):
        if self._expect_hooks and self._hooks_fired and not self._finished:
            missing = [f"{i} ({self._names[i]})" for i, r in enumerate(self._ready) if not r]
            self._expect_hooks = False
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new one. This error "
                "indicates that your module has parameters that were not used in producing loss. You can enable "
                "unused parameter detection by passing the keyword argument `find_unused_parameters=True` to "
                "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
                "participate in calculating loss. Parameter indices (names) which did not receive grad for rank "
                f"{self.process_group.rank()}: {', '.join(missing)}")

    def _prepare_for_backward(self, out):
        self._ready = [False] * len(self._params)
        self._used = [False] * len(self._params)
        self._next_bucket = 0
        for b in self._buckets:
            b.pending = len(b.params)
            b.work = None
        self._expect_hooks = True
        self._hooks_fired = False
        self._finished = False
        if self.find_unused_parameters:
            reached = _reachable_leaves(out)
            for i, p in enumerate(self._params):
                if id(p) not in reached:
                    b, off = self._where[i]
                    bucket = self._buckets[b]
                    bucket.buffer[off:off + p._data.size] = 0
                    self._mark_ready(i, bucket)

    # ---- backward --------------------------------------------------------------------------------
    def _hook(self, i):
        def hook(p):
            if not self._expect_hooks:
                return  # no_sync, or a backward through a graph DDP did not prepare
            if self._ready[i]:
                raise RuntimeError(
                    f"DistributedDataParallel: parameter {i} ({self._names[i]}) received a gradient twice in one "
                    "iteration (a second backward through the same forward, or a parameter marked unused that was "
                    "used); DDP reduces each parameter once per forward")
            self._hooks_fired = True
            self._used[i] = True
            b, off = self._where[i]
            bucket = self._buckets[b]
            dst = bucket.buffer[off:off + p._data.size]
            if self._world == 1:
                dst[...] = p._grad._data.reshape(-1)
            else:  # pre-divided while copying (torch's default hook sums grad / world_size): one pass
                _arrays.array_module(dst).divide(p._grad._data.reshape(-1), self._world, out=dst)
            self._mark_ready(i, bucket)
        return hook

    def _mark_ready(self, i, bucket):
        self._ready[i] = True
        bucket.pending -= 1
        for b in self._buckets[:self._next_bucket]:  # drive MPI's progress on the buckets in flight
            if b.work is not None:
                b.work.is_completed()
        if bucket.pending == 0:
            self._launch_ready_buckets()

    def _launch_ready_buckets(self):
        limit = self.process_group.timeout.total_seconds()
        while self._next_bucket < len(self._buckets) and self._buckets[self._next_bucket].pending == 0:
            b = self._buckets[self._next_bucket]
            b.work = self._engine.allreduce(b.buffer, ReduceOp.SUM, limit, "DistributedDataParallel(all_reduce)")
            self._next_bucket += 1
        if self._next_bucket == len(self._buckets):
            self._finalize()

    def _finalize(self):
        for b in self._buckets:
            b.work.wait()
        used = None
        if self.find_unused_parameters and self._world > 1:  # a parameter unused here may be used elsewhere
            used = _arrays.np.array(self._used, dtype=_arrays.np.uint8)
            MpiEngine(self.process_group.comm).allreduce(used, ReduceOp.MAX, self.process_group.timeout
                                                         .total_seconds(), "DistributedDataParallel").wait()
        for b in self._buckets:
            for i, off in zip(b.params, b.offsets):
                p = self._params[i]
                view = b.buffer[off:off + p._data.size].reshape(p._data.shape)
                if p._grad is None:
                    if used is not None and not used[i]:
                        continue  # unused on every rank: no gradient, as torch
                    p._grad = Tensor._make(view if self.gradient_as_bucket_view else view.copy())
                elif self.gradient_as_bucket_view:
                    p._grad = Tensor._make(view)
                else:
                    p._grad._data[...] = view
                    p._grad._vc[0] += 1
        self._finished = True
        self._expect_hooks = False


def _reachable_leaves(out) -> set:
    """ids of the leaf tensors the autograd graph of ``out`` (tensors in any nesting) reaches."""
    stack, seen, leaves = [], set(), set()

    def collect(o):
        if isinstance(o, Tensor):
            if o._grad_fn is not None:
                stack.append(o._grad_fn)
            elif o._requires_grad:
                leaves.add(id(o))
        elif isinstance(o, (list, tuple)):
            for x in o:
                collect(x)
        elif isinstance(o, dict):
            for x in o.values():
                collect(x)
    collect(out)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, AccumulateGrad):
            leaves.add(id(node.variable))
            continue
        for nxt, _ in node.next_functions:
            if nxt is not None:
                stack.append(nxt)
    return leaves
