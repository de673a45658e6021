"""A graph convolutional network (Kipf & Welling, 2017) on Zachary's karate club.

Semi-supervised node classification: the club split in two factions (Mr. Hi's and the
officer's); only ONE member of each faction is labelled (nodes 0 and 33) and the network
must infer the other 32 from the friendship graph alone. Nodes have no features (the
identity matrix), as in the paper's karate-club illustration.

One GCN layer is  H' = act(Â H W)  with  Â = D^-1/2 (A + I) D^-1/2  (self-loops, symmetric
normalisation). The product Â (H W) is computed two ways, both built on tinytorch's sparse ops:

* ``--impl sparse``:  ``torch.sparse.mm(A_hat, H @ W)`` with ``A_hat = torch.sparse_coo_tensor(...)``;
* ``--impl segment``: message passing, each edge (src -> dst) sends ``norm * (H W)[src]`` and
  ``torch.segment_sum`` adds the messages up per destination node.

    python examples/gcn_karate.py                    # writes examples/images/gcn_karate.png
    python examples/gcn_karate.py --impl segment --smoke --out /tmp/k.png

Needs networkx (the graph), scipy (sparse products on the CPU) and matplotlib.
"""
from __future__ import annotations

import argparse
import pathlib

import numpy as np

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.nn.functional as F

HERE = pathlib.Path(__file__).resolve().parent


def load_karate(labels: str = "faction"):
    """Edges (2, E) with both directions and self-loops, labels (N,), class names, and the graph.

    ``labels="faction"``: the club's real split (0 = Mr. Hi, 1 = Officer).
    ``labels="community"``: the 4 modularity communities (Louvain, seed 0), the 4-class setting
    of the GCN paper's karate-club figure.
    """
    import networkx as nx

    g = nx.karate_club_graph()
    n = g.number_of_nodes()
    edges = np.array(list(g.edges()), dtype=np.int64).T               # (2, 78), undirected
    loops = np.arange(n, dtype=np.int64)
    src = np.concatenate([edges[0], edges[1], loops])                   # both directions + self-loops
    dst = np.concatenate([edges[1], edges[0], loops])
    if labels == "faction":
        y = np.array([0 if g.nodes[i]["club"] == "Mr. Hi" else 1 for i in range(n)], dtype=np.int64)
        names = ["Mr. Hi's faction", "Officer's faction"]
    else:
        communities = sorted((sorted(c) for c in nx.community.louvain_communities(g, seed=0)), key=lambda c: c[0])
        y = np.zeros(n, dtype=np.int64)
        for k, members in enumerate(communities):
            y[members] = k
        names = [f"community {k}" for k in range(len(communities))]
    return np.stack([src, dst]), y, names, g


def one_per_class(labels: np.ndarray, g) -> list[int]:
    """The labelled nodes: 0 and 33 for the factions, the best-connected member of each community otherwise."""
    if labels.max() == 1:
        return [0, 33]  # the instructor and the administrator, as in the classic setting
    degree = np.array([g.degree(i) for i in range(len(labels))])
    return [int(max(np.flatnonzero(labels == k), key=lambda i: degree[i])) for k in range(labels.max() + 1)]


class GCNLayer(nn.Module):
    """H' = Â H W (+ b), with Â given either as a sparse matrix or as an edge list with weights."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, h, graph):
        hw = self.linear(h)                                              # (N, out)
        if graph["impl"] == "sparse":
            return torch.sparse.mm(graph["a_hat"], hw)
        src, dst, norm = graph["src"], graph["dst"], graph["norm"]
        messages = hw[src] * norm.unsqueeze(1)                           # (E, out): one message per edge
        return torch.segment_sum(messages, dst, hw.shape[0])             # (N, out): summed per destination


class GCN(nn.Module):
    """Three GCN layers down to a 2-D node embedding, then a linear classifier on it."""

    def __init__(self, num_nodes: int, classes: int = 2):
        super().__init__()
        self.gc1 = GCNLayer(num_nodes, 16)
        self.gc2 = GCNLayer(16, 8)
        self.gc3 = GCNLayer(8, 2)
        self.classify = nn.Linear(2, classes)

    def forward(self, x, graph):
        h = torch.tanh(self.gc1(x, graph))
        h = torch.tanh(self.gc2(h, graph))
        emb = self.gc3(h, graph)                                         # (N, 2): the picture
        return self.classify(emb), emb


def build_graph(edge_index: np.ndarray, num_nodes: int, impl: str, device):
    """Â = D^-1/2 (A + I) D^-1/2 as what the chosen implementation needs, on ``device``."""
    src = torch.from_numpy(edge_index[0]).to(device)
    dst = torch.from_numpy(edge_index[1]).to(device)
    ones = torch.ones(src.shape[0], device=device)
    deg = torch.segment_sum(ones, dst, num_nodes)                        # degrees, self-loop included
    inv_sqrt = deg.pow(-0.5)
    norm = inv_sqrt[src] * inv_sqrt[dst]                                 # (E,) edge weights of Â
    graph = {"impl": impl, "src": src, "dst": dst, "norm": norm}
    if impl == "sparse":
        graph["a_hat"] = torch.sparse_coo_tensor(torch.stack([dst, src]), norm, (num_nodes, num_nodes))
    return graph


def pick_device(name: str):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def plot(emb, labels, names, g, train_nodes, pred, acc, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = np.array(["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"])
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    for u, v in g.edges():
        ax.plot(emb[[u, v], 0], emb[[u, v], 1], color="#cccccc", lw=0.6, zorder=1)
    wrong = pred != labels
    ax.scatter(emb[:, 0], emb[:, 1], c=colors[labels], s=140, edgecolors="k", linewidths=0.5, zorder=2)
    ax.scatter(emb[train_nodes, 0], emb[train_nodes, 1], s=420, facecolors="none", edgecolors="k", linewidths=2,
               zorder=3, label=f"the {len(train_nodes)} labelled nodes")
    if wrong.any():
        ax.scatter(emb[wrong, 0], emb[wrong, 1], marker="x", color="red", s=80, zorder=4, label="misclassified")
    for i in range(len(labels)):
        ax.annotate(str(i), emb[i], ha="center", va="center", fontsize=6, zorder=5)
    for k, name in enumerate(names):
        ax.scatter([], [], c=colors[k], s=60, label=f"{name} (true)")
    n_test = len(labels) - len(train_nodes)
    ax.set_title(f"GCN 2-D node embedding, karate club\n{len(train_nodes)} labelled nodes; accuracy on the "
                 f"{n_test} others: {acc:.2f}", fontsize=9)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> float:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto", choices=["cpu", "cuda", "auto"])
    p.add_argument("--impl", default="sparse", choices=["sparse", "segment"])
    p.add_argument("--labels", default="faction", choices=["faction", "community"],
                   help="the 2 real factions, or the 4 modularity communities (the paper's figure)")
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--smoke", action="store_true", help="a short run (for tests)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=pathlib.Path, default=HERE / "images" / "gcn_karate.png")
    p.add_argument("--no-plot", action="store_true")
    args = p.parse_args(argv)
    epochs = 100 if args.smoke else args.epochs

    torch.manual_seed(args.seed)
    device = pick_device(args.device)
    edge_index, labels_np, names, g = load_karate(args.labels)
    n = len(labels_np)
    graph = build_graph(edge_index, n, args.impl, device)
    x = torch.eye(n, device=device)                                      # featureless nodes: one-hot ids
    labels = torch.from_numpy(labels_np).to(device)
    labelled = one_per_class(labels_np, g)
    train_nodes = torch.tensor(labelled, device=device)                 # one labelled member per class

    model = GCN(n, classes=len(names)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    for epoch in range(epochs):
        model.train()
        logits, _ = model(x, graph)
        loss = F.cross_entropy(logits[train_nodes], labels[train_nodes])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if (epoch + 1) % max(1, epochs // 5) == 0:
            print(f"epoch {epoch + 1:4d}  loss on the {len(labelled)} labelled nodes {loss.item():.4f}")

    model.eval()
    with torch.no_grad():
        logits, emb = model(x, graph)
    pred = logits.argmax(dim=1).cpu().numpy()
    test = np.setdiff1d(np.arange(n), labelled)
    acc = float((pred[test] == labels_np[test]).mean())
    print(f"accuracy on the {len(test)} unlabelled members: {acc:.3f}")
    if not args.no_plot:
        plot(emb.cpu().numpy(), labels_np, names, g, labelled, pred, acc, args.out)
        print(f"wrote {args.out}")
    return acc


if __name__ == "__main__":
    main()
