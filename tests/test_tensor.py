"""Tensor properties, conversions, Python protocols and repr (compared with torch)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import tinytorch
from tinytorch import _arrays


def test_properties():
    t = tinytorch.zeros(2, 3, 4)
    assert isinstance(t.shape, tinytorch.Size) and t.shape == (2, 3, 4)
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert repr(t.shape) == "tinytorch.Size([2, 3, 4])" and t.shape[1:] == (3, 4)
    assert isinstance(t.shape[1:], tinytorch.Size) and t.shape.numel() == 24
    assert t.ndim == 3 and t.dim() == 3 and t.numel() == 24
    assert t.dtype is tinytorch.float32 and t.device == tinytorch.device("cpu") and t.device == "cpu"
    assert t.is_leaf and t.grad is None and t.grad_fn is None and not t.requires_grad
    assert t.T.shape == (4, 3, 2) and t.mT.shape == (2, 4, 3)
    assert t.is_floating_point() and not tinytorch.zeros(1, dtype=tinytorch.int64).is_floating_point()
    assert t.element_size() == 4 and t.stride() == (12, 4, 1) and t.is_contiguous()
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.size(3)


def test_numpy_shares_memory_and_refuses_grad():
    t = tinytorch.zeros(3)
    a = t.numpy()
    a[0] = 5
    assert t.tolist() == [5.0, 0.0, 0.0]
    x = tinytorch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=re.escape("Can't call numpy() on Tensor that requires grad")):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0, 1.0]


def test_item_tolist_scalars():
    assert tinytorch.tensor([2.5]).item() == 2.5
    assert type(tinytorch.tensor(3).item()) is int
    assert type(tinytorch.tensor(True).item()) is bool
    assert tinytorch.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert tinytorch.tensor(1.5).tolist() == 1.5
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        tinytorch.ones(2).item()
    assert float(tinytorch.tensor([2.5])) == 2.5 and int(tinytorch.tensor(3.7)) == 3
    assert bool(tinytorch.tensor([1])) and not bool(tinytorch.tensor(0.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(tinytorch.ones(2))
    assert [10, 20, 30][tinytorch.tensor(2)] == 30
    assert list(range(5))[tinytorch.tensor(1):tinytorch.tensor(3)] == [1, 2]
    with pytest.raises(TypeError):
        [1, 2][tinytorch.tensor(1.0)]


def test_format():
    assert "{:.2f}".format(tinytorch.tensor(2.345)) == "2.35"
    assert "{:.3f}".format(tinytorch.tensor([1.23456])) == "1.235"
    assert f"{tinytorch.tensor(3)}" == "3" or f"{tinytorch.tensor(3)}" == "tensor(3)"
    torch = pytest.importorskip("torch")
    for t, r in [(tinytorch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])), (tinytorch.tensor(3), torch.tensor(3))]:
        assert "{}".format(t) == "{}".format(r)
    assert f"{tinytorch.tensor(2.5):>6}" == f"{torch.tensor(2.5):>6}"


def test_len_iter():
    t = tinytorch.tensor([[1, 2], [3, 4], [5, 6]])
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3 and rows[1].tolist() == [3, 4]
    with pytest.raises(TypeError, match="0-d"):
        len(tinytorch.tensor(1.0))
    with pytest.raises(TypeError, match="0-d"):
        iter(tinytorch.tensor(1.0))


def test_array_protocol():
    t = tinytorch.tensor([1.0, 2.0])
    a = np.asarray(t)
    assert a.dtype == np.float32 and a.tolist() == [1.0, 2.0]
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert np.asarray(tinytorch.tensor([1, 2])).dtype == np.int64


def test_clone_contiguous_detach():
    x = tinytorch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    c = x.clone()
    assert c.grad_fn is not None and c.tolist() == x.tolist()
    c2 = x.detach().clone()
    c2.add_(1)
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    tt = x.T
    assert not tt.is_contiguous()
    cc = tt.contiguous()
    assert cc.is_contiguous() and cc.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    y = x.contiguous()
    assert y is x
    (cc * tinytorch.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    assert x.grad.tolist() == [[1.0, 3.0], [2.0, 4.0]]


def test_to_signatures():
    t = tinytorch.tensor([1.5, 2.5])
    assert t.to(tinytorch.float64).dtype is tinytorch.float64
    assert t.to(dtype=tinytorch.int32).tolist() == [1, 2]
    assert t.to("cpu") is t and t.to(tinytorch.device("cpu")) is t
    assert t.to("cpu", tinytorch.float16).dtype is tinytorch.float16
    assert t.to(device="cpu", dtype=tinytorch.float64).dtype is tinytorch.float64
    other = tinytorch.zeros(1, dtype=tinytorch.int64)
    assert t.to(other).dtype is tinytorch.int64
    assert t.to(tinytorch.float32) is t
    c = t.to(tinytorch.float32, copy=True)
    assert c is not t and c.tolist() == t.tolist()
    assert t.to("cpu", non_blocking=True) is t
    assert t.to("cpu", tinytorch.float32, False, True) is not t  # positional (non_blocking, copy)
    assert t.to(tinytorch.float32, False, False) is t
    assert t.cpu() is t
    assert t.type(tinytorch.float64).dtype is tinytorch.float64
    assert t.type() == "torch.FloatTensor" and t.type_as(other).dtype is tinytorch.int64
    with pytest.raises(TypeError, match="to"):
        t.to(3.5)
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    x.to(tinytorch.float64).sum().backward()
    assert x.grad.dtype is tinytorch.float32 and x.grad.tolist() == [1.0, 1.0]


def test_cuda_without_gpu_reports_reason(monkeypatch):
    if _arrays.cuda_available():
        pytest.skip("a GPU is available here")
    reason = _arrays.cuda_unavailable_reason()
    assert reason
    t = tinytorch.ones(2)
    for call in (lambda: t.to("cuda"), lambda: t.cuda(), lambda: tinytorch.zeros(2, device="cuda"),
                 lambda: t.to("cuda:0")):
        with pytest.raises(RuntimeError) as info:
            call()
        assert "CUDA is not available" in str(info.value) and reason in str(info.value)


def test_cuda_error_carries_stored_reason(monkeypatch):
    from tinytorch._arrays import _cuda

    monkeypatch.setitem(_cuda._state, "tried", True)
    monkeypatch.setitem(_cuda._state, "cupy", None)
    monkeypatch.setitem(_cuda._state, "reason", "CuPy could not be imported: ImportError: libcudart.so.12 missing")
    with pytest.raises(RuntimeError, match="libcudart.so.12 missing"):
        tinytorch.ones(2).to("cuda")
    assert tinytorch.cuda.is_available() is False
    assert "libcudart" in tinytorch.cuda.unavailable_reason()


@pytest.mark.gpu
def test_cuda_roundtrip():
    t = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    c = t.to("cuda")
    assert c.device.type == "cuda" and c.is_cuda
    (c * 2).sum().backward()
    assert t.grad.device.type == "cpu" and t.grad.tolist() == [2.0, 2.0]
    with pytest.raises(TypeError, match="cpu"):
        c.detach().numpy()
    assert c.cpu().tolist() == [1.0, 2.0]


def test_grad_setter_validates():
    x = tinytorch.zeros(2, requires_grad=True)
    x.grad = tinytorch.ones(2)
    assert x.grad.tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="different size"):
        x.grad = tinytorch.ones(3)
    with pytest.raises(TypeError):
        x.grad = [1.0, 2.0]


# ---- repr vs torch -----------------------------------------------------------------------------

_REPR_CASES = [
    "tensor([1.,2.,3.])", "tensor([1.5,2.25,-3.])", "tensor([[1,2],[3,4]])", "tensor([True,False])",
    "tensor(3.)", "tensor(3)", "tensor(True)", "tensor([])", "zeros(0,3)", "zeros(2,0,dtype=L.int32)",
    "tensor([], dtype=L.int64)", "tensor([1e-5,1.])", "tensor([1e10,1.])", "tensor([1.,2.],requires_grad=True)",
    "tensor([1.,2.],dtype=L.float64)", "tensor([1,2],dtype=L.int32)", "tensor([0.1,0.2],dtype=L.float16)",
    "tensor([1.5,2.],dtype=L.bfloat16)", "tensor(2.5,requires_grad=True)", "tensor(1e-5)", "tensor(123456789.)",
    "tensor([[1.5,2.],[3.,4.]],dtype=L.float64,requires_grad=True)", "tensor([1e-10])",
    "tensor([123456.789, 1.])", "tensor([NAN, 1., INF])", "tensor([0.,0.])", "tensor([-1.,2.])",
    "tensor([1,2],dtype=L.uint8)", "tensor([-5, 100000])", "arange(2000.)", "arange(1500).reshape(30, 50)",
    "tensor([100.5, 2.])", "tensor([1e-3,1.])", "tensor([[1e-5,2.],[3.,4.]])", "arange(12.).reshape(3,4)/7",
    "tensor([[[1,2],[3,4]],[[5,6],[7,8]]])", "tensor([1.,2.]).double()*1e20", "ones(3,requires_grad=True)*2",
    "arange(30.).reshape(2,15)*1.37", "arange(40.).reshape(2,20)*1.37", "tensor([-INF, 2.5])",
    "tensor([1.,2.],dtype=L.float64,requires_grad=True).sum()", "randn(4, 3, generator=L.Generator().manual_seed(0))",
    "(arange(24.).reshape(2,3,4) - 10) / 3", "arange(60.).reshape(3, 20) * 1e-5",
]


def _norm_repr(s):
    s = s.replace("tinytorch.", "torch.")
    return re.sub(r"grad_fn=<\w+>", "grad_fn=<X>", s)


@pytest.mark.parametrize("expr", _REPR_CASES)
def test_repr_matches_torch(expr):
    torch = pytest.importorskip("torch")
    mine = eval(expr, {"L": tinytorch, "NAN": float("nan"), "INF": float("inf")}, vars(tinytorch))
    if "randn" in expr:  # same shape of numbers: print torch's values through both
        mine = tinytorch.tensor(eval(expr, {"L": torch}, vars(torch)).numpy())
    theirs = eval(expr, {"L": torch, "NAN": float("nan"), "INF": float("inf")}, vars(torch))
    assert _norm_repr(repr(mine)) == _norm_repr(repr(theirs))


def test_repr_with_default_float64():
    torch = pytest.importorskip("torch")
    try:
        tinytorch.set_default_dtype(tinytorch.float64)
        torch.set_default_dtype(torch.float64)
        for expr in ["tensor([1.,2.])", "tensor([1.,2.],dtype=L.float32)", "tensor([])", "zeros(0,dtype=L.float32)"]:
            mine = eval(expr, {"L": tinytorch}, vars(tinytorch))
            theirs = eval(expr, {"L": torch}, vars(torch))
            assert _norm_repr(repr(mine)) == _norm_repr(repr(theirs))
    finally:
        tinytorch.set_default_dtype(tinytorch.float32)
        torch.set_default_dtype(torch.float32)


def test_repr_grad_fn_name():
    x = tinytorch.tensor([1.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2.], grad_fn=<MulBackward0>)"


def test_not_picklable_but_deepcopy_works():
    import copy
    import pickle

    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    y = copy.deepcopy(x)
    assert y is not x and y.requires_grad and y.tolist() == x.tolist()
    with pytest.raises(TypeError):
        pickle.dumps(x)


def test_parameter_repr_matches_torch():
    torch = pytest.importorskip("torch")
    if not hasattr(tinytorch.nn, "Parameter"):
        pytest.skip("nn.Parameter not landed yet")
    for mk in (lambda L: L.ones(2), lambda L: L.arange(30.0).reshape(2, 15) * 1.37):
        assert repr(tinytorch.nn.Parameter(mk(tinytorch))) == repr(torch.nn.Parameter(mk(torch)))
