"""Collectives on tensors, in place, with torch's signatures.

Each call checks its arguments locally, then (unless ``TINYTORCH_DISTRIBUTED_CHECKS=0``) exchanges a
small fingerprint -- the collective's name, reduce op, root, dtype and shape -- so that ranks which
disagree all raise the same clear error instead of hanging or corrupting memory. The data then moves
through the group's engine (MPI for CPU tensors, NCCL for CUDA tensors under "nccl"). With
``async_op=True`` the call returns a ``Work`` whose ``wait()`` completes it; otherwise it returns None
once the result is in place. A process outside ``group`` does nothing and gets None, as in torch.
"""
from __future__ import annotations

import numpy as np

from .. import _arrays
from ..tensor import Tensor
from .process_group import ProcessGroup, resolve
from .reduce_op import ReduceOp
from .work import Work, _seconds, done_work

__all__ = ["all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor", "reduce_scatter_tensor",
           "gather", "scatter", "all_to_all_single", "send", "recv", "isend", "irecv", "P2POp", "batch_isend_irecv",
           "barrier",
           "monitored_barrier", "broadcast_object_list", "all_gather_object", "gather_object",
           "scatter_object_list"]

_OPS = ["all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor", "reduce_scatter_tensor",
        "gather", "scatter", "all_to_all_single", "barrier", "broadcast_object_list", "all_gather_object",
        "gather_object", "scatter_object_list", "DistributedDataParallel"]
_REDOPS = list(ReduceOp)
_DTYPE_NAMES = {np.dtype(t).num: np.dtype(t).name for t in
                (np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16, np.float32, np.float64,
                 np.complex64, np.complex128)}
_MAXDIM = 6


# ---- argument checks ---------------------------------------------------------------------------
def _tensor(t, name, what="tensor"):
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}: {what} must be a Tensor, got {type(t).__name__}")
    a = t._data
    if not a.flags.c_contiguous:
        raise RuntimeError(f"{name}: {what} must be contiguous (shape {tuple(a.shape)}, strides {a.strides}); "
                           "call .contiguous() first")
    return a


def _out(t, name, what="tensor"):
    a = _tensor(t, name, what)
    if not _arrays.is_writeable(a):
        raise RuntimeError(f"{name}: {what} is read-only and cannot receive the result")
    t._vc[0] += 1  # written in place: graphs that saved the old value must refuse it
    return a


def _redop(op, name):
    if isinstance(op, str):
        try:
            return ReduceOp[op.upper()]
        except KeyError:
            pass
    if not isinstance(op, ReduceOp):
        raise ValueError(f"{name}: op must be a ReduceOp (SUM, AVG, MIN, MAX, PRODUCT, BAND, BOR, BXOR), got {op!r}")
    return op


def _peer(g: ProcessGroup, peer, group_peer, name, what):
    """A group rank from a global rank (``src``/``dst``) or a group rank (``group_src``/``group_dst``)."""
    if peer is not None and group_peer is not None:
        raise ValueError(f"{name}: pass {what} or group_{what}, not both")
    if group_peer is not None:
        r = int(group_peer)
        if not 0 <= r < g.size():
            raise ValueError(f"{name}: group_{what}={r} is not a rank of a group of {g.size()}")
        return r
    peer = 0 if peer is None else int(peer)
    if peer not in g.ranks:
        raise ValueError(f"{name}: {what}={peer} is not a rank of this group (global ranks {g.ranks})")
    return g.ranks.index(peer)


def _engine(g, t, name):
    return g.engine_for(t.device.type, name)


def _timeout(g):
    return g.timeout.total_seconds()


# ---- cross-rank agreement ----------------------------------------------------------------------
def _fingerprint(name, t=None, op=None, root=-1, shape=None, dtype=None):
    row = np.full(6 + _MAXDIM, -1, dtype=np.int64)
    row[0] = _OPS.index(name)
    row[1] = -1 if op is None else _REDOPS.index(op)
    row[2] = root
    if t is not None:
        shape = tuple(t._data.shape)
        dtype = t._data.dtype
    if shape is not None:
        row[3] = dtype.num
        row[4] = int(np.prod(shape, dtype=np.int64))
        row[5] = len(shape)
        for i, s in enumerate(shape[:_MAXDIM]):
            row[6 + i] = s
    return row


def _describe(row):
    name = _OPS[row[0]]
    s = name
    if row[1] >= 0:
        s += f"({_REDOPS[row[1]]!r})"
    if row[2] >= 0:
        s += f" rooted at group rank {row[2]}"
    if row[3] >= 0:
        shape = tuple(int(v) for v in row[6:6 + min(row[5], _MAXDIM)])
        dims = shape if row[5] <= _MAXDIM else f"{shape[:-1]}..."
        s += f" on {_DTYPE_NAMES.get(int(row[3]), f'dtype #{row[3]}')} {dims}"
    return s


def agree(g: ProcessGroup, name: str, row, compare=slice(0, 5), timeout=None):
    """Raise the same RuntimeError on every rank when the ranks' fingerprints (``row``, or a function
    making it) differ in ``compare``."""
    if not g.checks or g.size() == 1:
        return
    row = row() if callable(row) else row  # built only when checking
    rows = np.empty((g.size(), row.size), dtype=np.int64)
    req = g.comm.Iallgather(row, rows)
    Work(name, req.Test, None, _timeout(g) if timeout is None else timeout, g.rank()).wait()
    ref = rows[0, compare]
    if all(np.array_equal(r[compare], ref) for r in rows[1:]):
        return
    desc = "; ".join(f"rank {g.ranks[i]}: {_describe(r)}" for i, r in enumerate(rows))
    raise RuntimeError(f"{name}: the ranks of the group disagree on the call ({desc}). Every rank must make the "
                       "same collective with the same op, root, dtype and number of elements")


def _finish(w: Work, async_op: bool):
    if async_op:
        return w
    w.wait()
    return None


# ---- collectives -------------------------------------------------------------------------------
def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` over the group's ranks and leave the result in it on every rank.

    >>> t = torch.tensor([float(dist.get_rank() + 1)]); dist.all_reduce(t)   # t == [1 + 2] on 2 ranks
    """
    g = resolve(group)
    if g is None:
        return None
    a = _tensor(tensor, "all_reduce")
    op = _redop(op, "all_reduce")
    agree(g, "all_reduce", lambda: _fingerprint("all_reduce", tensor, op))
    eng = _engine(g, tensor, "all_reduce")
    _out(tensor, "all_reduce")
    return _finish(eng.allreduce(a, op, _timeout(g), "all_reduce"), async_op)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy ``tensor`` of rank ``src`` (a global rank) into ``tensor`` on every rank of the group."""
    g = resolve(group)
    if g is None:
        return None
    a = _tensor(tensor, "broadcast")
    root = _peer(g, src, group_src, "broadcast", "src")
    agree(g, "broadcast", lambda: _fingerprint("broadcast", tensor, root=root))
    eng = _engine(g, tensor, "broadcast")
    _out(tensor, "broadcast")
    return _finish(eng.broadcast(a, root, _timeout(g), "broadcast"), async_op)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce ``tensor`` over the group into ``tensor`` on rank ``dst`` (others' tensors are unchanged)."""
    g = resolve(group)
    if g is None:
        return None
    a = _tensor(tensor, "reduce")
    op = _redop(op, "reduce")
    root = _peer(g, dst, group_dst, "reduce", "dst")
    agree(g, "reduce", lambda: _fingerprint("reduce", tensor, op, root))
    eng = _engine(g, tensor, "reduce")
    if g.rank() == root:
        _out(tensor, "reduce")
    return _finish(eng.reduce(a, op, root, _timeout(g), "reduce"), async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list[i]`` with rank i's ``tensor`` (list of group-size tensors of ``tensor``'s shape)."""
    g = resolve(group)
    if g is None:
        return None
    a = _tensor(tensor, "all_gather")
    n = g.size()
    if not isinstance(tensor_list, (list, tuple)) or len(tensor_list) != n:
        got = len(tensor_list) if isinstance(tensor_list, (list, tuple)) else type(tensor_list).__name__
        raise ValueError(f"all_gather: tensor_list must hold world_size={n} tensors, got {got}")
    for i, t in enumerate(tensor_list):
        _tensor(t, "all_gather", f"tensor_list[{i}]")
        if t.numel() != a.size or t._data.dtype != a.dtype:
            raise ValueError(f"all_gather: tensor_list[{i}] is {t._data.dtype} {tuple(t.shape)}, but the input is "
                             f"{a.dtype} {tuple(a.shape)}: each output must match the input")
    agree(g, "all_gather", lambda: _fingerprint("all_gather", tensor))
    eng = _engine(g, tensor, "all_gather")
    xp = _xp(a)
    flat = xp.empty((n,) + a.shape, dtype=a.dtype)
    w = eng.allgather(a, flat, _timeout(g), "all_gather")
    outs = [_out(t, "all_gather", f"tensor_list[{i}]") for i, t in enumerate(tensor_list)]
    _then(w, lambda: [o.__setitem__(Ellipsis, flat[i].reshape(o.shape)) for i, o in enumerate(outs)])
    w._result = list(tensor_list)
    return _finish(w, async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Rank i's ``input_tensor`` lands in the i-th slice of ``output_tensor`` (shape (n*d0, ...) or (n, ...))."""
    g = resolve(group)
    if g is None:
        return None
    a = _tensor(input_tensor, "all_gather_into_tensor", "input_tensor")
    o = _tensor(output_tensor, "all_gather_into_tensor", "output_tensor")
    n = g.size()
    if o.size != n * a.size or o.dtype != a.dtype:
        raise ValueError(f"all_gather_into_tensor: output_tensor must hold world_size={n} times the input "
                         f"({a.dtype} {tuple(a.shape)}), got {o.dtype} {tuple(o.shape)}")
    agree(g, "all_gather_into_tensor", lambda: _fingerprint("all_gather_into_tensor", input_tensor))
    eng = _engine(g, input_tensor, "all_gather_into_tensor")
    _out(output_tensor, "all_gather_into_tensor")
    return _finish(eng.allgather(a, o, _timeout(g), "all_gather_into_tensor"), async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input`` (n equal slices along dim 0) over the group; rank i keeps the i-th slice in ``output``."""
    g = resolve(group)
    if g is None:
        return None
    a = _tensor(input, "reduce_scatter_tensor", "input")
    o = _tensor(output, "reduce_scatter_tensor", "output")
    op = _redop(op, "reduce_scatter_tensor")
    n = g.size()
    if a.size != n * o.size or o.dtype != a.dtype:
        raise ValueError(f"reduce_scatter_tensor: input must hold world_size={n} times the output "
                         f"({o.dtype} {tuple(o.shape)}), got {a.dtype} {tuple(a.shape)}")
    agree(g, "reduce_scatter_tensor", lambda: _fingerprint("reduce_scatter_tensor", output, op))
    eng = _engine(g, input, "reduce_scatter_tensor")
    _out(output, "reduce_scatter_tensor", "output")
    return _finish(eng.reduce_scatter(a, o, op, _timeout(g), "reduce_scatter_tensor"), async_op)


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Collect every rank's ``tensor`` into ``gather_list`` on rank ``dst`` (other ranks pass no list)."""
    g = resolve(group)
    if g is None:
        return None
    a = _tensor(tensor, "gather")
    root = _peer(g, dst, group_dst, "gather", "dst")
    n, me = g.size(), g.rank()
    if me == root:
        _check_list(gather_list, a, n, "gather", "gather_list")
    elif gather_list:
        raise ValueError("gather: Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    agree(g, "gather", lambda: _fingerprint("gather", tensor, root=root))
    eng = _engine(g, tensor, "gather")
    flat = _xp(a).empty((n,) + a.shape, dtype=a.dtype) if me == root else None
    w = eng.gather(a, flat, root, _timeout(g), "gather")
    if me == root:
        outs = [_out(t, "gather", f"gather_list[{i}]") for i, t in enumerate(gather_list)]
        _then(w, lambda: [o.__setitem__(Ellipsis, flat[i].reshape(o.shape)) for i, o in enumerate(outs)])
    return _finish(w, async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Rank ``src`` sends ``scatter_list[i]`` to rank i, which receives it into ``tensor``."""
    g = resolve(group)
    if g is None:
        return None
    a = _tensor(tensor, "scatter")
    root = _peer(g, src, group_src, "scatter", "src")
    n, me = g.size(), g.rank()
    send = None
    if me == root:
        _check_list(scatter_list, a, n, "scatter", "scatter_list")
        xp = _xp(a)
        send = xp.stack([t._data.reshape(a.shape) for t in scatter_list])
    elif scatter_list:
        raise ValueError("scatter: Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    agree(g, "scatter", lambda: _fingerprint("scatter", tensor, root=root))
    eng = _engine(g, tensor, "scatter")
    _out(tensor, "scatter")
    return _finish(eng.scatter(send, a, root, _timeout(g), "scatter"), async_op)


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None,
                      async_op=False):
    """Split ``input`` along dim 0 and send piece j to rank j; ``output`` receives the pieces in rank order.

    Without split sizes, dim 0 is split evenly (it must be divisible by the group size).
    """
    g = resolve(group)
    if g is None:
        return None
    name = "all_to_all_single"
    a = _tensor(input, name, "input")
    o = _tensor(output, name, "output")
    n = g.size()
    if a.dtype != o.dtype:
        raise ValueError(f"{name}: input is {a.dtype} but output is {o.dtype}")
    send_rows = _splits(input_split_sizes, a, n, name, "input")
    recv_rows = _splits(output_split_sizes, o, n, name, "output")
    row_a = a.size // max(a.shape[0], 1) if a.ndim else 1
    row_o = o.size // max(o.shape[0], 1) if o.ndim else 1
    if a.shape[0] and o.shape[0] and row_a != row_o:
        raise ValueError(f"{name}: input {tuple(a.shape)} and output {tuple(o.shape)} rows differ in size")
    row = row_a if a.shape[0] else row_o
    if g.checks and n > 1:
        mine = np.array(send_rows + recv_rows + [a.dtype.num, row], dtype=np.int64)
        allr = np.empty((n, mine.size), dtype=np.int64)
        req = g.comm.Iallgather(mine, allr)
        Work(name, req.Test, None, _timeout(g), g.rank()).wait()
        bad = [(i, j) for i in range(n) for j in range(n) if allr[i, j] != allr[j, n + i]]
        if bad or len({tuple(r[2 * n:]) for r in allr}) > 1:
            i, j = bad[0] if bad else (0, 0)
            raise RuntimeError(f"{name}: the ranks disagree: rank {g.ranks[i]} sends {allr[i, j]} rows to rank "
                               f"{g.ranks[j]}, which expects {allr[j, n + i]} (or the dtypes/row sizes differ: "
                               f"{[(_DTYPE_NAMES.get(int(r[2 * n]), r[2 * n]), int(r[2 * n + 1])) for r in allr]})")
    eng = _engine(g, input, name)
    _out(output, name, "output")
    w = eng.alltoallv(a, o, [r * row for r in send_rows], [r * row for r in recv_rows], _timeout(g), name)
    return _finish(w, async_op)


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Return once every rank of the group has reached the barrier."""
    g = resolve(group)
    if g is None:
        return None
    limit = _timeout(g) if timeout is None else _seconds(timeout)
    agree(g, "barrier", lambda: _fingerprint("barrier"), timeout=limit)
    eng = next(iter(g.engines.values()))
    w = eng.barrier(limit, "barrier")
    return _finish(w, async_op)


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):
    """A barrier that raises (instead of hanging) after ``timeout``."""
    return barrier(group, timeout=timeout)


# ---- point to point ----------------------------------------------------------------------------
def isend(tensor, dst=None, group=None, tag=0, group_dst=None) -> Work:
    """Start sending ``tensor`` to rank ``dst``; returns a Work."""
    g = resolve(group)
    if g is None:
        return done_work("isend")
    a = _tensor(tensor, "send")
    peer = _peer(g, dst, group_dst, "send", "dst")
    if peer == g.rank():
        raise ValueError(f"send: dst={g.ranks[peer]} is this rank itself")
    return _engine(g, tensor, "send").send(a, peer, int(tag), _timeout(g), "send")


def send(tensor, dst=None, group=None, tag=0, group_dst=None) -> None:
    """Send ``tensor`` to rank ``dst`` and return when the buffer may be reused."""
    isend(tensor, dst, group, tag, group_dst).wait()


def irecv(tensor, src=None, group=None, tag=0, group_src=None) -> Work:
    """Start receiving into ``tensor`` from ``src`` (None: from any rank); returns a Work."""
    g = resolve(group)
    if g is None:
        return done_work("irecv")
    a = _tensor(tensor, "recv")
    peer = None if src is None and group_src is None else _peer(g, src, group_src, "recv", "src")
    eng = _engine(g, tensor, "recv")
    _out(tensor, "recv")
    return eng.recv(a, peer, int(tag), _timeout(g), "recv")


class P2POp:
    """One point-to-point operation for ``batch_isend_irecv``: ``P2POp(dist.isend, tensor, peer)``."""

    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        if op not in (isend, irecv):
            raise ValueError(f"P2POp: op must be dist.isend or dist.irecv, got {op!r}")
        self.op, self.tensor, self.peer, self.group, self.tag, self.group_peer = op, tensor, peer, group, tag, group_peer


def batch_isend_irecv(p2p_op_list) -> list:
    """Start every ``P2POp`` of the list (all at once, so pairs of sends and receives cannot deadlock);
    returns their Works."""
    if not isinstance(p2p_op_list, (list, tuple)) or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise TypeError("batch_isend_irecv: expected a list of P2POp")
    return [p.op(p.tensor, p.peer, p.group, p.tag, p.group_peer) for p in p2p_op_list]


def recv(tensor, src=None, group=None, tag=0, group_src=None) -> int:
    """Receive into ``tensor`` from ``src`` (None: from any rank); returns the sender's global rank."""
    g = resolve(group)
    if g is None:
        return -1
    a = _tensor(tensor, "recv")
    peer = None if src is None and group_src is None else _peer(g, src, group_src, "recv", "src")
    eng = _engine(g, tensor, "recv")
    if hasattr(eng, "probe_bytes"):  # see the incoming size first: a clear error, never a truncation
        nbytes, source = eng.probe_bytes(peer, int(tag), _timeout(g))
        if nbytes != a.nbytes:
            raise RuntimeError(f"recv: rank {g.ranks[source]} sent {nbytes} bytes, but the receiving tensor is "
                               f"{a.dtype} {tuple(a.shape)} ({a.nbytes} bytes)")
        peer = source
    _out(tensor, "recv")
    w = eng.recv(a, peer, int(tag), _timeout(g), "recv")
    w.wait()
    return g.ranks[w.source[0]]


# ---- Python objects ----------------------------------------------------------------------------
# Objects travel pickled between the job's own ranks (trusted peers): never feed these untrusted data.
def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Replace ``object_list``'s items on every rank by those of rank ``src`` (pickled between our ranks)."""
    g = resolve(group)
    if g is None:
        return None
    root = _peer(g, src, group_src, "broadcast_object_list", "src")
    if not isinstance(object_list, list):
        raise TypeError(f"broadcast_object_list: object_list must be a list, got {type(object_list).__name__}")
    agree(g, "broadcast_object_list", lambda: _fingerprint("broadcast_object_list", root=root,
                                                           shape=(len(object_list),), dtype=np.dtype(object)))
    got = g.comm.bcast(object_list if g.rank() == root else None, root=root)
    object_list[:] = got
    return None


def all_gather_object(object_list, obj, group=None):
    """Fill ``object_list[i]`` with rank i's ``obj`` (pickled between our ranks)."""
    g = resolve(group)
    if g is None:
        return None
    if not isinstance(object_list, list) or len(object_list) != g.size():
        raise ValueError(f"all_gather_object: object_list must be a list of world_size={g.size()} entries")
    agree(g, "all_gather_object", lambda: _fingerprint("all_gather_object"))
    object_list[:] = g.comm.allgather(obj)
    return None


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """Collect every rank's ``obj`` into ``object_gather_list`` on rank ``dst`` (pickled between our ranks)."""
    g = resolve(group)
    if g is None:
        return None
    root = _peer(g, dst, group_dst, "gather_object", "dst")
    if g.rank() == root and (not isinstance(object_gather_list, list) or len(object_gather_list) != g.size()):
        raise ValueError(f"gather_object: object_gather_list must be a list of world_size={g.size()} on dst")
    agree(g, "gather_object", lambda: _fingerprint("gather_object", root=root))
    got = g.comm.gather(obj, root=root)
    if g.rank() == root:
        object_gather_list[:] = got
    return None


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None, group=None,
                        group_src=None):
    """Rank ``src`` sends ``scatter_object_input_list[i]`` to rank i: it lands in ``scatter_object_output_list[0]``."""
    g = resolve(group)
    if g is None:
        return None
    root = _peer(g, src, group_src, "scatter_object_list", "src")
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("scatter_object_list: scatter_object_output_list must be a non-empty list")
    if g.rank() == root and (not isinstance(scatter_object_input_list, (list, tuple))
                             or len(scatter_object_input_list) != g.size()):
        raise ValueError(f"scatter_object_list: the input list must hold world_size={g.size()} objects on src")
    agree(g, "scatter_object_list", lambda: _fingerprint("scatter_object_list", root=root))
    scatter_object_output_list[0] = g.comm.scatter(
        list(scatter_object_input_list) if g.rank() == root else None, root=root)
    return None


# ---- helpers -----------------------------------------------------------------------------------
def _xp(a):
    return _arrays.array_module(a)


def _then(w: Work, fn):
    """Run ``fn`` after the engine's own finish step."""
    prev = w._finish

    def finish():
        if prev is not None:
            prev()
        fn()
    w._finish = finish


def _check_list(lst, a, n, name, what):
    if not isinstance(lst, (list, tuple)) or len(lst) != n:
        got = len(lst) if isinstance(lst, (list, tuple)) else type(lst).__name__
        raise ValueError(f"{name}: {what} must hold world_size={n} tensors on this rank, got {got}")
    for i, t in enumerate(lst):
        _tensor(t, name, f"{what}[{i}]")
        if t.numel() != a.size or t._data.dtype != a.dtype:
            raise ValueError(f"{name}: {what}[{i}] is {t._data.dtype} {tuple(t.shape)}, but the tensor is "
                             f"{a.dtype} {tuple(a.shape)}")


def _splits(sizes, a, n, name, what):
    d0 = a.shape[0] if a.ndim else 1
    if sizes is None:
        if d0 % n:
            raise ValueError(f"{name}: {what} dim 0 ({d0}) is not divisible by world_size={n}; pass "
                             f"{what}_split_sizes")
        return [d0 // n] * n
    sizes = [int(s) for s in sizes]
    if len(sizes) != n or any(s < 0 for s in sizes) or sum(sizes) != d0:
        raise ValueError(f"{name}: {what}_split_sizes={sizes} must be {n} non-negative sizes summing to "
                         f"{what}.shape[0]={d0}")
    return sizes


