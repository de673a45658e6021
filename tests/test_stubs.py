"""The generated stub (tensor.pyi) and the written-out re-exports (ops/__init__.py, nn/functional.py) equal the
runtime objects.

A type checker reads the stub instead of the module, so a stub that drifts hides or invents API. Two checks: the
file is exactly what tools/gen_tensor_stub.py writes now, and, independently of that script, the names and
parameter lists the stub declares are those of the runtime class. The namespaces need no stub: their source
re-exports every name explicitly, and the same AST check holds that source equal to what the module binds.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import sys
from pathlib import Path

import pytest

import tinytorch
import tinytorch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("gen_tensor_stub", ROOT / "tools" / "gen_tensor_stub.py")
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

TENSOR_MODULE = sys.modules["tinytorch.tensor"]  # `tinytorch.tensor` is the creation function
_NOT_ATTRIBUTES = {"__module__", "__doc__", "__dict__", "__weakref__", "__slots__", "__qualname__"}
_KIND = {"posonlyargs": inspect.Parameter.POSITIONAL_ONLY, "args": inspect.Parameter.POSITIONAL_OR_KEYWORD,
         "kwonlyargs": inspect.Parameter.KEYWORD_ONLY}


def _stub_tree(rel):
    return ast.parse((ROOT / rel).read_text())


def _ast_params(fn: ast.FunctionDef):
    a = fn.args
    out = []
    positional = [(p, _KIND["posonlyargs"]) for p in a.posonlyargs] + [(p, _KIND["args"]) for p in a.args]
    n_defaults = len(a.defaults)
    for i, (p, kind) in enumerate(positional):
        out.append((p.arg, kind, i >= len(positional) - n_defaults))
    if a.vararg:
        out.append((a.vararg.arg, inspect.Parameter.VAR_POSITIONAL, False))
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        out.append((p.arg, _KIND["kwonlyargs"], d is not None))
    if a.kwarg:
        out.append((a.kwarg.arg, inspect.Parameter.VAR_KEYWORD, False))
    return out


def _runtime_params(obj):
    sig = inspect.signature(obj)
    return [(p.name, p.kind, p.default is not inspect.Parameter.empty) for p in sig.parameters.values()]


def class_mismatches(cls, tree) -> list[str]:
    """Differences between the stub's ``class cls`` and the runtime class: names and parameter lists."""
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls.__name__)
    declared = {}
    for item in node.body:
        if isinstance(item, ast.FunctionDef):
            is_setter = any(isinstance(d, ast.Attribute) and d.attr == "setter" for d in item.decorator_list)
            declared.setdefault(item.name, []).append((item, is_setter))
        elif isinstance(item, ast.AnnAssign):
            declared.setdefault(item.target.id, []).append((item, False))
    runtime = {k: v for k, v in vars(cls).items() if k not in _NOT_ATTRIBUTES}
    problems = [f"{cls.__name__}.{n}: in the stub, not at runtime" for n in sorted(set(declared) - set(runtime))]
    problems += [f"{cls.__name__}.{n}: at runtime, not in the stub" for n in sorted(set(runtime) - set(declared))]
    for name in sorted(set(declared) & set(runtime)):
        obj = runtime[name]
        for item, is_setter in declared[name]:
            if not isinstance(item, ast.FunctionDef):
                if callable(obj) and not type(obj).__name__ == "member_descriptor":
                    problems.append(f"{cls.__name__}.{name}: a callable at runtime, an attribute in the stub")
                continue
            if isinstance(obj, property):
                target = obj.fset if is_setter else obj.fget
            elif isinstance(obj, (staticmethod, classmethod)):
                target = obj.__func__
            else:
                target = obj
            if target is None or not callable(target):
                problems.append(f"{cls.__name__}.{name}: a function in the stub, not callable at runtime")
                continue
            if _ast_params(item) != _runtime_params(target):
                problems.append(f"{cls.__name__}.{name}: stub parameters {_ast_params(item)} != runtime "
                                f"{_runtime_params(target)}")
    return problems


def namespace_mismatches(module, tree, package: str) -> list[str]:
    """Differences between a module's re-export source and the public tinytorch callables it binds at runtime."""
    declared = {}
    for item in tree.body:
        if isinstance(item, ast.ImportFrom) and item.level:
            base = importlib.util.resolve_name("." * item.level + (item.module or ""), package)
            for alias in item.names:
                if not inspect.ismodule(getattr(importlib.import_module(base), alias.name, None)):
                    declared[alias.asname or alias.name] = ("import", base, alias.name)
        elif isinstance(item, ast.FunctionDef) and not item.name.startswith("_"):
            declared[item.name] = ("def", item, None)
        elif isinstance(item, ast.Assign) and isinstance(item.value, ast.Name):  # name = _imported_alias
            for t in item.targets:
                declared[t.id] = declared[item.value.id]
    declared = {n: v for n, v in declared.items() if not n.startswith("_")}
    runtime = {n: v for n, v in vars(module).items() if not n.startswith("_") and callable(v)
               and not inspect.ismodule(v) and getattr(v, "__module__", "").startswith("tinytorch")}
    problems = [f"{module.__name__}.{n}: in the stub, not at runtime" for n in sorted(set(declared) - set(runtime))]
    problems += [f"{module.__name__}.{n}: at runtime, not in the stub" for n in sorted(set(runtime) - set(declared))]
    for name in sorted(set(declared) & set(runtime)):
        how, a, b = declared[name]
        if how == "import" and getattr(importlib.import_module(a), b, None) is not runtime[name]:
            problems.append(f"{module.__name__}.{name}: the stub re-exports {a}.{b}, another object")
        if how == "def" and _ast_params(a) != _runtime_params(runtime[name]):
            problems.append(f"{module.__name__}.{name}: stub parameters differ from the runtime")
    return problems


@pytest.mark.parametrize("rel", sorted(gen.STUBS))
def test_stub_file_is_what_the_generator_writes(rel):
    assert (ROOT / rel).read_text() == gen.STUBS[rel](), (
        f"{rel} is stale: run `PYTHONPATH=. python tools/gen_tensor_stub.py` and commit the result")


def test_tensor_stub_matches_runtime_class():
    tree = _stub_tree("tinytorch/tensor.pyi")
    assert class_mismatches(TENSOR_MODULE.Tensor, tree) == []
    assert class_mismatches(TENSOR_MODULE.Size, tree) == []
    assert len([n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]) > 300  # the ops really are in


def test_namespace_sources_match_runtime():
    # nothing binds a public name behind the written-out imports' back (no globals() filling, no stale stub)
    assert namespace_mismatches(F, _stub_tree("tinytorch/nn/functional.py"), "tinytorch.nn") == []
    assert namespace_mismatches(tinytorch.ops, _stub_tree("tinytorch/ops/__init__.py"), "tinytorch.ops") == []
    assert not (ROOT / "tinytorch/ops/__init__.pyi").exists() and not (ROOT / "tinytorch/nn/functional.pyi").exists()


def test_the_checks_bite(monkeypatch):
    tree = _stub_tree("tinytorch/tensor.pyi")
    Tensor = TENSOR_MODULE.Tensor
    monkeypatch.setattr(Tensor, "brand_new_op", lambda self, k=1: self, raising=False)
    assert class_mismatches(Tensor, tree) == ["Tensor.brand_new_op: at runtime, not in the stub"]
    monkeypatch.delattr(Tensor, "brand_new_op")
    monkeypatch.setattr(Tensor, "sum", lambda input, dim=None: input)  # a changed signature
    assert [p.split(":")[0] for p in class_mismatches(Tensor, tree)] == ["Tensor.sum"]
    monkeypatch.setattr(F, "conv2d", F.relu)  # rebound to another object
    assert namespace_mismatches(F, _stub_tree("tinytorch/nn/functional.py"), "tinytorch.nn") == [
        "tinytorch.nn.functional.conv2d: the stub re-exports tinytorch.ops.conv.conv2d, another object"]
    monkeypatch.setattr(F, "brand_new_fn", tinytorch.ops.relu, raising=False)  # bound behind the imports' back
    assert "tinytorch.nn.functional.brand_new_fn: at runtime, not in the stub" in namespace_mismatches(
        F, _stub_tree("tinytorch/nn/functional.py"), "tinytorch.nn")
