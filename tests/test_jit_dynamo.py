"""tinytorch.jit and tinytorch._dynamo: the names scripts touch, pass-through with one note."""
from __future__ import annotations

import warnings

import pytest

import tinytorch
from tinytorch import jit, nn


def test_script_and_trace_return_their_argument_with_one_note(monkeypatch):
    monkeypatch.setattr(jit, "_noted", [False])
    model = nn.Linear(2, 3)
    with pytest.warns(UserWarning, match="no TorchScript"):
        assert jit.script(model) is model
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert jit.trace(model, tinytorch.ones(1, 2)) is model
        assert jit.trace_module(model, {"forward": tinytorch.ones(1, 2)}) is model

        def f(x):
            return x + 1
        assert jit.script(f) is f and jit.trace(f, (tinytorch.ones(1),)) is f
    assert jit.freeze(model) is model and jit.optimize_for_inference(model) is model
    with pytest.raises(TypeError, match="jit.script: expected a Module or a callable, got int"):
        jit.script(3)


def test_decorators_and_predicates():
    def g(x):
        return x * 2

    assert jit.ignore(g) is g and jit.ignore(drop=True)(g) is g and jit.unused(g) is g and jit.export(g) is g
    assert jit.is_scripting() is False and jit.is_tracing() is False
    assert jit.annotate(list, [1]) == [1] and jit.Attribute(3, int) == 3
    assert jit.wait(jit.fork(g, 4)) == 8
    assert issubclass(jit.ScriptModule, nn.Module) and not isinstance(nn.Linear(1, 1), jit.ScriptModule)

    class M(nn.Module):
        @jit.ignore
        def helper(self):
            return 5

        def forward(self, x):
            return x if jit.is_scripting() else x + self.helper()
    assert jit.script(M())(tinytorch.zeros(1)).item() == 5


def test_save_load_say_what_to_do_instead():
    with pytest.raises(NotImplementedError, match="state_dict"):
        jit.save(nn.Linear(1, 1), "m.pt")
    with pytest.raises(NotImplementedError, match="state_dict"):
        jit.load("m.pt")


def test_dynamo_config_and_reset():
    import tinytorch._dynamo as dynamo
    import tinytorch._dynamo.config as config

    assert dynamo.config is config and config.suppress_errors is False and config.cache_size_limit == 8
    config.suppress_errors = True
    config.cache_size_limit = 64
    config.some_new_setting = 1  # scripts set settings newer than this list; accepted
    try:
        assert tinytorch._dynamo.config.cache_size_limit == 64
        assert dynamo.reset() is None and dynamo.is_compiling() is False

        @dynamo.disable
        def f(x):
            return x
        assert f(2) == 2 and dynamo.disable(recursive=False)(f) is f
        dynamo.mark_dynamic(tinytorch.ones(2, 3), 0)
    finally:
        config.suppress_errors, config.cache_size_limit = False, 8
        del config.some_new_setting


def test_importable_under_the_alias():
    import subprocess
    import sys

    code = ("import tinytorch.alias; tinytorch.alias.install()\n"
            "import torch.jit, torch.testing, torch._dynamo, torch.onnx\n"
            "from torch.testing import assert_close\n"
            "import torch._dynamo.config\n"
            "torch._dynamo.config.suppress_errors = True\n"
            "assert torch.jit.is_scripting() is False and torch.optim.LBFGS and torch.onnx.export\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_less_common_jit_names():
    from typing import Dict, List

    assert jit.isinstance([1, 2], List[int]) and jit.isinstance({"a": 1}, Dict[str, int])
    assert not jit.isinstance(3, List[int]) and jit.isinstance(3, int)
    first = jit.set_fusion_strategy([("DYNAMIC", 3)])
    assert jit.set_fusion_strategy(first) == [("DYNAMIC", 3)]
    assert jit.script_if_tracing(len) is len and jit.enable_onednn_fusion(True) is None
    assert issubclass(jit.Error, RuntimeError)
    with pytest.raises(NotImplementedError, match="TorchScript source"):
        jit.CompilationUnit("def f(x): return x")


def test_is_compiling_during_a_trace_and_optimize_compiles():
    import tinytorch as tt
    from tinytorch import _dynamo

    seen = []

    @_dynamo.disable
    def note(x):
        seen.append(_dynamo.is_compiling())

    def step(x):
        note(x)
        return x * 2

    assert not _dynamo.is_compiling()
    g = _dynamo.optimize("inductor")(step)
    assert g is not step and g(tt.ones(2)).tolist() == [2.0, 2.0]
    assert _dynamo.optimize(disable=True)(step) is step
    assert seen and seen[0] is True
