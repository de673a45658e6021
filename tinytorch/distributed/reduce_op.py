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


def check_avg(op, dtype, name: str) -> None:
    """ReduceOp.AVG divides: it needs a floating (bfloat16 included) or complex tensor, on every engine."""
    if op is ReduceOp.AVG and dtype.kind not in "fc" and dtype.name != "bfloat16":
        raise TypeError(f"{name}: ReduceOp.AVG needs a floating or complex tensor, got {dtype}")
