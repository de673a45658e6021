"""``torch._dynamo`` names scripts touch: ``config``, ``reset()``, ``disable``, ``mark_dynamic`` & co.

``reset()`` clears ``tinytorch.compile``'s programs (:mod:`tinytorch._compile`) and ``disable`` makes a function
a step every replay re-runs; the rest are recorded settings and no-ops that let a script carry on.
"""
from __future__ import annotations

from . import config

__all__ = ["config", "reset", "disable", "allow_in_graph", "mark_dynamic", "mark_static", "is_compiling",
           "optimize", "explain"]


def reset() -> None:
    """Clear ``tinytorch.compile``'s recorded programs and fallback decisions."""
    from .._compile import reset as _reset  # the compiler loads on use

    _reset()


def disable(fn=None, recursive=True, *, reason=None):
    """``@torch._dynamo.disable``: inside a compiled function, ``fn`` runs whole on every replay (its Python
    side effects too) instead of being traced into the program."""
    from .._compile.tracer import eager_step  # the compiler loads on use

    if fn is None:
        return eager_step
    return eager_step(fn)


def allow_in_graph(fn):
    return fn


def mark_dynamic(t, index, *, min=None, max=None) -> None:  # noqa: A002 - torch's parameter names
    """Record nothing: ``tinytorch.compile`` specialises on every shape and re-traces when one changes
    (up to ``config.cache_size_limit`` variants)."""


def mark_static(t, index=None) -> None:
    """Record nothing: ``tinytorch.compile`` already specialises on every shape."""


def is_compiling() -> bool:
    """True while ``tinytorch.compile`` traces a call (the ops then run eagerly and are recorded)."""
    from .._compile.tracer import _current  # the compiler loads on use

    return _current[0] is not None


def optimize(backend="inductor", *, nopython=False, guard_export_fn=None, guard_fail_fn=None, disable=False,
             dynamic=None):
    """``torch._dynamo.optimize(...)``: the older spelling of ``torch.compile`` (``disable=True``: unchanged)."""
    if disable:
        return lambda fn: fn
    from .._compat import compile as _compile  # _compat imports this package

    return lambda fn: _compile(fn, dynamic=bool(dynamic))


def explain(f, *args, **kwargs):
    raise NotImplementedError("_dynamo.explain: tinytorch has no graph capture to explain")
