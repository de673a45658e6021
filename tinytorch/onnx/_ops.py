"""From recorded tinytorch ops to ONNX nodes: one converter per op class, in ``CONVERTERS``.

A converter gets a ``NodeCtx`` (the record, its resolved inputs, the graph) and returns the ONNX names of
the op's outputs. Ops built from closures (``PiecewiseLinear``'s rule, the comparisons and arg-reductions
of ``_NonDiff``) are identified by the function's name and captured constants, or by probing it on a
tiny input.
"""
from __future__ import annotations

import math

import numpy as np

from .. import _arrays
from .errors import SymbolicValueError, UnsupportedOperatorError

__all__ = ["CONVERTERS", "NodeCtx", "index_arrays"]

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


def index_arrays(rec):
    """Raw NumPy arrays among a record's arguments that carry data (indices), not options."""
    name = rec.name
    if name == "EmbeddingLookup":
        return [rec.args[1]]
    if name == "GetItem":
        idx = rec.args[1] if isinstance(rec.args[1], tuple) else (rec.args[1],)
        return [i for i in idx if hasattr(i, "dtype") and hasattr(i, "shape") and not np.isscalar(i)]
    return []


class NodeCtx:
    """What a converter sees of one recorded op call."""

    def __init__(self, g, rec, rec2, ins, dyn_out, env):
        self.g, self.rec, self.rec2, self.ins, self.dyn_out, self.env = g, rec, rec2, ins, dyn_out, env
        self.args = rec.args
        self.opset = g.opset

    # ---- inputs and outputs
    def v(self, i):
        """ONNX name of tensor argument ``i``."""
        return self.g.name_of(self.ins[i])

    def vs(self, i):
        return [self.g.name_of(v) for v in self.ins[i]]

    def shape(self, i):
        return tuple(self.rec.in_arrays[i].shape)

    def dtype(self, i):
        return self.rec.in_arrays[i].dtype

    def dyn(self, i):
        return self.ins[i].dyn

    def out_shape(self, j=0):
        return tuple(self.rec.out_arrays[j].shape)

    def out_dtype(self, j=0):
        return self.rec.out_arrays[j].dtype

    def differs(self, i):
        """Whether Python argument ``i`` changed between the two traces (it depends on a dynamic axis)."""
        if self.rec2 is None:
            return False
        return not _equal(self.args[i], self.rec2.args[i])

    def array(self, a):
        """ONNX name of a raw array argument: a traced value, or a constant."""
        v = self.env.lookup(a)
        if v is not None:
            return self.g.name_of(v)
        return self.g.initializer(_arrays.as_numpy(a), "onnx::Constant")

    def array_dyn(self, a):
        v = self.env.lookup(a)
        return v.dyn if v is not None else frozenset()

    # ---- building
    def node(self, op_type, inputs, n_out=1, **attrs):
        return self.g.node(op_type, inputs, n_out, **attrs)

    def const(self, data, dtype=None):
        return self.g.const(data, self.out_dtype() if dtype is None else dtype)

    def int64s(self, values):
        return self.g.int64s(values)

    def cast(self, name, src_dtype, dst_dtype):
        if np.dtype(src_dtype) == np.dtype(dst_dtype):
            return name
        return self.node("Cast", [name], to=_onnx_type(self.g.onnx, dst_dtype))

    def reduce(self, op, x, axes, keepdims):
        """A Reduce* node; axes as an input (ReduceSum from opset 13, the others from 18) or attribute."""
        k = int(bool(keepdims))
        if axes is None:
            return self.node(op, [x], keepdims=k)
        axes = [int(a) for a in axes]
        if op == "ReduceSum" or self.opset >= 18:
            return self.node(op, [x, self.int64s(axes)], keepdims=k)
        return self.node(op, [x], axes=axes, keepdims=k)

    def unsqueeze(self, x, axes):
        return self.node("Unsqueeze", [x, self.int64s(axes)])

    def squeeze(self, x, axes):
        return self.node("Squeeze", [x, self.int64s(axes)])

    def fail(self, detail):
        raise UnsupportedOperatorError(self.rec.name, self.opset, detail)

    def describe(self):
        shapes = [tuple(a.shape) if not isinstance(a, list) else [tuple(x.shape) for x in a]
                  for a in self.rec.in_arrays if a is not None]
        return f"inputs of shape {shapes}"


def _equal(a, b):
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if hasattr(a, "shape") and hasattr(b, "shape") and not np.isscalar(a):
        a, b = _arrays.as_numpy(a), _arrays.as_numpy(b)
        return a.shape == b.shape and bool(np.array_equal(a, b))
    if hasattr(a, "_data") and hasattr(b, "_data"):
        return _equal(a._data, b._data)
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def _onnx_type(onnx, dtype):
    return onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


# ---- elementwise ------------------------------------------------------------------------------------------
def _unary(op_type):
    def convert(n):
        return n.node(op_type, [n.v(0)])
    return convert


def _binary(op_type):
    def convert(n):
        out_dt = n.out_dtype()
        a = n.cast(n.v(0), n.dtype(0), out_dt)
        b = n.cast(n.v(1), n.dtype(1), out_dt)
        return n.node(op_type, [a, b])
    return convert


def _div(n):
    out_dt = n.out_dtype()
    return n.node("Div", [n.cast(n.v(0), n.dtype(0), out_dt), n.cast(n.v(1), n.dtype(1), out_dt)])


def _rsqrt(n):
    return n.node("Reciprocal", [n.node("Sqrt", [n.v(0)])])


def _log1p(n):
    return n.node("Log", [n.node("Add", [n.v(0), n.const(1.0)])])


def _expm1(n):
    return n.node("Sub", [n.node("Exp", [n.v(0)]), n.const(1.0)])


def _exp2(n):
    return n.node("Pow", [n.const(2.0), n.v(0)])


def _erfc(n):
    return n.node("Sub", [n.const(1.0), n.node("Erf", [n.v(0)])])


def _log_base(ln_base):
    return lambda n: n.node("Div", [n.node("Log", [n.v(0)]), n.const(ln_base)])


def _pow_scalar(n):
    return n.node("Pow", [n.v(0), n.const(n.args[1])])


def _scalar_pow(n):
    return n.node("Pow", [n.const(n.args[0]), n.v(1)])


def _remainder(n):
    out_dt = n.out_dtype()
    a, b = n.cast(n.v(0), n.dtype(0), out_dt), n.cast(n.v(1), n.dtype(1), out_dt)
    if np.dtype(out_dt).kind in "iu":
        return n.node("Mod", [a, b], fmod=0)
    # Python's remainder (sign of the divisor): a - floor(a / b) * b
    return n.node("Sub", [a, n.node("Mul", [n.node("Floor", [n.node("Div", [a, b])]), b])])


def _fmod(n):
    out_dt = n.out_dtype()
    a, b = n.cast(n.v(0), n.dtype(0), out_dt), n.cast(n.v(1), n.dtype(1), out_dt)
    return n.node("Mod", [a, b], fmod=1)


def _where(n):
    out_dt = n.out_dtype()
    return n.node("Where", [n.v(0), n.cast(n.v(1), n.dtype(1), out_dt), n.cast(n.v(2), n.dtype(2), out_dt)])


def _masked_fill(n):
    out_dt = n.out_dtype()
    value = n.args[2]
    fill = n.cast(n.v(2), n.dtype(2), out_dt) if n.ins[2] is not None else n.const(value)
    return n.node("Where", [n.v(1), fill, n.v(0)])


def _clamp(n):
    out_dt = n.out_dtype()
    y = n.cast(n.v(0), n.dtype(0), out_dt)
    if n.ins[1] is not None:
        y = n.node("Max", [y, n.cast(n.v(1), n.dtype(1), out_dt)])
    elif n.args[1] is not None:
        y = n.node("Max", [y, n.const(n.args[1])])
    if n.ins[2] is not None:
        y = n.node("Min", [y, n.cast(n.v(2), n.dtype(2), out_dt)])
    elif n.args[2] is not None:
        y = n.node("Min", [y, n.const(n.args[2])])
    return y


def _select(n):
    kind = n.args[2]
    op = {"maximum": "Max", "minimum": "Min"}.get(kind)
    if op is None:
        n.fail(f"{kind} (NaN-ignoring max/min) has no ONNX counterpart")
    out_dt = n.out_dtype()
    return n.node(op, [n.cast(n.v(0), n.dtype(0), out_dt), n.cast(n.v(1), n.dtype(1), out_dt)])


def _nan_to_num(n):
    x = n.v(0)
    nan, posinf, neginf = n.args[1], n.args[2], n.args[3]
    dt = n.out_dtype()
    finfo = np.finfo(dt)
    posinf = finfo.max if posinf is None else posinf
    neginf = finfo.min if neginf is None else neginf
    y = n.node("Where", [n.node("IsNaN", [x]), n.const(0.0 if nan is None else nan), x])
    y = n.node("Where", [n.node("IsInf", [y], detect_negative=0), n.const(posinf), y])
    return n.node("Where", [n.node("IsInf", [y], detect_positive=0), n.const(neginf), y])


# _ZeroGrad's functions (rounding, sign, and its subclasses Floor, Round ...): recognised by their values on a probe
_ZERO_GRAD_PROBE = np.array([-2.5, -1.5, -0.7, 0.0, 0.3, 0.5, 1.5, 2.7])
_ZERO_GRAD_OPS = {"Floor": np.floor, "Ceil": np.ceil, "Round": np.round, "Sign": np.sign}


def _zero_grad(n):
    fn = n.args[0]
    tensors = [i for i in range(1, len(n.args)) if n.ins[i] is not None]
    if len(tensors) == 1:
        got = _probe(fn, _ZERO_GRAD_PROBE.astype(n.dtype(1)))
        if got is not None:
            for op, ref in _ZERO_GRAD_OPS.items():
                if got.shape == _ZERO_GRAD_PROBE.shape and np.array_equal(got, ref(_ZERO_GRAD_PROBE.astype(n.dtype(1)))):
                    return n.node(op, [n.v(1)])
            trunc = np.trunc(_ZERO_GRAD_PROBE)
            if got.shape == trunc.shape and np.array_equal(got, trunc):  # trunc = sign(x) * floor(|x|)
                x = n.v(1)
                return n.node("Mul", [n.node("Sign", [x]), n.node("Floor", [n.node("Abs", [x])])])
    if len(tensors) == 2 and np.dtype(n.out_dtype()).kind == "f":
        a, b = np.array([7.0, -7.0, 7.5, -7.5]), np.array([2.0, 2.0, -2.0, -2.0])
        got = _probe(fn, a.astype(n.dtype(1)), b.astype(n.dtype(2)))
        if got is not None and np.array_equal(got, np.floor_divide(a, b)):
            out_dt = n.out_dtype()
            return n.node("Floor", [n.node("Div", [n.cast(n.v(1), n.dtype(1), out_dt),
                                                   n.cast(n.v(2), n.dtype(2), out_dt)])])
    n.fail(f"the piecewise-constant op {fn.__qualname__!r} (not floor/ceil/round/trunc/sign/floor_divide of floats)")


def _roll(n):
    x = n.v(0)
    shape = n.shape(0)
    for shift, dim in zip(n.args[1], n.args[2]):
        if dim in n.dyn(0):
            raise SymbolicValueError("onnx.export: roll along a dynamic axis")
        size = shape[dim]
        k = int(shift) % size if size else 0
        if k == 0:
            continue
        head = n.node("Slice", [x, n.int64s([size - k]), n.int64s([size]), n.int64s([dim])])
        tail = n.node("Slice", [x, n.int64s([0]), n.int64s([size - k]), n.int64s([dim])])
        x = n.node("Concat", [head, tail], axis=dim)
    return x if x != n.v(0) else n.node("Identity", [x])


def _identity(n):
    return n.ins[0]  # the same value: no node


def _write_into(n):
    return n.ins[1]  # an in-place op's result written into its tensor: that tensor's value from here on


def _to_dtype(n):
    return n.cast(n.v(0), n.dtype(0), n.out_dtype())


# ---- activations -------------------------------------------------------------------------------------------
def _gelu(n):
    x = n.v(0)
    if n.opset >= 20:
        return n.node("Gelu", [x])
    cdf = n.node("Mul", [n.node("Add", [n.node("Erf", [n.node("Div", [x, n.const(math.sqrt(2.0))])]),
                                        n.const(1.0)]), n.const(0.5)])
    return n.node("Mul", [x, cdf])


def _normal_cdf(n):
    x = n.v(0)
    return n.node("Mul", [n.node("Add", [n.node("Erf", [n.node("Div", [x, n.const(math.sqrt(2.0))])]),
                                         n.const(1.0)]), n.const(0.5)])


def _elu_family(n):
    x = n.v(0)
    alpha, scale, input_scale = (float(a) for a in n.args[1:4])
    if input_scale == 1.0 and scale != 1.0:
        return n.node("Selu", [x], alpha=alpha, gamma=scale)
    if scale == 1.0 and input_scale == 1.0:
        return n.node("Elu", [x], alpha=alpha)
    if scale == 1.0 and math.isclose(input_scale * alpha, 1.0):
        return n.node("Celu", [x], alpha=alpha)
    # general: scale * (x > 0 ? x : alpha * (exp(input_scale * x) - 1))
    neg = n.node("Mul", [n.node("Sub", [n.node("Exp", [n.node("Mul", [x, n.const(input_scale)])]), n.const(1.0)]),
                         n.const(alpha)])
    y = n.node("Where", [n.node("Greater", [x, n.const(0.0)]), x, neg])
    return n.node("Mul", [y, n.const(scale)])


def _softplus(n):
    x = n.v(0)
    beta, threshold = float(n.args[1]), float(n.args[2])
    bx = x if beta == 1.0 else n.node("Mul", [x, n.const(beta)])
    sp = n.node("Softplus", [bx])
    if beta != 1.0:
        sp = n.node("Div", [sp, n.const(beta)])
    return n.node("Where", [n.node("Greater", [bx, n.const(threshold)]), x, sp])


def _log_sigmoid(n):
    return n.node("Neg", [n.node("Softplus", [n.node("Neg", [n.v(0)])])])


def _hardswish(n):
    if n.opset >= 14:
        return n.node("HardSwish", [n.v(0)])
    x = n.v(0)
    return n.node("Mul", [x, n.node("HardSigmoid", [x], alpha=1.0 / 6, beta=0.5)])


def _closure(fn):
    cells = fn.__closure__ or ()
    return {name: cell.cell_contents for name, cell in zip(fn.__code__.co_freevars, cells)}


def _piecewise_linear(n):
    rule = n.args[1]
    kind = rule.__qualname__.split(".")[0]
    c = _closure(rule)
    x = n.v(0)
    if kind == "hardtanh":
        return n.node("Clip", [x, n.const(c["lo"]), n.const(c["hi"])])
    if kind == "leaky_relu":
        return n.node("LeakyRelu", [x], alpha=float(c["s"]))
    if kind == "threshold":
        return n.node("Where", [n.node("Greater", [x, n.const(c["th"])]), x, n.const(c["val"])])
    if kind == "hardsigmoid":
        return n.node("HardSigmoid", [x], alpha=1.0 / 6, beta=0.5)
    if kind == "softshrink":
        return n.node("Shrink", [x], lambd=float(c["lam"]), bias=float(c["lam"]))
    if kind == "hardshrink":
        return n.node("Shrink", [x], lambd=float(c["lam"]), bias=0.0)
    n.fail(f"the piecewise-linear activation {kind!r} (e.g. rrelu in training mode) has no ONNX mapping")


def _scale_by_mask(n):
    n.fail("dropout in training mode draws a random mask; export the model in eval mode "
           "(training=TrainingMode.EVAL, the default)")


# ---- linear algebra ------------------------------------------------------------------------------------
def _linear(n):
    x, w = n.v(0), n.v(1)
    has_b = n.ins[2] is not None
    if len(n.shape(1)) != 2:
        n.fail(f"weight of shape {n.shape(1)} (expected 2-D)")
    if len(n.shape(0)) == 2:
        return n.node("Gemm", [x, w] + ([n.v(2)] if has_b else []), transB=1)
    y = n.node("MatMul", [x, n.node("Transpose", [w], perm=[1, 0])])
    return n.node("Add", [y, n.v(2)]) if has_b else y


def _matmul(n):
    return n.node("MatMul", [n.v(0), n.v(1)])


def _einsum(n):
    specs, out_spec = n.args[1], n.args[2]
    eq = ",".join(specs) + "->" + out_spec
    return n.node("Einsum", n.vs(0), equation=eq)


# ---- convolution and pooling ---------------------------------------------------------------------------
def _pads2(padding):
    """ONNX pads [top, left, bottom, right] from tinytorch's per-dim padding (ints or (lo, hi) pairs)."""
    lo, hi = [], []
    for p in padding:
        if isinstance(p, (list, tuple)):
            lo.append(int(p[0]))
            hi.append(int(p[1]))
        else:
            lo.append(int(p))
            hi.append(int(p))
    return lo + hi


def _conv2d(n):
    x, w = n.v(0), n.v(1)
    stride, padding, dilation, groups = n.args[3], n.args[4], n.args[5], n.args[6]
    kernel = n.shape(1)[2:]
    inputs = [x, w] + ([n.v(2)] if n.ins[2] is not None else [])
    return n.node("Conv", inputs, kernel_shape=list(kernel), strides=[int(s) for s in stride],
                  pads=_pads2(padding), dilations=[int(d) for d in dilation], group=int(groups))


def _conv_transpose2d(n):
    g, w = n.v(0), n.v(1)
    stride, padding, dilation, groups, out_size = n.args[3:8]
    kernel = n.shape(1)[2:]
    pads = _pads2(padding)
    in_size = n.shape(0)[2:]
    out_pad = []
    for d in range(2):
        full = (in_size[d] - 1) * stride[d] + dilation[d] * (kernel[d] - 1) + 1 - pads[d] - pads[d + 2]
        out_pad.append(int(out_size[d]) - full)
    inputs = [g, w] + ([n.v(2)] if n.ins[2] is not None else [])
    return n.node("ConvTranspose", inputs, kernel_shape=list(kernel), strides=[int(s) for s in stride],
                  pads=pads, dilations=[int(d) for d in dilation], group=int(groups), output_padding=out_pad)


def _pool_pads(n, kernel, stride, dilation, pads, out_size, in_size):
    """ONNX pads with the end padding grown so floor-mode output sizes equal tinytorch's (ceil_mode)."""
    lo = [int(p[0]) for p in pads]
    hi = [int(p[1]) for p in pads]
    for d in range(2):
        need = (int(out_size[d]) - 1) * stride[d] + dilation[d] * (kernel[d] - 1) + 1 - in_size[d] - lo[d]
        hi[d] = max(hi[d], need)
    if any(n.dyn(0) & {2, 3}) and hi != [int(p[1]) for p in pads]:
        raise SymbolicValueError(f"onnx.export: {n.rec.name} with ceil_mode on a dynamic spatial axis")
    return lo + hi


def _max_pool2d(n):
    kernel, stride, dilation, out_size, pads, with_indices = n.args[1:7]
    if with_indices:
        n.fail("max pooling with return_indices=True (ONNX's indices count differently)")
    in_size = n.shape(0)[2:]
    return n.node("MaxPool", [n.v(0)], kernel_shape=[int(k) for k in kernel], strides=[int(s) for s in stride],
                  dilations=[int(d) for d in dilation],
                  pads=_pool_pads(n, kernel, stride, dilation, pads, out_size, in_size))


def _avg_pool2d(n):
    kernel, stride, out_size, pads, inv = n.args[1:6]
    in_size = n.shape(0)[2:]
    onnx_pads = _pool_pads(n, kernel, stride, (1, 1), pads, out_size, in_size)
    area = float(kernel[0] * kernel[1])
    y = n.node("AveragePool", [n.v(0)], kernel_shape=[int(k) for k in kernel], strides=[int(s) for s in stride],
               pads=onnx_pads, count_include_pad=1)
    inv = _arrays.as_numpy(inv)
    if np.allclose(inv, 1.0 / area, rtol=1e-12, atol=0):
        return y
    if n.dyn(0) & {2, 3}:
        raise SymbolicValueError("onnx.export: avg_pool2d with count_include_pad=False, ceil_mode or "
                                 "divisor_override on a dynamic spatial axis")
    # tinytorch divides each window's zero-padded sum by its own count: rescale the uniform average
    return n.node("Mul", [y, n.const(inv * area)])


def _separable(n):
    a, b = (None if m is None else _arrays.as_numpy(m) for m in n.args[1:3])
    x = n.v(0)
    nd = len(n.shape(0))
    if a is not None and b is not None and a.shape[0] == 1 and b.shape[0] == 1 \
            and np.allclose(a, 1.0 / a.shape[1]) and np.allclose(b, 1.0 / b.shape[1]) and nd == 4:
        return n.node("GlobalAveragePool", [x])  # adaptive_avg_pool2d to 1x1: any spatial size
    if a is None and b is not None and b.shape[0] == 1 and np.allclose(b, 1.0 / b.shape[1]):
        return n.reduce("ReduceMean", x, [nd - 1], True)
    if n.dyn(0) & {nd - 1, nd - 2}:
        raise SymbolicValueError("onnx.export: adaptive pooling to a size other than 1 on a dynamic spatial axis")
    dt = n.out_dtype()
    if a is not None:
        x = n.node("MatMul", [n.const(a, dt), x])
    if b is not None:
        x = n.node("MatMul", [x, n.const(b.T, dt)])
    return x


def _axis_taps(n):
    """Resampling along one axis (interpolate, reflect/replicate/circular padding): a Gather per tap,
    weighted and summed, exactly as tinytorch computes it."""
    axis, idx, w = n.args[1], n.args[2], n.args[3]
    nd = len(n.shape(0))
    axis %= nd
    if axis in n.dyn(0):
        raise SymbolicValueError("onnx.export: interpolation or reflect/replicate padding along a dynamic axis")
    dt = n.out_dtype()
    shape = (-1,) + (1,) * (nd - axis - 1)
    out = None
    for t, i in enumerate(idx):
        v = n.node("Gather", [n.v(0), n.const(_arrays.as_numpy(i), np.int64)], axis=axis)
        if w is not None:
            v = n.node("Mul", [v, n.const(_arrays.as_numpy(w[t]).reshape(shape), dt)])
        out = v if out is None else n.node("Add", [out, v])
    return out


def _adaptive_max_pool2d(n):
    out_size, with_indices = n.args[1], n.args[2]
    if with_indices or tuple(out_size) != (1, 1):
        n.fail(f"adaptive max pooling to {tuple(out_size)} (only output size 1 without indices maps to ONNX)")
    return n.node("GlobalMaxPool", [n.v(0)])


def _constant_pad(n):
    pads, value = n.args[1], n.args[2]
    nd = len(n.shape(0))
    lead = nd - len(pads)
    begins = [0] * lead + [int(p[0]) for p in pads]
    ends = [0] * lead + [int(p[1]) for p in pads]
    return n.node("Pad", [n.v(0), n.int64s(begins + ends), n.const(value)], mode="constant")


# ---- normalisation and embedding ----------------------------------------------------------------------
def _standardize(n):
    x = n.v(0)
    axes, eps = [int(a) for a in n.args[3]], float(n.args[4])
    stats = n.args[5] if len(n.args) > 5 else n.rec.kwargs.get("stats")
    nd = len(n.shape(0))
    axes = sorted(a % nd for a in axes)
    if stats is not None:
        # instance norm, or batch norm in training mode: the statistics are the input's own over ``axes``,
        # which the graph computes itself; anything else (e.g. statistics from elsewhere) cannot be expressed
        a = _arrays.as_numpy(n.rec.in_arrays[0]).astype(np.float64)
        mean, var = (_arrays.as_numpy(m) for m in stats)
        if not (np.allclose(mean, a.mean(axis=tuple(axes), keepdims=True), rtol=1e-4, atol=1e-6)
                and np.allclose(var, a.var(axis=tuple(axes), keepdims=True), rtol=1e-4, atol=1e-6)):
            n.fail("normalization with statistics that are not the input's own")
    w, b = n.ins[1], n.ins[2]
    norm_shape = n.shape(0)[axes[0]:]
    trailing = axes == list(range(axes[0], nd))
    w_ok = w is None or tuple(w.shape) == norm_shape
    b_ok = b is None or tuple(b.shape) == norm_shape
    if n.opset >= 17 and trailing and w_ok and b_ok and not (n.dyn(0) & set(axes)):
        scale = n.v(1) if w is not None else n.const(np.ones(norm_shape))
        inputs = [x, scale] + ([n.v(2)] if b is not None else [])
        return n.node("LayerNormalization", inputs, axis=axes[0], epsilon=eps)
    mean = n.reduce("ReduceMean", x, axes, True)
    xc = n.node("Sub", [x, mean])
    var = n.reduce("ReduceMean", n.node("Mul", [xc, xc]), axes, True)
    y = n.node("Mul", [xc, n.node("Reciprocal", [n.node("Sqrt", [n.node("Add", [var, n.const(eps)])])])])
    if w is not None:
        y = n.node("Mul", [y, n.v(1)])
    if b is not None:
        y = n.node("Add", [y, n.v(2)])
    return y


def _embedding(n):
    idx = n.args[1]
    return n.node("Gather", [n.v(0), n.array(idx)], axis=0)


# ---- reductions ----------------------------------------------------------------------------------------
def _axes(axes, nd):
    if axes is None:
        return list(range(nd))
    if isinstance(axes, int):
        return [axes]
    return [int(a) for a in axes]


def _sum(n):
    x = n.cast(n.v(0), n.dtype(0), n.out_dtype())
    return n.reduce("ReduceSum", x, _axes(n.args[1], len(n.shape(0))), n.args[2])


def _mean(n):
    return n.reduce("ReduceMean", n.v(0), _axes(n.args[1], len(n.shape(0))), n.args[2])


def _prod(n):
    x = n.cast(n.v(0), n.dtype(0), n.out_dtype())
    return n.reduce("ReduceProd", x, _axes(n.args[1], len(n.shape(0))), n.args[2])


def _extreme(n):
    op = "ReduceMax" if n.args[3] else "ReduceMin"
    return n.reduce(op, n.v(0), _axes(n.args[1], len(n.shape(0))), n.args[2])


def _extreme_dim(n):
    axis, keepdim, largest = int(n.args[1]), bool(n.args[2]), bool(n.args[3])
    x = n.v(0)
    values = n.reduce("ReduceMax" if largest else "ReduceMin", x, [axis], keepdim)
    # torch returns the first index of the extreme value, as ArgMax/ArgMin with select_last_index=0
    indices = n.node("ArgMax" if largest else "ArgMin", [x], axis=axis, keepdims=int(keepdim))
    return [values, indices]


def _norm2(n):
    return n.reduce("ReduceL2", n.v(0), _axes(n.args[1], len(n.shape(0))), n.args[2])


def _logsumexp(n):
    return n.reduce("ReduceLogSumExp", n.v(0), _axes(n.args[1], len(n.shape(0))), n.args[2])


def _cumsum(n):
    x = n.cast(n.v(0), n.dtype(0), n.out_dtype())
    return n.node("CumSum", [x, n.const(int(n.args[1]), np.int64)])


def _softmax(n):
    return n.node("Softmax", [n.v(0)], axis=int(n.args[1]))


def _log_softmax(n):
    return n.node("LogSoftmax", [n.v(0)], axis=int(n.args[1]))


def _probe(fn, *arrays):
    try:
        return np.asarray(fn(np, *arrays))
    except Exception:  # noqa: BLE001 - a function we cannot probe is simply not recognised
        return None


_COMPARE_PATTERNS = {(False, True, False): "Equal", (True, False, True): "Not-Equal", (True, False, False): "Less",
                     (True, True, False): "LessOrEqual", (False, False, True): "Greater",
                     (False, True, True): "GreaterOrEqual"}
_LOGIC_PATTERNS = {(False, False, False, True): "And", (False, True, True, True): "Or",
                   (False, True, True, False): "Xor"}


def _non_diff(n):
    fn = n.args[0]
    c = _closure(fn)
    qual = fn.__qualname__
    tensors = [i for i in range(1, len(n.args)) if n.ins[i] is not None]
    if qual.startswith("_arg_extreme"):
        largest = c.get("largest")
        if "axis" not in c:  # over all elements: flatten first
            flat = n.node("Reshape", [n.v(1), n.int64s([-1])])
            keep = bool(c.get("keepdim"))
            y = n.node("ArgMax" if largest else "ArgMin", [flat], axis=0, keepdims=0)
            return n.node("Reshape", [y, n.int64s([1] * len(n.shape(1)) if keep else [])])
        return n.node("ArgMax" if largest else "ArgMin", [n.v(1)], axis=int(c["axis"]), keepdims=int(bool(
            c.get("keepdim"))))
    if qual.startswith("_bool_reduce"):
        method, axes, keep = c.get("method"), c.get("axes"), bool(c.get("keepdim"))
        nz = n.node("Cast", [n.node("Not", [n.node("Equal", [n.v(1), n.const(0, n.dtype(1))])])],
                    to=_onnx_type(n.g.onnx, np.int32))
        if axes is not None and len(axes) == 0:  # no axes: elementwise "is non-zero"
            return n.node("Cast", [nz], to=_onnx_type(n.g.onnx, np.bool_))
        red = n.reduce("ReduceMax" if method == "any" else "ReduceMin", nz,
                       list(range(len(n.shape(1)))) if axes is None else list(axes), keep)
        return n.node("Cast", [red], to=_onnx_type(n.g.onnx, np.bool_))
    if len(tensors) == 2 and n.out_dtype() == np.bool_:
        if n.dtype(1) == np.bool_ and n.dtype(2) == np.bool_:
            got = _probe(fn, np.array([False, False, True, True]), np.array([False, True, False, True]))
            op = _LOGIC_PATTERNS.get(tuple(got.tolist())) if got is not None and got.shape == (4,) else None
        else:
            dt = n.dtype(1)
            got = _probe(fn, np.array([0, 1, 2], dtype=dt), np.array([1, 1, 1], dtype=dt))
            op = _COMPARE_PATTERNS.get(tuple(got.tolist())) if got is not None and got.shape == (3,) else None
        if op == "Not-Equal":
            return n.node("Not", [n.node("Equal", [n.v(1), n.v(2)])])
        if op is not None:
            return n.node(op, [n.v(1), n.v(2)])
    if len(tensors) == 1 and n.out_dtype() == np.bool_ and n.dtype(1) == np.bool_:
        got = _probe(fn, np.array([False, True]))
        if got is not None and got.tolist() == [True, False]:
            return n.node("Not", [n.v(1)])
    n.fail(f"the non-differentiable op {qual!r} (a comparison, logic or index op tinytorch.onnx does not "
           "recognise)")


# ---- shapes ------------------------------------------------------------------------------------------
def _reshape(n):
    out = n.out_shape()
    dyn_out = n.dyn_out[0]
    in_shape, dyn_in = n.shape(0), n.dyn(0)
    target = list(out)
    if dyn_out or dyn_in:
        in2 = n.rec2.in_arrays[0].shape
        out2 = n.rec2.out_arrays[0].shape
        unresolved = []
        for j in sorted(dyn_out):
            if j < len(in_shape) and j in dyn_in and in_shape[j] == out[j] and in2[j] == out2[j]:
                target[j] = 0  # copy that dim from the input: it follows the same dynamic axis
            else:
                unresolved.append(j)
        if len(unresolved) > 1:  # sizes taken from the inputs' shapes, one -1 at most
            pieces, free = [], None
            for j, d in enumerate(target):
                dim = n.env.dim(out[j], out2[j]) if j in unresolved else None
                if j in unresolved and dim is None:
                    if free is not None:
                        raise SymbolicValueError(
                            f"onnx.export: reshape from {in_shape} to {out}: dims {sorted(unresolved)} follow "
                            "dynamic axes in a way the graph cannot express")
                    free = j
                pieces.append(dim if dim is not None else n.int64s([-1 if j == free else d]))
            return n.node("Reshape", [n.v(0), n.node("Concat", pieces, axis=0)])
        if unresolved:
            target[unresolved[0]] = -1
    return n.node("Reshape", [n.v(0), n.int64s(target)])


def _expand(n):
    out = n.out_shape()
    in_shape, dyn_in = n.shape(0), n.dyn(0)
    target = list(out)
    lead = len(out) - len(in_shape)
    for j in n.dyn_out[0]:
        k = j - lead
        if k >= 0 and k in dyn_in:
            target[j] = 1  # broadcasting keeps the input's (dynamic) size
        else:
            raise SymbolicValueError(f"onnx.export: expand of {in_shape} to {out}: dim {j} grows to a size that "
                                     "depends on a dynamic axis")
    return n.node("Expand", [n.v(0), n.int64s(target)])


def _permute(n):
    return n.node("Transpose", [n.v(0)], perm=[int(d) for d in n.args[1]])


def _cat(n):
    out_dt = n.out_dtype()
    names = [n.cast(name, a.dtype, out_dt) for name, a in zip(n.vs(0), n.rec.in_arrays[0])]
    return n.node("Concat", names, axis=int(n.args[1]) % len(n.out_shape()))


def _stack(n):
    axis = int(n.args[1]) % len(n.out_shape())
    out_dt = n.out_dtype()
    names = [n.unsqueeze(n.cast(name, a.dtype, out_dt), [axis]) for name, a in zip(n.vs(0), n.rec.in_arrays[0])]
    return n.node("Concat", names, axis=axis)


def _split(n):
    sizes, dim = [int(s) for s in n.args[1]], int(n.args[2]) % len(n.shape(0))
    if dim in n.dyn(0):
        raise SymbolicValueError("onnx.export: split/chunk along a dynamic axis")
    if len(sizes) == 1:
        return [n.node("Identity", [n.v(0)])]
    return n.node("Split", [n.v(0), n.int64s(sizes)], n_out=len(sizes), axis=dim)


def _unbind(n):
    dim = int(n.args[1]) % len(n.shape(0))
    if dim in n.dyn(0):
        raise SymbolicValueError("onnx.export: unbind along a dynamic axis")
    count = n.shape(0)[dim]
    parts = [n.v(0)] if count == 1 else n.node("Split", [n.v(0), n.int64s([1] * count)], n_out=count, axis=dim)
    return [n.squeeze(p, [dim]) for p in parts]


def _flip(n):
    dims = [int(d) for d in n.args[1]]
    k = len(dims)
    return n.node("Slice", [n.v(0), n.int64s([-1] * k), n.int64s([INT64_MIN] * k), n.int64s(dims),
                            n.int64s([-1] * k)])


def _tri(n):
    k, lower = int(n.args[1]), bool(n.args[2])
    return n.node("Trilu", [n.v(0), n.const(k, np.int64)], upper=int(not lower))


def _gather(n):
    return n.node("GatherElements", [n.v(0), n.v(1)], axis=int(n.args[2]))


def _expand_index(idx, ndim):
    idx = idx if isinstance(idx, tuple) else (idx,)
    consuming = sum(1 for i in idx if i is not None and i is not Ellipsis)
    if any(i is Ellipsis for i in idx):
        k = next(j for j, i in enumerate(idx) if i is Ellipsis)
        idx = idx[:k] + (slice(None),) * (ndim - consuming) + idx[k + 1:]
    return idx


def _slice_bound(n, value, other, size, size2, default):
    """An ONNX Slice bound: a constant, or the input's dynamic size where the bound follows it."""
    if _equal(value, other):
        return n.int64s([default if value is None else int(value)])
    if value is not None and other is not None:
        if int(value) >= size and int(other) >= size2:
            return n.int64s([default])  # x[:, :T] with T the full length
        dim = n.env.dim(int(value), int(other))
        if dim is not None:
            return dim
    raise SymbolicValueError(f"onnx.export: a slice bound ({value} here, {other} for a longer dynamic axis) that "
                             "follows no input axis")


def _getitem_nd(n, x, idx, adv, shape):
    """``x[i, j, ...]`` with several index arrays in the leading positions: one GatherND."""
    rest = [i for k, i in enumerate(idx) if k not in adv]
    if adv != list(range(len(adv))) or any(not (isinstance(i, slice) and i == slice(None)) for i in rest):
        n.fail("several index arrays that are not the leading items of the index (only x[i, j, ...] maps)")
    arrays = [idx[k] for k in adv]
    if any(a.dtype == np.bool_ for a in arrays):
        n.fail("boolean-mask indexing (its output size depends on the data)")
    target = np.broadcast_shapes(*(a.shape for a in arrays))
    parts = []
    for a in arrays:
        name = n.cast(n.array(a), a.dtype, np.int64)
        if a.shape != target:
            if n.array_dyn(a):
                raise SymbolicValueError("onnx.export: broadcasting index arrays along a dynamic axis")
            name = n.node("Expand", [name, n.int64s(target)])
        parts.append(n.unsqueeze(name, [len(target)]))
    return n.node("GatherND", [x, n.node("Concat", parts, axis=-1)])


def _getitem(n):
    shape = list(n.shape(0))
    idx = _expand_index(n.args[1], len(shape))
    if n.rec2 is not None:
        shape2 = list(n.rec2.in_arrays[0].shape)
        idx2 = _expand_index(n.rec2.args[1], len(shape2))
    else:
        shape2, idx2 = shape, idx
    x = n.v(0)
    adv = [k for k, i in enumerate(idx) if hasattr(i, "shape") and not np.isscalar(i) and getattr(i, "ndim", 0) > 0]
    if len(adv) > 1:
        return _getitem_nd(n, x, idx, adv, shape)
    ax = 0  # the axis of x (as built so far) the next item applies to
    src = 0  # the axis of the input it consumes
    for item, item2 in zip(idx, idx2):
        if item is None:
            x = n.unsqueeze(x, [ax])
            ax += 1
            continue
        if isinstance(item, slice):
            step = 1 if item.step is None else int(item.step)
            if step == 1 and item.start in (None, 0) and item.stop is None and _equal(item, item2):
                ax, src = ax + 1, src + 1
                continue
            if not isinstance(item2, slice) or item.step != item2.step:
                raise SymbolicValueError("onnx.export: an index that changes with the input (its size or values)")
            size, size2 = shape[src], shape2[src]
            start = _slice_bound(n, item.start, item2.start, size, size2, 0 if step > 0 else -1)
            stop = _slice_bound(n, item.stop, item2.stop, size, size2, INT64_MAX if step > 0 else INT64_MIN)
            x = n.node("Slice", [x, start, stop, n.int64s([ax]), n.int64s([step])])
            ax, src = ax + 1, src + 1
            continue
        if not _equal(item, item2):
            raise SymbolicValueError("onnx.export: an integer index that changes with the input (its size or values)")
        if isinstance(item, (int, np.integer)) or (hasattr(item, "ndim") and item.ndim == 0):
            x = n.node("Gather", [x, n.const(int(item), np.int64)], axis=ax)
            src += 1
            continue
        if hasattr(item, "dtype") and item.dtype == np.bool_:
            n.fail("boolean-mask indexing (its output size depends on the data)")
        if hasattr(item, "dtype"):
            x = n.node("Gather", [x, n.cast(n.array(item), item.dtype, np.int64)], axis=ax)
            ax, src = ax + item.ndim, src + 1
            continue
        n.fail(f"index item of type {type(item).__name__}")
    return x


CONVERTERS = {
    # elementwise
    "Add": _binary("Add"), "Sub": _binary("Sub"), "Mul": _binary("Mul"), "Div": _div, "Pow": _binary("Pow"),
    "PowScalar": _pow_scalar, "ScalarPow": _scalar_pow, "Remainder": _remainder, "Fmod": _fmod,
    "Reciprocal": _unary("Reciprocal"), "Neg": _unary("Neg"), "Abs": _unary("Abs"), "Exp": _unary("Exp"),
    "Log": _unary("Log"), "Sqrt": _unary("Sqrt"), "Sin": _unary("Sin"), "Cos": _unary("Cos"), "Tan": _unary("Tan"),
    "Asin": _unary("Asin"), "Acos": _unary("Acos"), "Atan": _unary("Atan"), "Sinh": _unary("Sinh"),
    "Cosh": _unary("Cosh"), "Tanh": _unary("Tanh"), "Sigmoid": _unary("Sigmoid"), "Relu": _unary("Relu"),
    "Erf": _unary("Erf"), "Rsqrt": _rsqrt, "Log1p": _log1p, "Expm1": _expm1, "Exp2": _exp2, "Erfc": _erfc,
    "Log2": _log_base(math.log(2.0)), "Log10": _log_base(math.log(10.0)),
    "Where": _where, "MaskedFill": _masked_fill, "Clamp": _clamp, "_Select": _select,
    "NanToNum": _nan_to_num, "_NonDiff": _non_diff, "_ZeroGrad": _zero_grad,
    "Floor": _zero_grad, "Ceil": _zero_grad, "Trunc": _zero_grad, "Round": _zero_grad, "RoundDecimals": _zero_grad,
    "Sign": _zero_grad,
    # conversions
    "ToDtype": _to_dtype, "ToDevice": _identity, "Clone": _identity, "Contiguous": _identity,
    "_WriteInto": _write_into,
    # activations
    "Gelu": _gelu, "NormalCdf": _normal_cdf, "EluFamily": _elu_family, "Softplus": _softplus,
    "LogSigmoid": _log_sigmoid, "HardSwish": _hardswish, "PiecewiseLinear": _piecewise_linear,
    "ScaleByMask": _scale_by_mask,
    # linear algebra, convolution, pooling
    "Linear": _linear, "MatMul": _matmul, "Einsum": _einsum, "Conv2d": _conv2d, "ConvTranspose2d": _conv_transpose2d,
    "MaxPool2d": _max_pool2d, "AvgPool2d": _avg_pool2d, "Separable": _separable,
    "AdaptiveMaxPool2d": _adaptive_max_pool2d, "ConstantPad": _constant_pad, "AxisTaps": _axis_taps,
    # normalisation, embedding
    "Standardize": _standardize, "EmbeddingLookup": _embedding,
    # reductions
    "Sum": _sum, "Mean": _mean, "Prod": _prod, "Extreme": _extreme, "ExtremeDim": _extreme_dim, "Norm2": _norm2,
    "LogSumExp": _logsumexp, "Cumsum": _cumsum, "Softmax": _softmax, "LogSoftmax": _log_softmax,
    # shapes and indexing
    "Reshape": _reshape, "Expand": _expand, "Permute": _permute, "Cat": _cat, "Stack": _stack, "Split": _split,
    "Unbind": _unbind, "Flip": _flip, "Roll": _roll, "Tri": _tri, "Gather": _gather, "GetItem": _getitem,
}
