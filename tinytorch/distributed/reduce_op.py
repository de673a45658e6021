"""``ReduceOp``: how a reducing collective combines the ranks' values."""
from __future__ import annotations

import enum

__all__ = ["ReduceOp"]


class ReduceOp(enum.Enum):
    """SUM, PRODUCT, MIN, MAX, AVG (the mean over the group's ranks; floating/complex tensors only), and the
    bitwise BAND, BOR, BXOR (integer and bool tensors)."""

    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    AVG = "avg"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"

    def __repr__(self):
        return f"ReduceOp.{self.name}"
