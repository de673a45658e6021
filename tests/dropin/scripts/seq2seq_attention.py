"""Seq2seq on a reverse-the-sequence task: a bidirectional GRU encoder fed ``pack_padded_sequence`` (unpacked with
``pad_packed_sequence``), an additive-attention GRU decoder (``bmm``, ``masked_fill``, ``softmax``), a
``pad_sequence`` collate_fn in a DataLoader, ``CrossEntropyLoss(ignore_index=PAD)`` and ``clip_grad_norm_``."""
import random
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence, pack_padded_sequence, pad_packed_sequence
from torch.utils.data import Dataset, DataLoader

random.seed(0)
torch.manual_seed(0)
PAD, SOS, EOS = 0, 1, 2
V = 10


class ReverseDS(Dataset):
    def __init__(self, n):
        self.items = []
        for _ in range(n):
            L = random.randint(3, 7)
            s = [random.randint(3, V - 1) for _ in range(L)]
            self.items.append((torch.tensor(s), torch.tensor(s[::-1] + [EOS])))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def collate_fn(batch):
    batch.sort(key=lambda x: len(x[0]), reverse=True)
    srcs, tgts = zip(*batch)
    lengths = torch.tensor([len(s) for s in srcs])
    return pad_sequence(srcs, batch_first=True, padding_value=PAD), lengths, pad_sequence(tgts, batch_first=True, padding_value=PAD)


class Encoder(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.embedding = nn.Embedding(V, hidden, padding_idx=PAD)
        self.gru = nn.GRU(hidden, hidden, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, hidden)

    def forward(self, src, lengths):
        emb = self.embedding(src)
        packed = pack_padded_sequence(emb, lengths.cpu(), batch_first=True, enforce_sorted=True)
        out, h = self.gru(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=src.size(1))
        h = torch.tanh(self.fc(torch.cat((h[-2, :, :], h[-1, :, :]), dim=1)))
        return self.fc(out), h.unsqueeze(0)


class AttnDecoder(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.embedding = nn.Embedding(V, hidden)
        self.Wa = nn.Linear(hidden, hidden)
        self.Ua = nn.Linear(hidden, hidden)
        self.Va = nn.Linear(hidden, 1)
        self.gru = nn.GRU(2 * hidden, hidden, batch_first=True)
        self.out = nn.Linear(hidden, V)

    def forward(self, enc_out, hidden, mask, target):
        B, T = target.shape
        inp = torch.full((B, 1), SOS, dtype=torch.long)
        outputs = []
        for t in range(T):
            emb = self.embedding(inp)
            q = hidden.permute(1, 0, 2)
            scores = self.Va(torch.tanh(self.Wa(q) + self.Ua(enc_out))).squeeze(2).unsqueeze(1)
            scores = scores.masked_fill(mask.unsqueeze(1) == 0, -1e10)
            weights = F.softmax(scores, dim=-1)
            context = torch.bmm(weights, enc_out)
            out, hidden = self.gru(torch.cat((emb, context), dim=2), hidden)
            logits = self.out(out)
            outputs.append(logits)
            inp = target[:, t].unsqueeze(1)  # teacher forcing
        return torch.cat(outputs, dim=1)


enc, dec = Encoder(32), AttnDecoder(32)
params = list(enc.parameters()) + list(dec.parameters())
opt = torch.optim.Adam(params, lr=3e-3)
criterion = nn.CrossEntropyLoss(ignore_index=PAD)
train = DataLoader(ReverseDS(256), batch_size=32, shuffle=True, collate_fn=collate_fn)
val = DataLoader(ReverseDS(64), batch_size=64, collate_fn=collate_fn)


def run(src, lengths, tgt):
    mask = (src != PAD)
    enc_out, h = enc(src, lengths)
    logits = dec(enc_out, h, mask, tgt)
    return criterion(logits.reshape(-1, V), tgt.reshape(-1))


def evaluate():
    enc.eval(); dec.eval()
    with torch.no_grad():
        l = sum(run(*b).item() for b in val) / len(val)
    enc.train(); dec.train()
    return l


print("initial_loss=%.6f" % evaluate())
for epoch in range(20):
    for src, lengths, tgt in train:
        opt.zero_grad()
        loss = run(src, lengths, tgt)
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    print(epoch, evaluate())
print("final_loss=%.6f" % evaluate())
