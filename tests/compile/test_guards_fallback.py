"""tinytorch.compile: guards re-trace, and what a trace cannot replay faithfully runs eagerly with a note."""
import logging
import warnings

import numpy as np
import pytest

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.tensor import Tensor


def _run_both(make, calls):
    """Outputs of ``make()`` called eagerly and compiled on the same inputs (fresh seeds for both)."""
    outs = []
    for compiled in (False, True):
        torch.manual_seed(0)
        m = make()
        f = torch.compile(m) if compiled else m
        torch.manual_seed(5)
        outs.append([f(*[a.clone() for a in c]).detach().numpy().copy() for c in calls])
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
    return f


def _calls(n, shape=(3, 4)):
    torch.manual_seed(9)
    return [(torch.randn(*shape),) for _ in range(n)]


class Fn(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.body = body

    def forward(self, x):
        return self.body(self, x)


def test_inplace_on_intermediates_is_replayed():
    def body(m, x):
        h = m.fc(x)
        h.mul_(2.0)
        h += 1
        h[:, 0] = 0.0
        return F.relu(h, inplace=True)
    f = _run_both(lambda: Fn(body), _calls(5))
    assert f._compiled_call.replays == 3


@pytest.mark.parametrize("body,why", [
    (lambda m, x: m.fc(x) if m.fc(x).sum().item() > 0 else -m.fc(x), "item"),
    (lambda m, x: m.fc(x) * bool((x > 0).all()), "__bool__"),
    (lambda m, x: m.fc(x) + torch.rand(3, 4), "random numbers"),
    (lambda m, x: m.fc(x.add_(1.0)), "input in place"),
    (lambda m, x: m.fc(x) + torch.tensor(x.tolist()), "tolist"),
    (lambda m, x: m.fc(x.data), "Tensor.data"),
])
def test_unfaithful_traces_run_eagerly_with_a_note(body, why):
    with pytest.warns(UserWarning, match=why):
        f = _run_both(lambda: Fn(body), _calls(4))
    assert f._compiled_call.replays == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the note is given once
        f(torch.randn(3, 4))


def test_fullgraph_raises_instead_of_falling_back():
    f = torch.compile(Fn(lambda m, x: m.fc(x) * float(x.sum().item())), fullgraph=True)
    with pytest.raises(RuntimeError, match="fullgraph.*item"):
        f(torch.randn(3, 4))


def test_python_state_changing_the_program_runs_eagerly():
    def body(m, x):
        m.__dict__.setdefault("calls", [0])[0] += 1  # a list attribute the call itself changes
        return m.fc(x) if m.calls[0] % 2 else torch.tanh(m.fc(x))
    with pytest.warns(UserWarning, match="different programs|a Python side effect"):
        _run_both(lambda: Fn(body), _calls(5))


def test_untracked_value_is_not_baked_when_inputs_repeat(monkeypatch):
    """A value computed outside the ops from the input must not become a constant, even if the first
    two calls see the same input. The array tier records the array work itself (it replays it); the
    op-level tier must notice the difference."""
    def body(m, x):
        return m.fc(x) + Tensor._make(x._data * 2.0)  # untracked array work on the input
    x0 = torch.randn(3, 4)
    calls = [(x0,), (x0,)] + _calls(3)
    f = _run_both(lambda: Fn(body), calls)
    assert f._compiled_call.array_replays == 3
    monkeypatch.setenv("TINYTORCH_COMPILE_ARRAYS", "0")
    with pytest.warns(UserWarning, match="different programs"):
        _run_both(lambda: Fn(body), calls)


def _train_step_fn(compiled, clip=False, opt_name="sgd"):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 2))
    if opt_name == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        opt.step()
        sched.step()  # the scheduler inside the step: its lr must reach every replayed step
        return loss

    fn = torch.compile(step) if compiled else step
    torch.manual_seed(3)
    data = [(torch.randn(5, 4), torch.randn(5, 2)) for _ in range(7)]
    torch.manual_seed(4)
    losses = [fn(x, y).item() for x, y in data]
    return losses, [p.detach().numpy().copy() for p in model.parameters()], opt.param_groups[0]["lr"], fn


@pytest.mark.parametrize("opt_name", ["sgd", "adamw"])
def test_whole_training_step_is_captured_and_matches(opt_name):
    eager = _train_step_fn(False, opt_name=opt_name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        comp = _train_step_fn(True, opt_name=opt_name)
    assert eager[0] == comp[0] and eager[2] == comp[2]
    for a, b in zip(eager[1], comp[1]):
        np.testing.assert_array_equal(a, b)
    assert comp[3].replays == 5  # zero_grad, backward, step and the scheduler are replayed steps


def test_untracked_grad_change_in_step_is_not_lost():
    eager = _train_step_fn(False, clip=True)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        comp = _train_step_fn(True, clip=True)
    assert eager[0] == comp[0]
    for a, b in zip(eager[1], comp[1]):
        np.testing.assert_array_equal(a, b)


def test_autograd_grad_inside_runs_eagerly():
    w = torch.randn(3, requires_grad=True)

    def fn(x):
        return torch.autograd.grad((w * x).sum(), w)[0]
    f = torch.compile(fn)
    with pytest.warns(UserWarning, match="autograd.backward/grad"):
        for _ in range(3):
            x = torch.randn(3)
            np.testing.assert_array_equal(f(x).numpy(), x.numpy())


def test_module_hooks_run_eagerly():
    m = Fn(lambda m, x: m.fc(x))
    seen = []
    m.fc.register_forward_hook(lambda mod, a, out: seen.append(1))
    f = torch.compile(m)
    with pytest.warns(UserWarning, match="hooks"):
        for _ in range(4):
            f(torch.randn(3, 4))
    assert len(seen) == 4


def test_eval_and_grad_mode_retrace_and_log(monkeypatch, caplog):
    monkeypatch.setenv("TINYTORCH_LOGS", "recompiles")
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    f = torch.compile(m)
    x = torch.randn(3, 4)
    with caplog.at_level(logging.WARNING, logger="tinytorch.compile"):
        for _ in range(3):
            f(x)
        m.eval()
        for _ in range(3):
            np.testing.assert_array_equal(f(x).detach().numpy(), m(x).detach().numpy())  # no dropout in eval
        with torch.no_grad():
            for _ in range(3):
                f(x)
    text = caplog.text
    assert "training flag" in text and "grad mode" in text
    assert f._compiled_call.replays == 3


def test_cache_limit_falls_back(monkeypatch):
    monkeypatch.setattr(torch._dynamo.config, "cache_size_limit", 2)
    f = torch.compile(lambda x: x * 2 + 1)
    with pytest.warns(UserWarning, match="cache_size_limit"):
        for n in (1, 2, 3):
            f(torch.ones(n))
    np.testing.assert_array_equal(f(torch.ones(4)).numpy(), np.full(4, 3.0, np.float32))


def test_function_outputs_structure_and_disable():
    def fn(x, *, scale):
        return {"y": x * scale, "pair": (x + 1, 7)}
    f = torch.compile(fn)
    for i in range(4):
        x = torch.full((2,), float(i))
        out = f(x, scale=3.0)
        np.testing.assert_array_equal(out["y"].numpy(), np.full(2, 3.0 * i, np.float32))
        assert out["pair"][1] == 7 and float(out["pair"][0][0]) == i + 1
    assert f.replays == 2
    out = f(torch.ones(2), scale=5.0)  # another scalar: another guard key
    np.testing.assert_array_equal(out["y"].numpy(), np.full(2, 5.0, np.float32))
    m = nn.Linear(2, 2)
    assert torch.compile(m, disable=True) is m

    @torch.compile(mode="reduce-overhead")
    def g(x):
        return x + 1
    assert float(g(torch.ones(1))[0]) == 2.0
    with pytest.raises(RuntimeError, match="mode"):
        torch.compile(m, mode="fastest")
    with pytest.raises(TypeError, match="Module or a callable"):
        torch.compile(3)


def test_optimized_module_forwards_attributes():
    m = nn.Linear(3, 2)
    f = torch.compile(m)
    assert f._orig_mod is m and f.weight is m.weight
    assert list(f.parameters()) == list(m.parameters())
    f.eval()
    assert not m.training
    assert isinstance(f, nn.Module) and type(f).__name__ == "OptimizedModule"
    assert list(f.state_dict()) == ["_orig_mod.weight", "_orig_mod.bias"]  # torch's keys
    f.load_state_dict({k: v * 0 for k, v in f.state_dict().items()})
    assert float(m.weight.abs().sum()) == 0.0


def test_char_mlp_step_with_cross_entropy_is_captured():
    """Embedding, Linear, tanh, dropout, cross-entropy (its target view is taken by untracked code), AdamW."""
    runs = []
    for compiled in (False, True):
        torch.manual_seed(0)
        emb, fc1, fc2 = nn.Embedding(27, 8), nn.Linear(24, 32), nn.Linear(32, 27)
        params = list(emb.parameters()) + list(fc1.parameters()) + list(fc2.parameters())
        opt = torch.optim.AdamW(params, lr=1e-2)

        def step(x, y):
            opt.zero_grad()
            h = F.dropout(torch.tanh(fc1(emb(x).view(x.shape[0], -1))), 0.2, training=True)
            loss = F.cross_entropy(fc2(h), y)
            loss.backward()
            opt.step()
            return loss

        fn = torch.compile(step) if compiled else step
        torch.manual_seed(1)
        data = [(torch.randint(0, 27, (16, 3)), torch.randint(0, 27, (16,))) for _ in range(6)]
        torch.manual_seed(2)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            losses = [fn(x, y).item() for x, y in data]
        runs.append((losses, [p.detach().numpy().copy() for p in params], fn))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)
    assert runs[1][2].replays == 4


def test_no_grad_block_inside_is_replayed_under_no_grad():
    torch.manual_seed(0)
    lin = nn.Linear(3, 3)

    def fn(x):
        with torch.no_grad():
            scale = lin(x).abs().mean()  # no gradient may flow through here
        return (lin(x) * scale).sum()

    f = torch.compile(fn)
    for _ in range(4):
        x = torch.randn(2, 3)
        lin.zero_grad()
        f(x).backward()
        g = lin.weight.grad.numpy().copy()
        lin.zero_grad()
        fn(x).backward()
        np.testing.assert_array_equal(g, lin.weight.grad.numpy())
    assert f.replays == 2


def test_autocast_inside_runs_eagerly():
    lin = nn.Linear(3, 3)

    def fn(x):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return lin(x)

    f = torch.compile(fn)
    with pytest.warns(UserWarning, match="autocast"):
        for _ in range(3):
            x = torch.randn(2, 3)
            np.testing.assert_array_equal(f(x).float().detach().numpy(), fn(x).float().detach().numpy())


def test_aliased_inputs_and_replaced_submodules_are_guarded():
    f = torch.compile(lambda a, b: a * 2 + b)
    x = torch.ones(2)
    for _ in range(3):
        f(x, x)
    y = torch.full((2,), 5.0)
    np.testing.assert_array_equal(f(x, y).numpy(), np.full(2, 7.0, np.float32))  # a new program, not a*2+a

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2))
    g = torch.compile(model)
    for _ in range(3):
        g(x)
    model[0] = nn.Linear(2, 2)  # a new submodule: its parameters, not the old ones
    np.testing.assert_array_equal(g(x).detach().numpy(), model(x).detach().numpy())


SCALE = 2.0


def _scaled(x):
    return x * SCALE


def test_scalar_globals_and_module_attributes_are_guarded():
    global SCALE
    f = torch.compile(_scaled)
    x = torch.ones(2)
    for _ in range(3):
        f(x)
    SCALE = 3.0
    try:
        np.testing.assert_array_equal(f(x).numpy(), np.full(2, 3.0, np.float32))
    finally:
        SCALE = 2.0
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    g = torch.compile(model)
    for _ in range(3):
        g(x)
    model[1].p = 0.0  # dropout off through an attribute: the baked p=0.5 must not be replayed
    np.testing.assert_array_equal(g(x).detach().numpy(), model[0](x).detach().numpy())


def test_grad_read_and_set_in_step_are_replayed():
    """``w.grad`` reads and ``w.grad = None`` are recorded steps: a replay sees the live gradient."""
    def run(compiled):
        x = torch.ones(3, requires_grad=True)
        w = torch.full((3,), 2.0, requires_grad=True)

        def step(a):
            (a * x * w).sum().backward()
            g = w.grad.clone()
            w.grad = None
            return g
        fn = torch.compile(step) if compiled else step
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = [fn(torch.full((3,), float(i))).numpy().copy() for i in range(5)], x.grad.numpy().copy()
        if compiled:
            assert fn.replays == 3
        return out
    eager, comp = run(False), run(True)
    for a, b in zip(eager[0], comp[0]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(eager[1], comp[1])


def test_python_numbers_are_values_so_a_fixed_input_still_compiles():
    x = torch.arange(4.0, requires_grad=True)

    def fn(a):
        return (a * 1.5 + 2).sum()
    f = torch.compile(fn)
    for _ in range(4):
        f(x).backward()
    assert f.replays == 2
    np.testing.assert_array_equal(x.grad.numpy(), np.full(4, 6.0, np.float32))


def test_dynamo_reset_forgets_programs_and_fallbacks():
    f = torch.compile(lambda x: x + 1)
    for _ in range(3):
        f(torch.ones(2))
    assert f.replays == 1
    torch._dynamo.reset()
    f(torch.ones(2))
    assert f.replays == 1 and f.traces == 3  # traced again


def test_dynamo_disable_runs_on_every_replay():
    seen = []

    @torch._dynamo.disable
    def log(t):
        seen.append(t.item())  # Python side effect and .item(): fine inside a disabled step

    def step(x):
        y = x * 2
        log(y.sum())
        return y + 1
    f = torch.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i in range(5):
            np.testing.assert_array_equal(f(torch.full((2,), float(i))).numpy(), np.full(2, 2.0 * i + 1, np.float32))
    assert seen == [4.0 * i for i in range(5)] and f.replays == 3

    @torch._dynamo.disable
    def flag(t):
        return bool(t.sum() > 0)
    g = torch.compile(lambda x: x * 2 if flag(x) else x * 3)
    with pytest.warns(UserWarning, match="compiler-disabled"):
        for v in (1.0, 1.0, -1.0):
            np.testing.assert_array_equal(g(torch.full((2,), v)).numpy(), np.full(2, v * (2 if v > 0 else 3), np.float32))


def test_a_module_counter_attribute_is_a_side_effect():
    class Counting(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc, self.calls = nn.Linear(2, 2), 0

        def forward(self, x):
            self.calls += 1  # a guarded scalar that changes every call
            return self.fc(x) * self.calls

    m = Counting()
    f = torch.compile(m)
    x = torch.ones(1, 2)
    with pytest.warns(UserWarning, match="side effect"):
        outs = [f(x).detach().numpy() for _ in range(6)]
    base = m.fc(x).detach().numpy()
    for i, o in enumerate(outs):
        np.testing.assert_allclose(o, base * (i + 1))
    assert m.calls == 6 and f._compiled_call.replays == 0


COUNTER = 0


def _counting(x):
    global COUNTER
    COUNTER += 1
    return x * COUNTER


def test_a_global_counter_is_a_side_effect():
    f = torch.compile(_counting)
    with pytest.warns(UserWarning, match="side effect"):
        outs = [float(f(torch.ones(1))[0]) for _ in range(4)]
    assert outs == [COUNTER - 3.0, COUNTER - 2.0, COUNTER - 1.0, float(COUNTER)]


def test_every_device_stays_correct(device):
    """On the CPU the forward compiles; CUDA tensors are not captured yet and run eagerly with a note."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2)).to(device)
    f = torch.compile(model)
    xs = [torch.randn(3, 4, device=device) for _ in range(4)]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        outs = [f(x).detach().cpu().numpy() for x in xs]
    for x, o in zip(xs, outs):
        np.testing.assert_array_equal(o, model(x).detach().cpu().numpy())
    if device == "cpu":
        assert f._compiled_call.replays == 2
    else:
        assert f._compiled_call.replays == 0 and any("CUDA" in str(m.message) for m in w)
