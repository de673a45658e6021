"""tinytorch.compile on training loops: replayed forward + eager backward/optimizer is bit-identical to eager.

Each model trains N steps twice from the same seed, eagerly and with ``torch.compile(model)``; losses,
parameters, optimizer state and buffers must agree exactly, and the compiled run must really replay.
"""
import warnings

import numpy as np
import pytest

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.nn.functional as F


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.drop = nn.Linear(8, 16), nn.Linear(16, 4), nn.Dropout(0.3)

    def forward(self, x):
        return self.fc2(self.drop(torch.tanh(self.fc1(x))))


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.bn, self.drop = nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Dropout(0.25)
        self.fc = nn.Linear(4 * 6 * 6, 10)

    def forward(self, x):
        return self.fc(self.drop(F.max_pool2d(F.relu(self.bn(self.conv(x))), 2).flatten(1)))


class GRULM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb, self.gru, self.out = nn.Embedding(10, 8), nn.GRU(8, 12, batch_first=True), nn.Linear(12, 10)

    def forward(self, x):
        h0 = torch.zeros(1, x.shape[0], 12)  # built in forward by untracked code: a constant of the program
        h, _ = self.gru(self.emb(x), h0)
        return self.out(h).reshape(-1, 10)


class TinyGPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 16)
        self.pos = nn.Parameter(torch.randn(6, 16) * 0.1)
        self.block = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.1, batch_first=True)
        self.out = nn.Linear(16, 10)

    def forward(self, x):
        t = x.shape[1]
        mask = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        return self.out(self.block(self.emb(x) + self.pos[:t], src_mask=mask)).reshape(-1, 10)


def _data(kind, steps, last_batch=None):
    torch.manual_seed(1)
    out = []
    for i in range(steps):
        b = last_batch if (last_batch and i == steps - 1) else 4
        if kind in ("mlp",):
            out.append((torch.randn(b, 8), torch.randint(0, 4, (b,))))
        elif kind == "lenet":
            out.append((torch.randn(b, 1, 14, 14), torch.randint(0, 10, (b,))))
        else:
            out.append((torch.randint(0, 10, (b, 6)), torch.randint(0, 10, (b * 6,))))
    return out


MODELS = {"mlp": MLP, "lenet": LeNet, "gru": GRULM, "gpt": TinyGPT}
OPTS = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    "adam": lambda p: torch.optim.Adam(p, lr=1e-2),
    "adamw": lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=0.1),
}


def _train(kind, opt_name, compiled, steps=6, last_batch=None, eval_after=True):
    torch.manual_seed(0)
    model = MODELS[kind]()
    opt = OPTS[opt_name](model.parameters())
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    f = torch.compile(model) if compiled else model
    data = _data(kind, steps, last_batch)
    torch.manual_seed(2)  # dropout's stream: compiled and eager must draw the same numbers
    losses = []
    for x, y in data:
        opt.zero_grad()
        loss = F.cross_entropy(f(x), y)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    evals = []
    if eval_after:
        model.eval()
        with torch.no_grad():
            for x, _ in data[:3]:
                evals.append(f(x).numpy().copy())
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    opt_state = [{k: (v.numpy().copy() if isinstance(v, torch.Tensor) else v) for k, v in s.items()}
                 for s in opt.state.values()]
    return losses, evals, state, opt_state, f


def _assert_same(a, b):
    assert a[0] == b[0], "losses differ"
    for x, y in zip(a[1], b[1]):
        np.testing.assert_array_equal(x, y)
    assert a[2].keys() == b[2].keys()
    for k in a[2]:
        np.testing.assert_array_equal(a[2][k], b[2][k], err_msg=k)
    for s, t in zip(a[3], b[3]):
        for k in s:
            np.testing.assert_array_equal(s[k], t[k], err_msg=k)


@pytest.mark.parametrize("kind,opt_name", [("mlp", "sgd"), ("mlp", "adam"), ("mlp", "adamw"), ("lenet", "sgd"),
                                           ("gru", "adam"), ("gpt", "adamw")])
def test_compiled_training_is_bit_identical(kind, opt_name):
    eager = _train(kind, opt_name, compiled=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback note: these models must really compile
        comp = _train(kind, opt_name, compiled=True)
    _assert_same(eager, comp)
    cf = comp[4]._compiled_call
    assert cf.replays >= 4, (cf.traces, cf.replays)  # steps 3..6 replayed, and eval calls traced/replayed
    # steps 3..6 replay as array programs whose outputs carry one autograd node (the recorded backward),
    # and the third eval call (no graph) too (whole steps: test_array_tier.py)
    assert cf.array_replays == 5, [e.array_reason for v in cf._entries.values() for e in v]


def test_last_smaller_batch_retraces_and_stays_correct():
    eager = _train("mlp", "adam", compiled=False, steps=6, last_batch=3)
    comp = _train("mlp", "adam", compiled=True, steps=6, last_batch=3)
    _assert_same(eager, comp)
    cf = comp[4]._compiled_call
    assert len(cf._entries) >= 2  # a program for batch 4, a new trace for batch 3
    assert cf.array_replays == 4  # steps 3..5 at batch 4 and the third eval call; batch 3 only traces


def test_replay_uses_live_parameters_and_fresh_dropout():
    torch.manual_seed(0)
    model = MLP()
    f = torch.compile(model)
    x = torch.randn(4, 8)
    for _ in range(3):
        f(x)
    assert f._compiled_call.replays == 1
    a, b = f(x).detach(), f(x).detach()  # dropout: fresh masks on every replay
    assert not np.array_equal(a.numpy(), b.numpy())
    model.eval()
    with torch.no_grad():
        model.fc2.weight.mul_(2.0)  # parameters are read live, not baked in
        ref = model(x).numpy()
        for _ in range(3):
            out = f(x).numpy()
    np.testing.assert_array_equal(out, ref)


def test_gradients_match_eager_through_replay():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 7), nn.GELU(), nn.LayerNorm(7), nn.Linear(7, 1))
    f = torch.compile(model)
    xs = [torch.randn(3, 5) for _ in range(4)]
    for x in xs:
        model.zero_grad()
        f(x).sum().backward()
        g_comp = [p.grad.numpy().copy() for p in model.parameters()]
        model.zero_grad()
        model(x).sum().backward()
        for g, p in zip(g_comp, model.parameters()):
            np.testing.assert_array_equal(g, p.grad.numpy())
    assert f._compiled_call.replays == 2


def _grads(model):
    return [None if p.grad is None else p.grad.numpy().copy() for p in model.parameters()]


def test_backward_outside_accumulates_and_frees_like_eager():
    """compile(model) with the backward outside: .grad accumulation over two backwards (retain_graph),
    gradients of an input leaf and of a tensor before the call, and the second-backward error."""
    def run(compiled):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))
        f = torch.compile(model) if compiled else model
        w0 = torch.randn(5, requires_grad=True)  # the input is computed from it: the graph goes on past the call
        out = []
        for i in range(4):
            torch.manual_seed(10 + i)
            x = torch.randn(2, 5, requires_grad=True)
            y = f(x * w0)
            loss = (y * y).sum()
            loss.backward(retain_graph=True)
            loss.backward()
            with pytest.raises(RuntimeError, match="backward through the graph a second time"):
                loss.backward()
            out.append((_grads(model), x.grad.numpy().copy(), w0.grad.numpy().copy()))
        return out, f

    (eager, _), (comp, f) = run(False), run(True)
    for (ga, xa, wa), (gb, xb, wb) in zip(eager, comp):
        for a, b in zip(ga, gb):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(wa, wb)
    assert f._compiled_call.array_replays == 2


class _Cell(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(7, 4)

    def forward(self, x, h):
        return torch.tanh(self.fc(torch.cat([x, h], 1)))


@pytest.mark.parametrize("make,exact", [(_Cell, True), (lambda: nn.GRUCell(3, 4), False)])
def test_recurrent_calls_chain_their_backward_nodes(make, exact):
    """h = cell(x_t, h) through a compiled cell: each replay's node hands the gradient on to the previous one.
    Bit-identical when every parameter is used once per call; GRUCell uses its biases in two places, and its
    per-call gradient is summed inside the node before the steps' sums (eager interleaves): rounding only."""
    def run(compiled):
        torch.manual_seed(0)
        cell = make()
        f = torch.compile(cell) if compiled else cell
        torch.manual_seed(1)
        xs = torch.randn(6, 2, 3)
        h = torch.zeros(2, 4)
        for t in range(6):
            h = f(xs[t], h)
        h.sum().backward()
        return _grads(cell), f

    (ga, _), (gb, f) = run(False), run(True)
    for a, b in zip(ga, gb):
        if exact:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert f._compiled_call.array_replays >= 3


def test_double_backward_through_compiled_module():
    """create_graph=True through a replayed forward re-runs the call eagerly (correct), and the call site
    replays op by op from then on; with dropout (a draw the replay made) it raises instead."""
    def run(compiled):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
        f = torch.compile(model) if compiled else model
        out = []
        for i in range(4):
            torch.manual_seed(20 + i)
            x = torch.randn(4, 3, requires_grad=True)
            (gx,) = torch.autograd.grad(f(x).sum(), x, create_graph=True)
            (gx * gx).sum().backward()
            out.append(_grads(model))
        return out, f

    (eager, _), (comp, f) = run(False), run(True)
    for ga, gb in zip(eager, comp):
        for a, b in zip(ga, gb):
            np.testing.assert_array_equal(a, b)
    cf = f._compiled_call
    assert cf.array_replays == 1 and cf.replays == 2  # the third call replayed arrays, the fourth op by op

    torch.manual_seed(0)
    g = torch.compile(MLP())
    for _ in range(2):
        g(torch.randn(4, 8, requires_grad=True)).sum().backward()
    x = torch.randn(4, 8, requires_grad=True)
    with pytest.raises(RuntimeError, match="create_graph"):
        torch.autograd.grad(g(x).sum(), x, create_graph=True)
    g(torch.randn(4, 8, requires_grad=True)).sum().backward()  # op by op now
    assert g._compiled_call.array_replays == 1


def test_tuple_outputs_one_used_gets_zero_gradient_for_the_other():
    """nn.GRU compiled directly returns (output, h_n), both with a graph; a backward from one of them fills
    the other's gradient with zeros, as eager leaves it out."""
    def run(compiled):
        torch.manual_seed(0)
        gru = nn.GRU(3, 5, batch_first=True)
        f = torch.compile(gru) if compiled else gru
        out = []
        for i in range(4):
            torch.manual_seed(30 + i)
            x = torch.randn(2, 4, 3, requires_grad=True)
            y, h = f(x)
            (y if i % 2 else h).pow(2).sum().backward()
            out.append(_grads(gru) + [x.grad.numpy().copy()])
            gru.zero_grad()
        return out, f

    (ea, _), (co, f) = run(False), run(True)
    for ga, gb in zip(ea, co):
        for a, b in zip(ga, gb):
            np.testing.assert_array_equal(a, b)
    assert f._compiled_call.array_replays == 2
