"""``tinytorch.device``: the same shape as ``torch.device``."""
from __future__ import annotations


class device:
    """A device: ``device("cpu")``, ``device("cuda")``, ``device("cuda:1")``, ``device("cuda", 1)``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002 - torch's parameter name
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string like 'cpu' or 'cuda:0', got {type!r}")
        s = type.strip()
        if ":" in s:
            if index is not None:
                raise ValueError(f"device: index given twice in device({type!r}, {index!r})")
            s, _, idx = s.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: {type!r} (expected e.g. 'cuda:0')")
            index = int(idx)
        if s not in ("cpu", "cuda"):
            raise RuntimeError(
                f"Invalid device string: {type!r}; tinytorch supports 'cpu', 'cuda' and 'cuda:N'"
            )
        if index is not None:
            if not isinstance(index, int) or index < 0:
                raise ValueError(f"device: index must be a non-negative int, got {index!r}")
        self.type = s
        self.index = index

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, ValueError, TypeError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))


CPU = device("cpu")


def parse_device(d) -> device:
    """Accept a ``device``, a string, an int (CUDA ordinal) or None (CPU)."""
    if d is None:
        return CPU
    if isinstance(d, device):
        return d
    if isinstance(d, int):
        return device("cuda", d)
    if isinstance(d, str):
        return device(d)
    raise TypeError(f"expected a device (str, tinytorch.device or int), got {type(d).__name__}: {d!r}")
