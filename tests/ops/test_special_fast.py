"""The fast float32 normal CDF (GELU's gate) against math.erfc, including tails and specials."""
from __future__ import annotations

import math

import numpy as np

from tinytorch._arrays import special


def test_normal_cdf_float32_accuracy_and_specials():
    x = np.concatenate([np.linspace(-12, 12, 20001), [0.0, -0.0, 1e-30, -1e-30]]).astype(np.float32)
    got = special.normal_cdf(x)
    assert got.dtype == np.float32 and got.shape == x.shape
    want = np.array([0.5 * math.erfc(-float(v) / math.sqrt(2.0)) for v in x])
    rel = np.abs(got.astype(np.float64) - want) / want
    assert rel[np.abs(x) <= 5].max() < 5e-6  # float32-level in the bulk
    assert rel.max() < 5e-5                  # and relative accuracy kept deep in the lower tail
    sp = special.normal_cdf(np.array([np.inf, -np.inf, np.nan], dtype=np.float32))
    assert sp[0] == 1.0 and sp[1] == 0.0 and np.isnan(sp[2])


def test_normal_cdf_other_dtypes_use_erf():
    x = np.linspace(-6, 6, 101)
    want = np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in x])
    np.testing.assert_allclose(special.normal_cdf(x), want, rtol=1e-13, atol=1e-300)
    assert special.normal_cdf(np.float32(0.0)) == 0.5
