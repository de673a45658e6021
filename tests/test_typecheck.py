"""pyright sees the public API with real signatures (issue #16): Tensor methods, F.*, top-level ops.

Runs pyright (the PyPI package, which needs node) on a small user script; skipped when it cannot run.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SNIPPET = '''\
import tinytorch as torch
import tinytorch.nn.functional as F

x = torch.randn(3, requires_grad=True)
y = x.sum()
y.backward()
w = torch.randn(4, 3, 3, 3)
out = F.conv2d(torch.randn(1, 3, 8, 8), w, stride=1, padding=1)
reveal_type(x)
reveal_type(y)
reveal_type(torch.randn(3).sum().backward)
reveal_type(F.conv2d)
reveal_type(x.reshape(3, 1).transpose(0, 1).grad)
reveal_type(torch.relu)
reveal_type(torch.greater)
x.sum(no_such_keyword=1)
F.conv2d(x, w, no_such_keyword=1)
'''
# lines (1-based) of SNIPPET where pyright must report an error: a wrong keyword to a real signature
EXPECTED_ERROR_LINES = {16, 17}


def _pyright():
    if importlib.util.find_spec("pyright") is None:
        pytest.skip("pyright is not installed (pip install -e .[dev])")
    cmd = [sys.executable, "-m", "pyright"]
    try:
        probe = subprocess.run(cmd + ["--version"], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.skip("pyright --version timed out (it may be trying to download node)")
    if probe.returncode != 0:
        pytest.skip(f"pyright cannot run here (it needs node): {probe.stdout[-300:]}{probe.stderr[-300:]}")
    return cmd


def test_public_api_resolves_with_real_signatures(tmp_path):
    cmd = _pyright()
    (tmp_path / "user.py").write_text(SNIPPET)
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(
        {"include": ["user.py"], "extraPaths": [str(ROOT)], "typeCheckingMode": "basic"}))
    res = subprocess.run(cmd + ["--outputjson", "--pythonpath", sys.executable, "-p", str(tmp_path)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    try:
        report = json.loads(res.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"pyright gave no JSON report:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")
    diags = report["generalDiagnostics"]
    revealed = {d["range"]["start"]["line"] + 1: d["message"] for d in diags if d["severity"] == "information"}
    errors = {d["range"]["start"]["line"] + 1: d["message"] for d in diags if d["severity"] == "error"}
    assert set(errors) == EXPECTED_ERROR_LINES, f"pyright errors: {errors}"
    assert all("no_such_keyword" in m for m in errors.values()), errors
    assert revealed[9] == 'Type of "x" is "Tensor"'
    assert revealed[10] == 'Type of "y" is "Tensor"'
    backward = revealed[11]
    assert "create_graph" in backward and "retain_graph" in backward and backward.endswith("-> None\""), backward
    conv = revealed[12]
    assert "(input" in conv and "weight" in conv and "stride" in conv and "groups" in conv, conv
    assert revealed[13] == 'Type of "x.reshape(3, 1).transpose(0, 1).grad" is "Tensor | None"'
    assert "(input" in revealed[14] and "inplace" in revealed[14], revealed[14]
    assert "(input" in revealed[15] and "other" in revealed[15], revealed[15]  # an alias: greater = gt
