"""The main demo trains a CNN on the real digits data to >= 0.95 test accuracy on the CPU."""
from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "train_digits.py"


def _load_demo():
    spec = importlib.util.spec_from_file_location("train_digits", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_train_digits_reaches_95_percent(capsys):
    pytest.importorskip("sklearn")
    demo = _load_demo()
    acc = demo.main(["--smoke", "--device", "cpu", "--no-progress", "--seed", "0"])
    out = capsys.readouterr().out
    assert acc >= 0.95, out
    assert "test accuracy:" in out and "time/epoch" in out


def test_demo_reads_like_a_pytorch_script():
    src = SCRIPT.read_text()
    for line in ("import tinytorch as torch", "import tinytorch.nn as nn", "import tinytorch.nn.functional as F"):
        assert line in src
    # no tinytorch-only API: the script must run under real PyTorch by changing only the imports
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    code = SCRIPT.read_text().replace("import tinytorch as torch", "import torch").replace(
        "import tinytorch.nn as nn", "import torch.nn as nn").replace(
        "import tinytorch.nn.functional as F", "import torch.nn.functional as F").replace(
        "from tinytorch.utils.data import", "from torch.utils.data import")
    assert "tinytorch" not in code.split('"""', 2)[2]
    ns = {"__name__": "demo_under_torch"}
    exec(compile(code, "train_digits_torch.py", "exec"), ns)  # noqa: S102 - our own script
    acc = ns["main"](["--epochs", "1", "--device", "cpu", "--no-progress"])
    assert acc > 0.5


def test_help_runs_as_a_script():
    out = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert "--smoke" in out.stdout and "--no-progress" in out.stdout and "--device" in out.stdout
