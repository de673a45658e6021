"""Products: matmul (and mm/bmm/mv/dot/outer), addmm-style fused forms, einsum, tensordot, kron, linear, bilinear, cdist.

Every product backward is again a product (``matmul`` or ``einsum``), so higher-order
gradients come for free; GEMMs run through ``xp.matmul`` on views, without copies.
"""
from __future__ import annotations

import builtins
import math
import string
from collections import namedtuple

import numpy as np

from .. import _arrays
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import wrap_dim, matmul_acc32
from . import elementwise as _ew
from . import _linalg as _la  # torch.linalg's implementation; the torch.* spellings below wrap it
from ..amp.autocast_mode import autocast_op
from . import shape as _shape
from .. import _dtype as dtypes
from .convert import to_dtype

__all__ = [
    "matmul", "mm", "bmm", "mv", "dot", "inner", "outer", "ger", "addmm", "addmv", "addr", "baddbmm", "einsum",
    "tensordot", "kron", "linear", "bilinear", "cdist", "chain_matmul", "dist", "det", "logdet", "slogdet",
    "inverse", "cholesky", "svd", "qr", "pinverse", "cross",
]

# functions that are not Tensor methods
_FUNCTIONS_ONLY = ("einsum", "tensordot", "linear", "bilinear", "cdist", "chain_matmul")
TENSOR_METHODS = tuple(n for n in __all__ if n not in _FUNCTIONS_ONLY)



def _check_same_dtype(op, *ts):
    dts = {t._data.dtype for t in ts}
    if len(dts) > 1:
        raise RuntimeError(f"{op}: expected both operands to have the same dtype, but got {' and '.join(str(t.dtype) for t in ts)}")


def _mT(x):
    return _shape.transpose(x, -2, -1)


class MatMul(Function):
    """Batched matrix product of two operands of at least 2 dims (batch dims broadcast)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[0] else None)
        return matmul_acc32(ctx.xp, a._data, b._data)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ga = MatMul.apply(grad, _mT(b)) if ctx.needs_input_grad[0] else None
        gb = MatMul.apply(_mT(a), grad) if ctx.needs_input_grad[1] else None
        return ga, gb  # batch dims broadcast: the engine sums them back to each operand's shape

    @staticmethod
    def backward_arrays(ctx, grad):
        a, b = ctx.saved_tensors
        xp = ctx.xp
        ga = matmul_acc32(xp, grad, b._data.swapaxes(-1, -2)) if ctx.needs_input_grad[0] else None
        gb = matmul_acc32(xp, a._data.swapaxes(-1, -2), grad) if ctx.needs_input_grad[1] else None
        return ga, gb


@autocast_op("matmul")
def matmul(input, other):
    """Matrix product with NumPy/PyTorch rules: 1-D operands are vectors, batch dims broadcast.

    (n,) @ (n,) -> (); (m, n) @ (n,) -> (m,); (..., m, n) @ (..., n, p) -> (..., m, p).
    """
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"matmul: expected two Tensors, got {type(input).__name__} and {type(other).__name__}")
    a_shape, b_shape = tuple(input._data.shape), tuple(other._data.shape)
    if not a_shape or not b_shape:
        raise RuntimeError(f"matmul: both arguments need to be at least 1D, but they are {len(a_shape)}D and {len(b_shape)}D")
    _check_same_dtype("matmul", input, other)
    k_a = a_shape[-1]
    k_b = b_shape[-2] if len(b_shape) >= 2 else b_shape[0]
    if k_a != k_b:
        raise RuntimeError(f"matmul: shapes {a_shape} and {b_shape} cannot be multiplied ({k_a} != {k_b})")
    try:
        batch = np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
    except ValueError:
        raise RuntimeError(f"matmul: batch dimensions of shapes {a_shape} and {b_shape} cannot be broadcast") from None
    a = _shape.reshape(input, (1, k_a)) if len(a_shape) == 1 else input
    b = _shape.reshape(other, (k_b, 1)) if len(b_shape) == 1 else other
    out = MatMul.apply(a, b)
    if len(a_shape) == 1 or len(b_shape) == 1:
        shape = tuple(batch) + (() if len(a_shape) == 1 else (a_shape[-2],)) + (() if len(b_shape) == 1 else (b_shape[-1],))
        out = _shape.reshape(out, shape)
    return out


@autocast_op("mm")
def mm(input, mat2):
    """(n, m) @ (m, p) -> (n, p); both must be 2-D."""
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D matrices, got shapes {tuple(input.shape)} and {tuple(mat2.shape)}")
    if input._data.shape[1] != mat2._data.shape[0]:
        raise RuntimeError(
            f"mm: mat1 and mat2 shapes cannot be multiplied ({input._data.shape[0]}x{input._data.shape[1]} and {mat2._data.shape[0]}x{mat2._data.shape[1]})"
        )
    return matmul(input, mat2)


@autocast_op("bmm")
def bmm(input, mat2):
    """(b, n, m) @ (b, m, p) -> (b, n, p), no broadcasting."""
    if input._data.ndim != 3 or mat2._data.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got shapes {tuple(input.shape)} and {tuple(mat2.shape)}")
    if input._data.shape[0] != mat2._data.shape[0] or input._data.shape[2] != mat2._data.shape[1]:
        raise RuntimeError(f"bmm: batch1 {tuple(input.shape)} and batch2 {tuple(mat2.shape)} cannot be multiplied")
    return matmul(input, mat2)


@autocast_op("mv")
def mv(input, vec):
    """(n, m) @ (m,) -> (n,)."""
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix and a vector, got shapes {tuple(input.shape)} and {tuple(vec.shape)}")
    return matmul(input, vec)


@autocast_op("dot")
def dot(input, tensor):
    """Inner product of two 1-D tensors of the same size."""
    if input._data.ndim != 1 or tensor._data.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got {input._data.ndim}D and {tensor._data.ndim}D tensors")
    if input._data.shape != tensor._data.shape:
        raise RuntimeError(
            f"dot: inconsistent tensor size, expected tensor [{input._data.shape[0]}] and src [{tensor._data.shape[0]}] to have the same number of elements, but got {input._data.shape[0]} and {tensor._data.shape[0]} elements respectively"
        )
    return matmul(input, tensor)


def inner(input, other):
    """Sum over the last dims of both (a scalar times a tensor when one is 0-d)."""
    if input._data.ndim == 0 or other._data.ndim == 0:
        return _ew.mul(input, other)
    return tensordot(input, other, ([-1], [-1]))


def outer(input, vec2):
    """Outer product of two 1-D tensors: (n,), (m,) -> (n, m)."""
    if input._data.ndim != 1 or vec2._data.ndim != 1:
        raise RuntimeError(f"outer: expected 1-D tensors, got shapes {tuple(input.shape)} and {tuple(vec2.shape)}")
    return _ew.mul(_shape.reshape(input, (-1, 1)), _shape.reshape(vec2, (1, -1)))


ger = outer


def _scaled(x, s):
    return x if s == 1 else _ew.mul(x, s)


def _addmm_like(op, input, product, beta, alpha):
    try:
        np.broadcast_shapes(tuple(input._data.shape), tuple(product._data.shape))
    except ValueError:
        raise RuntimeError(f"{op}: input of shape {tuple(input.shape)} cannot be broadcast to the product's shape {tuple(product.shape)}") from None
    if beta == 0:  # input is ignored entirely: its nan/inf must not propagate
        return _scaled(product, alpha)
    return _ew.add(_scaled(input, beta), _scaled(product, alpha))


@autocast_op("addmm")
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)`` (input broadcast to (n, p))."""
    return _addmm_like("addmm", input, mm(mat1, mat2), beta, alpha)


@autocast_op("addmv")
def addmv(input, mat, vec, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat @ vec)``."""
    return _addmm_like("addmv", input, mv(mat, vec), beta, alpha)


@autocast_op("addr")
def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)``."""
    return _addmm_like("addr", input, outer(vec1, vec2), beta, alpha)


@autocast_op("baddbmm")
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    return _addmm_like("baddbmm", input, bmm(batch1, batch2), beta, alpha)


def chain_matmul(*matrices):
    """``matrices[0] @ matrices[1] @ ...``."""
    if not matrices:
        raise RuntimeError("chain_matmul: expected at least one matrix")
    out = matrices[0]
    for m in matrices[1:]:
        out = mm(out, m)
    return out


# ---- einsum -------------------------------------------------------------------------------------

class Einsum(Function):
    """einsum over explicit (ellipsis-free, broadcast-free) specs; each gradient is another einsum."""

    @staticmethod
    def forward(ctx, operands, in_specs, out_spec, sizes):
        ctx.in_specs, ctx.out_spec, ctx.sizes = in_specs, out_spec, sizes
        ctx.save_for_backward(*operands)
        eq = ",".join(in_specs) + "->" + out_spec
        # optimize=True lets contractions run as BLAS GEMMs instead of the generic loop
        arrays = [t._data for t in operands]
        low = arrays[0].dtype
        if ctx.xp is np and low.itemsize == 2 and low.kind in "fV":  # float32 accumulation, one rounding
            return np.einsum(eq, *[a.astype(np.float32) for a in arrays], optimize=True).astype(low)
        return ctx.xp.einsum(eq, *arrays, optimize=True)

    @staticmethod
    def backward(ctx, grad):
        ops_ = ctx.saved_tensors
        grads = []
        for i, spec in enumerate(ctx.in_specs):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            grads.append(_einsum_grad(ctx, ops_, i, spec, grad))
        return (*grads, None, None, None)


def _einsum_grad(ctx, ops_, i, spec, grad):
    """d/d operand i: contract grad with the other operands onto ``spec``.

    A letter repeated inside ``spec`` (a diagonal, as in 'ii->i') is renamed and tied back with an
    identity matrix; letters that appear nowhere else were summed away and are expanded back.
    """
    free = [c for c in string.ascii_letters if c not in "".join(ctx.in_specs) + ctx.out_spec]
    target = []
    eyes = []
    seen = set()
    for c in spec:
        if c in seen:
            n = free.pop()
            target.append(n)
            eyes.append(c + n)
        else:
            seen.add(c)
            target.append(c)
    specs = [ctx.out_spec] + [s for j, s in enumerate(ctx.in_specs) if j != i]
    operands = [grad] + [t for j, t in enumerate(ops_) if j != i]
    for e in eyes:
        n = ctx.sizes[e[0]]
        operands.append(Tensor._make(ctx.xp.eye(n, dtype=grad._data.dtype)))
        specs.append(e)
    avail = set("".join(specs))
    kept = "".join(c for c in target if c in avail)
    out = Einsum.apply(operands, tuple(specs), kept, ctx.sizes)
    if kept != "".join(target):
        sizes = {**ctx.sizes, **{e[1]: ctx.sizes[e[0]] for e in eyes}}
        shape1 = tuple(sizes[c] if c in avail else 1 for c in target)
        out = _shape.expand(_shape.reshape(out, shape1), tuple(sizes[c] for c in target))
    return out


def _parse_einsum(equation, operands):
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->")
    else:
        lhs, rhs = eq, None
    in_specs = lhs.split(",")
    if len(in_specs) != len(operands):
        raise ValueError(f"einsum(): {len(in_specs)} operand specs in {equation!r} but {len(operands)} operands were given")
    used = set(c for c in eq if c.isalpha())
    free = [c for c in string.ascii_letters if c not in used]
    # the ellipsis dims of every operand, right-aligned and broadcast together
    ell_ndims = []
    for spec, t in zip(in_specs, operands):
        for c in spec.replace("...", ""):
            if not c.isalpha():
                raise ValueError(f"einsum(): invalid subscript {c!r} in equation {equation!r}")
        n_named = len(spec.replace("...", ""))
        if "..." in spec:
            ell_ndims.append(t._data.ndim - n_named)
            if ell_ndims[-1] < 0:
                raise RuntimeError(f"einsum(): the operand of shape {tuple(t.shape)} has fewer dims than its subscripts {spec!r}")
        else:
            ell_ndims.append(0)
            if n_named != t._data.ndim:
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({n_named}) does not match the number of dimensions ({t._data.ndim}) for operand with spec {spec!r} and shape {tuple(t.shape)}"
                )
    n_ell = builtins.max(ell_ndims) if ell_ndims else 0
    ell = "".join(free[:n_ell])
    specs = []
    for spec, k in zip(in_specs, ell_ndims):
        specs.append(spec.replace("...", ell[n_ell - k:]) if "..." in spec else spec)
    if rhs is None:
        counts = {}
        for s in specs:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        rhs_named = "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
        out_spec = ell + rhs_named
    else:
        out_spec = rhs.replace("...", ell)
    return specs, out_spec, ell


def _einsum_op(equation, *operands):
    """torch's einsum contracts operand pairs through bmm; one operand, or nothing summed, stays elementwise."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = operands[0]
    if not isinstance(equation, str) or len(operands) < 2:
        return None
    lhs, _, rhs = equation.replace(" ", "").partition("->")
    letters = set(lhs.replace(",", "").replace(".", ""))
    if not _:
        rhs = "".join(c for c in letters if lhs.count(c) == 1)
    return ("bmm",) if letters - set(rhs) else None


@autocast_op(select=_einsum_op)
def einsum(equation, *operands):
    """Einstein summation (``'bij,bjk->bik'``, ``'ii->i'``, ``'...ij->...ji'``); operands may be a list."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum(): must provide at least one operand")
    specs, out_spec, ell = _parse_einsum(equation, operands)
    sizes = {}
    bshape = {}
    for spec, t in zip(specs, operands):
        for c, s in zip(spec, t._data.shape):
            if c in ell:
                if bshape.get(c, 1) != 1 and s != 1 and s != bshape[c]:
                    raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes for equation {equation!r}")
                bshape[c] = builtins.max(bshape.get(c, 1), s)
                continue
            if c in sizes and sizes[c] != s:
                if sizes[c] == 1 or s == 1:
                    raise RuntimeError(f"einsum(): size-1 broadcasting of subscript {c!r} is not supported in tinytorch (equation {equation!r})")
                raise RuntimeError(
                    f"einsum(): subscript {c} has size {s} for operand with shape {tuple(t.shape)} which does not broadcast with previously seen size {sizes[c]}"
                )
            sizes[c] = s
    for c in out_spec:
        if c not in sizes and c not in bshape:
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input operand")
    sizes.update(bshape)
    # broadcast ellipsis dims explicitly (a view) so every letter has one size
    ops_ = []
    for spec, t in zip(specs, operands):
        want = tuple(sizes[c] for c in spec)
        ops_.append(t if tuple(t._data.shape) == want else _shape.expand(t, want))
    if len({t._data.dtype for t in ops_}) > 1:
        dt = ops_[0].dtype
        for t in ops_[1:]:
            dt = dtypes.promote_types(dt, t.dtype)
        ops_ = [to_dtype(t, dt) for t in ops_]
    return Einsum.apply(ops_, tuple(specs), out_spec, sizes)


def tensordot(a, b, dims=2):
    """Contract ``dims`` (an int: the last dims of a with the first of b; or two lists) of a and b."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, builtins.int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da = list(range(a._data.ndim - dims, a._data.ndim))
        db = list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, builtins.int) else list(da)
        db = [db] if isinstance(db, builtins.int) else list(db)
    if len(da) != len(db):
        raise RuntimeError(f"tensordot: both dimension lists should have same length, got {da} and {db}")
    da = [wrap_dim(d, a._data.ndim, "tensordot") for d in da]
    db = [wrap_dim(d, b._data.ndim, "tensordot") for d in db]
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(a._data.ndim)]
    sb = [next(letters) for _ in range(b._data.ndim)]
    for x, y in zip(da, db):
        if a._data.shape[x] != b._data.shape[y]:
            raise RuntimeError(
                f"tensordot: contracted dimensions need to match, but first has size {a._data.shape[x]} in dim {x} and second has size {b._data.shape[y]} in dim {y}"
            )
        sb[y] = sa[x]
    out = "".join(c for i, c in enumerate(sa) if i not in da) + "".join(c for i, c in enumerate(sb) if i not in db)
    return einsum(f"{''.join(sa)},{''.join(sb)}->{out}", a, b)


def kron(input, other):
    """Kronecker product: block (i, j) is ``input[i, j] * other``."""
    for name, t in (("input", input), ("other", other)):
        if not isinstance(t, Tensor):
            raise TypeError(f"kron(): argument '{name}' must be Tensor, not {type(t).__name__}")

    n = builtins.max(input._data.ndim, other._data.ndim)
    sa = (1,) * (n - input._data.ndim) + tuple(input._data.shape)
    sb = (1,) * (n - other._data.ndim) + tuple(other._data.shape)
    a = _shape.reshape(input, tuple(v for s in sa for v in (s, 1)))
    b = _shape.reshape(other, tuple(v for s in sb for v in (1, s)))
    return _shape.reshape(_ew.mul(a, b), tuple(x * y for x, y in zip(sa, sb)))


# ---- linear layers -------------------------------------------------------------------------------

class Linear(Function):
    """``x @ W.T + b`` over any leading dims; the weight gradient is a single GEMM over all rows."""

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, w if ctx.needs_input_grad[0] else None)
        ctx.has_bias = b is not None
        xd = x._data
        lead = xd.shape[:-1]
        if xd.ndim > 2:  # one GEMM over all rows: a stacked matmul runs one small GEMM per leading index
            xd = xd.reshape(math.prod(lead), xd.shape[-1])
        out_shape = (*lead, w._data.shape[0])
        if ctx.xp is np and xd.dtype.itemsize == 2 and xd.dtype.kind in "fV":  # float32 accumulation, one rounding
            y = np.matmul(xd.astype(np.float32), w._data.T.astype(np.float32))
            if b is not None:
                y += b._data.astype(np.float32)
            return y.astype(xd.dtype).reshape(out_shape)
        y = ctx.xp.matmul(xd, w._data.T)
        if b is not None:
            y += b._data
        return y.reshape(out_shape) if len(lead) != 1 else y

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = matmul(grad, w)
        if ctx.needs_input_grad[1]:
            g2 = _shape.reshape(grad, (-1, grad._data.shape[-1]))
            x2 = _shape.reshape(x, (-1, x._data.shape[-1]))
            gw = matmul(_mT(g2), x2)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = grad  # the engine sums the leading dims away
        return gx, gw, gb

    @staticmethod
    def backward_arrays(ctx, grad):
        x, w = ctx.saved_tensors
        gx = gw = gb = None
        rows = math.prod(grad.shape[:-1])
        g2 = grad.reshape(rows, grad.shape[-1])  # explicit sizes: -1 is ambiguous when a dim is 0
        if ctx.needs_input_grad[0]:
            gx = matmul_acc32(ctx.xp, g2, w._data)  # one GEMM over all rows, as in forward
            if grad.ndim != 2:
                gx = gx.reshape(*grad.shape[:-1], w._data.shape[1])
        if ctx.needs_input_grad[1]:
            gw = matmul_acc32(ctx.xp, g2.T, x._data.reshape(rows, x._data.shape[-1]))
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = g2.sum(0, dtype=np.float32).astype(grad.dtype) if grad.dtype.itemsize == 2 else g2.sum(0)
        return gx, gw, gb


@autocast_op("linear")
def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: input (*, in_features), weight (out_features, in_features), bias (out_features,)."""
    for name, t in (("input", input), ("weight", weight), ("bias", bias)):
        if not isinstance(t, Tensor) and not (name == "bias" and t is None):
            raise TypeError(f"linear(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if weight._data.ndim not in (1, 2):
        raise RuntimeError(f"linear: expected weight to be 1-D or 2-D (out_features, in_features), got shape {tuple(weight.shape)}")
    if input._data.ndim == 0:
        raise RuntimeError("linear: input must have at least 1 dimension, got a 0-d tensor")
    if input._data.shape[-1] != weight._data.shape[-1]:
        raise RuntimeError(
            f"linear: input of shape {tuple(input.shape)} and weight of shape {tuple(weight.shape)} cannot be multiplied "
            f"({input._data.shape[-1]} != {weight._data.shape[-1]})"
        )
    if weight._data.ndim == 1 or input._data.ndim == 1 or (bias is not None and bias._data.ndim > 1):
        out = matmul(input, _mT(weight) if weight._data.ndim == 2 else weight)
        return out if bias is None else _ew.add(out, bias)
    _check_same_dtype("linear", input, weight, *(() if bias is None else (bias,)))
    if bias is not None and bias._data.shape not in ((weight._data.shape[0],), (1,), ()):
        raise RuntimeError(f"linear: bias of shape {tuple(bias.shape)} does not match out_features={weight._data.shape[0]}")
    return Linear.apply(input, weight, bias)


@autocast_op("bilinear")
def bilinear(input1, input2, weight, bias=None):
    """``y[..., k] = input1 @ weight[k] @ input2 + bias[k]``: (*, in1), (*, in2), weight (out, in1, in2)."""
    if weight._data.ndim != 3:
        raise RuntimeError(f"bilinear: expected weight of shape (out, in1, in2), got {tuple(weight.shape)}")
    if input1._data.shape[-1] != weight._data.shape[1] or input2._data.shape[-1] != weight._data.shape[2]:
        raise RuntimeError(
            f"bilinear: input1 {tuple(input1.shape)} and input2 {tuple(input2.shape)} do not match weight {tuple(weight.shape)}"
        )
    if input1._data.shape[:-1] != input2._data.shape[:-1]:
        raise RuntimeError(f"bilinear: input1 {tuple(input1.shape)} and input2 {tuple(input2.shape)} must have the same leading dims")
    out = einsum("...i,kij,...j->...k", input1, weight, input2)
    return out if bias is None else _ew.add(out, bias)


# ---- distances -----------------------------------------------------------------------------------

@autocast_op("cdist")
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Pairwise p-norm distances: x1 (*, P, M), x2 (*, R, M) -> (*, P, R)."""
    if x1._data.ndim < 2 or x2._data.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1._data.ndim}D (shape {tuple(x1.shape)}), X2 got: {x2._data.ndim}D (shape {tuple(x2.shape)})")
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise RuntimeError(f"cdist: X1 and X2 must have the same number of columns. X1: {x1._data.shape[-1]} X2: {x2._data.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    diff = _ew.sub(_shape.unsqueeze(x1, -2), _shape.unsqueeze(x2, -3))
    return _la.vector_norm(diff, p, dim=-1)


# ---- torch.* spellings of tinytorch.linalg functions -----------------------------------------------

@autocast_op("dist")
def dist(input, other, p=2):
    """``vector_norm(input - other, p)`` over all elements (broadcasting)."""
    return _la.vector_norm(_ew.sub(input, other), p)


def det(input):
    """Determinant of square matrices (*, n, n)."""
    return _la.det(input)


def logdet(input):
    """log(det(A)): nan for a negative determinant, -inf for a singular matrix."""
    sign, logabs = _la.slogdet(input)
    xp = _arrays.array_module(sign._data)
    bad = Tensor._make(xp.where(sign._data < 0, xp.nan, xp.where(sign._data == 0, -xp.inf, 0)).astype(logabs._data.dtype))
    return _ew.add(logabs, bad)


def slogdet(input):
    """``(sign, logabsdet)`` of the determinant."""
    return _la.slogdet(input)


def inverse(input):
    """Inverse of square matrices."""
    return _la.inv(input)


def cholesky(input, upper=False):
    """Cholesky factor (lower, or upper with ``upper=True``) of positive-definite matrices."""
    return _la.cholesky(input, upper=upper)


_svd_result = namedtuple("svd", ["U", "S", "V"])
_qr_result = namedtuple("qr", ["Q", "R"])


def svd(input, some=True, compute_uv=True):
    """Legacy ``torch.svd``: ``(U, S, V)`` with A = U diag(S) V^T (reduced when ``some``)."""
    u, s, vh = _la.svd(input, full_matrices=not some)
    if not compute_uv:
        xp = _arrays.array_module(u._data)
        return _svd_result(Tensor._make(xp.zeros_like(u._data)), s, Tensor._make(xp.zeros_like(vh._data)))
    return _svd_result(u, s, _mT(vh))


def qr(input, some=True):
    """Legacy ``torch.qr``: reduced (``some``) or complete QR."""
    return _qr_result(*_la.qr(input, "reduced" if some else "complete"))


def pinverse(input, rcond=1e-15):
    """Moore-Penrose pseudo-inverse."""
    return _la.pinv(input, rtol=rcond)


def cross(input, other, dim=None):
    """Cross product of 3-vectors along ``dim`` (the first dim of size 3 when None)."""
    try:
        shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
    except ValueError:
        raise RuntimeError(f"cross: shapes {tuple(input.shape)} and {tuple(other.shape)} cannot be broadcast "
                           f"(both inputs need length 3 in the crossed dim)") from None
    if dim is None:
        dims = [i for i, s in enumerate(shape) if s == 3]
        if not dims:
            raise RuntimeError(f"cross: no dimension of size 3 in input shapes {tuple(input.shape)} and {tuple(other.shape)}")
        dim = dims[0]
    return _la.cross(input, other, dim=dim)
