"""The op registry entries for tinytorch/nn/fusion.py: sample inputs, NumPy references, PyTorch counterparts."""
from __future__ import annotations

import math
import numpy as np

from tinytorch.nn.fusion import _GELU_C, _SQRT_2_OVER_PI, conv2d_relu, linear_act
from tests.opinfo.conv import _ref_conv_nd
from tests.opinfo.registry import OpInfo, randn, register, SampleInput


def _ref_linear_act(x, w, b=None, activation="relu"):
    z = x @ w.T + (0 if b is None else b)
    if activation == "relu":
        return np.maximum(z, 0)
    if activation == "gelu":
        erf = np.vectorize(math.erf)
        return 0.5 * z * (1 + erf(z / math.sqrt(2)))
    return 0.5 * z * (1 + np.tanh(_SQRT_2_OVER_PI * (z + _GELU_C * z**3)))


def _torch_linear_act(torch, x, w, b=None, activation="relu"):
    y = torch.nn.functional.linear(x, w, b)
    if activation == "relu":
        return torch.relu(y)
    return torch.nn.functional.gelu(y, approximate="none" if activation == "gelu" else "tanh")


def _away_from_kink(rng, make, preact, margin=0.1):
    """Resample ``make(rng)`` until every pre-activation is ``margin`` away from relu's kink at 0."""
    for _ in range(200):
        args = make(rng)
        if np.abs(preact(*args)).min() > margin:
            return args
    raise AssertionError("could not draw samples away from the relu kink")


def _linear_act_samples(rng):
    relu_args = _away_from_kink(rng, lambda r: (randn(r, 3, 4), randn(r, 5, 4), randn(r, 5)),
                                lambda x, w, b: x @ w.T + b)
    x, w = randn(rng, 3, 4), randn(rng, 5, 4)
    x3, w3 = randn(rng, 2, 2, 3), randn(rng, 4, 3)
    return [
        SampleInput(relu_args + ("relu",), name="relu"),
        SampleInput((x, w, randn(rng, 5), "gelu"), name="gelu"),
        SampleInput((x3, w3, randn(rng, 4), "gelu_tanh"), name="gelu_tanh_3d"),
        SampleInput((x3, w3, None, "gelu"), name="no_bias"),
    ]


def _ref_conv2d_relu(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    return np.maximum(_ref_conv_nd(x, w, b, stride, padding, dilation, groups), 0)


def _conv2d_relu_samples(rng):
    opts = dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
    basic = _away_from_kink(rng, lambda r: (randn(r, 2, 2, 4, 4), randn(r, 3, 2, 2, 2), randn(r, 3)),
                            _ref_conv2d_relu_pre)
    strided = _away_from_kink(rng, lambda r: (randn(r, 1, 4, 5, 4), randn(r, 2, 2, 3, 2)),
                              lambda x, w: _ref_conv2d_relu_pre(x, w, None, **opts))
    return [
        SampleInput(basic, name="basic"),
        SampleInput(strided + (None,), opts, name="options"),
    ]


def _ref_conv2d_relu_pre(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    return _ref_conv_nd(x, w, b, stride, padding, dilation, groups)


register(OpInfo("linear_act", linear_act, _linear_act_samples, ref=_ref_linear_act, torch_fn=_torch_linear_act,
                gradgradcheck=True))
register(OpInfo("conv2d_relu", conv2d_relu, _conv2d_relu_samples, ref=_ref_conv2d_relu,
                torch_fn=lambda torch, *a, **k: torch.relu(torch.nn.functional.conv2d(*a, **k))))
