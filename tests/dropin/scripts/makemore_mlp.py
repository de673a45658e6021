"""makemore (parts 1-2) style: bigram counts (``N[i, j] += 1``, ``P.sum(1, keepdims=True)``, ``torch.multinomial``
with a Generator) and a character MLP trained by hand (``p.data += -lr * p.grad``) on a tiny names list."""
import torch
import torch.nn.functional as F

words = ("emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail emily elizabeth mila ella "
         "avery sofia camila aria scarlett victoria madison luna grace chloe penelope layla riley zoey nora lily "
         "eleanor hannah lillian addison aubrey ellie stella natalie zoe leah hazel violet aurora savannah").split()
chars = sorted(list(set(''.join(words))))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi['.'] = 0
itos = {i: s for s, i in stoi.items()}
V = len(stoi)

# bigram counts
N = torch.zeros((V, V), dtype=torch.int32)
for w in words:
    chs = ['.'] + list(w) + ['.']
    for ch1, ch2 in zip(chs, chs[1:]):
        N[stoi[ch1], stoi[ch2]] += 1
P = (N + 1).float()
P /= P.sum(1, keepdims=True)
g = torch.Generator().manual_seed(2147483647)
for i in range(3):
    out = []
    ix = 0
    while True:
        p = P[ix]
        ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
        out.append(itos[ix])
        if ix == 0:
            break
    print(''.join(out))
log_likelihood = 0.0
n = 0
for w in words:
    chs = ['.'] + list(w) + ['.']
    for ch1, ch2 in zip(chs, chs[1:]):
        log_likelihood += torch.log(P[stoi[ch1], stoi[ch2]])
        n += 1
print(f'bigram nll={-log_likelihood.item() / n:.4f}')

# MLP
block_size = 3


def build_dataset(words):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + '.':
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(X), torch.tensor(Y)


Xtr, Ytr = build_dataset(words)
g = torch.Generator().manual_seed(2147483647)
C = torch.randn((V, 10), generator=g)
W1 = torch.randn((30, 100), generator=g) * (5 / 3) / (30 ** 0.5)
b1 = torch.randn(100, generator=g) * 0.01
W2 = torch.randn((100, V), generator=g) * 0.01
b2 = torch.randn(V, generator=g) * 0
bngain = torch.ones((1, 100))
bnbias = torch.zeros((1, 100))
parameters = [C, W1, b1, W2, b2, bngain, bnbias]
print(sum(p.nelement() for p in parameters))
for p in parameters:
    p.requires_grad = True


@torch.no_grad()
def split_loss():
    emb = C[Xtr]
    h = torch.tanh(emb.view(emb.shape[0], -1) @ W1 + b1)
    return F.cross_entropy(h @ W2 + b2, Ytr).item()


print("initial_loss=%.6f" % split_loss())
lossi = []
for i in range(1500):
    ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
    emb = C[Xtr[ix]]
    embcat = emb.view(emb.shape[0], -1)
    hpreact = embcat @ W1 + b1
    h = torch.tanh(hpreact)
    logits = h @ W2 + b2
    loss = F.cross_entropy(logits, Ytr[ix])
    for p in parameters:
        p.grad = None
    loss.backward()
    lr = 0.1 if i < 1000 else 0.01
    for p in parameters:
        if p.grad is not None:
            p.data += -lr * p.grad
    lossi.append(loss.log10().item())
print(f"onehot check {F.one_hot(torch.tensor([1, 3]), num_classes=V).float().sum().item()}")
print("final_loss=%.6f" % split_loss())
# sample
for _ in range(3):
    out = []
    context = [0] * block_size
    while True:
        emb = C[torch.tensor([context])]
        h = torch.tanh(emb.view(1, -1) @ W1 + b1)
        probs = F.softmax(h @ W2 + b2, dim=1)
        ix = torch.multinomial(probs, num_samples=1, generator=g).item()
        context = context[1:] + [ix]
        out.append(ix)
        if ix == 0:
            break
    print(''.join(itos[i] for i in out))
