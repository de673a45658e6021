"""The array tier of tinytorch.compile: a whole training step replayed as one array program.

Each model trains N steps eagerly and with the whole step compiled (zero_grad, forward, loss, backward,
optimizer step, LR scheduler step); losses, parameters, gradients, optimizer state and buffers must agree
bit for bit, and the compiled run must really replay through the array tier (not op by op).
"""
import warnings

import numpy as np
import pytest

import tinytorch as torch
import tinytorch.nn.functional as F
from tinytorch.autograd import function as _function

from .test_training import MODELS, OPTS, _data


def _train_step(kind, opt_name, compiled, steps=8, last_batch=None, sched=True):
    torch.manual_seed(0)
    model = MODELS[kind]()
    opt = OPTS[opt_name](model.parameters())
    sch = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if sched:
            sch.step()
        return loss

    f = torch.compile(step) if compiled else step
    data = _data(kind, steps, last_batch)
    torch.manual_seed(2)  # dropout's stream: compiled and eager must draw the same numbers
    losses, grads = [], []
    for x, y in data:
        loss = f(x, y)
        losses.append(loss.item())
        grads.append([p.grad.numpy().copy() for p in model.parameters()])
    model.eval()
    g = torch.compile(model) if compiled else model
    with torch.no_grad():
        evals = [g(x).numpy().copy() for x, _ in data[:4]]
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    opt_state = [{k: (v.numpy().copy() if isinstance(v, torch.Tensor) else v) for k, v in s.items()}
                 for s in opt.state.values()]
    return losses, grads, evals, state, opt_state, f, g, model


def _same(a, b):
    assert a[0] == b[0], "losses differ"
    for ga, gb in zip(a[1], b[1]):
        for x, y in zip(ga, gb):
            np.testing.assert_array_equal(x, y)
    for x, y in zip(a[2], b[2]):
        np.testing.assert_array_equal(x, y)
    for k in a[3]:
        np.testing.assert_array_equal(a[3][k], b[3][k], err_msg=k)
    for s, t in zip(a[4], b[4]):
        for k in s:
            np.testing.assert_array_equal(s[k], t[k], err_msg=k)


@pytest.mark.parametrize("kind,opt_name", [("mlp", "sgd"), ("mlp", "adam"), ("mlp", "adamw"), ("lenet", "sgd"),
                                           ("gru", "adam"), ("gpt", "adamw")])
def test_whole_step_replays_as_arrays_bit_identical(kind, opt_name):
    eager = _train_step(kind, opt_name, compiled=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        comp = _train_step(kind, opt_name, compiled=True)
    _same(eager, comp)
    f, g = comp[5], comp[6]._compiled_call
    reasons = [e.array_reason for v in f._entries.values() for e in v]
    assert f.array_replays == 6, reasons  # steps 3..8; the LR halves every 2 steps, read live by opt.step
    assert g.array_replays == 2  # eval: a new guard key (training flags), traced twice then replayed


def test_last_smaller_batch_retraces_as_arrays():
    eager = _train_step("mlp", "adam", compiled=False, steps=7, last_batch=3)
    comp = _train_step("mlp", "adam", compiled=True, steps=7, last_batch=3)
    _same(eager, comp)
    f = comp[5]
    assert len(f._entries) == 2 and f.array_replays == 4


def test_replay_runs_no_autograd_and_reuses_buffers(monkeypatch):
    comp = _train_step("mlp", "sgd", compiled=True, steps=4, sched=False)
    f, model = comp[5], comp[7]
    model.train()
    prog = next(e for v in f._entries.values() for e in v).arrays
    assert prog is not None and prog.reused > 0 and prog.folded > 0

    def no_apply(*a, **k):
        raise AssertionError("Function.apply ran during an array replay")
    monkeypatch.setattr(_function.Function, "apply", classmethod(no_apply))
    x, y = _data("mlp", 1)[0]
    losses, kept = [], []
    for _ in range(3):
        losses.append(f(x, y))
        kept.append([p.grad for p in model.parameters()])
    monkeypatch.undo()
    # what a replay hands out (loss, .grad) is never a buffer the next replay overwrites
    snap = [[g.numpy().copy() for g in gs] for gs in kept]
    vals = [loss.detach().numpy().copy() for loss in losses]
    f(x, y)
    for gs, s in zip(kept, snap):
        for g, c in zip(gs, s):
            np.testing.assert_array_equal(g.numpy(), c)
    for loss, v in zip(losses, vals):
        np.testing.assert_array_equal(loss.detach().numpy(), v)
    assert losses[0].requires_grad and losses[0].grad_fn is not None
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        losses[0].backward()


def test_dropout_draws_fresh_numbers_from_the_generator_stream():
    torch.manual_seed(0)
    model = MODELS["mlp"]()
    f = torch.compile(lambda x: model(x))
    x = torch.randn(4, 8)
    with torch.no_grad():
        outs = [f(x).numpy().copy() for _ in range(5)]
    assert f.array_replays == 3
    assert not np.array_equal(outs[3], outs[4])
    torch.manual_seed(7)
    with torch.no_grad():
        a = f(x).numpy().copy()
        torch.manual_seed(7)  # manual_seed swaps the NumPy generator: replay must use the new one
        b = f(x).numpy().copy()
        torch.manual_seed(7)
        c = model(x).numpy().copy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_forward_only_compile_replays_arrays_with_one_backward_node():
    torch.manual_seed(0)
    model = MODELS["mlp"]()
    f = torch.compile(model)
    for _ in range(4):
        out = f(torch.randn(4, 8))
        out.sum().backward()
    cf = f._compiled_call
    assert cf.replays == 2 and cf.array_replays == 2
    assert out.grad_fn.name() == "CompiledFunctionBackward"
    assert next(e for v in cf._entries.values() for e in v).array_reason is None


def test_rebinding_a_parameter_falls_back_to_op_level_replay():
    torch.manual_seed(0)
    model = MODELS["mlp"]()
    model.eval()
    f = torch.compile(model)
    x = torch.randn(4, 8)
    with torch.no_grad():
        for _ in range(3):
            f(x)
        model.fc2.weight.data = model.fc2.weight.data * 2.0  # a new array: the array guard fails
        ref = model(x).numpy().copy()
        out = f(x).numpy().copy()
    np.testing.assert_array_equal(out, ref)
    cf = f._compiled_call
    assert cf.array_replays == 1 and cf.replays == 2


def test_array_tier_can_be_disabled(monkeypatch):
    monkeypatch.setenv("TINYTORCH_COMPILE_ARRAYS", "0")
    comp = _train_step("mlp", "sgd", compiled=True, steps=4, sched=False)
    assert comp[5].array_replays == 0 and comp[5].replays == 2


def _bn_run(compiled, momentum=0.1, zero_grad=True, n=6):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.BatchNorm1d(16, momentum=momentum),
                                torch.nn.ReLU(), torch.nn.Linear(16, 4))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(x, y):
        if zero_grad:
            opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    f = torch.compile(step) if compiled else step
    torch.manual_seed(1)
    data = [(torch.randn(4, 8), torch.randint(0, 4, (4,))) for _ in range(n)]
    losses = [f(x, y).item() for x, y in data]
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    return losses, state, grads, f


def _bn_same(a, b):
    assert a[0] == b[0]
    for k in a[1]:
        np.testing.assert_array_equal(a[1][k], b[1][k], err_msg=k)
    for x, y in zip(a[2], b[2]):
        np.testing.assert_array_equal(x, y)


def test_gradients_accumulate_across_replays_without_zero_grad():
    eager, comp = _bn_run(False, zero_grad=False), _bn_run(True, zero_grad=False)
    _bn_same(eager, comp)
    assert comp[3].array_replays == 4  # BatchNorm's running statistics and num_batches_tracked too


def test_a_value_read_inside_an_op_keeps_op_level_replay(caplog, monkeypatch):
    eager = _bn_run(False, momentum=None)  # cumulative average: float(num_batches_tracked) each step
    monkeypatch.setenv("TINYTORCH_LOGS", "recompiles")
    with caplog.at_level("WARNING", logger="tinytorch.compile"):
        comp = _bn_run(True, momentum=None)
    _bn_same(eager, comp)
    f = comp[3]
    assert f.array_replays == 0 and f.replays == 4
    assert "not as one array program" in caplog.text and "read into Python" in caplog.text


def test_a_changed_branch_value_raises_and_falls_back():
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(3, 4))
    opt = torch.optim.SGD([w], lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = (x * w).prod(-1).sum()  # prod's backward branches on "any zero?"
        loss.backward()
        opt.step()
        return loss

    f = torch.compile(step)
    for _ in range(3):
        f(torch.randn(3, 4))
    assert f.array_replays == 1
    bad = torch.randn(3, 4)
    bad[0, 0] = 0.0
    with pytest.raises(RuntimeError, match="branched on"):
        f(bad)
    f(torch.randn(3, 4))  # the op-level program from now on
    assert f.array_replays == 2 and f.replays == 3


def test_shared_pure_results_never_alias_an_array_written_in_place():
    def fn(x):
        a = x * 2.0
        b = x * 2.0  # the same call: one array may serve both only while neither is written
        b[0] = 5.0  # written in place (a __setitem__ on its array)
        c = torch.sigmoid(x * 3.0) + torch.sigmoid(x * 3.0)
        return a + b + c

    f = torch.compile(fn)
    with torch.no_grad():
        for _ in range(5):
            x = torch.randn(5)
            np.testing.assert_array_equal(f(x).numpy(), fn(x).numpy())
    assert f.array_replays == 3
    prog = next(e for v in f._entries.values() for e in v).arrays
    assert prog.shared >= 1  # x * 3.0 (and what sigmoid computes from it) is computed once


def test_max_pool_nan_is_replayed_without_a_value_guard():
    """max_pool2d's NaN rule (a NaN wins, its index is the last NaN's) is branch-free under the recorder:
    a NaN arriving at replay time gives eager's output and gradient, and the program has no guard."""
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(1, 2, 3)
    model = torch.nn.Sequential(conv, torch.nn.MaxPool2d(2))
    f = torch.compile(model)
    for _ in range(2):
        f(torch.randn(2, 1, 8, 8, requires_grad=True)).sum().backward()
    x = torch.randn(2, 1, 8, 8)
    x[0, 0, 2, 3] = float("nan")
    outs = []
    for g in (f, model):
        conv.zero_grad()
        xi = x.clone().requires_grad_()
        y = g(xi)
        y.sum().backward()
        outs.append((y.detach().numpy().copy(), xi.grad.numpy().copy(), conv.weight.grad.numpy().copy()))
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
    ap = next(e for v in f._compiled_call._entries.values() for e in v).arrays
    assert ap is not None and not ap.guards
    assert f._compiled_call.array_replays == 1
