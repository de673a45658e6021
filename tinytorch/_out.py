"""``out=`` for the top-level functions that take it in torch (``torch.matmul(a, b, out=c)``).

One wrapper, applied where the top-level namespace is built, instead of an ``out`` parameter in every op:
the op computes its result as usual, then the result is written into ``out`` (or into each tensor of an
``out`` tuple) the way torch does: refused when autograd would have to record it, refused when the result
dtype cannot be cast to ``out``'s, and ``out`` resized (with torch's warning if it held elements) when its
shape differs.
"""
from __future__ import annotations

import functools
import warnings
from typing import Any, Callable, TypeVar

from .autograd import grad_mode, no_grad
from .tensor import Tensor

__all__ = ["accepts_out", "OUT_FUNCTIONS"]

# torch functions with an ``out=`` keyword that tinytorch's top level binds (checked against torch's
# docstrings by tests/test_out.py, so the list cannot silently drift from torch)
OUT_FUNCTIONS = (
    "abs acos add addcdiv addcmul addmm addmv addr all amax amin aminmax any asin atan atan2 baddbmm "
    "bitwise_and bitwise_not bitwise_or bitwise_xor bmm bucketize cat ceil chain_matmul cholesky clamp clip "
    "column_stack concat copysign cos cosh cross cumprod cumsum diag digamma div divide dot dstack eq erf erfc "
    "erfinv exp exp2 expm1 fix floor floor_divide fmax fmin fmod frac gather ge ger greater greater_equal gt "
    "histc hstack hypot igamma igammac index_select inner inverse isneginf isposinf kron kthvalue le lerp less "
    "less_equal lgamma log log10 log1p log2 logaddexp logical_and logical_not logical_or logical_xor logsumexp "
    "lt masked_select matmul max maximum mean median min minimum mm mode msort mul multiply mv nan_to_num "
    "nanmean ne neg negative nonzero norm not_equal outer polygamma pow reciprocal remainder round row_stack "
    "rsqrt searchsorted sigmoid sign sin sinh sort sqrt square stack std std_mean sub subtract svd "
    "take_along_dim tan tanh topk tril triu trunc var var_mean vstack where"
).split()


def _write(name: str, res, out):
    if isinstance(res, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(res):
            raise TypeError(f"{name}(): out must be a tuple of {len(res)} tensors, got {type(out).__name__}")
        for r, o in zip(res, out):
            _write(name, r, o)
        return out
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if out.device != res.device:
        raise RuntimeError(f"{name}(): Expected out tensor to have device {res.device}, but got {out.device} instead")
    if res.dtype._kind > out.dtype._kind:  # float into an integer out, integer into bool ...
        raise RuntimeError(f"{name}(): result type {res.dtype} can't be cast to the desired output type {out.dtype}")
    with no_grad():
        if tuple(out.shape) != tuple(res.shape):
            if out.numel():
                warnings.warn(f"{name}(): An output with one or more elements was resized since it had shape "
                              f"{list(out.shape)}, which does not match the required output shape "
                              f"{list(res.shape)}. This behavior is deprecated.", UserWarning, stacklevel=3)
            out.data = res.to(out.dtype)
        else:
            out.copy_(res)
    return out


_F = TypeVar("_F", bound=Callable[..., Any])


def accepts_out(fn: _F) -> _F:
    """``fn`` with torch's ``out=`` keyword (typed as ``fn`` so a type checker keeps its signature)."""

    @functools.wraps(fn)
    def with_out(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        res = fn(*args, **kwargs)
        outs = res if isinstance(res, tuple) else (res,)
        if grad_mode.is_grad_enabled() and any(isinstance(r, Tensor) and r.requires_grad for r in outs):
            raise RuntimeError(f"{fn.__name__}(): functions with out=... arguments don't support automatic "
                               "differentiation, but one of the arguments requires grad.")
        return _write(fn.__name__, res, out)

    return with_out  # type: ignore[return-value]
