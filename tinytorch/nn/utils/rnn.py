"""``pad_sequence``: stack variable-length sequences into one padded tensor."""
from __future__ import annotations

__all__ = ["pad_sequence"]


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"):
    """Pad a list of (L_i, *) tensors to (L_max, B, *) (or (B, L_max, *) with ``batch_first``)."""
    from ... import ops
    from ... import creation

    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence: received an empty list of sequences")
    max_len = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = max_len - s.shape[0]
        if extra:
            pad = creation.full((extra,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype, device=s.device)
            s = ops.cat([s, pad] if padding_side == "right" else [pad, s], 0)
        padded.append(s)
    return ops.stack(padded, 0 if batch_first else 1)
