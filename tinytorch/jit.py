"""``torch.jit`` names scripts use: tinytorch has no TorchScript, so scripting and tracing hand back what
they are given and the model keeps running eagerly (a one-time UserWarning says so, as ``compile`` does).

``script``/``trace``/``trace_module``/``freeze``/``optimize_for_inference`` return their argument; the
decorators ``ignore``/``unused``/``export``/``script_method`` return the function; ``is_scripting()`` and
``is_tracing()`` are False. ``save``/``load`` raise NotImplementedError: a TorchScript archive holds compiled
code, which tinytorch can neither write nor run; use ``tinytorch.save(model.state_dict(), f)``.
"""
from __future__ import annotations

import warnings
from typing import Any, Final  # noqa: F401 - torch.jit.Final

from .nn import Module

__all__ = ["script", "trace", "trace_module", "ignore", "unused", "export", "script_method", "is_scripting",
           "is_tracing", "ScriptModule", "ScriptFunction", "RecursiveScriptModule", "TracedModule", "freeze",
           "optimize_for_inference", "annotate", "Attribute", "Final", "interface", "save", "load", "fork", "wait",
           "script_if_tracing", "isinstance", "set_fusion_strategy", "enable_onednn_fusion", "Error",
           "CompilationUnit"]

_noted = [False]


def _note(what: str) -> None:
    if not _noted[0]:
        _noted[0] = True
        warnings.warn(f"tinytorch.jit.{what}: no TorchScript in tinytorch; the model runs eagerly, unchanged",
                      UserWarning, stacklevel=3)


def _check_callable(obj, what):
    if not callable(obj):
        raise TypeError(f"jit.{what}: expected a Module or a callable, got {type(obj).__name__}")


class ScriptModule(Module):
    """``torch.jit.ScriptModule``, for ``isinstance`` checks and subclassing; a plain Module here."""


class RecursiveScriptModule(ScriptModule):
    """Name only: ``script`` never builds one, it returns the module itself."""


class TracedModule(ScriptModule):
    """Name only: ``trace`` never builds one, it returns the module itself."""


class ScriptFunction:
    """Name only, for ``isinstance`` checks: ``script`` returns functions unchanged."""


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """``torch.jit.script``: returns ``obj`` (a Module, function or class) unchanged."""
    _check_callable(obj, "script")
    _note("script")
    return obj


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-5,
          strict=True, _force_outplace=False, _module_class=None, _compilation_unit=None,
          example_kwarg_inputs=None, _store_inputs=True):
    """``torch.jit.trace``: returns ``func`` (a Module or function) unchanged; the inputs are not run."""
    _check_callable(func, "trace")
    _note("trace")
    return func


def trace_module(mod, inputs, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-5,
                 strict=True, _force_outplace=False, _module_class=None, _compilation_unit=None,
                 example_inputs_is_kwarg=False, _store_inputs=True):
    """``torch.jit.trace_module``: returns ``mod`` unchanged."""
    _check_callable(mod, "trace_module")
    _note("trace_module")
    return mod


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """``torch.jit.freeze``: returns ``mod`` unchanged."""
    return mod


def optimize_for_inference(mod, other_methods=None):
    """``torch.jit.optimize_for_inference``: returns ``mod`` unchanged."""
    return mod


def _decorator(fn=None, **kwargs):
    if fn is None or not callable(fn):  # used with arguments: @ignore(drop=True)
        return lambda f: f
    return fn


def ignore(drop=False, **kwargs):
    """``@torch.jit.ignore`` or ``@torch.jit.ignore(drop=True)``: returns the function unchanged."""
    return _decorator(drop if callable(drop) else None)


def unused(fn):
    """``@torch.jit.unused``: returns the function unchanged."""
    return fn


def export(fn):
    """``@torch.jit.export``: returns the function unchanged."""
    return fn


def script_method(fn):
    """``@torch.jit.script_method`` (legacy): returns the function unchanged."""
    return fn


def interface(obj):
    """``@torch.jit.interface``: returns the class unchanged."""
    return obj


def script_if_tracing(fn):
    """``@torch.jit.script_if_tracing``: returns the function unchanged."""
    return fn


_builtin_isinstance = isinstance


def isinstance(obj, target_type) -> bool:  # noqa: A001 - torch.jit.isinstance
    """``torch.jit.isinstance``: Python's isinstance, with ``typing`` containers checked by their origin."""
    origin = getattr(target_type, "__origin__", None)
    return _builtin_isinstance(obj, origin if origin is not None else target_type)


_fusion_strategy = [[("STATIC", 2), ("DYNAMIC", 10)]]


def set_fusion_strategy(strategy):
    """Recorded and returned on the next call, as torch does; tinytorch fuses nothing."""
    previous, _fusion_strategy[0] = _fusion_strategy[0], strategy
    return previous


def enable_onednn_fusion(enabled: bool) -> None:
    """Accepted; tinytorch has no oneDNN fusion."""


Error = RuntimeError  # torch.jit.Error: what TorchScript raises for a Python exception


class CompilationUnit:
    """``torch.jit.CompilationUnit`` compiles TorchScript source, which tinytorch cannot run."""

    def __init__(self, lang=None, _frames_up=0):
        raise NotImplementedError("jit.CompilationUnit: tinytorch cannot compile TorchScript source; write the "
                                  "function in Python")


def is_scripting() -> bool:
    """Always False: code never runs under TorchScript in tinytorch."""
    return False


def is_tracing() -> bool:
    """Always False: ``trace`` does not record."""
    return False


def annotate(the_type, the_value):
    """``torch.jit.annotate(T, value)``: returns ``value``."""
    return the_value


class Attribute:
    """``torch.jit.Attribute(value, type)``: outside TorchScript it is just ``value``."""

    def __new__(cls, value, type=None):  # noqa: A002 - torch's parameter name
        return value


class _Future:
    def __init__(self, value):
        self._value = value

    def wait(self):
        return self._value


def fork(func, *args, **kwargs):
    """``torch.jit.fork``: runs ``func`` now and returns a future holding its result."""
    return _Future(func(*args, **kwargs))


def wait(future):
    """``torch.jit.wait``: the result of a ``fork``."""
    return future.wait()


def save(m, f, _extra_files=None) -> Any:
    raise NotImplementedError("jit.save: tinytorch has no TorchScript archive format; save the weights with "
                              "tinytorch.save(model.state_dict(), f) (or the whole model with tinytorch.save)")


def load(f, map_location=None, _extra_files=None) -> Any:
    raise NotImplementedError("jit.load: tinytorch cannot run TorchScript archives; rebuild the model in Python "
                              "and load a state_dict saved with tinytorch.save")
