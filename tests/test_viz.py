"""tinytorch.viz: DOT source and text tree of the autograd graph."""
from __future__ import annotations

import shutil

import pytest

import tinytorch
import tinytorch.nn as nn
from tinytorch import viz


def _model_loss():
    tinytorch.manual_seed(0)
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    return m, m(tinytorch.randn(4, 2)).pow(2).mean()


def test_dot_has_a_node_per_grad_fn_and_leaf():
    m, loss = _model_loss()
    src = viz.draw_graph(loss, params=dict(m.named_parameters())).source
    assert src.startswith("digraph autograd {") and src.rstrip().endswith("}")
    for name in ("MeanBackward0", "ReluBackward0", r"0.weight\n(3, 2) float32 cpu", r"2.bias\n(1,) float32 cpu"):
        assert name in src
    assert src.count("LinearBackward0") == 2
    # 4 parameter edges + 4 op edges (mean<-pow<-lin2<-relu<-lin1) + 1 to the output node
    assert src.count("->") == 9


def test_shared_nodes_are_drawn_once():
    x = tinytorch.randn(3, requires_grad=True)
    h = x.exp()
    y = (h * h + h).sum()
    src = viz.draw_graph(y).source
    assert src.count("ExpBackward0") == 1 and src.count("(3,) float32 cpu") == 1
    tree = viz.graph_repr(y)
    assert "ExpBackward0 (shared, shown above)" in tree


def test_graph_repr_tree():
    m, loss = _model_loss()
    tree = viz.graph_repr(loss, params=dict(m.named_parameters())).splitlines()
    assert tree[0] == "MeanBackward0"
    assert tree[1] == "└── PowBackward0"  # torch's name for tensor ** scalar
    assert any(line.strip().endswith("0.weight (3, 2) float32 cpu") for line in tree)
    assert len(tree) == 9


def test_deep_graph_does_not_recurse():
    x = tinytorch.ones(1, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    assert viz.graph_repr(y).count("MulBackward0") == 3000
    assert viz.draw_graph(y).source.count("MulBackward0") == 3000


def test_no_graph_and_errors():
    assert "does not require grad" in viz.graph_repr(tinytorch.ones(2))
    assert "->" not in viz.draw_graph(tinytorch.ones(2)).source
    with pytest.raises(ValueError, match="format must be 'png' or 'svg'"):
        viz.draw_graph(tinytorch.ones(1), format="pdf")
    with pytest.raises(TypeError, match="expected a Tensor"):
        viz.graph_repr([1.0])


def test_render_without_dot_names_graphviz(monkeypatch, tmp_path):
    pytest.importorskip("graphviz")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    _, loss = _model_loss()
    with pytest.raises(RuntimeError, match="'dot' program.*apt-get install graphviz.*source"):
        viz.draw_graph(loss, path=tmp_path / "g")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
def test_render_png(tmp_path):
    pytest.importorskip("graphviz")
    _, loss = _model_loss()
    out = viz.draw_graph(loss).render(tmp_path / "g.png")
    assert open(out, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
