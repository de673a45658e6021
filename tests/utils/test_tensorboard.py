"""SummaryWriter writes real TensorBoard event files (through tensorboardX), read back record by record."""
from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

import tinytorch

pytest.importorskip("tensorboardX")
from tensorboardX.proto import event_pb2  # noqa: E402
from tensorboardX.record_writer import masked_crc32c  # noqa: E402

from tinytorch.utils.tensorboard import SummaryWriter  # noqa: E402


def _read_events(path: Path) -> list:
    """Parse TFRecord framing (length, masked CRC of length, payload, masked CRC of payload) into Events."""
    raw = path.read_bytes()
    events, pos = [], 0
    while pos < len(raw):
        header = raw[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (len_crc,) = struct.unpack("<I", raw[pos + 8:pos + 12])
        assert len_crc == masked_crc32c(header), "corrupt length CRC"
        payload = raw[pos + 12:pos + 12 + length]
        (data_crc,) = struct.unpack("<I", raw[pos + 12 + length:pos + 16 + length])
        assert data_crc == masked_crc32c(payload), "corrupt payload CRC"
        ev = event_pb2.Event()
        ev.ParseFromString(payload)
        events.append(ev)
        pos += 16 + length
    return events


def _summaries(log_dir: Path) -> dict:
    """tag -> list of (step, summary value) over every event file under ``log_dir``."""
    out: dict = {}
    for f in sorted(log_dir.rglob("events.out.tfevents.*")):
        for ev in _read_events(f):
            for v in ev.summary.value:
                out.setdefault(v.tag, []).append((ev.step, v))
    return out


def test_scalars_histograms_images_text(tmp_path):
    with SummaryWriter(log_dir=str(tmp_path)) as w:
        assert w.log_dir == str(tmp_path) and w.get_logdir() == str(tmp_path)
        for step in range(3):
            w.add_scalar("train/loss", tinytorch.tensor(1.0 / (step + 1), requires_grad=True) * 2, step)
        w.add_scalar("lr", 0.125, 7)
        w.add_histogram("weights", tinytorch.arange(10.0), 1)
        w.add_image("img", tinytorch.rand(3, 4, 5), 2)
        w.add_image("img_hwc", tinytorch.rand(4, 5, 3), 2, dataformats="HWC")
        w.add_text("note", "hello tensorboard", 0)
        w.add_scalars("cmp", {"a": 1.0, "b": tinytorch.tensor([2.0])}, 4)
        w.flush()
    s = _summaries(tmp_path)
    assert [(st, v.simple_value) for st, v in s["train/loss"]] == [(0, 2.0), (1, 1.0), (2, pytest.approx(2 / 3))]
    assert s["lr"][0][0] == 7 and s["lr"][0][1].simple_value == 0.125
    h = s["weights"][0][1].histo
    assert h.num == 10 and h.min == 0 and h.max == 9 and h.sum == 45
    img = s["img"][0][1].image
    assert (img.height, img.width, img.colorspace) == (4, 5, 3) and img.encoded_image_string[:4] == b"\x89PNG"
    assert s["img_hwc"][0][1].image.height == 4
    assert "note/text_summary" in s
    # add_scalars writes one sub-run directory per key, as torch's does
    assert sorted((st, v.simple_value) for st, v in s["cmp"]) == [(4, 1.0), (4, 2.0)]


def test_scalar_rejects_multi_element_tensor(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        with pytest.raises(ValueError, match="add_scalar.*shape \\(3,\\)"):
            w.add_scalar("x", tinytorch.ones(3), 0)


def test_default_log_dir_under_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_exp")
    w.close()
    assert Path(w.log_dir).parent.name == "runs" and w.log_dir.endswith("_exp")


def test_missing_tensorboardx_is_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    monkeypatch.delitem(sys.modules, "tinytorch.utils.tensorboard")
    with pytest.raises(ImportError, match="tensorboardX"):
        import tinytorch.utils.tensorboard  # noqa: F401
