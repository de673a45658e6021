"""Variable-length sequences: ``pad_sequence`` and the ``PackedSequence`` helpers recurrent layers take.

A ``PackedSequence`` stores the valid time steps of a batch sorted by decreasing length, step after step:
``data`` (sum(lengths), *), ``batch_sizes[t]`` = how many sequences are longer than t (int64, on the CPU),
and the permutation between the caller's batch order and the sorted one, as in PyTorch.
"""
from __future__ import annotations

from collections import namedtuple
from ... import ops, creation, _dtype
from ...tensor import Tensor

__all__ = ["pad_sequence", "PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pack_sequence",
           "unpad_sequence", "unpack_sequence"]


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"):
    """Pad a list of (L_i, *) tensors to (L_max, B, *) (or (B, L_max, *) with ``batch_first``)."""
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


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """The packed form of a batch of variable-length sequences (see the module docstring)."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = ops.argsort(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        def move(t):
            return None if t is None else t.to(data.device)

        return type(self)(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def float(self):
        return type(self)(self.data.float(), self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def double(self):
        return type(self)(self.data.double(), self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return False


def _lengths_list(lengths, op):
    if isinstance(lengths, Tensor):
        if lengths.dim() != 1:
            raise RuntimeError(f"{op}: 'lengths' argument should be a 1D tensor, got shape {tuple(lengths.shape)}")
        if lengths.device.type != "cpu":
            raise RuntimeError(f"{op}: 'lengths' argument should be a 1D CPU int64 tensor, but got 1D "
                               f"{lengths.device.type} {lengths.dtype} tensor")
        return [int(v) for v in lengths.tolist()]
    return [int(v) for v in lengths]


def pack_padded_sequence(input, lengths, batch_first: bool = False, enforce_sorted: bool = True):
    """Pack a padded batch (T, B, *) (``batch_first``: (B, T, *)) whose sequence b has ``lengths[b]`` steps.

    With ``enforce_sorted`` the lengths must already decrease; otherwise the batch is sorted here and the
    permutation is kept so that ``pad_packed_sequence`` and the recurrent layers restore the caller's order.
    """
    lens = _lengths_list(lengths, "pack_padded_sequence")
    if batch_first:
        input = input.transpose(0, 1)
    T, B = input.shape[0], input.shape[1]
    if len(lens) != B:
        raise RuntimeError(f"pack_padded_sequence: expected {B} lengths for a batch of {B}, got {len(lens)}")
    if any(n <= 0 for n in lens):
        raise RuntimeError("pack_padded_sequence: Length of all samples has to be greater than 0, but found an "
                           f"element in 'lengths' that is <= 0 (lengths {lens})")
    if max(lens) > T:
        raise RuntimeError(f"pack_padded_sequence: a length {max(lens)} exceeds the padded length {T}")
    if enforce_sorted:
        if any(a < b for a, b in zip(lens, lens[1:])):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
                               "to sidestep this requirement if you do not need ONNX exportability.")
        order = list(range(B))
        sorted_indices = None
    else:
        order = sorted(range(B), key=lambda b: -lens[b])  # stable, as torch.sort(descending=True) on CPU
        sorted_indices = creation.tensor(order, dtype=_int64(), device=input.device)
    return _pack(input, lens, order, sorted_indices)


def _pack(input, lens, order, sorted_indices):
    """Pack (T, B, *) whose batch order ``order`` sorts ``lens`` decreasingly."""
    sorted_lens = [lens[b] for b in order]
    batch_sizes = [sum(1 for n in sorted_lens if n > t) for t in range(sorted_lens[0])]
    idx = creation.tensor(order, dtype=_int64(), device=input.device)
    steps = [ops.index_select(input[t], 0, idx[:bs]) for t, bs in enumerate(batch_sizes)]
    data = ops.cat(steps, 0)
    return PackedSequence(data, creation.tensor(batch_sizes, dtype=_int64()), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first: bool = False, padding_value: float = 0.0, total_length=None):
    """Inverse of ``pack_padded_sequence``: returns ``(padded (T, B, *), lengths)`` in the caller's batch order."""
    data, batch_sizes = sequence.data, [int(v) for v in sequence.batch_sizes.tolist()]
    B, T = batch_sizes[0], len(batch_sizes)
    if total_length is not None:
        if total_length < T:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {T}")
    tail = tuple(data.shape[1:])
    rows, off = [], 0
    for bs in batch_sizes:
        step = data[off:off + bs]
        off += bs
        if bs < B:
            step = ops.cat([step, creation.full((B - bs,) + tail, padding_value, dtype=data.dtype,
                                                device=data.device)], 0)
        rows.append(step)
    for _ in range(T, total_length or T):
        rows.append(creation.full((B,) + tail, padding_value, dtype=data.dtype, device=data.device))
    padded = ops.stack(rows, 0)  # (T, B, *) in sorted order
    lengths = [sum(1 for bs in batch_sizes if bs > b) for b in range(B)]
    if sequence.unsorted_indices is not None:
        padded = ops.index_select(padded, 1, sequence.unsorted_indices)
        lengths = [lengths[int(i)] for i in sequence.unsorted_indices.tolist()]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, creation.tensor(lengths, dtype=_int64())


def pack_sequence(sequences, enforce_sorted: bool = True):
    """Pack a list of (L_i, *) tensors (``pad_sequence`` then ``pack_padded_sequence``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first: bool = False):
    """Split a padded batch back into a list of (L_i, *) tensors."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[b, :n] for b, n in enumerate(_lengths_list(lengths, "unpad_sequence"))]


def unpack_sequence(packed_sequences):
    """Split a ``PackedSequence`` back into its list of (L_i, *) tensors, in the caller's order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def _int64():
    return _dtype.int64
