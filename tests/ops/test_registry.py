"""Generic checks over every op in the registry, on every available device.

Nothing here names an op: registering an ``OpInfo`` in its family's module under tests/opinfo/ is enough to
get forward-vs-NumPy, float64 gradcheck (contiguous and not), gradgradcheck, float32
agreement and (when PyTorch is installed) forward/backward agreement with PyTorch.
"""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
from tinytorch.autograd import gradcheck, gradgradcheck
from tests.opinfo import registry

from tests.helpers import build_args, host, np_args, outputs_of

OPS = registry.all_ops()
OP_IDS = [op.name for op in OPS]


def _samples(op):
    return op.sample_inputs(np.random.default_rng(0))


def _flat(args, kwargs):
    """Tensors that require grad, flattened, and a function rebuilding (args, kwargs) from them."""
    flat = []
    spec = []
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, tinytorch.Tensor) and a.requires_grad:
            spec.append(("t", 1))
            flat.append(a)
        elif isinstance(a, list) and a and all(isinstance(t, tinytorch.Tensor) for t in a):
            spec.append(("l", len(a)))
            flat.extend(a)
        else:
            spec.append(("c", a))
    keys = list(kwargs)

    def rebuild(*ts):
        it = iter(ts)
        vals = []
        for kind, v in spec:
            if kind == "t":
                vals.append(next(it))
            elif kind == "l":
                vals.append([next(it) for _ in range(v)])
            else:
                vals.append(v)
        n = len(args)
        return tuple(vals[:n]), dict(zip(keys, vals[n:]))

    return flat, rebuild


def _call(op, fn=None):
    fn = fn or op.op
    if op.nondeterministic:
        def call(*a, **k):
            tinytorch.manual_seed(0)
            return fn(*a, **k)
        return call
    return fn


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_forward_matches_numpy_reference(op, device):
    if op.ref is None or op.nondeterministic:
        pytest.skip(f"{op.name}: no NumPy reference")
    if device == "cuda" and not op.gpu:
        pytest.skip(f"{op.name}: CPU only")
    for s in _samples(op):
        args, kwargs = build_args(s, device, requires_grad=False)
        got = outputs_of(op.op(*args, **kwargs))
        nargs, nkwargs = np_args(s)
        want = op.ref(*nargs, **nkwargs)
        want = list(want) if isinstance(want, (tuple, list)) else [want]
        assert len(got) == len(want), f"{op.name}[{s.name}]: {len(got)} outputs, reference has {len(want)}"
        for g, w in zip(got, want):
            assert tuple(g.shape) == np.shape(w), f"{op.name}[{s.name}]: shape {tuple(g.shape)} != {np.shape(w)}"
            np.testing.assert_allclose(host(g).astype(np.float64), np.asarray(w, dtype=np.float64),
                                       atol=op.atol, rtol=op.rtol, err_msg=f"{op.name}[{s.name}]")


@pytest.mark.parametrize("noncontig", [False, True], ids=["contiguous", "noncontiguous"])
@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_gradcheck(op, device, noncontig):
    if not op.gradcheck:
        pytest.skip(f"{op.name}: not differentiable")
    if noncontig and op.skip_noncontiguous:
        pytest.skip(f"{op.name}: non-contiguous variant skipped")
    if device == "cuda" and not op.gpu:
        pytest.skip(f"{op.name}: CPU only")
    fn = _call(op)
    for s in _samples(op):
        args, kwargs = build_args(s, device, noncontig=noncontig)
        flat, rebuild = _flat(args, kwargs)
        if not flat:
            continue

        def f(*ts):
            a, k = rebuild(*ts)
            return fn(*a, **k)

        assert gradcheck(f, tuple(flat), atol=op.gradcheck_atol, rtol=op.gradcheck_rtol), f"{op.name}[{s.name}]"


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_fast_and_differentiable_backward_agree(op, device):
    """First-order gradients take an op's ``backward_arrays`` fast path when it has one; with
    ``create_graph=True`` the composed ``backward`` runs instead. gradcheck sees the first and
    gradgradcheck only differentiates the second, so the two must be checked against each other."""
    if not op.gradcheck:
        pytest.skip(f"{op.name}: not differentiable")
    if device == "cuda" and not op.gpu:
        pytest.skip(f"{op.name}: CPU only")
    fn = _call(op)
    for s in _samples(op):
        args, kwargs = build_args(s, device)
        flat, rebuild = _flat(args, kwargs)
        if not flat:
            continue
        a, k = rebuild(*flat)
        outs = [o for o in outputs_of(fn(*a, **k)) if o.requires_grad]
        if not outs:
            continue
        rng = np.random.default_rng(3)
        gos = [tinytorch.tensor(rng.standard_normal(tuple(o.shape)), device=device, dtype=o.dtype) for o in outs]
        fast = tinytorch.autograd.grad(outs, flat, gos, retain_graph=True, allow_unused=True)
        composed = tinytorch.autograd.grad(outs, flat, gos, create_graph=True, allow_unused=True)
        for i, (x, y) in enumerate(zip(fast, composed)):
            if x is None or y is None:
                assert (x is None or not host(x).any()) and (y is None or not host(y).any()), f"{op.name}[{s.name}] input {i}"
                continue
            np.testing.assert_allclose(host(x), host(y), rtol=1e-10, atol=1e-12,
                                       err_msg=f"{op.name}[{s.name}]: backward_arrays and backward disagree for input {i}")


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_gradgradcheck(op, device):
    if not (op.gradcheck and op.gradgradcheck):
        pytest.skip(f"{op.name}: not twice differentiable (or not smooth)")
    if device == "cuda" and not op.gpu:
        pytest.skip(f"{op.name}: CPU only")
    fn = _call(op)
    for s in _samples(op)[:2]:
        args, kwargs = build_args(s, device)
        flat, rebuild = _flat(args, kwargs)
        if not flat:
            continue

        def f(*ts):
            a, k = rebuild(*ts)
            return fn(*a, **k)

        assert gradgradcheck(f, tuple(flat), atol=op.gradcheck_atol, rtol=op.gradcheck_rtol), f"{op.name}[{s.name}]"


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_float32_matches_float64(op, device):
    if not op.float32 or op.nondeterministic:
        pytest.skip(f"{op.name}: float32 comparison disabled")
    if device == "cuda" and not op.gpu:
        pytest.skip(f"{op.name}: CPU only")
    for s in _samples(op):
        a64, k64 = build_args(s, device, np.float64)
        a32, k32 = build_args(s, device, np.float32)
        o64 = outputs_of(op.op(*a64, **k64))
        o32 = outputs_of(op.op(*a32, **k32))
        for x32, x64 in zip(o32, o64):
            if x64.is_floating_point():
                assert x32.dtype == tinytorch.float32, f"{op.name}[{s.name}]: float32 inputs gave {x32.dtype}"
            np.testing.assert_allclose(host(x32).astype(np.float64), host(x64), atol=op.float32_atol,
                                       rtol=op.float32_rtol, err_msg=f"{op.name}[{s.name}] forward")
        # gradients too
        outs64 = [o for o in o64 if o.requires_grad]
        outs32 = [o for o in o32 if o.requires_grad]
        if not outs64:
            continue
        f64, _ = _flat(a64, k64)
        f32, _ = _flat(a32, k32)
        rng = np.random.default_rng(1)
        gos = [rng.standard_normal(tuple(o.shape)) for o in outs64]
        g64 = tinytorch.autograd.grad(outs64, f64, [tinytorch.tensor(g, device=device, dtype=tinytorch.float64) for g in gos], allow_unused=True)
        g32 = tinytorch.autograd.grad(outs32, f32, [tinytorch.tensor(g, device=device, dtype=tinytorch.float32) for g in gos], allow_unused=True)
        for x32, x64 in zip(g32, g64):
            if x64 is None:
                assert x32 is None
                continue
            assert x32.dtype == tinytorch.float32
            np.testing.assert_allclose(host(x32).astype(np.float64), host(x64), atol=op.float32_atol * 10,
                                       rtol=op.float32_rtol * 10, err_msg=f"{op.name}[{s.name}] gradient")


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_matches_pytorch(op):
    torch = pytest.importorskip("torch")
    if op.torch_fn is None or op.nondeterministic:
        pytest.skip(f"{op.name}: no PyTorch counterpart declared")

    def to_torch(x):
        if isinstance(x, tinytorch.Tensor):
            t = torch.from_numpy(np.array(host(x)))
            return t.requires_grad_(x.requires_grad)
        if isinstance(x, list) and x and isinstance(x[0], tinytorch.Tensor):
            return [to_torch(i) for i in x]
        return x

    for s in _samples(op):
        args, kwargs = build_args(s, "cpu")
        targs = tuple(to_torch(a) for a in args)
        tkwargs = {k: to_torch(v) for k, v in kwargs.items()}
        got = outputs_of(op.op(*args, **kwargs))
        want = op.torch_fn(torch, *targs, **tkwargs)
        want = list(want) if isinstance(want, (tuple, list)) else [want]
        for g, w in zip(got, want):
            np.testing.assert_allclose(host(g).astype(np.float64), w.detach().double().numpy(), atol=op.atol,
                                       rtol=op.rtol, err_msg=f"{op.name}[{s.name}] forward vs torch")
        flat, _ = _flat(args, kwargs)
        tflat, _ = _flat_torch(targs, tkwargs, torch)
        gouts = [(g, w) for g, w in zip(got, want) if g.requires_grad and w.requires_grad]
        if not flat or not gouts:
            continue
        rng = np.random.default_rng(2)
        vs = [rng.standard_normal(tuple(g.shape)) for g, _ in gouts]
        ours = tinytorch.autograd.grad([g for g, _ in gouts], flat, [tinytorch.tensor(v, dtype=tinytorch.float64) for v in vs], allow_unused=True)
        theirs = torch.autograd.grad([w for _, w in gouts], tflat, [torch.from_numpy(v) for v in vs], allow_unused=True)
        for a, b in zip(ours, theirs):
            if a is None or b is None:
                assert (a is None or not host(a).any()) and (b is None or not b.any())
                continue
            np.testing.assert_allclose(host(a), b.numpy(), atol=op.atol * 10, rtol=op.rtol * 10,
                                       err_msg=f"{op.name}[{s.name}] gradient vs torch")


def _flat_torch(args, kwargs, torch):
    flat = []
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, torch.Tensor) and a.requires_grad:
            flat.append(a)
        elif isinstance(a, list) and a and all(isinstance(t, torch.Tensor) for t in a):
            flat.extend(a)
    return flat, None


def test_registry_is_not_empty():
    # 276 OpInfos with 638 samples when the registrations moved from tinytorch/ops/ to tests/opinfo/ (issue #16):
    # a family module that stops being imported, or a registration lost in a move, fails here
    assert len(OPS) >= 276
    assert sum(len(_samples(op)) for op in OPS) >= 638


def test_the_library_does_not_import_the_registry():
    """Sample inputs and NumPy references live in tests/opinfo/; nothing under tinytorch/ imports them."""
    import pathlib
    import re

    root = pathlib.Path(tinytorch.__file__).parent
    bad = [str(p.relative_to(root)) for p in root.rglob("*.py")
           if re.search(r"^\s*(from|import)\s+(tests\b|\.+registry\b|tinytorch\.ops\.registry\b)", p.read_text(),
                        re.MULTILINE)]
    assert not bad, f"tinytorch modules importing test code: {bad}"


def test_gradcheck_catches_a_wrong_backward(monkeypatch):
    """Substitute a deliberately wrong gradient for mul and require the registry check to fail."""
    from tinytorch.ops import elementwise

    def wrong_backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (elementwise.mul(grad, a) if ctx.needs_input_grad[0] else None,
                elementwise.mul(grad, b) if ctx.needs_input_grad[1] else None)  # a and b swapped

    monkeypatch.setattr(elementwise.Mul, "backward", staticmethod(wrong_backward))
    monkeypatch.setattr(elementwise.Mul, "backward_arrays", None)  # else the first-order fast path runs
    op = registry.get("mul")
    with pytest.raises(tinytorch.autograd.GradcheckError):
        test_gradcheck(op, "cpu", False)


def test_gradgradcheck_catches_a_wrong_double_backward(monkeypatch):
    """exp's backward made to use a detached output: first order stays right, second order breaks."""
    from tinytorch.ops import elementwise

    def detached_backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return elementwise.mul(grad, y.detach())

    exp_function = type(elementwise.exp(tinytorch.ones(1, requires_grad=True)).grad_fn)  # the table's Exp class
    monkeypatch.setattr(exp_function, "backward", staticmethod(detached_backward))
    op = registry.get("exp")
    test_gradcheck(op, "cpu", False)  # first order still fine
    with pytest.raises(tinytorch.autograd.GradcheckError):
        test_gradgradcheck(op, "cpu")


def test_backward_agreement_catches_a_wrong_composed_backward(monkeypatch):
    """mul's fast path stays right while its composed backward is made wrong: the check must fail."""
    from tinytorch.ops import elementwise

    def wrong_backward(ctx, grad):
        return elementwise.mul(grad, 2.0), None

    monkeypatch.setattr(elementwise.Mul, "backward", staticmethod(wrong_backward))
    with pytest.raises(AssertionError, match="disagree"):
        test_fast_and_differentiable_backward_agree(registry.get("mul"), "cpu")
