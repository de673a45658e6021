"""detect_anomaly: NaN in backward names the op and shows the user's forward line."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
from tinytorch import autograd


class NanGrad(autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, grad):
        return grad * float("nan")


def test_detect_anomaly_names_op_and_forward_line():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    with autograd.detect_anomaly():
        y = NanGrad.apply(x)  # FORWARD-CALL-SITE
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
    msg = str(info.value)
    assert "NanGradBackward" in msg and "nan" in msg
    assert "FORWARD-CALL-SITE" in msg and "test_anomaly.py" in msg


def test_detect_anomaly_builtin_op():
    x = tinytorch.tensor([0.0], requires_grad=True)
    with autograd.detect_anomaly():
        y = x / x  # 0/0 in backward too
        with pytest.raises(RuntimeError, match="DivBackward0"):
            y.sum().backward()


def test_without_anomaly_nan_passes_silently():
    x = tinytorch.tensor([1.0], requires_grad=True)
    NanGrad.apply(x).sum().backward()
    assert np.isnan(x.grad.numpy()).all()


def test_set_detect_anomaly_and_flag():
    assert not autograd.is_anomaly_enabled()
    with autograd.detect_anomaly():
        assert autograd.is_anomaly_enabled()
    assert not autograd.is_anomaly_enabled()
    autograd.set_detect_anomaly(True)
    try:
        assert autograd.is_anomaly_enabled()
    finally:
        autograd.set_detect_anomaly(False)
    assert not autograd.is_anomaly_enabled()
