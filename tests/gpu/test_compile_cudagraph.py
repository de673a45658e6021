"""``tinytorch.compile(fn, mode="reduce-overhead")`` on CUDA replays through CUDA graphs (issue #18, CUDA part).

Marked ``gpu``: without a GPU they run on the strict CuPy stand-in (tests/cupy_standin), whose captures
record launches and run nothing until a replay, and which refuses host syncs during a capture.
"""
from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch._compile.cudagraph import WARMUP

pytestmark = [pytest.mark.gpu, pytest.mark.usefixtures("no_capture_left")]
N_STEPS = WARMUP + 4  # warm-up calls, the capture, then replays


def _np(t):
    return t.detach().cpu().numpy()


def _data(n, shape, classes, seed):
    rng = np.random.default_rng(seed)
    xs = [torch.tensor(rng.standard_normal((n,) + shape), dtype=torch.float32, device="cuda") for _ in range(N_STEPS)]
    ys = [torch.tensor(rng.integers(0, classes, n), device="cuda") for _ in range(N_STEPS)]
    return xs, ys


def _mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))


def _cnn():
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 3 * 3, 3))


class _Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.block(x).mean(1))


def _opt(kind, params):
    if kind == "sgd":
        return torch.optim.SGD(params, lr=0.05, momentum=0.9)
    return torch.optim.AdamW(params, lr=0.01, capturable=True)


def _run(make, kind, xs, ys, compiled):
    torch.manual_seed(0)
    model = make().to("cuda")
    opt = _opt(kind, model.parameters())

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    fn = torch.compile(step, mode="reduce-overhead") if compiled else step
    losses = [float(fn(x, y)) for x, y in zip(xs, ys)]
    return losses, [_np(p) for p in model.parameters()], fn


@pytest.mark.parametrize("kind", ["sgd", "adamw"])
@pytest.mark.parametrize("make,shape", [(_mlp, (6,)), (_cnn, (2, 6, 6)), (_Encoder, (5, 8))],
                         ids=["mlp", "cnn", "encoder"])
def test_compiled_training_step_equals_eager(make, shape, kind):
    xs, ys = _data(4, shape, 3, seed=1)
    eager_losses, eager_params, _ = _run(make, kind, xs, ys, compiled=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback: every step after the warm-up is the graph's
        losses, params, fn = _run(make, kind, xs, ys, compiled=True)
    cg = fn._cudagraphs
    assert cg.captures == 1 and cg.replays == N_STEPS - WARMUP - 1
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-5, atol=1e-6)
    for a, b in zip(params, eager_params):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_outputs_are_static_and_overwritten_by_the_next_replay():
    torch.manual_seed(0)
    model = nn.Linear(3, 2).to("cuda")
    fn = torch.compile(model, mode="reduce-overhead")
    xs = [torch.randn(4, 3, device="cuda") for _ in range(WARMUP + 3)]
    with torch.no_grad():
        outs, kept = [], []
        for x in xs:
            outs.append(fn(x))
            kept.append(outs[-1].clone())  # clone() keeps a result
        expected = [_np(model(x)) for x in xs]
        assert outs[-1] is outs[-2] is outs[-3]  # one static output tensor, rewritten by every replay
        np.testing.assert_allclose(_np(outs[-2]), expected[-1], rtol=1e-6)  # holds the last call's values
        assert not np.allclose(expected[-2], expected[-1])
        for k, e in zip(kept, expected):
            np.testing.assert_allclose(_np(k), e, rtol=1e-6)
        for o, e in zip(outs[:WARMUP], expected):  # eager warm-up results are their own tensors
            np.testing.assert_allclose(_np(o), e, rtol=1e-6)


def test_batch_size_and_eval_change_recapture():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).to("cuda")
    fn = torch.compile(model, mode="reduce-overhead")
    cg = fn._compiled_call._cudagraphs
    with torch.no_grad():
        for n, train in [(4, True), (6, True), (4, False)]:
            model.train(train)
            for _ in range(WARMUP + 2):
                x = torch.randn(n, 3, device="cuda")
                ref = _np(nn.functional.batch_norm(model[0](x), model[1].running_mean.clone(),
                                                   model[1].running_var.clone(), model[1].weight, model[1].bias,
                                                   training=train))
                np.testing.assert_allclose(_np(fn(x)), ref, rtol=1e-5, atol=1e-6)
    assert cg.captures == 3 and cg.replays == 3


def test_host_sync_inside_falls_back_with_a_warning():
    torch.manual_seed(0)
    model = _mlp().to("cuda")
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    seen = collections.deque()  # not a guarded value (a list of floats would change the guard key per call)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        seen.append(loss.item())  # a host sync: breaks a capture
        loss.backward()
        opt.step()
        return loss

    xs, ys = _data(4, (6,), 3, seed=2)
    torch.manual_seed(0)
    ref_model = _mlp().to("cuda")
    ref_opt = torch.optim.SGD(ref_model.parameters(), lr=0.1)
    fn = torch.compile(step, mode="reduce-overhead")
    with pytest.warns(UserWarning, match="capturing the call failed"):
        for x, y in zip(xs, ys):
            fn(x, y)
            ref_opt.zero_grad()
            F.cross_entropy(ref_model(x), y).backward()
            ref_opt.step()
    assert len(seen) == N_STEPS  # every call ran once, eagerly (the aborted capture raised at .item())
    for a, b in zip(model.parameters(), ref_model.parameters()):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("why,build", [
    ("step count on the host", lambda ps: (torch.optim.Adam(ps, lr=0.01), None)),
    ("LR scheduler", lambda ps: (lambda o: (o, torch.optim.lr_scheduler.StepLR(o, 1, 0.5)))(
        torch.optim.SGD(ps, lr=0.1))),
])
def test_host_state_falls_back_to_eager(why, build):
    torch.manual_seed(0)
    model = _mlp().to("cuda")
    opt, sched = build(model.parameters())
    torch.manual_seed(0)
    ref_model = _mlp().to("cuda")
    ref_opt, ref_sched = build(ref_model.parameters())

    def step(x, y, m=model, o=opt, s=sched):
        o.zero_grad()
        loss = F.cross_entropy(m(x), y)
        loss.backward()
        o.step()
        if s is not None:
            s.step()
        return loss

    fn = torch.compile(step, mode="reduce-overhead")
    xs, ys = _data(4, (6,), 3, seed=3)
    with pytest.warns(UserWarning, match=why):
        for x, y in zip(xs, ys):
            a = float(fn(x, y))
            b = float(step(x, y, ref_model, ref_opt, ref_sched))
            assert a == pytest.approx(b, rel=1e-5)
    assert fn._cudagraphs.captures == 0


def test_forward_whose_result_keeps_its_graph_falls_back():
    model = _mlp().to("cuda")
    fn = torch.compile(model, mode="reduce-overhead")
    x = torch.randn(4, 6, device="cuda")
    with pytest.warns(UserWarning, match="keeps its autograd graph"):
        for _ in range(WARMUP + 2):
            out = fn(x)
            out.sum().backward()  # eager: the graph is there
    assert out.grad_fn is not None


def test_cpu_input_mixed_in_falls_back():
    model = nn.Linear(3, 2).to("cuda")

    def f(x, scale):
        return model(x) * scale.to("cuda")

    fn = torch.compile(f, mode="reduce-overhead")
    x, s = torch.randn(2, 3, device="cuda"), torch.tensor(2.0)
    with torch.no_grad(), pytest.warns(UserWarning, match="CPU tensor"):
        out = fn(x, s)
    np.testing.assert_allclose(_np(out), _np(model(x)) * 2, rtol=1e-6)


def test_replaced_grad_between_calls_falls_back_not_wrong():
    torch.manual_seed(0)
    model = nn.Linear(3, 1).to("cuda")
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def step(x):  # accumulates into .grad: the graph must read what the previous call left
        model(x).sum().backward()
        opt.step()

    fn = torch.compile(step, mode="reduce-overhead")
    torch.manual_seed(0)
    ref = nn.Linear(3, 1).to("cuda")
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    x = torch.randn(4, 3, device="cuda")
    for _ in range(WARMUP + 3):
        fn(x)
        ref(x).sum().backward()
        ref_opt.step()
    np.testing.assert_allclose(_np(model.weight), _np(ref.weight), rtol=1e-5, atol=1e-6)
    assert fn._cudagraphs.replays == 2
    model.weight.grad = torch.zeros_like(model.weight)  # a tensor the graph never saw
    ref.weight.grad = torch.zeros_like(ref.weight)
    with pytest.warns(UserWarning, match="replaced between calls"):
        fn(x)
    ref(x).sum().backward()
    ref_opt.step()
    np.testing.assert_allclose(_np(model.weight), _np(ref.weight), rtol=1e-5, atol=1e-6)


def test_default_mode_still_runs_cuda_eagerly():
    model = nn.Linear(3, 2).to("cuda")
    fn = torch.compile(model)
    x = torch.randn(2, 3, device="cuda")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(4):
            np.testing.assert_allclose(_np(fn(x)), _np(model(x)), rtol=1e-6)
    assert fn._compiled_call._cudagraphs is None


def test_compiled_eval_forward_between_compiled_train_steps():
    # the eval graph leaves the parameters' .grad alone, so the train step's graph keeps replaying
    xs, ys = _data(4, (6,), 3, seed=4)
    torch.manual_seed(0)
    ref = _mlp().to("cuda")
    ref_opt = _opt("adamw", ref.parameters())
    torch.manual_seed(0)
    model = _mlp().to("cuda")
    opt = _opt("adamw", model.parameters())

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    train, evaluate = torch.compile(step, mode="reduce-overhead"), torch.compile(model, mode="reduce-overhead")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x, y in zip(xs, ys):
            loss = float(train(x, y))
            ref_opt.zero_grad()
            ref_loss = F.cross_entropy(ref(x), y)
            ref_loss.backward()
            ref_opt.step()
            assert loss == pytest.approx(float(ref_loss), rel=1e-5)
            with torch.no_grad():
                np.testing.assert_allclose(_np(evaluate(x)), _np(ref(x)), rtol=1e-5, atol=1e-6)
    assert train._cudagraphs.replays == N_STEPS - WARMUP - 1
    assert evaluate._compiled_call._cudagraphs.replays == N_STEPS - WARMUP - 1
    for a, b in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(_np(a.grad), _np(b.grad), rtol=1e-5, atol=1e-6)


def test_dropout_in_training_falls_back_and_changed_lr_recaptures():
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5)).to("cuda")
    fn = torch.compile(model, mode="reduce-overhead")
    x = torch.randn(2, 3, device="cuda")
    with torch.no_grad(), pytest.warns(UserWarning, match="Dropout in training mode"):
        fn(x)
    assert fn._compiled_call._cudagraphs.captures == 0

    torch.manual_seed(0)
    lin = nn.Linear(3, 1).to("cuda")
    opt = torch.optim.SGD(lin.parameters(), lr=0.1)
    torch.manual_seed(0)
    ref = nn.Linear(3, 1).to("cuda")
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1)

    def step(x, m=lin, o=opt):
        o.zero_grad()
        m(x).square().mean().backward()
        o.step()

    fn = torch.compile(step, mode="reduce-overhead")
    for lr in (0.1, 0.01):  # a graph bakes lr in: a new lr is a new guard key, captured again
        opt.param_groups[0]["lr"] = ref_opt.param_groups[0]["lr"] = lr
        for _ in range(WARMUP + 2):
            fn(x)
            step(x, ref, ref_opt)
    np.testing.assert_allclose(_np(lin.weight), _np(ref.weight), rtol=1e-5, atol=1e-6)
    assert fn._cudagraphs.captures == 2 and fn._cudagraphs.replays == 2


def test_in_place_change_of_an_input_falls_back():
    def f(x):
        x.mul_(2.0)
        return x + 1.0

    fn = torch.compile(f, mode="reduce-overhead")
    x = torch.ones(3, device="cuda")
    with pytest.warns(UserWarning, match="changes an input in place"):
        for _ in range(WARMUP + 2):
            fn(x)
    np.testing.assert_allclose(_np(x), np.full(3, 2.0 ** (WARMUP + 2)))
