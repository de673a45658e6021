"""The strict CuPy stand-in refuses what real CuPy refuses: each class of mistake has a test here.

If one of these passes while the stand-in is made lenient, the CI runs on "cuda" prove nothing.
"""
from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from tests import cupy_standin as cp
from tests.cupy_standin import cupyx


@pytest.fixture(autouse=True)
def _one_device():
    cp.set_device_count(1)
    yield
    cp.set_device_count(1)


def test_names_list_is_generated_from_a_real_cupy():
    names = json.loads(pathlib.Path(cp.__file__).with_name("cupy_names.json").read_text())
    assert names["cupy_version"].split(".")[0] >= "13"
    assert {"asarray", "asnumpy", "add", "ndarray", "scatter_add"} & set(names["cupy"]) == {
        "asarray", "asnumpy", "add", "ndarray"}
    assert "scatter_add" in names["cupyx"] and "at" in names["ufunc_methods"]
    assert "__index__" not in names["ndarray"] and "get" in names["ndarray"]


def test_implicit_conversion_to_numpy_is_refused():
    a = cp.arange(3)
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array"):
        np.asarray(a)
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.array(a)
    np.testing.assert_array_equal(a.get(), [0, 1, 2])  # the explicit way works
    np.testing.assert_array_equal(cp.asnumpy(a), [0, 1, 2])


@pytest.mark.parametrize("mix", [
    lambda a, h: a + h, lambda a, h: h + a, lambda a, h: a * h, lambda a, h: cp.add(a, h),
    lambda a, h: cp.maximum(h, a), lambda a, h: cp.where(a > 0, h, a), lambda a, h: cp.concatenate([a, h]),
    lambda a, h: np.add(a, h), lambda a, h: a + np.array(1.0),  # 0-d host arrays too
    lambda a, h: a + [1.0, 2.0, 3.0],
])
def test_host_arrays_mixed_into_device_ops_are_refused(mix):
    a, h = cp.arange(3, dtype=cp.float64), np.ones(3)
    with pytest.raises(TypeError, match="Unsupported type"):
        mix(a, h)


def test_scalars_mix_freely():
    a = cp.arange(3, dtype=cp.float32)
    assert (a + 1).dtype == np.float32 and (a * np.float32(2)).dtype == np.float32
    np.testing.assert_array_equal((2.0 ** a).get(), [1, 2, 4])


@pytest.mark.parametrize("assign", [
    lambda a: a.__setitem__(0, np.ones(3)),                      # basic index
    lambda a: a.__setitem__((slice(None), 0), np.ones(2)),
    lambda a: a.__setitem__(a > 100, np.ones(0)),                # boolean index
    lambda a: a.__setitem__(0, [1.0, 2.0, 3.0]),                 # a host list
    lambda a: cp.copyto(a, np.ones((2, 3))),
])
def test_host_values_assigned_into_device_arrays_are_refused(assign):
    a = cp.zeros((2, 3))
    with pytest.raises(TypeError, match="Unsupported type"):
        assign(a)


def test_device_values_assign_fine():
    a = cp.zeros((2, 3))
    a[0] = cp.ones(3)
    a[a > 0.5] = 2.0
    np.testing.assert_array_equal(a.get(), [[2, 2, 2], [0, 0, 0]])


@pytest.mark.parametrize("name", ["resize", "setflags", "getfield", "ctypes"])  # NumPy has them, CuPy not
def test_numpy_only_array_methods_are_refused(name):
    assert hasattr(np.ndarray, name)
    with pytest.raises(AttributeError, match="cupy.ndarray"):
        getattr(cp.arange(3), name)


@pytest.mark.parametrize("name", ["insert", "block", "nanpercentile", "errstate", "geomspace", "asmatrix"])
def test_numpy_only_functions_are_refused(name):
    assert hasattr(np, name)
    with pytest.raises(AttributeError, match="has no attribute"):
        getattr(cp, name)


def test_numpy_functions_on_device_arrays_dispatch_only_to_cupy_names():
    a = cp.arange(4.0)
    assert isinstance(np.sum(a), cp.ndarray)  # NEP 18: np.sum has a CuPy counterpart
    with pytest.raises(TypeError):
        np.lib.stride_tricks.sliding_window_view(a, 2)  # CuPy has no such top-level function


def test_flags_have_no_writeable():
    with pytest.raises(AttributeError):
        cp.arange(3).flags.writeable  # noqa: B018


def test_ufunc_at_only_where_cupy_has_a_scatter_kernel_and_dtype():
    a = cp.zeros(3, dtype=cp.float32)
    cp.add.at(a, cp.array([0, 0, 2]), 1.0)
    np.testing.assert_array_equal(a.get(), [2, 0, 1])
    with pytest.raises(NotImplementedError, match="multiply.at"):
        cp.multiply.at(a, cp.array([0]), 2.0)
    for dt in (cp.int8, cp.uint8, cp.int16, cp.bool_):
        with pytest.raises(TypeError, match="does not support"):
            cupyx.scatter_add(cp.zeros(3, dtype=dt), cp.array([0]), cp.ones(1, dtype=dt))
    with pytest.raises(TypeError, match="does not support"):
        cp.add.at(cp.zeros(3, dtype=cp.int8), cp.array([0]), 1)


def test_zero_d_device_array_is_not_a_python_int():
    i = cp.array(1)
    with pytest.raises(TypeError):
        range(i)
    with pytest.raises(TypeError):
        [10, 20][i]
    assert int(i) == 1  # explicit conversion (a host sync) is allowed, as in CuPy


def test_random_state_has_only_cupys_methods():
    rs = cp.random.RandomState(0)
    assert rs.standard_normal((2, 3), dtype=cp.float32).dtype == np.float32
    assert isinstance(rs.randint(0, 5, size=4), cp.ndarray)
    # NumPy's Generator API, and NumPy RandomState methods CuPy's RandomState does not have
    for not_in_cupy in ("integers", "random", "bit_generator", "get_state", "set_state", "random_integers", "bytes"):
        with pytest.raises(AttributeError, match="RandomState"):
            getattr(rs, not_in_cupy)


def test_arrays_on_another_fake_device_are_refused():
    cp.set_device_count(2)
    with cp.cuda.Device(1):
        b = cp.ones(3)
    assert b.device.id == 1
    a = cp.ones(3)
    with pytest.raises(ValueError, match="array device = 1 while current = 0"):
        a + b
    with pytest.raises(ValueError, match="current"):
        b.sum()
    with cp.cuda.Device(1):
        assert float((b + 1).sum()) == 6.0
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        cp.cuda.Device(2)


def test_linalg_returns_garbage_on_singular_input_like_cusolver():
    singular, not_pd = cp.zeros((2, 2)), -cp.eye(2)
    assert bool(cp.isnan(cp.linalg.inv(singular)).all())
    assert bool(cp.isnan(cp.linalg.solve(singular, cp.ones(2))).all())
    assert bool(cp.isnan(cp.linalg.cholesky(not_pd)).all())
    with cupyx.errstate(linalg="raise"):
        for bad in (lambda: cp.linalg.inv(singular), lambda: cp.linalg.solve(singular, cp.ones(2)),
                    lambda: cp.linalg.cholesky(not_pd)):
            with pytest.raises(np.linalg.LinAlgError, match="cuSOLVER"):
                bad()
    assert cupyx.geterr()["linalg"] == "ignore"


def test_views_share_memory_and_pickle_round_trips():
    import pickle

    a = cp.zeros((2, 3))
    a[0][1] = 5.0
    a.T[2, 1] = 7.0
    np.testing.assert_array_equal(a.get(), [[0, 5, 0], [0, 0, 7]])
    b = pickle.loads(pickle.dumps(a))
    assert isinstance(b, cp.ndarray)
    np.testing.assert_array_equal(b.get(), a.get())
