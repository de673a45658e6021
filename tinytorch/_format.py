"""``repr`` of tensors in PyTorch's style: ``tensor([1.0000, 2.5000], requires_grad=True)``."""
from __future__ import annotations

import numpy as np

from . import backend
from . import _dtype as dtypes

_DEFAULT_SHOWN = ("float32", "int64", "bool")


def _float_formatter(a):
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return lambda x: _special(x) or f"{x:.4f}"
    absf = np.abs(finite)
    nonzero = absf[absf > 0]
    integral = bool(np.all(finite == np.round(finite)))
    big = absf.max() if absf.size else 0.0
    small = nonzero.min() if nonzero.size else 0.0
    sci = big >= 1e8 or (nonzero.size and (small < 1e-4 or big / small > 1e3)) and not integral
    if integral and not sci:
        width = max(len(f"{x:.0f}") for x in finite) + 1
        return lambda x: (_special(x) or f"{x:.0f}.").rjust(width)
    if sci:
        return lambda x: _special(x) or f"{x:.4e}"
    width = max(len(f"{x:.4f}") for x in finite)
    return lambda x: (_special(x) or f"{x:.4f}").rjust(width)


def _special(x):
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    return None


def tensor_repr(t) -> str:
    a = backend.as_numpy(t._data)
    if a.dtype.kind == "V":  # bfloat16
        a = a.astype(np.float32)
    prefix = "tensor("
    if a.size == 0:
        body = "[]" if a.ndim <= 1 else f"size={tuple(a.shape)}"
        if a.ndim > 1:
            body = f"[], size={tuple(a.shape)}"
    else:
        threshold = 1000
        if a.dtype.kind == "f":
            fmt = _float_formatter(a.astype(np.float64))
            formatter = {"float_kind": fmt}
        elif a.dtype.kind == "b":
            formatter = {"bool": lambda x: "True" if x else "False"}
        else:
            formatter = None
        body = np.array2string(
            a, separator=", ", prefix=prefix, formatter=formatter, threshold=threshold, edgeitems=3,
            max_line_width=80,
        )
    extras = []
    dev = t.device
    if dev.type != "cpu":
        extras.append(f"device='{dev.type}:{dev.index or 0}'")
    if t.dtype.name not in _DEFAULT_SHOWN or (t.dtype.name == "float32" and dtypes.get_default_dtype() is not dtypes.float32):
        extras.append(f"dtype={t.dtype!r}")
    if t._grad_fn is not None:
        extras.append(f"grad_fn=<{t._grad_fn.name()}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    tail = "".join(", " + e for e in extras)
    cls = type(t).__name__
    if cls == "Parameter":
        return f"Parameter containing:\n{prefix}{body}{tail})"
    return f"{prefix}{body}{tail})"
