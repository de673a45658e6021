"""The MPI engine (mpi4py): non-blocking MPI collectives on contiguous NumPy arrays.

Data-moving collectives send raw bytes, so every dtype travels; reductions use MPI's typed
operations. 16-bit floats are reduced in float32 (MPI libraries differ in float16 support), bools
with logical or/and, and ReduceOp.AVG is a SUM divided by the group size afterwards. CUDA arrays are
staged through host memory (correct, not fast: use "nccl" for CUDA tensors).
"""
from __future__ import annotations

import numpy as np

from .. import _arrays
from .reduce_op import ReduceOp, check_avg
from .work import Work

_WIDEN = {np.dtype(np.float16)}


def _mpi():
    from mpi4py import MPI
    return MPI


def _mpi_op(op: ReduceOp, dtype: np.dtype, name: str):
    MPI = _mpi()
    bitwise = {ReduceOp.BAND: MPI.BAND, ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}
    if op in bitwise:
        if dtype.kind not in "iub":
            raise TypeError(f"{name}: {op!r} needs an integer or bool tensor, got {dtype}")
        if dtype == np.bool_:
            return {ReduceOp.BAND: MPI.LAND, ReduceOp.BOR: MPI.LOR, ReduceOp.BXOR: MPI.LXOR}[op]
        return bitwise[op]
    if dtype == np.bool_:
        return MPI.LOR if op in (ReduceOp.SUM, ReduceOp.MAX) else MPI.LAND
    if dtype.kind == "c" and op in (ReduceOp.MIN, ReduceOp.MAX):
        raise TypeError(f"{name}: {op!r} is not defined for complex tensors ({dtype})")
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}[op]


def _bytes(a):
    return a.reshape(-1).view(np.uint8)


class _Staged:
    """Host buffers for the arrays of one call; ``back()`` copies results to the caller's arrays."""

    def __init__(self, op: ReduceOp | None = None, widen=False):
        self.pairs = []  # (caller's array, host array) to copy back
        self.widen = widen
        self.op = op

    def host(self, a, out=False):
        if a is None:
            return None
        h = _arrays.as_numpy(a) if _arrays.is_cupy_array(a) else a
        if self.widen and (h.dtype in _WIDEN or h.dtype.name == "bfloat16"):
            h = h.astype(np.float32)
        if out and h is not a:
            self.pairs.append((a, h))
        return h

    def back(self, scale=None):
        for a, h in self.pairs:
            if scale is not None:
                _scale(h, scale)
            a[...] = _arrays.to_device(h.astype(a.dtype, copy=False), _arrays.device_of(a)) \
                if _arrays.is_cupy_array(a) else h.astype(a.dtype, copy=False)


def _scale(h, n):
    if h.dtype.kind in "fc":
        h /= n
    else:
        raise TypeError(f"ReduceOp.AVG needs a floating or complex tensor, got {h.dtype}")


class MpiEngine:
    """Collectives of one MPI communicator; each returns a ``Work``."""

    def __init__(self, comm):
        self.comm = comm

    def close(self):
        pass

    def _work(self, name, reqs, finish, timeout):
        MPI = _mpi()
        reqs = [r for r in reqs if r is not None]
        if len(reqs) == 1:
            r = reqs[0]
            test = r.Test
        else:
            def test():
                return MPI.Request.Testall(reqs)
        return Work(name, test, finish, timeout, self.comm.Get_rank())

    # ---- reductions ---------------------------------------------------------------------------
    def allreduce(self, a, op, timeout, name="all_reduce"):
        check_avg(op, a.dtype, name)
        MPI = _mpi()
        st = _Staged(op, widen=True)
        h = st.host(a, out=True)
        mop = _mpi_op(op, h.dtype, name)
        req = self.comm.Iallreduce(MPI.IN_PLACE, h, mop)
        n = self.comm.Get_size()

        def finish():
            if st.pairs:
                st.back(n if op is ReduceOp.AVG else None)
            elif op is ReduceOp.AVG:
                _scale(h, n)
        return self._work(name, [req], finish, timeout)

    def reduce(self, a, op, root, timeout, name="reduce"):
        check_avg(op, a.dtype, name)
        MPI = _mpi()
        me, n = self.comm.Get_rank(), self.comm.Get_size()
        st = _Staged(op, widen=True)
        h = st.host(a, out=(me == root))
        mop = _mpi_op(op, h.dtype, name)
        if me == root:
            req = self.comm.Ireduce(MPI.IN_PLACE, h, mop, root)
        else:
            req = self.comm.Ireduce(h, None, mop, root)

        def finish():
            if me != root:
                return
            if st.pairs:
                st.back(n if op is ReduceOp.AVG else None)
            elif op is ReduceOp.AVG:
                _scale(h, n)
        return self._work(name, [req], finish, timeout)

    def reduce_scatter(self, send, recv, op, timeout, name="reduce_scatter_tensor"):
        check_avg(op, recv.dtype, name)
        st = _Staged(op, widen=True)
        hs = st.host(send)
        hr = st.host(recv, out=True)
        mop = _mpi_op(op, hs.dtype, name)
        req = self.comm.Ireduce_scatter_block(hs, hr, mop)
        n = self.comm.Get_size()

        def finish():
            if st.pairs:
                st.back(n if op is ReduceOp.AVG else None)
            elif op is ReduceOp.AVG:
                _scale(hr, n)
        return self._work(name, [req], finish, timeout)

    # ---- data movement (raw bytes) ------------------------------------------------------------
    def broadcast(self, a, root, timeout, name="broadcast"):
        st = _Staged()
        h = st.host(a, out=True)
        req = self.comm.Ibcast(_bytes(h), root)
        return self._work(name, [req], st.back, timeout)

    def allgather(self, send, recv, timeout, name="all_gather"):
        st = _Staged()
        hs, hr = st.host(send), st.host(recv, out=True)
        req = self.comm.Iallgather(_bytes(hs), _bytes(hr))
        return self._work(name, [req], st.back, timeout)

    def gather(self, send, recv, root, timeout, name="gather"):
        st = _Staged()
        hs = st.host(send)
        hr = st.host(recv, out=True) if recv is not None else None
        req = self.comm.Igather(_bytes(hs), None if hr is None else _bytes(hr), root)
        return self._work(name, [req], st.back, timeout)

    def scatter(self, send, recv, root, timeout, name="scatter"):
        st = _Staged()
        hs = st.host(send) if send is not None else None
        hr = st.host(recv, out=True)
        req = self.comm.Iscatter(None if hs is None else _bytes(hs), _bytes(hr), root)
        return self._work(name, [req], st.back, timeout)

    def alltoallv(self, send, recv, send_counts, recv_counts, timeout, name="all_to_all_single"):
        """Counts in elements; displacements follow from them (the tensors are packed)."""
        st = _Staged()
        hs, hr = st.host(send), st.host(recv, out=True)
        item = send.dtype.itemsize
        sc = [c * item for c in send_counts]
        rc = [c * item for c in recv_counts]
        sd = np.concatenate([[0], np.cumsum(sc)[:-1]]).astype(np.int64).tolist()
        rd = np.concatenate([[0], np.cumsum(rc)[:-1]]).astype(np.int64).tolist()
        MPI = _mpi()
        req = self.comm.Ialltoallv([_bytes(hs), (sc, sd), MPI.BYTE], [_bytes(hr), (rc, rd), MPI.BYTE])
        return self._work(name, [req], st.back, timeout)

    def send(self, a, dst, tag, timeout, name="send"):
        st = _Staged()
        h = st.host(a)
        req = self.comm.Isend(_bytes(h), dst, tag)
        return self._work(name, [req], None, timeout)

    def recv(self, a, src, tag, timeout, name="recv"):
        """Receive into ``a``; the Work's result is the sender's group rank. ``src`` None: any sender."""
        MPI = _mpi()
        st = _Staged()
        h = st.host(a, out=True)
        status = MPI.Status()
        req = self.comm.Irecv(_bytes(h), MPI.ANY_SOURCE if src is None else src, tag)
        box = []

        def test():
            return req.Test(status)

        def finish():
            box.append(status.Get_source())
            n = status.Get_count(MPI.BYTE)
            if n != h.nbytes:
                raise RuntimeError(f"{name}: expected {h.nbytes} bytes ({a.shape}, {a.dtype}) from rank "
                                   f"{status.Get_source()}, got {n}: the sender's tensor differs")
            st.back()
        w = Work(name, test, finish, timeout, self.comm.Get_rank())
        w.source = box
        return w

    def probe_bytes(self, src, tag, timeout, name="recv"):
        """(bytes, source) of the next matching message, without receiving it."""
        MPI = _mpi()
        status = MPI.Status()
        flag = []

        def test():
            if self.comm.Iprobe(MPI.ANY_SOURCE if src is None else src, tag, status):
                flag.append(1)
                return True
            return False
        Work(name, test, None, timeout, self.comm.Get_rank()).wait()
        return status.Get_count(MPI.BYTE), status.Get_source()

    def barrier(self, timeout, name="barrier"):
        req = self.comm.Ibarrier()
        return self._work(name, [req], None, timeout)
