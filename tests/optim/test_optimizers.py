"""Optimizers: step-by-step equality with torch.optim in float64, hand-computed updates, and the base API."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import tinytorch
import tinytorch.optim as optim

# (name, list of option dicts) — every combination listed is compared with torch over several steps
CONFIGS = {
    "SGD": [dict(lr=0.1)] + [
        dict(lr=0.05, momentum=m, dampening=d, weight_decay=wd, nesterov=n, maximize=mx)
        for m, d, wd, n, mx in itertools.product((0.0, 0.9), (0.0, 0.3), (0.0, 0.1), (False, True), (False, True))
        if not (n and (m == 0 or d != 0))
    ],
    "Adam": [
        dict(lr=0.01, betas=b, eps=e, weight_decay=wd, amsgrad=a, maximize=mx)
        for b, e, wd, a, mx in itertools.product(((0.9, 0.999), (0.5, 0.9)), (1e-8, 1e-3), (0.0, 0.1), (False, True), (False, True))
    ] + [dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)],
    "AdamW": [
        dict(lr=0.01, weight_decay=wd, amsgrad=a, maximize=mx, betas=(0.8, 0.95))
        for wd, a, mx in itertools.product((0.0, 0.01, 0.5), (False, True), (False, True))
    ],
    "RMSprop": [
        dict(lr=0.01, alpha=al, eps=1e-6, weight_decay=wd, momentum=m, centered=c, maximize=mx)
        for al, wd, m, c, mx in itertools.product((0.99, 0.5), (0.0, 0.1), (0.0, 0.9), (False, True), (False, True))
    ],
    "Adagrad": [
        dict(lr=0.1, lr_decay=ld, weight_decay=wd, initial_accumulator_value=iv, eps=1e-10, maximize=mx)
        for ld, wd, iv, mx in itertools.product((0.0, 0.05), (0.0, 0.1), (0.0, 0.5), (False, True))
    ],
    "Adadelta": [
        dict(lr=lr, rho=r, eps=e, weight_decay=wd, maximize=mx)
        for lr, r, e, wd, mx in itertools.product((1.0, 0.3), (0.9, 0.5), (1e-6, 1e-2), (0.0, 0.1), (False, True))
    ],
    "Adamax": [
        dict(lr=0.01, betas=b, weight_decay=wd, maximize=mx, eps=1e-4)
        for b, wd, mx in itertools.product(((0.9, 0.999), (0.5, 0.8)), (0.0, 0.1), (False, True))
    ],
    "NAdam": [
        dict(lr=0.01, betas=b, weight_decay=wd, momentum_decay=md, decoupled_weight_decay=dw, maximize=mx)
        for b, wd, md, dw, mx in itertools.product(((0.9, 0.999), (0.6, 0.9)), (0.0, 0.1), (4e-3, 0.1), (False, True), (False, True))
    ],
    "RAdam": [
        dict(lr=0.01, betas=b, weight_decay=wd, decoupled_weight_decay=dw, maximize=mx)
        # beta2 = 0.5 makes rho_t > 5 from step 6 on, so both branches of the rectification run
        for b, wd, dw, mx in itertools.product(((0.9, 0.999), (0.9, 0.5)), (0.0, 0.1), (False, True), (False, True))
    ],
}
CASES = [(name, cfg) for name, cfgs in CONFIGS.items() for cfg in cfgs]
SHAPES = [(3, 4), (5,), ()]
STEPS = 8


def _grads(seed):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) for s in SHAPES] for _ in range(STEPS)]


def _init(seed=0):
    rng = np.random.default_rng(seed + 100)
    return [rng.standard_normal(s) for s in SHAPES]


@pytest.mark.parametrize("name,cfg", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch_step_by_step(name, cfg):
    torch = pytest.importorskip("torch")
    init, grads = _init(), _grads(1)
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    mp = [tinytorch.tensor(a.copy(), requires_grad=True) for a in init]
    topt = getattr(torch.optim, name)(tp, **cfg)
    mopt = getattr(optim, name)(mp, **cfg)
    for step in range(STEPS):
        for t, m, g in zip(tp, mp, grads[step]):
            t.grad = torch.tensor(g)
            m.grad = tinytorch.tensor(g)
        topt.step()
        mopt.step()
        for t, m in zip(tp, mp):
            np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=1e-11, atol=1e-13,
                                       err_msg=f"{name} {cfg} step {step}")
    tsd, msd = topt.state_dict(), mopt.state_dict()
    assert [sorted(g) for g in msd["param_groups"]] == [sorted(g) for g in tsd["param_groups"]]
    assert msd["param_groups"][0]["params"] == tsd["param_groups"][0]["params"]
    assert set(msd["state"]) == set(tsd["state"])
    for i, ts in tsd["state"].items():
        assert set(msd["state"][i]) == set(ts), (name, cfg)
        for k, v in ts.items():
            np.testing.assert_allclose(np.asarray(msd["state"][i][k].numpy(), dtype=np.float64),
                                       v.detach().double().numpy(), rtol=1e-10, atol=1e-13)


def test_sgd_momentum_by_hand(device):
    p = tinytorch.tensor([1.0, -2.0], dtype=tinytorch.float64, device=device, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.01)
    g1, g2 = np.array([0.5, 1.0]), np.array([-1.0, 2.0])
    x = np.array([1.0, -2.0])
    p.grad = tinytorch.tensor(g1, device=device)
    opt.step()
    d1 = g1 + 0.01 * x
    buf = d1  # the first step copies the gradient, no dampening
    x = x - 0.1 * buf
    np.testing.assert_allclose(p.detach().cpu().numpy(), x, rtol=1e-14)
    p.grad = tinytorch.tensor(g2, device=device)
    opt.step()
    d2 = g2 + 0.01 * x
    buf = 0.9 * buf + 0.5 * d2
    x = x - 0.1 * buf
    np.testing.assert_allclose(p.detach().cpu().numpy(), x, rtol=1e-14)
    assert opt.state[p]["momentum_buffer"].device == p.device


def test_adam_by_hand(device):
    p = tinytorch.tensor([0.5, -1.5, 2.0], dtype=tinytorch.float64, device=device, requires_grad=True)
    lr, b1, b2, eps = 0.01, 0.8, 0.9, 1e-6
    opt = optim.Adam([p], lr=lr, betas=(b1, b2), eps=eps)
    x = np.array([0.5, -1.5, 2.0])
    m = v = np.zeros(3)
    rng = np.random.default_rng(3)
    for t in range(1, 5):
        g = rng.standard_normal(3)
        p.grad = tinytorch.tensor(g, device=device)
        opt.step()
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x = x - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        np.testing.assert_allclose(p.detach().cpu().numpy(), x, rtol=1e-12)
    assert float(opt.state[p]["step"]) == 4.0
    assert opt.state[p]["exp_avg"].dtype == tinytorch.float64
    assert opt.state[p]["exp_avg"].device == p.device


def test_float32_params_keep_dtype(device):
    p = tinytorch.ones(3, device=device, requires_grad=True)
    opt = optim.AdamW([p], lr=0.1)
    p.grad = tinytorch.ones(3, device=device)
    opt.step()
    assert p.dtype == tinytorch.float32 and opt.state[p]["exp_avg_sq"].dtype == tinytorch.float32
    assert np.all(p.detach().cpu().numpy() < 1)


@pytest.mark.parametrize("cls,kwargs,msg", [
    (optim.SGD, dict(lr=-1), "Invalid learning rate: -1"),
    (optim.SGD, dict(lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
    (optim.SGD, dict(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (optim.Adam, dict(eps=-1e-3), "Invalid epsilon value: -0.001"),
    (optim.Adam, dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    (optim.AdamW, dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (optim.Adam, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    (optim.RMSprop, dict(alpha=-0.1), "Invalid alpha value: -0.1"),
    (optim.Adadelta, dict(rho=1.5), "Invalid rho value: 1.5"),
    (optim.Adadelta, dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    (optim.Adagrad, dict(lr_decay=-1), "Invalid lr_decay value: -1"),
    (optim.NAdam, dict(momentum_decay=-1), "Invalid momentum_decay value: -1"),
])
def test_hyperparameters_validated_at_construction(cls, kwargs, msg):
    p = tinytorch.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        cls([p], **kwargs)


def test_differentiable_is_refused_clearly():
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        optim.Adam([tinytorch.ones(1, requires_grad=True)], differentiable=True)


def test_param_groups_defaults_and_errors():
    a, b, c = (tinytorch.ones(2, requires_grad=True) for _ in range(3))
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["momentum"] == 0.9
    assert opt.param_groups[1]["params"][0] is b
    opt.add_param_group({"params": [c], "momentum": 0.0})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0.0
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD({a}, lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([a * 2], lr=0.1)


def test_state_is_keyed_by_the_tensor_object():
    a = tinytorch.ones(2, requires_grad=True)
    b = tinytorch.ones(2, requires_grad=True)  # equal values, different tensor
    opt = optim.Adam([a, b])
    a.grad = tinytorch.ones(2)
    opt.step()
    assert a in opt.state and b not in opt.state
    assert list(opt.state) == [a]
    assert float(opt.state[a]["step"]) == 1.0


def test_zero_grad():
    a = tinytorch.ones(2, requires_grad=True)
    opt = optim.SGD([a], lr=0.1)
    (a * 3).sum().backward()
    g = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is g and a.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert a.grad is None


def test_step_closure_and_skips_params_without_grad():
    a = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    b = tinytorch.tensor([3.0], requires_grad=True)
    opt = optim.SGD([a, b], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss) == 5.0
    assert a.tolist() == [0.0, 0.0] and b.tolist() == [3.0]
    assert a.requires_grad and a.grad_fn is None


def test_step_bumps_version_so_stale_graphs_fail():
    a = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([a], lr=0.5)
    y = (a * a).sum()  # saves a
    a.grad = tinytorch.ones(2)
    opt.step()
    with pytest.raises(RuntimeError, match="inplace"):
        y.backward()


def test_state_dict_roundtrip_continues_identically():
    rng = np.random.default_rng(0)
    init = rng.standard_normal(4)
    grads = rng.standard_normal((6, 4))

    def make():
        p = tinytorch.tensor(init.copy(), requires_grad=True)
        return p, optim.Adam([p], lr=0.1, amsgrad=True)

    p1, o1 = make()
    for g in grads[:3]:
        p1.grad = tinytorch.tensor(g)
        o1.step()
    sd = o1.state_dict()
    assert sd["param_groups"][0]["params"] == [0] and set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    p2, o2 = make()
    p2.data = p1.detach().clone()
    o2.load_state_dict(sd)
    assert o2.state[p2]["exp_avg"] is not sd["state"][0]["exp_avg"]
    for g in grads[3:]:
        for p, o in ((p1, o1), (p2, o2)):
            p.grad = tinytorch.tensor(g)
            o.step()
    np.testing.assert_array_equal(p1.detach().numpy(), p2.detach().numpy())
    with pytest.raises(ValueError, match="different number of parameter groups"):
        o2.load_state_dict({"state": {}, "param_groups": []})


def test_load_state_dict_casts_to_param_dtype():
    p = tinytorch.ones(3, dtype=tinytorch.float32, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    sd = {"state": {0: {"momentum_buffer": tinytorch.ones(3, dtype=tinytorch.float64)}},
          "param_groups": [dict(opt.state_dict()["param_groups"][0], lr=0.2)]}
    opt.load_state_dict(sd)
    assert opt.state[p]["momentum_buffer"].dtype == tinytorch.float32
    assert opt.param_groups[0]["lr"] == 0.2 and opt.param_groups[0]["params"][0] is p


def test_load_torch_state_dict_values():
    torch = pytest.importorskip("torch")
    tp = torch.ones(3, dtype=torch.float64, requires_grad=True)
    topt = torch.optim.Adam([tp], lr=0.1)
    tp.grad = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    topt.step()
    sd = topt.state_dict()
    conv = {"state": {k: {n: tinytorch.tensor(v.numpy()) for n, v in s.items()} for k, s in sd["state"].items()},
            "param_groups": sd["param_groups"]}
    p = tinytorch.tensor(tp.detach().numpy().copy(), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    opt.load_state_dict(conv)
    g = np.array([0.3, 0.2, -1.0])
    tp.grad = torch.tensor(g)
    p.grad = tinytorch.tensor(g)
    topt.step()
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-12)


def test_fused_flag_falls_back_on_cpu():
    p = tinytorch.tensor([1.0, 2.0], dtype=tinytorch.float64, requires_grad=True)
    q = tinytorch.tensor([1.0, 2.0], dtype=tinytorch.float64, requires_grad=True)
    o1, o2 = optim.Adam([p], lr=0.1, fused=True), optim.Adam([q], lr=0.1)
    for _ in range(2):
        p.grad = tinytorch.tensor([0.5, -0.5], dtype=tinytorch.float64)
        q.grad = tinytorch.tensor([0.5, -0.5], dtype=tinytorch.float64)
        o1.step()
        o2.step()
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_fused_fallback_counts_each_step_once():
    """A fused step that declines (CPU, unsupported layout) leaves ``step`` to the per-parameter path: +1 per step."""
    p = tinytorch.tensor([1.0, 2.0], dtype=tinytorch.float64, requires_grad=True)
    opt = optim.AdamW([p], lr=0.1, fused=True)
    for k in range(1, 4):
        p.grad = tinytorch.tensor([0.5, -0.5], dtype=tinytorch.float64)
        opt.step()
        assert float(opt.state[p]["step"]) == k


def test_signatures_expose_foreach_and_fused():
    import inspect

    for cls in (optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad, optim.Adamax, optim.NAdam, optim.RAdam):
        params = inspect.signature(cls.__init__).parameters
        assert params["foreach"].default is None and params["fused"].default is None, cls


def test_signature_defaults_match_torch():
    torch = pytest.importorskip("torch")
    import inspect

    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam"):
        ours = inspect.signature(getattr(optim, name).__init__).parameters
        theirs = inspect.signature(getattr(torch.optim, name).__init__).parameters
        for k, v in theirs.items():
            assert k in ours, (name, k)
            if v.default is not inspect.Parameter.empty:
                assert ours[k].default == v.default, (name, k, ours[k].default, v.default)
