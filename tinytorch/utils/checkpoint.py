"""``tinytorch.utils.checkpoint``: activation checkpointing's API, computed without the memory saving.

``checkpoint(fn, *args)`` runs ``fn(*args)`` normally and keeps its activations, so gradients are exactly those
of the plain call; scripts that wrap blocks in ``checkpoint`` run unchanged, just without the memory trade.
"""
from __future__ import annotations

__all__ = ["checkpoint", "checkpoint_sequential"]


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default", debug=False,
               preserve_rng_state=True, **kwargs):
    """Call ``function(*args, **kwargs)``; activations are kept (no recomputation in backward)."""
    if not callable(function):
        raise TypeError(f"checkpoint: expected a callable, got {type(function).__name__}")
    return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):  # noqa: A002
    """Run the modules of ``functions`` (a Sequential or a list) in order on ``input``."""
    if not isinstance(segments, int) or segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be a positive int, got {segments!r}")
    modules = list(functions.children()) if hasattr(functions, "children") else list(functions)
    for m in modules:
        input = m(input)
    return input
