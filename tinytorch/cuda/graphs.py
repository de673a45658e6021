"""CUDA graphs with torch.cuda's API: ``CUDAGraph``, ``graph``, ``make_graphed_callables`` over CuPy's stream capture.

A CUDA graph records the kernels one piece of Python launches on a stream (``cupy.cuda.Stream.begin_capture``
/ ``end_capture``) and replays them with one launch (``cupy.cuda.graph.Graph.launch``): no Python, no
per-op launch overhead. What a replay reads and writes are the *same device buffers* the capture used, so:

* inputs are **static tensors**: copy new data into them (``static_x.copy_(x)``) before ``replay()``;
* outputs are **static tensors**: the tensors the captured code returned, overwritten by every replay;
* memory the captured work allocates comes from the graph's **private pool** (a ``cupy.cuda.MemoryPool``;
  share one between graphs with ``pool=graph_pool_handle()`` or ``pool=other.pool()``) and stays reserved
  for the graph until ``reset()``, so nothing else is ever given the addresses the graph writes to. The
  default pool does not allocate during a capture.

What breaks a capture (CUDA refuses it; tinytorch raises ``RuntimeError`` naming the cause): host syncs —
``.item()``, ``.tolist()``, ``.cpu()``, ``.numpy()``, printing a CUDA tensor, ``tinytorch.cuda.synchronize()``
— and work launched on the default stream while the capture runs. Range checks that tinytorch queues
instead of syncing (``_arrays.device_check``) are kept with the graph and queued again after each replay,
so they are reported at the next host sync as in eager mode; ``TINYTORCH_CUDA_SYNC_CHECKS=1`` syncs per
check and therefore cannot be captured. Random numbers drawn inside a capture are not re-drawn per
replay in a way tinytorch guarantees (torch registers its generator with the graph; tinytorch does not):
keep dropout out of captured regions.

Capture mode: CuPy captures in ``cudaStreamCaptureModeRelaxed`` by default so that its memory pool may
call ``cudaMalloc`` during a capture, which the stricter modes forbid, and CuPy has no way to relax only
the allocator the way torch's does. tinytorch therefore always begins the CuPy capture in relaxed mode;
``capture_error_mode`` is validated and recorded for torch compatibility. Host syncs fail in every mode.
"""
from __future__ import annotations

import gc

from .. import _arrays
from .. import autograd
from .. import cuda as _cuda_pkg  # this package, partly initialised while it imports graphs: read at call time
from .._arrays import _cuda
from ..tensor import Tensor
from .streams import Stream, stream as _stream_ctx

__all__ = ["CUDAGraph", "graph", "graph_pool_handle", "is_current_stream_capturing", "make_graphed_callables"]

_MODES = ("global", "thread_local", "relaxed")


def _cp():
    return _arrays.cupy_module()  # RuntimeError("CUDA is not available: <reason>") without CUDA


class _GraphPool:
    """A graph's private memory pool (the opaque handle ``graph_pool_handle()`` and ``CUDAGraph.pool()`` give)."""

    def __init__(self, cp):
        self.pool = cp.cuda.MemoryPool()

    def malloc(self, size):
        return self.pool.malloc(size)

    def __repr__(self):
        return f"<tinytorch.cuda graph pool at {id(self):#x}, {self.pool.total_bytes()} bytes reserved>"


def graph_pool_handle() -> _GraphPool:
    """A new private memory pool to share between graphs: ``graph(g, pool=handle)``."""
    return _GraphPool(_cp())


def is_current_stream_capturing() -> bool:
    """True while a CUDA graph capture is underway on the current stream (False without CUDA)."""
    if not _arrays.cuda_available():
        return False
    s = _cp().cuda.get_current_stream()
    if s.ptr in (0, 1):  # the legacy default stream can never capture
        return False
    return bool(s.is_capturing())


class CUDAGraph:
    """A captured CUDA graph: ``capture_begin()``/``capture_end()`` (or ``with tinytorch.cuda.graph(g):``) then
    ``replay()``.

    Example::

        g = tinytorch.cuda.CUDAGraph()
        static_x = tinytorch.zeros(8, 4, device="cuda")
        with tinytorch.cuda.graph(g):
            static_y = model(static_x)
        static_x.copy_(x); g.replay(); static_y  # model(x), computed by the replay
    """

    def __init__(self, keep_graph: bool = False):
        self._cp = _cp()
        self._graph = None  # the cupy Graph after capture_end
        self._pool: _GraphPool | None = None
        self._stream = None  # the cupy stream being captured
        self._prev_allocator = None
        self._checks: list = []  # deferred device checks made by the captured work (see module doc)
        self._mode = None
        self._debug = False
        self._replays = 0
        self.keep_graph = bool(keep_graph)

    def capture_begin(self, pool=None, capture_error_mode: str = "global") -> None:
        """Start capturing the work launched on the current (non-default) stream into this graph."""
        if capture_error_mode not in _MODES:
            raise RuntimeError(f"Unknown capture error mode. Expected `global`, `thread_local`, or `relaxed`, "
                               f"got {capture_error_mode!r}")
        if pool is not None and not isinstance(pool, _GraphPool):
            raise TypeError(f"capture_begin: pool must come from graph_pool_handle() or CUDAGraph.pool(), "
                            f"got {type(pool).__name__}")
        if self._graph is not None or self._stream is not None:
            raise RuntimeError("This CUDAGraph instance already owns a captured graph. To capture a new graph, "
                               "create a new instance (or call reset() first).")
        cp = self._cp
        s = cp.cuda.get_current_stream()
        if s.ptr in (0, 1):
            raise RuntimeError("CUDA graphs must be captured on a non-default stream. (However, after capture, "
                               "it's ok to replay them on the default stream.) Use `with tinytorch.cuda.graph(g):`, "
                               "which captures on a side stream.")
        if _cuda.pending_checks:  # a sync, legal now and not during the capture
            _arrays.raise_pending_checks()
        self._pool = pool if pool is not None else _GraphPool(cp)
        self._prev_allocator = cp.cuda.get_allocator()
        cp.cuda.set_allocator(self._pool.malloc)
        _cuda._state["capturing"] = _cuda._state.get("capturing", 0) + 1
        try:
            s.begin_capture(mode=cp.cuda.runtime.streamCaptureModeRelaxed)
        except BaseException:
            self._restore()
            raise
        self._stream, self._mode = s, capture_error_mode

    def _restore(self):
        self._cp.cuda.set_allocator(self._prev_allocator)
        self._prev_allocator = None
        _cuda._state["capturing"] -= 1

    def capture_end(self) -> None:
        """Finish the capture; the graph can then be replayed."""
        if self._stream is None:
            raise RuntimeError("capture_end: no capture is underway on this CUDAGraph (call capture_begin first)")
        s, self._stream = self._stream, None
        runtime_error = getattr(self._cp.cuda.runtime, "CUDARuntimeError", RuntimeError)
        checks = list(_cuda.pending_checks)  # queued during the capture: flags the graph refreshes
        _cuda.pending_checks.clear()
        try:
            graph = s.end_capture()
        except runtime_error as e:
            self._pool = None
            raise RuntimeError(
                f"CUDA graph capture failed: {e}. Something in the captured region broke the capture: a host "
                "sync (.item(), .tolist(), .cpu(), .numpy(), printing a CUDA tensor, tinytorch.cuda.synchronize()) "
                "or work on the default stream. Move it out of the captured region.") from e
        finally:
            self._restore()
        self._graph, self._checks = graph, checks

    def _abort(self):
        """End a capture that raised: no graph, the allocator and state restored (errors of the end ignored)."""
        s, self._stream = self._stream, None
        if s is None:
            return
        try:
            s.end_capture()
        except Exception:  # an invalidated capture raises here; the original error is the news
            pass
        finally:
            self._restore()
            _cuda.pending_checks.clear()
            self._pool = None

    def replay(self) -> None:
        """Launch the captured work again on the current stream (reads the static inputs, rewrites the
        static outputs)."""
        if self._graph is None:
            raise RuntimeError("replay: this CUDAGraph has no captured graph; capture one first "
                               "(with tinytorch.cuda.graph(g): ...)")
        self._graph.launch(stream=self._cp.cuda.get_current_stream())
        self._replays += 1
        if self._checks:
            _cuda.pending_checks.extend(self._checks)
            if len(_cuda.pending_checks) >= 64 and not _cuda._state.get("capturing"):
                _arrays.raise_pending_checks()

    def reset(self) -> None:
        """Drop the captured graph and release its hold on the private pool."""
        if self._stream is not None:
            self._abort()
        self._graph, self._pool, self._checks, self._replays = None, None, [], 0

    def pool(self) -> _GraphPool:
        """The private memory pool's handle: pass it as ``pool=`` to share the memory with another graph."""
        if self._pool is None:
            raise RuntimeError("pool: this CUDAGraph has no memory pool yet (capture a graph first)")
        return self._pool

    def enable_debug_mode(self) -> None:
        self._debug = True

    def debug_dump(self, debug_path: str) -> None:
        """Write what is known about the graph to ``debug_path`` (text; CuPy keeps no DOT-printable graph:
        it destroys the ``cudaGraph_t`` once instantiated)."""
        if not self._debug:
            raise RuntimeError("debug_dump: call enable_debug_mode() before capturing the graph")
        if self._graph is None:
            raise RuntimeError("debug_dump: this CUDAGraph has no captured graph")
        with open(debug_path, "w", encoding="utf-8") as f:
            f.write(f"tinytorch CUDAGraph: capture_error_mode={self._mode!r} (captured in relaxed mode), "
                    f"replays={self._replays}, deferred checks={len(self._checks)}, pool={self._pool!r}\n")

    def __repr__(self):
        state = "captured" if self._graph is not None else ("capturing" if self._stream is not None else "empty")
        return f"<tinytorch.cuda.CUDAGraph {state}>"


_capture_streams: dict = {}  # device index -> the side stream graph() captures on by default


def _default_capture_stream() -> Stream:
    cp = _cp()
    dev = int(cp.cuda.runtime.getDevice())
    s = _capture_streams.get(dev)
    if s is None:
        # non-blocking, like torch's pooled streams: work on the legacy stream does not wait on it
        s = _capture_streams[dev] = Stream(_wrap=cp.cuda.Stream(non_blocking=True))
    return s


class graph:
    """``with tinytorch.cuda.graph(g):`` captures the block into the ``CUDAGraph`` ``g``.

    As torch: the device is synchronized, garbage collected and the cache emptied, then the block runs on
    ``stream`` (a side stream by default) under ``g.capture_begin(pool, capture_error_mode)``. Warm the
    code up first on a side stream — a few eager iterations, e.g. under ``with tinytorch.cuda.stream(s):``
    — so that one-time work (lazy state, optimizer buffers, cached constants) happens outside the capture.
    """

    def __init__(self, cuda_graph: CUDAGraph, pool=None, stream: Stream | None = None,
                 capture_error_mode: str = "global"):
        if not isinstance(cuda_graph, CUDAGraph):
            raise TypeError(f"graph: expected a tinytorch.cuda.CUDAGraph, got {type(cuda_graph).__name__}")
        self.cuda_graph = cuda_graph
        self.pool = pool
        self.capture_stream = stream if stream is not None else _default_capture_stream()
        self.capture_error_mode = capture_error_mode
        self._ctx = None

    def __enter__(self):
        synchronize, empty_cache = _cuda_pkg.synchronize, _cuda_pkg.empty_cache
        synchronize()
        gc.collect()
        empty_cache()
        self._ctx = _stream_ctx(self.capture_stream)
        self._ctx.__enter__()
        try:
            self.cuda_graph.capture_begin(self.pool, capture_error_mode=self.capture_error_mode)
        except BaseException:
            self._ctx.__exit__(None, None, None)
            raise
        return None

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.cuda_graph.capture_end()
            else:
                self.cuda_graph._abort()
        finally:
            self._ctx.__exit__(None, None, None)
        return False


# ---- make_graphed_callables ---------------------------------------------------------------------------
def make_graphed_callables(callables, sample_args, num_warmup_iters: int = 3, allow_unused_input: bool = False,
                           pool=None):
    """Graphed versions of ``callables`` (modules or functions): forward and backward each replay a CUDA graph.

    ``sample_args`` holds one tuple of CUDA tensors per callable (a single callable takes a single tuple),
    with the shapes, dtypes and ``requires_grad`` of every later call. Each callable is warmed up
    ``num_warmup_iters`` times on a side stream, then its forward and its backward (``autograd.grad`` with
    respect to the inputs and parameters that require grad) are captured, sharing one memory pool. The
    returned callables copy their arguments into the static inputs and replay the forward graph; their
    backward copies the incoming gradients in and replays the backward graph. A graphed module's
    ``forward`` replays only in the training mode it was captured in, and runs eagerly otherwise.
    """
    from ..nn import Module  # nn sits above cuda (Module.cuda)

    just_one = not isinstance(callables, tuple)
    if just_one:
        callables, sample_args = (callables,), (sample_args,)
    if len(callables) != len(sample_args):
        raise ValueError(f"make_graphed_callables: {len(callables)} callables but {len(sample_args)} sample_args")
    if not isinstance(num_warmup_iters, int) or num_warmup_iters < 0:
        raise ValueError(f"make_graphed_callables: num_warmup_iters must be an int >= 0, got {num_warmup_iters!r}")
    for i, (c, args) in enumerate(zip(callables, sample_args)):
        if not isinstance(args, tuple):
            raise TypeError(f"make_graphed_callables: sample_args[{i}] must be a tuple of tensors, got "
                            f"{type(args).__name__}")
        for a in args:
            if not isinstance(a, Tensor):
                raise TypeError(f"make_graphed_callables: in CUDA graphs all inputs must be tensors; "
                                f"sample_args[{i}] holds a {type(a).__name__}")
            if a.device.type != "cuda":
                raise RuntimeError(f"make_graphed_callables: CUDA graphs capture CUDA tensors only; sample_args[{i}] "
                                   f"holds a tensor on {a.device}")
        if isinstance(c, Module):
            if c._forward_hooks or c._forward_pre_hooks or c._backward_hooks:
                raise RuntimeError("make_graphed_callables: modules must have no hooks registered when graphed")
            if any(b.requires_grad for b in c.buffers()):
                raise RuntimeError("make_graphed_callables: modules' buffers must not require grad")
        elif not callable(c):
            raise TypeError(f"make_graphed_callables: callables[{i}] is a {type(c).__name__}, not callable")

    mempool = graph_pool_handle() if pool is None else pool
    params = [tuple(c.parameters()) if isinstance(c, Module) else () for c in callables]
    surfaces = [tuple(args) + p for args, p in zip(sample_args, params)]

    def grad_of(outputs, surface, grad_outputs):
        outs = [o for o in outputs if o.requires_grad]
        ins = [t for t in surface if t.requires_grad]
        if not outs or not ins:
            return tuple(None for _ in surface)
        gos = [g for o, g in zip(outputs, grad_outputs) if o.requires_grad]
        got = iter(autograd.grad(outs, ins, grad_outputs=gos, allow_unused=allow_unused_input))
        return tuple(next(got) if t.requires_grad else None for t in surface)

    # warm-up on a side stream: lazy state and one-time allocations happen outside the captures
    _cuda_pkg.synchronize()
    with _stream_ctx(_default_capture_stream()):
        for c, args, surface in zip(callables, sample_args, surfaces):
            for _ in range(num_warmup_iters):
                outs = _as_outputs(c(*args))
                grad_of(outs, surface, [o.new_ones(o.shape) if o.requires_grad else None for o in outs])
    _cuda_pkg.synchronize()

    fwd_graphs, static_outputs = [], []
    for c, args in zip(callables, sample_args):
        g = CUDAGraph()
        with graph(g, pool=mempool):
            out = c(*args)
        fwd_graphs.append(g)
        static_outputs.append((_as_outputs(out), not isinstance(out, tuple)))

    bwd_graphs, static_grad_outputs, static_grad_inputs = [], [], []
    for (outs, _), surface in zip(static_outputs, surfaces):
        gouts = tuple(o.new_zeros(o.shape) if o.requires_grad else None for o in outs)
        g = CUDAGraph()
        with graph(g, pool=mempool):
            gins = grad_of(outs, surface, gouts)
        bwd_graphs.append(g)
        static_grad_outputs.append(gouts)
        static_grad_inputs.append(gins)

    graphed = []
    for i, c in enumerate(callables):
        fn = _graphed(autograd.Function, fwd_graphs[i], bwd_graphs[i], surfaces[i], static_outputs[i][0],
                      static_grad_outputs[i], static_grad_inputs[i], len(sample_args[i]), static_outputs[i][1])
        if isinstance(c, Module):
            fn = _graphed_forward(c, fn, c.training)
            c.forward = fn
            graphed.append(c)
        else:
            graphed.append(fn)
    return graphed[0] if just_one else tuple(graphed)


def _as_outputs(out):
    outs = out if isinstance(out, tuple) else (out,)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"make_graphed_callables: callables must return a tensor or a tuple of tensors, "
                            f"got {type(o).__name__}")
    return outs


def _graphed(function_cls, fwd_graph, bwd_graph, surface, outputs, grad_outputs, grad_inputs, n_user, single):
    class Graphed(function_cls):
        @staticmethod
        def forward(ctx, *inputs):
            for static, x in zip(surface, inputs):
                if static is not x:
                    static._data[...] = x._data
            fwd_graph.replay()
            return tuple(o.detach() for o in outputs)

        @staticmethod
        def backward(ctx, *grads):
            for static, g in zip(grad_outputs, grads):
                if static is not None and g is not None:
                    static._data[...] = g._data
            bwd_graph.replay()
            # copies: the engine may keep a returned array as a leaf's .grad, and the next replay rewrites
            # the static ones in place
            return tuple(None if g is None else g.detach().clone() for g in grad_inputs)

    def run(*user_args):
        if len(user_args) != n_user:
            raise TypeError(f"graphed callable: expected {n_user} tensor arguments (as in sample_args), "
                            f"got {len(user_args)}")
        for a, s in zip(user_args, surface):
            if tuple(a.shape) != tuple(s.shape) or a.dtype != s.dtype:
                raise RuntimeError(f"graphed callable: arguments must match sample_args: expected {tuple(s.shape)} "
                                   f"{s.dtype}, got {tuple(a.shape)} {a.dtype}")
        out = Graphed.apply(*(tuple(user_args) + surface[n_user:]))
        if not isinstance(out, tuple):
            out = (out,)
        return out[0] if single else out

    return run


def _graphed_forward(module, graphed_fn, training):
    eager = module.forward

    def forward(*args):
        if module.training == training:
            return graphed_fn(*args)
        return eager(*args)
    return forward
