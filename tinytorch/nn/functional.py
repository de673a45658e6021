"""``tinytorch.nn.functional`` (``import tinytorch.nn.functional as F``).

The functions live in ``tinytorch.ops`` (one family per module, each op with its backward
and its registry entry); this module is their PyTorch-named façade.
"""
from __future__ import annotations

from importlib import import_module as _imp

_FAMILIES = ("activation", "conv", "pool", "normalization", "loss", "linalg", "elementwise", "reduce", "shape", "index")

# families whose every public function belongs in F; the others contribute only F_EXPORTS
_ALL_OF = ("activation", "conv", "pool", "normalization", "loss")

for _fam in _FAMILIES:
    _m = _imp(f"tinytorch.ops.{_fam}")
    _names = getattr(_m, "__all__", ()) if _fam in _ALL_OF else ()
    _names = tuple(_names) + tuple(getattr(_m, "F_EXPORTS", ()))
    for _n in _names:
        globals()[_n] = getattr(_m, _n)

for _tmp in ("_fam", "_m", "_names", "_n", "_imp"):
    globals().pop(_tmp, None)
del _tmp
