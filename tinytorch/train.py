"""Opt-in training conveniences: ``fit``, ``evaluate``, ``predict`` and callbacks.

A plain PyTorch loop (``for x, y in loader: opt.zero_grad(); loss_fn(model(x), y).backward();
opt.step()``) stays the first-class way to train; ``fit`` runs exactly that loop and adds
what one otherwise rewrites every time: per-epoch averages, validation, metrics, a progress
bar, early stopping, checkpoints, learning-rate schedules and live plots.

Example::
    from tinytorch.train import fit, EarlyStopping, ProgressBar
    history = fit(model, nn.CrossEntropyLoss(), opt, train_loader, val_loader, epochs=20,
                  metrics=["accuracy"], callbacks=[ProgressBar(), EarlyStopping(patience=3)])
    history["val_accuracy"][-1]

Batches are ``(inputs, targets)``; ``inputs`` may be a tuple, passed to the model as ``model(*inputs)``.
Optional packages (tqdm, matplotlib) are imported only by the callbacks that use them.
"""
from __future__ import annotations

import math
import os
import sys
from typing import Callable, Iterable

import numpy as np

from . import autograd
from .tensor import Tensor
from .ops.shape import cat
from .serialization import save
from .optim.lr_scheduler import ReduceLROnPlateau

__all__ = [
    "fit", "evaluate", "predict", "History", "Callback", "ProgressBar", "EarlyStopping", "ModelCheckpoint",
    "LRSchedulerCallback", "LivePlot",
]


# ---- metrics ------------------------------------------------------------------------------------------------

def _accuracy(output, target):
    if output.dim() == target.dim() + 1:  # class scores (N, C) against labels (N,)
        pred = output.argmax(1)
    elif output.dim() == target.dim() and output.is_floating_point() and not target.is_floating_point():
        pred = (output > 0).long()  # one logit per sample for binary labels
    else:
        pred = output
    return (pred == target).float().mean().item()


def _mae(output, target):
    return (output - target).abs().mean().item()


def _mse(output, target):
    return ((output - target) ** 2).mean().item()


_METRICS = {"accuracy": _accuracy, "acc": _accuracy, "mae": _mae, "mse": _mse}


def _resolve_metrics(metrics) -> dict[str, Callable]:
    if metrics is None:
        return {}
    if isinstance(metrics, dict):
        items = list(metrics.items())
    else:
        if isinstance(metrics, str) or callable(metrics):
            metrics = [metrics]
        items = [(m if isinstance(m, str) else getattr(m, "__name__", f"metric{i}"), m) for i, m in enumerate(metrics)]
    out = {}
    for name, m in items:
        if isinstance(m, str):
            if m not in _METRICS:
                raise ValueError(f"fit: unknown metric {m!r}; known: {sorted(_METRICS)} (or pass a callable "
                                 "metric(output, target) -> float)")
            m = _METRICS[m]
        if not callable(m):
            raise TypeError(f"fit: metric {name!r} must be a name or a callable, got {type(m).__name__}")
        out[name] = m
    return out


# ---- batches ------------------------------------------------------------------------------------------------

def _to(x, device):
    if device is None:
        return x
    if isinstance(x, Tensor):
        return x.to(device)
    if isinstance(x, (list, tuple)):
        return type(x)(_to(i, device) for i in x)
    return x


def _split(batch):
    if isinstance(batch, (list, tuple)) and len(batch) == 2:
        return batch[0], batch[1]
    raise ValueError(f"fit: expected batches of (inputs, targets), got {type(batch).__name__}"
                     f"{' of length ' + str(len(batch)) if isinstance(batch, (list, tuple)) else ''}")


def _call(model, x):
    return model(*x) if isinstance(x, (list, tuple)) else model(x)


def _batch_size(y) -> int:
    if isinstance(y, Tensor):
        return int(y.shape[0]) if y.dim() else 1
    try:
        return len(y)
    except TypeError:
        return 1


def _value(x) -> float:
    return float(x.item()) if isinstance(x, Tensor) else float(x)


class _Averager:
    """Sample-weighted running means of named values."""

    def __init__(self):
        self.sums: dict[str, float] = {}
        self.count = 0

    def add(self, values: dict[str, float], n: int):
        for k, v in values.items():
            self.sums[k] = self.sums.get(k, 0.0) + v * n
        self.count += n

    def means(self, prefix="") -> dict[str, float]:
        return {prefix + k: v / max(self.count, 1) for k, v in self.sums.items()}


# ---- History and the trainer state callbacks see ------------------------------------------------------------

class History:
    """What ``fit`` returns: per-epoch values, ``history["loss"]``, ``history["val_accuracy"]`` ..."""

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epochs: list[int] = []

    def append(self, epoch: int, logs: dict[str, float]):
        self.epochs.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)

    def __getitem__(self, key):
        if key not in self.history:
            raise KeyError(f"History has no {key!r}; recorded: {sorted(self.history)}")
        return self.history[key]

    def __contains__(self, key):
        return key in self.history

    def keys(self):
        return self.history.keys()

    def __len__(self):
        return len(self.epochs)

    def __repr__(self):
        last = {k: round(v[-1], 4) for k, v in self.history.items()}
        return f"History(epochs={len(self.epochs)}, last={last})"


class Trainer:
    """The state shared with callbacks: model, optimizer, loaders, history, ``stop_training``."""

    def __init__(self, model, loss_fn, optimizer, train_loader, val_loader, epochs, device, metrics):
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.epochs = epochs
        self.device = device
        self.metrics = metrics
        self.history = History()
        self.stop_training = False
        self.epoch = 0


class Callback:
    """Base class: override any hook. ``trainer`` exposes model, optimizer, history, stop_training."""

    def on_train_begin(self, trainer: Trainer) -> None: ...

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None: ...

    def on_batch_end(self, trainer: Trainer, batch: int, logs: dict) -> None: ...

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict) -> None: ...

    def on_train_end(self, trainer: Trainer) -> None: ...


# ---- fit / evaluate / predict -------------------------------------------------------------------------------

def fit(model, loss_fn, optimizer, train_loader: Iterable, val_loader: Iterable | None = None, epochs: int = 1,
        callbacks=(), device=None, metrics=None) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_loader``; return a :class:`History`.

    Args:
        model: an ``nn.Module`` (moved to ``device`` when given).
        loss_fn: ``loss_fn(output, target)`` -> scalar tensor (e.g. ``nn.CrossEntropyLoss()``).
        optimizer: a ``tinytorch.optim`` optimizer over the model's parameters.
        train_loader, val_loader: iterables of ``(inputs, targets)`` batches (DataLoaders).
        epochs: number of passes over ``train_loader``.
        callbacks: :class:`Callback` objects, called in order.
        device: where batches (and the model) go: ``"cpu"``, ``"cuda"``; None leaves them.
        metrics: names (``"accuracy"``, ``"mae"``, ``"mse"``), callables ``f(output, target) -> float``
            or a ``{name: callable}`` dict; logged as ``name`` and ``val_name``.

    The epoch logs hold ``loss`` (sample-weighted mean over the epoch), the metrics, and with a
    ``val_loader`` ``val_loss`` and ``val_<metric>``.
    """
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative int, got {epochs!r}")
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"fit: callbacks must be tinytorch.train.Callback instances, got {type(cb).__name__}")
    metric_fns = _resolve_metrics(metrics)
    if device is not None:
        model.to(device)
    tr = Trainer(model, loss_fn, optimizer, train_loader, val_loader, epochs, device, metric_fns)
    for cb in callbacks:
        cb.on_train_begin(tr)
    for epoch in range(epochs):
        tr.epoch = epoch
        for cb in callbacks:
            cb.on_epoch_begin(tr, epoch)
        model.train()
        avg = _Averager()
        for i, batch in enumerate(train_loader):
            x, y = _split(batch)
            x, y = _to(x, device), _to(y, device)
            optimizer.zero_grad()
            out = _call(model, x)
            loss = loss_fn(out, y)
            loss.backward()
            optimizer.step()
            values = {"loss": _value(loss)}
            if not math.isfinite(values["loss"]):
                raise RuntimeError(f"fit: the loss became {values['loss']} at epoch {epoch}, batch {i}; "
                                   "lower the learning rate or check the inputs")
            with autograd.no_grad():
                for name, fn in metric_fns.items():
                    values[name] = _value(fn(out.detach(), y))
            avg.add(values, _batch_size(y))
            for cb in callbacks:
                cb.on_batch_end(tr, i, values)
        logs = avg.means()
        if val_loader is not None:
            logs.update({f"val_{k}": v for k, v in evaluate(model, loss_fn, val_loader, metric_fns, device).items()})
        tr.history.append(epoch, logs)
        for cb in callbacks:
            cb.on_epoch_end(tr, epoch, logs)
        if tr.stop_training:
            break
    for cb in callbacks:
        cb.on_train_end(tr)
    return tr.history


def evaluate(model, loss_fn, loader: Iterable, metrics=None, device=None) -> dict[str, float]:
    """Mean loss and metrics of ``model`` over ``loader`` in eval mode, without gradients.

    Returns ``{"loss": ..., "<metric>": ...}`` (sample-weighted means). ``loss_fn`` may be None.
    """
    metric_fns = _resolve_metrics(metrics)
    was_training = model.training
    model.eval()
    avg = _Averager()
    try:
        with autograd.no_grad():
            for batch in loader:
                x, y = _split(batch)
                x, y = _to(x, device), _to(y, device)
                out = _call(model, x)
                values = {} if loss_fn is None else {"loss": _value(loss_fn(out, y))}
                for name, fn in metric_fns.items():
                    values[name] = _value(fn(out, y))
                avg.add(values, _batch_size(y))
    finally:
        model.train(was_training)
    return avg.means()


def predict(model, loader: Iterable, device=None) -> Tensor:
    """The model's outputs over ``loader`` concatenated along dim 0 (eval mode, no gradients).

    Batches may be ``(inputs, targets)`` (targets ignored) or inputs alone.
    """
    was_training = model.training
    model.eval()
    outs = []
    try:
        with autograd.no_grad():
            for batch in loader:
                x = batch[0] if isinstance(batch, (list, tuple)) and len(batch) == 2 else batch
                outs.append(_call(model, _to(x, device)))
    finally:
        model.train(was_training)
    if not outs:
        raise ValueError("predict: the loader yielded no batches")
    return cat(outs, 0)


# ---- callbacks ----------------------------------------------------------------------------------------------

def _fmt(logs: dict) -> str:
    return "  ".join(f"{k}={v:.4g}" for k, v in logs.items())


class ProgressBar(Callback):
    """A tqdm bar per epoch with the running loss; a one-line summary per epoch.

    Args:
        disable: True hides the bar; None (default) hides it when stderr is not a terminal.
        summary: print ``epoch i/n: loss=... val_loss=...`` at the end of each epoch.
    """

    def __init__(self, disable: bool | None = None, summary: bool = True, file=None):
        self.disable = disable
        self.summary = summary
        self.file = file
        self._bar = None

    def _enabled(self) -> bool:
        if self.disable is not None:
            return not self.disable
        stream = self.file or sys.stderr
        return bool(getattr(stream, "isatty", lambda: False)())

    def on_epoch_begin(self, trainer, epoch):
        if not self._enabled():
            return
        try:
            from tqdm.auto import tqdm  # optional dependency
        except ImportError as e:
            raise ImportError("ProgressBar needs tqdm: pip install tqdm (or pass disable=True)") from e
        try:
            total = len(trainer.train_loader)
        except TypeError:
            total = None
        self._bar = tqdm(total=total, desc=f"epoch {epoch + 1}/{trainer.epochs}", leave=False, file=self.file)

    def on_batch_end(self, trainer, batch, logs):
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix(loss=f"{logs['loss']:.4f}")

    def on_epoch_end(self, trainer, epoch, logs):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self.summary:
            print(f"epoch {epoch + 1}/{trainer.epochs}: {_fmt(logs)}", file=self.file or sys.stdout)


def _check_mode(mode, who):
    if mode not in ("min", "max"):
        raise ValueError(f"{who}: mode must be 'min' or 'max', got {mode!r}")


def _monitored(logs, monitor, who):
    if monitor not in logs:
        raise KeyError(f"{who}: monitored value {monitor!r} is not in the epoch logs {sorted(logs)} "
                       "(val_* values need a val_loader)")
    return logs[monitor]


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    Args:
        monitor: log key to watch (``"val_loss"``, ``"val_accuracy"``, ``"loss"`` ...).
        patience: epochs without improvement before stopping (>= 0).
        min_delta: the smallest change that counts as an improvement (>= 0).
        mode: ``"min"`` (lower is better) or ``"max"``.
        restore_best: load the best epoch's weights back into the model when training ends.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 3, min_delta: float = 0.0, mode: str = "min",
                 restore_best: bool = True):
        if not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be a non-negative int, got {patience!r}")
        if min_delta < 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta}")
        _check_mode(mode, "EarlyStopping")
        self.monitor, self.patience, self.min_delta, self.mode = monitor, patience, float(min_delta), mode
        self.restore_best = restore_best
        self.best = None
        self.best_epoch = None
        self.stopped_epoch = None
        self._wait = 0
        self._best_state = None

    def _improved(self, value) -> bool:
        if self.best is None:
            return True
        return value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta

    def on_train_begin(self, trainer):
        self.best, self.best_epoch, self.stopped_epoch, self._wait, self._best_state = None, None, None, 0, None

    def on_epoch_end(self, trainer, epoch, logs):
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if self._improved(value):
            self.best, self.best_epoch, self._wait = value, epoch, 0
            if self.restore_best:
                self._best_state = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
            return
        self._wait += 1
        if self._wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True

    def on_train_end(self, trainer):
        if self.restore_best and self._best_state is not None:
            trainer.model.load_state_dict(self._best_state)


class ModelCheckpoint(Callback):
    """Save ``model.state_dict()`` with ``tinytorch.save`` after each epoch (or only when it improved).

    Args:
        path: file name; may contain ``{epoch}`` and log keys (``"ckpt-{epoch:02d}-{val_loss:.3f}.pt"``).
        monitor, mode: what "best" means for ``save_best_only``.
        save_best_only: write only when ``monitor`` improves.
    """

    def __init__(self, path, monitor: str = "val_loss", mode: str = "min", save_best_only: bool = False):
        _check_mode(mode, "ModelCheckpoint")
        self.path = os.fspath(path)
        self.monitor, self.mode, self.save_best_only = monitor, mode, save_best_only
        self.best = None
        self.saved: list[str] = []

    def on_epoch_end(self, trainer, epoch, logs):
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            better = self.best is None or (value < self.best if self.mode == "min" else value > self.best)
            if not better:
                return
            self.best = value
        path = self.path.format(epoch=epoch + 1, **logs)
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        save(trainer.model.state_dict(), path)
        self.saved.append(path)


class LRSchedulerCallback(Callback):
    """Step a ``tinytorch.optim.lr_scheduler`` once per epoch (``ReduceLROnPlateau`` gets ``monitor``'s value)."""

    def __init__(self, scheduler, monitor: str | None = None):
        self.scheduler = scheduler
        self.monitor = monitor
        self.lrs: list[float] = []

    def on_epoch_end(self, trainer, epoch, logs):
        if isinstance(self.scheduler, ReduceLROnPlateau):
            self.scheduler.step(_monitored(logs, self.monitor or "val_loss", "LRSchedulerCallback"))
        else:
            self.scheduler.step()
        lr = trainer.optimizer.param_groups[0]["lr"]
        self.lrs.append(lr)
        logs["lr"] = lr
        trainer.history.history.setdefault("lr", []).append(lr)


class LivePlot(Callback):
    """Loss curves and predictions-vs-targets, redrawn every ``every`` epochs into ``path`` (a PNG).

    The right panel plots predictions against targets on the validation set (or training set
    without one): a scatter for regression, a confusion matrix for classification. With
    ``show=True`` and an interactive matplotlib backend the figure is also shown live.
    """

    def __init__(self, path="training.png", every: int = 1, show: bool = False, max_points: int = 2000):
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"LivePlot: every must be a positive int, got {every!r}")
        self.path = os.fspath(path)
        self.every, self.show, self.max_points = every, show, max_points
        self._fig = None

    def on_epoch_end(self, trainer, epoch, logs):
        if (epoch + 1) % self.every == 0:
            self.draw(trainer)

    def on_train_end(self, trainer):
        self.draw(trainer)
        if self._fig is not None:
            import matplotlib.pyplot as plt  # optional dependency

            plt.close(self._fig)
            self._fig = None

    def _pairs(self, trainer):
        loader = trainer.val_loader if trainer.val_loader is not None else trainer.train_loader
        preds, targets, n = [], [], 0
        model = trainer.model
        was_training = model.training
        model.eval()
        try:
            with autograd.no_grad():
                for batch in loader:
                    x, y = _split(batch)
                    preds.append(_call(model, _to(x, trainer.device)))
                    targets.append(_to(y, trainer.device))
                    n += _batch_size(y)
                    if n >= self.max_points:
                        break
        finally:
            model.train(was_training)
        if not preds:
            return None, None
        return cat(preds, 0).cpu().numpy(), cat(targets, 0).cpu().numpy()

    def draw(self, trainer):
        try:
            import matplotlib  # optional dependency
        except ImportError as e:
            raise ImportError("LivePlot needs matplotlib: pip install matplotlib") from e
        import matplotlib.pyplot as plt  # optional dependency
        if self._fig is None:
            self._fig = plt.figure(figsize=(10, 4))
        fig = self._fig
        fig.clf()
        ax1, ax2 = fig.subplots(1, 2)
        h = trainer.history.history
        for key in sorted(h):
            if key.endswith("loss"):
                ax1.plot(np.arange(1, len(h[key]) + 1), h[key], marker="o", ms=3, label=key)
        ax1.set_xlabel("epoch")
        ax1.set_ylabel("loss")
        ax1.set_title("loss")
        if h:
            ax1.legend()
        pred, target = self._pairs(trainer)
        if pred is not None:
            if pred.ndim == target.ndim + 1 and target.dtype.kind in "iu":
                k = int(max(pred.shape[1], target.max() + 1))
                cm = np.zeros((k, k), dtype=np.int64)
                np.add.at(cm, (target.reshape(-1), pred.argmax(1).reshape(-1)), 1)
                ax2.imshow(cm, cmap="Blues")
                if k <= 20:
                    ax2.set_xticks(range(k))
                    ax2.set_yticks(range(k))
                    for (r, c), v in np.ndenumerate(cm):
                        if v:
                            ax2.text(c, r, str(v), ha="center", va="center", fontsize=7,
                                     color="white" if v > cm.max() / 2 else "black")
                ax2.set_xlabel("predicted class")
                ax2.set_ylabel("true class")
                ax2.set_title("confusion matrix")
            else:
                t, p = target.reshape(-1), pred.reshape(-1)
                ax2.scatter(t, p, s=6, alpha=0.6)
                lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
                ax2.plot([lo, hi], [lo, hi], "k--", lw=1)
                ax2.set_xlabel("target")
                ax2.set_ylabel("prediction")
                ax2.set_title("predictions vs targets")
        fig.tight_layout()
        folder = os.path.dirname(self.path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        fig.savefig(self.path, dpi=100)
        if self.show and matplotlib.get_backend().lower() != "agg":
            plt.pause(0.001)
