"""tinytorch.testing: assert_close's tolerances and report text equal torch's; make_tensor's ranges."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
from tinytorch.testing import assert_close, make_tensor

F32, F64 = tinytorch.float32, tinytorch.float64

# (actual, expected, kwargs) built as f(module) so the very same case runs on tinytorch and on torch
CASES = {
    "one-off": lambda m: (m.tensor([1., 2., 3.]), m.tensor([1., 2.5, 3.]), {}),
    "2d-inf-rel": lambda m: (m.tensor([[1., 2.], [3., 4.]]), m.tensor([[1., 2.5], [3., 0.]]), {}),
    "int-equal": lambda m: (m.tensor([1, 2, 3]), m.tensor([1, 4, 3]), {}),
    "bool": lambda m: (m.tensor([True, False]), m.tensor([True, True]), {}),
    "float-scalars": lambda m: (1.0, 1.5, {}),
    "int-scalars": lambda m: (1, 2, {}),
    "0d": lambda m: (m.tensor(1.), m.tensor(2.), {}),
    "shape": lambda m: (m.tensor([1., 2.]), m.tensor([1., 2., 3.]), {}),
    "dtype": lambda m: (m.tensor([1., 2.]), m.tensor([1., 2.], dtype=m.float64), {}),
    "tensor-vs-float": lambda m: (m.tensor([1., 2.]), 1.0, {}),
    "list-item": lambda m: ([m.tensor([1., 2.]), m.tensor(1.)], [m.tensor([1., 2.]), m.tensor(2.)], {}),
    "list-length": lambda m: ([1., 2.], [1., 2., 3.], {}),
    "dict-keys": lambda m: ({"a": 1.}, {"b": 1.}, {}),
    "dict-item": lambda m: ({"a": 1.}, {"a": 2.}, {}),
    "only-rtol": lambda m: (m.tensor([1., 2.]), m.tensor([1., 2.1]), dict(rtol=1e-3)),
    "msg": lambda m: (m.tensor([1., 2.]), m.tensor([1., 2.1]), dict(msg="boom")),
    "nan": lambda m: (m.tensor([1., float("nan")]), m.tensor([1., float("nan")]), {}),
    "small-abs": lambda m: (m.tensor([0., 2.]), m.tensor([1e-3, 2.]), {}),
    "int-vs-float": lambda m: (1, 1.0, {}),
    "big": lambda m: (m.tensor([1e10]), m.tensor([1e10 + 1e5]), {}),
    "explicit-tol": lambda m: (m.tensor([1., 2.], dtype=m.float64), m.tensor([1., 2.3], dtype=m.float64),
                               dict(rtol=0.1, atol=0.0)),
    "f16": lambda m: (m.tensor([1., 2.], dtype=m.float16), m.tensor([1., 2.01], dtype=m.float16), {}),
}


def _outcome(module, case):
    actual, expected, kw = CASES[case](module)
    try:
        module.testing.assert_close(actual, expected, **kw)
    except Exception as e:  # noqa: BLE001 - the outcome itself is what is compared
        return type(e).__name__, str(e).replace("<class 'tinytorch.tensor.Tensor'>", "T").replace(
            "<class 'torch.Tensor'>", "T").replace("tinytorch.", "").replace("torch.", "")
    return "OK", ""


@pytest.mark.parametrize("case", list(CASES))
def test_report_matches_torch(case):
    torch = pytest.importorskip("torch")
    mine, theirs = _outcome(tinytorch, case), _outcome(torch, case)
    assert mine == theirs


def test_passing_cases_and_options():
    assert_close(tinytorch.tensor([1., 2.]), tinytorch.tensor([1., 2. + 1e-6]))  # within float32 tolerance
    assert_close(tinytorch.tensor([1., float("nan")]), tinytorch.tensor([1., float("nan")]), equal_nan=True)
    assert_close(tinytorch.tensor([1., 2.]), tinytorch.tensor([1., 2.], dtype=F64), check_dtype=False)
    assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    assert_close({"w": [tinytorch.ones(2), 3]}, {"w": [tinytorch.ones(2), 3]})
    with pytest.raises(AssertionError, match="Tensor-likes are not close"):
        assert_close(tinytorch.tensor([1., 2.], dtype=F64), tinytorch.tensor([1., 2. + 1e-6], dtype=F64))
    with pytest.raises(AssertionError, match="^prefix Tensor"):
        assert_close(tinytorch.ones(2), tinytorch.zeros(2), msg=lambda m: "prefix " + m)


def test_make_tensor_ranges_and_options():
    tinytorch.manual_seed(0)
    f = make_tensor(50, 4, dtype=F32)
    assert f.shape == (50, 4) and f.dtype is F32 and -9 <= f.min().item() and f.max().item() < 9
    i = make_tensor((200,), dtype=tinytorch.int64, low=-2, high=3, exclude_zero=True)
    assert set(i.tolist()) <= {-2, -1, 1, 2} and i.dtype is tinytorch.int64
    u = make_tensor(100, dtype=tinytorch.uint8)
    assert 0 <= u.min().item() and u.max().item() < 10
    b = make_tensor(3, dtype=tinytorch.bool)
    assert b.dtype is tinytorch.bool
    g = make_tensor(2, dtype=F64, low=1.0, high=2.0, requires_grad=True)
    assert g.requires_grad and (g >= 1).all() and (g < 2).all()
    with pytest.raises(ValueError, match="low"):
        make_tensor(2, dtype=tinytorch.int32, low=5, high=5)


def test_deprecated_assert_allclose():
    from tinytorch.testing import assert_allclose

    with pytest.warns(FutureWarning, match="assert_close"):
        assert_allclose(tinytorch.tensor([1.0, float("nan")]), [1.0, float("nan")])  # NaNs equal by default
    with pytest.warns(FutureWarning), pytest.raises(AssertionError, match="Tensor-likes are not close"):
        assert_allclose(tinytorch.tensor([1.0, 2.0]), tinytorch.tensor([1.0, 2.1], dtype=F64))
    with pytest.warns(FutureWarning):
        assert_allclose(tinytorch.tensor([1.0, 2.0]), tinytorch.tensor([1.0, 2.1]), rtol=0.1, atol=0.0)
