"""The autocast op policy against PyTorch: for every op in the registry, under CPU autocast(bfloat16), the
output dtypes equal torch's, with float32 inputs (lower-precision ops), bfloat16 inputs (float32 ops) and
mixed inputs (promote ops). PyTorch CPU is the oracle; the test skips without it.

The CUDA float16 table (through the CuPy stand-in) is in test_policy_cuda.py.
"""
from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch.amp import autocast_mode, policy
from tinytorch.autograd.function import Function
from tests.opinfo import registry

from tests.helpers import build_args, host, outputs_of

torch = pytest.importorskip("torch")

OPS = [op for op in registry.all_ops() if op.torch_fn is not None]
MODES = ("float32", "bfloat16", "mixed")

# Differences in the plain (non-autocast) mixed-dtype path, not in the autocast policy: torch's
# multilabel_soft_margin_loss promotes a float32 target, where tinytorch casts it to the input's dtype.
# The test says when one gets fixed.
PLAIN_PATH_DIFFS = {("multilabel_soft_margin_loss", "mixed")}


def _cast_inputs(args, kwargs, mode):
    """Floating tensor inputs as ``mode`` says: all float32, all bfloat16, or the first bfloat16 and the rest float32."""
    first = [True]

    def one(t):
        if not (isinstance(t, tinytorch.Tensor) and t.dtype.is_floating_point):
            return t
        if mode == "bfloat16" or (mode == "mixed" and first[0]):
            first[0] = False
            return t.to(tinytorch.bfloat16)
        return t

    def conv(a):
        if isinstance(a, list) and a and isinstance(a[0], tinytorch.Tensor):
            return [one(t) for t in a]
        return one(a)

    return tuple(conv(a) for a in args), {k: conv(v) for k, v in kwargs.items()}


def _to_torch(x):
    if isinstance(x, tinytorch.Tensor):
        a = np.array(host(x))
        if x.dtype is tinytorch.bfloat16:
            return torch.from_numpy(a.astype(np.float32)).to(torch.bfloat16)
        return torch.from_numpy(a)
    if isinstance(x, list) and x and isinstance(x[0], tinytorch.Tensor):
        return [_to_torch(i) for i in x]
    return x


def _dtype_names(outs):
    return [str(o.dtype).split(".")[-1] for o in outs]


def mismatches(op, mode):
    """One line per sample whose output dtypes under CPU autocast differ from torch's."""
    bad = []
    for s in op.sample_inputs(np.random.default_rng(0)):
        args, kwargs = build_args(s, "cpu", dtype=np.float32, requires_grad=False)
        args, kwargs = _cast_inputs(args, kwargs, mode)
        targs = tuple(_to_torch(a) for a in args)
        tkwargs = {k: _to_torch(v) for k, v in kwargs.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    want = op.torch_fn(torch, *targs, **tkwargs)
            except Exception:  # noqa: BLE001 - torch refuses (e.g. bfloat16 det): nothing to compare
                continue
            want = list(want) if isinstance(want, (tuple, list)) else [want]
            want = _dtype_names([w for w in want if isinstance(w, torch.Tensor)])
            try:
                with tinytorch.autocast("cpu", dtype=tinytorch.bfloat16):
                    got = _dtype_names(outputs_of(op.op(*args, **kwargs)))
            except Exception as e:  # noqa: BLE001 - torch ran it: so must we
                bad.append(f"{op.name}[{s.name}] {mode}: raised {type(e).__name__}: {e}; torch gives {want}")
                continue
        if got != want[:len(got)] or len(got) < len(want):
            bad.append(f"{op.name}[{s.name}] {mode}: tinytorch {got}, torch {want}")
    return bad


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_cpu_autocast_dtypes_match_torch(op, mode):
    bad = mismatches(op, mode)
    if (op.name, mode) in PLAIN_PATH_DIFFS:
        assert bad, f"{op.name} {mode} now matches torch: remove it from PLAIN_PATH_DIFFS"
        pytest.xfail("plain mixed-dtype path differs from torch (see PLAIN_PATH_DIFFS)")
    assert not bad, "\n".join(bad)


def test_table_check_catches_a_wrong_policy(monkeypatch):
    """Take matmul off the lower-precision list: the check above must notice."""
    mm = registry.get("mm")
    assert not mismatches(mm, "float32")
    monkeypatch.setitem(policy.LOWER, "cpu", policy.LOWER["cpu"] - {"mm", "matmul"})
    assert mismatches(mm, "float32")
    monkeypatch.setitem(policy.LOWER, "cpu", policy.LOWER["cpu"])
    monkeypatch.setitem(policy.FP32, "cpu", policy.FP32["cpu"] - {"mse_loss"})
    assert mismatches(registry.get("mse_loss"), "bfloat16")


def _function_classes():
    """Every Function subclass by its qualified name (table-built ones such as elementwise's Exp included)."""
    found, todo = {}, [Function]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            found[f"{sub.__module__}.{sub.__qualname__}"] = sub
            todo.append(sub)
    return found


def test_every_function_entry_names_a_function_with_a_policy():
    classes = _function_classes()
    for key, names in policy.FUNCTION_OPS.items():
        importlib.import_module(key.rpartition(".")[0])
        assert key in classes, f"{key}: no Function subclass has this name"
        assert any(policy.category(names, d) for d in ("cpu", "cuda")), f"{key}: {names} is in no list"


def test_lists_follow_torch_docs_categories():
    # spot checks of the published lists (a typo in the big string tables would silently drop an op)
    assert policy.category(("linear",), "cpu") == "lower" and policy.category(("linear",), "cuda") == "lower"
    assert policy.category(("softmax",), "cuda") == "fp32" and policy.category(("softmax",), "cpu") is None
    assert policy.category(("layer_norm",), "cuda") == "fp32" and policy.category(("layer_norm",), "cpu") is None
    assert policy.category(("cat",), "cpu") == "promote" and policy.category(("index_put",), "cuda") == "promote"
    assert policy.category(("binary_cross_entropy",), "cuda") == "refuse"
    assert policy.category(("binary_cross_entropy",), "cpu") == "fp32"
    assert policy.category(("cross_entropy", "cross_entropy_loss"), "cpu") == "fp32"
    assert autocast_mode.dispatch  # the hook Function.apply calls


def test_every_declared_public_op_is_on_some_list():
    """A typo in ``@autocast_op("...")`` would silently leave an op uncast: every declared name is in a list."""
    import inspect

    mods = [importlib.import_module(m) for m in (
        "tinytorch.ops.linalg", "tinytorch.ops.loss", "tinytorch.ops.normalization", "tinytorch.ops.pool",
        "tinytorch.ops.shape", "tinytorch.ops.activation", "tinytorch.ops.conv", "tinytorch.ops.index",
        "tinytorch.linalg", "tinytorch.nn.fusion")]
    declared = {f"{m.__name__}.{n}": f.autocast_ops for m in mods for n, f in inspect.getmembers(m, callable)
                if hasattr(f, "autocast_ops")}
    assert len(declared) >= 40
    for where, names in declared.items():
        for n in names:
            assert any(n in lst[d] for lst in (policy.LOWER, policy.FP32, policy.PROMOTE, policy.REFUSE)
                       for d in ("cpu", "cuda")), f"{where}: {n!r} is on no autocast list"
