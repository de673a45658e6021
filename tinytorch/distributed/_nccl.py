"""The NCCL engine: collectives on CUDA (CuPy) arrays through ``cupy.cuda.nccl``.

Bootstrapping follows ChainerMN: rank 0 makes the NCCL unique id, MPI broadcasts it, every rank
builds its ``NcclCommunicator(world, id, rank)`` on its current device. Calls are enqueued on the
caller's current CUDA stream, so they are ordered with the compute around them; an async ``Work``
records an event, and ``wait()`` blocks the host until it has fired.

UNPROVEN ON A GPU: written against CuPy's documented NCCL API and unit-tested with fakes only (no
GPU was available while it was written). Gather, scatter and all-to-all are grouped send/recv.
"""
from __future__ import annotations

import numpy as np

from .. import _arrays
from .._arrays.nccl import nccl_module
from .reduce_op import ReduceOp, check_avg
from .work import Work

_TYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64",
          "int8": "NCCL_INT8", "uint8": "NCCL_UINT8", "int32": "NCCL_INT32", "uint32": "NCCL_UINT32",
          "int64": "NCCL_INT64", "uint64": "NCCL_UINT64", "bfloat16": "NCCL_BFLOAT16"}
_OPS = {ReduceOp.SUM: "NCCL_SUM", ReduceOp.PRODUCT: "NCCL_PROD", ReduceOp.MIN: "NCCL_MIN",
        ReduceOp.MAX: "NCCL_MAX", ReduceOp.AVG: "NCCL_AVG"}


def bootstrap(comm, nccl, device_id=None):
    """An NcclCommunicator for this rank of MPI communicator ``comm`` (unique id broadcast over MPI)."""
    uid = nccl.get_unique_id() if comm.Get_rank() == 0 else None
    uid = comm.bcast(uid, root=0)
    return nccl.NcclCommunicator(comm.Get_size(), uid, comm.Get_rank())


class NcclEngine:
    """Collectives of one NCCL communicator (and its MPI twin ``comm``); each returns a ``Work``."""

    def __init__(self, comm, nccl, nccl_comm, cupy, device_id):
        self.comm = comm
        self.nccl = nccl
        self.nc = nccl_comm
        self.cp = cupy
        self.device_id = device_id

    @classmethod
    def create(cls, comm, device_id=None):
        cp = _arrays.cupy_module()  # raises with the reason when CUDA is unusable
        nccl = nccl_module()
        dev = int(getattr(device_id, "index", device_id) if device_id is not None else cp.cuda.Device().id)
        with cp.cuda.Device(dev):
            nc = bootstrap(comm, nccl, dev)
        return cls(comm, nccl, nc, cp, dev)

    def close(self):
        if self.nc is not None:
            self.nc.destroy()
            self.nc = None

    # ---- helpers ------------------------------------------------------------------------------
    def _check(self, a, name):
        if not _arrays.is_cupy_array(a):
            raise RuntimeError(f"{name}: backend 'nccl' takes CUDA tensors, got a CPU tensor")
        if a.device.id != self.device_id:
            raise RuntimeError(f"{name}: tensor on cuda:{a.device.id}, but this rank's NCCL communicator is on "
                               f"cuda:{self.device_id}")

    def _typed(self, a, op, name):
        """(array to reduce, NCCL dtype, NCCL op, post-scale): complex as float pairs, bool as uint8."""
        dt = a.dtype
        if op not in _OPS:
            raise TypeError(f"{name}: {op!r} is not supported by NCCL")
        if dt == np.bool_:
            a = a.view(np.uint8)
            op = ReduceOp.MAX if op in (ReduceOp.SUM, ReduceOp.MAX) else ReduceOp.MIN
        elif dt.kind == "c":
            if op not in (ReduceOp.SUM, ReduceOp.AVG):
                raise TypeError(f"{name}: {op!r} is not supported for complex tensors on NCCL")
            a = a.view(np.float32 if dt == np.complex64 else np.float64)
        else:
            check_avg(op, dt, name)
        key = _TYPES.get(a.dtype.name)
        if key is None or not hasattr(self.nccl, key):
            raise TypeError(f"{name}: NCCL cannot reduce {dt} tensors")
        scale = None
        if op is ReduceOp.AVG and not hasattr(self.nccl, "NCCL_AVG"):  # NCCL < 2.10
            op, scale = ReduceOp.SUM, self.comm.Get_size()
        return a, getattr(self.nccl, key), getattr(self.nccl, _OPS[op]), scale

    def _work(self, name, timeout=1800.0):
        stream = self.cp.cuda.get_current_stream()
        ev = self.cp.cuda.Event(disable_timing=True)
        ev.record(stream)

        def test():
            return ev.done
        return Work(name, test, None, timeout, self.comm.Get_rank())

    def _stream(self):
        return self.cp.cuda.get_current_stream().ptr

    def _bytes(self, a):
        return a.reshape(-1).view(np.uint8)

    # ---- collectives --------------------------------------------------------------------------
    def allreduce(self, a, op, timeout, name="all_reduce"):
        self._check(a, name)
        x, dt, nop, scale = self._typed(a, op, name)
        self.nc.allReduce(x.data.ptr, x.data.ptr, x.size, dt, nop, self._stream())
        if scale:
            a /= scale
        return self._work(name, timeout)

    def reduce(self, a, op, root, timeout, name="reduce"):
        self._check(a, name)
        x, dt, nop, scale = self._typed(a, op, name)
        self.nc.reduce(x.data.ptr, x.data.ptr, x.size, dt, nop, root, self._stream())
        if scale and self.comm.Get_rank() == root:
            a /= scale
        return self._work(name, timeout)

    def reduce_scatter(self, send, recv, op, timeout, name="reduce_scatter_tensor"):
        self._check(send, name)
        self._check(recv, name)
        xs, dt, nop, scale = self._typed(send, op, name)
        xr = self._typed(recv, op, name)[0]
        self.nc.reduceScatter(xs.data.ptr, xr.data.ptr, xr.size, dt, nop, self._stream())
        if scale:
            recv /= scale
        return self._work(name, timeout)

    def broadcast(self, a, root, timeout, name="broadcast"):
        self._check(a, name)
        b = self._bytes(a)
        self.nc.broadcast(b.data.ptr, b.data.ptr, b.size, self.nccl.NCCL_UINT8, root, self._stream())
        return self._work(name, timeout)

    def allgather(self, send, recv, timeout, name="all_gather"):
        self._check(send, name)
        self._check(recv, name)
        s = self._bytes(send)
        self.nc.allGather(s.data.ptr, self._bytes(recv).data.ptr, s.size, self.nccl.NCCL_UINT8, self._stream())
        return self._work(name, timeout)

    def _p2p(self, sends, recvs):
        """Grouped sends [(bytes, peer)] and receives [(bytes, peer)]: one NCCL group, no deadlock."""
        u8, st = self.nccl.NCCL_UINT8, self._stream()
        self.nccl.groupStart()
        try:
            for b, peer in sends:
                if b.size:
                    self.nc.send(b.data.ptr, b.size, u8, peer, st)
            for b, peer in recvs:
                if b.size:
                    self.nc.recv(b.data.ptr, b.size, u8, peer, st)
        finally:
            self.nccl.groupEnd()

    def gather(self, send, recv, root, timeout, name="gather"):
        self._check(send, name)
        me, n = self.comm.Get_rank(), self.comm.Get_size()
        s = self._bytes(send)
        if me == root:
            r = self._bytes(recv).reshape(n, -1)
            r[me] = s
            self._p2p([], [(r[i], i) for i in range(n) if i != me])
        else:
            self._p2p([(s, root)], [])
        return self._work(name, timeout)

    def scatter(self, send, recv, root, timeout, name="scatter"):
        self._check(recv, name)
        me, n = self.comm.Get_rank(), self.comm.Get_size()
        r = self._bytes(recv)
        if me == root:
            s = self._bytes(send).reshape(n, -1)
            r[...] = s[me]
            self._p2p([(s[i], i) for i in range(n) if i != me], [])
        else:
            self._p2p([], [(r, root)])
        return self._work(name, timeout)

    def alltoallv(self, send, recv, send_counts, recv_counts, timeout, name="all_to_all_single"):
        self._check(send, name)
        self._check(recv, name)
        item = send.dtype.itemsize
        s, r = self._bytes(send), self._bytes(recv)
        so = np.concatenate([[0], np.cumsum(send_counts)]) * item
        ro = np.concatenate([[0], np.cumsum(recv_counts)]) * item
        n = self.comm.Get_size()
        self._p2p([(s[so[i]:so[i + 1]], i) for i in range(n)], [(r[ro[i]:ro[i + 1]], i) for i in range(n)])
        return self._work(name, timeout)

    def send(self, a, dst, tag, timeout, name="send"):
        self._check(a, name)
        self._p2p([(self._bytes(a), dst)], [])
        return self._work(name, timeout)

    def recv(self, a, src, tag, timeout, name="recv"):
        self._check(a, name)
        if src is None:
            raise RuntimeError(f"{name}: NCCL cannot receive from any source; pass src")
        self._p2p([], [(self._bytes(a), src)])
        w = self._work(name, timeout)
        w.source = [src]
        return w

    def barrier(self, timeout, name="barrier"):
        self.cp.cuda.get_current_stream().synchronize()
        req = self.comm.Ibarrier()
        return Work(name, req.Test, None, timeout, self.comm.Get_rank())
