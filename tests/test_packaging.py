"""Packaging: every package is listed in pyproject, and the CUDA sources are found from the install."""
from __future__ import annotations

import pathlib
import tomllib

from tinytorch import _kernels_path

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_every_package_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    pkg_root = ROOT / "tinytorch"
    found = {"tinytorch"}
    for init in pkg_root.rglob("__init__.py"):
        rel = init.parent.relative_to(ROOT)
        found.add(".".join(rel.parts))
    missing = found - listed
    assert not missing, f"packages missing from pyproject.toml [tool.setuptools] packages: {sorted(missing)}"


def test_kernel_sources_are_found_from_the_installed_package():
    files = {p.name for p in _kernels_path.kernel_dir().iterdir()}
    src = {p.name for p in (ROOT / "kernels").iterdir() if p.suffix in (".cu", ".cuh")}
    assert src <= files, f"kernel sources not visible through tinytorch._kernels: {sorted(src - files)}"


def test_core_imports_with_numpy_alone():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "for m in ('cupy','ml_dtypes','safetensors','tqdm','matplotlib','scipy','sklearn','torch','graphviz'):\n"
        "    sys.modules[m] = None\n"
        "import tinytorch as t\n"
        "x = t.ones(2, requires_grad=True); (x * 2).sum().backward(); print(x.grad.tolist())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "[2.0, 2.0]" in out.stdout
