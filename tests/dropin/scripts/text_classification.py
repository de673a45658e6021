"""PyTorch's text-classification tutorial on made-up topic sentences: ``nn.EmbeddingBag`` with offsets from a
collate_batch, ``random_split`` of a list, SGD + ``StepLR(optimizer, 1.0, gamma=0.1)`` stepped on plateau."""
import random
import torch
from torch import nn
from torch.utils.data import DataLoader
from torch.utils.data.dataset import random_split

random.seed(0)
torch.manual_seed(0)
topics = {0: "ball game team score win player goal match", 1: "market stock price bank trade money profit fund",
          2: "atom cell energy physics star lab study gene", 3: "vote law party election court senate policy bill"}
filler = "the a of and to in is on it for".split()
vocab = {w: i for i, w in enumerate(sorted(set(" ".join(topics.values()).split() + filler)))}


def make(n):
    out = []
    for _ in range(n):
        label = random.randrange(4)
        words = random.choices(topics[label].split(), k=4) + random.choices(filler, k=random.randint(2, 6))
        random.shuffle(words)
        out.append((label + 1, " ".join(words)))
    return out


train_iter = make(400)
text_pipeline = lambda x: [vocab[w] for w in x.split()]
label_pipeline = lambda x: int(x) - 1


def collate_batch(batch):
    label_list, text_list, offsets = [], [], [0]
    for _label, _text in batch:
        label_list.append(label_pipeline(_label))
        processed_text = torch.tensor(text_pipeline(_text), dtype=torch.int64)
        text_list.append(processed_text)
        offsets.append(processed_text.size(0))
    label_list = torch.tensor(label_list, dtype=torch.int64)
    offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
    text_list = torch.cat(text_list)
    return label_list, text_list, offsets


class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super(TextClassificationModel, self).__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
        self.fc = nn.Linear(embed_dim, num_class)
        self.init_weights()

    def init_weights(self):
        initrange = 0.5
        self.embedding.weight.data.uniform_(-initrange, initrange)
        self.fc.weight.data.uniform_(-initrange, initrange)
        self.fc.bias.data.zero_()

    def forward(self, text, offsets):
        embedded = self.embedding(text, offsets)
        return self.fc(embedded)


model = TextClassificationModel(len(vocab), 16, 4)
criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=5)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)
num_train = int(len(train_iter) * 0.95)
split_train_, split_valid_ = random_split(train_iter, [num_train, len(train_iter) - num_train])
train_dataloader = DataLoader(split_train_, batch_size=16, shuffle=True, collate_fn=collate_batch)
valid_dataloader = DataLoader(split_valid_, batch_size=16, shuffle=True, collate_fn=collate_batch)


def evaluate(dataloader):
    model.eval()
    total_acc, total_count, total_loss = 0, 0, 0.0
    with torch.no_grad():
        for idx, (label, text, offsets) in enumerate(dataloader):
            predicted_label = model(text, offsets)
            total_loss += criterion(predicted_label, label).item() * label.size(0)
            total_acc += (predicted_label.argmax(1) == label).sum().item()
            total_count += label.size(0)
    return total_loss / total_count


print("initial_loss=%.6f" % evaluate(train_dataloader))
total_accu = None
for epoch in range(1, 5):
    model.train()
    for idx, (label, text, offsets) in enumerate(train_dataloader):
        optimizer.zero_grad()
        predicted_label = model(text, offsets)
        loss = criterion(predicted_label, label)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
    accu_val = evaluate(valid_dataloader)
    if total_accu is not None and total_accu < accu_val:
        scheduler.step()
    else:
        total_accu = accu_val
print("final_loss=%.6f" % evaluate(train_dataloader))
