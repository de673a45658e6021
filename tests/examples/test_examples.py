"""Smoke tests: every example runs end to end in its --smoke mode and writes its picture."""
from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PNG = b"\x89PNG\r\n\x1a\n"


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(autouse=True)
def _agg():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")


def test_spiral(device, tmp_path):
    out = tmp_path / "spiral.png"
    acc = load("spiral").main(["--smoke", "--device", device, "--out", str(out)])
    assert acc > 0.9
    assert out.read_bytes()[:8] == PNG


def test_spiral_data_is_three_interleaved_arms():
    x, y = load("spiral").make_spiral(50)
    assert x.shape == (150, 2) and np.bincount(y).tolist() == [50, 50, 50]
    assert np.abs(x).max() <= 1.5


@pytest.mark.parametrize("impl", ["sparse", "segment"])
def test_gcn_karate(device, tmp_path, impl):
    pytest.importorskip("networkx")
    pytest.importorskip("scipy")
    out = tmp_path / "k.png"
    acc = load("gcn_karate").main(["--smoke", "--device", device, "--impl", impl, "--out", str(out)])
    assert acc >= 0.8  # the two-labelled-node setting reaches ~0.97
    assert out.read_bytes()[:8] == PNG


def test_gcn_implementations_agree():
    pytest.importorskip("networkx")
    pytest.importorskip("scipy")
    import tinytorch as torch

    mod = load("gcn_karate")
    edge_index, labels, names, g = mod.load_karate()
    assert edge_index.shape == (2, 2 * 78 + 34) and labels.sum() == 17 and len(names) == 2
    n = len(labels)
    a, b = mod.build_graph(edge_index, n, "sparse", "cpu"), mod.build_graph(edge_index, n, "segment", "cpu")
    layer = mod.GCNLayer(5, 3)
    h = torch.randn(n, 5)
    np.testing.assert_allclose(layer(h, a).detach().numpy(), layer(h, b).detach().numpy(), atol=1e-5)
    # the dense formula D^-1/2 (A + I) D^-1/2 H W
    adj = np.zeros((n, n))
    adj[edge_index[1], edge_index[0]] = 1.0
    d = adj.sum(1) ** -0.5
    want = (d[:, None] * adj * d[None, :]) @ layer.linear(h).detach().numpy().astype(np.float64)
    np.testing.assert_allclose(layer(h, a).detach().numpy(), want, atol=1e-5)


def _tiny_idx(root: pathlib.Path):
    from tinytorch.utils.data import write_idx

    g = np.random.default_rng(0)
    for prefix, n in (("train", 96), ("t10k", 32)):
        labels = g.integers(0, 10, n).astype(np.uint8)
        imgs = g.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for i, c in enumerate(labels):  # a bright bar whose position is the label: learnable
            imgs[i, 2 + 2 * c: 4 + 2 * c, 4:24] = 255
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz", imgs)
        write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", labels)


def test_mnist_on_a_synthetic_idx_set(device, tmp_path):
    _tiny_idx(tmp_path)
    out = tmp_path / "m.png"
    acc = load("mnist").main(["--data", str(tmp_path), "--smoke", "--no-progress", "--device", device,
                              "--out", str(out)])
    assert 0.0 <= acc <= 1.0
    assert out.read_bytes()[:8] == PNG


def test_mnist_without_files_says_what_to_put_where(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        load("mnist").main(["--data", str(tmp_path / "nothing")])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "train-images-idx3-ubyte" in err and "nothing" in err and "never downloads" in err


def test_char_transformer(device, tmp_path):
    out = tmp_path / "c.png"
    loss = load("char_transformer").main(["--smoke", "--device", device, "--out", str(out)])
    assert loss < 3.5  # from ln(50) ~ 3.9 at the start
    assert out.read_bytes()[:8] == PNG


def test_custom_op(device, tmp_path):
    out = tmp_path / "o.png"
    mse = load("custom_op").main(["--smoke", "--device", device, "--out", str(out)])
    assert mse < 0.3
    assert out.read_bytes()[:8] == PNG


def test_custom_op_gradcheck_catches_a_wrong_backward():
    import tinytorch as torch

    mod = load("custom_op")

    class Wrong(mod.Swish):
        @staticmethod
        def backward(ctx, grad):
            gx, gb = mod.Swish.backward(ctx, grad)
            return gx * 1.01, gb

    x = torch.randn(3, dtype=torch.float64, requires_grad=True)
    b = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(mod.swish, (x, b))
    with pytest.raises(torch.autograd.GradcheckError):
        torch.autograd.gradcheck(Wrong.apply, (x, b))


def test_spiral_runs_under_pytorch(tmp_path):
    """The spiral example uses no tinytorch-only API: swapping the imports runs it on PyTorch."""
    pytest.importorskip("torch")
    code = (EXAMPLES / "spiral.py").read_text().replace("import tinytorch as torch", "import torch").replace(
        "import tinytorch.nn as nn", "import torch.nn as nn").replace(
        "import tinytorch.nn.functional as F", "import torch.nn.functional as F").replace(
        "from tinytorch.utils.data import", "from torch.utils.data import")
    assert "tinytorch" not in code.split('"""', 2)[2]
    ns = {"__name__": "spiral_under_torch", "__file__": str(EXAMPLES / "spiral.py")}
    exec(compile(code, "spiral_torch.py", "exec"), ns)  # noqa: S102 - our own script
    assert ns["main"](["--epochs", "5", "--device", "cpu", "--no-plot"]) > 0.4
