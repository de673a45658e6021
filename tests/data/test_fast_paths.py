"""TensorDataset's per-sample view and default_collate's plain stack equal the general (autograd) paths."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as torch
from tinytorch.utils.data import DataLoader, TensorDataset, default_collate


def test_tensor_dataset_int_index_is_a_view_like_getitem():
    x = torch.arange(12.0).reshape(4, 3)
    y = torch.tensor([1, 2, 3, 4])
    xs, ys = TensorDataset(x, y)[2]
    assert xs.tolist() == x[2].tolist() and ys.item() == 3 and ys.dim() == 0
    assert xs.dtype == torch.float32 and ys.dtype == torch.int64
    x[2, 0] = -1.0  # a view: writes to the dataset's tensor show, and the version counter is shared
    assert xs[0].item() == -1.0
    assert xs._version == x._version
    xs.add_(1.0)
    assert x[2, 1].item() == 8.0  # 7 + 1
    assert TensorDataset(x, y)[-1][1].item() == 4
    with pytest.raises(IndexError):
        TensorDataset(x, y)[4]


def test_tensor_dataset_keeps_the_graph_for_tensors_that_require_grad():
    w = torch.ones(3, 2, requires_grad=True)
    (row,) = TensorDataset(w)[1]
    assert row.requires_grad and row.grad_fn is not None
    row.sum().backward()
    assert w.grad.tolist() == [[0, 0], [1, 1], [0, 0]]


def test_default_collate_plain_stack_equals_stack():
    rng = np.random.default_rng(0)
    samples = [torch.from_numpy(rng.random((2, 3), dtype=np.float32)) for _ in range(5)]
    out = default_collate(samples)
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == (5, 2, 3) and out.dtype == torch.float32
    np.testing.assert_array_equal(out.numpy(), torch.stack(samples).numpy())
    out.add_(1.0)  # a fresh batch, not a view of a sample
    assert samples[0][0, 0].item() + 1.0 == out[0, 0, 0].item()


def test_default_collate_falls_back_to_stack_for_mixed_dtypes_shapes_and_grad():
    mixed = default_collate([torch.tensor([1, 2]), torch.tensor([1.5, 2.5])])
    assert mixed.dtype == torch.float32 and mixed.tolist() == [[1.0, 2.0], [1.5, 2.5]]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([torch.zeros(2), torch.zeros(3)])
    a = torch.ones(2, requires_grad=True)
    out = default_collate([a, torch.zeros(2)])
    assert out.requires_grad
    out.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0]


def test_loader_batches_equal_the_indexed_rows():
    x = torch.arange(40.0).reshape(10, 4)
    y = torch.arange(10)
    for xb, yb in DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True,
                             generator=torch.Generator().manual_seed(0)):
        np.testing.assert_array_equal(xb.numpy(), x.numpy()[yb.numpy()])
