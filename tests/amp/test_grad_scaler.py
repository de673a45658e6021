"""GradScaler end to end with float16 autocast, step for step against torch's GradScaler('cpu') (torch 2.3+
scales on the CPU too): skipped inf/NaN steps, growth and backoff, unscale_ before clipping, state_dict,
fused optimizers; and the pass-through a 'cuda' scaler becomes without CUDA."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinytorch

torch = pytest.importorskip("torch")

BAD_STEPS = {2: "inf", 5: "nan"}  # steps whose input poisons the gradients


def _data(steps):
    rng = np.random.default_rng(0)
    return [(rng.standard_normal((8, 6)).astype(np.float32), rng.standard_normal((8, 2)).astype(np.float32))
            for _ in range(steps)]


def _poison(x, step):
    if step in BAD_STEPS:
        x = x.copy()
        x[0, 0] = np.inf if BAD_STEPS[step] == "inf" else np.nan
    return x


def _run_tinytorch(steps, *, clip=None, opt_name="SGD", fused=None, scaler=None):
    tinytorch.manual_seed(0)
    rng = np.random.default_rng(1)
    model = tinytorch.nn.Sequential(tinytorch.nn.Linear(6, 16), tinytorch.nn.ReLU(), tinytorch.nn.Linear(16, 2))
    with tinytorch.no_grad():
        for p in model.parameters():
            p.copy_(tinytorch.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.3))
    kw = {"fused": fused} if fused is not None else {}
    opt = getattr(tinytorch.optim, opt_name)(model.parameters(), lr=0.05, **kw)
    scaler = scaler or tinytorch.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=3)
    scales, skipped = [], []
    for step, (x, y) in enumerate(_data(steps)):
        opt.zero_grad()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the poisoned steps
            with tinytorch.autocast("cpu", dtype=tinytorch.float16):
                out = model(tinytorch.tensor(_poison(x, step)))
                loss = tinytorch.nn.functional.mse_loss(out, tinytorch.tensor(y))
            assert out.dtype is tinytorch.float16 and loss.dtype is tinytorch.float32
            scaler.scale(loss).backward()
            if clip is not None:
                scaler.unscale_(opt)
                tinytorch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            before = [p.detach().clone() for p in model.parameters()]
            scaler.step(opt)
        skipped.append(all(tinytorch.equal(b, p.detach()) for b, p in zip(before, model.parameters())))
        scaler.update()
        scales.append(scaler.get_scale())
    return model, scales, skipped, scaler


def _run_torch(steps, *, clip=None, opt_name="SGD"):
    rng = np.random.default_rng(1)
    model = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.3))
    opt = getattr(torch.optim, opt_name)(model.parameters(), lr=0.05)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=3)
    scales = []
    for step, (x, y) in enumerate(_data(steps)):
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.float16):
            loss = torch.nn.functional.mse_loss(model(torch.tensor(_poison(x, step))), torch.tensor(y))
        scaler.scale(loss).backward()
        if clip is not None:
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    return model, scales


@pytest.mark.parametrize("clip", [None, 0.5], ids=["plain", "unscale_then_clip"])
@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_matches_torch_step_for_step(clip, opt_name):
    steps = 9
    model, scales, skipped, _ = _run_tinytorch(steps, clip=clip, opt_name=opt_name)
    tmodel, tscales = _run_torch(steps, clip=clip, opt_name=opt_name)
    assert scales == tscales  # backoff on the poisoned steps, growth after 3 clean ones
    assert [i for i, s in enumerate(skipped) if s] == sorted(BAD_STEPS)
    for p, tp in zip(model.parameters(), tmodel.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=2e-3, atol=2e-3)


def test_scale_schedule_values():
    _, scales, _, _ = _run_tinytorch(9)
    # 2**10; step 2 (inf) backs off; 3 clean steps grow; step 5 (nan) backs off; 3 clean steps grow
    assert scales == [1024.0, 1024.0, 512.0, 512.0, 512.0, 256.0, 256.0, 256.0, 512.0]


def test_fused_optimizer_gives_the_same_steps():
    base, s1, k1, _ = _run_tinytorch(7, opt_name="Adam", fused=False)
    fused, s2, k2, _ = _run_tinytorch(7, opt_name="Adam", fused=True)
    assert s1 == s2 and k1 == k2
    for p, q in zip(base.parameters(), fused.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_state_dict_round_trip_and_torch_keys():
    _, _, _, scaler = _run_tinytorch(4)
    sd = scaler.state_dict()
    assert set(sd) == set(torch.amp.GradScaler("cpu").state_dict())
    fresh = tinytorch.amp.GradScaler("cpu")
    fresh.load_state_dict(sd)
    assert fresh.state_dict() == sd and fresh.get_scale() == scaler.get_scale()
    assert fresh._growth_tracker == scaler._growth_tracker == 1  # one clean step since step 2's backoff


def test_unscale_twice_and_disabled_pass_through():
    model = tinytorch.nn.Linear(3, 1)
    opt = tinytorch.optim.SGD(model.parameters(), lr=0.1)
    s = tinytorch.amp.GradScaler("cpu")
    s.scale(model(tinytorch.ones(2, 3)).sum()).backward()
    s.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        s.unscale_(opt)
    off = tinytorch.amp.GradScaler("cpu", enabled=False)
    loss = model(tinytorch.ones(2, 3)).sum()
    assert off.scale(loss) is loss and off.get_scale() == 1.0 and off.state_dict() == {}


def test_cuda_scaler_without_cuda_is_a_pass_through_with_torchs_warning():
    if tinytorch.cuda.is_available():
        pytest.skip("CUDA is available")
    with pytest.warns(UserWarning, match="torch.cuda.amp.GradScaler is enabled, but CUDA is not available"):
        s = tinytorch.amp.GradScaler("cuda")
    assert not s.is_enabled() and s.get_scale() == 1.0
    with pytest.warns(FutureWarning, match="deprecated"):
        c = tinytorch.cpu.amp.GradScaler()
    assert c.is_enabled()
