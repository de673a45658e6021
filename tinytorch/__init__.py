"""tinytorch: a small, hackable, PyTorch-compatible autodiff framework on NumPy (CPU) and CuPy (CUDA).

``import tinytorch as torch`` runs the covered subset of PyTorch scripts unchanged.
"""
from __future__ import annotations

__version__ = "0.1.0"

from . import _dtype as _dtypes
from ._dtype import (  # noqa: F401
    dtype, float32, float64, float16, bfloat16, int8, uint8, int16, int32, int64, float, double, half,
    long, short, get_default_dtype, set_default_dtype, promote_types, result_type as _result_type,
)
from ._dtype import bool_ as bool  # noqa: A001
from ._dtype import int as int  # noqa: A001,F401
from ._arrays import device  # noqa: F401
from .tensor import Tensor, Size  # noqa: F401
from . import autograd  # noqa: F401
from .autograd import no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled  # noqa: F401
from .random import manual_seed, seed, initial_seed, get_rng_state, set_rng_state, Generator, default_generator  # noqa: F401
from .creation import *  # noqa: F401,F403
from .ops import *  # noqa: F401,F403
from . import ops as _ops
from . import cuda  # noqa: F401
from . import backends  # noqa: F401
from importlib import import_module as _import_module

linalg = _import_module(".linalg", __name__)  # the namespace module; `from .ops import *` bound ops.linalg here
from . import nn  # noqa: F401
from . import optim  # noqa: F401
from . import utils  # noqa: F401
from . import train, viz  # noqa: F401 - opt-in conveniences; their optional packages load on use
from . import distributions, special  # noqa: F401
from .serialization import save, load  # noqa: F401
from . import jit, testing, _dynamo, onnx  # noqa: F401 - torch.jit/testing/_dynamo/onnx (onnx loads its package on use)
from ._compat import *  # noqa: F401,F403

# names that would shadow Python builtins inside this module are bound last on purpose
from .ops import _modules as _op_modules  # noqa: E402


from ._out import accepts_out as _accepts_out, OUT_FUNCTIONS as _OUT_FUNCTIONS

# one wrapper per function, bound to every top-level name of it, so aliases (cat/concat/concatenate) stay one object
_wrapped = {id(globals()[_n]): _accepts_out(globals()[_n]) for _n in _OUT_FUNCTIONS}
globals().update({_n: _wrapped[id(_v)] for _n, _v in list(globals().items()) if id(_v) in _wrapped})
del _wrapped


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(t) -> bool:
    return t.is_floating_point()


def numel(t) -> int:
    return t.numel()


def result_type(a, b):
    return _result_type(a, b)


def can_cast(from_, to) -> bool:
    return from_._kind <= to._kind
