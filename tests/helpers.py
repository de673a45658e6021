"""Test helpers: build tensors from NumPy sample inputs, compare results."""
from __future__ import annotations

import numpy as np

import tinytorch
from tinytorch import _arrays
from tests.opinfo.registry import Const, TensorList


def to_tensor(a, device, dtype=np.float64, requires_grad=True, noncontig=False):
    a = np.asarray(a)
    if a.dtype.kind == "f":
        a = a.astype(dtype)
        if noncontig and a.ndim >= 2:
            a = np.asfortranarray(a)  # same values, not C-contiguous
        elif noncontig and a.ndim == 1 and a.size > 1:
            a = np.repeat(a, 2)[::2]  # strided view
        t = tinytorch.Tensor._make(_arrays.to_device(a, device))
        return t.requires_grad_(requires_grad)
    return tinytorch.Tensor._make(_arrays.to_device(a, device))


def tensor_of(a, device="cpu", requires_grad=False, dtype=None):
    """A tinytorch tensor of ``a`` on ``device``: array-likes become float64 (or ``dtype``); a torch tensor
    keeps its dtype unless ``dtype`` is given. Test files import it as ``_t``."""
    if type(a).__module__.split(".")[0] == "torch":
        a = a.detach().cpu().numpy()
        a = a if dtype is None else a.astype(dtype)
    else:
        a = np.asarray(a, dtype=np.float64 if dtype is None else dtype)
    return tinytorch.tensor(a, device=device, requires_grad=requires_grad)


def build_args(sample, device, dtype=np.float64, noncontig=False, requires_grad=True):
    def conv(x):
        if isinstance(x, Const):
            return to_tensor(x.array, device, dtype, requires_grad=False, noncontig=noncontig)
        if isinstance(x, TensorList):
            return [conv(i) for i in x]
        if isinstance(x, np.ndarray):
            return to_tensor(x, device, dtype, requires_grad=requires_grad and x.dtype.kind == "f", noncontig=noncontig)
        return x

    args = tuple(conv(a) for a in sample.args)
    kwargs = {k: conv(v) for k, v in sample.kwargs.items()}
    return args, kwargs


def np_args(sample):
    def conv(x):
        if isinstance(x, Const):
            return x.array
        if isinstance(x, TensorList):
            return [np.asarray(i) for i in x]
        return x

    return tuple(conv(a) for a in sample.args), {k: conv(v) for k, v in sample.kwargs.items()}


def outputs_of(res):
    if isinstance(res, tinytorch.Tensor):
        return [res]
    if isinstance(res, (tuple, list)):
        out = []
        for r in res:
            out.extend(outputs_of(r))
        return out
    if hasattr(res, "_fields"):
        return outputs_of(tuple(res))
    return []


def host(t):
    return _arrays.as_numpy(t._data) if isinstance(t, tinytorch.Tensor) else np.asarray(t)
