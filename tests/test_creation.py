"""Creation functions: values, dtype inference, memory sharing, random reproducibility."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch


def _same(t, ref):
    assert t.dtype.name == str(ref.dtype).replace("torch.", ""), (t.dtype, ref.dtype)
    assert tuple(t.shape) == tuple(ref.shape)
    np.testing.assert_allclose(tinytorch.Tensor.numpy(t.detach()).astype(np.float64),
                               ref.detach().numpy().astype(np.float64), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("args,kwargs", [
    ((5,), {}), ((1, 4), {}), ((0, 1, 0.1), {}), ((1.0, 2.5, 0.5), {}), ((0, 10, 3), {}), ((-1, 1, 0.3), {}),
    ((0, -5, -1), {}), ((0.5,), {}), ((0, 1, 1 / 3), {}), ((10,), {"dtype": "float64"}), ((0, 5, 2), {"dtype": "float32"}),
    ((0.0, 3.0), {"dtype": "int32"}), ((1, 2.0001, 0.25), {}), ((0, 0.9, 0.3), {}),
])
def test_arange_matches_torch(args, kwargs):
    torch = pytest.importorskip("torch")
    tk = {k: getattr(torch, v) for k, v in kwargs.items()}
    kk = {k: getattr(tinytorch, v) for k, v in kwargs.items()}
    _same(tinytorch.arange(*args, **kk), torch.arange(*args, **tk))


def test_arange_errors():
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        tinytorch.arange(0, 1, 0)
    with pytest.raises(RuntimeError, match="arange"):
        tinytorch.arange(0, 5, -1)


@pytest.mark.parametrize("fn", ["zeros", "ones", "empty"])
def test_filled_creation(fn):
    torch = pytest.importorskip("torch")
    for size in [(2, 3), ((2, 3),), ([4],), (tinytorch.Size([1, 2]),)]:
        t = getattr(tinytorch, fn)(*size)
        tsize = tuple(tuple(s) if isinstance(s, (tuple, list)) else s for s in size)
        r = getattr(torch, fn)(*tsize)
        assert tuple(t.shape) == tuple(r.shape) and t.dtype is tinytorch.float32
    t = getattr(tinytorch, fn)(2, dtype=tinytorch.int16, requires_grad=False)
    assert t.dtype is tinytorch.int16
    t = getattr(tinytorch, fn)(2, requires_grad=True)
    assert t.requires_grad and t.is_leaf
    with pytest.raises(RuntimeError, match="negative dimension"):
        getattr(tinytorch, fn)(-1, 2)


def test_full_linspace_eye_match_torch():
    torch = pytest.importorskip("torch")
    _same(tinytorch.full((2, 3), 1.5), torch.full((2, 3), 1.5))
    _same(tinytorch.full((2,), 7), torch.full((2,), 7))
    _same(tinytorch.full((2,), True), torch.full((2,), True))
    _same(tinytorch.full((2,), 2, dtype=tinytorch.float64), torch.full((2,), 2, dtype=torch.float64))
    _same(tinytorch.linspace(-1, 1, 7), torch.linspace(-1, 1, 7))
    _same(tinytorch.linspace(0, 10, 5, dtype=tinytorch.int64), torch.linspace(0, 10, 5, dtype=torch.int64))
    _same(tinytorch.linspace(2, 3, 1), torch.linspace(2, 3, 1))
    _same(tinytorch.eye(3), torch.eye(3))
    _same(tinytorch.eye(2, 4, dtype=tinytorch.int64), torch.eye(2, 4, dtype=torch.int64))


def test_tensor_infers_dtype_and_copies():
    torch = pytest.importorskip("torch")
    for data in [1.5, 3, True, [1, 2], [1.0, 2], [[True, False]], [], np.arange(3, dtype=np.int32),
                 np.zeros(2, dtype=np.float64), np.float32(2.5)]:
        _same(tinytorch.tensor(data), torch.tensor(data))
    a = np.zeros(3, dtype=np.float32)
    t = tinytorch.tensor(a)
    a[0] = 1
    assert t.tolist() == [0.0, 0.0, 0.0]  # tensor() always copies
    src = tinytorch.ones(2)
    c = tinytorch.tensor(src)
    c.add_(1)
    assert src.tolist() == [1.0, 1.0]
    assert tinytorch.tensor([1, 2], dtype=tinytorch.float64).dtype is tinytorch.float64
    x = tinytorch.tensor([1.0], requires_grad=True)
    assert x.requires_grad and x.is_leaf
    assert tinytorch.tensor([tinytorch.tensor(1.0), tinytorch.tensor(2.0)]).tolist() == [1.0, 2.0]


def test_tensor_bad_data():
    with pytest.raises((TypeError, ValueError), match="tensor"):
        tinytorch.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match="tensor"):
        tinytorch.tensor(["a", "b"])


def test_as_tensor_and_from_numpy_share_memory():
    a = np.zeros(3, dtype=np.float32)
    t = tinytorch.as_tensor(a)
    t.add_(1)
    assert a.tolist() == [1.0, 1.0, 1.0]
    b = tinytorch.as_tensor(a, dtype=tinytorch.float64)  # conversion: a copy
    b.add_(1)
    assert a.tolist() == [1.0, 1.0, 1.0]
    f = tinytorch.from_numpy(a)
    a[2] = 9
    assert f.tolist() == [1.0, 1.0, 9.0]
    assert f.numpy() is a or np.shares_memory(f.numpy(), a)
    x = tinytorch.ones(2)
    assert tinytorch.as_tensor(x) is x
    with pytest.raises(TypeError, match="from_numpy"):
        tinytorch.from_numpy([1, 2])


def test_like_functions():
    torch = pytest.importorskip("torch")
    src = tinytorch.ones(2, 3, dtype=tinytorch.float64)
    tsrc = torch.ones(2, 3, dtype=torch.float64)
    for name in ["zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"]:
        t = getattr(tinytorch, name)(src)
        r = getattr(torch, name)(tsrc)
        assert t.dtype.name == str(r.dtype)[6:] and tuple(t.shape) == tuple(r.shape)
    _same(tinytorch.full_like(src, 4), torch.full_like(tsrc, 4))
    _same(tinytorch.zeros_like(src, dtype=tinytorch.int32), torch.zeros_like(tsrc, dtype=torch.int32))
    r = tinytorch.randint_like(src, 3, 5)
    assert r.dtype is tinytorch.float64 and set(np.unique(r.numpy())) <= {3.0, 4.0}
    assert tinytorch.ones_like(src, requires_grad=True).requires_grad


def test_rand_randn_randint_randperm():
    r = tinytorch.rand(1000)
    a = r.numpy()
    assert r.dtype is tinytorch.float32 and a.min() >= 0 and a.max() < 1
    n = tinytorch.randn(2000, dtype=tinytorch.float64).numpy()
    assert abs(n.mean()) < 0.1 and abs(n.std() - 1) < 0.1
    i = tinytorch.randint(5, (1000,))
    assert i.dtype is tinytorch.int64 and set(np.unique(i.numpy())) == set(range(5))
    j = tinytorch.randint(3, 6, (1000,)).numpy()
    assert set(np.unique(j)) == {3, 4, 5}
    k = tinytorch.randint(low=-2, high=0, size=(50,), dtype=tinytorch.int32)
    assert k.dtype is tinytorch.int32 and set(np.unique(k.numpy())) <= {-2, -1}
    assert tinytorch.randint(10, size=(2, 2)).shape == (2, 2)
    p = tinytorch.randperm(20)
    assert p.dtype is tinytorch.int64 and sorted(p.tolist()) == list(range(20))
    assert tinytorch.rand(2, 3).shape == (2, 3) and tinytorch.randn((2, 3)).shape == (2, 3)
    with pytest.raises(RuntimeError, match="randint"):
        tinytorch.randint(5, 5, (2,))


def test_manual_seed_reproducible():
    tinytorch.manual_seed(123)
    a = (tinytorch.rand(4).tolist(), tinytorch.randn(3).tolist(), tinytorch.randint(100, (3,)).tolist(),
         tinytorch.randperm(5).tolist())
    tinytorch.manual_seed(123)
    b = (tinytorch.rand(4).tolist(), tinytorch.randn(3).tolist(), tinytorch.randint(100, (3,)).tolist(),
         tinytorch.randperm(5).tolist())
    assert a == b
    tinytorch.manual_seed(124)
    assert tinytorch.rand(4).tolist() != a[0]
    assert tinytorch.initial_seed() == 124


def test_rng_state_roundtrip():
    s = tinytorch.get_rng_state()
    assert isinstance(s, tinytorch.Tensor) and s.dtype is tinytorch.uint8
    a = tinytorch.rand(3).tolist()
    tinytorch.set_rng_state(s)
    assert tinytorch.rand(3).tolist() == a


def test_generator():
    g1 = tinytorch.Generator().manual_seed(7)
    g2 = tinytorch.Generator()
    g2.manual_seed(7)
    assert tinytorch.randn(5, generator=g1).tolist() == tinytorch.randn(5, generator=g2).tolist()
    st = g1.get_state()
    x = tinytorch.rand(3, generator=g1).tolist()
    g1.set_state(st)
    assert tinytorch.rand(3, generator=g1).tolist() == x
    # a private generator does not disturb the default one
    tinytorch.manual_seed(0)
    a = tinytorch.rand(2).tolist()
    tinytorch.manual_seed(0)
    tinytorch.rand(2, generator=g1)
    assert tinytorch.rand(2).tolist() == a
    assert g1.initial_seed() == 7
    assert str(g1.device) == "cpu"


def test_cuda_manual_seed_leaves_the_cpu_stream_alone():
    # like torch: tinytorch.manual_seed seeds every device, cuda.manual_seed only CUDA's
    tinytorch.manual_seed(5)
    a = tinytorch.rand(2).tolist()
    tinytorch.manual_seed(5)
    tinytorch.cuda.manual_seed(123)
    assert tinytorch.rand(2).tolist() == a
    assert tinytorch.default_generator._cuda_seed == 123
    tinytorch.manual_seed(7)
    assert tinytorch.default_generator._cuda_seed == 7
    assert tinytorch.manual_seed(1) is tinytorch.default_generator


@pytest.mark.gpu
def test_random_on_cuda_reproducible():
    tinytorch.manual_seed(3)
    a = tinytorch.randn(4, device="cuda")
    tinytorch.manual_seed(3)
    b = tinytorch.randn(4, device="cuda")
    assert a.device.type == "cuda" and a.tolist() == b.tolist()


def test_creation_on_device(device):
    t = tinytorch.zeros(2, device=device)
    assert t.device.type == device
    assert tinytorch.arange(3, device=device).device.type == device
    assert tinytorch.tensor([1.0], device=device).device.type == device
    assert tinytorch.rand(2, device=device).device.type == device


def test_dlpack_roundtrips():
    torch = pytest.importorskip("torch")
    a = np.arange(3.0)
    t = tinytorch.from_dlpack(a)
    t.add_(1)
    assert a.tolist() == [1.0, 2.0, 3.0]
    tt = torch.arange(3.0)
    t2 = tinytorch.from_dlpack(tt)
    t2.mul_(2)
    assert tt.tolist() == [0.0, 2.0, 4.0]
    mine = tinytorch.arange(4.0)
    back = torch.from_dlpack(mine)
    back.add_(1)
    assert mine.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert np.from_dlpack(mine).tolist() == [1.0, 2.0, 3.0, 4.0]


def test_tensor_with_float64_dtype_keeps_python_floats_exact():
    # the data must not pass through the float32 default on its way to float64
    assert tinytorch.tensor([1.0, 2.3], dtype=tinytorch.float64).tolist() == [1.0, 2.3]
    assert tinytorch.tensor(0.1, dtype=tinytorch.float64).item() == 0.1
