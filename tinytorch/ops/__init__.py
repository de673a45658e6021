"""``tinytorch.ops``: every tensor op, one family per module.

Each family module defines its ``Function`` classes, the public functions next to them,
their ``OpInfo`` registrations, and a ``TENSOR_METHODS`` tuple naming the functions that
are also ``Tensor`` methods (the tensor module attaches exactly those).
"""
from __future__ import annotations

from importlib import import_module

_FAMILIES = (
    "convert", "elementwise", "reduce", "shape", "index", "linalg", "inplace", "random_ops",
    "activation", "conv", "pool", "normalization", "loss", "sparse", "gamma",
)

_modules = [import_module(f".{name}", __name__) for name in _FAMILIES]

for _m in _modules:
    for _name in getattr(_m, "__all__", None) or [n for n in vars(_m) if not n.startswith("_")]:
        _obj = getattr(_m, _name)
        if callable(_obj) and getattr(_obj, "__module__", "") == _m.__name__ and not isinstance(_obj, type):
            globals()[_name] = _obj

del _m, _name, _obj


def tensor_method_names():
    names = []
    for m in _modules:
        names.extend(getattr(m, "TENSOR_METHODS", ()))
    return names
