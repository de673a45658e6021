"""Run PyTorch scripts on tinytorch: ``import torch`` (and every ``torch.*`` submodule) resolves to tinytorch.

Command line::
    python -m tinytorch.alias train.py --epochs 3     # runs train.py as __main__ with the alias installed
    python -m tinytorch.alias -m mypackage.train      # or a module, like ``python -m``

Programmatic use::
    import tinytorch.alias
    tinytorch.alias.install()
    import torch                      # -> tinytorch
    import torch.nn.functional as F   # -> tinytorch.nn.functional

The alias is an importlib meta-path finder placed first on ``sys.meta_path``: a request for ``torch`` or
``torch.x.y`` is answered by a loader that imports ``tinytorch.x.y`` and registers that same module object
under the ``torch`` name, so ``torch.nn is tinytorch.nn`` and module-level state is shared. A submodule
tinytorch does not have raises ``ModuleNotFoundError`` naming both the torch and the tinytorch name.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import runpy
import sys
import types
import os

__all__ = ["install", "uninstall", "is_installed", "main"]

_ALIAS = "torch"
_TARGET = "tinytorch"


def _target_name(fullname: str) -> str:
    return _TARGET + fullname[len(_ALIAS):]


def _resolve(tname: str):
    """The tinytorch module named ``tname``: imported, or a module bound as an attribute of its parent."""
    try:
        return importlib.import_module(tname)
    except ModuleNotFoundError as e:
        if e.name is not None and e.name != tname and not tname.startswith(e.name + "."):
            raise  # a genuine missing dependency inside tinytorch, not a missing alias target
    parent, _, leaf = tname.rpartition(".")
    obj = getattr(sys.modules.get(parent), leaf, None) if parent else None
    return obj if isinstance(obj, types.ModuleType) else None


class _AliasLoader(importlib.abc.Loader):
    """Loads ``torch.x`` by handing back the already executed ``tinytorch.x`` module object itself."""

    def __init__(self, module: types.ModuleType):
        self._module = module
        self._spec = getattr(module, "__spec__", None)

    def create_module(self, spec):
        return self._module

    def exec_module(self, module):
        # Nothing to execute: the module ran under its own name. The import system overwrote __spec__ with
        # the alias spec; restore the real one so reload, pickling by name and multiprocessing see tinytorch.
        if self._spec is not None:
            module.__spec__ = self._spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Answers ``torch`` and ``torch.*`` import requests with tinytorch modules."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _ALIAS and not fullname.startswith(_ALIAS + "."):
            return None
        module = _resolve(_target_name(fullname))
        if module is None:
            return None  # the import system then raises ModuleNotFoundError: No module named 'torch.x'
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(module),
                                              is_package=hasattr(module, "__path__"))


_finder = _AliasFinder()


def install() -> None:
    """Make ``import torch`` (and ``torch.*``) resolve to tinytorch in this interpreter.

    Raises RuntimeError when a real ``torch`` was already imported (mixing the two would be confusing).
    """
    if is_installed():
        return
    real = sys.modules.get(_ALIAS)
    if real is not None and getattr(real, "__name__", "") != _TARGET:
        raise RuntimeError("tinytorch.alias.install: the real 'torch' is already imported in this process; "
                           "install the alias before anything imports torch")
    sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    """Remove the alias and forget the ``torch`` module names it registered."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in [n for n in sys.modules if n == _ALIAS or n.startswith(_ALIAS + ".")]:
        if getattr(sys.modules[name], "__name__", "").startswith(_TARGET):
            del sys.modules[name]


def is_installed() -> bool:
    return _finder in sys.meta_path


_USAGE = "usage: python -m tinytorch.alias (script.py | -m module) [args ...]"


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m tinytorch.alias``: run a script or module with the alias installed."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_USAGE, file=sys.stderr)
        raise SystemExit(0 if argv else 2)
    install()
    if argv[0] == "-m":
        if len(argv) < 2:
            print(_USAGE, file=sys.stderr)
            raise SystemExit(2)
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = argv

        sys.path.insert(0, os.path.dirname(os.path.abspath(argv[0])))
        runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
