"""End-to-end workflows on CUDA against the same workflow on the CPU: training loops per layer family,
every optimizer with a scheduler, checkpoints with every kind of ``map_location``, DataLoader workers,
``Module.to`` round trips and RNG seeding.

Like tests/gpu/test_cuda_models.py these take the ``device`` fixture; without a GPU the ``cuda`` cases run on
the strict CuPy stand-in, so any host/device mix-up in a workflow fails here.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest

import tinytorch as torch
from tinytorch import nn
import tinytorch.nn.functional as F


def _np(t):
    return t.detach().cpu().numpy()


class _Tok(nn.Module):
    """Embedding -> GRU -> Linear: the sequence family (embedding indices on the device, recurrent layers)."""

    def __init__(self):
        super().__init__()
        self.emb, self.rnn, self.head = nn.Embedding(7, 6), nn.GRU(6, 5, batch_first=True), nn.Linear(5, 3)

    def forward(self, x):
        return self.head(self.rnn(self.emb(x))[0][:, -1])


FAMILIES = {
    "mlp": (lambda: nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Dropout(0.0), nn.Linear(8, 3)),
            lambda g: g.standard_normal((5, 6))),
    "conv": (lambda: nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2),
                                   nn.AvgPool2d(1), nn.Flatten(), nn.Linear(12, 3)),
             lambda g: g.standard_normal((5, 2, 4, 4))),
    "recurrent": (_Tok, lambda g: g.integers(0, 7, (5, 4))),
    "lstm_rnn": (lambda: nn.Sequential(nn.LSTM(3, 4, batch_first=True)), None),
    "attention": (lambda: nn.Sequential(nn.TransformerEncoderLayer(6, 2, 12, dropout=0.0, batch_first=True),
                                        nn.Flatten(), nn.LayerNorm(18), nn.Linear(18, 3)),
                  lambda g: g.standard_normal((5, 3, 6))),
}


def _train(make, data, device, steps=3):
    torch.manual_seed(0)
    model = make().double().to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    g = np.random.default_rng(1)
    x = torch.tensor(data(g), device=device)
    if x.dtype.is_floating_point:
        x = x.double()
    t = torch.tensor(g.integers(0, 3, 5), device=device)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), t)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [_np(p) for p in model.parameters()]


@pytest.mark.parametrize("family", [f for f in FAMILIES if FAMILIES[f][1] is not None])
def test_training_loop_per_layer_family(device, family):
    make, data = FAMILIES[family]
    ref_losses, ref_params = _train(make, data, "cpu")
    losses, params = _train(make, data, device)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-9)
    for a, b in zip(params, ref_params):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


OPTIMIZERS = {
    "SGD": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2),
    "Adam": lambda ps: torch.optim.Adam(ps, lr=0.05, amsgrad=True),
    "AdamW": lambda ps: torch.optim.AdamW(ps, lr=0.05),
    "RMSprop": lambda ps: torch.optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    "Adagrad": lambda ps: torch.optim.Adagrad(ps, lr=0.1),
    "Adamax": lambda ps: torch.optim.Adamax(ps, lr=0.05),
    "NAdam": lambda ps: torch.optim.NAdam(ps, lr=0.05),
    "RAdam": lambda ps: torch.optim.RAdam(ps, lr=0.05),
    "ASGD": lambda ps: torch.optim.ASGD(ps, lr=0.05, t0=2),
    "Rprop": lambda ps: torch.optim.Rprop(ps, lr=0.01),
    "SparseAdam": lambda ps: torch.optim.SparseAdam(ps, lr=0.05),
    "LBFGS": lambda ps: torch.optim.LBFGS(ps, lr=0.5, max_iter=3, line_search_fn="strong_wolfe"),
    "Adadelta": lambda ps: torch.optim.Adadelta(ps, lr=1.0, weight_decay=1e-2),
}
SCHEDULERS = {
    "SGD": lambda o: torch.optim.lr_scheduler.StepLR(o, 2, gamma=0.5),
    "Adam": lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 5),
    "AdamW": lambda o: torch.optim.lr_scheduler.OneCycleLR(o, 0.1, total_steps=6),
    "RMSprop": lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9),
    "Adagrad": lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda e: 1.0 / (1 + e)),
    "Adamax": lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [1, 3]),
    "NAdam": lambda o: torch.optim.lr_scheduler.LinearLR(o, 0.5, total_iters=3),
    "RAdam": lambda o: torch.optim.lr_scheduler.PolynomialLR(o, 5),
    "ASGD": lambda o: torch.optim.lr_scheduler.ConstantLR(o, 0.5, total_iters=2),
    "Rprop": lambda o: torch.optim.lr_scheduler.CyclicLR(o, 0.005, 0.02, step_size_up=2, cycle_momentum=False),
    "SparseAdam": lambda o: torch.optim.lr_scheduler.StepLR(o, 3),
    "LBFGS": lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.8),
    "Adadelta": lambda o: torch.optim.lr_scheduler.StepLR(o, 1.0, gamma=0.7),
}


def test_every_optimizer_is_covered():
    missing = {name for name in torch.optim.__all__ if isinstance(getattr(torch.optim, name), type)
               and issubclass(getattr(torch.optim, name), torch.optim.Optimizer)} - set(OPTIMIZERS) - {"Optimizer"}
    assert not missing, missing


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_with_a_scheduler(device, name):
    def run(where):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2)).double().to(where)
        opt = OPTIMIZERS[name](model.parameters())
        sched = SCHEDULERS[name](opt)
        x = torch.tensor(np.linspace(-1, 1, 12).reshape(3, 4), device=where)
        def closure():  # every optimizer takes one; LBFGS needs it
            opt.zero_grad()
            loss = ((model(x) - 0.3) ** 2).mean()
            loss.backward()
            return loss

        for _ in range(5):
            opt.step(closure)
            sched.step()
        state = [v for s in opt.state.values() for v in s.values() if isinstance(v, torch.Tensor) and v.dim() > 0]
        assert all(v.device.type == torch.device(where).type for v in state), name
        return [_np(p) for p in model.parameters()], opt.param_groups[0]["lr"]

    ref, ref_lr = run("cpu")
    got, lr = run(device)
    assert lr == pytest.approx(ref_lr)
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("where", ["cpu", "cuda", "cuda:0", "device", "dict", "callable", "none"])
def test_save_load_with_every_map_location(device, where, tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).to(device)
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(5, 3, device=device)).sum().backward()
    opt.step()
    path = tmp_path / "ck.pt"
    torch.save({"model": model.state_dict(), "opt": opt.state_dict()}, path)
    if device == "cpu" and where.startswith("cuda"):
        pytest.skip("loads to CUDA: covered by the cuda case")
    target = {"cpu": "cpu", "cuda": "cuda", "cuda:0": "cuda:0", "device": torch.device(device),
              "dict": {"cuda:0": "cpu", "cpu": "cpu"}, "callable": lambda storage, loc: storage,
              "none": None}[where]
    ck = torch.load(path, map_location=target)
    want = {"cpu": "cpu", "cuda": "cuda", "cuda:0": "cuda", "device": device, "dict": "cpu",
            "callable": "cpu", "none": device}[where]  # torch: `lambda storage, loc: storage` loads to the CPU
    for k, v in ck["model"].items():
        assert v.device.type == want, (k, v.device)
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).to(want)
    fresh.load_state_dict(ck["model"])
    fopt = torch.optim.Adam(fresh.parameters())
    fopt.load_state_dict(ck["opt"])
    for (k, a), (_, b) in zip(fresh.state_dict().items(), model.state_dict().items()):
        np.testing.assert_array_equal(_np(a), _np(b), err_msg=k)
    x = torch.randn(5, 3, device=want)
    fresh(x).sum().backward()
    fopt.step()  # optimizer state followed the parameters' device


def test_dataloader_with_workers_to_device(device):
    xs = torch.arange(24, dtype=torch.float32).reshape(12, 2)
    ys = torch.arange(12)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xs, ys), batch_size=5, num_workers=2,
                                         shuffle=True, generator=torch.Generator().manual_seed(0))
    got = []
    for xb, yb in loader:
        xb, yb = xb.to(device, non_blocking=True), yb.to(device)
        assert xb.device.type == device and yb.device.type == device
        got.append(np.concatenate([_np(yb)[:, None], _np(xb * 1)], 1))
    got = np.concatenate(got)
    assert sorted(got[:, 0].tolist()) == list(range(12))
    np.testing.assert_array_equal(got[:, 1:], _np(xs)[got[:, 0].astype(int)])


def test_module_to_round_trip(device):
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    ref = copy.deepcopy(m)
    m.to(device, torch.float64)
    assert all(t.device.type == device and t.dtype == torch.float64
               for t in list(m.parameters()) + [b for b in m.buffers() if b.dtype.is_floating_point])
    assert m[1].num_batches_tracked.dtype == torch.int64 and m[1].num_batches_tracked.device.type == device
    m.cpu().float()
    for (k, a), (_, b) in zip(m.state_dict().items(), ref.state_dict().items()):
        assert a.device.type == "cpu" and a.dtype == b.dtype, k
        np.testing.assert_array_equal(_np(a), _np(b))
    if device == "cuda":
        m.cuda()
        assert all(p.is_cuda for p in m.parameters())


def test_rng_seeding_on_device(device):
    torch.manual_seed(123)
    a = torch.randn(4, device=device), torch.rand(3, device=device), torch.randint(0, 9, (5,), device=device)
    d1 = F.dropout(torch.ones(8, device=device), 0.5)
    torch.manual_seed(123)
    b = torch.randn(4, device=device), torch.rand(3, device=device), torch.randint(0, 9, (5,), device=device)
    d2 = F.dropout(torch.ones(8, device=device), 0.5)
    for x, y in zip(a + (d1,), b + (d2,)):
        assert x.device.type == device
        np.testing.assert_array_equal(_np(x), _np(y))
    assert not np.array_equal(_np(torch.randn(4, device=device)), _np(a[0]))
    g = torch.Generator(device=device).manual_seed(5)
    np.testing.assert_array_equal(_np(torch.randn(3, generator=g, device=device)),
                                  _np(torch.randn(3, generator=torch.Generator(device=device).manual_seed(5),
                                                  device=device)))
