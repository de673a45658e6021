"""Static CuPy-compatibility checks (no GPU needed): parse tinytorch's sources and fail on code that
would break on CuPy arrays.

* only ``tinytorch/_arrays/`` imports ``cupy``/``cupyx``;
* elsewhere no NumPy-only calls on device arrays: ``np.add.at`` (any ``np.<ufunc>.at``; use
  ``_arrays.scatter_add``), ``*.lib.stride_tricks`` (use ``_arrays.strides.as_strided``),
  ``.flags.writeable`` / ``.setflags`` (use ``_arrays.is_writeable``), and ``np.<fn>(t._data)``
  on a tensor's raw array (use ``xp = ctx.xp`` / ``_arrays.array_module``).

The host-only plotting/reporting modules are exempt. (The op registry's NumPy references and sample
builders run on host arrays; they live in tests/opinfo/, outside the tree checked here.)
"""
from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "tinytorch"
HOST_ONLY = {"train.py", "viz.py"}  # plots and reports on host copies
# the compile recorder wraps NumPy itself (its array tier is CPU-only; CUDA calls take the CUDA-graph tier)
NUMPY_RECORDER = {"_compile/arrays.py"}
# np functions that read only metadata (shapes, dtypes) and so are safe on CuPy arrays
METADATA_FNS = {"shape", "ndim", "size", "dtype", "result_type", "finfo", "iinfo", "isscalar", "can_cast",
                "issubdtype", "promote_types", "broadcast_shapes"}


def _sources():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] == "_arrays":
            continue
        yield rel, path.read_text()


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


class _Checker(ast.NodeVisitor):
    def __init__(self, name):
        self.name, self.problems = name, []

    def _report(self, node, what):
        self.problems.append(f"{self.name}:{node.lineno}: {what}")

    def visit_Import(self, node):
        for a in node.names:
            if a.name.split(".")[0] in ("cupy", "cupyx"):
                self.problems.append(f"{self.name}:{node.lineno}: imports {a.name} (only tinytorch/_arrays may)")

    def visit_ImportFrom(self, node):
        if node.module and node.level == 0 and node.module.split(".")[0] in ("cupy", "cupyx"):
            self.problems.append(f"{self.name}:{node.lineno}: imports from {node.module} (only tinytorch/_arrays may)")

    def visit_Attribute(self, node):
        dotted = _dotted(node)
        if dotted.endswith("lib.stride_tricks"):
            self._report(node, f"{dotted} (use tinytorch._arrays.strides.as_strided)")
        elif node.attr == "writeable" and isinstance(node.value, ast.Attribute) and node.value.attr == "flags":
            self._report(node, ".flags.writeable: CuPy arrays have none (use tinytorch._arrays.is_writeable)")
        self.generic_visit(node)

    def visit_Call(self, node):
        fn = _dotted(node.func)
        parts = fn.split(".")
        if len(parts) == 3 and parts[0] == "np" and parts[2] in ("at", "reduceat"):
            self._report(node, f"{fn}: NumPy only (use tinytorch._arrays.scatter_add)")
        elif fn.endswith(".setflags"):
            self._report(node, "setflags: CuPy arrays have no flags to set")
        elif len(parts) == 2 and parts[0] == "np" and parts[1] not in METADATA_FNS:
            for arg in list(node.args) + [k.value for k in node.keywords]:
                if _bare_data(arg):
                    self._report(node, f"{fn}(... {ast.unparse(arg)} ...): NumPy on a tensor's raw array "
                                       "(use ctx.xp / _arrays.array_module)")
                    break
        self.generic_visit(node)


def _bare_data(node) -> bool:
    """True when ``node`` uses some ``t._data`` as an array (not ``t._data.shape``, not inside another call)."""
    meta = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Call):
            continue  # e.g. _arrays.as_numpy(t._data): converted first
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Attribute) and n.value.attr == "_data":
            meta.add(id(n.value))  # t._data.shape / .dtype / .ndim ...
        stack.extend(ast.iter_child_nodes(n))
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Call):
            continue
        if isinstance(n, ast.Attribute) and n.attr == "_data" and id(n) not in meta:
            return True
        stack.extend(ast.iter_child_nodes(n))
    return False


def check_source(name: str, source: str) -> list[str]:
    """Every CuPy incompatibility found in ``source`` (a module's text), as 'file:line: reason'."""
    checker = _Checker(name)
    checker.visit(ast.parse(source))
    return checker.problems


def test_only_backend_imports_cupy():
    bad = []
    for rel, src in _sources():
        bad += [p for p in check_source(str(rel), src) if "imports" in p]
    assert not bad, "\n".join(bad)


def test_no_numpy_only_calls_on_device_arrays():
    bad = []
    for rel, src in _sources():
        if rel.name in HOST_ONLY or rel.as_posix() in NUMPY_RECORDER:
            continue
        bad += [p for p in check_source(str(rel), src) if "imports" not in p]
    assert not bad, "CuPy-incompatible code:\n" + "\n".join(bad)


@pytest.mark.parametrize("snippet, needle", [
    ("import cupy\n", "imports cupy"),
    ("def f():\n    import cupyx.scipy.sparse as s\n", "imports cupyx"),
    ("from cupy.cuda import runtime\n", "imports from cupy"),
    ("def forward(ctx, x):\n    np.add.at(out, idx, x._data)\n", "np.add.at"),
    ("def forward(ctx, x):\n    return np.lib.stride_tricks.as_strided(x._data, (2,), (8,))\n", "stride_tricks"),
    ("def forward(ctx, x):\n    return ctx.xp.lib.stride_tricks.as_strided(a, (2,), (8,))\n", "stride_tricks"),
    ("def f(t):\n    return t._data.flags.writeable\n", "writeable"),
    ("def f(t):\n    t._data.setflags(write=False)\n", "setflags"),
    ("def forward(ctx, x):\n    return np.exp(x._data)\n", "np.exp"),
    ("def forward(ctx, x):\n    return np.where(x._data > 0, x._data, 0)\n", "np.where"),
])
def test_checker_catches(snippet, needle):
    problems = check_source("snippet.py", snippet)
    assert any(needle in p for p in problems), problems


@pytest.mark.parametrize("snippet", [
    "def forward(ctx, x):\n    return np.zeros(x._data.shape, dtype=x._data.dtype)\n",
    "def f(t):\n    return np.asarray(_arrays.as_numpy(t._data))\n",
    "def forward(ctx, x):\n    return ctx.xp.exp(x._data)\n",
])
def test_checker_allows(snippet):
    assert check_source("snippet.py", snippet) == []
