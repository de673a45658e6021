"""fit / evaluate / predict and the callbacks."""
from __future__ import annotations

import io
import os

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
from tinytorch.train import (Callback, EarlyStopping, LivePlot, LRSchedulerCallback, ModelCheckpoint, ProgressBar,
                             evaluate, fit, predict)
from tinytorch.utils.data import DataLoader, TensorDataset


def _data(n=64, seed=0):
    g = np.random.default_rng(seed)
    x = g.standard_normal((n, 2)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return TensorDataset(tinytorch.tensor(x), tinytorch.tensor(y))


def _setup(lr=0.1):
    tinytorch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    opt = tinytorch.optim.SGD(model.parameters(), lr=lr)
    return model, opt, DataLoader(_data(), batch_size=16, shuffle=True), DataLoader(_data(seed=1), batch_size=32)


def test_fit_learns_and_records_history(device):
    model, opt, tl, vl = _setup(lr=0.5)
    h = fit(model, nn.CrossEntropyLoss(), opt, tl, vl, epochs=8, device=device, metrics=["accuracy"])
    assert len(h) == 8 and set(h.keys()) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert h["loss"][-1] < h["loss"][0]
    assert h["val_accuracy"][-1] >= 0.85
    res = evaluate(model, nn.CrossEntropyLoss(), vl, metrics=["accuracy"], device=device)
    assert res["accuracy"] == pytest.approx(h["val_accuracy"][-1])
    out = predict(model, vl, device=device)
    assert tuple(out.shape) == (64, 2) and not out.requires_grad
    assert model.training  # evaluate/predict restore the mode


def test_epoch_loss_is_the_sample_weighted_mean():
    # one parameter, lr 0: the epoch loss is exactly the mean loss over all 10 samples (batches 4, 4, 2)
    x = tinytorch.arange(10.0).reshape(10, 1)
    model = nn.Linear(1, 1, bias=False)
    with tinytorch.no_grad():
        model.weight.fill_(1.0)
    h = fit(model, nn.MSELoss(), tinytorch.optim.SGD(model.parameters(), lr=0.0),
            DataLoader(TensorDataset(x, tinytorch.zeros(10, 1)), batch_size=4), epochs=1, metrics={"mae": "mae"})
    assert h["loss"][0] == pytest.approx(np.mean(np.arange(10.0) ** 2))
    assert h["mae"][0] == pytest.approx(4.5)


def test_callback_order_and_stop():
    calls = []

    class Spy(Callback):
        def on_train_begin(self, tr): calls.append("begin")
        def on_epoch_begin(self, tr, e): calls.append(f"e{e}")
        def on_batch_end(self, tr, b, logs): calls.append("b")
        def on_epoch_end(self, tr, e, logs):
            calls.append(f"end{e}")
            tr.stop_training = e == 1
        def on_train_end(self, tr): calls.append("done")

    model, opt, _, _ = _setup()
    loader = DataLoader(_data(8), batch_size=4)
    h = fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=5, callbacks=[Spy()])
    assert calls == ["begin", "e0", "b", "b", "end0", "e1", "b", "b", "end1", "done"]
    assert len(h) == 2


def test_early_stopping_restores_best():
    class Scripted(Callback):  # overwrite the logged val_loss so the best epoch is known
        def __init__(self):
            self.snap = {}
        def on_epoch_end(self, tr, e, logs):
            logs["val_loss"] = [3.0, 1.0, 2.0, 2.5, 0.5][e]
            self.snap[e] = {k: v.clone() for k, v in tr.model.state_dict().items()}

    model, opt, tl, vl = _setup()
    spy = Scripted()
    es = EarlyStopping(patience=1, restore_best=True)
    h = fit(model, nn.CrossEntropyLoss(), opt, tl, vl, epochs=5, callbacks=[spy, es])
    assert len(h) == 3 and es.best_epoch == 1 and es.stopped_epoch == 2
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), spy.snap[1][k].numpy())


def test_early_stopping_validates_and_names_missing_key():
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="up")
    model, opt, tl, _ = _setup()
    with pytest.raises(KeyError, match="val_loss.*need a val_loader"):
        fit(model, nn.CrossEntropyLoss(), opt, tl, epochs=1, callbacks=[EarlyStopping()])


def test_checkpoint_best_only_and_scheduler(tmp_path):
    model, opt, tl, vl = _setup()
    ck = ModelCheckpoint(tmp_path / "m-{epoch}.pt", monitor="loss", save_best_only=True)
    sched = LRSchedulerCallback(tinytorch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5))
    h = fit(model, nn.CrossEntropyLoss(), opt, tl, vl, epochs=3, callbacks=[ck, sched])
    assert ck.saved and all(os.path.exists(p) for p in ck.saved)
    state = tinytorch.load(ck.saved[-1])
    assert set(state) == set(model.state_dict())
    assert h["lr"] == pytest.approx([0.05, 0.025, 0.0125])


def test_progress_bar_disabled_prints_summary():
    model, opt, tl, _ = _setup()
    buf = io.StringIO()
    fit(model, nn.CrossEntropyLoss(), opt, tl, epochs=2, callbacks=[ProgressBar(file=buf)])
    lines = buf.getvalue().strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("epoch 2/2: loss=")


def test_progress_bar_enabled_uses_tqdm():
    pytest.importorskip("tqdm")
    model, opt, tl, _ = _setup()
    buf = io.StringIO()
    fit(model, nn.CrossEntropyLoss(), opt, tl, epochs=1, callbacks=[ProgressBar(disable=False, summary=False, file=buf)])
    assert "epoch 1/1" in buf.getvalue() and "4/4" in buf.getvalue()


def test_live_plot_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    model, opt, tl, vl = _setup()
    path = tmp_path / "curves.png"
    fit(model, nn.CrossEntropyLoss(), opt, tl, vl, epochs=2, callbacks=[LivePlot(path, every=1)])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fit_errors():
    model, opt, tl, _ = _setup()
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        fit(model, nn.CrossEntropyLoss(), opt, tl, metrics=["f1"])
    with pytest.raises(ValueError, match="epochs"):
        fit(model, nn.CrossEntropyLoss(), opt, tl, epochs=-1)
    with pytest.raises(TypeError, match="Callback"):
        fit(model, nn.CrossEntropyLoss(), opt, tl, callbacks=[print])
    with pytest.raises(ValueError, match=r"batches of \(inputs, targets\)"):
        fit(model, nn.CrossEntropyLoss(), opt, [tinytorch.ones(2, 2)])
