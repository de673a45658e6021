"""Recurrent cells: a whole RNN / LSTM / GRU layer direction as one autograd node, and torch's cell functions.

``recurrent_layer`` runs the time loop of one layer in one direction on raw arrays: each step is one GEMM
(``h W_hh^T``) and a few elementwise array ops, and the backward walks the steps in reverse collecting every
step's gate gradient in one (L, N, G*H) array, so the weight gradient is one GEMM over all steps instead of
one per step. The input projection ``x W_ih^T + b_ih`` of every step is computed by the caller (one GEMM).
Gate orders are PyTorch's: LSTM i, f, g, o; GRU r, z, n.

The first-order backward is on arrays (``backward_arrays``). When a graph of the backward is wanted
(``create_graph=True``), ``backward`` recomputes the layer with differentiable tensor ops
(``composite_layer``, the plain path, which tests hold equal to the fused one) and differentiates that, so
higher-order gradients work.

``rnn_tanh_cell``, ``rnn_relu_cell``, ``lstm_cell`` and ``gru_cell`` are ``torch.rnn_tanh_cell`` etc.: one
step, used by ``nn.RNNCell``/``LSTMCell``/``GRUCell``.
"""
from __future__ import annotations

from ..autograd import grad as _autograd_grad
from ..amp import autocast_mode as _autocast
from ..autograd import grad_mode
from ..autograd import function as _function
from ..autograd.function import Function, output_ref
from ..tensor import Tensor
from ._common import matmul_acc32
from .elementwise import relu, sigmoid, tanh, where
from .linalg import linear
from .shape import split, stack, unbind

__all__ = ["recurrent_layer", "composite_layer", "rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]
TENSOR_METHODS = ()  # functions only (torch.gru_cell etc.)

MODES = ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _sigmoid_(xp, a):
    """In-place logistic sigmoid as 0.5 * tanh(a / 2) + 0.5: no overflow for large |a|."""
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def _step_order(steps, reverse):
    return range(steps - 1, -1, -1) if reverse else range(steps)


class RecurrentLayer(Function):
    """One layer, one direction: inputs (mode, gi (L, N, G*H), h0 (N, H), c0 (N, H) or None, w_hh (G*H, H),
    b_hh (G*H,) or None, reverse); outputs (out (L, N, H), h_n (N, H)) and, for LSTM, c_n (N, H)."""

    @staticmethod
    def forward(ctx, mode, gi, h0, c0, w_hh, b_hh, reverse):
        xp = ctx.xp
        ctx.mode, ctx.reverse = mode, reverse
        ctx.save_for_backward(gi, h0, c0, w_hh, b_hh, output_ref(0))
        g, h = gi._data, h0._data
        steps, n = g.shape[0], h.shape[-1]
        w_t = xp.ascontiguousarray(w_hh._data.T)  # BLAS is faster on it than on the transposed view for few rows
        b = None if b_hh is None else b_hh._data
        out = xp.empty((steps, *h.shape), dtype=g.dtype)
        if mode == "GRU":
            ctx.rz = rz = xp.empty((steps, h.shape[0], 2 * n), dtype=g.dtype)
            ctx.ghn = ghn = xp.empty((steps, *h.shape), dtype=g.dtype)
            ctx.ns = ns = xp.empty((steps, *h.shape), dtype=g.dtype)
            for t in _step_order(steps, reverse):
                gh = matmul_acc32(xp, h, w_t)
                if b is not None:
                    gh += b
                a = rz[t]
                xp.add(g[t, :, :2 * n], gh[:, :2 * n], out=a)
                _sigmoid_(xp, a)
                ghn[t] = gh[:, 2 * n:]
                cand = ns[t]
                xp.multiply(a[:, :n], gh[:, 2 * n:], out=cand)
                cand += g[t, :, 2 * n:]
                xp.tanh(cand, out=cand)
                # h' = (1 - z) * n + z * h  ==  n + z * (h - n)
                h = xp.subtract(h, cand, out=out[t])
                h *= a[:, n:]
                h += cand
        elif mode == "LSTM":
            c = c0._data
            ctx.act = act = xp.empty((steps, h.shape[0], 4 * n), dtype=g.dtype)
            ctx.cs = cs = xp.empty((steps, *h.shape), dtype=g.dtype)
            ctx.tcs = tcs = xp.empty((steps, *h.shape), dtype=g.dtype)
            for t in _step_order(steps, reverse):
                a = act[t]
                xp.add(g[t], matmul_acc32(xp, h, w_t), out=a)
                if b is not None:
                    a += b
                _sigmoid_(xp, a[:, :2 * n])
                _sigmoid_(xp, a[:, 3 * n:])
                xp.tanh(a[:, 2 * n:3 * n], out=a[:, 2 * n:3 * n])
                c_new = cs[t]
                xp.multiply(a[:, n:2 * n], c, out=c_new)
                c_new += a[:, :n] * a[:, 2 * n:3 * n]
                xp.tanh(c_new, out=tcs[t])
                xp.multiply(a[:, 3 * n:], tcs[t], out=out[t])
                h, c = out[t], c_new
        else:
            for t in _step_order(steps, reverse):
                a = out[t]
                xp.add(g[t], matmul_acc32(xp, h, w_t), out=a)
                if b is not None:
                    a += b
                if mode == "RNN_TANH":
                    xp.tanh(a, out=a)
                else:
                    xp.maximum(a, 0, out=a)
                h = a
        if mode == "LSTM":
            return out, h.copy(), c.copy()
        return out, h.copy()

    @staticmethod
    def backward_arrays(ctx, gout, gh_n, gc_n=None):
        gi, h0, c0, w_hh, b_hh, out = ctx.saved_arrays
        xp, mode, reverse = ctx.xp, ctx.mode, ctx.reverse
        needs = ctx.needs_input_grad  # (mode, gi, h0, c0, w_hh, b_hh, reverse)
        steps, n = out.shape[0], out.shape[-1]
        order = _step_order(steps, reverse)
        batch = out.shape[1]
        prev = _all_prev(xp, out, h0, reverse)  # (L, N, H): the state each step started from
        dh = gh_n.copy()
        dc = None
        # Everything that does not depend on the incoming gradient is computed for all steps at once before
        # the loop (few large array ops), so each step is a handful of small ops and one GEMM.
        if mode == "GRU":
            rz, ghn, ns = ctx.rz, ctx.ghn, ctx.ns
            r, z = rz[..., :n], rz[..., n:]
            cn = (1 - z) * (1 - ns * ns)  # d(n pre-activation) / d(h')
            k = xp.empty((steps, batch, 3, n), dtype=gi.dtype)  # d(gh) / d(h') per gate
            xp.multiply(cn * ghn, r * (1 - r), out=k[:, :, 0])
            xp.multiply(prev - ns, z * (1 - z), out=k[:, :, 1])
            xp.multiply(cn, r, out=k[:, :, 2])
            dgh = xp.empty((steps, batch, 3, n), dtype=gi.dtype)
            dhs = xp.empty(out.shape, dtype=gi.dtype)  # the total gradient of each step's output
            for t in reversed(order):
                d = dhs[t]
                xp.add(dh, gout[t], out=d)
                xp.multiply(d[:, None, :], k[t], out=dgh[t])
                dh = matmul_acc32(xp, dgh[t].reshape(batch, 3 * n), w_hh)
                dh += d * z[t]
            dhid = dgh.reshape(gi.shape)
        elif mode == "LSTM":
            act, cs, tcs = ctx.act, ctx.cs, ctx.tcs
            i, f, gg, o = act[..., :n], act[..., n:2 * n], act[..., 2 * n:3 * n], act[..., 3 * n:]
            cprev = _all_prev(xp, cs, c0, reverse)
            co = o * (1 - tcs * tcs)  # d(c) / d(h) through h = o tanh(c)
            k = xp.empty((steps, batch, 3, n), dtype=gi.dtype)  # d(i, f, g pre-activations) / d(c)
            xp.multiply(gg, i * (1 - i), out=k[:, :, 0])
            xp.multiply(cprev, f * (1 - f), out=k[:, :, 1])
            xp.multiply(i, 1 - gg * gg, out=k[:, :, 2])
            ko = tcs * o * (1 - o)  # d(o pre-activation) / d(h)
            dgates = xp.empty((steps, batch, 4, n), dtype=gi.dtype)
            dc = gc_n.copy()
            for t in reversed(order):
                dh += gout[t]
                dc += dh * co[t]
                dg = dgates[t]
                xp.multiply(dc[:, None, :], k[t], out=dg[:, :3])
                xp.multiply(dh, ko[t], out=dg[:, 3])
                dc *= f[t]
                dh = matmul_acc32(xp, dg.reshape(batch, 4 * n), w_hh)
            dgates = dhid = dgates.reshape(gi.shape)
        else:
            deriv = 1 - out * out if mode == "RNN_TANH" else out > 0
            dgates = xp.empty(gi.shape, dtype=gi.dtype)
            for t in reversed(order):
                dh += gout[t]
                xp.multiply(dh, deriv[t], out=dgates[t])
                dh = matmul_acc32(xp, dgates[t], w_hh)
            dhid = dgates
        gw = gb = None
        if needs[4]:
            rows = steps * batch
            gw = matmul_acc32(xp, dhid.reshape(rows, dhid.shape[-1]).T, prev.reshape(rows, n))
        if b_hh is not None and needs[5]:
            gb = dhid.sum((0, 1))
        if mode == "GRU":  # d(gi) is d(gh) but for the n gate, whose input part is not gated by r
            dgates = dhid
            xp.multiply(dhs, cn, out=dgates[..., 2 * n:])
        return (None, dgates if needs[1] else None, dh if needs[2] else None, dc if needs[3] else None,
                gw, gb, None)

    @staticmethod
    def backward(ctx, *grads):
        gi, h0, c0, w_hh, b_hh, _ = ctx.saved_tensors
        inputs = (gi, h0, c0, w_hh, b_hh)
        wanted = [k for k, t in enumerate(inputs) if t is not None and ctx.needs_input_grad[k + 1]]
        with grad_mode.enable_grad():
            outs = composite_layer(ctx.mode, gi, h0, c0, w_hh, b_hh, ctx.reverse)
        got = _autograd_grad(outs, [inputs[k] for k in wanted], grads, create_graph=True, allow_unused=True)
        res = [None] * 7
        for k, g in zip(wanted, got):
            res[k + 1] = g
        return tuple(res)


def _prev(seq, first, t, reverse):
    """The state before step t: ``first`` at the first step, else the neighbouring step's output."""
    if reverse:
        return first if t == seq.shape[0] - 1 else seq[t + 1]
    return first if t == 0 else seq[t - 1]


def _all_prev(xp, seq, first, reverse):
    """(L, N, H): the state each step started from."""
    if reverse:
        return xp.concatenate([seq[1:], first[None]], 0)
    return xp.concatenate([first[None], seq[:-1]], 0)


def _check_layer(mode, gi, h0, c0, w_hh, b_hh):
    if mode not in MODES:
        raise ValueError(f"recurrent_layer: mode must be one of {MODES}, got {mode!r}")
    if gi.dim() != 3 or h0.dim() != 2:
        raise RuntimeError(f"recurrent_layer: expected gi (L, N, G*H) and h0 (N, H), got gi of shape "
                           f"{tuple(gi.shape)} and h0 of shape {tuple(h0.shape)}")
    n = h0.shape[-1]
    g = _GATES[mode] * n
    if tuple(gi.shape[1:]) != (h0.shape[0], g) or tuple(w_hh.shape) != (g, n) or (
            b_hh is not None and tuple(b_hh.shape) != (g,)):
        raise RuntimeError(
            f"recurrent_layer ({mode}): shapes do not agree: gi {tuple(gi.shape)}, h0 {tuple(h0.shape)}, "
            f"w_hh {tuple(w_hh.shape)}, b_hh {None if b_hh is None else tuple(b_hh.shape)}; expected gi (L, "
            f"{h0.shape[0]}, {g}), w_hh ({g}, {n}), b_hh ({g},)")
    if (mode == "LSTM") != (c0 is not None) or (c0 is not None and tuple(c0.shape) != tuple(h0.shape)):
        raise RuntimeError(f"recurrent_layer ({mode}): c0 must be given (shape {tuple(h0.shape)}) for LSTM "
                           f"and only for LSTM, got {None if c0 is None else tuple(c0.shape)}")
    tensors = [t for t in (gi, h0, c0, w_hh, b_hh) if t is not None]
    if len({t.dtype for t in tensors}) > 1:
        raise RuntimeError(
            f"recurrent_layer ({mode}): expected all tensors to have the same dtype, got gi {gi.dtype}, h0 "
            f"{h0.dtype}, w_hh {w_hh.dtype}" + ("" if c0 is None else f", c0 {c0.dtype}")
            + ("" if b_hh is None else f", b_hh {b_hh.dtype}"))


def recurrent_layer(mode, gi, h0, c0, w_hh, b_hh=None, reverse=False):
    """One recurrent layer in one direction over precomputed input projections.

    ``mode`` is "RNN_TANH", "RNN_RELU", "LSTM" or "GRU"; gi (L, N, G*H) is ``x W_ih^T + b_ih`` of every step;
    h0 and c0 (N, H) are the initial states (c0 only for LSTM, else None); w_hh (G*H, H), b_hh (G*H,).
    ``reverse`` runs the steps from L-1 down to 0. Returns ``(out (L, N, H), h_n)`` (LSTM: ``(out, h_n,
    c_n)``), equal to ``composite_layer`` with one graph node instead of several per step.
    """
    _check_layer(mode, gi, h0, c0, w_hh, b_hh)
    if gi.shape[0] == 0 or getattr(_function._tracer, "composite_only", False):
        # onnx.export's recorder is running: it maps the per-step ops, not this fused node
        return composite_layer(mode, gi, h0, c0, w_hh, b_hh, reverse)
    return RecurrentLayer.apply(mode, gi, h0, c0, w_hh, b_hh, bool(reverse))


def _rnn_step(mode, gi, h, w_hh, b_hh):
    pre = gi + linear(h, w_hh, b_hh)
    return tanh(pre) if mode == "RNN_TANH" else relu(pre)


def _lstm_step(gi, h, c, w_hh, b_hh):
    gates = gi + linear(h, w_hh, b_hh)
    n = h.shape[-1]
    i_f, g, o = split(gates, [2 * n, n, n], -1)
    i, f = split(sigmoid(i_f), n, -1)  # one sigmoid node over i and f together
    c = f * c + i * tanh(g)
    return sigmoid(o) * tanh(c), c


def _gru_step(gi, h, w_hh, b_hh):
    gh = linear(h, w_hh, b_hh)
    n = h.shape[-1]
    gi_rz, gi_n = split(gi, [2 * n, n], -1)
    gh_rz, gh_n = split(gh, [2 * n, n], -1)
    r, z = split(sigmoid(gi_rz + gh_rz), n, -1)
    cand = tanh(gi_n + r * gh_n)
    return cand + z * (h - cand)  # (1 - z) * cand + z * h with one op fewer


def composite_layer(mode, gi, h0, c0, w_hh, b_hh=None, reverse=False, mask=None):
    """``recurrent_layer`` written with differentiable tensor ops, step by step (the plain path).

    ``mask`` (L, N, 1) bool marks the valid steps of packed sequences: elsewhere the state is carried over
    unchanged, so the reverse direction starts at each sequence's own last step.
    """
    steps = gi.shape[0]
    h, c = h0, c0
    outs = [None] * steps
    gis = unbind(gi, 0)
    for t in _step_order(steps, reverse):
        if mode == "LSTM":
            h_new, c_new = _lstm_step(gis[t], h, c, w_hh, b_hh)
            c = c_new if mask is None else where(mask[t], c_new, c)
        elif mode == "GRU":
            h_new = _gru_step(gis[t], h, w_hh, b_hh)
        else:
            h_new = _rnn_step(mode, gis[t], h, w_hh, b_hh)
        h = h_new if mask is None else where(mask[t], h_new, h)
        outs[t] = h
    if steps == 0:
        out = gi.new_zeros((0, *h0.shape))
    else:
        out = stack(outs, 0)
    return (out, h, c) if mode == "LSTM" else (out, h)


def _cell_check(name, input, hx, w_ih, w_hh, gates):
    if not isinstance(input, Tensor) or not isinstance(hx, Tensor):
        raise TypeError(f"{name}(): expected Tensor input and hx, got {type(input).__name__} and {type(hx).__name__}")
    if input.dim() != 2 or hx.dim() != 2:
        raise RuntimeError(f"{name}: expected input (N, H_in) and hx (N, H), got shapes {tuple(input.shape)} "
                           f"and {tuple(hx.shape)}")
    if input.shape[0] != hx.shape[0]:
        raise RuntimeError(f"{name}: input batch {input.shape[0]} does not match hx batch {hx.shape[0]}")
    if tuple(w_ih.shape) != (gates * hx.shape[1], input.shape[1]):
        raise RuntimeError(f"{name}: w_ih of shape {tuple(w_ih.shape)} does not fit input {tuple(input.shape)} "
                           f"and hx {tuple(hx.shape)} (expected ({gates * hx.shape[1]}, {input.shape[1]}))")
    if tuple(w_hh.shape) != (gates * hx.shape[1], hx.shape[1]):
        raise RuntimeError(f"{name}: w_hh of shape {tuple(w_hh.shape)} does not fit hx {tuple(hx.shape)} "
                           f"(expected ({gates * hx.shape[1]}, {hx.shape[1]}))")
    if input.dtype != hx.dtype and not _autocast._local.on:
        raise RuntimeError(f"{name}: input and hidden tensors are not the same dtype, found input tensor with "
                           f"{input.dtype} and hidden tensor with {hx.dtype}")


def _one_step(mode, input, hx, cx, w_ih, w_hh, b_ih, b_hh):
    gi = linear(input, w_ih, b_ih).unsqueeze(0)
    if gi.dtype != hx.dtype:  # under autocast, as torch: the Elman cells run in the GEMMs' lower precision,
        if mode in ("GRU", "LSTM"):  # GRU and LSTM in the hidden state's dtype
            gi = gi.to(hx.dtype)
        else:
            hx, w_hh = hx.to(gi.dtype), w_hh.to(gi.dtype)
            b_hh = None if b_hh is None else b_hh.to(gi.dtype)
    return recurrent_layer(mode, gi, hx, cx, w_hh, b_hh)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman step ``tanh(input W_ih^T + b_ih + hx W_hh^T + b_hh)``: input (N, H_in), hx (N, H) -> (N, H)."""
    _cell_check("rnn_tanh_cell", input, hx, w_ih, w_hh, 1)
    return _one_step("RNN_TANH", input, hx, None, w_ih, w_hh, b_ih, b_hh)[1]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman step with relu: input (N, H_in), hx (N, H) -> (N, H)."""
    _cell_check("rnn_relu_cell", input, hx, w_ih, w_hh, 1)
    return _one_step("RNN_RELU", input, hx, None, w_ih, w_hh, b_ih, b_hh)[1]


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (gates r, z, n): input (N, H_in), hx (N, H) -> (N, H)."""
    _cell_check("gru_cell", input, hx, w_ih, w_hh, 3)
    return _one_step("GRU", input, hx, None, w_ih, w_hh, b_ih, b_hh)[1]


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step (gates i, f, g, o): input (N, H_in), hx = (h, c) each (N, H) -> (h', c')."""
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise RuntimeError(f"lstm_cell: hx must be a pair (h, c), got {type(hx).__name__}")
    h, c = hx
    _cell_check("lstm_cell", input, h, w_ih, w_hh, 4)
    if not isinstance(c, Tensor) or tuple(c.shape) != tuple(h.shape):
        raise RuntimeError(f"lstm_cell: c must be a tensor of h's shape {tuple(h.shape)}")
    _, h_new, c_new = _one_step("LSTM", input, h, c, w_ih, w_hh, b_ih, b_hh)
    return h_new, c_new
