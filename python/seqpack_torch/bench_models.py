"""The bench's multi-input ("composable") model: a user-style module with three token inputs, numeric inputs, a
static vector, an LSTM and an MLP head, shared by the PyTorch side (bench_torch) and the peers (bench_peers)."""

import os

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from .safetensors import read_safetensors


class TxnScorer(nn.Module):
    """A user-style model of transaction sequences: three categorical columns (event type, merchant category,
    country) and four numeric values per step -> LSTM 256 -> last hidden state joined with a static customer
    vector -> MLP -> fraud probability. Knows nothing about seqpack; bench_peers exports it with MULTI_SPEC."""

    def __init__(self, n_event=10_000, n_mcc=1_000, n_country=200, n_numeric=4, n_static=8, hidden=256):
        super().__init__()
        self.event_emb = nn.Embedding(n_event, 64)
        self.mcc_emb = nn.Embedding(n_mcc, 16)
        self.country_emb = nn.Embedding(n_country, 8)
        self.lstm = nn.LSTM(64 + 16 + 8 + n_numeric, hidden, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden + n_static, 64), nn.ReLU(), nn.Linear(64, 1))

    def forward(self, event, mcc, country, numeric, profile, lengths):
        # event, mcc, country: [B, T] int64; numeric: [B, T, 4]; profile: [B, 8]
        x = torch.cat([self.event_emb(event), self.mcc_emb(mcc), self.country_emb(country), numeric], dim=-1)
        _, (h_n, _) = self.lstm(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
        return torch.sigmoid(self.head(torch.cat([h_n[-1], profile], dim=1))).squeeze(-1)    # [B]


MULTI_INIT = {"n_event": 10_000, "n_mcc": 1_000, "n_country": 200, "n_numeric": 4, "n_static": 8, "hidden": 256}
MULTI_SPEC = {
    "inputs": [{"name": "event", "kind": "tokens", "embedding": "event_emb"},
               {"name": "mcc", "kind": "tokens", "embedding": "mcc_emb"},
               {"name": "country", "kind": "tokens", "embedding": "country_emb"},
               {"name": "numeric", "kind": "features", "size": 4}],
    "static": [{"name": "profile", "size": 8, "join": "after_pooling"}],
    "rnn": "lstm",
    "pooling": ["last"],
    "heads": [{"name": "fraud", "module": "head", "activation": "sigmoid"}],
}


def load_multi(model_dir):
    """TxnScorer with the exported safetensors (every tensor of the module is in the file: strict load)."""
    model = TxnScorer(**MULTI_INIT).eval()
    tensors, _ = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    model.load_state_dict(tensors, strict=True)
    return model
