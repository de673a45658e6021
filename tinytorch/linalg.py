"""``tinytorch.linalg`` (``torch.linalg``): norms, inverses, solves, determinants and matrix factorizations.

A façade: the functions live in ``tinytorch.ops._linalg`` (each factorization a ``Function`` whose backward is the
closed-form adjoint written with tinytorch ops, so second derivatives work too; decompositions only defined up to
sign/rotation, svd and eigh, are differentiable for distinct singular values / eigenvalues, as in PyTorch).
"""
from __future__ import annotations

from .ops._linalg import (
    vector_norm as vector_norm, matrix_norm as matrix_norm, norm as norm, inv as inv, inv_ex as inv_ex, solve as solve,
    det as det, slogdet as slogdet, cholesky as cholesky, qr as qr, svd as svd, svdvals as svdvals, eigh as eigh,
    eigvalsh as eigvalsh, matrix_rank as matrix_rank, pinv as pinv, multi_dot as multi_dot, diagonal as diagonal,
    vecdot as vecdot, cross as cross,
)
from .ops.linalg import matmul as matmul

__all__ = [
    "vector_norm", "matrix_norm", "norm", "inv", "inv_ex", "solve", "det", "slogdet", "cholesky", "qr", "svd",
    "svdvals", "eigh", "eigvalsh", "matrix_rank", "pinv", "matmul", "multi_dot", "diagonal", "vecdot", "cross",
]
