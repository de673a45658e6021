"""tinytorch.save / tinytorch.load: safetensors round trips, atomic writes, refusal of pickles, interop with torch."""
from __future__ import annotations

import collections
import io
import os
import pickle

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
from tinytorch import serialization

pytest.importorskip("safetensors")


def _model():
    tinytorch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))


def _same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, tinytorch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.device == b.device
        np.testing.assert_array_equal(np.asarray(a.detach().cpu()), np.asarray(b.detach().cpu()))
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def test_nested_checkpoint_roundtrip(tmp_path, device):
    model = _model().to(device)
    opt = tinytorch.optim.Adam(model.parameters(), lr=0.01)
    model(tinytorch.randn(5, 4, device=device)).sum().backward()
    opt.step()
    ckpt = {
        "model": model.state_dict(), "optim": opt.state_dict(), "epoch": 7, "best": 0.25,
        "cfg": {"name": "mlp", "sizes": (4, 3, 2), "dropout": None, "flags": [True, False], "nan": float("nan"),
                "inf": float("-inf"), "big": 2**62, 3: "int key"},
        "ints": tinytorch.arange(5), "mask": tinytorch.tensor([True, False]), "half": tinytorch.ones(2, dtype=tinytorch.float16),
        "f64": tinytorch.randn(3, dtype=tinytorch.float64),
    }
    path = tmp_path / "ckpt.safetensors"
    tinytorch.save(ckpt, path)
    loaded = tinytorch.load(path)
    _same(loaded, ckpt)
    assert isinstance(loaded["model"], collections.OrderedDict) or isinstance(loaded["model"], dict)
    # optimizer state dict keys are ints and survive; loading it back works
    assert set(loaded["optim"]["state"]) == {0, 1, 2, 3}
    opt.load_state_dict(loaded["optim"])
    model2 = _model().to(device)
    model2.load_state_dict(tinytorch.load(path, map_location=device)["model"])
    x = tinytorch.randn(2, 4, device=device)
    np.testing.assert_array_equal(np.asarray(model(x).detach().cpu()), np.asarray(model2(x).detach().cpu()))


def test_file_objects_and_shared_tensors():
    w = tinytorch.randn(3, 3)
    buf = io.BytesIO()
    tinytorch.save({"a": w, "b": w, "grad": tinytorch.ones(2, requires_grad=True)}, buf)
    buf.seek(0)
    out = tinytorch.load(buf)
    assert out["a"] is out["b"]  # tied weights stay tied
    assert out["grad"].requires_grad and out["grad"].is_leaf


def test_bfloat16_roundtrip(tmp_path):
    pytest.importorskip("ml_dtypes")
    t = tinytorch.tensor([1.5, -2.0, 3.25], dtype=tinytorch.bfloat16)
    tinytorch.save({"t": t}, tmp_path / "bf.st")
    out = tinytorch.load(tmp_path / "bf.st")["t"]
    assert out.dtype == tinytorch.bfloat16 and out.float().tolist() == [1.5, -2.0, 3.25]


def test_unsaveable_objects_raise_clear_typeerror(tmp_path):
    import threading

    with pytest.raises(TypeError, match="cannot save a object"):
        tinytorch.save([object()], tmp_path / "m.st")
    with pytest.raises(TypeError, match=r"cannot save a lock .*at cfg\.lock"):
        tinytorch.save({"cfg": {"lock": threading.Lock()}}, tmp_path / "m.st")
    with pytest.raises(TypeError, match="lambda"):
        tinytorch.save({"fn": lambda x: x}, tmp_path / "m.st")
    assert not (tmp_path / "m.st").exists()


def test_atomic_write_crash_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.st"
    tinytorch.save({"v": tinytorch.zeros(1000)}, path)
    before = path.read_bytes()

    def crashing_write(fh, chunks):
        fh.write(chunks[0])  # the header reaches the disk, then the process "dies"
        raise OSError("simulated crash mid-save")

    monkeypatch.setattr(serialization, "_write_all", crashing_write)
    with pytest.raises(OSError, match="simulated crash"):
        tinytorch.save({"v": tinytorch.ones(1000)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.st"]  # no temporary left behind
    monkeypatch.undo()
    new = tmp_path / "fresh.st"
    monkeypatch.setattr(serialization, "_write_all", crashing_write)
    with pytest.raises(OSError):
        tinytorch.save({"v": tinytorch.ones(3)}, new)
    assert not new.exists() and os.listdir(tmp_path) == ["ckpt.st"]


@pytest.mark.parametrize("content,match", [
    (b"", "is empty"),
    (b"hello", "truncated or not a safetensors"),
    (b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all", "not a valid safetensors"),
    (b"\xff" * 64, "not a valid safetensors"),
])
def test_corrupt_and_foreign_files_name_the_file(tmp_path, content, match):
    path = tmp_path / "bad.st"
    path.write_bytes(content)
    with pytest.raises(RuntimeError, match=match) as info:
        tinytorch.load(path)
    assert "bad.st" in str(info.value)


def test_truncated_checkpoint(tmp_path):
    path = tmp_path / "t.st"
    tinytorch.save({"w": tinytorch.randn(100)}, path)
    data = path.read_bytes()
    path.write_bytes(data[:-50])
    with pytest.raises(RuntimeError, match="t.st"):
        tinytorch.load(path)


class _Evil:
    def __reduce__(self):
        return (os.system, (f"touch {_Evil.marker}",))


def test_malicious_pickle_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    _Evil.marker = str(marker)
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(_Evil(), protocol=2))
    for wo in (True, False):
        with pytest.raises(RuntimeError, match="pickle") as info:
            tinytorch.load(path, weights_only=wo)
        assert "evil.pt" in str(info.value)
    assert not marker.exists()


def test_torch_save_file_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(RuntimeError, match="never unpickles"):
        tinytorch.load(path)


def test_interop_with_safetensors_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file, save_file

    # PyTorch -> tinytorch
    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))
    save_file(tmodel.state_dict(), tmp_path / "from_torch.safetensors")
    model = _model()
    model.load_state_dict(tinytorch.load(tmp_path / "from_torch.safetensors"))
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(model(tinytorch.tensor(x)).detach().numpy(),
                               tmodel(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    # tinytorch -> PyTorch (bfloat16 included)
    sd = dict(model.state_dict())
    sd["bf"] = tinytorch.tensor([1.0, 2.5], dtype=tinytorch.bfloat16)
    tinytorch.save(sd, tmp_path / "from_tiny.safetensors")
    back = load_file(tmp_path / "from_tiny.safetensors")
    assert set(back) == set(sd)
    assert back["bf"].dtype == torch.bfloat16 and back["bf"].tolist() == [1.0, 2.5]
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(back[k].numpy(), v.detach().numpy())


def test_map_location_forms(tmp_path):
    path = tmp_path / "m.st"
    tinytorch.save({"w": tinytorch.ones(2)}, path)
    for loc in ("cpu", tinytorch.device("cpu"), {"cpu": "cpu"}, lambda t, loc: t):
        assert tinytorch.load(path, map_location=loc)["w"].device == tinytorch.device("cpu")
    if not tinytorch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            tinytorch.load(path, map_location="cuda")


def test_no_safetensors_package_needed(monkeypatch):
    # the format is written and read by tinytorch itself; the package is only needed for interop tests
    import sys

    monkeypatch.setitem(sys.modules, "safetensors", None)
    buf = io.BytesIO()
    tinytorch.save({"a": 1, "w": tinytorch.arange(3)}, buf)
    buf.seek(0)
    out = tinytorch.load(buf)
    assert out["a"] == 1 and out["w"].tolist() == [0, 1, 2]


def test_resume_from_checkpoint_equals_uninterrupted_training(tmp_path):
    rng = np.random.default_rng(0)
    data = [(tinytorch.tensor(rng.standard_normal((4, 3)).astype(np.float32)),
             tinytorch.tensor(rng.standard_normal((4, 1)).astype(np.float32))) for _ in range(6)]

    def make():
        tinytorch.manual_seed(1)
        model = nn.Linear(3, 1)
        opt = tinytorch.optim.AdamW(model.parameters(), lr=0.05)
        sched = tinytorch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        return model, opt, sched

    def train(model, opt, sched, batches):
        for x, y in batches:
            opt.zero_grad()
            ((model(x) - y) ** 2).mean().backward()
            opt.step()
            sched.step()

    model, opt, sched = make()
    train(model, opt, sched, data[:3])
    tinytorch.save({"model": model.state_dict(), "optim": opt.state_dict(), "sched": sched.state_dict(), "epoch": 3},
                   tmp_path / "ckpt.safetensors")
    train(model, opt, sched, data[3:])

    model2, opt2, sched2 = make()
    ckpt = tinytorch.load(tmp_path / "ckpt.safetensors")
    model2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optim"])
    sched2.load_state_dict(ckpt["sched"])
    assert ckpt["epoch"] == 3
    train(model2, opt2, sched2, data[3:])
    for a, b in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert sched2.get_last_lr() == sched.get_last_lr()
