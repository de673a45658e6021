"""LBFGS (both line-search modes), ASGD, Rprop, SparseAdam and CyclicLR: trajectories equal torch's in float64."""
from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest

import tinytorch
import tinytorch.optim as optim

SHAPES = [(3, 4), (5,), ()]
STEPS = 12

CONFIGS = {
    "ASGD": [dict(lr=0.05, lambd=l, alpha=a, t0=t0, weight_decay=wd, maximize=mx)
             for l, a, t0, wd, mx in itertools.product((1e-4, 0.1), (0.75, 0.5), (1e6, 3), (0.0, 0.1), (False, True))],
    "Rprop": [dict(lr=lr, etas=e, step_sizes=s, maximize=mx)
              for lr, e, s, mx in itertools.product((0.01, 0.3), ((0.5, 1.2), (0.3, 1.5)), ((1e-6, 50), (0.02, 0.5)),
                                                    (False, True))],
    "SparseAdam": [dict(lr=lr, betas=b, eps=e, maximize=mx)
                   for lr, b, e, mx in itertools.product((1e-3, 0.1), ((0.9, 0.999), (0.5, 0.8)), (1e-8, 1e-2),
                                                         (False, True))],
}
CASES = [(name, cfg) for name, cfgs in CONFIGS.items() for cfg in cfgs]


def _grads(seed, sparse):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(STEPS):
        step = []
        for s in SHAPES:
            g = rng.standard_normal(s)
            if sparse:  # zeros play the absent entries of a sparse gradient
                g = np.where(rng.random(s) < 0.4, 0.0, g)
            step.append(g)
        out.append(step)
    return out


@pytest.mark.parametrize("name,cfg", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch_step_by_step(name, cfg):
    torch = pytest.importorskip("torch")
    sparse = name == "SparseAdam"
    rng = np.random.default_rng(7)
    init = [rng.standard_normal(s) for s in SHAPES]
    grads = _grads(3, sparse)
    if sparse:  # torch's SparseAdam takes only sparse gradients, which a 0-d tensor cannot be made into
        init, grads = init[:2], [g[:2] for g in grads]
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    mp = [tinytorch.tensor(a.copy(), requires_grad=True) for a in init]
    topt, mopt = getattr(torch.optim, name)(tp, **cfg), getattr(optim, name)(mp, **cfg)
    for step in range(STEPS):
        for t, m, g in zip(tp, mp, grads[step]):
            t.grad = torch.tensor(g).to_sparse() if sparse else torch.tensor(g)
            m.grad = tinytorch.tensor(g)
        topt.step()
        mopt.step()
        for t, m in zip(tp, mp):
            np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=1e-11, atol=1e-13,
                                       err_msg=f"{name} {cfg} step {step}")


def test_sparse_adam_leaves_absent_entries_alone():
    p = tinytorch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    opt = optim.SparseAdam([p], lr=0.1)
    p.grad = tinytorch.tensor([0.5, 0.0, -1.0])
    opt.step()
    assert p[1].item() == 2.0 and opt.state[p]["exp_avg"][1].item() == 0.0
    assert p[0].item() == pytest.approx(0.9) and p[2].item() == pytest.approx(3.1)


def test_rprop_and_sparse_adam_validation():
    p = tinytorch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="Invalid eta values"):
        optim.Rprop([p], etas=(1.5, 1.2))
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.SparseAdam([p], lr=0.0)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.ASGD([p], lr=-1)


# ---- LBFGS ------------------------------------------------------------------------------------------------
def _problem(mod, X, Y, W1, W2):
    """A small tanh network fit by least squares; returns its parameters and a closure for ``opt``."""
    x, y = mod.tensor(X), mod.tensor(Y)
    w1, w2 = mod.tensor(W1.copy(), requires_grad=True), mod.tensor(W2.copy(), requires_grad=True)

    def make_closure(opt):
        def closure():
            opt.zero_grad()
            # the L2 term keeps the problem well conditioned, so rounding differences stay small
            loss = ((mod.tanh(x @ w1) @ w2 - y) ** 2).mean() + 0.01 * ((w1 ** 2).sum() + (w2 ** 2).sum())
            loss.backward()
            return loss
        return closure
    return [w1, w2], make_closure


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
@pytest.mark.parametrize("kw", [dict(), dict(lr=0.5, history_size=3, max_iter=7), dict(max_iter=4, max_eval=5)])
def test_lbfgs_matches_torch(line_search, kw):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((40, 3)), rng.standard_normal((40, 1))
    W1, W2 = rng.standard_normal((3, 6)) * 0.5, rng.standard_normal((6, 1)) * 0.5
    tparams, tmake = _problem(torch, X, Y, W1, W2)
    mparams, mmake = _problem(tinytorch, X, Y, W1, W2)
    topt = torch.optim.LBFGS(tparams, line_search_fn=line_search, **kw)
    mopt = optim.LBFGS(mparams, line_search_fn=line_search, **kw)
    tclosure, mclosure = tmake(topt), mmake(mopt)
    for step in range(5):
        tl = topt.step(tclosure)
        ml = mopt.step(mclosure)
        assert float(ml) == pytest.approx(float(tl.detach()), rel=1e-7, abs=1e-10), step
        for t, m in zip(tparams, mparams):
            np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=1e-7, atol=1e-9,
                                       err_msg=f"LBFGS {line_search} {kw} step {step}")
        tstate, mstate = topt.state[tparams[0]], mopt.state[mparams[0]]
        assert mstate["func_evals"] == tstate["func_evals"] and mstate["n_iter"] == tstate["n_iter"], step


def test_lbfgs_solves_a_quadratic_and_validates():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((5, 5))
    A = tinytorch.tensor(A @ A.T + 5 * np.eye(5))
    b = tinytorch.tensor(rng.standard_normal(5))
    x = tinytorch.zeros(5, dtype=tinytorch.float64, requires_grad=True)
    opt = optim.LBFGS([x], line_search_fn="strong_wolfe", max_iter=50)

    def closure():
        opt.zero_grad()
        loss = 0.5 * (x @ (A @ x)) - b @ x
        loss.backward()
        return loss
    opt.step(closure)
    np.testing.assert_allclose(x.detach().numpy(), np.linalg.solve(A.numpy(), b.numpy()), atol=1e-6)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [x]}, {"params": [tinytorch.zeros(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match="strong_wolfe"):
        optim.LBFGS([x], line_search_fn="backtracking")


# ---- CyclicLR ---------------------------------------------------------------------------------------------
CYCLIC = {
    "triangular-sgd": ("SGD", dict(momentum=0.9), dict(base_lr=0.01, max_lr=0.1, step_size_up=4)),
    "triangular2-adam": ("Adam", {}, dict(base_lr=[0.001, 0.002], max_lr=0.05, step_size_up=3, step_size_down=5,
                                          mode="triangular2")),
    "exp_range": ("SGD", dict(momentum=0.5), dict(base_lr=0.01, max_lr=0.2, step_size_up=5, mode="exp_range",
                                                  gamma=0.9)),
    "no-momentum": ("SGD", {}, dict(base_lr=0.01, max_lr=0.2, step_size_up=2, cycle_momentum=False)),
    "custom": ("SGD", dict(momentum=0.9), dict(base_lr=0.01, max_lr=0.2, step_size_up=3,
                                               scale_fn=lambda x: 0.5 ** x, scale_mode="iterations")),
}


@pytest.mark.parametrize("case", list(CYCLIC))
def test_cyclic_lr_matches_torch(case):
    torch = pytest.importorskip("torch")
    opt_name, okw, skw = CYCLIC[case]

    def build(mod):
        groups = [{"params": [mod.zeros(2, requires_grad=True)]}, {"params": [mod.zeros(2, requires_grad=True)]}]
        opt = getattr(mod.optim, opt_name)(groups, lr=0.1, **okw)
        return opt, mod.optim.lr_scheduler.CyclicLR(opt, **skw)
    topt, tsch = build(torch)
    mopt, msch = build(tinytorch)
    for step in range(30):
        assert msch.get_last_lr() == pytest.approx(tsch.get_last_lr(), rel=1e-12), step
        for tg, mg in zip(topt.param_groups, mopt.param_groups):
            assert mg["lr"] == pytest.approx(tg["lr"], rel=1e-12), step
            for key in ("momentum", "betas"):
                if key in tg:
                    assert mg[key] == pytest.approx(tg[key], rel=1e-12), (step, key)
        topt.step()
        mopt.step()
        tsch.step()
        msch.step()


def test_cyclic_lr_validation():
    opt = optim.Adagrad([tinytorch.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="momentum"):
        optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1)
    with pytest.raises(ValueError, match="mode is invalid"):
        optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, mode="sawtooth", cycle_momentum=False)


def test_lbfgs_state_dict_resume_continues_the_same_iterates():
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((40, 3)), rng.standard_normal((40, 1))
    W1, W2 = rng.standard_normal((3, 6)) * 0.5, rng.standard_normal((6, 1)) * 0.5
    params, make = _problem(tinytorch, X, Y, W1, W2)
    opt = optim.LBFGS(params, max_iter=3, history_size=4, line_search_fn="strong_wolfe")
    for _ in range(2):
        opt.step(make(opt))
    saved_params = [p.detach().clone() for p in params]
    sd = copy.deepcopy(opt.state_dict())  # state_dict hands out references, as torch's does
    opt.step(make(opt))
    expected = [p.detach().numpy().copy() for p in params]

    params2, make2 = _problem(tinytorch, X, Y, saved_params[0].numpy(), saved_params[1].numpy())
    opt2 = optim.LBFGS(params2, max_iter=3, history_size=4, line_search_fn="strong_wolfe")
    opt2.load_state_dict(sd)
    opt2.step(make2(opt2))
    for p, e in zip(params2, expected):
        np.testing.assert_allclose(p.detach().numpy(), e, rtol=1e-12, atol=1e-14)
