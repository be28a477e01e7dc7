"""User-style PyTorch models for the seqpack-model/2 golden fixtures (python/seqpack_torch/golden_graph.py).

Written the way people write them: their own attribute names, their own forward(...) taking padded tensors and
lengths, pack_padded_sequence(..., enforce_sorted=False). None of them knows about seqpack; they are exported
through export_pytorch.export_module with a SPEC naming their submodules (see SPECS at the end).
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def valid_mask(lengths, steps):
    """[B, T] True on valid steps."""
    return torch.arange(steps).unsqueeze(0) < lengths.unsqueeze(1)


class BiLSTMTextClassifier(nn.Module):
    """(a) A classic text classifier: embedding (padding_idx 0) -> 2-layer BiLSTM -> last hidden states -> Linear."""

    def __init__(self, vocab_size=50, embed_dim=8, hidden_dim=10, num_classes=3, dropout=0.25):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, num_layers=2, bidirectional=True, batch_first=True,
                            dropout=dropout)
        self.classifier = nn.Linear(2 * hidden_dim, num_classes)

    def forward(self, text, text_lengths):
        embedded = self.embed(text)                                           # [B, T, E]
        packed = pack_padded_sequence(embedded, text_lengths.cpu(), batch_first=True, enforce_sorted=False)
        packed_output, (hidden, cell) = self.lstm(packed)
        hidden = torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1)       # last layer, forward + backward
        return torch.softmax(self.classifier(hidden), dim=1)


class FraudLSTM(nn.Module):
    """(b) Transaction sequences: three categorical columns + numeric columns -> LSTM -> MLP -> fraud probability."""

    def __init__(self, n_event_types=20, n_mcc=30, n_country=12, n_numeric=4, hidden=16):
        super().__init__()
        self.emb_event = nn.Embedding(n_event_types, 6)
        self.embs = nn.ModuleList([nn.Embedding(n_mcc, 4), nn.Embedding(n_country, 3)])
        self.lstm = nn.LSTM(6 + 4 + 3 + n_numeric + 1, hidden, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 1))

    def forward(self, event, mcc, country, numeric, hour, lengths):
        # event, mcc, country: [B, T] int64; numeric: [B, T, 4]; hour: [B, T, 1]
        x = torch.cat([self.emb_event(event), self.embs[0](mcc), self.embs[1](country), numeric, hour], dim=-1)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)
        return torch.sigmoid(self.head(h_n[-1])).squeeze(-1)                  # [B]


class SensorGRU(nn.Module):
    """(c) Sensor windows: BatchNorm'd vibration channels + LayerNorm'd temperatures -> GRU -> last|max|mean."""

    def __init__(self, n_vib=5, n_temp=3, hidden=12, n_out=2):
        super().__init__()
        self.bn_in = nn.BatchNorm1d(n_vib)
        self.ln_in = nn.LayerNorm(n_temp)
        self.gru = nn.GRU(n_vib + n_temp, hidden, batch_first=True)
        self.head = nn.Sequential(nn.Linear(3 * hidden, 16), nn.GELU(), nn.LayerNorm(16), nn.Linear(16, n_out),
                                  nn.Tanh())

    def forward(self, vib, temp, lengths):
        vib = self.bn_in(vib.transpose(1, 2)).transpose(1, 2)                 # BatchNorm1d wants [B, C, T]
        x = torch.cat([vib, self.ln_in(temp)], dim=-1)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, h = self.gru(packed)
        out, _ = pad_packed_sequence(out, batch_first=True)                   # [B, T, H], zeros after the end
        mask = valid_mask(lengths, out.shape[1]).unsqueeze(-1)
        max_pool = out.masked_fill(~mask, float("-inf")).max(dim=1).values
        mean_pool = out.sum(dim=1) / lengths.unsqueeze(1).to(out.dtype)
        return self.head(torch.cat([h[-1], max_pool, mean_pool], dim=1))


class AdditiveAttention(nn.Module):
    def __init__(self, dim, attn_dim):
        super().__init__()
        self.proj = nn.Linear(dim, attn_dim)
        self.v = nn.Linear(attn_dim, 1, bias=False)

    def forward(self, h, mask):
        scores = self.v(torch.tanh(self.proj(h))).squeeze(-1)               # [B, T]
        scores = scores.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=1)
        return torch.bmm(weights.unsqueeze(1), h).squeeze(1)                  # [B, dim]


class BiGRUAttention(nn.Module):
    """(d) Clickstream: page tokens + time deltas -> BiGRU (batch_first) -> additive attention -> MLP -> sigmoid."""

    def __init__(self, n_pages=40, embed_dim=6, n_delta=2, hidden=8, attn_dim=10):
        super().__init__()
        self.page_emb = nn.Embedding(n_pages, embed_dim)
        self.rnn = nn.GRU(embed_dim + n_delta, hidden, batch_first=True, bidirectional=True)
        self.attn = AdditiveAttention(2 * hidden, attn_dim)
        self.mlp = nn.Sequential(nn.Linear(2 * hidden, 8), nn.LeakyReLU(0.2), nn.BatchNorm1d(8), nn.Linear(8, 1))

    def forward(self, pages, deltas, lengths):
        x = torch.cat([self.page_emb(pages), deltas], dim=-1)
        out, _ = self.rnn(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
        out, _ = pad_packed_sequence(out, batch_first=True)
        context = self.attn(out, valid_mask(lengths, out.shape[1]))
        return torch.sigmoid(self.mlp(context))                               # [B, 1]


class StaticTwoHeads(nn.Module):
    """(e) Time-major tanh RNN over tokens + amounts; first|last states + a static customer profile feed two heads."""

    def __init__(self, n_tokens=25, embed_dim=5, n_amount=3, n_profile=3, hidden=10):
        super().__init__()
        self.tokens = nn.Embedding(n_tokens, embed_dim, padding_idx=-1)       # nn.Embedding makes it n_tokens - 1
        self.encoder = nn.RNN(embed_dim + n_amount, hidden, nonlinearity="tanh")   # time-major [T, B, N]
        width = 2 * hidden + n_profile
        self.fraud = nn.Sequential(nn.Linear(width, 12), nn.ELU(alpha=0.7), nn.Linear(12, 1))
        self.amount = nn.Linear(width, 1)

    def forward(self, tokens, amounts, profile, lengths):
        # tokens [T, B], amounts [T, B, 3] (time-major), profile [B, 3]
        x = torch.cat([self.tokens(tokens), amounts], dim=2)
        out, h_n = self.encoder(pack_padded_sequence(x, lengths, enforce_sorted=False))
        out, _ = pad_packed_sequence(out)                                      # [T, B, H]
        z = torch.cat([out[0], h_n[-1], profile], dim=1)
        return {"fraud": torch.sigmoid(self.fraud(z)), "amount": self.amount(z)}


class StepScorerLSTM(nn.Module):
    """(f) Per-step scoring: features + a static vector repeated at every step -> projected LSTM with learned
    initial states h0 / c0 -> Linear on every step and on the final state."""

    def __init__(self, n_features=4, n_static=2, hidden=12, proj=5, layers=2, n_out=2):
        super().__init__()
        self.lstm = nn.LSTM(n_features + n_static, hidden, num_layers=layers, proj_size=proj, batch_first=True)
        self.h0 = nn.Parameter(torch.zeros(layers, 1, proj))
        self.c0 = nn.Parameter(torch.zeros(layers, 1, hidden))
        self.out = nn.Linear(proj, n_out)

    def forward(self, x, static, lengths):
        b, t, _ = x.shape
        x = torch.cat([x, static.unsqueeze(1).expand(b, t, static.shape[1])], dim=2)
        hx = (self.h0.expand(-1, b, -1).contiguous(), self.c0.expand(-1, b, -1).contiguous())
        out, (h_n, c_n) = self.lstm(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False), hx)
        out, _ = pad_packed_sequence(out, batch_first=True)
        return self.out(h_n[-1]), self.out(out)                               # [B, 2], [B, T, 2]


class ReluRNNMean(nn.Module):
    """(g) Bias-free 2-layer ReLU RNN over a signal, mean over valid steps, Linear."""

    def __init__(self, n_in=4, hidden=10, n_out=2):
        super().__init__()
        self.rnn = nn.RNN(n_in, hidden, num_layers=2, nonlinearity="relu", bias=False, batch_first=True)
        self.fc = nn.Linear(hidden, n_out)

    def forward(self, signal, lengths):
        out, _ = self.rnn(pack_padded_sequence(signal, lengths, batch_first=True, enforce_sorted=False))
        out, _ = pad_packed_sequence(out, batch_first=True)
        pooled = out.sum(dim=1) / lengths.unsqueeze(1).float()
        return self.fc(pooled)


class LastKMeanGeluTanh(nn.Module):
    """(h) Tokens + features -> bidirectional LSTM -> mean of each row's last 5 valid steps (fewer when the row is
    shorter) -> Sequential(Linear, GELU(approximate='tanh'), Linear) -> sigmoid."""

    def __init__(self, vocab=30, embed_dim=5, n_feat=3, hidden=7, k=5):
        super().__init__()
        self.k = k
        self.emb = nn.Embedding(vocab, embed_dim)
        self.lstm = nn.LSTM(embed_dim + n_feat, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Sequential(nn.Linear(2 * hidden, 6), nn.GELU(approximate="tanh"), nn.Linear(6, 1))

    def forward(self, tokens, feats, lengths):
        x = torch.cat([self.emb(tokens), feats], dim=-1)
        out, _ = self.lstm(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
        out, _ = pad_packed_sequence(out, batch_first=True)
        pooled = torch.stack([out[i, max(0, n - self.k):n].mean(dim=0) for i, n in enumerate(lengths.tolist())])
        return torch.sigmoid(self.head(pooled))                              # [B, 1]


class NoisyEmbedding(nn.Embedding):
    """An nn.Embedding subclass that adds noise while training; in eval it is a plain lookup."""

    def __init__(self, num_embeddings, embedding_dim, noise_scale=0.1):
        super().__init__(num_embeddings, embedding_dim)
        self.noise_scale = noise_scale

    def forward(self, x):
        out = super().forward(x)
        if self.training and self.noise_scale > 0:
            out = out + self.noise_scale * torch.randn_like(out)
        return out


class ForwardReadGRU(nn.Module):
    """(i) Exported WITHOUT a spec (the exporter reads forward): an Embedding subclass for event ids, amounts
    given feature-major [B, F, T] and permuted in forward, a GRU starting from tanh of a learned state, a head of
    separate attributes (fc1 -> F.relu -> fc2) and a sigmoid in forward."""

    def __init__(self, n_events=30, emb=5, n_amount=2, hidden=9):
        super().__init__()
        self.event_emb = NoisyEmbedding(n_events, emb)
        self.gru = nn.GRU(emb + n_amount, hidden, batch_first=True)
        self.starter_h = nn.Parameter(0.5 * torch.randn(1, 1, hidden))
        self.fc1 = nn.Linear(hidden, 6)
        self.fc2 = nn.Linear(6, 1)

    def forward(self, event, amount, seq_lens):
        x = torch.cat([self.event_emb(event), amount.permute(0, 2, 1)], dim=-1)
        h0 = torch.tanh(self.starter_h).expand(-1, event.shape[0], -1).contiguous()
        _, h = self.gru(pack_padded_sequence(x, seq_lens.cpu(), batch_first=True, enforce_sorted=False), h0)
        return torch.sigmoid(self.fc2(torch.relu(self.fc1(h[-1])))).squeeze(-1)


class AllStatesTextRNN(nn.Module):
    """(j) Read from forward: a 2-layer bidirectional GRU text classifier whose pooled vector is h_n of every layer
    and direction, h_n.permute(1, 0, 2).reshape(B, -1)."""

    def __init__(self, vocab=40, emb=6, hidden=5, n_classes=3):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=0)
        self.rnn = nn.GRU(emb, hidden, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(4 * hidden, n_classes)

    def forward(self, text, lengths):
        _, h_n = self.rnn(pack_padded_sequence(self.embedding(text), lengths, batch_first=True, enforce_sorted=False))
        return self.fc(h_n.permute(1, 0, 2).reshape(text.shape[0], -1))


class QueryAttentionLSTM(nn.Module):
    """(k) Read from forward: a bidirectional LSTM; the final state (backward first, as the most-read packed-LSTM
    tutorial writes it) and a dot-product attention whose query is the final state (forward first), masked over
    the padding, feed a Linear head."""

    def __init__(self, vocab=40, emb=6, hidden=5):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, bidirectional=True, batch_first=True)
        self.out = nn.Linear(4 * hidden, 2)

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(self.embedding(tokens), lengths, batch_first=True, enforce_sorted=False)
        output, (hidden, _) = self.lstm(packed)
        output, _ = pad_packed_sequence(output, batch_first=True)                 # [B, T, 2H]
        final = torch.cat((hidden[-1], hidden[-2]), dim=1)                        # backward state first
        query = torch.cat((hidden[-2], hidden[-1]), dim=1)
        scores = torch.bmm(output, query.unsqueeze(2)).squeeze(2)                 # [B, T]
        scores = scores.masked_fill(~valid_mask(lengths, output.shape[1]), float("-inf"))
        weights = torch.softmax(scores, dim=1)
        context = torch.bmm(output.transpose(1, 2), weights.unsqueeze(2)).squeeze(2)
        return self.out(torch.cat([final, context], dim=1))


class ConcatAttentionEncoder(nn.Module):
    """(l) Read from forward: a GRU text encoder whose additive attention reads cat(o_t, h_n[-1]) at every step
    (attention over the outputs concatenated with the final state) and whose head is nn.Identity(): the pooled
    vector itself is the output (an encoder)."""

    def __init__(self, vocab=40, emb=6, hidden=7, attn=5):
        super().__init__()
        self.word_embed = nn.Embedding(vocab, emb)
        self.rnn = nn.GRU(emb, hidden, batch_first=True)
        self.attn_proj = nn.Linear(2 * hidden, attn)
        self.attn_v = nn.Linear(attn, 1, bias=False)
        self.rnn_mlp = nn.Identity()

    def forward(self, words, lengths):
        packed = pack_padded_sequence(self.word_embed(words), lengths, batch_first=True, enforce_sorted=False)
        out, h = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True)
        last = h[-1].unsqueeze(1).expand(-1, out.shape[1], -1)
        energy = self.attn_v(torch.tanh(self.attn_proj(torch.cat([out, last], dim=2)))).squeeze(-1)
        energy = energy.masked_fill(~valid_mask(lengths, out.shape[1]), float("-inf"))
        context = (torch.softmax(energy, dim=1).unsqueeze(-1) * out).sum(dim=1)
        return self.rnn_mlp(context)


class AttentiveGRU(nn.Module):
    """(m) Read from forward, in the style of quantitative-finance sequence models: every step's features go
    through a per-step net (Linear -> Tanh) before a GRU; an additive attention over the outputs (masked over the
    padding) joined with the last valid state feeds the output layer."""

    def __init__(self, d_feat=6, hidden=8, attn=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_feat, hidden), nn.Tanh())
        self.rnn = nn.GRU(hidden, hidden, batch_first=True)
        self.att_proj = nn.Linear(hidden, attn)
        self.att_score = nn.Linear(attn, 1, bias=False)
        self.fc_out = nn.Linear(2 * hidden, 1)

    def forward(self, features, lengths):
        x = self.net(features)                                                    # [B, T, hidden]
        out, h_n = self.rnn(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
        out, _ = pad_packed_sequence(out, batch_first=True)
        score = self.att_score(torch.tanh(self.att_proj(out))).squeeze(-1)
        score = score.masked_fill(~valid_mask(lengths, out.shape[1]), float("-inf"))
        out_att = (torch.softmax(score, dim=1).unsqueeze(-1) * out).sum(dim=1)
        return self.fc_out(torch.cat((h_n[-1], out_att), dim=1))[..., 0]


class TranslatedQueryAttention(nn.Module):
    """(n) Read from forward, in the style of a sentiment-analysis tutorial: time-major tokens, a per-step
    Linear on the embeddings ("translation"), a 2-layer bidirectional LSTM and attention with one learned query
    vector (w_t = o_t · q, softmax over the valid steps)."""

    def __init__(self, vocab=40, emb=6, hidden=5, n_out=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=0)
        self.translation = nn.Linear(emb, emb)
        self.rnn = nn.LSTM(emb, hidden, num_layers=2, bidirectional=True)
        self.query = nn.Parameter(torch.randn(2 * hidden))
        self.fc = nn.Linear(2 * hidden, n_out)

    def forward(self, text, text_lengths):
        embedded = torch.relu(self.translation(self.embedding(text)))             # [T, B, E]
        packed = pack_padded_sequence(embedded, text_lengths, enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, _ = pad_packed_sequence(out)                                         # [T, B, 2H]
        energy = torch.matmul(out, self.query)                                    # [T, B]
        energy = energy.masked_fill(~valid_mask(text_lengths, out.shape[0]).t(), float("-inf"))
        weights = torch.softmax(energy, dim=0)
        return self.fc((weights.unsqueeze(-1) * out).sum(dim=0))

class GRU4Rec(nn.Module):
    """(m) Session recommendation as GRU4Rec: item Embedding (padding_idx 0) -> GRU(bias=False) -> last state ->
    scores over the whole catalogue with the same table, h · Eᵀ (tied weights) -> softmax."""

    def __init__(self, n_items=60, hidden=8):
        super().__init__()
        self.item_emb = nn.Embedding(n_items, hidden, padding_idx=0)
        self.gru = nn.GRU(hidden, hidden, batch_first=True, bias=False)

    def score(self, h):
        """Catalogue scores (logits) of hidden states h [..., hidden]."""
        return torch.matmul(h, self.item_emb.weight.t())

    def forward(self, items, lengths):
        packed = pack_padded_sequence(self.item_emb(items), lengths, batch_first=True, enforce_sorted=False)
        _, h_n = self.gru(packed)
        return torch.softmax(self.score(h_n[-1]), dim=-1)


class GRU4RecDenseBias(GRU4Rec):
    """(n) GRU4Rec with a dense layer before the tied product (hidden 10 -> the table's 6) and a per-item output
    bias By = Embedding(n_items, 1) (flattened at export), log_softmax over the catalogue."""

    def __init__(self, n_items=60, emb=6, hidden=10):
        nn.Module.__init__(self)
        self.item_emb = nn.Embedding(n_items, emb, padding_idx=0)
        self.gru = nn.GRU(emb, hidden, batch_first=True, bias=False)
        self.dense = nn.Linear(hidden, emb)
        self.By = nn.Embedding(n_items, 1)

    def score(self, h):
        return F.linear(self.dense(h), self.item_emb.weight) + self.By.weight.squeeze(-1)

    def forward(self, items, lengths):
        packed = pack_padded_sequence(self.item_emb(items), lengths, batch_first=True, enforce_sorted=False)
        _, h_n = self.gru(packed)
        return torch.log_softmax(self.score(h_n[-1]), dim=-1)


class DeepLog(nn.Module):
    """(o) Log anomaly detection as DeepLog: log-key Embedding -> 2-layer LSTM -> Linear(num_keys) -> log_softmax;
    the next key is an anomaly when it is not within the top g of the previous step's distribution (per-step top-k)."""

    def __init__(self, num_keys=28, emb=6, hidden=10):
        super().__init__()
        self.key_emb = nn.Embedding(num_keys, emb)
        self.lstm = nn.LSTM(emb, hidden, num_layers=2, batch_first=True)
        self.fc = nn.Linear(hidden, num_keys)

    def forward(self, keys, lengths):
        packed = pack_padded_sequence(self.key_emb(keys), lengths, batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)
        return torch.log_softmax(self.fc(h_n[-1]), dim=-1)


# The SPEC each model is exported with (export_pytorch.export_module / --spec); None: read from forward.
SPECS = {
    "ForwardReadGRU": None,
    "AllStatesTextRNN": None,
    "QueryAttentionLSTM": None,
    "ConcatAttentionEncoder": None,
    "AttentiveGRU": None,
    "TranslatedQueryAttention": None,
    "BiLSTMTextClassifier": {
        "inputs": [{"name": "text", "kind": "tokens", "embedding": "embed"}],
        "rnn": "lstm",
        "pooling": ["last"],
        "heads": [{"name": "sentiment", "module": "classifier", "activation": "softmax"}]},
    "FraudLSTM": {
        "inputs": [{"name": "event", "kind": "tokens", "embedding": "emb_event"},
                   {"name": "mcc", "kind": "tokens", "embedding": "embs.0"},
                   {"name": "country", "kind": "tokens", "embedding": "embs.1"},
                   {"name": "numeric", "kind": "features", "size": 4},
                   {"name": "hour", "kind": "features", "size": 1}],
        "rnn": "lstm",
        "heads": [{"name": "fraud", "module": "head", "activation": "sigmoid"}]},
    "SensorGRU": {
        "inputs": [{"name": "vib", "kind": "features", "size": 5, "norm": "bn_in"},
                   {"name": "temp", "kind": "features", "size": 3, "norm": "ln_in"}],
        "rnn": "gru",
        "pooling": ["last", "max", "mean"],
        "heads": [{"name": "health", "module": "head"}]},
    "BiGRUAttention": {
        "inputs": [{"name": "pages", "kind": "tokens", "embedding": "page_emb"},
                   {"name": "deltas", "kind": "features", "size": 2}],
        "rnn": "rnn",
        "pooling": [{"attention": {"proj": "attn.proj", "context": "attn.v"}}],
        "heads": [{"name": "convert", "module": "mlp", "activation": "sigmoid"}]},
    "StaticTwoHeads": {
        "inputs": [{"name": "tokens", "kind": "tokens", "embedding": "tokens"},
                   {"name": "amounts", "kind": "features", "size": 3}],
        "static": [{"name": "profile", "size": 3, "join": "after_pooling"}],
        "rnn": "encoder",
        "pooling": ["first", "last"],
        "heads": [{"name": "fraud", "module": "fraud", "activation": "sigmoid"},
                  {"name": "amount", "module": "amount", "activation": "none"}]},
    "StepScorerLSTM": {
        "inputs": [{"name": "x", "kind": "features", "size": 4}],
        "static": [{"name": "static", "size": 2, "join": "every_step"}],
        "rnn": "lstm",
        "h0": "h0",
        "c0": "c0",
        "heads": [{"name": "score", "module": "out"}]},
    "LastKMeanGeluTanh": {
        "inputs": [{"name": "tokens", "kind": "tokens", "embedding": "emb"},
                   {"name": "feats", "kind": "features", "size": 3}],
        "rnn": "lstm",
        "pooling": [{"last_k_mean": {"k": 5}}],
        "heads": [{"name": "p", "module": "head", "activation": "sigmoid"}]},
    "GRU4Rec": {
        "inputs": [{"name": "items", "kind": "tokens", "embedding": "item_emb"}],
        "rnn": "gru",
        "heads": [{"name": "next_item", "tied_to": "item_emb", "activation": "softmax"}]},
    "GRU4RecDenseBias": {
        "inputs": [{"name": "items", "kind": "tokens", "embedding": "item_emb"}],
        "rnn": "gru",
        "heads": [{"name": "next_item", "module": "dense", "tied_to": "item_emb", "bias": "By",
                   "activation": "log_softmax"}]},
    "DeepLog": {
        "inputs": [{"name": "keys", "kind": "tokens", "embedding": "key_emb"}],
        "rnn": "lstm",
        "heads": [{"name": "next_key", "module": "fc", "activation": "log_softmax"}]},
    "ReluRNNMean": {
        "inputs": [{"name": "signal", "kind": "features", "size": 4}],
        "rnn": "rnn",
        "pooling": ["mean"],
        "heads": [{"name": "y", "module": "fc", "activation": "none"}]},
}
