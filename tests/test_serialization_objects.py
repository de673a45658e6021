"""Issue #12 §3: whole-model save/load and plain objects, under PyTorch's ``weights_only`` contract, with no
pickle and no code run from the file (hostile metadata naming ``os.system`` etc. is refused before anything
is built or imported)."""
from __future__ import annotations

import argparse
import collections
import dataclasses
import enum
import io
import json
import os
import struct
import sys
from pickle import UnpicklingError

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
from tinytorch import serialization


class TwoTower(nn.Module):
    """A user's module (needs allow-listing under weights_only=True)."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.ModuleList([nn.Linear(8, 8), nn.Tanh()]))
        self.heads = nn.ModuleDict({"a": nn.Linear(8, 2), "b": nn.Linear(8, 3)})
        self.scale = 2.5
        self.names = ["a", "b"]
        self.register_buffer("calls", tinytorch.zeros(1))

    def forward(self, x):
        h = self.enc[1](self.enc[0](x))
        for m in self.enc[2]:
            h = m(h)
        return tinytorch.cat([self.heads[n](h) for n in self.names], dim=1) * self.scale


@dataclasses.dataclass
class Config:
    lr: float = 0.1
    sizes: tuple = (4, 8)
    name: str = "run"


Point = collections.namedtuple("Point", ["x", "y"])


class Mode(enum.Enum):
    TRAIN = "train"
    EVAL = "eval"


@pytest.fixture(autouse=True)
def _clean_allowlist():
    serialization.clear_safe_globals()
    yield
    serialization.clear_safe_globals()


def _roundtrip(obj, **load_kw):
    buf = io.BytesIO()
    tinytorch.save(obj, buf)
    buf.seek(0)
    return tinytorch.load(buf, **load_kw)


def _outputs_equal(a, b, x):
    ya, yb = a(x), b(x)
    ya, yb = (ya[0], yb[0]) if isinstance(ya, tuple) else (ya, yb)
    np.testing.assert_array_equal(ya.detach().numpy(), yb.detach().numpy())


# ---- modules ------------------------------------------------------------------------------------------
def test_custom_module_needs_allowlisting(tmp_path):
    model = TwoTower()
    path = tmp_path / "best.pt"
    tinytorch.save(model, path)
    with pytest.raises(UnpicklingError, match=r"TwoTower.*add_safe_globals") as info:
        tinytorch.load(path)
    assert "test_serialization_objects.TwoTower was not an allowed global" in str(info.value)
    x = tinytorch.randn(5, 4)
    # 1. weights_only=False: the explicit opt-out imports the class by its path
    _outputs_equal(model, tinytorch.load(path, weights_only=False), x)
    # 2. the safe_globals context manager, only inside the block
    with serialization.safe_globals([TwoTower]):
        loaded = tinytorch.load(path)
    assert type(loaded) is TwoTower
    _outputs_equal(model, loaded, x)
    with pytest.raises(UnpicklingError):
        tinytorch.load(path)
    # 3. add_safe_globals / get_safe_globals / clear_safe_globals
    serialization.add_safe_globals([TwoTower])
    assert serialization.get_safe_globals() == [TwoTower]
    loaded = tinytorch.load(path)
    assert loaded.scale == 2.5 and loaded.names == ["a", "b"] and loaded.training
    serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []
    # 4. the (obj, "module.name") form
    serialization.add_safe_globals([(TwoTower, f"{__name__}.TwoTower")])
    assert type(tinytorch.load(path)) is TwoTower


def test_whole_model_state_matches(tmp_path):
    model = TwoTower().eval()
    serialization.add_safe_globals([TwoTower])
    loaded = _roundtrip(model)
    assert not loaded.training and not loaded.enc[0].training
    sd, sd2 = model.state_dict(), loaded.state_dict()
    assert list(sd) == list(sd2)
    for k in sd:
        np.testing.assert_array_equal(sd[k].numpy(), sd2[k].numpy())
    assert all(type(p) is nn.Parameter and p.requires_grad for p in loaded.parameters())
    assert [n for n, _ in loaded.named_buffers()] == ["calls"]


@pytest.mark.parametrize("make", [
    lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Sequential(nn.Linear(4, 4), nn.Sigmoid()), nn.Linear(4, 2)),
    lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.LazyLinear(2)
                          if hasattr(nn, "LazyLinear") and False else nn.Identity()),
    lambda: nn.LSTM(3, 5, num_layers=2, batch_first=True),
    lambda: nn.GRU(3, 4, bidirectional=True),
    lambda: nn.RNN(3, 4, nonlinearity="relu"),
    lambda: nn.Embedding(10, 3),
], ids=["nested_sequential", "conv_bn", "lstm", "gru", "rnn", "embedding"])
def test_tinytorch_modules_load_without_allowlisting(make):
    tinytorch.manual_seed(0)
    model = make()
    loaded = _roundtrip(model)  # weights_only=True by default: tinytorch's own classes are allowed
    assert type(loaded) is type(model)
    if isinstance(model, nn.Embedding):
        x = tinytorch.tensor([[1, 2, 3]])
    elif isinstance(model, nn.Sequential) and isinstance(model[0], nn.Conv2d):
        x = tinytorch.randn(2, 1, 5, 5)
    elif isinstance(model, nn.Sequential):
        x = tinytorch.randn(2, 3)
    else:
        x = tinytorch.randn(2, 6, 3)
    _outputs_equal(model, loaded, x)


def test_module_list_and_dict_and_tied_weights():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(6, 4)
            self.out = nn.Linear(4, 6, bias=False)
            self.out.weight = self.emb.weight  # weight tying, as GPT trainers do
            self.blocks = nn.ModuleList([nn.Linear(4, 4)] * 2)  # one module registered twice

        def forward(self, idx):
            h = self.emb(idx)
            for b in self.blocks:
                h = b(h)
            return self.out(h)

    Tied.__qualname__ = "Tied"  # importable by path for this test: a class inside a function is not
    sys.modules[__name__].Tied = Tied
    try:
        loaded = _roundtrip(Tied(), weights_only=False)
        assert loaded.out.weight is loaded.emb.weight
        assert loaded.blocks[0] is loaded.blocks[1]
        assert len(list(loaded.parameters())) == 3
        # training continues on the loaded model: the tied parameter gets one gradient
        opt = tinytorch.optim.SGD(loaded.parameters(), lr=0.1)
        loaded(tinytorch.tensor([[1, 2]])).sum().backward()
        opt.step()
        assert loaded.out.weight is loaded.emb.weight
    finally:
        del sys.modules[__name__].Tied


def test_local_class_gives_clear_error():
    class Local(nn.Module):
        pass

    with pytest.raises(TypeError, match="inside a function"):
        _roundtrip(Local())


# ---- plain objects ------------------------------------------------------------------------------------
PLAIN = [
    ("ndarray_f32", np.arange(6, dtype=np.float32).reshape(2, 3)),
    ("ndarray_i64_0d", np.array(7)),
    ("ndarray_bool", np.array([True, False])),
    ("namespace", argparse.Namespace(lr=0.01, epochs=3, name="x", layers=[1, 2], nested=argparse.Namespace(a=1))),
    ("tuple", (1, (2.5, "x"), None)),
    ("set", {1, 2, "a"}),
    ("frozenset", frozenset({3, 4})),
    ("bytes", b"\x00\xffabc"),
    ("none", None),
    ("nested", {"a": [1, {"b": (2, 3)}], 4: {"c": None}, None: [[]], 2.5: True}),
    ("ordered", collections.OrderedDict([("z", 1), ("a", 2)])),
    ("size", tinytorch.Size([2, 3])),
    ("dtypes", [tinytorch.float16, tinytorch.int64, tinytorch.bool]),
    ("device", tinytorch.device("cpu")),
    ("complex", 1.5 - 2j),
    ("floats", [float("inf"), -0.0, 1e-300]),
]


@pytest.mark.parametrize("name,obj", PLAIN, ids=[p[0] for p in PLAIN])
def test_plain_objects_roundtrip(name, obj):
    out = _roundtrip({"v": obj})["v"]
    assert type(out) is type(obj)
    if isinstance(obj, np.ndarray):
        assert out.dtype == obj.dtype and out.shape == obj.shape
        np.testing.assert_array_equal(out, obj)
        out[...] = 0 if out.size else out  # its own, writable memory
    else:
        assert out == obj
        if isinstance(obj, dict):
            assert list(out) == list(obj)


def test_dataclass_and_namedtuple_need_allowlisting():
    ck = {"cfg": Config(lr=0.5), "pt": Point(1, 2)}
    with pytest.raises(UnpicklingError, match="Config"):
        _roundtrip(ck)
    with serialization.safe_globals([Config, Point]):
        out = _roundtrip(ck)
    assert out == ck and type(out["pt"]) is Point
    assert _roundtrip(ck, weights_only=False) == ck


def test_enum_members_and_tensor_keys():
    with pytest.raises(UnpicklingError, match="Mode"):
        _roundtrip({"mode": Mode.EVAL})
    with serialization.safe_globals([Mode]):
        assert _roundtrip({"mode": Mode.EVAL})["mode"] is Mode.EVAL
    w = tinytorch.ones(2)
    out = _roundtrip({"by_tensor": {w: "a"}, "w": w})
    assert out["by_tensor"] == {out["w"]: "a"}


def test_tensors_inside_objects_and_shared():
    t = tinytorch.randn(3, requires_grad=True)
    ns = argparse.Namespace(w=t, also=t, arr=np.ones(2))
    out = _roundtrip([ns, ns])
    assert out[0] is out[1] and out[0].w is out[0].also and out[0].w.requires_grad
    np.testing.assert_array_equal(out[0].w.detach().numpy(), t.detach().numpy())


def test_cyclic_objects():
    a = argparse.Namespace(name="a")
    a.me = a
    out = _roundtrip(a)
    assert out.me is out


# ---- environment variables (torch 2.6+) ---------------------------------------------------------------
def test_force_no_weights_only_env(tmp_path, monkeypatch):
    path = tmp_path / "m.pt"
    tinytorch.save(TwoTower(), path)
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.warns(UserWarning, match="forcing weights_only=False"):
        assert type(tinytorch.load(path)) is TwoTower
    with pytest.raises(UnpicklingError):  # an explicit weights_only=True is kept
        tinytorch.load(path, weights_only=True)
    monkeypatch.setenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(RuntimeError, match="Only one of"):
        tinytorch.load(path)
    monkeypatch.delenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
    with pytest.raises(UnpicklingError):  # forced on, even against an explicit False
        tinytorch.load(path, weights_only=False)


# ---- hostile files ------------------------------------------------------------------------------------
def _file(tmp_path, root, tensors=None, name="hostile.pt", version=2):
    """A safetensors file with the given tinytorch structure document (written by hand, as an attacker would)."""
    tensors = tensors or {}
    header, off, blobs = {}, 0, []
    for k, a in tensors.items():
        header[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        off += a.nbytes
        blobs.append(a.astype(np.float32).tobytes())
    doc = root if isinstance(root, str) else json.dumps({"version": version, "root": root})
    header["__metadata__"] = {"tinytorch": doc}
    head = json.dumps(header).encode()
    path = tmp_path / name
    path.write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))
    return path


class _Marker:
    pass


@pytest.mark.parametrize("root", [
    {"G": ["os", "system"]},
    {"O": ["os", "system"], "id": 0, "a": []},
    {"G": ["builtins", "eval"]},
    {"O": ["subprocess", "Popen"], "id": 0, "a": [["args", {"s": "touch MARK"}]]},
    {"L": [{"G": ["posix", "system"]}]},
    {"NT": ["os", "system"], "v": [{"s": "touch MARK"}]},
    {"G": ["tinytorch.serialization", "_atomic_write"]},
    {"O": ["tinytorch.utils.data._utils.worker", "MultiProcessIter"], "id": 0, "a": []},
    {"O": ["tinytorch.nn.modules.module", "Module.__subclasses__"], "id": 0, "a": []},
], ids=["G_os_system", "O_os_system", "eval", "popen", "nested_posix", "namedtuple_system", "private_tinytorch_fn",
        "tinytorch_non_module", "dunder_path"])
def test_hostile_globals_are_refused(tmp_path, root):
    path = _file(tmp_path, root)
    with pytest.raises((UnpicklingError, RuntimeError)) as info:
        tinytorch.load(path)
    msg = str(info.value)
    assert "add_safe_globals" in msg or "hostile.pt" in msg
    assert not (tmp_path / "MARK").exists()


def test_disallowed_module_is_never_imported(tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "evil_mod_for_tinytorch_test.py").write_text(f"open({str(marker)!r}, 'w').close()\nclass C: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = _file(tmp_path, {"O": ["evil_mod_for_tinytorch_test", "C"], "id": 0, "a": []})
    with pytest.raises(UnpicklingError, match="evil_mod_for_tinytorch_test.C"):
        tinytorch.load(path)
    assert not marker.exists()


def test_weights_only_false_still_calls_nothing(tmp_path):
    # an explicit opt-out imports what the file names, but never calls it: os.system is not a class
    path = _file(tmp_path, {"O": ["os", "system"], "id": 0, "a": [["x", {"s": "touch MARK"}]]})
    with pytest.raises(RuntimeError, match="not a class"):
        tinytorch.load(path, weights_only=False)
    fn = tinytorch.load(_file(tmp_path, {"G": ["os", "getcwd"]}, name="g.pt"), weights_only=False)
    assert fn is os.getcwd  # a reference, returned, not called


def test_whole_model_file_is_still_safetensors_with_state_dict_names(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    model = nn.Sequential(nn.Linear(3, 4), nn.LSTM(4, 2))
    tinytorch.save(model, tmp_path / "m.safetensors")
    flat = st.load_file(tmp_path / "m.safetensors")
    assert set(flat) == set(model.state_dict())


def test_checkpoint_with_model_and_state_dicts_loads_in_real_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    tinytorch.save(model.state_dict(), tmp_path / "sd.safetensors")
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    tmodel.load_state_dict(load_file(tmp_path / "sd.safetensors"))
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_allclose(tmodel(torch.tensor(x)).detach().numpy(), model(tinytorch.tensor(x)).detach().numpy(),
                               rtol=1e-6)


def test_model_and_optimizer_saved_whole_resume_exactly():
    tinytorch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
    opt = tinytorch.optim.Adam(model.parameters(), lr=0.05)
    sched = tinytorch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    x, y = tinytorch.randn(16, 3), tinytorch.randn(16, 1)

    def step(m, o, s):
        o.zero_grad()
        loss = ((m(x) - y) ** 2).mean()
        loss.backward()
        o.step()
        s.step()
        return loss.item()

    for _ in range(3):
        step(model, opt, sched)
    ck = _roundtrip({"model": model, "opt": opt, "sched": sched, "epoch": 3})  # all tinytorch classes: no allow-list
    m2, o2, s2 = ck["model"], ck["opt"], ck["sched"]
    assert o2.param_groups[0]["params"][0] is m2[0].weight  # the optimizer holds the loaded model's parameters
    assert s2.optimizer is o2
    assert [step(model, opt, sched) for _ in range(3)] == [step(m2, o2, s2) for _ in range(3)]
    for p, q in zip(model.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_class_and_function_references_in_modules():
    import tinytorch.nn.functional as F

    class_ref = nn.Sequential(nn.ReLU())
    class_ref.act_cls = nn.ReLU  # a class kept as an attribute, next to an instance of it
    class_ref.act_fn = F.relu
    out = _roundtrip(class_ref)
    assert out.act_cls is nn.ReLU and out.act_fn is F.relu and type(out[0]) is nn.ReLU
    with pytest.raises(UnpicklingError, match="numpy.load"):
        _roundtrip({"fn": np.load})  # not tinytorch's: needs allow-listing
    with serialization.safe_globals([np.load]):
        assert _roundtrip({"fn": np.load})["fn"] is np.load
