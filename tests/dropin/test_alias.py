"""tinytorch.alias: ``import torch`` and every ``torch.*`` submodule import resolve to tinytorch.

Each check runs in a fresh interpreter: the test process may already hold the real torch.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def _ok(code: str) -> str:
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_install_maps_torch_and_submodules_to_the_same_module_objects():
    out = _ok("""
        import tinytorch.alias
        tinytorch.alias.install()
        import torch, tinytorch
        import torch.nn as nn
        import torch.nn.functional as F
        import torch.optim.lr_scheduler
        import torch.backends.cudnn
        import torch.linalg
        from torch.utils.data import DataLoader, Dataset, IterableDataset, Sampler
        from torch.optim import AdamW
        from torch.nn.parallel import DistributedDataParallel
        import torch.distributed as dist
        from torch.cuda.amp import GradScaler
        assert torch is tinytorch and nn is tinytorch.nn and F is tinytorch.nn.functional
        assert torch.optim.lr_scheduler is tinytorch.optim.lr_scheduler
        assert torch.linalg is tinytorch.linalg and torch.backends.cudnn is tinytorch.backends.cudnn
        assert DataLoader is tinytorch.utils.data.DataLoader and AdamW is tinytorch.optim.AdamW
        # the real module spec survives: reload/pickle-by-name see tinytorch, not 'torch'
        assert nn.__spec__.name == "tinytorch.nn" and torch.__name__ == "tinytorch"
        assert not dist.is_initialized()
        print(torch.tensor([1.0, 2.0]).sum().item())
    """)
    assert out.strip() == "3.0"


def test_missing_submodule_and_uninstall():
    _ok("""
        import sys
        import tinytorch.alias as alias
        alias.install()
        try:
            import torch.no_such_module
        except ModuleNotFoundError as e:
            assert "torch.no_such_module" in str(e), e
        else:
            raise AssertionError("expected ModuleNotFoundError")
        import torch
        alias.uninstall()
        assert not alias.is_installed() and "torch" not in sys.modules
    """)


def test_install_refuses_when_real_torch_is_loaded():
    _ok("""
        import sys, types
        sys.modules["torch"] = types.ModuleType("torch")  # stands in for an already imported real torch
        import tinytorch.alias
        try:
            tinytorch.alias.install()
        except RuntimeError as e:
            assert "already imported" in str(e)
        else:
            raise AssertionError("expected RuntimeError")
    """)


def test_command_line_runs_a_script_with_args(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("import sys, torch, helper\nprint(torch.__name__, sys.argv[1:], helper.X, __name__)\n")
    (tmp_path / "helper.py").write_text("X = 7\n")  # the script's own folder is importable, as with python s.py
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "tinytorch.alias", str(script), "--lr", "0.1"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "tinytorch ['--lr', '0.1'] 7 __main__"
    as_module = subprocess.run([sys.executable, "-m", "tinytorch.alias", "-m", "s", "x"], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=120)
    assert as_module.returncode == 0, as_module.stderr
    assert as_module.stdout.strip() == "tinytorch ['x'] 7 __main__"
    usage = subprocess.run([sys.executable, "-m", "tinytorch.alias"], env=env, capture_output=True, text=True)
    assert usage.returncode == 2 and "usage" in usage.stderr
