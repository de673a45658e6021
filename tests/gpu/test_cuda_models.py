"""Models, optimizers, checkpoints, data and the demo on CUDA, compared with the same thing on the CPU.

Every test takes the ``device`` fixture: on ``cpu`` it compares the CPU with itself (which keeps the
test code itself checked on every machine), on ``cuda`` (marked ``gpu``) it compares the GPU with the
CPU after ``model.to("cuda")``. The op-by-op CUDA coverage is the op registry's (tests/ops/test_registry.py
runs every op's forward, gradcheck, float32 and PyTorch checks on each device); the fused kernels'
own tests are tests/kernels/test_gpu.py.
"""
from __future__ import annotations

import copy
import importlib.util
import pathlib

import numpy as np
import pytest

import tinytorch as torch
from tinytorch import nn
from tinytorch.nn import fusion

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _np(t):
    return t.detach().cpu().numpy()


def _tol(dtype):
    return dict(rtol=1e-9, atol=1e-10) if dtype == torch.float64 else dict(rtol=2e-4, atol=2e-5)


def _compare_model(make, x_np, device, dtype, extra_inputs=(), out_index=None):
    """Forward + backward of ``make()`` on the CPU and on ``device`` from the same weights and inputs."""
    torch.manual_seed(0)
    cpu = make().to(dtype=dtype)
    dev = copy.deepcopy(cpu).to(device)
    results = []
    for model, where in ((cpu, "cpu"), (dev, device)):
        xs = [torch.tensor(a, dtype=dtype, device=where, requires_grad=True) for a in (x_np,) + tuple(extra_inputs)]
        y = model(*xs)
        if out_index is not None:
            y = y[out_index]
        # a fixed, non-uniform upstream gradient so every output element matters
        w = torch.tensor(np.linspace(-1, 1, int(np.prod(tuple(y.shape)))).reshape(tuple(y.shape)), dtype=dtype,
                         device=where)
        (y * w).sum().backward()
        results.append((y, xs, model))
    (y0, xs0, m0), (y1, xs1, m1) = results
    # compare device types: a CUDA tensor reports cuda:0, which is not equal to device("cuda"), as in torch
    assert y1.device.type == device and all(p.device.type == device for p in m1.parameters())
    tol = _tol(dtype)
    np.testing.assert_allclose(_np(y1), _np(y0), **tol)
    for a, b in zip(xs1, xs0):
        np.testing.assert_allclose(_np(a.grad), _np(b.grad), **tol)
    for (name, p1), (_, p0) in zip(m1.named_parameters(), m0.named_parameters()):
        assert p1.grad is not None and p1.grad.device == p1.device, name
        np.testing.assert_allclose(_np(p1.grad), _np(p0.grad), err_msg=name, **tol)
    for (name, b1), (_, b0) in zip(m1.named_buffers(), m0.named_buffers()):
        np.testing.assert_allclose(_np(b1), _np(b0), err_msg=name, **tol)


MODELS = {
    "linear": (lambda: nn.Linear(6, 4), (3, 6), {}),
    "mlp_fused": (lambda: nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 3)),
                  (5, 6), {}),
    "conv_bn_relu": (lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2),
                                           nn.BatchNorm2d(4), nn.ReLU()), (2, 3, 9, 9), {}),
    "lstm": (lambda: nn.LSTM(5, 6, num_layers=2, batch_first=True), (2, 4, 5), {"out_index": 0}),
    "transformer_layer": (lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True),
                          (2, 5, 8), {}),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_matches_cpu(device, rng, name, dtype):
    make, shape, kw = MODELS[name]
    _compare_model(make, rng.standard_normal(shape), device, dtype, **kw)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_multihead_attention_matches_cpu(device, rng, dtype):
    q, k = rng.standard_normal((2, 4, 8)), rng.standard_normal((2, 6, 8))
    _compare_model(lambda: nn.MultiheadAttention(8, 2, batch_first=True), q, device, dtype,
                   extra_inputs=(k, k), out_index=0)


def test_optimizer_state_stays_on_the_parameter_device(device):
    torch.manual_seed(0)
    model = nn.Linear(4, 3).to(device)
    for opt in (torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                torch.optim.Adam(model.parameters(), lr=0.01),
                torch.optim.AdamW(model.parameters(), lr=0.01, fused=True),
                torch.optim.RMSprop(model.parameters(), lr=0.01)):
        for _ in range(2):
            opt.zero_grad()
            model(torch.ones(2, 4, device=device)).sum().backward()
            opt.step()
        for p in model.parameters():
            assert p.device.type == device
            for key, v in opt.state[p].items():
                if isinstance(v, torch.Tensor) and v.dim() > 0:
                    assert v.device == p.device, (type(opt).__name__, key, v.device)


@pytest.mark.real_gpu  # real kernels / memory pool / streams
def test_training_matches_cpu_with_and_without_kernels(device, monkeypatch):
    """A few SGD/Adam steps of a conv net: GPU (fused kernels on, then off) against the CPU."""
    def train(where, kernels_on):
        monkeypatch.setenv("TINYTORCH_CUDA_KERNELS", "1" if kernels_on else "0")
        torch.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 16),
                              nn.GELU(), nn.Linear(16, 3)).double().to(where)
        opt = torch.optim.Adam(model.parameters(), lr=1e-2, fused=True)
        g = np.random.default_rng(1)
        x = torch.tensor(g.standard_normal((5, 2, 6, 6)), device=where)
        t = torch.tensor(g.integers(0, 3, 5), device=where)
        losses = []
        for _ in range(3):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), t)
            loss.backward()
            opt.step()
            losses.append(float(loss.item()))
        return losses, [_np(p) for p in model.parameters()]

    ref_losses, ref_params = train("cpu", True)
    for kernels_on in (True, False):
        losses, params = train(device, kernels_on)
        np.testing.assert_allclose(losses, ref_losses, rtol=1e-8)
        for a, b in zip(params, ref_params):
            np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


@pytest.mark.real_gpu  # real kernels / memory pool / streams
def test_fused_ops_match_unfused_on_device(device, rng, monkeypatch):
    for kernels_on in ("1", "0"):
        monkeypatch.setenv("TINYTORCH_CUDA_KERNELS", kernels_on)
        for act in fusion.ACTIVATIONS:
            x, w, b = (torch.tensor(rng.standard_normal(s), dtype=torch.float32, device=device, requires_grad=True)
                       for s in ((64, 33), (40, 33), (40,)))
            y = fusion.linear_act(x, w, b, act)
            pre = nn.functional.linear(x, w, b)
            want = nn.functional.relu(pre) if act == "relu" else nn.functional.gelu(
                pre, approximate="none" if act == "gelu" else "tanh")
            np.testing.assert_allclose(_np(y), _np(want), rtol=1e-5, atol=1e-6)
            g = torch.tensor(rng.standard_normal((64, 40)), dtype=torch.float32, device=device)
            for a, r in zip(torch.autograd.grad(y, [x, w, b], g), torch.autograd.grad(want, [x, w, b], g)):
                np.testing.assert_allclose(_np(a), _np(r), rtol=1e-4, atol=1e-4)
        x, w, b = (torch.tensor(rng.standard_normal(s), dtype=torch.float32, device=device, requires_grad=True)
                   for s in ((2, 3, 10, 9), (5, 3, 3, 3), (5,)))
        y = fusion.conv2d_relu(x, w, b, padding=1)
        want = nn.functional.relu(nn.functional.conv2d(x, w, b, padding=1))
        np.testing.assert_allclose(_np(y), _np(want), rtol=1e-5, atol=1e-5)
        g = torch.tensor(rng.standard_normal(tuple(want.shape)), dtype=torch.float32, device=device)
        for a, r in zip(torch.autograd.grad(y, [x, w, b], g), torch.autograd.grad(want, [x, w, b], g)):
            np.testing.assert_allclose(_np(a), _np(r), rtol=1e-4, atol=1e-4)


def test_checkpoint_map_location(device, tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    path = tmp_path / "ckpt.pt"
    torch.save(model.state_dict(), path)
    sd = torch.load(path, map_location=device)
    assert all(v.device.type == device for v in sd.values())
    moved = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).to(device)
    moved.load_state_dict(sd)
    for (k, a), (_, b) in zip(moved.state_dict().items(), model.state_dict().items()):
        assert a.device.type == device, k
        np.testing.assert_array_equal(_np(a), _np(b))
    # saved from the device, loaded to the CPU
    torch.save(moved.state_dict(), path)
    back = torch.load(path, map_location="cpu")
    assert all(v.device.type == "cpu" for v in back.values())


def test_dataloader_batch_to_device(device):
    xs = torch.arange(20, dtype=torch.float32).reshape(10, 2)
    ys = torch.arange(10)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xs, ys), batch_size=4, shuffle=False)
    seen = []
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        assert xb.device.type == device and yb.device.type == device and yb.dtype == torch.int64
        seen.append(_np(xb * 2))
    np.testing.assert_array_equal(np.concatenate(seen), _np(xs) * 2)


@pytest.mark.gpu
@pytest.mark.real_gpu  # ~40 s on the CPU stand-in; tests/gpu/test_cuda_workflows.py covers the training path there
def test_digits_demo_on_cuda(capsys):
    pytest.importorskip("sklearn")
    spec = importlib.util.spec_from_file_location("train_digits", ROOT / "examples" / "train_digits.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    acc = demo.main(["--smoke", "--device", "cuda", "--no-progress", "--seed", "0"])
    out = capsys.readouterr().out
    assert acc >= 0.9, out


@pytest.mark.gpu
def test_bfloat16_on_cuda_works_or_says_why():
    x = torch.randn(4, 4).to(torch.bfloat16)
    try:
        y = x.to("cuda")
    except TypeError as e:
        assert "bfloat16" in str(e) and "CuPy" in str(e)
        return
    np.testing.assert_array_equal(_np(y.float()), _np(x.float()))
