"""``MultiheadAttention`` with PyTorch's parameter layout (``in_proj_weight``, ``in_proj_bias``, ``out_proj``)."""
from __future__ import annotations

import math

from ... import _arrays
from ... import creation
from ... import ops
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .linear import NonDynamicallyQuantizableLinear
from .module import Module

__all__ = ["MultiheadAttention"]


def _additive_mask(mask: Tensor, dtype, name: str) -> Tensor:
    """A float mask to add to the scores: bool True -> -inf (not allowed), float masks as given."""
    if mask.dtype.name == "bool":
        # built with ops, not raw arrays, so that a traced forward (onnx.export) can follow the mask's size
        xp = _arrays.array_module(mask._data)
        return ops.masked_fill(Tensor._make(xp.zeros(mask._data.shape, dtype=dtype.np)), mask, -math.inf)
    if not mask.is_floating_point():
        raise TypeError(f"MultiheadAttention: only bool and floating types of {name} are supported, got {mask.dtype}")
    return mask.to(dtype=dtype)


class MultiheadAttention(Module):
    """Multi-head attention: softmax(Q K^T / sqrt(d)) V over ``num_heads`` heads of size embed_dim / num_heads.

    Inputs are (L, N, E) — or (N, L, E) with ``batch_first`` — or unbatched (L, E). ``forward``
    returns ``(attn_output, attn_weights)``; the weights are (N, L, S), averaged over heads
    unless ``average_attn_weights=False`` (then (N, num_heads, L, S)), or None when
    ``need_weights=False``.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} "
                             f"and num_heads={num_heads} instead")
        if embed_dim % num_heads != 0:  # torch asserts: scripts see AssertionError
            raise AssertionError(f"embed_dim must be divisible by num_heads (got embed_dim={embed_dim} and "
                                 f"num_heads={num_heads})")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout}")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        kw = {"device": device, "dtype": dtype}
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(creation.empty((embed_dim, embed_dim), **kw))
            self.k_proj_weight = Parameter(creation.empty((embed_dim, self.kdim), **kw))
            self.v_proj_weight = Parameter(creation.empty((embed_dim, self.vdim), **kw))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(creation.empty((3 * embed_dim, embed_dim), **kw))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(creation.empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = Parameter(creation.empty((1, 1, embed_dim), **kw))
            self.bias_v = Parameter(creation.empty((1, 1, embed_dim), **kw))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _projections(self, query, key, value):
        e = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[0:e], b[e:2 * e], b[2 * e:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            wq, wk, wv = w[0:e], w[e:2 * e], w[2 * e:]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True, attn_mask=None,
                average_attn_weights: bool = True, is_causal: bool = False):
        batched = query.dim() == 3
        if query.dim() not in (2, 3):
            raise ValueError(f"MultiheadAttention: query should be unbatched 2D or batched 3D tensor but received "
                             f"{query.dim()}-D query tensor (shape {tuple(query.shape)})")
        if key.dim() != query.dim() or value.dim() != query.dim():
            raise ValueError(f"MultiheadAttention: query, key and value must have the same number of dims, got "
                             f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
        # work batch first: (N, L, E)
        if not batched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        n, tgt_len, e = tuple(query.shape)
        # torch asserts both: scripts see AssertionError
        if e != self.embed_dim:
            raise AssertionError(f"MultiheadAttention: was expecting embedding dimension of {self.embed_dim}, but "
                                 f"got {e}")
        same = tuple(key.shape) == tuple(value.shape) if self._qkv_same_embed_dim else \
            tuple(key.shape)[:2] == tuple(value.shape)[:2]
        if not same:
            raise AssertionError(f"MultiheadAttention: key shape {tuple(key.shape)} does not match value shape "
                                 f"{tuple(value.shape)}")
        h, d = self.num_heads, self.head_dim

        q, k, v = self._projections(query, key, value)
        if self.bias_k is not None:
            k = ops.cat([k, self.bias_k.expand(n, 1, e)], 1)
            v = ops.cat([v, self.bias_v.expand(n, 1, e)], 1)
            if attn_mask is not None:
                attn_mask = F.pad(attn_mask, (0, 1))
            if key_padding_mask is not None:
                key_padding_mask = F.pad(key_padding_mask, (0, 1))
        if self.add_zero_attn:
            k = ops.cat([k, creation.zeros((n, 1, e), dtype=k.dtype, device=k.device)], 1)
            v = ops.cat([v, creation.zeros((n, 1, e), dtype=v.dtype, device=v.device)], 1)
            if attn_mask is not None:
                attn_mask = F.pad(attn_mask, (0, 1))
            if key_padding_mask is not None:
                key_padding_mask = F.pad(key_padding_mask, (0, 1))
        src_len = k.shape[1]

        # (N, L, E) -> (N, H, L, d)
        q = q.reshape(n, tgt_len, h, d).transpose(1, 2)
        k = k.reshape(n, src_len, h, d).transpose(1, 2)
        v = v.reshape(n, src_len, h, d).transpose(1, 2)
        scores = ops.matmul(q * (1.0 / math.sqrt(d)), k.transpose(-2, -1))

        if attn_mask is None and is_causal:
            ones = Tensor._make(_arrays.to_device(_arrays.np.ones((tgt_len, src_len), dtype=bool), scores.device))
            attn_mask = ops.triu(ones, 1)
        if attn_mask is not None:
            m = _additive_mask(attn_mask, scores.dtype, "attn_mask")
            if m.dim() == 2:
                if tuple(m.shape) != (tgt_len, src_len):
                    raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(m.shape)}, but should be {(tgt_len, src_len)}.")
            elif m.dim() == 3:
                if tuple(m.shape) != (n * h, tgt_len, src_len):
                    raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(m.shape)}, but should be "
                                       f"{(n * h, tgt_len, src_len)}.")
                m = m.reshape(n, h, tgt_len, src_len)
            else:
                raise RuntimeError(f"attn_mask's dimension {m.dim()} is not supported")
            scores = scores + m
        if key_padding_mask is not None:
            if tuple(key_padding_mask.shape) != (n, src_len):
                raise RuntimeError(f"expecting key_padding_mask shape of {(n, src_len)}, but got {tuple(key_padding_mask.shape)}")
            scores = scores + _additive_mask(key_padding_mask, scores.dtype, "key_padding_mask").reshape(n, 1, 1, src_len)

        weights = F.softmax(scores, -1)
        if self.dropout > 0.0 and self.training:
            weights = F.dropout(weights, p=self.dropout)
        out = ops.matmul(weights, v)  # (N, H, L, d)
        out = out.transpose(1, 2).reshape(n, tgt_len, e)
        out = self.out_proj(out)

        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.sum(1) * (1.0 / h)
        if not batched:
            weights = weights.squeeze(0)
        return out, weights
