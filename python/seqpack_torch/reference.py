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

The second half of this file is the reference for format ``seqpack-model/2`` (named token / feature inputs
with optional norms, static vectors, one RNN with optional learned h0/c0, several pooling parts, several heads
of Linear/activation/norm layers; see golden/FORMAT.md): ``validate_graph``, ``graph_tensor_names``,
``GraphReference`` (an nn.Module built from a model.json dict + {tensor name: tensor}) and
``reference_forward(parts, spec_json, batch)``.
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


# ============================================================================================================
# seqpack-model/2: a graph of named inputs -> one RNN -> pooling parts -> named heads (see golden/FORMAT.md)
# ============================================================================================================
import math  # noqa: E402

import torch.nn.functional as F  # noqa: E402

FORMAT2 = "seqpack-model/2"
POOLINGS2 = ("last", "first", "mean", "max")
JOINS = ("after_pooling", "every_step")
NORM_TYPES = ("batch_norm", "layer_norm")
HEAD_ACTIVATIONS = ("none", "sigmoid", "softmax", "log_softmax")
LAYER_KEYS = {
    "linear": {"type", "module", "in_features", "out_features", "bias"},
    "relu": {"type"}, "tanh": {"type"}, "sigmoid": {"type"}, "dropout": {"type"}, "identity": {"type"},
    "gelu": {"type"},
    "leaky_relu": {"type", "negative_slope"},
    "elu": {"type", "alpha"},
    "layer_norm": {"type", "module", "size", "eps", "affine"},
    "batch_norm": {"type", "module", "size", "eps", "affine"},
    "tied": {"type", "embedding", "num_embeddings", "embedding_dim", "exclude_padding"},   # + optional "bias"
}


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def state_size(r):
    return r["proj_size"] if r["proj_size"] > 0 else r["hidden_size"]


def pooling_width(part, r):
    """Floats a pooling part adds: the output width O, or len(indices) final states for "hidden"."""
    o = (2 if r["bidirectional"] else 1) * state_size(r)
    if isinstance(part, dict) and "hidden" in part:
        return len(part["hidden"]["indices"]) * state_size(r)
    return o


def query_width(part, r):
    """Width of an attention's query (final states appended to each output step), 0 without one."""
    q = part["attention"].get("query") if isinstance(part, dict) and "attention" in part else None
    return 0 if q is None else len(q) * state_size(r)


def final_states(h_n, indices):
    """cat(h_n[i] for i in indices), [B, len(indices) * P] (negative indices count from the end)."""
    return torch.cat([h_n[i] for i in indices], dim=1)


def graph_widths(mj):
    """(rnn step-input width from the inputs + every_step statics, RNN output width O, embedding width W)."""
    step = sum(i["embedding_dim"] if i["kind"] == "tokens" else i["size"] for i in mj["inputs"])
    step += sum(s["size"] for s in mj["static"] if s["join"] == "every_step")
    r = mj["rnn"]
    o = (2 if r["bidirectional"] else 1) * state_size(r)
    w = sum(pooling_width(p, r) for p in mj["pooling"])
    w += sum(s["size"] for s in mj["static"] if s["join"] == "after_pooling")
    return step, o, w


def validate_graph(mj):
    """Raise ValueError unless mj is a well-formed seqpack-model/2 dict (exact keys, as the Java side parses it)."""
    def need(cond, msg):
        if not cond:
            raise ValueError("invalid seqpack-model/2: " + msg)

    def keys(obj, expected, where):
        need(isinstance(obj, dict), "%s must be an object" % where)
        need(set(obj) == set(expected), "%s keys must be %s, got %s" % (where, sorted(expected), sorted(obj)))

    def norm_ok(n, where, with_size):
        if n is None:
            return
        keys(n, {"type", "module", "eps", "affine"} | ({"size"} if with_size else set()), where)
        need(n["type"] in NORM_TYPES, "%s.type in %s" % (where, NORM_TYPES))
        need(isinstance(n["module"], str), "%s.module string" % where)
        need(_is_num(n["eps"]) and n["eps"] > 0 and isinstance(n["affine"], bool), "%s eps > 0, affine bool" % where)

    keys(mj, {"format", "inputs", "static", "rnn", "pooling", "heads"} | ({"export"} if "export" in mj else set())
         | ({"step_layers"} if "step_layers" in mj else set()), "model")
    need(mj["format"] == FORMAT2, "format must be %r" % FORMAT2)

    def layers_ok(layers, width, at):
        """Checks a list of head-kind layers over vectors of `width`; returns the width they output."""
        for j, layer in enumerate(layers):
            where = "%s[%d]" % (at, j)
            need(isinstance(layer, dict) and layer.get("type") in LAYER_KEYS, where + ".type")
            gelu_tanh = layer["type"] == "gelu" and "approximate" in layer       # GELU(approximate='tanh')
            tied_bias = layer["type"] == "tied" and "bias" in layer
            keys(layer, LAYER_KEYS[layer["type"]] | ({"approximate"} if gelu_tanh else set())
                 | ({"bias"} if tied_bias else set()), where)
            need(not gelu_tanh or layer["approximate"] in ("none", "tanh"), where + ".approximate none or tanh")
            t = layer["type"]
            if t == "linear":
                need(layer["in_features"] == width and _is_int(layer["out_features"]) and layer["out_features"] > 0
                     and isinstance(layer["bias"], bool), where + " in_features %d expected" % width)
                width = layer["out_features"]
            elif t in ("layer_norm", "batch_norm"):
                norm_ok(layer, where, True)
                need(layer["size"] == width, where + ".size %d expected" % width)
            elif t == "leaky_relu":
                need(_is_num(layer["negative_slope"]), where + ".negative_slope number")
            elif t == "elu":
                need(_is_num(layer["alpha"]), where + ".alpha number")
            elif t == "tied":                      # x · Eᵀ (+ b), E a tokens input's embedding, stored once
                owner = tied_owner(mj, layer)
                need(owner is not None, where + ".embedding %r the embedding of a tokens input" % layer["embedding"])
                need([layer["num_embeddings"], layer["embedding_dim"]] == [owner["vocab_size"], owner["embedding_dim"]],
                     where + " num_embeddings, embedding_dim as input %s's embedding" % owner["name"])
                need(layer["embedding_dim"] == width, where + ".embedding_dim %d expected (the width reaching it)"
                     % width)
                need(not tied_bias or isinstance(layer["bias"], str), where + ".bias a tensor name")
                need(isinstance(layer["exclude_padding"], bool)
                     and (not layer["exclude_padding"] or owner["padding_idx"] is not None),
                     where + ".exclude_padding bool, true only with a padding_idx")
                width = layer["num_embeddings"]
        return width

    if "export" in mj:
        need(isinstance(mj["export"], dict) and isinstance(mj["export"].get("verified"), bool),
             "export must be an object with a boolean 'verified'")
    need(isinstance(mj["inputs"], list) and mj["inputs"], "inputs must be a non-empty list")
    names = []
    for i, inp in enumerate(mj["inputs"]):
        where = "inputs[%d]" % i
        need(isinstance(inp, dict) and inp.get("kind") in ("tokens", "features"), where + ".kind tokens|features")
        if inp["kind"] == "tokens":
            keys(inp, {"name", "kind", "vocab_size", "embedding_dim", "padding_idx", "embedding", "norm"}, where)
            need(_is_int(inp["vocab_size"]) and inp["vocab_size"] > 0 and _is_int(inp["embedding_dim"])
                 and inp["embedding_dim"] > 0, where + " vocab_size, embedding_dim > 0")
            p = inp["padding_idx"]
            need(p is None or (_is_int(p) and 0 <= p < inp["vocab_size"]), where + ".padding_idx null or in [0, V)")
            need(isinstance(inp["embedding"], str), where + ".embedding string")
        else:
            keys(inp, {"name", "kind", "size", "norm"}, where)
            need(_is_int(inp["size"]) and inp["size"] > 0, where + ".size > 0")
        norm_ok(inp["norm"], where + ".norm", False)
        names.append(inp["name"])
    need(isinstance(mj["static"], list), "static must be a list")
    for i, s in enumerate(mj["static"]):
        keys(s, {"name", "size", "join"}, "static[%d]" % i)
        need(_is_int(s["size"]) and s["size"] > 0 and s["join"] in JOINS,
             "static[%d] size > 0, join in %s" % (i, JOINS))
        names.append(s["name"])
    need(all(isinstance(n, str) and n for n in names) and len(set(names)) == len(names),
         "input and static names must be distinct non-empty strings")
    r = mj["rnn"]
    keys(r, {"module", "mode", "input_size", "hidden_size", "num_layers", "bidirectional", "bias", "proj_size",
             "h0", "c0"}, "rnn")
    need(r["mode"] in MODES, "rnn.mode in %s" % (MODES,))
    need(all(_is_int(r[k]) and r[k] > 0 for k in ("input_size", "hidden_size", "num_layers")),
         "rnn input_size, hidden_size, num_layers > 0")
    need(isinstance(r["bidirectional"], bool) and isinstance(r["bias"], bool), "rnn bidirectional, bias bool")
    need(_is_int(r["proj_size"]) and (r["proj_size"] == 0 or (r["mode"] == "LSTM" and 0 < r["proj_size"] <
                                                                r["hidden_size"])),
         "rnn.proj_size 0, or in (0, hidden_size) for LSTM")
    need(r["h0"] is None or isinstance(r["h0"], str), "rnn.h0 null or a path")
    need(r["c0"] is None or (isinstance(r["c0"], str) and r["mode"] == "LSTM"), "rnn.c0 null, or a path for LSTM")
    step, o, w = graph_widths(mj)
    if "step_layers" in mj:
        need(isinstance(mj["step_layers"], list) and mj["step_layers"], "step_layers a non-empty list")
        step = layers_ok(mj["step_layers"], step, "step_layers")
    need(step == r["input_size"], "rnn.input_size %d != the step width %d (inputs + every_step statics%s)"
         % (r["input_size"], step, ", through step_layers" if "step_layers" in mj else ""))
    need(isinstance(mj["pooling"], list) and mj["pooling"], "pooling must be a non-empty list")
    for i, part in enumerate(mj["pooling"]):
        if isinstance(part, str):
            need(part in POOLINGS2, "pooling[%d] in %s or an attention object" % (i, POOLINGS2))
        elif isinstance(part, dict) and "last_k_mean" in part:
            keys(part, {"last_k_mean"}, "pooling[%d]" % i)
            keys(part["last_k_mean"], {"k"}, "pooling[%d].last_k_mean" % i)
            need(_is_int(part["last_k_mean"]["k"]) and part["last_k_mean"]["k"] >= 1,
                 "pooling[%d].last_k_mean.k an integer >= 1" % i)
        elif isinstance(part, dict) and "query_attention" in part:
            keys(part, {"query_attention"}, "pooling[%d]" % i)
            keys(part["query_attention"], {"query"}, "pooling[%d].query_attention" % i)
            need(isinstance(part["query_attention"]["query"], str), "pooling[%d].query_attention.query a name" % i)
        elif isinstance(part, dict) and ("hidden" in part or "dot_attention" in part):
            kind, field = ("hidden", "indices") if "hidden" in part else ("dot_attention", "query")
            keys(part, {kind}, "pooling[%d]" % i)
            keys(part[kind], {field}, "pooling[%d].%s" % (i, kind))
            states = r["num_layers"] * (2 if r["bidirectional"] else 1)
            idx = part[kind][field]
            need(isinstance(idx, list) and idx and all(_is_int(k) and -states <= k < states for k in idx),
                 "pooling[%d].%s.%s a non-empty list of indices into h_n's %d states" % (i, kind, field, states))
            if kind == "dot_attention":
                need(len(idx) * state_size(r) == o, "pooling[%d].dot_attention.query as wide as the output" % i)
        else:
            keys(part, {"attention"}, "pooling[%d]" % i)
            a = part["attention"]
            keys(a, {"proj", "context", "size"} | ({"query"} if "query" in a else set()), "pooling[%d].attention" % i)
            need(isinstance(a["proj"], str) and isinstance(a["context"], str) and _is_int(a["size"]) and a["size"] > 0,
                 "pooling[%d].attention proj, context paths, size > 0" % i)
            states = r["num_layers"] * (2 if r["bidirectional"] else 1)
            need("query" not in a or (isinstance(a["query"], list) and a["query"] and all(
                _is_int(k) and -states <= k < states for k in a["query"])),
                 "pooling[%d].attention.query a non-empty list of indices into h_n" % i)
    need(isinstance(mj["heads"], list) and mj["heads"], "heads must be a non-empty list")
    hnames = []
    for i, h in enumerate(mj["heads"]):
        keys(h, {"name", "activation", "layers"}, "heads[%d]" % i)
        need(isinstance(h["name"], str) and h["name"], "heads[%d].name" % i)
        need(h["activation"] in HEAD_ACTIVATIONS, "heads[%d].activation in %s" % (i, HEAD_ACTIVATIONS))
        need(isinstance(h["layers"], list) and h["layers"], "heads[%d].layers non-empty" % i)
        layers_ok(h["layers"], w, "heads[%d].layers" % i)
        hnames.append(h["name"])
    need(len(set(hnames)) == len(hnames), "head names must be distinct")


def tied_owner(mj, layer):
    """The tokens input whose embedding a tied layer reads, or None."""
    return next((i for i in mj["inputs"] if i["kind"] == "tokens" and i["embedding"] == layer["embedding"]), None)


def graph_tensor_names(mj):
    """{tensor name: shape} for every tensor a seqpack-model/2 dict references (what model.safetensors holds)."""
    validate_graph(mj)
    out = {}

    def norm(n, size):
        if n["type"] == "batch_norm":
            out[n["module"] + ".running_mean"] = [size]
            out[n["module"] + ".running_var"] = [size]
        if n["affine"]:
            out[n["module"] + ".weight"] = [size]
            out[n["module"] + ".bias"] = [size]

    for inp in mj["inputs"]:
        if inp["kind"] == "tokens":
            out[inp["embedding"] + ".weight"] = [inp["vocab_size"], inp["embedding_dim"]]
            size = inp["embedding_dim"]
        else:
            size = inp["size"]
        if inp["norm"] is not None:
            norm(inp["norm"], size)
    r = mj["rnn"]
    gates = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}[r["mode"]] * r["hidden_size"]
    d = 2 if r["bidirectional"] else 1
    p = r["proj_size"] if r["proj_size"] > 0 else r["hidden_size"]
    pre = r["module"] + "." if r["module"] else ""
    for k in range(r["num_layers"]):
        in_k = r["input_size"] if k == 0 else d * p
        for sfx in ("", "_reverse")[:d]:
            out["%sweight_ih_l%d%s" % (pre, k, sfx)] = [gates, in_k]
            out["%sweight_hh_l%d%s" % (pre, k, sfx)] = [gates, p]
            if r["bias"]:
                out["%sbias_ih_l%d%s" % (pre, k, sfx)] = [gates]
                out["%sbias_hh_l%d%s" % (pre, k, sfx)] = [gates]
            if r["proj_size"] > 0:
                out["%sweight_hr_l%d%s" % (pre, k, sfx)] = [r["proj_size"], r["hidden_size"]]
    if r["h0"] is not None:
        out[r["h0"]] = [r["num_layers"] * d, 1, p]
    if r["c0"] is not None:
        out[r["c0"]] = [r["num_layers"] * d, 1, r["hidden_size"]]
    _, o, _ = graph_widths(mj)
    for part in mj["pooling"]:
        if isinstance(part, dict) and "attention" in part:
            a = part["attention"]
            out[a["proj"] + ".weight"] = [a["size"], o + query_width(part, r)]
            out[a["proj"] + ".bias"] = [a["size"]]
            out[a["context"] + ".weight"] = [1, a["size"]]
    for part in mj["pooling"]:
        if isinstance(part, dict) and "query_attention" in part:
            out[part["query_attention"]["query"]] = [o]
    for layers in [mj.get("step_layers", [])] + [h["layers"] for h in mj["heads"]]:
        for layer in layers:
            if layer["type"] == "linear":
                out[layer["module"] + ".weight"] = [layer["out_features"], layer["in_features"]]
                if layer["bias"]:
                    out[layer["module"] + ".bias"] = [layer["out_features"]]
            elif layer["type"] in ("layer_norm", "batch_norm"):
                norm(layer, layer["size"])
            elif layer["type"] == "tied" and "bias" in layer:      # the table itself is the input's
                out[layer["bias"]] = [layer["num_embeddings"]]
    return out


def _norm_apply(n, x, t):
    """Apply a norm object to the last dim of x (any leading dims), eval semantics."""
    m = n["module"]
    w = t[m + ".weight"] if n["affine"] else None
    b = t[m + ".bias"] if n["affine"] else None
    if n["type"] == "layer_norm":
        return F.layer_norm(x, (x.shape[-1],), w, b, n["eps"])
    shape = x.shape
    y = F.batch_norm(x.reshape(-1, shape[-1]), t[m + ".running_mean"], t[m + ".running_var"], w, b,
                     training=False, eps=n["eps"])
    return y.reshape(shape)


def _layer_apply(layer, x, t, inputs=()):
    """One head layer on x [..., width]; inputs: the model.json's inputs (a tied layer's padding_idx)."""
    typ = layer["type"]
    if typ == "tied":
        y = F.linear(x, t[layer["embedding"] + ".weight"], t[layer["bias"]] if "bias" in layer else None)
        if layer["exclude_padding"]:
            owner = next(i for i in inputs if i["kind"] == "tokens" and i["embedding"] == layer["embedding"])
            y[..., owner["padding_idx"]] = float("-inf")
        return y
    if typ == "linear":
        return F.linear(x, t[layer["module"] + ".weight"], t[layer["module"] + ".bias"] if layer["bias"] else None)
    if typ in ("layer_norm", "batch_norm"):
        return _norm_apply(layer, x, t)
    if typ == "relu":
        return F.relu(x)
    if typ == "leaky_relu":
        return F.leaky_relu(x, layer["negative_slope"])
    if typ == "elu":
        return F.elu(x, layer["alpha"])
    if typ == "gelu":
        return F.gelu(x, approximate=layer.get("approximate", "none"))
    if typ == "tanh":
        return torch.tanh(x)
    if typ == "sigmoid":
        return torch.sigmoid(x)
    if typ in ("dropout", "identity"):
        return x
    raise ValueError("unknown layer type %r" % typ)


def head_apply(head, x, t, inputs=()):
    """One head (its layers then its activation) on x [..., W]; inputs: the model.json's (for tied layers)."""
    for layer in head["layers"]:
        x = _layer_apply(layer, x, t, inputs)
    if head["activation"] == "sigmoid":
        return torch.sigmoid(x)
    if head["activation"] == "softmax":
        return torch.softmax(x, dim=-1)
    if head["activation"] == "log_softmax":
        return torch.log_softmax(x, dim=-1)
    return x


def step_scores_apply(mj):
    """True when step_scores are defined (as the Java engine's supportsPerStep): exactly one head, reading a vector
    as wide as the RNN output O, so it can read each step's output instead."""
    _, o, w = graph_widths(mj)
    return len(mj["heads"]) == 1 and w == o


class GraphReference(nn.Module):
    """The seqpack-model/2 forward pass with plain PyTorch ops, from a model.json dict and {name: tensor}.

    forward(batch) with batch = {"inputs": {name: list of B per-row tensors (1-D int64 tokens, or 2-D float
    [len, size] features)}, "static": {name: [B, size] float tensor}} returns a dict: lengths [B] (int64),
    rnn_output [B, T, O] (zero padded), h_n [L*D, B, P], c_n [L*D, B, H] (LSTM, else None), embedding [B, W],
    heads {name: [B, out]} (after the activation), step_scores (list of B tensors [len_b, out]; only when
    step_scores_apply(mj), else None)."""

    def __init__(self, mj, tensors):
        super().__init__()
        validate_graph(mj)
        self.mj = copy.deepcopy(mj)
        expected = graph_tensor_names(mj)
        missing = sorted(set(expected) - set(tensors))
        if missing:
            raise ValueError("tensors missing: %s" % ", ".join(missing))
        for name, shape in expected.items():
            if list(tensors[name].shape) != shape:
                raise ValueError("tensor %s has shape %s, expected %s" % (name, list(tensors[name].shape), shape))
        self.t = {k: tensors[k].detach().to(torch.float32).clone() for k in expected}
        r = mj["rnn"]
        common = dict(input_size=r["input_size"], hidden_size=r["hidden_size"], num_layers=r["num_layers"],
                      bias=r["bias"], batch_first=True, bidirectional=r["bidirectional"])
        if r["mode"] in ("RNN_TANH", "RNN_RELU"):
            self.rnn = nn.RNN(nonlinearity="tanh" if r["mode"] == "RNN_TANH" else "relu", **common)
        elif r["mode"] == "LSTM":
            self.rnn = nn.LSTM(proj_size=r["proj_size"], **common)
        else:
            self.rnn = nn.GRU(**common)
        pre = r["module"] + "." if r["module"] else ""
        self.rnn.load_state_dict({k: self.t[pre + k] for k in self.rnn.state_dict()}, strict=True)
        self.eval()

    def forward(self, batch):
        mj, t = self.mj, self.t
        lengths = None
        xs = []
        for inp in mj["inputs"]:
            rows = [torch.as_tensor(s) for s in batch["inputs"][inp["name"]]]
            n = torch.tensor([s.shape[0] for s in rows], dtype=torch.int64)
            if lengths is None:
                lengths = n
            elif not torch.equal(lengths, n):
                raise ValueError("input %s: lengths %s differ from %s" % (inp["name"], n.tolist(), lengths.tolist()))
            if inp["kind"] == "tokens":
                x = F.embedding(pad_sequence([s.to(torch.int64) for s in rows], batch_first=True),
                                t[inp["embedding"] + ".weight"], padding_idx=inp["padding_idx"])
            else:
                x = pad_sequence([s.to(torch.float32).reshape(s.shape[0], inp["size"]) for s in rows],
                                 batch_first=True)
            if inp["norm"] is not None:
                x = _norm_apply(inp["norm"], x, t)
            xs.append(x)
        b, steps = xs[0].shape[0], xs[0].shape[1]
        statics = {s["name"]: torch.as_tensor(batch.get("static", {})[s["name"]], dtype=torch.float32).reshape(
            b, s["size"]) for s in mj["static"]}
        for s in mj["static"]:
            if s["join"] == "every_step":
                xs.append(statics[s["name"]].unsqueeze(1).expand(b, steps, s["size"]))
        x = torch.cat(xs, dim=-1)
        for layer in mj.get("step_layers", []):       # per-step input layers, before the recurrent stack
            x = _layer_apply(layer, x, t)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        r = mj["rnn"]
        d = 2 if r["bidirectional"] else 1
        p = r["proj_size"] if r["proj_size"] > 0 else r["hidden_size"]
        hx = None
        if r["h0"] is not None or r["c0"] is not None:
            h0 = (t[r["h0"]] if r["h0"] is not None else torch.zeros(r["num_layers"] * d, 1, p)).expand(-1, b, -1)
            hx = h0.contiguous()
            if r["mode"] == "LSTM":
                c0 = t[r["c0"]] if r["c0"] is not None else torch.zeros(r["num_layers"] * d, 1, r["hidden_size"])
                hx = (hx, c0.expand(-1, b, -1).contiguous())
        packed_out, hidden = self.rnn(packed, hx)
        h_n, c_n = hidden if r["mode"] == "LSTM" else (hidden, None)
        output, _ = pad_packed_sequence(packed_out, batch_first=True)
        parts = []
        mask = torch.arange(steps).unsqueeze(0) < lengths.unsqueeze(1)           # [B, T] valid steps
        for part in mj["pooling"]:
            if part == "last":
                parts.append(torch.cat((h_n[-2], h_n[-1]), 1) if d == 2 else h_n[-1])
            elif part == "first":
                parts.append(output[:, 0, :])
            elif part in ("mean", "max"):
                rows = [output[i, :n] for i, n in enumerate(lengths.tolist())]
                parts.append(torch.stack([v.mean(dim=0) if part == "mean" else v.max(dim=0).values for v in rows]))
            elif "hidden" in part:                     # final states of any layers and directions, in order
                parts.append(final_states(h_n, part["hidden"]["indices"]))
            elif "dot_attention" in part or "query_attention" in part:   # e_t = o_t · q; softmax; Σ a_t o_t
                q = (final_states(h_n, part["dot_attention"]["query"]) if "dot_attention" in part else
                     t[part["query_attention"]["query"]].unsqueeze(0).expand(b, -1))
                e = torch.bmm(output, q.unsqueeze(2)).squeeze(2)
                w = torch.softmax(e.masked_fill(~mask, float("-inf")), dim=1)
                parts.append((w.unsqueeze(-1) * output).sum(dim=1))
            elif "last_k_mean" in part:                # mean of the last min(k, n) valid steps
                k = part["last_k_mean"]["k"]
                parts.append(torch.stack([output[i, max(0, n - k):n].mean(dim=0)
                                          for i, n in enumerate(lengths.tolist())]))
            else:
                a = part["attention"]
                x = output
                if a.get("query") is not None:          # cat(o_t, q) at every step
                    q = final_states(h_n, a["query"])
                    x = torch.cat([output, q.unsqueeze(1).expand(-1, output.shape[1], -1)], dim=2)
                e = F.linear(torch.tanh(F.linear(x, t[a["proj"] + ".weight"], t[a["proj"] + ".bias"])),
                             t[a["context"] + ".weight"]).squeeze(-1)                # [B, T]
                w = torch.softmax(e.masked_fill(~mask, float("-inf")), dim=1)
                parts.append((w.unsqueeze(-1) * output).sum(dim=1))
        for s in mj["static"]:
            if s["join"] == "after_pooling":
                parts.append(statics[s["name"]])
        embedding = torch.cat(parts, dim=1)
        heads = {h["name"]: head_apply(h, embedding, t, mj["inputs"]) for h in mj["heads"]}
        step_scores = None
        if step_scores_apply(mj):
            step_scores = [head_apply(mj["heads"][0], output[i, :n], t, mj["inputs"]) for i, n in enumerate(lengths.tolist())]
        return {"lengths": lengths, "rnn_output": output, "h_n": h_n, "c_n": c_n, "embedding": embedding,
                "heads": heads, "step_scores": step_scores}


def reference_forward(parts, spec_json, batch):
    """GraphReference(spec_json, parts)(batch) under no_grad: parts = {tensor name: tensor}, spec_json = a
    seqpack-model/2 dict, batch as in GraphReference.forward."""
    with torch.no_grad():
        return GraphReference(spec_json, parts)(batch)
