"""Issue #13 §3: checkpoint files — one clear error per malformed file (naming it and what is wrong),
loading in about one copy of memory, killed saves that leave the old or new file whole and temp files
that the next save cleans, and the mode a plain open() gives."""
from __future__ import annotations

import json
import os
import signal
import stat
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import tinytorch

ROOT = Path(__file__).resolve().parents[1]


def _raw(path, header: dict, data: bytes = b"", meta=None, doc=None):
    """Write a safetensors-shaped file with exactly this header (and tinytorch document)."""
    header = dict(header)
    if doc is not None:
        meta = dict(meta or {}, tinytorch=doc if isinstance(doc, str) else json.dumps(doc))
    if meta is not None:
        header["__metadata__"] = meta
    head = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(head)) + head + data)
    return path


_W = {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
_W_DATA = np.array([1.0, 2.0], dtype=np.float32).tobytes()


def _deep(levels):
    return '{"version":2,"root":' + '{"L":[' * levels + '{"i":1}' + "]}" * levels + "}"


# (id, header, data, tinytorch document, words the error must contain)
CORRUPT = [
    ("doc_not_json", _W, _W_DATA, "{not json", "corrupt tinytorch metadata"),
    ("doc_is_list", _W, _W_DATA, [1, 2], "unsupported tinytorch checkpoint format"),
    ("doc_no_root", _W, _W_DATA, {"version": 2}, "unsupported tinytorch checkpoint format"),
    ("doc_bad_version", _W, _W_DATA, {"version": 99, "root": None}, "version 99"),
    ("node_is_string", _W, _W_DATA, {"version": 2, "root": "hello"}, "is a str"),
    ("node_two_kinds", _W, _W_DATA, {"version": 2, "root": {"i": 1, "s": "x"}}, "exactly one kind"),
    ("node_unknown_kind", _W, _W_DATA, {"version": 2, "root": {"zz": 1}}, "exactly one kind"),
    ("node_extra_key", _W, _W_DATA, {"version": 2, "root": {"i": 1, "rg": True}}, "unexpected keys"),
    ("int_is_string", _W, _W_DATA, {"version": 2, "root": {"i": "12"}}, "must be an integer"),
    ("int_is_bool", _W, _W_DATA, {"version": 2, "root": {"i": True}}, "must be an integer"),
    ("bad_float", _W, _W_DATA, {"version": 2, "root": {"f": "0xZZ"}}, "bad number"),
    ("float_is_number", _W, _W_DATA, {"version": 2, "root": {"f": 1.5}}, "bad number"),
    ("bad_complex", _W, _W_DATA, {"version": 2, "root": {"c": ["1", "x"]}}, "bad number"),
    ("bad_dtype_name", _W, _W_DATA, {"version": 2, "root": {"dt": "float128"}}, "bad dtype name"),
    ("bad_device", _W, _W_DATA, {"version": 2, "root": {"dev": "tpu:0"}}, "unknown device string 'tpu:0'"),
    ("bad_tensor_device", _W, _W_DATA, {"version": 2, "root": {"T": "w", "d": "quantum"}}, "unknown device string"),
    ("device_is_int", _W, _W_DATA, {"version": 2, "root": {"dev": 3}}, "must be a string"),
    ("missing_tensor", _W, _W_DATA, {"version": 2, "root": {"T": "nope"}}, "does not contain"),
    ("tensor_ref_not_str", _W, _W_DATA, {"version": 2, "root": {"T": 0}}, "must be a string"),
    ("dict_not_pairs", _W, _W_DATA, {"version": 2, "root": {"D": [[1, 2, 3]]}}, "[key, value] pairs"),
    ("dict_unhashable_key", _W, _W_DATA, {"version": 2, "root": {"D": [[{"L": []}, None]]}}, "not hashable"),
    ("set_unhashable", _W, _W_DATA, {"version": 2, "root": {"S": [{"D": []}]}}, "not hashable"),
    ("list_is_dict", _W, _W_DATA, {"version": 2, "root": {"L": {"a": 1}}}, "must be a list"),
    ("bad_base64", _W, _W_DATA, {"version": 2, "root": {"by": "!!!"}}, "base64"),
    ("negative_size", _W, _W_DATA, {"version": 2, "root": {"Z": [2, -1]}}, "Size"),
    ("dangling_ref", _W, _W_DATA, {"version": 2, "root": {"R": 5}}, "defined before"),
    ("object_no_id", _W, _W_DATA, {"version": 2, "root": {"O": ["argparse", "Namespace"], "a": []}}, "id"),
    ("object_bad_attrs", _W, _W_DATA,
     {"version": 2, "root": {"O": ["argparse", "Namespace"], "id": 0, "a": [[1, None]]}}, "attribute name"),
    ("object_bad_path", _W, _W_DATA, {"version": 2, "root": {"O": ["os", "a b"], "id": 0, "a": []}}, "class must be"),
    ("deep_2000", _W, _W_DATA, _deep(2000), "nested"),
    ("deep_400", _W, _W_DATA, _deep(400), "nested more than 300 levels"),
    ("deep_json_100000", _W, _W_DATA, '{"version":2,"root":' + "[" * 100000 + "]" * 100000 + "}", "nested"),
    ("header_bad_dtype", {"w": {"dtype": "Q8", "shape": [2], "data_offsets": [0, 8]}}, _W_DATA, None, "dtype Q8"),
    ("header_neg_shape", {"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, _W_DATA, None, "bad shape"),
    ("header_size_mismatch", {"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, _W_DATA, None, "needs 12"),
    ("header_past_end", {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, _W_DATA, None, "truncated"),
    ("header_overlap", {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                        "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, _W_DATA, None, "overlap"),
    ("header_entry_not_dict", {"w": [1, 2]}, _W_DATA, None, "malformed header entry"),
    ("header_offsets_str", {"w": {"dtype": "F32", "shape": [2], "data_offsets": ["0", "8"]}}, _W_DATA, None,
     "bad data offsets"),
]


@pytest.mark.parametrize("header,data,doc,words", [c[1:] for c in CORRUPT], ids=[c[0] for c in CORRUPT])
def test_malformed_files_give_one_clear_error(tmp_path, header, data, doc, words):
    path = _raw(tmp_path / "broken.ckpt", header, data, doc=doc)
    with pytest.raises(RuntimeError) as info:
        tinytorch.load(path)
    msg = str(info.value)
    assert "broken.ckpt" in msg and words in msg, msg
    assert type(info.value) is RuntimeError  # not a raw KeyError/TypeError/ValueError/RecursionError


@pytest.mark.parametrize("content", [
    b"[1, 2]", b'{"__metadata__": [1]}', b'{"__metadata__": {"tinytorch": 5}}', b"[" * 5000 + b"]" * 5000,
], ids=["header_list", "metadata_list", "metadata_value_int", "header_deep"])
def test_malformed_headers(tmp_path, content):
    path = tmp_path / "h.st"
    path.write_bytes(struct.pack("<Q", len(content)) + content)
    with pytest.raises(RuntimeError, match="h.st"):
        tinytorch.load(path)


def test_header_length_that_starts_like_a_pickle_still_loads(tmp_path):
    # a header of 0x280 bytes makes the file open with 0x80 0x02, which is also pickle's PROTO 2
    pad = 0x280 - len(json.dumps({"w": _W["w"]}))
    header = {"w": _W["w"], "__metadata__": {"x": " " * (pad - len(', "__metadata__": {"x": ""}'))}}
    path = _raw(tmp_path / "ok.st", header, _W_DATA)
    assert path.read_bytes()[:2] == b"\x80\x02"
    assert tinytorch.load(path)["w"].tolist() == [1.0, 2.0]


# ---- memory -----------------------------------------------------------------------------------------
# Peak RSS of this process image: VmHWM, the number ru_maxrss reports for it. ru_maxrss itself is not
# read: Linux carries the parent's (pytest's, possibly large) RSS into a child's ru_maxrss across a
# vfork+exec, which would make the measurement depend on the tests that ran before.
_RSS_SCRIPT = textwrap.dedent("""
    import sys
    import tinytorch
    def status_kb(field):
        with open("/proc/self/status") as fh:
            return next(int(l.split()[1]) for l in fh if l.startswith(field + ":"))
    before = status_kb("VmRSS")
    ck = tinytorch.load(sys.argv[1])
    print((status_kb("VmHWM") - before) * 1024, sum(t.numel() * t.element_size() for t in ck.values()))
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_load_peak_memory_is_about_one_copy(tmp_path):
    path = tmp_path / "big.st"
    tinytorch.save({f"w{i}": tinytorch.ones(2 * 2**20) for i in range(8)}, path)  # 8 x 8 MiB = 64 MiB
    size = path.stat().st_size
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", _RSS_SCRIPT, str(path)], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    grew, loaded = map(int, out.stdout.split())
    assert loaded == 64 * 2**20
    assert grew <= 1.3 * size, f"loading a {size / 2**20:.0f} MiB file raised peak RSS by {grew / 2**20:.0f} MiB"


# ---- temp files, modes, killed saves ----------------------------------------------------------------
def _temps(d: Path, base: str):
    return sorted(p.name for p in d.iterdir() if p.name.startswith(f".{base}.tinytorch-tmp-"))


def test_saved_file_mode_respects_umask(tmp_path):
    old = os.umask(0o022)
    try:
        tinytorch.save({"a": 1}, tmp_path / "a.st")
        assert stat.S_IMODE((tmp_path / "a.st").stat().st_mode) == 0o644
        os.umask(0o077)
        tinytorch.save({"a": 1}, tmp_path / "b.st")
        assert stat.S_IMODE((tmp_path / "b.st").stat().st_mode) == 0o600
        os.umask(0o022)
        os.chmod(tmp_path / "b.st", 0o640)  # overwriting keeps the existing file's mode, as open() does
        tinytorch.save({"a": 2}, tmp_path / "b.st")
        assert stat.S_IMODE((tmp_path / "b.st").stat().st_mode) == 0o640
    finally:
        os.umask(old)


def test_stale_temp_of_dead_process_is_cleaned(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        stale = tmp_path / f".ck.pt.tinytorch-tmp-{dead.pid}-0"
        busy = tmp_path / f".ck.pt.tinytorch-tmp-{alive.pid}-0"  # another process saving right now
        other = tmp_path / f".other.pt.tinytorch-tmp-{dead.pid}-0"  # a different checkpoint's
        for p in (stale, busy, other):
            p.write_bytes(b"x" * 100)
        tinytorch.save({"a": 1}, tmp_path / "ck.pt")
        assert not stale.exists() and busy.exists() and other.exists()
        assert tinytorch.load(tmp_path / "ck.pt") == {"a": 1}
    finally:
        alive.kill()
        alive.wait()


def test_legacy_mkstemp_temps_are_cleaned_once_old(tmp_path):
    old_tmp = tmp_path / ".ck.pt.ab12cd_9.tmp"  # what tinytorch's earlier mkstemp-based saves left behind
    fresh_tmp = tmp_path / ".ck.pt.zz99yy00.tmp"
    unrelated = tmp_path / ".ck.pt.notes.tmp"
    for p in (old_tmp, fresh_tmp, unrelated):
        p.write_bytes(b"x")
    hour_ago = time.time() - 7200
    os.utime(old_tmp, (hour_ago, hour_ago))
    os.utime(unrelated, (hour_ago, hour_ago))
    tinytorch.save({"a": 1}, tmp_path / "ck.pt")
    assert not old_tmp.exists() and fresh_tmp.exists() and unrelated.exists()


_SAVER = textwrap.dedent("""
    import sys
    import numpy as np
    import tinytorch
    path = sys.argv[1]
    big = [tinytorch.tensor(np.full(8 * 2**20, float(v), dtype=np.float32)) for v in (1, 2)]
    for i in range(10**6):
        tinytorch.save({"v": big[i % 2], "i": i}, path)
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_during_save_leaves_a_whole_file_and_next_save_cleans(tmp_path):
    path = tmp_path / "big.pt"
    tinytorch.save({"v": tinytorch.zeros(8 * 2**20), "i": -1}, path)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)], env=env)
    try:
        deadline = time.monotonic() + 60
        while not _temps(tmp_path, "big.pt") and time.monotonic() < deadline:  # kill it mid-save
            time.sleep(0.005)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    ck = tinytorch.load(path)
    v = ck["v"].numpy()
    assert v.shape == (8 * 2**20,) and (v == v[0]).all() and v[0] in (0.0, 1.0, 2.0)  # old or new, whole
    tinytorch.save({"v": tinytorch.ones(3)}, path)
    assert _temps(tmp_path, "big.pt") == []
    assert tinytorch.load(path)["v"].tolist() == [1.0, 1.0, 1.0]


def test_mmap_load_is_copy_on_write(tmp_path):
    path = tmp_path / "m.st"
    tinytorch.save({"w": tinytorch.arange(6.0).reshape(2, 3), "e": tinytorch.zeros(0)}, path)
    before = path.read_bytes()
    ck = tinytorch.load(path, mmap=True)
    assert ck["w"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and ck["e"].shape == (0,)
    ck["w"].add_(1.0)  # writable, and the file stays as it was
    assert ck["w"][0, 0].item() == 1.0 and path.read_bytes() == before
    assert type(ck["w"].numpy()) is np.ndarray
