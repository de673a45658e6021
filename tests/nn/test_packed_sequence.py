"""PackedSequence helpers and recurrent layers on packed input, against torch where installed."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
from tinytorch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pack_sequence, unpack_sequence


def test_pack_layout_and_roundtrip():
    x = tinytorch.arange(12.0).view(4, 3)  # (T=4, B=3), entry t*3+b
    p = pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False)
    assert p.batch_sizes.tolist() == [3, 2, 1, 1]
    assert p.sorted_indices.tolist() == [1, 0, 2] and p.unsorted_indices.tolist() == [1, 0, 2]
    # step after step, longest sequence first
    assert p.data.tolist() == [1.0, 0.0, 2.0, 4.0, 3.0, 7.0, 10.0]
    padded, lengths = pad_packed_sequence(p, padding_value=-1.0, total_length=5)
    assert lengths.tolist() == [2, 4, 1]
    assert padded.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, -1.0], [-1.0, 7.0, -1.0], [-1.0, 10.0, -1.0],
                               [-1.0, -1.0, -1.0]]
    seqs = [tinytorch.ones(2, 3), tinytorch.zeros(3, 3)]
    back = unpack_sequence(pack_sequence(seqs, enforce_sorted=False))
    assert [tuple(s.shape) for s in back] == [(2, 3), (3, 3)] and back[0].sum().item() == 6.0


def test_pack_errors():
    x = tinytorch.zeros(4, 3)
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        pack_padded_sequence(x, [2, 4, 1])
    with pytest.raises(RuntimeError, match="greater than 0"):
        pack_padded_sequence(x, [2, 0, 1], enforce_sorted=False)
    with pytest.raises(RuntimeError, match="expected 3 lengths"):
        pack_padded_sequence(x, [2, 1])
    with pytest.raises(ValueError, match="total_length"):
        pad_packed_sequence(pack_padded_sequence(x, [4, 2, 1]), total_length=2)


def test_packed_state_stops_at_each_length():
    # a GRU on a packed batch gives each sequence the h_n it gets alone, without its padding
    tinytorch.manual_seed(0)
    gru = nn.GRU(2, 3, bidirectional=True)
    a, b = tinytorch.randn(5, 2), tinytorch.randn(2, 2)
    out, h = gru(pack_sequence([a, b]))
    _, h_b = gru(b.unsqueeze(1))
    np.testing.assert_allclose(h[:, 1].detach().numpy(), h_b[:, 0].detach().numpy(), rtol=1e-5, atol=1e-6)
    padded, _ = pad_packed_sequence(out)
    assert (padded[2:, 1] == 0).all().item()


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_packed_rnn_matches_torch(mode, batch_first):
    torch = pytest.importorskip("torch")
    tpack, tpad = torch.nn.utils.rnn.pack_padded_sequence, torch.nn.utils.rnn.pad_packed_sequence
    x = np.random.default_rng(0).standard_normal((4, 5, 3))  # (B, T, H)
    lens = [3, 5, 1, 4]
    tm = getattr(torch.nn, mode)(3, 4, num_layers=2, bidirectional=True, batch_first=batch_first).double()
    om = getattr(nn, mode)(3, 4, num_layers=2, bidirectional=True, batch_first=batch_first).double()
    om.load_state_dict({k: tinytorch.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    xin = x if batch_first else x.transpose(1, 0, 2)
    tx, ox = torch.tensor(xin, requires_grad=True), tinytorch.tensor(xin, requires_grad=True)
    tp = tpack(tx, torch.tensor(lens), batch_first=batch_first, enforce_sorted=False)
    op = pack_padded_sequence(ox, tinytorch.tensor(lens), batch_first=batch_first, enforce_sorted=False)
    np.testing.assert_allclose(op.data.detach().numpy(), tp.data.detach().numpy())
    assert op.batch_sizes.tolist() == tp.batch_sizes.tolist()
    to, th = tm(tp)
    oo, oh = om(op)
    assert isinstance(oo, nn.utils.rnn.PackedSequence)
    tout, tl = tpad(to, batch_first=batch_first, total_length=6)
    oout, ol = pad_packed_sequence(oo, batch_first=batch_first, total_length=6)
    assert ol.tolist() == tl.tolist()
    np.testing.assert_allclose(oout.detach().numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    if mode == "LSTM":
        th, oh = th[0] + 2 * th[1], oh[0] + 2 * oh[1]
    np.testing.assert_allclose(oh.detach().numpy(), th.detach().numpy(), rtol=1e-10, atol=1e-12)
    (tout.sum() + (th ** 2).sum()).backward()
    (oout.sum() + (oh ** 2).sum()).backward()
    np.testing.assert_allclose(ox.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
