"""The backward engine: an iterative topological walk over the graph (no recursion).

Kahn's algorithm: count, for every node reachable from the roots, how many edges point at
it; a node runs once all of them have delivered their gradient. Gradients for the same
node output are summed in a buffer, reshaped to the input's shape when an op broadcast
(``sum_to_size``), and cast to the input's dtype, so ops' backwards return gradients in
the output's shape and never repeat that bookkeeping.
"""
from __future__ import annotations

import numpy as np

from .. import _arrays

from . import grad_mode
from . import anomaly as _anomaly
from .function import V_VERSION, AccumulateGrad, _accumulator, sync_view, view_requires_grad

Tensor = None  # bound on the first backward (tinytorch.tensor imports this package first)
_ops = None


def _bind():
    global Tensor, _ops
    from ..tensor import Tensor as _T  # bound once, on the first backward (hot path)
    from .. import ops  # bound once, on the first backward (hot path)

    Tensor, _ops = _T, ops


def _root_edge(t, i):
    if t._view is not None and t._view[V_VERSION] != t._vc[0]:
        sync_view(t)
    if t._grad_fn is not None:
        return (t._grad_fn, t._output_nr)
    if t._requires_grad:
        return (_accumulator(t), 0)
    raise RuntimeError(
        f"element {i} of tensors does not require grad and does not have a grad_fn"
    )


def _num_outputs(node):
    return 1 if type(node) is AccumulateGrad else len(node._out_meta)


def _children(node):
    if isinstance(node, AccumulateGrad):
        return ()
    edges = getattr(node, "_edges", None)
    if edges is None:
        return ()
    return edges


def _input_meta(edge):
    node, nr = edge
    if isinstance(node, AccumulateGrad):
        v = node.variable._data
        return v.shape, v.dtype
    return node._out_meta[nr]


def run_backward(roots, grad_roots, retain_graph=False, create_graph=False, inputs=None,
                 allow_unused=False, accumulate=True):
    """Backpropagate ``grad_roots`` from ``roots``.

    With ``inputs`` (``autograd.grad``) the gradients of those tensors are returned instead of
    being accumulated into leaves' ``.grad``; otherwise leaves accumulate and None is returned.
    """
    if Tensor is None:
        _bind()
    guard = _arrays.device_guard(roots[0]._data) if roots and isinstance(roots[0], Tensor) else None
    # inf/nan gradients come without NumPy warnings, as in torch: one errstate for every backward and buffer sum
    with np.errstate(all="ignore"):
        if guard is not None:  # the roots live on a non-current GPU: seed gradients and accumulate there
            with guard:
                return _run_backward(roots, grad_roots, retain_graph, create_graph, inputs, allow_unused, accumulate)
        return _run_backward(roots, grad_roots, retain_graph, create_graph, inputs, allow_unused, accumulate)


def _run_backward(roots, grad_roots, retain_graph, create_graph, inputs, allow_unused, accumulate):
    root_edges = [_root_edge(t, i) for i, t in enumerate(roots)]

    # 1. dependency counts over everything reachable from the roots
    deps = {}
    seen = set()
    stack = [e[0] for e in root_edges]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if type(node) is AccumulateGrad:
            continue
        for e in node._edges:
            if e is None:
                continue
            child = e[0]
            deps[child] = deps.get(child, 0) + 1
            if child not in seen:
                stack.append(child)

    # 2. what to capture for autograd.grad, and which nodes must run to reach it
    capture = None
    needed = None
    results = None
    if inputs is not None:
        accumulate = False
        capture = {}
        results = [None] * len(inputs)
        for i, t in enumerate(inputs):
            if not isinstance(t, Tensor):
                raise RuntimeError(f"autograd.grad: all inputs have to be Tensors, got {type(t).__name__} at "
                                   f"position {i}")
            if t._view is not None and t._view[V_VERSION] != t._vc[0]:
                sync_view(t)
            if t._grad_fn is not None:
                key = (t._grad_fn, t._output_nr)
            elif t._requires_grad or view_requires_grad(t):  # the latter's gradient never arrives: unused
                key = (_accumulator(t), 0)
            else:
                raise RuntimeError(f"autograd.grad: input {i} does not require grad")
            capture.setdefault(key, []).append(i)
        targets = {k[0] for k in capture}
        needed = _nodes_leading_to(seen, targets)

    # 3. seed the buffers with the root gradients
    buffers = {}
    for (node, nr), g in zip(root_edges, grad_roots):
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * _num_outputs(node)
        buf[nr] = g if buf[nr] is None else buf[nr] + g

    ready = [n for n in buffers if deps.get(n, 0) == 0]
    # (node, output_nr) whose buffered gradient is an array this walk allocated and nobody else has
    # seen yet: later gradients for it are added in place. A node's buffer is handed to its backward
    # only when the node is popped, after its last gradient arrived, so the in-place adds end there.
    owned = set()
    user_grads = {id(g._data) for g in grad_roots}  # arrays a leaf's .grad must not alias

    with grad_mode.set_grad_enabled(create_graph):
        while ready:
            node = ready.pop()
            buf = buffers.pop(node, None)
            if type(node) is AccumulateGrad:
                _accumulate_leaf(node, buf, capture, results, accumulate, create_graph, user_grads)
                continue
            if buf is None:
                buf = [None] * len(node._out_meta)
            if node._hooks or node._retained:
                buf = _run_tensor_hooks(node, buf, create_graph)
            if capture is not None:
                for nr, g in enumerate(buf):
                    for i in capture.get((node, nr), ()):
                        results[i] = g
            if len(buf) == 1:  # most nodes have one output: skip the generator
                run = buf[0] is not None
            else:
                run = any(g is not None for g in buf)
            run = run and (needed is None or node in needed)
            edges = node._edges
            if run and node.grad_slice is not None and not create_graph:
                idx = node.grad_slice(node)
                if idx is not None and edges[0] is not None and not _anomaly._local.on:
                    _add_slice_grad(node, idx, buf[0], buffers, owned)
                    run = False  # delivered: only the dependency counts below remain
            if run:
                grads_in = _call_backward(node, buf, create_graph)
                if not retain_graph:
                    node._saved = None
                    node._released = True
                for e, g in zip(edges, grads_in):
                    if e is None or g is None:
                        continue
                    child, nr = e
                    if type(g) is Tensor and type(child) is not AccumulateGrad:
                        shape, dt = child._out_meta[nr]  # _fit's checks, inlined for the common case
                        gd = g._data
                        if gd.shape != shape or gd.dtype != dt:
                            g = _fit(node, e, g)
                    else:
                        g = _fit(node, e, g)
                    cbuf = buffers.get(child)
                    if cbuf is None:
                        if type(child) is AccumulateGrad or len(child._out_meta) == 1:
                            buffers[child] = [g]
                            continue
                        cbuf = buffers[child] = [None] * len(child._out_meta)
                        cbuf[nr] = g
                    elif cbuf[nr] is None:
                        cbuf[nr] = g
                    elif create_graph:
                        cbuf[nr] = cbuf[nr] + g
                    elif (child, nr) in owned:  # our own buffer, not yet handed to any backward
                        cbuf[nr]._data += g._data
                    else:  # same shape and dtype after _fit: one array add, no graph op
                        cbuf[nr] = Tensor._make(cbuf[nr]._data + g._data)
                        owned.add((child, nr))
            for e in edges:
                if e is None:
                    continue
                child = e[0]
                d = deps[child] - 1
                deps[child] = d
                if d == 0:
                    ready.append(child)

    if results is not None:
        for i, r in enumerate(results):
            if r is None and not allow_unused:
                raise RuntimeError(
                    f"autograd.grad: one of the differentiated tensors (input {i}) appears to not "
                    "have been used in the graph. Set allow_unused=True if this is the desired behavior."
                )
        return results
    return None


def _add_slice_grad(node, idx, g, buffers, owned):
    """Add ``g`` (the gradient of ``input[idx]``, basic ``idx``) into input 0's gradient buffer at ``idx``.

    The first slice allocates the one full-size buffer (zeros); later ones add in place, so a loop
    over ``x[:, t]`` costs one buffer plus T slice adds instead of T full-size arrays and their sum.
    """
    edge = node._edges[0]
    child, nr = edge
    shape, dt = _input_meta(edge)
    gd = g._data
    if gd.dtype != dt:
        gd = gd.astype(dt)
    cbuf = buffers.get(child)
    if cbuf is None:
        cbuf = buffers[child] = [None] * _num_outputs(child)
    cur = cbuf[nr]
    key = (child, nr)
    if cur is not None and key in owned:
        cur._data[idx] += gd
        return
    dev_ctx = getattr(node, "_device_ctx", None)
    if dev_ctx is not None:  # allocate on the GPU the forward ran on
        with dev_ctx:
            dense = _slice_base(node.xp, cur, shape, dt)
    else:
        dense = _slice_base(node.xp, cur, shape, dt)
    dense[idx] += gd
    cbuf[nr] = Tensor._make(dense)
    owned.add(key)


def _slice_base(xp, cur, shape, dt):
    """A fresh buffer to add slices into: zeros, or a copy of the gradient already there."""
    if cur is None:
        return xp.zeros(shape, dtype=dt)
    return cur._data.copy()


def _nodes_leading_to(nodes, targets):
    """Nodes (among ``nodes``) with a path to a target, the targets themselves excluded unless
    they lead on to another target."""
    leads = {}
    for start in nodes:
        if start in leads:
            continue
        stack = [(start, False)]
        while stack:
            node, expanded = stack.pop()
            if node in leads:
                continue
            kids = [e[0] for e in _children(node) if e is not None]
            if expanded:
                leads[node] = any(k in targets or leads.get(k, False) for k in kids)
            else:
                stack.append((node, True))
                for k in kids:
                    if k not in leads:
                        stack.append((k, False))
    return {n for n, v in leads.items() if v}


def _call_backward(node, buf, create_graph):
    dev_ctx = getattr(node, "_device_ctx", None)
    if dev_ctx is not None:  # the forward ran on a non-current GPU: so does its backward
        with dev_ctx:
            return _call_backward_here(node, buf, create_graph)
    return _call_backward_here(node, buf, create_graph)


def _call_backward_here(node, buf, create_graph):
    if node._materialize and (buf[0] is None if len(buf) == 1 else any(g is None for g in buf)):
        xp = node.xp
        buf = [
            g if g is not None else Tensor._make(xp.zeros(shape, dtype=dt))
            for g, (shape, dt) in zip(buf, node._out_meta)
        ]
    fast = node.backward_arrays
    if fast is not None and not create_graph:
        if len(buf) == 1:
            g = buf[0]
            arrays = fast(node, None if g is None else g._data)
        else:
            arrays = fast(node, *[None if g is None else g._data for g in buf])
        if type(arrays) is not tuple:
            arrays = (arrays,)
        out = tuple([None if a is None else Tensor._make(a) for a in arrays])
    else:
        out = type(node).backward(node, *buf)
        if not isinstance(out, tuple):
            out = (out,)
    n = len(node._edges)
    if len(out) != n:
        if len(out) > n and all(g is None for g in out[n:]):
            out = out[:n]
        elif len(out) < n and all(e is None for e in node._edges[len(out):]):
            out = out + (None,) * (n - len(out))  # trailing non-tensor arguments need no None
        else:
            raise RuntimeError(
                f"function {node.name()} returned an incorrect number of gradients (expected {n}, got {len(out)})"
            )
    if _anomaly._local.on:
        for i, g in enumerate(out):
            if g is not None and g._data.dtype.kind == "f" and not bool(node.xp.isfinite(g._data).all()):
                where = f"\nThe op was called here in the forward pass:\n{node._trace}" if node._trace else ""
                raise RuntimeError(f"Function '{node.name()}' returned nan or inf values in its {i}th output.{where}")
    return out


def _fit(node, edge, g):
    """Bring a gradient to the shape and dtype of the input it is for."""
    if not isinstance(g, Tensor):
        raise TypeError(f"{node.name()}: backward must return tensors or None, got {type(g).__name__}")
    child, nr = edge
    if type(child) is AccumulateGrad:
        v = child.variable._data
        shape, dt = v.shape, v.dtype
    else:
        shape, dt = child._out_meta[nr]
    if g._data.shape != shape:
        try:
            g = _ops.sum_to_size(g, shape)
        except (RuntimeError, ValueError) as exc:
            raise RuntimeError(
                f"{node.name()}: returned a gradient of shape {tuple(g._data.shape)} for an input of shape {tuple(shape)}"
            ) from exc
    if g._data.dtype != dt:
        g = _ops.to_dtype(g, dt)
    return g


def _checked_hook_result(fn, g, r):
    """A hook may replace the gradient, not change its kind: torch's errors for a wrong type, size or dtype."""
    name = getattr(fn, "__name__", type(fn).__name__)
    if not isinstance(r, Tensor):
        raise TypeError(f"expected Tensor, but hook '{name}' returned '{type(r).__name__}'")
    if r.shape != g.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value (was {tuple(g.shape)} got {tuple(r.shape)})")
    if r.dtype != g.dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was {g.dtype} got {r.dtype})")
    if r.device != g.device:
        raise RuntimeError(f"hook '{name}' has changed the device of value (was {g.device} got {r.device})")
    return r


def _run_tensor_hooks(node, buf, create_graph):
    hooks = node._hooks
    if hooks:
        for nr, fns in hooks.items():
            g = buf[nr]
            if g is None:
                continue
            for fn in fns:
                r = fn(g)
                if r is not None:
                    g = _checked_hook_result(fn, g, r)
            buf[nr] = g
    retained = node._retained
    if retained:
        for nr, ref in retained.items():
            t = ref()
            g = buf[nr]
            if t is None or g is None:
                continue
            g = g if create_graph else Tensor._make(g._data)
            if t._grad is None:
                t._grad = g
            else:
                t._grad = t._grad + g
    return buf


def _accumulate_leaf(node, buf, capture, results, accumulate, create_graph, user_grads):
    g = buf[0] if buf else None
    if g is None:
        return
    var = node.variable
    for fn in var._hooks or ():
        r = fn(g)
        if r is not None:
            g = _checked_hook_result(fn, g, r)
    if capture is not None:
        for i in capture.get((node, 0), ()):
            results[i] = g
    if not accumulate:
        return
    if not create_graph:
        if var._grad is None:
            data = own_grad_array(g._data, user_grads)
            var._grad = Tensor._make(data)
        else:
            var._grad = Tensor._make(var._grad._data + g._data)
    else:
        var._grad = g if var._grad is None else var._grad + g
    for fn in var._post_accumulate_hooks or ():
        fn(var)


def own_grad_array(data, taken):
    """``data``, or a copy when it is a view, read-only, or already handed out (``taken``: ids).

    A leaf's ``.grad`` gets memory of its own, so optimizers can update it in place: an add's
    backward passes one array to both inputs, and a sum's backward is a broadcast view.
    """
    if data.flags.owndata and _arrays.is_writeable(data) and id(data) not in taken:
        taken.add(id(data))
        return data
    copy = data.copy()
    taken.add(id(copy))
    return copy

