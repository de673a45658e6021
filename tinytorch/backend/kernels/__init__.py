"""Fused CUDA kernels (sources in the top-level ``kernels/``), behind a backend-neutral API.

Every function here returns ``None`` when it does not apply — CPU (NumPy) arrays, CuPy not
loaded, kernels disabled with ``TINYTORCH_CUDA_KERNELS=0``, or an unsupported configuration —
and the calling op then runs its plain ``xp`` path. Ops therefore never ask which backend
they are on.
"""
from __future__ import annotations

import os


def enabled() -> bool:
    return os.environ.get("TINYTORCH_CUDA_KERNELS", "1") not in ("0", "false", "False")


def conv2d_forward(x, w, b, stride, padding, dilation, groups):
    """y = conv2d(x, w, b) by implicit GEMM, or None."""
    return None


def conv2d_backward(x, w, grad_out, stride, padding, dilation, groups, need_input, need_weight, need_bias,
                    relu_out=None):
    """(gx, gw, gb) for conv2d (entries None where not needed), or None when not applicable.

    ``relu_out``: when given, the ReLU output that followed the conv; grad_out is masked by
    ``relu_out > 0`` inside the kernel (fused activation-gradient prologue).
    """
    return None


def linear_act_backward(grad_out, act_input, activation, need_bias):
    """(grad_pre_activation, grad_bias) for ``activation(x @ W.T + b)``, or None."""
    return None


def softmax_cross_entropy(logits, target, ignore_index, need_grad):
    """(per-sample loss, grad_logits or None) in one pass, or None."""
    return None


def fused_optimizer_step(kind, params, grads, states, hyper):
    """One multi-tensor launch for SGD-momentum / Adam / AdamW over all params; False when not applicable."""
    return False
