"""The op registry entries for tinytorch/ops/linalg.py: sample inputs, NumPy references, PyTorch counterparts."""
from __future__ import annotations

import numpy as np

from tinytorch.ops.linalg import (
    addmm, addmv, addr, baddbmm, bilinear, bmm, cdist, dot, einsum, inner, kron, linear, matmul, mm, mv, outer,
    tensordot,
)
from tests.opinfo.registry import OpInfo, randn, register, SampleInput


def _reg(name, fn, samples, ref, torch_fn, **kw):
    register(OpInfo(name, fn, samples, ref=ref, torch_fn=torch_fn, **kw))


_reg("matmul", matmul, lambda rng: [
    SampleInput((randn(rng, 3, 4), randn(rng, 4, 2)), name="2d"),
    SampleInput((randn(rng, 4), randn(rng, 4)), name="1d_1d"),
    SampleInput((randn(rng, 2, 3, 4), randn(rng, 4)), name="batched_vec"),
    SampleInput((randn(rng, 3), randn(rng, 2, 3, 2)), name="vec_batched"),
    SampleInput((randn(rng, 2, 1, 2, 3), randn(rng, 3, 3, 2)), name="batch_broadcast")],
    lambda a, b: np.matmul(a, b), lambda torch, a, b: torch.matmul(a, b))
_reg("mm", mm, lambda rng: [SampleInput((randn(rng, 3, 4), randn(rng, 4, 2)))], np.matmul, lambda torch, a, b: torch.mm(a, b))
_reg("bmm", bmm, lambda rng: [SampleInput((randn(rng, 2, 3, 4), randn(rng, 2, 4, 2)))], np.matmul, lambda torch, a, b: torch.bmm(a, b))
_reg("mv", mv, lambda rng: [SampleInput((randn(rng, 3, 4), randn(rng, 4)))], np.matmul, lambda torch, a, b: torch.mv(a, b))
_reg("dot", dot, lambda rng: [SampleInput((randn(rng, 5), randn(rng, 5)))], np.dot, lambda torch, a, b: torch.dot(a, b))
_reg("inner", inner, lambda rng: [SampleInput((randn(rng, 2, 3), randn(rng, 4, 3)))], np.inner, lambda torch, a, b: torch.inner(a, b))
_reg("outer", outer, lambda rng: [SampleInput((randn(rng, 3), randn(rng, 4)))], np.outer, lambda torch, a, b: torch.outer(a, b))
_reg("addmm", addmm, lambda rng: [
    SampleInput((randn(rng, 3, 2), randn(rng, 3, 4), randn(rng, 4, 2))),
    SampleInput((randn(rng, 2), randn(rng, 3, 4), randn(rng, 4, 2)), {"beta": 0.5, "alpha": -2.0}, name="broadcast_scaled")],
    lambda i, a, b, beta=1, alpha=1: beta * i + alpha * (a @ b),
    lambda torch, i, a, b, beta=1, alpha=1: torch.addmm(i, a, b, beta=beta, alpha=alpha))
_reg("addmv", addmv, lambda rng: [SampleInput((randn(rng, 3), randn(rng, 3, 4), randn(rng, 4)), {"alpha": 2.0})],
     lambda i, a, b, beta=1, alpha=1: beta * i + alpha * (a @ b),
     lambda torch, i, a, b, beta=1, alpha=1: torch.addmv(i, a, b, beta=beta, alpha=alpha))
_reg("addr", addr, lambda rng: [SampleInput((randn(rng, 3, 4), randn(rng, 3), randn(rng, 4)), {"beta": 2.0})],
     lambda i, a, b, beta=1, alpha=1: beta * i + alpha * np.outer(a, b),
     lambda torch, i, a, b, beta=1, alpha=1: torch.addr(i, a, b, beta=beta, alpha=alpha))
_reg("baddbmm", baddbmm, lambda rng: [SampleInput((randn(rng, 3, 2), randn(rng, 2, 3, 4), randn(rng, 2, 4, 2)), {"beta": 0.5})],
     lambda i, a, b, beta=1, alpha=1: beta * i + alpha * (a @ b),
     lambda torch, i, a, b, beta=1, alpha=1: torch.baddbmm(i, a, b, beta=beta, alpha=alpha))
_reg("einsum", einsum, lambda rng: [
    SampleInput(("bij,bjk->bik", randn(rng, 2, 3, 4), randn(rng, 2, 4, 2)), name="bmm"),
    SampleInput(("ii->i", randn(rng, 4, 4)), name="diagonal"),
    SampleInput(("ii", randn(rng, 3, 3)), name="trace_implicit"),
    SampleInput(("ij,k->ijk", randn(rng, 2, 3), randn(rng, 4)), name="outer"),
    SampleInput(("...ij,...j->...i", randn(rng, 2, 3, 4), randn(rng, 1, 4)), name="ellipsis_broadcast"),
    SampleInput(("ij,jk,kl->il", randn(rng, 2, 3), randn(rng, 3, 4), randn(rng, 4, 2)), name="chain"),
    SampleInput(("ijk->k", randn(rng, 2, 3, 4)), name="sum_out")],
    lambda eq, *ops: np.einsum(eq, *ops), lambda torch, eq, *ops: torch.einsum(eq, *ops))
_reg("tensordot", tensordot, lambda rng: [
    SampleInput((randn(rng, 2, 3, 4), randn(rng, 3, 4, 2))),
    SampleInput((randn(rng, 2, 3, 4), randn(rng, 4, 5, 2), ([0, 2], [2, 0])), name="lists")],
    lambda a, b, d=2: np.tensordot(a, b, d), lambda torch, a, b, d=2: torch.tensordot(a, b, d))
_reg("kron", kron, lambda rng: [SampleInput((randn(rng, 2, 3), randn(rng, 3, 2))), SampleInput((randn(rng, 2), randn(rng, 2, 3)), name="ranks")],
     np.kron, lambda torch, a, b: torch.kron(a, b))
_reg("linear", linear, lambda rng: [
    SampleInput((randn(rng, 2, 3, 4), randn(rng, 5, 4), randn(rng, 5)), name="bias_3d"),
    SampleInput((randn(rng, 3, 4), randn(rng, 2, 4)), name="no_bias"),
    SampleInput((randn(rng, 4), randn(rng, 2, 4), randn(rng, 2)), name="vector_input")],
    lambda x, w, b=None: x @ w.T + (0 if b is None else b),
    lambda torch, x, w, b=None: torch.nn.functional.linear(x, w, b))
_reg("bilinear", bilinear, lambda rng: [
    SampleInput((randn(rng, 3, 2), randn(rng, 3, 4), randn(rng, 2, 2, 4), randn(rng, 2))),
    SampleInput((randn(rng, 2, 2), randn(rng, 2, 3), randn(rng, 3, 2, 3)), name="no_bias")],
    lambda a, b, w, bias=None: np.einsum("ni,kij,nj->nk", a, w, b) + (0 if bias is None else bias),
    lambda torch, a, b, w, bias=None: torch.nn.functional.bilinear(a, b, w, bias))
_reg("cdist", cdist, lambda rng: [
    SampleInput((randn(rng, 3, 2), randn(rng, 4, 2)), name="p2"),
    SampleInput((randn(rng, 2, 2, 3), randn(rng, 2, 3, 3), 1.0), name="p1_batched"),
    SampleInput((randn(rng, 3, 2), randn(rng, 2, 2), 3.0), name="p3")],
    lambda a, b, p=2.0: np.linalg.norm(a[..., :, None, :] - b[..., None, :, :], ord=p, axis=-1),
    lambda torch, a, b, p=2.0: torch.cdist(a, b, p), gradgradcheck=False)
