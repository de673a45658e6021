"""Every public name is written out once, and the namespaces show torch's names and nothing internal (issue #16 §1).

- ``tinytorch.ops`` re-exports exactly the union of its families' ``__all__`` (the one export list per family);
- a name two families export is one object, so it does not matter which family the re-export names;
- every ``TENSOR_METHODS`` entry is an exported function and really is the ``Tensor`` method;
- ``dir(tinytorch)`` and ``dir(tinytorch.nn.functional)`` hold torch's public names plus a commented allow-list,
  never an implementation detail (``registry``, ``np``, ``import_module`` ...).
"""
from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import tinytorch
import tinytorch.nn.functional as F
from tinytorch import ops
from tinytorch.tensor import Tensor

# tinytorch-only public names at the top level, each a deliberate extra over torch's namespace
TOP_LEVEL_EXTRAS = {
    "segment_sum",  # ops.sparse: the scatter-sum behind tinytorch.sparse.mm, handy on its own (examples/gcn_karate)
    "train", "viz",  # opt-in conveniences: a fit loop and graph drawing (their optional packages load on use)
    "creation",  # the submodule behind tensor/zeros/arange ...; bound as a side effect of importing it
    "onnx",  # torch.onnx is lazily imported, so dir(torch) may not list it
}
# tinytorch-only public names in nn.functional
F_EXTRAS: set[str] = set()
# names that are implementation details wherever they show up
INTERNAL = {"registry", "elementwise", "import_module", "tensor_method_names", "np", "numpy", "annotations",
            "builtins", "math", "functools", "warnings", "operator", "dtypes", "Function", "OpInfo", "register",
            "inplace", "reduce", "activation", "convert", "gamma", "random_ops", "normalization", "index", "pool",
            "conv", "loss", "shape", "quiet", "xp"}


def _public(module) -> set[str]:
    return {n for n in dir(module) if not n.startswith("_")}


def _family_exports() -> dict[str, list]:
    """name -> the objects every family that lists it in ``__all__`` binds under it."""
    out: dict[str, list] = {}
    for family in ops._FAMILIES:
        for name in family.__all__:
            out.setdefault(name, []).append(getattr(family, name))
    return out


def test_ops_reexports_exactly_the_families_all():
    exported = _family_exports()
    public = {n for n, v in vars(ops).items() if not n.startswith("_") and not inspect.ismodule(v)}
    assert public - set(exported) == set(), "tinytorch.ops binds names no family lists in __all__"
    assert set(exported) - public == set(), "a family's __all__ names a function tinytorch.ops does not re-export"
    for name, objs in exported.items():
        assert all(o is getattr(ops, name) for o in objs), f"{name}: two families export different objects"


def test_every_family_is_listed():
    on_disk = {p.stem for p in Path(ops.__file__).parent.glob("*.py")
               if not p.stem.startswith("_") and p.stem != "registry"}
    assert on_disk == {f.__name__.rsplit(".", 1)[1] for f in ops._FAMILIES}


def test_tensor_methods_are_exported_functions_bound_on_the_class():
    # a method tensor.py writes itself (Tensor.to, Tensor.view ...) wins over the attached op of that name
    written = {n for n, v in vars(Tensor).items() if getattr(v, "__module__", None) == "tinytorch.tensor"}
    for family in ops._FAMILIES:
        for name in family.TENSOR_METHODS:
            assert inspect.isfunction(getattr(ops, name, None)), f"{family.__name__}: {name} is not exported"
            assert name in written or vars(Tensor)[name] is getattr(ops, name), f"Tensor.{name} is not the op"


def test_functional_reexports_its_families():
    families = (ops.activation, ops.conv, ops.pool, ops.normalization, ops.loss)
    expected = {n for f in families for n in f.__all__} | {"softmax", "log_softmax", "linear", "bilinear",
                                                            "embedding_bag"}
    public = {n for n, v in vars(F).items() if not n.startswith("_") and not inspect.ismodule(v)}
    assert public == expected


def test_top_level_has_no_internal_names():
    leaked = _public(tinytorch) & INTERNAL
    assert leaked == set(), f"internal names in dir(tinytorch): {sorted(leaked)}"
    assert tinytorch.linalg.__name__ == "tinytorch.linalg"  # the façade, not ops.linalg
    assert tinytorch.sparse.mm is not tinytorch.mm


def test_functional_has_no_internal_names():
    leaked = _public(F) & INTERNAL
    assert leaked == set(), f"internal names in dir(tinytorch.nn.functional): {sorted(leaked)}"


def test_top_level_names_are_torchs():
    torch = pytest.importorskip("torch")
    extra = _public(tinytorch) - _public(torch) - TOP_LEVEL_EXTRAS
    assert extra == set(), f"tinytorch.* names torch does not have (add to TOP_LEVEL_EXTRAS with a reason): {extra}"
    assert TOP_LEVEL_EXTRAS - _public(tinytorch) == set(), "a stale TOP_LEVEL_EXTRAS entry"


def test_top_level_has_every_op_torch_has_there():
    torch = pytest.importorskip("torch")
    ops_functions = {n for n, v in vars(ops).items() if not n.startswith("_") and inspect.isfunction(v)}
    missing = (ops_functions & _public(torch)) - _public(tinytorch)
    assert missing == set(), f"torch.* ops not re-exported in tinytorch/__init__.py: {sorted(missing)}"


def test_functional_names_are_torchs():
    pytest.importorskip("torch")
    import torch.nn.functional as TF

    extra = _public(F) - _public(TF) - F_EXTRAS
    assert extra == set(), f"F.* names torch.nn.functional does not have: {sorted(extra)}"


def test_out_wrappers_are_shared_by_aliases():
    assert tinytorch.cat is tinytorch.concat is tinytorch.concatenate
    assert tinytorch.gt is tinytorch.greater and tinytorch.outer is tinytorch.ger
    assert tinytorch.add.__wrapped__ is ops.add  # the out= wrapper around the op


def test_the_checks_bite(monkeypatch):
    monkeypatch.setattr(ops.shape, "__all__", [*ops.shape.__all__, "brand_new_op"])
    monkeypatch.setattr(ops.shape, "brand_new_op", lambda x: x, raising=False)
    with pytest.raises(AssertionError, match="does not re-export"):
        test_ops_reexports_exactly_the_families_all()
    monkeypatch.undo()
    monkeypatch.setattr(tinytorch, "registry", ops.elementwise, raising=False)
    with pytest.raises(AssertionError, match="registry"):
        test_top_level_has_no_internal_names()
