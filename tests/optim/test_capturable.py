"""``capturable=True`` Adam/AdamW: ``step`` on the parameter's device, same updates as the host path."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as torch


def _np(t):
    return t.detach().cpu().numpy()


@pytest.mark.parametrize("cls,kw", [(torch.optim.Adam, {}), (torch.optim.Adam, {"amsgrad": True, "weight_decay": 0.1}),
                                    (torch.optim.AdamW, {}), (torch.optim.AdamW, {"amsgrad": True, "maximize": True})])
def test_capturable_equals_host_step_for_step(device, cls, kw):
    torch.manual_seed(0)
    a = torch.randn(5, 3, device=device, requires_grad=True)
    b = a.detach().clone().requires_grad_()
    oa, ob = cls([a], lr=0.1, **kw), cls([b], lr=0.1, capturable=True, **kw)
    for i in range(12):
        g = torch.randn(5, 3, device=device)
        a.grad, b.grad = g.clone(), g.clone()
        oa.step()
        ob.step()
        # the bias corrections are float32 on the device path (torch's capturable path too)
        np.testing.assert_allclose(_np(b), _np(a), rtol=1e-4, atol=1e-5, err_msg=f"step {i + 1}")
    step = ob.state[b]["step"]
    assert step.device == b.device and step.dim() == 0 and float(step) == 12
    assert oa.state[a]["step"].device.type == "cpu"


def test_capturable_state_dict_round_trip(device):
    torch.manual_seed(0)
    p = torch.randn(4, device=device, requires_grad=True)
    q = p.detach().clone().requires_grad_()
    o1 = torch.optim.AdamW([p], lr=0.1, capturable=True)
    for _ in range(3):
        p.grad = torch.ones(4, device=device)
        o1.step()
    o2 = torch.optim.AdamW([q], lr=0.1, capturable=True)
    q.data.copy_(p.data)
    o2.load_state_dict(o1.state_dict())
    for _ in range(2):
        p.grad = torch.full((4,), 0.5, device=device)
        q.grad = torch.full((4,), 0.5, device=device)
        o1.step()
        o2.step()
    np.testing.assert_allclose(_np(q), _np(p), rtol=1e-6)
    assert float(o2.state[q]["step"]) == 5 and o2.state[q]["step"].device == q.device


def test_compiled_cpu_step_with_capturable_adamw_equals_eager():
    import tinytorch.nn as nn
    import tinytorch.nn.functional as F

    def make():
        torch.manual_seed(0)
        m = nn.Linear(4, 2)
        return m, torch.optim.AdamW(m.parameters(), lr=0.05, capturable=True)

    (m1, o1), (m2, o2) = make(), make()

    def step(m, o, x, y):
        o.zero_grad()
        loss = F.mse_loss(m(x), y)
        loss.backward()
        o.step()
        return loss

    fn = torch.compile(lambda x, y: step(m1, o1, x, y))
    rng = np.random.default_rng(0)
    for _ in range(6):
        x, y = torch.tensor(rng.standard_normal((3, 4)), dtype=torch.float32), torch.zeros(3, 2)
        assert float(fn(x, y)) == pytest.approx(float(step(m2, o2, x, y)), rel=1e-6)
    np.testing.assert_allclose(_np(m1.weight), _np(m2.weight), rtol=1e-6)
    assert fn.replays > 0
