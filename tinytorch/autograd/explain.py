"""``autograd.explain(loss, param)``: why ``param.grad`` is None (or zero) after ``loss.backward()``.

It looks at the graph recorded behind ``loss``: does ``param`` take part at all, where does the
path break (a detached copy, a tensor made under ``no_grad``, an integer dtype, the loss
itself computed without a graph), and when the path exists but the gradient is zero, which
node blocks it (a ReLU whose inputs are all <= 0, a ``masked_fill`` that covers everything, a
multiplication by a tensor of zeros). It reads the graph only; nothing is modified.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from ..tensor import Tensor
from . import grad as _grad

__all__ = ["explain", "Explanation"]


@dataclass
class Explanation:
    """The result of :func:`explain`: ``reason`` is a short code, ``message`` the readable account.

    ``reason`` is one of ``"ok"``, ``"integer_dtype"``, ``"not_requires_grad"``, ``"no_graph"``
    (a non-leaf made without a graph), ``"loss_without_graph"``, ``"detached"``, ``"not_used"``,
    ``"dead_relu"``, ``"masked_fill"``, ``"multiplied_by_zero"``, ``"non_differentiable_op"``, ``"zero_gradient"``,
    ``"graph_freed"``. ``path`` names the graph nodes from the loss down to ``param``.
    """

    reason: str
    message: str
    path: list[str] = field(default_factory=list)
    grad_norm: float | None = None
    blockers: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.reason == "ok"

    def __str__(self) -> str:
        text = self.message
        if self.path:
            text += "\n  path: " + " -> ".join(self.path)
        return text


def _describe(t) -> str:
    return f"tensor of shape {tuple(t.shape)} and dtype {t.dtype}"


def _edges(node):
    return getattr(node, "_edges", ()) or ()


def _target_of(param):
    """The graph node whose gradient is param's: its AccumulateGrad (leaf) or (grad_fn, output_nr)."""
    if param.grad_fn is not None:
        return param.grad_fn, param._output_nr
    return None, None


def _is_target(node, nr, param, target, target_nr):
    if target is not None:
        return node is target and nr == target_nr
    return getattr(node, "variable", None) is param


def _walk(root):
    """Every node reachable from ``root`` with its children: {id: (node, [(i, child, nr)])}, iteratively."""
    seen = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        kids = [(i, e[0], e[1]) for i, e in enumerate(_edges(node)) if e is not None]
        seen[id(node)] = (node, kids)
        stack.extend(k for _, k, _ in kids if id(k) not in seen)
    return seen


def _saved_arrays(node):
    saved = getattr(node, "_saved", None)
    if saved is None:
        return None
    return [None if s is None else s.data for s in saved]


def _all(xp_array, pred) -> bool:
    return bool(pred(xp_array).all())


def _blocked(node, edge_index):
    """A reason string when ``node`` passes no gradient to its input ``edge_index``, else None."""
    name = node.name()
    if name.lstrip("_").startswith(("ZeroGrad", "Round", "Sign", "Floor", "Ceil", "Trunc")):
        return "non_differentiable_op"
    arrays = _saved_arrays(node)
    if not arrays:
        return None
    if name.startswith("Relu") and arrays[0] is not None and _all(arrays[0], lambda a: a <= 0):
        return "dead_relu"
    if name.startswith("MaskedFill") and arrays[0] is not None and arrays[0].dtype.kind == "b":
        if edge_index == 0 and _all(arrays[0], lambda m: m):
            return "masked_fill"
        if edge_index == 2 and _all(arrays[0], lambda m: ~m):
            return "masked_fill"
    if name.startswith("Mul") and len(arrays) == 2:
        other = arrays[1 - edge_index] if edge_index in (0, 1) else None
        if other is not None and _all(other, lambda a: a == 0):
            return "multiplied_by_zero"
    return None


def _reaching(nodes, param, target, target_nr):
    """Ids of the nodes from which the param's node can be reached (including it)."""
    parents = {}
    goal = []
    for nid, (node, kids) in nodes.items():
        for _, kid, nr in kids:
            parents.setdefault(id(kid), []).append(nid)
            if _is_target(kid, nr, param, target, target_nr):
                goal.append(nid)
    reach = set(goal)
    queue = deque(goal)
    while queue:
        nid = queue.popleft()
        for p in parents.get(nid, ()):
            if p not in reach:
                reach.add(p)
                queue.append(p)
    return reach


def _path(root, nodes, param, target, target_nr, skip=frozenset()):
    """Node names along a shortest path from ``root`` to param (edges in ``skip`` are cut), or None."""
    prev = {id(root): None}
    queue = deque([root])
    while queue:
        node = queue.popleft()
        for i, kid, nr in nodes[id(node)][1]:
            if (id(node), i) in skip:
                continue
            if _is_target(kid, nr, param, target, target_nr):
                names = [node.name()]
                back = prev[id(node)]
                while back is not None:
                    names.append(back.name())
                    back = prev[id(back)]
                return list(reversed(names)) + [kid.name() if target is not None else "param (leaf)"]
            if id(kid) not in prev:
                prev[id(kid)] = node
                queue.append(kid)
    return None


def _uses_detached(nodes, param) -> str | None:
    """The name of a node that saved param's data without a graph edge to it (a ``.detach()``ed use)."""
    data = param._data
    for node, _ in nodes.values():
        for a in _saved_arrays(node) or ():
            if a is not None and (a is data or getattr(a, "base", None) is data):
                return node.name()
    return None


_BLOCK_TEXT = {
    "non_differentiable_op": "a piecewise-constant op (round, sign, floor, ceil, trunc ...) whose gradient is zero "
                             "everywhere; use a smooth surrogate or a straight-through estimator",
    "dead_relu": "a ReLU whose inputs are all <= 0 (a dead ReLU: it outputs 0 everywhere and passes no gradient)",
    "masked_fill": "a masked_fill whose mask covers every element (the filled values do not depend on param)",
    "multiplied_by_zero": "a multiplication by a tensor that is all zeros",
}


def explain(loss, param) -> Explanation:
    """Explain whether and how the gradient of ``loss`` reaches ``param``.

    Args:
        loss: the tensor you call ``.backward()`` on (usually a scalar).
        param: a tensor whose ``.grad`` you expect to be filled (a parameter or an intermediate).

    Returns an :class:`Explanation`; ``print`` it for a readable account, or test ``.reason``.
    Call it before ``loss.backward()`` (or after ``backward(retain_graph=True)``): a backward
    without ``retain_graph`` frees what the zero-gradient checks read.
    """
    for name, t in (("loss", loss), ("param", param)):
        if not isinstance(t, Tensor):
            raise TypeError(f"explain: {name} must be a Tensor, got {type(t).__name__}")

    if not param.is_floating_point():
        return Explanation("integer_dtype", f"param is a {_describe(param)}: only floating-point tensors can "
                           "require gradients. Convert it with .float() before using it as a parameter.")
    if not param.requires_grad:
        if param.grad_fn is None and param.is_leaf:
            return Explanation("not_requires_grad", f"param ({_describe(param)}) does not require grad: it was "
                               "created without requires_grad=True, detached (.detach() / .data), or computed "
                               "under torch.no_grad(). Use param.requires_grad_() or wrap it in nn.Parameter.")
        return Explanation("no_graph", f"param ({_describe(param)}) has no graph behind it.")
    if loss.grad_fn is None:
        if loss is param:
            return Explanation("ok", "loss is param itself: its gradient is 1.", grad_norm=1.0)
        return Explanation("loss_without_graph", f"loss ({_describe(loss)}) has no grad_fn: it was computed "
                           "under torch.no_grad() / inference_mode, from detached tensors, or through a "
                           "non-differentiable op (argmax, comparisons, .long(), .item() and back). "
                           "No gradient can reach any parameter.")

    target, target_nr = _target_of(param)
    nodes = _walk(loss.grad_fn)
    reach = _reaching(nodes, param, target, target_nr)
    if not reach:
        where = _uses_detached(nodes, param)
        if where is not None:
            return Explanation("detached", f"param's values are used by {where}, but through a detached copy "
                               "(.detach(), .data, or a tensor made from it under no_grad), so the graph has no "
                               "edge back to param. Use param itself.")
        return Explanation("not_used", "param is not part of loss's graph: it is never used to compute loss, or "
                           "only under torch.no_grad(), through .detach(), or through a non-differentiable op "
                           "(argmax, comparisons, integer casts). "
                           f"The graph behind loss has {len(nodes)} nodes and none of them leads to param.")
    path = _path(loss.grad_fn, nodes, param, target, target_nr) or []

    released = any(getattr(n, "_released", False) for nid, (n, _) in nodes.items() if nid in reach)
    if released:
        return Explanation("graph_freed", "param is reachable from loss, but the graph's saved tensors were "
                           "freed by an earlier backward(); call explain before backward() or use "
                           "backward(retain_graph=True).", path)

    try:
        (g,) = _grad(loss, param, grad_outputs=None if loss.numel() == 1 else loss.detach() * 0 + 1,
                     retain_graph=True, allow_unused=True)
    except RuntimeError as e:
        return Explanation("graph_freed", f"param is reachable from loss, but its gradient could not be "
                           f"computed: {e}", path)
    norm = None if g is None else float((g.detach().double() ** 2).sum().item() ** 0.5)
    if norm:
        return Explanation("ok", f"the gradient reaches param (norm {norm:.4g}) along {len(path) - 1} graph "
                           "edge(s).", path, norm)

    # zero gradient: find the nodes that block every path from loss to param
    blocked = {}
    for nid in reach:
        node, kids = nodes[nid]
        for i, kid, nr in kids:
            if id(kid) in reach or _is_target(kid, nr, param, target, target_nr):
                why = _blocked(node, i)
                if why is not None:
                    blocked[(nid, i)] = (why, node.name())
    if blocked and _path(loss.grad_fn, nodes, param, target, target_nr, skip=frozenset(blocked)) is None:
        reasons = list(dict.fromkeys(why for why, _ in blocked.values()))
        names = list(dict.fromkeys(name for _, name in blocked.values()))
        text = "; ".join(_BLOCK_TEXT[r] for r in reasons)
        return Explanation(reasons[0], f"the gradient of loss with respect to param is zero: every path from "
                           f"loss to param goes through {text} (at {', '.join(names)}).", path, 0.0, names)
    return Explanation("zero_gradient", "param is connected to loss but its gradient is exactly zero, and no "
                       "single op explains it (the loss may be locally constant in param, e.g. through "
                       "rounding, sign, a clamp past its bounds, or gradients that cancel).", path, 0.0)
