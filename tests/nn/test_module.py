"""Module mechanics: registration, traversal, state dicts, modes, device/dtype moves, hooks, repr, copies."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import tinytorch as torch
import tinytorch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.scale = nn.Parameter(torch.ones(1))
        self.register_buffer("steps", torch.zeros(1))
        self.register_buffer("cache", torch.zeros(2), persistent=False)
        self.block = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))

    def forward(self, x):
        return self.block(self.fc1(x).relu()) * self.scale


def test_parameter_is_tensor_subclass_leaf_requiring_grad():
    data = torch.randn(2, 3)
    p = nn.Parameter(data)
    assert isinstance(p, nn.Parameter) and isinstance(p, torch.Tensor)
    assert p.requires_grad and p.is_leaf
    assert p._data is data._data  # wraps without copying
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert not nn.Parameter(data, requires_grad=False).requires_grad
    with pytest.raises(TypeError):
        nn.Parameter(np.zeros(3))


def test_buffer_marker_and_persistence():
    b = nn.Buffer(torch.ones(2), persistent=False)
    assert isinstance(b, nn.Buffer) and not isinstance(torch.ones(2), nn.Buffer)
    m = nn.Module()
    m.state = b
    m.kept = nn.Buffer(torch.zeros(1))
    assert [n for n, _ in m.named_buffers()] == ["state", "kept"]
    assert list(m.state_dict()) == ["kept"]


def test_registration_and_traversal_order():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "scale", "fc1.weight", "fc1.bias", "block.0.weight", "block.0.bias", "block.2.weight", "block.2.bias"]
    assert [n for n, _ in net.named_buffers()] == ["steps", "cache"]
    assert [n for n, _ in net.named_children()] == ["fc1", "block"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "block", "block.0", "block.1", "block.2"]
    assert [n for n, _ in net.named_parameters(prefix="m", recurse=False)] == ["m.scale"]
    assert len(list(net.parameters())) == 7 and len(list(net.modules())) == 6
    assert "fc1" in dir(net) and "scale" in dir(net)


def test_setattr_semantics():
    m = nn.Module()
    m.w = nn.Parameter(torch.ones(2))
    with pytest.raises(TypeError, match="cannot assign"):
        m.w = torch.ones(2)  # a plain tensor cannot replace a parameter
    m.w = None
    assert m.w is None and "w" in m._parameters
    m.sub = nn.Linear(2, 2)
    with pytest.raises(TypeError):
        m.sub = 3
    del m.sub
    assert "sub" not in m._modules
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        m.nope
    with pytest.raises(KeyError):
        m.register_buffer("a.b", torch.ones(1))
    with pytest.raises(TypeError):
        m.register_buffer("x", 3)
    m.plain = 5
    with pytest.raises(KeyError, match="already exists"):
        m.register_parameter("plain", nn.Parameter(torch.ones(1)))
    with pytest.raises(ValueError, match="non-leaf"):
        m.register_parameter("nl", _nonleaf_param())


def _nonleaf_param():
    p = nn.Parameter(torch.ones(2))
    q = nn.Parameter(torch.ones(2))
    q._grad_fn = (p * 2)._grad_fn  # fake history: a parameter must be a leaf
    return q


def test_shared_parameters_deduplicated():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_state_dict_roundtrip_and_detached():
    a, b = Net(), Net()
    sd = a.state_dict()
    assert list(sd) == ["scale", "steps", "fc1.weight", "fc1.bias", "block.0.weight", "block.0.bias",
                        "block.2.weight", "block.2.bias"]
    assert not sd["fc1.weight"].requires_grad
    assert a.state_dict(keep_vars=True)["fc1.weight"] is a.fc1.weight
    res = b.load_state_dict(sd)
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert repr(res) == "<All keys matched successfully>"
    for (k, v), (_, w) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(v.numpy(), w.numpy(), err_msg=k)
    w_before = b.fc1.weight
    b.load_state_dict(Net().state_dict())
    assert b.fc1.weight is w_before  # loads copy into the existing parameter


def test_load_state_dict_errors():
    net = Net()
    sd = net.state_dict()
    del sd["fc1.bias"]
    sd["extra.weight"] = torch.ones(1)
    with pytest.raises(RuntimeError) as e:
        Net().load_state_dict(sd)
    msg = str(e.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "fc1.bias".' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in msg
    res = Net().load_state_dict(sd, strict=False)
    assert res.missing_keys == ["fc1.bias"] and res.unexpected_keys == ["extra.weight"]
    bad = net.state_dict()
    bad["fc1.weight"] = torch.ones(5, 3)
    with pytest.raises(RuntimeError, match=r"size mismatch for fc1.weight: copying a param with shape "
                                           r"torch.Size\(\[5, 3\]\) from checkpoint, the shape in current model "
                                           r"is torch.Size\(\[4, 3\]\)"):
        Net().load_state_dict(bad, strict=False)


def test_train_eval_propagate():
    net = Net()
    assert net.training and net.block[1].training
    assert net.eval() is net
    assert not net.training and not net.block[0].training
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError):
        net.train("yes")


def test_to_dtype_keeps_parameter_identity():
    net = Net()
    w = net.fc1.weight
    net.fc1.weight.grad = torch.ones(4, 3)
    net.to(torch.float64)
    assert net.fc1.weight is w and isinstance(w, nn.Parameter)
    assert w.dtype == torch.float64 and w.grad.dtype == torch.float64
    assert net.steps.dtype == torch.float64
    net.float()
    assert w.dtype == torch.float32
    net.to(torch.zeros(1, dtype=torch.float64))
    assert w.dtype == torch.float64
    with pytest.raises(TypeError, match="floating point"):
        net.to(torch.int64)
    bn = nn.BatchNorm1d(3).double()
    assert bn.num_batches_tracked.dtype == torch.int64  # integer buffers keep their dtype
    assert net.cpu() is net


def test_zero_grad_requires_grad_apply():
    net = Net()
    for p in net.parameters():
        p.grad = torch.ones(*p.shape)
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.sum()) == 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Linear", "ReLU", "Linear", "Sequential", "Net"]


def test_get_submodule_and_parameter():
    net = Net()
    assert net.get_submodule("block.2") is net.block[2]
    assert net.get_parameter("block.0.bias") is net.block[0].bias
    assert net.get_buffer("steps") is net.steps
    with pytest.raises(AttributeError):
        net.get_submodule("block.7")
    with pytest.raises(AttributeError):
        net.get_parameter("steps")


def test_forward_hooks_and_pre_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = lin(torch.ones(3, 2))
    np.testing.assert_allclose(out.detach().numpy(), (lin.bias.detach().numpy() + 1)[None].repeat(3, 0), rtol=1e-6)
    assert calls == [(3, 2)]
    h1.remove()
    h2.remove()
    out = lin(torch.ones(3, 2))
    assert len(calls) == 1
    kw = []
    lin.register_forward_pre_hook(lambda m, a, k: kw.append(k), with_kwargs=True)
    lin(input=torch.ones(1, 2))
    assert "input" in kw[0]


def test_full_backward_hook():
    lin = nn.Linear(3, 2)
    seen = {}

    def hook(module, grad_input, grad_output):
        seen["gi"], seen["go"] = grad_input, grad_output
        return (grad_input[0] * 2,)

    lin.register_full_backward_hook(hook)
    x = torch.randn(4, 3, requires_grad=True)
    lin(x).sum().backward()
    np.testing.assert_allclose(seen["go"][0].numpy(), np.ones((4, 2)))
    expected = np.ones((4, 2)) @ lin.weight.detach().numpy()
    np.testing.assert_allclose(seen["gi"][0].numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), 2 * expected, rtol=1e-6)


def test_deepcopy_is_independent():
    net = Net()
    clone = copy.deepcopy(net)
    assert isinstance(clone.fc1.weight, nn.Parameter) and clone.fc1.weight.requires_grad
    assert clone.fc1.weight is not net.fc1.weight
    np.testing.assert_array_equal(clone.fc1.weight.detach().numpy(), net.fc1.weight.detach().numpy())
    with torch.no_grad():
        clone.fc1.weight.mul_(0)
    assert float(net.fc1.weight.abs().sum()) > 0
    assert list(clone.state_dict()) == list(net.state_dict())
    assert "cache" in dict(clone.named_buffers()) and "cache" not in clone.state_dict()


def test_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub._modules) == ["1", "2"]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"]
    with pytest.raises(IndexError):
        seq[10]
    od = nn.Sequential(__import__("collections").OrderedDict([("enc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(od.state_dict()) == ["enc.weight", "enc.bias"] and od.act is od[1]

    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    ml.append(nn.ReLU())
    ml.insert(0, nn.Tanh())
    assert [type(m).__name__ for m in ml] == ["Tanh", "Linear", "Linear", "Linear", "ReLU"]
    assert list(ml.state_dict())[:2] == ["1.weight", "1.bias"]
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2

    md = nn.ModuleDict({"a": nn.Linear(1, 2), "b": nn.ReLU()})
    md["c"] = nn.Linear(2, 1)
    assert list(md.keys()) == ["a", "b", "c"] and "b" in md and len(md) == 3
    assert list(md.state_dict()) == ["a.weight", "a.bias", "c.weight", "c.bias"]

    pl = nn.ParameterList([nn.Parameter(torch.ones(2)), torch.zeros(3)])
    assert isinstance(pl[1], nn.Parameter) and len(pl) == 2
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
    pd = nn.ParameterDict({"x": torch.ones(1)})
    assert isinstance(pd["x"], nn.Parameter) and list(pd.state_dict()) == ["x"]


def test_layer_hyperparameters_validated_at_construction():
    with pytest.raises(ValueError):
        nn.Dropout(p=1.5)
    with pytest.raises(ValueError):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError):
        nn.GroupNorm(3, 4)
    with pytest.raises(AssertionError):  # torch asserts here
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError):
        nn.RNN(2, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(AssertionError):
        nn.Embedding(5, 2, padding_idx=5)


def test_model_on_device_forward_backward(device):
    net = Net()
    params = list(net.parameters())
    net.to(device)
    assert list(net.parameters()) == params and all(p.device.type == device for p in params)
    assert net.steps.device.type == device
    x = torch.randn(5, 3, device=device)
    net(x).sum().backward()
    assert all(p.grad is not None and p.grad.device.type == device for p in params)
    net.to("cpu", torch.float64)
    assert all(p.device.type == "cpu" and p.dtype == torch.float64 for p in params)


def test_repr_of_custom_module():
    assert repr(Net()) == (
        "Net(\n"
        "  (fc1): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (block): Sequential(\n"
        "    (0): Linear(in_features=4, out_features=4, bias=True)\n"
        "    (1): ReLU()\n"
        "    (2): Linear(in_features=4, out_features=2, bias=True)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.Linear(2, 2).extra_repr()) == repr("in_features=2, out_features=2, bias=True")
    assert "Parameter containing: [" in repr(nn.ParameterList([nn.Parameter(torch.ones(2, 3))]))
