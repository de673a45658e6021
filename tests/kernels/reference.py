"""Plain NumPy versions of every fused kernel: slow, loop-level obvious, float64 inside.

They define what the kernels must compute; tests/kernels compares the kernels (emulated on the CPU,
or on a GPU) with them, and checks them against torch.nn.functional / torch.optim.
"""
from __future__ import annotations

import math

import numpy as np


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def conv2d_forward(x, w, b, stride=1, padding=0, dilation=1, groups=1):
    """y (N, K, OH, OW) for x (N, C, H, W), w (K, C/G, R, S), b (K,) or None, by direct summation."""
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    N, C, H, W = x.shape
    K, Cg, R, S = w.shape
    Kg = K // groups
    OH = (H + 2 * ph - dh * (R - 1) - 1) // sh + 1
    OW = (W + 2 * pw - dw * (S - 1) - 1) // sw + 1
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw))
    xp[:, :, ph:ph + H, pw:pw + W] = x
    y = np.zeros((N, K, OH, OW))
    for k in range(K):
        g = k // Kg
        for r in range(R):
            for s in range(S):
                # window (r, s): the input pixels each output pixel sees through that filter tap
                patch = xp[:, g * Cg:(g + 1) * Cg, r * dh:r * dh + sh * (OH - 1) + 1:sh,
                           s * dw:s * dw + sw * (OW - 1) + 1:sw]
                y[:, k] += np.einsum("nchw,c->nhw", patch, w[k, :, r, s].astype(np.float64))
        if b is not None:
            y[:, k] += b[k]
    return y


def conv2d_backward(x, w, grad_out, stride=1, padding=0, dilation=1, groups=1, relu_out=None):
    """(gx, gw, gb) of conv2d; grad_out masked by relu_out > 0 when relu_out is given."""
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    N, C, H, W = x.shape
    K, Cg, R, S = w.shape
    Kg = K // groups
    OH, OW = grad_out.shape[2:]
    dy = grad_out.astype(np.float64)
    if relu_out is not None:
        dy = dy * (relu_out > 0)
    xpad = np.zeros((N, C, H + 2 * ph, W + 2 * pw))
    xpad[:, :, ph:ph + H, pw:pw + W] = x
    gxpad = np.zeros_like(xpad)
    gw = np.zeros((K, Cg, R, S))
    for k in range(K):
        g = k // Kg
        for r in range(R):
            for s in range(S):
                rows = slice(r * dh, r * dh + sh * (OH - 1) + 1, sh)
                cols = slice(s * dw, s * dw + sw * (OW - 1) + 1, sw)
                patch = xpad[:, g * Cg:(g + 1) * Cg, rows, cols]
                gw[k, :, r, s] = np.einsum("nchw,nhw->c", patch, dy[:, k])
                gxpad[:, g * Cg:(g + 1) * Cg, rows, cols] += np.einsum("nhw,c->nchw", dy[:, k], w[k, :, r, s])
    gx = gxpad[:, :, ph:ph + H, pw:pw + W]
    gb = dy.sum(axis=(0, 2, 3))
    return gx, gw, gb


def act_grad(z, activation):
    """d act(z) / dz for None/"identity", "relu", "gelu" (erf) and "gelu_tanh"."""
    z = np.asarray(z, dtype=np.float64)
    if activation in (None, "none", "identity"):
        return np.ones_like(z)
    if activation == "relu":
        return (z > 0).astype(np.float64)
    if activation == "gelu":
        erf = np.vectorize(math.erf)
        return 0.5 * (1 + erf(z / math.sqrt(2))) + z * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    if activation == "gelu_tanh":
        k, c = math.sqrt(2 / math.pi), 0.044715
        th = np.tanh(k * (z + c * z**3))
        return 0.5 * (1 + th) + 0.5 * z * (1 - th**2) * k * (1 + 3 * c * z**2)
    raise ValueError(f"unknown activation {activation!r}")


def linear_act_backward(grad_out, act_input, activation, need_bias=True):
    """(dZ, db): dZ = act'(z) * dY, db = column sums of dZ over every leading dimension."""
    dz = act_grad(act_input if act_input is not None else grad_out, activation) * grad_out
    gb = dz.reshape(-1, dz.shape[-1]).sum(axis=0) if need_bias else None
    return dz, gb


def softmax_cross_entropy(logits, target, ignore_index=-100):
    """(loss (N,), grad (N, C)): per-row logsumexp - logit[target] and softmax - one_hot; 0 where ignored."""
    x = np.asarray(logits, dtype=np.float64)
    n, c = x.shape
    loss, grad = np.zeros(n), np.zeros((n, c))
    for i in range(n):
        t = int(target[i])
        if t == ignore_index:
            continue
        m = x[i].max()
        lse = m + math.log(np.exp(x[i] - m).sum())
        loss[i] = lse - x[i, t]
        grad[i] = np.exp(x[i] - lse)
        grad[i, t] -= 1
    return loss, grad


def sgd_step(p, g, buf, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    """One torch.optim.SGD step on float64 copies: returns (new p, new buf)."""
    p, d = np.array(p, dtype=np.float64), np.array(g, dtype=np.float64)
    if maximize:
        d = -d
    if weight_decay:
        d = d + weight_decay * p
    if momentum:
        buf = d.copy() if buf is None else momentum * np.asarray(buf, dtype=np.float64) + (1 - dampening) * d
        d = d + momentum * buf if nesterov else buf
    return p - lr * d, buf


def adam_step(p, g, m, v, vmax, step, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
              maximize=False, decoupled=False):
    """One torch.optim.Adam / AdamW step (``step`` counted after this step): (p, m, v, vmax) in float64."""
    p, g = np.array(p, dtype=np.float64), np.array(g, dtype=np.float64)
    m, v = np.array(m, dtype=np.float64), np.array(v, dtype=np.float64)
    b1, b2 = betas
    if maximize:
        g = -g
    if weight_decay:
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    vd = v
    if amsgrad:
        vmax = np.maximum(np.asarray(vmax, dtype=np.float64), v)
        vd = vmax
    denom = np.sqrt(vd) / math.sqrt(1 - b2**step) + eps
    p = p - lr / (1 - b1**step) * m / denom
    return p, m, v, vmax
