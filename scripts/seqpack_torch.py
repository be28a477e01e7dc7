"""PyTorch reference implementation of a seqpack model (the thing the JVM job re-implements).

A seqpack model is described by a ``model.json`` dict (format ``seqpack-model/1``)::

    {"format": "seqpack-model/1",
     "input": {"kind": "tokens", "vocab_size": 11, "embedding_dim": 100, "padding_idx": null},
     "rnn": {"mode": "RNN_TANH", "hidden_size": 256, "num_layers": 1, "bidirectional": false,
             "bias": true, "proj_size": 0},
     "head": {"pooling": "last", "out_features": 1, "activation": "none"}}

(``input`` may instead be ``{"kind": "features", "input_size": N}``.) The forward pass is::

    pad_sequence(batch_first=True) -> [embedding] -> pack_padded_sequence(enforce_sorted=False)
      -> nn.RNN / nn.LSTM / nn.GRU -> pad_packed_sequence(batch_first=True) -> pooling -> fc -> activation

Used by ``export_pytorch.py``, ``make_golden.py`` and benchmarks. Only needs torch.
"""

import copy

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

FORMAT = "seqpack-model/1"
MODES = ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")
POOLINGS = ("last", "mean", "max")
ACTIVATIONS = ("none", "sigmoid", "softmax")


def make_config(mode="RNN_TANH", hidden_size=256, num_layers=1, bidirectional=False, bias=True, proj_size=0,
                vocab_size=None, embedding_dim=None, padding_idx=None, input_size=None,
                pooling="last", out_features=1, activation="none"):
    """Build a model.json dict. Give vocab_size+embedding_dim (tokens) or input_size (features)."""
    if input_size is not None:
        inp = {"kind": "features", "input_size": int(input_size)}
    else:
        inp = {"kind": "tokens", "vocab_size": int(vocab_size), "embedding_dim": int(embedding_dim),
               "padding_idx": None if padding_idx is None else int(padding_idx)}
    config = {"format": FORMAT,
              "input": inp,
              "rnn": {"mode": mode, "hidden_size": int(hidden_size), "num_layers": int(num_layers),
                      "bidirectional": bool(bidirectional), "bias": bool(bias), "proj_size": int(proj_size)},
              "head": {"pooling": pooling, "out_features": int(out_features), "activation": activation}}
    validate_config(config)
    return config


def tutorial_config():
    """The tutorial model: tokens (vocab 11, embedding 100) -> RNN tanh 256 -> fc 256->1, last state, no activation."""
    return make_config(mode="RNN_TANH", hidden_size=256, vocab_size=11, embedding_dim=100)


def validate_config(config):
    """Raise ValueError if config is not a well-formed seqpack-model/1 dict."""
    def need(cond, msg):
        if not cond:
            raise ValueError("invalid model config: " + msg)

    need(isinstance(config, dict) and config.get("format") == FORMAT, "format must be %r" % FORMAT)
    inp, rnn, head = config.get("input"), config.get("rnn"), config.get("head")
    need(isinstance(inp, dict) and isinstance(rnn, dict) and isinstance(head, dict), "need input, rnn, head objects")
    if inp.get("kind") == "tokens":
        need(inp.get("vocab_size", 0) > 0 and inp.get("embedding_dim", 0) > 0, "vocab_size, embedding_dim > 0")
        pidx = inp.get("padding_idx")
        need(pidx is None or 0 <= pidx < inp["vocab_size"], "padding_idx must be null or in [0, vocab_size)")
    else:
        need(inp.get("kind") == "features" and inp.get("input_size", 0) > 0, "kind tokens|features, input_size > 0")
    need(rnn.get("mode") in MODES, "rnn.mode in %s" % (MODES,))
    need(rnn.get("hidden_size", 0) > 0 and rnn.get("num_layers", 0) > 0, "hidden_size, num_layers > 0")
    need(isinstance(rnn.get("bidirectional"), bool) and isinstance(rnn.get("bias"), bool), "bidirectional, bias bool")
    proj = rnn.get("proj_size", 0)
    need(proj == 0 or (rnn["mode"] == "LSTM" and 0 < proj < rnn["hidden_size"]),
         "proj_size must be 0, or in (0, hidden_size) for LSTM")
    need(head.get("pooling") in POOLINGS, "head.pooling in %s" % (POOLINGS,))
    need(head.get("out_features", 0) > 0, "head.out_features > 0")
    need(head.get("activation") in ACTIVATIONS, "head.activation in %s" % (ACTIVATIONS,))


class SeqpackModel(nn.Module):
    """[embedding] -> packed RNN/LSTM/GRU (batch_first) -> pooling -> fc -> activation."""

    def __init__(self, config):
        super().__init__()
        validate_config(config)
        self.config = copy.deepcopy(config)
        inp, r, head = config["input"], config["rnn"], config["head"]
        self.tokens = inp["kind"] == "tokens"
        if self.tokens:
            self.embedding = nn.Embedding(inp["vocab_size"], inp["embedding_dim"], padding_idx=inp["padding_idx"])
            rnn_in = inp["embedding_dim"]
        else:
            rnn_in = inp["input_size"]
        self.mode = r["mode"]
        common = dict(input_size=rnn_in, hidden_size=r["hidden_size"], num_layers=r["num_layers"],
                      bias=r["bias"], batch_first=True, bidirectional=r["bidirectional"])
        if self.mode in ("RNN_TANH", "RNN_RELU"):
            self.rnn = nn.RNN(nonlinearity="tanh" if self.mode == "RNN_TANH" else "relu", **common)
        elif self.mode == "LSTM":
            self.rnn = nn.LSTM(proj_size=r["proj_size"], **common)
        else:
            self.rnn = nn.GRU(**common)
        self.directions = 2 if r["bidirectional"] else 1
        h_out = r["proj_size"] if r["proj_size"] > 0 else r["hidden_size"]
        self.fc = nn.Linear(self.directions * h_out, head["out_features"])
        self.pooling = head["pooling"]
        self.activation = head["activation"]

    def activate(self, logits):
        if self.activation == "sigmoid":
            return torch.sigmoid(logits)
        if self.activation == "softmax":
            return torch.softmax(logits, dim=-1)
        return logits

    def _prepare(self, sequences):
        if len(sequences) == 0:
            raise ValueError("empty batch")
        seqs = [torch.as_tensor(s) for s in sequences]
        if self.tokens:
            seqs = [s.to(torch.int64) for s in seqs]
            if any(s.dim() != 1 for s in seqs):
                raise ValueError("token sequences must be 1-D")
        else:
            seqs = [s.to(torch.float32) for s in seqs]
            if any(s.dim() != 2 for s in seqs):
                raise ValueError("feature sequences must be 2-D [len, input_size]")
        lengths = torch.tensor([s.shape[0] for s in seqs], dtype=torch.int64)
        return seqs, lengths

    def _run(self, sequences):
        seqs, lengths = self._prepare(sequences)
        padded = pad_sequence(seqs, batch_first=True)                      # [B, T] or [B, T, input_size]
        x = self.embedding(padded) if self.tokens else padded             # [B, T, E]
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        packed_out, hidden = self.rnn(packed)
        h_n, c_n = hidden if self.mode == "LSTM" else (hidden, None)
        output, out_lengths = pad_packed_sequence(packed_out, batch_first=True)   # [B, T, D*H_out], zero padded
        return lengths, packed, packed_out, output, h_n, c_n

    def _pool(self, output, lengths, h_n):
        if self.pooling == "last":
            return torch.cat((h_n[-2], h_n[-1]), 1) if self.directions == 2 else h_n[-1]
        rows = []
        for b, n in enumerate(lengths.tolist()):
            valid = output[b, :n]                                          # valid steps only
            rows.append(valid.mean(dim=0) if self.pooling == "mean" else valid.max(dim=0).values)
        return torch.stack(rows, 0)

    def forward_details(self, sequences):
        """Run the model on a ragged batch (list of 1-D LongTensors or 2-D float tensors [len, input_size]);
        return a dict of tensors with every quantity listed in golden/FORMAT.md (original batch order):
        lengths, batch_sizes, sorted_indices, unsorted_indices, packed_data (packed RNN input),
        packed_output_data, rnn_output, h_n, c_n (None unless LSTM), pooled, logits, scores,
        step_scores (list of [len_b, out_features]) and tutorial_last_column."""
        lengths, packed, packed_out, output, h_n, c_n = self._run(sequences)
        pooled = self._pool(output, lengths, h_n)
        logits = self.fc(pooled)
        return {
            "lengths": lengths,
            "batch_sizes": packed.batch_sizes,
            "sorted_indices": packed.sorted_indices,
            "unsorted_indices": packed.unsorted_indices,
            "packed_data": packed.data,
            "packed_output_data": packed_out.data,
            "rnn_output": output,
            "h_n": h_n,
            "c_n": c_n,
            "pooled": pooled,
            "logits": logits,
            "scores": self.activate(logits),
            "step_scores": [self.activate(self.fc(output[b, :n])) for b, n in enumerate(lengths.tolist())],
            # the classic pitfall: the last padded column is padding for every row shorter than T
            "tutorial_last_column": self.activate(self.fc(output[:, -1, :])),
        }

    def forward(self, sequences):
        """scores [B, out_features] for a ragged batch (same computation as forward_details, fewer extras)."""
        lengths, _, _, output, h_n, _ = self._run(sequences)
        return self.activate(self.fc(self._pool(output, lengths, h_n)))
