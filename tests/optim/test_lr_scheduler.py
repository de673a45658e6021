"""LR schedulers: lr sequences equal torch's over 40 steps, state_dict, validation."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tinytorch
import tinytorch.optim as optim
from tinytorch.optim import lr_scheduler as ls

STEPS = 40


def _lambda(e):
    return 0.95**e


def _mult(e):
    return 0.9 if e % 2 else 1.0


# (optimizer name, optimizer kwargs, builder(lr_scheduler module, opt) -> scheduler)
CASES = {
    "StepLR": ("SGD", {}, lambda m, o: m.StepLR(o, step_size=7, gamma=0.5)),
    "StepLR-float": ("SGD", {}, lambda m, o: m.StepLR(o, 2.5, gamma=0.5)),  # torch's tutorials pass 1.0
    "MultiStepLR": ("SGD", {}, lambda m, o: m.MultiStepLR(o, milestones=[3, 10, 10, 25], gamma=0.3)),
    "ExponentialLR": ("SGD", {}, lambda m, o: m.ExponentialLR(o, gamma=0.93)),
    "CosineAnnealingLR": ("SGD", {}, lambda m, o: m.CosineAnnealingLR(o, T_max=12, eta_min=0.001)),
    "CosineAnnealingWarmRestarts": ("SGD", {}, lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=0.01)),
    "CosineAnnealingWarmRestarts1": ("SGD", {}, lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=7)),
    "LambdaLR": ("SGD", {}, lambda m, o: m.LambdaLR(o, lr_lambda=_lambda)),
    "MultiplicativeLR": ("SGD", {}, lambda m, o: m.MultiplicativeLR(o, lr_lambda=_mult)),
    "LinearLR": ("SGD", {}, lambda m, o: m.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=10)),
    "ConstantLR": ("SGD", {}, lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=6)),
    "PolynomialLR": ("SGD", {}, lambda m, o: m.PolynomialLR(o, total_iters=20, power=2.0)),
    "OneCycleLR-cos-sgd": ("SGD", dict(momentum=0.9), lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=STEPS)),
    "OneCycleLR-linear-adam": ("Adam", {}, lambda m, o: m.OneCycleLR(o, max_lr=0.3, epochs=4, steps_per_epoch=10,
                                                                        anneal_strategy="linear", pct_start=0.25)),
    "OneCycleLR-3phase": ("SGD", dict(momentum=0.9), lambda m, o: m.OneCycleLR(o, max_lr=0.8, total_steps=STEPS, three_phase=True)),
    "OneCycleLR-nomomentum": ("SGD", {}, lambda m, o: m.OneCycleLR(o, max_lr=0.8, total_steps=STEPS, cycle_momentum=False)),
    "SequentialLR": ("SGD", {}, lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=5), m.ExponentialLR(o, gamma=0.9),
            m.CosineAnnealingLR(o, T_max=10)], milestones=[5, 20])),
    "Chained": ("SGD", {}, lambda m, o: m.ChainedScheduler([m.ConstantLR(o, factor=0.5, total_iters=4),
                                                            m.ExponentialLR(o, gamma=0.9)])),
}


def _opt(mod, name, kwargs, params):
    groups = [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.05}]
    return getattr(mod, name)(groups, lr=0.1, **kwargs)


@pytest.mark.parametrize("case", list(CASES))
def test_lr_sequence_matches_torch(case):
    torch = pytest.importorskip("torch")
    opt_name, kwargs, build = CASES[case]
    tparams = [torch.zeros(2, requires_grad=True) for _ in range(2)]
    mparams = [tinytorch.zeros(2, requires_grad=True) for _ in range(2)]
    topt, mopt = _opt(torch.optim, opt_name, kwargs, tparams), _opt(optim, opt_name, kwargs, mparams)
    tsch, msch = build(torch.optim.lr_scheduler, topt), build(ls, mopt)
    for step in range(STEPS):
        assert mopt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12, abs=1e-15), step
        assert msch.get_last_lr() == pytest.approx(tsch.get_last_lr(), rel=1e-12, abs=1e-15), step
        for key in ("momentum", "betas"):
            if key in topt.param_groups[1]:
                assert mopt.param_groups[1][key] == pytest.approx(topt.param_groups[1][key], rel=1e-12), (step, key)
        if step == STEPS - 1 and case.startswith("OneCycle"):
            break  # OneCycleLR refuses to step past total_steps
        topt.step()
        mopt.step()
        tsch.step()
        msch.step()


def test_reduce_on_plateau_matches_torch():
    torch = pytest.importorskip("torch")
    metrics = [1.0, 0.9, 0.9, 0.91, 0.9, 0.95, 0.89, 0.89, 0.89, 0.89, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5] * 2
    for kw in (dict(patience=2), dict(mode="max", factor=0.5, patience=1, cooldown=2, threshold_mode="abs", threshold=0.01),
               dict(patience=0, min_lr=[0.01, 0.02], factor=0.3)):
        tp, mp = [torch.zeros(1, requires_grad=True) for _ in range(2)], [tinytorch.zeros(1, requires_grad=True) for _ in range(2)]
        topt, mopt = _opt(torch.optim, "SGD", {}, tp), _opt(optim, "SGD", {}, mp)
        tsch, msch = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kw), ls.ReduceLROnPlateau(mopt, **kw)
        for m in metrics:
            tsch.step(m)
            msch.step(m)
            assert msch.get_last_lr() == pytest.approx(tsch.get_last_lr(), rel=1e-12), (kw, m)


def test_step_lr_by_hand():
    p = tinytorch.zeros(1, requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    sch = ls.StepLR(opt, step_size=2, gamma=0.1)
    seen = []
    for _ in range(6):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sch.step()
    np.testing.assert_allclose(seen, [1, 1, 0.1, 0.1, 0.01, 0.01])
    assert opt.param_groups[0]["initial_lr"] == 1.0 and sch.last_epoch == 6


def test_cosine_closed_form_by_hand():
    p = tinytorch.zeros(1, requires_grad=True)
    opt = optim.SGD([p], lr=2.0)
    sch = ls.CosineAnnealingLR(opt, T_max=10, eta_min=0.5)
    for t in range(1, 11):
        opt.step()
        sch.step()
        assert sch.get_last_lr()[0] == pytest.approx(0.5 + 1.5 * (1 + math.cos(math.pi * t / 10)) / 2)


def test_state_dict_resume():
    p = tinytorch.zeros(1, requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    sch = ls.LambdaLR(opt, lr_lambda=_lambda)
    for _ in range(3):
        sch.step()
    sd = sch.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 3 and sd["lr_lambdas"] == [None]
    opt2 = optim.SGD([tinytorch.zeros(1, requires_grad=True)], lr=1.0)
    sch2 = ls.LambdaLR(opt2, lr_lambda=_lambda)
    sch2.load_state_dict(sd)
    sch.step()
    sch2.step()
    assert sch2.get_last_lr() == pytest.approx(sch.get_last_lr())
    sch3 = ls.StepLR(opt, step_size=3)
    sch3.load_state_dict(ls.StepLR(optim.SGD([tinytorch.zeros(1, requires_grad=True)]), step_size=5).state_dict())
    assert sch3.step_size == 5


def test_validation_messages():
    p = tinytorch.zeros(1, requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        ls.StepLR(object(), step_size=1)
    with pytest.raises(ValueError, match="step_size must be a positive number, got 0"):
        ls.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        ls.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="total_steps OR"):
        ls.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="momentum or beta1"):
        ls.OneCycleLR(optim.Adagrad([p]), max_lr=0.1, total_steps=10)
    with pytest.raises(ValueError, match="Expected positive integer T_0"):
        ls.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        ls.SequentialLR(opt, [ls.ExponentialLR(opt, 0.9)], milestones=[3])
    with pytest.raises(KeyError, match="initial_lr"):
        ls.StepLR(optim.SGD([p], lr=0.1), step_size=2, last_epoch=3)
    sch = ls.OneCycleLR(opt, max_lr=0.1, total_steps=2, cycle_momentum=False)
    sch.step()
    sch.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        sch.step()
