"""``torch.testing``: ``assert_close`` (torch's per-dtype tolerances and mismatch report) and ``make_tensor``."""
from __future__ import annotations

import builtins
import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from . import _dtype as dtypes
from . import _arrays, creation
from .tensor import Tensor

__all__ = ["assert_close", "assert_allclose", "make_tensor"]

# torch's default (rtol, atol) per dtype; integers and bool compare exactly
_DEFAULT_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
                       "float64": (1e-7, 1e-7)}


def _tolerances(*names):
    rtols, atols = zip(*(_DEFAULT_TOLERANCES.get(n, (0.0, 0.0)) for n in names))
    return max(rtols), max(atols)


class _Fail(Exception):
    """A comparison failure: the exception type to raise and its message."""

    def __init__(self, exc_type, message, path=()):
        super().__init__(message)
        self.exc_type, self.message, self.path = exc_type, message, path


def _mismatch_msg(identifier, extra, abs_diff, abs_idx, rel_diff, rel_idx, rtol, atol):
    equality = rtol == 0 and atol == 0

    def diff_line(kind, diff, idx, tol):
        line = f"{kind.title()} difference: {diff}" if idx is None else f"Greatest {kind} difference: {diff} at index {idx}"
        return line + ("" if equality else f" (up to {tol} allowed)") + "\n"

    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n{extra.strip()}\n"
    msg += diff_line("absolute", abs_diff, abs_idx, atol) + diff_line("relative", rel_diff, rel_idx, rtol)
    return msg.strip()


def _compare_numbers(actual, expected, rtol, atol, equal_nan, check_dtype):
    if isinstance(actual, (bool, np.bool_)) or isinstance(expected, (bool, np.bool_)):
        if not (isinstance(actual, (bool, np.bool_)) and isinstance(expected, (bool, np.bool_))):
            raise _Fail(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and "
                                   f"{type(expected)}.")
        if bool(actual) != bool(expected):
            raise _Fail(AssertionError, f"Booleans mismatch: {actual} is not {expected}")
        return
    if check_dtype and type(actual) is not type(expected):
        raise _Fail(AssertionError, f"The (d)types do not match: {type(actual)} != {type(expected)}.")
    names = ["float64" if isinstance(v, (float, np.floating)) else "int64" for v in (actual, expected)]
    if rtol is None:
        rtol, atol = _tolerances(*names)
    if actual == expected or (equal_nan and math.isnan(actual) and math.isnan(expected)):
        return
    if abs(actual - expected) <= atol + rtol * abs(expected):
        return
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    raise _Fail(AssertionError, _mismatch_msg("Scalars", f"Expected {expected} but got {actual}.", abs_diff, None,
                                              rel_diff, None, rtol, atol))


def _tensor_parts(t):
    """(host array, dtype name, device string or None) of a Tensor or an ndarray."""
    if isinstance(t, Tensor):
        return _arrays.as_numpy(t._data), t.dtype.name, str(t.device)
    return t, dtypes.from_numpy_dtype(t.dtype).name, None


def _compare_tensors(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, check_stride):
    a, a_dt, a_dev = _tensor_parts(actual)
    e, e_dt, e_dev = _tensor_parts(expected)
    if a.shape != e.shape:
        a_shape, e_shape = (actual.shape, expected.shape) if isinstance(actual, Tensor) else (a.shape, e.shape)
        raise _Fail(AssertionError, f"The values for attribute 'shape' do not match: {a_shape!r} != {e_shape!r}.")
    if check_device and a_dev != e_dev:
        raise _Fail(AssertionError, f"The values for attribute 'device' do not match: {a_dev} != {e_dev}.")
    if check_dtype and a_dt != e_dt:
        show = (lambda d: f"tinytorch.{d}") if isinstance(actual, Tensor) else (lambda d: d)
        raise _Fail(AssertionError, f"The values for attribute 'dtype' do not match: {show(a_dt)} != {show(e_dt)}.")
    if check_stride and isinstance(actual, Tensor) and actual.stride() != expected.stride():
        raise _Fail(AssertionError, f"The values for attribute 'stride()' do not match: {actual.stride()} != "
                                    f"{expected.stride()}.")
    if rtol is None:
        rtol, atol = _tolerances(a_dt, e_dt)
    common = np.promote_types(a.dtype, e.dtype)
    if common.kind == "b" or common.kind in "iu":  # torch reports integer differences in int64
        a, e = a.astype(np.int64), e.astype(np.int64)
        matches = a == e if rtol == 0 and atol == 0 else np.isclose(a, e, rtol=rtol, atol=atol)
    else:
        a, e = a.astype(common), e.astype(common)
        with np.errstate(invalid="ignore"):
            matches = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if matches.all():
        return
    if a.ndim == 0:
        raise _Fail(AssertionError, _scalar_tensor_msg(a, e, rtol, atol))
    af, ef, mf = a.reshape(-1), e.reshape(-1), matches.reshape(-1)
    total, bad = mf.size, int(mf.size - mf.sum())
    extra = f"Mismatched elements: {bad} / {total} ({bad / total:.1%})"
    with np.errstate(invalid="ignore", divide="ignore"):
        abs_diff = np.abs(af - ef)
        abs_diff[mf] = 0
        rel_diff = abs_diff / np.abs(ef)
        rel_diff[mf] = 0
    i_abs, i_rel = _argmax_nan_first(abs_diff), _argmax_nan_first(rel_diff)
    raise _Fail(AssertionError, _mismatch_msg(
        "Tensor-likes", extra, abs_diff[i_abs].item(), _index(i_abs, a.shape), rel_diff[i_rel].item(),
        _index(i_rel, a.shape), rtol, atol))


def _index(flat, shape):
    return tuple(int(i) for i in np.unravel_index(flat, shape))


def _argmax_nan_first(x):
    nan = np.isnan(x) if x.dtype.kind == "f" else np.zeros(x.shape, bool)
    return int(np.argmax(nan)) if nan.any() else int(np.argmax(x))


def _scalar_tensor_msg(a, e, rtol, atol):
    av, ev = a.item(), e.item()
    abs_diff = np.abs(a - e).item()
    with np.errstate(invalid="ignore", divide="ignore"):
        rel_diff = (np.abs(a - e) / np.abs(e)).item() if a.dtype.kind == "f" else \
            (float("inf") if ev == 0 else abs_diff / abs(ev))
    return _mismatch_msg("Scalars", f"Expected {ev} but got {av}.", abs_diff, None, rel_diff, None, rtol, atol)


def _is_number(x):
    return isinstance(x, (int, float, np.number, np.bool_)) and not isinstance(x, complex)


def _compare(actual, expected, path, kw):
    if isinstance(actual, (Tensor, np.ndarray)) or isinstance(expected, (Tensor, np.ndarray)):
        if not ((isinstance(actual, Tensor) and isinstance(expected, Tensor))
                or (isinstance(actual, np.ndarray) and isinstance(expected, np.ndarray))):
            raise _Fail(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and "
                                   f"{type(expected)}.", path)
        try:
            _compare_tensors(actual, expected, kw["rtol"], kw["atol"], kw["equal_nan"], kw["check_device"],
                             kw["check_dtype"], kw["check_stride"])
        except _Fail as f:
            f.path = path
            raise
        return
    if _is_number(actual) and _is_number(expected):
        try:
            _compare_numbers(actual, expected, kw["rtol"], kw["atol"], kw["equal_nan"], kw["check_dtype"])
        except _Fail as f:
            f.path = path
            raise
        return
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        a_keys, e_keys = set(actual), set(expected)
        if a_keys != e_keys:
            missing, extra = e_keys - a_keys, a_keys - e_keys
            raise _Fail(AssertionError, "The keys of the mappings do not match:\n"
                        f"Missing keys in the actual mapping: {_sorted(missing)}\n"
                        f"Additional keys in the actual mapping: {_sorted(extra)}", path)
        for key in expected:
            _compare(actual[key], expected[key], (*path, key), kw)
        return
    if isinstance(actual, Sequence) and isinstance(expected, Sequence) \
            and not isinstance(actual, str) and not isinstance(expected, str):
        if len(actual) != len(expected):
            raise _Fail(AssertionError, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}",
                        path)
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, (*path, i), kw)
        return
    if actual is None and expected is None:
        return
    raise _Fail(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and "
                           f"{type(expected)}.", path)


def _sorted(keys):
    try:
        return sorted(keys)
    except TypeError:
        return list(keys)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Assert that ``actual`` and ``expected`` are close: ``|actual - expected| <= atol + rtol * |expected|``.

    Accepts tensors, NumPy arrays, Python numbers and (nested) sequences and mappings of them. Without
    ``rtol``/``atol`` the tolerances are torch's per dtype (float32: 1.3e-6/1e-5, float64: 1e-7/1e-7,
    float16: 1e-3/1e-5, bfloat16: 1.6e-2/1e-5, integers and bool: exact); for two dtypes the larger.
    Shapes must agree, and dtypes and devices too unless ``check_dtype``/``check_device`` is False.

    Raises AssertionError with torch's report::

        Tensor-likes are not close!

        Mismatched elements: 1 / 3 (33.3%)
        Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)
        Greatest relative difference: 0.2 at index (1,) (up to 1.3e-06 allowed)

    ``msg`` replaces the report (a string) or rewrites it (a callable taking the report).
    """
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'rtol' if rtol is None else 'atol'}.")
    kw = dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=check_device, check_dtype=check_dtype,
              check_stride=check_stride)
    try:
        _compare(actual, expected, (), kw)
    except _Fail as f:
        message = f.message
        if f.path:
            message += "\n\nThe failure occurred for item " + "".join(f"[{p!r}]" for p in f.path)
        if f.exc_type is AssertionError and msg is not None:
            message = msg(message) if callable(msg) else msg
        raise f.exc_type(message) from None


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg="") -> None:
    """Deprecated ``torch.testing.assert_allclose``: ``assert_close`` on tensors, dtypes not compared.

    Non-tensor inputs are made tensors and ``expected`` takes ``actual``'s dtype; NaNs compare equal by
    default. Emits the FutureWarning torch emits.
    """
    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future "
                  "release. Please use `torch.testing.assert_close()` instead.", FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = creation.tensor(actual)
    if not isinstance(expected, Tensor):
        expected = creation.tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = _tolerances(actual.dtype.name, expected.dtype.name)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
                 check_dtype=False, check_stride=False, msg=msg or None)


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None) -> Tensor:
    """A tensor of ``shape`` with values drawn uniformly from ``[low, high)`` (torch's defaults per dtype).

    Defaults: bool [0, 2), uint8 [0, 10), other integers [-9, 10), floats [-9, 9). ``exclude_zero`` replaces
    zeros by 1 (integers) or the dtype's ``tiny`` (floats). Draws from tinytorch's global generator, so
    ``manual_seed`` makes it reproducible.
    """
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = tuple(shape[0])
    dt = dtypes.to_dtype(dtype)
    if dt is dtypes.bool_:
        out = creation.randint(0, 2, shape, device=device) != 0
        return out
    if dt.is_floating_point:
        lo = -9.0 if low is None else builtins.max(float(low), float(np.finfo(dt.np).min) if dt.name != "bfloat16" else -3.39e38)
        hi = 9.0 if high is None else float(high)
        if lo > hi:
            raise ValueError(f"make_tensor: low ({lo}) must be less than or equal to high ({hi})")
        out = creation.rand(*shape, dtype=dtypes.float64, device=device) * (hi - lo) + lo
        out = out.to(dt)
        if exclude_zero:
            out = out.masked_fill(out == 0, float(np.finfo(np.float32 if dt.name == "bfloat16" else dt.np).tiny))
    else:
        info = np.iinfo(dt.np)
        lo = (0 if dt.name == "uint8" else -9) if low is None else builtins.max(int(math.ceil(low)), info.min)
        hi = 10 if high is None else builtins.min(int(math.ceil(high)), info.max)
        if lo >= hi:
            raise ValueError(f"make_tensor: low ({lo}) must be less than high ({hi}) for {dt}")
        out = creation.randint(lo, hi, shape, dtype=dt, device=device)
        if exclude_zero:
            out = out.masked_fill(out == 0, 1)
    if requires_grad:
        out.requires_grad_(True)
    return out
