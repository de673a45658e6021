"""Recurrent layers ``RNN``, ``LSTM``, ``GRU`` and their single-step cells.

Parameter names, shapes and gate orders are PyTorch's (``weight_ih_l0``, ``bias_hh_l1_reverse``;
LSTM gates i, f, g, o; GRU gates r, z, n), so a torch state_dict loads and reproduces its
outputs. The input projection of every step is one matmul up front; the time loop of one layer
direction is one fused autograd node (``ops.rnn.recurrent_layer``), or, for packed sequences, the
step-by-step tensor-op path (``ops.rnn.composite_layer``).
"""
from __future__ import annotations

import math

import numpy as np

from ... import creation
from ... import ops
from ...ops import rnn as _rnn
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence, _pack, pad_packed_sequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """Shared parameters and the multi-layer, bidirectional time loop of RNN, LSTM and GRU."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             f"element being zeroed, got {dropout!r}")
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"hidden_size must be an integer greater than zero, got {hidden_size!r}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"num_layers must be an integer greater than zero, got {num_layers!r}")
        if not isinstance(input_size, int) or isinstance(input_size, bool) or input_size <= 0:
            raise ValueError(f"input_size must be an integer greater than zero, got {input_size!r}")
        if not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError(f"proj_size should be a positive integer or zero to disable projections, got {proj_size!r}")
        if proj_size >= hidden_size:
            raise ValueError(f"proj_size has to be smaller than hidden_size (proj_size={proj_size}, "
                             f"hidden_size={hidden_size})")
        if proj_size != 0:
            raise NotImplementedError("tinytorch LSTM does not support proj_size > 0 yet")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        kw = {"device": device, "dtype": dtype}
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = "_reverse" if direction == 1 else ""
                names = [f"weight_ih_l{layer}{suffix}", f"weight_hh_l{layer}{suffix}"]
                shapes = [(gate_size, layer_in), (gate_size, hidden_size)]
                if bias:
                    names += [f"bias_ih_l{layer}{suffix}", f"bias_hh_l{layer}{suffix}"]
                    shapes += [(gate_size,), (gate_size,)]
                for name, shape in zip(names, shapes):
                    setattr(self, name, Parameter(creation.empty(shape, **kw)))
                self._flat_weights_names.extend(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        per = 4 if self.bias else 2
        w = self._flat_weights
        return [w[i:i + per] for i in range(0, len(w), per)]

    def flatten_parameters(self) -> None:
        """No-op (cuDNN weight packing does not apply)."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def _layer_params(self, layer, direction):
        suffix = "_reverse" if direction == 1 else ""
        w_ih = getattr(self, f"weight_ih_l{layer}{suffix}")
        w_hh = getattr(self, f"weight_hh_l{layer}{suffix}")
        b_ih = getattr(self, f"bias_ih_l{layer}{suffix}") if self.bias else None
        b_hh = getattr(self, f"bias_hh_l{layer}{suffix}") if self.bias else None
        return w_ih, w_hh, b_ih, b_hh

    def _run_direction(self, x, h, c, layer, direction, mask=None):
        """Run one layer in one direction over x (L, N, H_in); returns (outputs (L, N, H), h, c).

        ``mask`` (L, N, 1) marks the valid steps of packed sequences: elsewhere the state is carried over
        unchanged, so the reverse direction starts at each sequence's own last step.
        """
        w_ih, w_hh, b_ih, b_hh = self._layer_params(layer, direction)
        gi_all = F.linear(x, w_ih, b_ih)  # (L, N, G*H): every step's input projection at once
        if mask is None and gi_all.dtype == h.dtype == w_hh.dtype:  # else autocast mixed dtypes: per-step ops
            res = _rnn.recurrent_layer(self.mode, gi_all, h, c, w_hh, b_hh, direction == 1)
        else:
            res = _rnn.composite_layer(self.mode, gi_all, h, c, w_hh, b_hh, direction == 1, mask)
        return res if self.mode == "LSTM" else (*res, None)

    def _check_hidden(self, hx, expected, name):
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"Expected {name} size {expected}, got {tuple(hx.shape)}")

    def forward(self, input, hx=None):
        packed = isinstance(input, PackedSequence)
        mask = None
        if packed:
            packed_in = input
            input, lengths = pad_packed_sequence(packed_in)  # (T, B, *) in the caller's batch order
            lens = lengths.tolist()
            steps = np.arange(input.shape[0])[:, None, None] < np.asarray(lens)[None, :, None]
            mask = creation.tensor(steps, device=input.device)
        elif input.dim() not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.dim()}D instead")
        batched = input.dim() == 3
        is_lstm = self.mode == "LSTM"
        if not batched:
            input = input.unsqueeze(1)
            if hx is not None:
                hx = tuple(h.unsqueeze(1) for h in hx) if is_lstm else hx.unsqueeze(1)
        elif self.batch_first and not packed:
            input = input.transpose(0, 1)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.shape[-1]}")
        n = input.shape[1]
        directions = 2 if self.bidirectional else 1
        state_shape = (self.num_layers * directions, n, self.hidden_size)
        if hx is None:
            zeros = creation.zeros(state_shape, dtype=input.dtype, device=input.device)
            h0, c0 = zeros, (zeros if is_lstm else None)
        elif is_lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
            h0, c0 = hx
            self._check_hidden(h0, state_shape, "hidden[0]")
            self._check_hidden(c0, state_shape, "hidden[1]")
        else:
            h0, c0 = hx, None
            self._check_hidden(h0, state_shape, "hidden")

        x = input
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                k = layer * directions + direction
                out, h, c = self._run_direction(x, h0[k], c0[k] if is_lstm else None, layer, direction, mask)
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outs[0] if directions == 1 else ops.cat(outs, -1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        output = x
        h_n = ops.stack(h_n, 0)
        c_n = ops.stack(c_n, 0) if is_lstm else None
        if packed:
            order = (range(len(lens)) if packed_in.sorted_indices is None
                     else [int(i) for i in packed_in.sorted_indices.tolist()])
            output = _pack(output, lens, order, packed_in.sorted_indices)
        elif not batched:
            output = output.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if is_lstm else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (h_n, c_n)) if is_lstm else (output, h_n)


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.

    Input (L, N, H_in) (``batch_first``: (N, L, H_in)) or unbatched (L, H_in); returns
    ``(output (L, N, D*H), h_n (D*num_layers, N, H))``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, device=device, dtype=dtype)


class LSTM(RNNBase):
    """Long short-term memory; gates i, f, g, o stacked in that order in ``weight_ih_l*``.

    Returns ``(output, (h_n, c_n))`` with the shapes of ``RNN``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit; gates r, z, n stacked in that order. Returns ``(output, h_n)``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class _CellBase(Module):
    _gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        kw = {"device": device, "dtype": dtype}
        g = self._gates * hidden_size
        self.weight_ih = Parameter(creation.empty((g, input_size), **kw))
        self.weight_hh = Parameter(creation.empty((g, hidden_size), **kw))
        if bias:
            self.bias_ih = Parameter(creation.empty(g, **kw))
            self.bias_hh = Parameter(creation.empty(g, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, hx):
        if input.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            hx = creation.zeros((input.shape[0], self.hidden_size), dtype=input.dtype, device=input.device)
        elif not batched:
            hx = hx.unsqueeze(0)
        return input, hx, batched


class RNNCell(_CellBase):
    """One RNN step: (N, H_in), (N, H) -> (N, H)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, h, batched = self._prepare(input, hx)
        cell = _rnn.rnn_tanh_cell if self.nonlinearity == "tanh" else _rnn.rnn_relu_cell
        out = cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out if batched else out.squeeze(0)


class LSTMCell(_CellBase):
    """One LSTM step: input (N, H_in), (h, c) -> (h', c')."""

    _gates = 4

    def forward(self, input, hx=None):
        if hx is not None:
            h, c = hx
        x, h, batched = self._prepare(input, None if hx is None else hx[0])
        if hx is None:
            c = h
        elif not batched:
            c = c.unsqueeze(0)
        h, c = _rnn.lstm_cell(x, (h, c), self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(_CellBase):
    """One GRU step: (N, H_in), (N, H) -> (N, H)."""

    _gates = 3

    def forward(self, input, hx=None):
        x, h, batched = self._prepare(input, hx)
        out = _rnn.gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out if batched else out.squeeze(0)
