"""``tinytorch.utils.tensorboard``: ``SummaryWriter`` writing real TensorBoard event files via tensorboardX.

tensorboardX is an optional dependency (``pip install tinytorch[tensorboard]``); importing this module without
it raises ImportError naming the package, as ``torch.utils.tensorboard`` does for tensorboard.

    from tinytorch.utils.tensorboard import SummaryWriter
    with SummaryWriter("runs/exp1") as w:
        w.add_scalar("loss", loss, step)            # a one-element tensor or a number
        w.add_histogram("fc.weight", model.fc.weight, step)
"""
from __future__ import annotations

import sys
from ...tensor import Tensor


def _import_tensorboardx():
    # tensorboardX tries ``import torch`` only to annotate types; when real torch is not loaded yet, hide it so
    # this import stays fast and never drags a second framework in (tensors reach tensorboardX as NumPy arrays).
    hide = "torch" not in sys.modules
    if hide:
        sys.modules["torch"] = None  # a None entry makes ``import torch`` raise ImportError
    try:
        import tensorboardX
    except ImportError as e:
        raise ImportError("tinytorch.utils.tensorboard needs the tensorboardX package: pip install tensorboardX "
                          f"(or tinytorch[tensorboard]); the import failed with: {e}") from e
    finally:
        if hide and sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return tensorboardX


_tbx = _import_tensorboardx()

__all__ = ["SummaryWriter"]


def _to_numpy(x):
    """tinytorch tensors (any device, with or without grad) become NumPy arrays; everything else passes."""
    if isinstance(x, Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, dict):
        return {k: _to_numpy(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)) and any(isinstance(v, Tensor) for v in x):
        return type(x)(_to_numpy(v) for v in x)
    return x


def _scalar(value, op):
    v = _to_numpy(value)
    try:
        return float(v.item() if hasattr(v, "item") else v)
    except (TypeError, ValueError) as e:
        shape = getattr(v, "shape", None)
        raise ValueError(f"SummaryWriter.{op}: expected a number or a one-element tensor, got "
                         f"{type(value).__name__}{'' if shape is None else f' of shape {tuple(shape)}'}") from e


class SummaryWriter:
    """Writes scalars, histograms, images and text for TensorBoard (``torch.utils.tensorboard.SummaryWriter``).

    Args:
        log_dir: the run directory (default ``runs/<date>_<host><comment>``, like torch).
        comment: suffix of the default ``log_dir``.
        purge_step, max_queue, flush_secs, filename_suffix: as in torch.
    Values may be tinytorch tensors (on any device), NumPy arrays or numbers. Use as a context manager to close.
    """

    def __init__(self, log_dir=None, comment: str = "", purge_step=None, max_queue: int = 10,
                 flush_secs: int = 120, filename_suffix: str = ""):
        self._writer = _tbx.SummaryWriter(logdir=log_dir, comment=comment, purge_step=purge_step,
                                          max_queue=max_queue, flush_secs=flush_secs,
                                          filename_suffix=filename_suffix)
        self.log_dir = self._writer.logdir

    def get_logdir(self) -> str:
        return self.log_dir

    def add_scalar(self, tag: str, scalar_value, global_step=None, walltime=None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        self._writer.add_scalar(tag, _scalar(scalar_value, "add_scalar"), global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step=None, walltime=None) -> None:
        values = {k: _scalar(v, "add_scalars") for k, v in tag_scalar_dict.items()}
        self._writer.add_scalars(main_tag, values, global_step, walltime)

    def add_histogram(self, tag: str, values, global_step=None, bins="tensorflow", walltime=None,
                      max_bins=None) -> None:
        arr = _to_numpy(values)
        if getattr(arr, "size", 1) == 0:
            raise ValueError(f"SummaryWriter.add_histogram: {tag!r} got an empty tensor")
        self._writer.add_histogram(tag, arr, global_step, bins, walltime, max_bins)

    def add_image(self, tag: str, img_tensor, global_step=None, walltime=None, dataformats: str = "CHW") -> None:
        """An image of shape (C, H, W) by default (``dataformats`` 'HWC', 'HW' ...), float in [0, 1] or uint8."""
        self._writer.add_image(tag, _to_numpy(img_tensor), global_step, walltime, dataformats)

    def add_images(self, tag: str, img_tensor, global_step=None, walltime=None, dataformats: str = "NCHW") -> None:
        self._writer.add_images(tag, _to_numpy(img_tensor), global_step, walltime, dataformats)

    def add_text(self, tag: str, text_string: str, global_step=None, walltime=None) -> None:
        self._writer.add_text(tag, text_string, global_step, walltime)

    def add_hparams(self, hparam_dict: dict, metric_dict: dict, hparam_domain_discrete=None, run_name=None,
                    global_step=None) -> None:
        metrics = {k: _scalar(v, "add_hparams") for k, v in metric_dict.items()}
        hparams = {k: _scalar(v, "add_hparams") if hasattr(v, "shape") else v for k, v in hparam_dict.items()}
        self._writer.add_hparams(hparams, metrics, name=run_name, global_step=global_step)

    def add_figure(self, tag: str, figure, global_step=None, close: bool = True, walltime=None) -> None:
        self._writer.add_figure(tag, figure, global_step, close, walltime)

    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None, tag: str = "default",
                      metadata_header=None) -> None:
        self._writer.add_embedding(_to_numpy(mat), metadata, _to_numpy(label_img), global_step, tag,
                                   metadata_header)

    def add_graph(self, model, input_to_model=None, verbose: bool = False, use_strict_trace: bool = True) -> None:
        raise NotImplementedError("SummaryWriter.add_graph: tinytorch has no graph tracer; log scalars instead")

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
