"""Pictures of the autograd graph: ``draw_graph`` (Graphviz DOT) and ``graph_repr`` (a text tree).

Example::

    y = model(x).sum()
    print(tinytorch.viz.graph_repr(y, params=dict(model.named_parameters())))
    g = tinytorch.viz.draw_graph(y, params=dict(model.named_parameters()))
    g.source                      # the DOT text, always available
    g.render("graph")             # graph.png, needs the graphviz package and the dot program

Nodes: the output (blue), one box per ``grad_fn`` with its op name (grey), and the leaves that
require grad (green) with their name, shape, dtype and device. Edges point from inputs to
outputs, the direction the forward ran. The walk is iterative (deep graphs are fine).
"""
from __future__ import annotations

import os
import shutil

from .tensor import Tensor

__all__ = ["draw_graph", "graph_repr", "GraphDrawing"]

_INSTALL_HINT = ("install the Graphviz program (apt-get install graphviz, brew install graphviz, or "
                 "conda install graphviz) and the Python package (pip install graphviz)")


def _meta(t) -> str:
    return f"{tuple(t.shape)} {str(t.dtype).replace('tinytorch.', '')} {t.device}"


def _edges(node):
    return getattr(node, "_edges", ()) or ()


def _children(node):
    return [(e[0], e[1]) for e in _edges(node) if e is not None]


def _param_names(params) -> dict[int, str]:
    if params is None:
        return {}
    items = params.items() if isinstance(params, dict) else params
    return {id(t): name for name, t in items}


def _leaf_label(node, names) -> str:
    var = getattr(node, "variable", None)
    if var is None:
        return node.name()
    name = names.get(id(var))
    return f"{name}\n{_meta(var)}" if name else _meta(var)


def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class GraphDrawing:
    """The DOT source of an autograd graph, renderable through Graphviz.

    ``source`` is the DOT text; ``render(path)`` writes ``path.<format>``; in Jupyter the
    drawing shows itself as SVG.
    """

    def __init__(self, source: str, format: str = "png"):  # noqa: A002 - graphviz's name
        self.source = source
        self.format = format

    def _graphviz(self):
        try:
            import graphviz  # optional dependency
        except ImportError as e:
            raise ImportError(f"draw_graph: rendering needs the graphviz Python package: {_INSTALL_HINT}. "
                              "The DOT text is available as .source.") from e
        if shutil.which("dot") is None:
            raise RuntimeError(f"draw_graph: rendering needs the Graphviz 'dot' program, which is not on PATH: "
                               f"{_INSTALL_HINT}. The DOT text is available as .source.")
        return graphviz.Source(self.source, format=self.format)

    def render(self, path: str = "graph") -> str:
        """Write the picture to ``path`` + ``.<format>`` (the extension is added when missing); return its path."""
        path = os.fspath(path)
        stem, ext = os.path.splitext(path)
        if ext.lstrip(".") == self.format:
            path = stem
        src = self._graphviz()
        return src.render(filename=path, cleanup=True)

    def pipe(self) -> bytes:
        """The rendered picture as bytes."""
        return self._graphviz().pipe()

    def _repr_svg_(self):
        try:
            import graphviz  # optional dependency

            return graphviz.Source(self.source, format="svg").pipe(encoding="utf-8")
        except Exception:  # noqa: BLE001 - notebooks fall back to the text repr
            return None

    def __str__(self):
        return self.source

    def __repr__(self):
        return f"GraphDrawing(format={self.format!r}, {self.source.count('->')} edges)"


def _dot(tensor, names, label) -> str:
    lines = ["digraph autograd {", '  rankdir=BT;',
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];']
    out_id = "output"
    lines.append(f'  {out_id} [label="{_escape(label + chr(10) + _meta(tensor))}", fillcolor="#a7c7e7"];')
    root = tensor.grad_fn
    if root is None:
        lines.append("}")
        return "\n".join(lines)
    ids: dict[int, str] = {}

    def node_id(n):
        if id(n) not in ids:
            ids[id(n)] = f"n{len(ids)}"
        return ids[id(n)]

    lines.append(f"  {node_id(root)} -> {out_id};")
    seen = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        nid = node_id(node)
        if getattr(node, "variable", None) is not None:
            lines.append(f'  {nid} [label="{_escape(_leaf_label(node, names))}", fillcolor="#b5e7a0"];')
        else:
            lines.append(f'  {nid} [label="{_escape(node.name())}", fillcolor="#dddddd"];')
        for child, _ in _children(node):
            lines.append(f"  {node_id(child)} -> {nid};")
            if id(child) not in seen:
                stack.append(child)
    lines.append("}")
    return "\n".join(lines)


def draw_graph(tensor, format: str = "png", path=None, params=None, label: str = "output") -> GraphDrawing:  # noqa: A002
    """The autograd graph behind ``tensor`` as Graphviz DOT; rendered to ``path`` when given.

    Args:
        tensor: the output whose graph to draw (usually the loss).
        format: ``"png"`` or ``"svg"``.
        path: when given, render there (``path.<format>``); needs the graphviz package and ``dot``.
        params: ``{name: tensor}`` (e.g. ``dict(model.named_parameters())``) to name the leaves.
        label: the caption of the output node.

    Returns a :class:`GraphDrawing` (``.source`` is the DOT text; ``.render(path)`` draws it).
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(tensor).__name__}")
    if format not in ("png", "svg"):
        raise ValueError(f"draw_graph: format must be 'png' or 'svg', got {format!r}")
    drawing = GraphDrawing(_dot(tensor, _param_names(params), label), format)
    if path is not None:
        drawing.render(path)
    return drawing


def graph_repr(tensor, params=None) -> str:
    """The autograd graph behind ``tensor`` as an indented text tree (nodes met again are marked, not re-expanded).

    Example output::

        SumBackward0
        └── MulBackward0
            ├── weight (3,) float32 cpu
            └── ExpBackward0
                └── x (3,) float32 cpu
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"graph_repr: expected a Tensor, got {type(tensor).__name__}")
    names = _param_names(params)
    root = tensor.grad_fn
    if root is None:
        state = "requires grad (a leaf)" if tensor.requires_grad else "does not require grad"
        return f"<no graph: the tensor {_meta(tensor)} {state}>"

    def text(node):
        if getattr(node, "variable", None) is not None:
            return _leaf_label(node, names).replace("\n", " ")
        return node.name()

    lines = [text(root)]
    seen = {id(root)}
    # (node, prefix for its children); children pushed in reverse so they print in order
    stack = [(child, "", i == len(_children(root)) - 1) for i, (child, _) in enumerate(_children(root))][::-1]
    while stack:
        node, prefix, last = stack.pop()
        branch = "└── " if last else "├── "
        if id(node) in seen and _children(node):
            lines.append(f"{prefix}{branch}{text(node)} (shared, shown above)")
            continue
        seen.add(id(node))
        lines.append(f"{prefix}{branch}{text(node)}")
        kids = _children(node)
        inner = prefix + ("    " if last else "│   ")
        stack.extend([(child, inner, i == len(kids) - 1) for i, (child, _) in enumerate(kids)][::-1])
    return "\n".join(lines)
