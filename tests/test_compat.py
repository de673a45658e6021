"""The tensor API training scripts lean on, checked against PyTorch, plus the legacy/compat names of
tinytorch/_compat.py (legacy typed constructors, finfo/iinfo, compile, autocast, GradScaler, switches)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinytorch

A = np.array([[3.0, -1.0, 2.5, 0.5], [1.5, 4.0, -2.0, 0.25], [-0.75, 2.0, 1.0, 3.5]])  # distinct values: no ties
INTS = np.array([1, 3, 3, 0, 5, 3, 1])
SORTED = np.array([0.5, 1.0, 2.5, 4.0])

# name -> f(torch_like_module, make) where make(ndarray) builds a tensor in that module
CASES = {
    "sort": lambda T, m: T.sort(m(A), dim=1, descending=True),
    "sort_stable": lambda T, m: T.sort(m(INTS), stable=True),
    "argsort": lambda T, m: T.argsort(m(A), dim=0),
    "topk": lambda T, m: T.topk(m(A), 2, dim=1),
    "topk_smallest": lambda T, m: m(A).topk(2, dim=0, largest=False),
    "kthvalue": lambda T, m: T.kthvalue(m(A), 2, dim=1),
    "median": lambda T, m: T.median(m(A)),
    "median_dim": lambda T, m: T.median(m(A), dim=1, keepdim=True),
    "mode": lambda T, m: T.mode(m(INTS)),
    "unique": lambda T, m: T.unique(m(INTS), return_inverse=True, return_counts=True),
    "nonzero": lambda T, m: T.nonzero(m(A) > 1),
    "nonzero_tuple": lambda T, m: T.nonzero(m(A) > 1, as_tuple=True),
    "argwhere": lambda T, m: T.argwhere(m(A) < 0),
    "searchsorted": lambda T, m: T.searchsorted(m(SORTED), m(np.array([0.1, 1.0, 3.0, 9.0]))),
    "searchsorted_right": lambda T, m: T.searchsorted(m(SORTED), m(np.array([1.0, 2.5])), right=True),
    "bincount": lambda T, m: T.bincount(m(INTS)),
    "bincount_weights": lambda T, m: T.bincount(m(INTS), weights=m(np.arange(7.0)), minlength=8),
    "histc": lambda T, m: T.histc(m(A), bins=4, min=-2, max=4),
    "meshgrid": lambda T, m: T.meshgrid(m(np.arange(3.0)), m(np.arange(2.0)), indexing="ij"),
    "meshgrid_xy": lambda T, m: T.meshgrid(m(np.arange(3.0)), m(np.arange(2.0)), indexing="xy"),
    "diag_vec": lambda T, m: T.diag(m(SORTED), 1),
    "diag_mat": lambda T, m: T.diag(m(A), -1),
    "diagonal": lambda T, m: T.diagonal(m(A), offset=1),
    "trace": lambda T, m: T.trace(m(A[:, :3])),
    "cdist": lambda T, m: T.cdist(m(A), m(A[:2] + 0.5)),
    "cdist_p1": lambda T, m: T.cdist(m(A), m(A[:2] + 0.5), p=1.0),
    "allclose": lambda T, m: T.allclose(m(A), m(A + 1e-9)),
    "isclose": lambda T, m: T.isclose(m(A), m(A + np.array([0, 1e-9, 1e-3, 1.0]))),
    "equal": lambda T, m: (T.equal(m(A), m(A.copy())), T.equal(m(A), m(A[:2]))),
    "take_along_dim": lambda T, m: T.take_along_dim(m(A), T.argsort(m(A), dim=1), dim=1),
    "masked_scatter": lambda T, m: m(A).masked_scatter(m(A) > 1, m(np.arange(12.0).reshape(3, 4))),
    "std_mean": lambda T, m: T.std_mean(m(A), dim=1),
    "var_mean": lambda T, m: T.var_mean(m(A), dim=0, correction=0, keepdim=True),
    "clone": lambda T, m: m(A).clone(),
    "numel": lambda T, m: (T.numel(m(A)), m(A).numel()),
    "view_as": lambda T, m: m(A).view_as(m(np.zeros((4, 3)))),
    "t": lambda T, m: m(A).t(),
    "size_dim": lambda T, m: (m(A).size(1), m(A).size(-2), m(A).size()),
    "element_size": lambda T, m: (m(A).element_size(), m(A).float().element_size(), m(INTS).nbytes),
    "type_as": lambda T, m: m(INTS).type_as(m(A)),
    "new_zeros": lambda T, m: m(A).new_zeros((2, 3)),
    "new_ones": lambda T, m: m(INTS).new_ones(2, 2),
    "new_full": lambda T, m: m(A).new_full((2,), 7.5),
    "new_tensor": lambda T, m: (m(A).new_tensor([1, 2]), m(INTS).new_tensor([1.0, 2.0])),
    "new_empty_shape": lambda T, m: (tuple(m(A).new_empty(2, 5).shape), str(m(A).new_empty(1).dtype).split(".")[-1]),
    "legacy_type": lambda T, m: (m(A).float().type(), m(INTS).type(), m(A).type("torch.LongTensor")),
    "is_tensor": lambda T, m: (T.is_tensor(m(A)), T.is_tensor(A)),
    "format": lambda T, m: ("{:+.2f}".format(m(np.array(1.456))), f"{m(np.array(3)):04d}"),
    "isin": lambda T, m: (T.isin(m(INTS), m(np.array([3, 5]))), T.isin(m(INTS), 3, invert=True)),
    "triu_indices": lambda T, m: (T.triu_indices(3, 4), T.triu_indices(4, 3, 1), T.tril_indices(3, 4, -1)),
    "storage_offset": lambda T, m: (m(A)[1:].storage_offset(), m(A)[1, 2:].storage_offset(),
                                    m(A).t()[2].storage_offset(), m(A).storage_offset()),
    "sum_keepdims_alias": lambda T, m: (m(A).sum(1, keepdims=True), T.mean(m(A), axis=0)),
}


def _norm(v):
    """A framework-neutral form of a result: nested tuples of (dtype name, ndarray) / plain values."""
    if hasattr(v, "detach") and hasattr(v, "dtype") and hasattr(v, "shape"):
        return ("tensor", str(v.dtype).split(".")[-1], v.detach().cpu().numpy() if hasattr(v, "cpu") else v)
    if isinstance(v, (tuple, list)):
        return tuple(_norm(x) for x in v)
    if hasattr(v, "__iter__") and not isinstance(v, str):  # torch.Size
        return tuple(v)
    return v


def _assert_same(ours, theirs, path="result"):
    if isinstance(theirs, tuple) and theirs and theirs[0] == "tensor":
        assert isinstance(ours, tuple) and ours[0] == "tensor", f"{path}: expected a tensor, got {ours!r}"
        assert ours[1] == theirs[1], f"{path}: dtype {ours[1]} vs torch {theirs[1]}"
        assert ours[2].shape == theirs[2].shape, f"{path}: shape {ours[2].shape} vs torch {theirs[2].shape}"
        np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-6, atol=1e-7, err_msg=path)
    elif isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), f"{path}: {ours!r} vs torch {theirs!r}"
        for i, (o, t) in enumerate(zip(ours, theirs)):
            _assert_same(o, t, f"{path}[{i}]")
    else:
        assert ours == theirs and type(ours) is type(theirs), f"{path}: {ours!r} vs torch {theirs!r}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_tensor_api_matches_torch(name):
    torch = pytest.importorskip("torch")
    fn = CASES[name]
    ours = _norm(fn(tinytorch, lambda a: tinytorch.tensor(a)))
    theirs = _norm(fn(torch, lambda a: torch.tensor(a)))
    _assert_same(ours, theirs)


def test_named_tuple_fields():
    v = tinytorch.tensor(A)
    r = v.topk(2)
    assert r.values.shape == (3, 2) and r.indices.dtype is tinytorch.int64
    assert tinytorch.sort(v).indices.dtype is tinytorch.int64
    assert tinytorch.median(v, 0).values.shape == (4,)
    assert tinytorch.kthvalue(v, 1, 0).indices.tolist() == [2, 0, 1, 1]


# ---- random sampling and generators ----------------------------------------------------------------------
def test_generator_and_rng_state_reproduce():
    g = tinytorch.Generator()
    assert g.manual_seed(3) is g
    a = tinytorch.randn(5, generator=g)
    g.manual_seed(3)
    assert tinytorch.equal(a, tinytorch.randn(5, generator=g))
    state = tinytorch.get_rng_state()
    x = tinytorch.rand(4)
    tinytorch.set_rng_state(state)
    assert tinytorch.equal(x, tinytorch.rand(4))
    assert not tinytorch.equal(x, tinytorch.rand(4))


def test_random_fills_and_samplers():
    x = tinytorch.empty(4000).normal_(2.0, 0.5)
    assert abs(x.mean().item() - 2.0) < 0.05 and abs(x.std().item() - 0.5) < 0.05
    e = tinytorch.empty(4000).exponential_(4.0)
    assert e.min().item() >= 0 and abs(e.mean().item() - 0.25) < 0.03
    r = tinytorch.empty(500, dtype=tinytorch.int64).random_(2, 5)
    assert set(r.tolist()) == {2, 3, 4} and r.dtype is tinytorch.int64
    p = tinytorch.randperm(7)
    assert p.dtype is tinytorch.int64 and sorted(p.tolist()) == list(range(7))
    probs = tinytorch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    assert tinytorch.multinomial(probs, 3, replacement=True).tolist() == [[2, 2, 2], [0, 0, 0]]
    assert probs[0].multinomial(1).tolist() == [2]
    assert sorted(tinytorch.multinomial(tinytorch.ones(4), 4).tolist()) == [0, 1, 2, 3]  # without replacement
    assert tinytorch.bernoulli(tinytorch.tensor([0.0, 1.0, 1.0])).tolist() == [0.0, 1.0, 1.0]
    assert tinytorch.tensor([1.0, 0.0]).bernoulli().tolist() == [1.0, 0.0]


# ---- Tensor.data and constructors --------------------------------------------------------------------------
def test_data_is_a_detached_alias():
    w = tinytorch.ones(2, 2, requires_grad=True)
    d = w.data
    assert not d.requires_grad and d.grad_fn is None
    d.mul_(3)  # writes through, outside autograd, as torch's .data does
    assert w.tolist() == [[3.0, 3.0], [3.0, 3.0]] and w.requires_grad
    w.data = tinytorch.zeros(2, 2)
    assert w.requires_grad and w.sum().item() == 0.0


def test_tensor_class_constructor_and_legacy_types():
    assert tinytorch.Tensor(3, 4).shape == (3, 4) and tinytorch.Tensor(3, 4).dtype is tinytorch.float32
    assert tinytorch.Tensor([1, 2]).dtype is tinytorch.float32 and tinytorch.Tensor([1, 2]).tolist() == [1.0, 2.0]
    assert tinytorch.Tensor().shape == (0,)
    assert tinytorch.Tensor(tinytorch.Size([2, 3])).shape == (2, 3)
    f = tinytorch.FloatTensor(2, 3)
    assert f.shape == (2, 3) and f.dtype is tinytorch.float32
    assert tinytorch.LongTensor([1.7, -2.5]).tolist() == [1, -2]  # truncation toward zero, like torch
    assert tinytorch.DoubleTensor([1]).dtype is tinytorch.float64
    assert tinytorch.BoolTensor([1, 0]).tolist() == [True, False]
    assert tinytorch.ByteTensor(2).dtype is tinytorch.uint8 and tinytorch.IntTensor([3]).dtype is tinytorch.int32
    assert isinstance(f, tinytorch.FloatTensor) and isinstance(f, tinytorch.Tensor)
    assert not isinstance(f, tinytorch.LongTensor) and not isinstance(f.double(), tinytorch.FloatTensor)
    assert not isinstance([1.0], tinytorch.FloatTensor)
    assert isinstance(tinytorch.arange(3), tinytorch.LongTensor)
    t = tinytorch.tensor([1.0, 2.0])
    assert tinytorch.FloatTensor(t) is t
    with pytest.raises(TypeError, match="FloatTensor.*int64"):
        tinytorch.FloatTensor(tinytorch.arange(3))
    assert f.type() == "torch.FloatTensor" and tinytorch.arange(2).type() == "torch.LongTensor"


def test_dtype_aliases_and_default_dtype():
    assert tinytorch.long is tinytorch.int64 and tinytorch.float is tinytorch.float32
    assert tinytorch.double is tinytorch.float64 and tinytorch.half is tinytorch.float16
    old = tinytorch.get_default_dtype()
    assert old is tinytorch.float32
    try:
        tinytorch.set_default_dtype(tinytorch.float64)
        assert tinytorch.get_default_dtype() is tinytorch.float64
        assert tinytorch.tensor([1.0]).dtype is tinytorch.float64 and tinytorch.zeros(1).dtype is tinytorch.float64
        assert tinytorch.Tensor(2).dtype is tinytorch.float64
        assert tinytorch.FloatTensor(2).dtype is tinytorch.float32  # a typed constructor ignores the default
        assert tinytorch.finfo().dtype == "float64"
    finally:
        tinytorch.set_default_dtype(old)


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64"])
def test_finfo_matches_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = tinytorch.finfo(getattr(tinytorch, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = tinytorch.iinfo(getattr(tinytorch, name)), torch.iinfo(getattr(torch, name))
    for field in ("bits", "max", "min", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field


def test_finfo_iinfo_errors():
    with pytest.raises(TypeError, match="finfo.*int32"):
        tinytorch.finfo(tinytorch.int32)
    with pytest.raises(TypeError, match="iinfo.*float32"):
        tinytorch.iinfo(tinytorch.float32)
    assert tinytorch.finfo(tinytorch.float32).eps == float(np.finfo(np.float32).eps)


# ---- compile, autocast, GradScaler -------------------------------------------------------------------------
def test_compile_signature_and_pass_through():
    """The compat surface only; tracing and replay are tested in tests/compile/."""
    model = tinytorch.nn.Linear(2, 2)
    assert tinytorch.compile(model, disable=True) is model
    compiled = tinytorch.compile(model, mode="max-autotune")
    assert compiled._orig_mod is model

    @tinytorch.compile(fullgraph=True)
    def f(x):
        return x + 1

    assert f(1) == 2 and f(tinytorch.ones(1)).item() == 2.0
    with pytest.raises(RuntimeError, match="mode"):
        tinytorch.compile(model, mode="fastest")


def test_autocast_names_and_decorator():
    """The compat surface only; the policy itself is tested in tests/amp/."""
    x = tinytorch.ones(2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with tinytorch.autocast(device_type="cpu", dtype=tinytorch.bfloat16):
            assert (x @ x).dtype is tinytorch.bfloat16
            assert tinytorch.is_autocast_enabled("cpu") and tinytorch.get_autocast_dtype("cpu") is tinytorch.bfloat16
        assert (x @ x).dtype is tinytorch.float32

        @tinytorch.autocast("cpu", enabled=False)
        def f(a):
            return a @ a

        assert f(x).dtype is tinytorch.float32
    with pytest.raises(RuntimeError, match="device_type"):
        tinytorch.autocast("tpu")
    with pytest.warns(FutureWarning):
        tinytorch.cuda.amp.autocast(enabled=False)


def _tiny_step(scaler, opt, model, x):
    opt.zero_grad()
    loss = model(x).sum()
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()


def test_grad_scaler_disabled_is_a_pass_through():
    model = tinytorch.nn.Linear(3, 1)
    opt = tinytorch.optim.SGD(model.parameters(), lr=0.1)
    s = tinytorch.amp.GradScaler(enabled=False)
    loss = model(tinytorch.ones(2, 3)).sum()
    assert s.scale(loss) is loss and s.get_scale() == 1.0 and not s.is_enabled() and s.state_dict() == {}
    before = model.weight.detach().clone()
    _tiny_step(s, opt, model, tinytorch.ones(2, 3))
    assert not tinytorch.equal(before, model.weight.detach())


def test_grad_scaler_without_cuda_disables_itself_with_a_warning():
    if tinytorch.cuda.is_available():
        pytest.skip("CUDA is available: the scaler stays enabled")
    with pytest.warns(UserWarning, match="Disabling"):
        s = tinytorch.amp.GradScaler("cuda")
    assert not s.is_enabled()
    with pytest.warns(FutureWarning, match="deprecated"):
        tinytorch.cuda.amp.GradScaler(enabled=False)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # the deliberate inf input
def test_grad_scaler_enabled_scales_unscales_and_skips_inf(monkeypatch):
    # scaling logic is device-independent: pretend CUDA is there so the scaler enables on the CPU
    from tinytorch.amp import grad_scaler

    monkeypatch.setattr(grad_scaler._arrays, "cuda_available", lambda: True)
    s = tinytorch.amp.GradScaler(init_scale=8.0, growth_interval=2)
    model = tinytorch.nn.Linear(3, 1)
    opt = tinytorch.optim.SGD(model.parameters(), lr=0.0)
    x = tinytorch.ones(2, 3)
    assert s.scale(model(x).sum()).item() == pytest.approx(8 * model(x).sum().item(), rel=1e-6)
    opt.zero_grad()
    s.scale(model(x).sum()).backward()
    s.unscale_(opt)
    assert model.weight.grad.tolist() == [[2.0, 2.0, 2.0]]  # the true gradient, scale divided out
    with pytest.raises(RuntimeError, match="already been called"):
        s.unscale_(opt)
    s.step(opt)
    s.update()
    _tiny_step(s, opt, model, x)
    assert s.get_scale() == 16.0  # grown after growth_interval=2 clean steps
    # an inf gradient: the step is skipped and the scale backs off
    opt2 = tinytorch.optim.SGD(model.parameters(), lr=1.0)
    before = model.weight.detach().clone()
    opt2.zero_grad()
    s.scale(model(x * float("inf")).sum()).backward()
    assert s.step(opt2) is None
    s.update()
    assert tinytorch.equal(before, model.weight.detach()) and s.get_scale() == 8.0
    sd = s.state_dict()
    s2 = tinytorch.amp.GradScaler(init_scale=1.0)
    s2.load_state_dict(sd)
    assert s2.get_scale() == 8.0
    with pytest.raises(ValueError, match="growth_factor"):
        tinytorch.amp.GradScaler(growth_factor=0.5)


# ---- switches and namespaces -------------------------------------------------------------------------------
def test_backend_switches_single_source_of_truth():
    m = tinytorch.backends.cuda.matmul
    old = tinytorch.get_float32_matmul_precision()
    try:
        assert old == "highest" and m.allow_tf32 is False
        tinytorch.set_float32_matmul_precision("high")
        assert m.allow_tf32 is True and tinytorch.backends.cuda.matmul_allows_tf32()
        m.allow_tf32 = False
        assert tinytorch.get_float32_matmul_precision() == "highest"
        with pytest.raises(RuntimeError, match="precision"):
            tinytorch.set_float32_matmul_precision("low")
        with pytest.raises(AttributeError):
            m.allow_tf33 = True  # a typo is an error, not a silently ignored setting
    finally:
        tinytorch.set_float32_matmul_precision(old)
    cudnn = tinytorch.backends.cudnn
    cudnn.benchmark = True
    cudnn.deterministic = True
    cudnn.allow_tf32 = False
    import tinytorch.backends.cudnn as cudnn_mod
    assert cudnn_mod.benchmark is True and cudnn_mod.is_available() is False
    cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32 = False, False, True
    assert tinytorch.backends.mps.is_available() is False


def test_threads():
    n = tinytorch.get_num_threads()
    assert isinstance(n, int) and n >= 1
    tinytorch.set_num_threads(1)
    assert tinytorch.get_num_threads() == 1
    with pytest.raises(ValueError):
        tinytorch.set_num_threads(0)


def test_cuda_queries_without_gpu():
    if tinytorch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert tinytorch.cuda.is_bf16_supported() is False
    tinytorch.cuda.manual_seed_all(0)  # a no-op-safe call in CPU-only scripts
    tinytorch.cuda.set_device(-1)
    with pytest.raises(RuntimeError, match="CUDA"):
        tinytorch.cuda.current_device()
    with pytest.raises(RuntimeError, match="CUDA"):
        tinytorch.cuda.get_device_name(0)
    with pytest.raises(ValueError, match="CUDA device"):
        tinytorch.cuda.set_device("cpu")


def test_distributed_and_parallel_wrappers():
    import tinytorch.distributed as dist
    from tinytorch.nn.parallel import DataParallel, DistributedDataParallel

    assert dist.is_initialized() is False  # tests/distributed/ runs real process groups under mpiexec
    with pytest.raises(ValueError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(ValueError, match="unsupported backend"):
        dist.init_process_group("bogus")
    lin = tinytorch.nn.Linear(2, 1)
    dp = tinytorch.nn.DataParallel(lin)
    assert isinstance(dp, DataParallel) and dp.module is lin
    x = tinytorch.ones(3, 2)
    assert tinytorch.equal(dp(x), lin(x))
    assert sorted(dp.state_dict()) == ["module.bias", "module.weight"]
    with pytest.raises(ValueError, match="process group"):
        DistributedDataParallel(lin)


def test_printoptions_determinism_version_pinning():
    from tinytorch import _format

    try:
        tinytorch.set_printoptions(precision=2)
        assert repr(tinytorch.tensor([1.23456])) == "tensor([1.23])"
        tinytorch.set_printoptions(threshold=5, edgeitems=1)
        assert "..." in repr(tinytorch.arange(10))
    finally:
        tinytorch.set_printoptions(profile="default")
    assert repr(tinytorch.tensor([1.23456])) == "tensor([1.2346])" and _format.THRESHOLD == 1000
    with pytest.raises(ValueError, match="profile"):
        tinytorch.set_printoptions(profile="tiny")
    tinytorch.use_deterministic_algorithms(True, warn_only=True)
    assert tinytorch.are_deterministic_algorithms_enabled()
    assert tinytorch.is_deterministic_algorithms_warn_only_enabled()
    tinytorch.use_deterministic_algorithms(False)
    assert not tinytorch.are_deterministic_algorithms_enabled()
    assert tinytorch.version.cuda is None and tinytorch.version.__version__ == tinytorch.__version__
    t = tinytorch.ones(2)
    assert t.pin_memory() is t and t.is_pinned() is False


def test_legacy_variable_and_type_classes():
    import warnings

    from tinytorch.autograd import Variable

    t = tinytorch.ones(2)
    v = Variable(t, requires_grad=True)
    assert v is not t and v.requires_grad and v.is_leaf and not t.requires_grad
    v.data[0] = 5.0  # shares t's storage, as torch's Variable does
    assert t.tolist() == [5.0, 1.0]
    y = v * 2
    assert Variable(y).grad_fn is None and not Variable(y).requires_grad
    assert isinstance(t, Variable) and not isinstance([1], Variable)
    with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
        Variable([1, 2])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        Variable(t, volatile=True)
    assert any("volatile was removed" in str(x.message) for x in w)
    # .type() with a legacy class, on tensors and modules
    assert tinytorch.arange(3).type(tinytorch.FloatTensor).dtype == tinytorch.float32
    lin = tinytorch.nn.Linear(2, 2).type(tinytorch.DoubleTensor)
    assert lin.weight.dtype == tinytorch.float64
    assert lin.type(tinytorch.float32).weight.dtype == tinytorch.float32
