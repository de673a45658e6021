"""Imports go one way (STYLE.md "The shape of the house"; issue #16 §2), checked by parsing tinytorch/ with ``ast``.

    _arrays  <-  tensor + autograd + ops (the core)  <-  nn.functional, nn, optim, linalg façade  <-  data, train ...

- the array layer imports nothing of tinytorch above it;
- the core never imports the layers above it (nn, optim, the ``tinytorch.linalg`` façade, data, train ...);
- function-level imports are few, and each says why it is one: an optional package loaded on use, or a comment
  on the line naming the cycle or the cost it avoids.
"""
from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "tinytorch"

# the array layer may import only itself and the path of the shipped CUDA sources
ARRAY_LAYER_MAY_IMPORT = ("tinytorch._arrays", "tinytorch._kernels_path")
# the core: what tensors, autograd and ops are made of
CORE = ("tinytorch.tensor", "tinytorch.autograd", "tinytorch.ops", "tinytorch._dtype", "tinytorch.creation",
        "tinytorch.random", "tinytorch.amp", "tinytorch._out", "tinytorch._format")
ABOVE_CORE = ("tinytorch.nn", "tinytorch.optim", "tinytorch.linalg", "tinytorch.utils", "tinytorch.train",
              "tinytorch.viz", "tinytorch.distributions", "tinytorch._compile", "tinytorch._dynamo", "tinytorch.onnx",
              "tinytorch.serialization", "tinytorch.distributed", "tinytorch.jit", "tinytorch.testing",
              "tinytorch.special", "tinytorch._compat")
# third-party packages tinytorch uses only when a feature asks for them (each imported inside that feature)
OPTIONAL_PACKAGES = {"scipy", "cupy", "cupyx", "mpi4py", "tqdm", "matplotlib", "graphviz", "tensorboardX", "onnx",
                     "onnxruntime", "threadpoolctl"}
# function-level imports in tinytorch/ (was 360 when this test came in); it may fall, never rise
FUNCTION_LEVEL_CEILING = 48


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _targets(node, module: str, is_package: bool) -> list[str]:
    """Absolute names an import statement may load (``from . import x`` may load the submodule ``x``)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    package = module if is_package else module.rpartition(".")[0]
    base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) if node.level else node.module
    return [base] + [f"{base}.{a.name}" for a in node.names]


def imports(path: Path, source: str | None = None) -> list[tuple[str, int, bool, str]]:
    """(absolute target, line, inside a function, source line) for every import statement in ``path``."""
    if source is None:
        return _file_imports(path)
    return _parse_imports(path, source)


@functools.lru_cache(maxsize=None)
def _file_imports(path: Path):
    return _parse_imports(path, path.read_text())


def _parse_imports(path: Path, source: str):
    tree = ast.parse(source)
    lines = source.splitlines()
    module = _module_name(path)
    in_function = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            in_function.update(id(n) for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom)))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for target in _targets(node, module, path.name == "__init__.py"):
                out.append((target, node.lineno, id(node) in in_function, lines[node.lineno - 1]))
    return out


def _under(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def layer_violations(path: Path, source: str | None = None) -> list[str]:
    module = _module_name(path)
    bad = []
    for target, line, _, _ in imports(path, source):
        if not target.startswith("tinytorch"):
            continue
        if _under(module, ("tinytorch._arrays",)) and not _under(target, ARRAY_LAYER_MAY_IMPORT):
            bad.append(f"{module}:{line} (array layer) imports {target}")
        if _under(module, CORE) and _under(target, ABOVE_CORE):
            bad.append(f"{module}:{line} (core) imports {target}, a layer above it")
    return bad


def unexplained_function_imports(path: Path, source: str | None = None) -> list[str]:
    bad = []
    seen = set()
    for target, line, in_function, text in imports(path, source):
        if not in_function or line in seen:
            continue
        seen.add(line)
        if target.split(".")[0] in OPTIONAL_PACKAGES:
            continue
        if "#" not in text:
            bad.append(f"{_module_name(path)}:{line}: {text.strip()}")
    return bad


def _function_imports() -> list[tuple[Path, int]]:
    return sorted({(p, line) for p in PKG.rglob("*.py") for _, line, inside, _ in imports(p) if inside})


def _files():
    return sorted(PKG.rglob("*.py"))


def test_imports_go_one_way():
    bad = [v for p in _files() for v in layer_violations(p)]
    assert bad == []


def test_ops_do_not_reach_up_into_the_linalg_facade():
    for p in (PKG / "ops").glob("*.py"):
        assert not [t for t, *_ in imports(p) if _under(t, ("tinytorch.linalg",))], p
        assert "import_module" not in p.read_text(), f"{p}: import machinery instead of an import"


def test_function_level_imports_are_few():
    found = _function_imports()
    assert len(found) <= FUNCTION_LEVEL_CEILING, (
        f"{len(found)} function-level imports, more than {FUNCTION_LEVEL_CEILING}: import at module level "
        "(use a module alias, `from . import shape as _shape`, where two modules import each other)")


def test_each_function_level_import_says_why():
    # the registration helpers at the bottom of ops/activation.py are moving to tests/ (they import numpy lazily)
    bad = [b for p in _files() for b in unexplained_function_imports(p)
           if not b.startswith("tinytorch.ops.activation:") or "numpy" not in b]
    assert bad == [], "function-level imports without a reason comment:\n" + "\n".join(bad)


@pytest.mark.parametrize("rel, source, expect", [
    ("_arrays/x.py", "from ..tensor import Tensor\n", "(array layer) imports tinytorch.tensor"),
    ("ops/x.py", "from .. import nn\n", "(core) imports tinytorch.nn"),
    ("ops/x.py", "def f():\n    from ..linalg import vector_norm\n", "(core) imports tinytorch.linalg"),
    ("autograd/x.py", "from ..optim import SGD\n", "(core) imports tinytorch.optim"),
])
def test_the_layer_check_bites(rel, source, expect):
    assert any(expect in v for v in layer_violations(PKG / rel, source))


def test_the_reason_check_bites():
    src = "def f():\n    from . import shape\n\ndef g():\n    import scipy.special\n\ndef h():\n    import os  # why\n"
    assert unexplained_function_imports(PKG / "ops" / "x.py", src) == ["tinytorch.ops.x:2: from . import shape"]
