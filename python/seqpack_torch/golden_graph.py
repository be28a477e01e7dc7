"""Generate the seqpack-model/2 golden fixtures under src/test/resources/golden/graph/ (format: golden/FORMAT.md).

Usage, from the repository root:

    /usr/bin/python3 scripts/make_golden.py --graph [--out src/test/resources/golden]    # writes <out>/graph/ only

Each case builds one of the user-style modules in python/seqpack_torch/golden_models.py (torch.manual_seed(seed), default
init, then seeded non-trivial BatchNorm running stats / affine params, LayerNorm params and h0/c0), calls
.eval(), exports it with export_pytorch.export_module and a SPEC, and stores as golden values what the USER
MODULE computes in its own forward: its returned head outputs, the RNN's output and h_n captured by a forward
hook on the RNN submodule, and the pooled "embedding" captured by a forward pre-hook on the head module(s).
Before writing, seqpack_torch.GraphReference built from the written model.json + model.safetensors must match
all of them within 1e-6 (else this script fails). Also writes graph/refusals.json (the exporter's refusal
messages, produced by running export_module on bad modules/specs) and graph/GENERATED_BY.txt.
"""

import datetime
import json
import os
import shutil
import sys

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

from . import golden_models as gm
from . import reference as st
from .export import ExportError, _resolve_module, export_module, infer_spec
from .golden_io import dump, f32, ints
from .safetensors import read_model_dir, read_safetensors, round_to_dtype

TOLERANCE = 1e-6
TOP_K = 10                          # torch.topk of the tied heads' scores, for --top-k


# ----------------------------------------------------------------------------------------------- cases
def C(name, description, cls, seed, lengths, dtype="F32", init=None, call=None, top_k=None):
    """top_k: also store torch.topk(.., top_k) of the first head (and of every step, and with the row's own
    tokens of the first input left out) for --top-k."""
    return dict(name=name, description=description, cls=cls, seed=seed, lengths=lengths, dtype=dtype,
                init=init or {}, call=call, top_k=top_k)


def call_a(m, p, s, n):
    return {"sentiment": m(p["text"], n)}


def call_b(m, p, s, n):
    return {"fraud": m(p["event"], p["mcc"], p["country"], p["numeric"], p["hour"], n).unsqueeze(-1)}


def call_c(m, p, s, n):
    return {"health": m(p["vib"], p["temp"], n)}


def call_d(m, p, s, n):
    return {"convert": m(p["pages"], p["deltas"], n)}


def call_e(m, p, s, n):                      # this model is time-major: [T, B, ...]
    return m(p["tokens"].transpose(0, 1), p["amounts"].transpose(0, 1), s["profile"], n)


def call_f(m, p, s, n):
    final, steps = m(p["x"], s["static"], n)
    return {"score": final}, [steps[b, :k] for b, k in enumerate(n.tolist())]


def call_g(m, p, s, n):
    return {"y": m(p["signal"], n)}


def call_h(m, p, s, n):
    return {"p": m(p["tokens"], p["feats"], n)}


def call_i(m, p, s, n):                      # amounts go in feature-major: [B, F, T]
    return {"score": m(p["event"], p["amount"].transpose(1, 2), n).unsqueeze(-1)}


def call_j(m, p, s, n):
    return {"score": m(p["text"], n)}


def call_k(m, p, s, n):
    return {"score": m(p["tokens"], n)}


def call_l(m, p, s, n):
    return {"score": m(p["words"], n)}


def call_p(m, p, s, n):
    return {"score": m(p["features"], n).unsqueeze(-1)}


def call_q(m, p, s, n):                      # time-major tokens: [T, B]
    return {"score": m(p["text"].t(), n)}
def call_next_item(m, p, s, n):
    """The catalogue scores of forward; per step, the module's own score() and activation on each valid output;
    the pooled vector (h_n[-1]) from the RNN hook (these heads have no module of their own to hook)."""
    scores = m(p["items"], n)                    # first: a head module's pre-hook keeps its first input
    packed = pack_padded_sequence(m.item_emb(p["items"]), n, batch_first=True, enforce_sorted=False)
    out, h_n = m.gru.forward(packed)             # .forward: not seen by the hook that records forward's RNN run
    out, _ = pad_packed_sequence(out, batch_first=True)
    act = torch.log_softmax if isinstance(m, gm.GRU4RecDenseBias) else torch.softmax
    steps = [act(m.score(out[b, :k]), dim=-1) for b, k in enumerate(n.tolist())]
    return {"next_item": scores}, steps, h_n[-1]


def call_o(m, p, s, n):
    return {"next_key": m(p["keys"], n)}


CASES = [
    C("a_bilstm_text", "text classifier: Embedding(50, 8, padding_idx=0) -> 2-layer bidirectional LSTM (dropout "
      "0.25, off in eval) -> cat(h_n[-2], h_n[-1]) -> Linear(20, 3) -> softmax; token 0 (padding_idx) occurs "
      "inside sequences", gm.BiLSTMTextClassifier, 201, [1, 5, 9, 3, 5, 2, 7], call=call_a),
    C("b_fraud_lstm", "fraud scoring: three embeddings (emb_event, embs.0, embs.1) + numeric features (size 4) + "
      "a width-1 feature -> LSTM(18, 16) -> last -> Sequential(Linear, ReLU, Dropout, Linear) -> sigmoid",
      gm.FraudLSTM, 202, [3, 1, 9, 4, 4, 6, 2, 8], call=call_b),
    C("c_sensor_gru", "sensor GRU: BatchNorm1d(5) (running stats, affine) on one feature input and LayerNorm(3) "
      "on another -> GRU(8, 12) -> pooling last + max + mean -> Sequential(Linear, GELU, LayerNorm, Linear, "
      "Tanh), activation none", gm.SensorGRU, 203, [6, 1, 4, 9, 4, 2], call=call_c),
    C("d_bigru_attention", "bidirectional GRU (batch_first) over tokens + 2 features -> additive attention "
      "(attn.proj Linear(16, 10), attn.v Linear(10, 1, bias=False), softmax over valid steps) -> "
      "Sequential(Linear, LeakyReLU(0.2), BatchNorm1d, Linear) -> sigmoid", gm.BiGRUAttention, 204,
      [1, 4, 4, 7, 2, 9], call=call_d),
    C("e_static_two_heads", "time-major RNN_TANH over tokens (Embedding padding_idx=-1, normalised to 24) + 3 "
      "features; pooling first + last, then a static profile (size 3) after pooling; two heads: fraud "
      "Sequential(Linear, ELU(0.7), Linear) sigmoid and amount Linear none", gm.StaticTwoHeads, 205,
      [2, 8, 1, 5, 5, 3, 9, 4, 6], call=call_e),
    C("f_static_every_step_h0", "features (size 4) + a static vector (size 2) concatenated to every step -> "
      "2-layer LSTM with proj_size 5 (hidden 12) and trainable h0 [2, 1, 5] / c0 [2, 1, 12] -> last -> "
      "Linear(5, 2); step_scores from the module's own per-step output", gm.StepScorerLSTM, 206,
      [4, 1, 7, 7, 3], call=call_f),
    C("g_rnn_relu_nobias_f16", "2-layer RNN_RELU with bias=False over features (size 4), pooling mean over valid "
      "steps, Linear(10, 2); stored as F16 (golden values computed with every weight rounded to float16 and "
      "back)", gm.ReluRNNMean, 207, [5, 2, 1, 8, 5], dtype="F16", call=call_g),
    C("h_last_k_mean_gelu_tanh", "tokens + 3 features -> bidirectional LSTM -> last_k_mean k=5 (mean of each "
      "row's last min(5, length) valid steps; rows of 1 to 9 steps) -> Sequential(Linear, GELU(approximate='tanh'), "
      "Linear) -> sigmoid", gm.LastKMeanGeluTanh, 208, [1, 9, 5, 3, 6, 4, 7], call=call_h),
    C("i_forward_read", "exported without a spec (the exporter reads forward): an nn.Embedding subclass for event "
      "ids, 2 amounts given [B, F, T] and permuted in forward, GRU(7, 9) from tanh(starter_h) (folded at export), "
      "head fc1 -> torch.relu -> fc2 -> sigmoid written as separate attributes", gm.ForwardReadGRU, 209,
      [4, 1, 8, 3, 8, 2], call=call_i),
    C("j_all_states", "read from forward: 2-layer bidirectional GRU, pooled h_n of every layer and direction "
      "(h_n.permute(1, 0, 2).reshape(B, -1)) -> Linear(20, 3)", gm.AllStatesTextRNN, 210, [5, 2, 9, 1, 6, 3],
      call=call_j),
    C("k_query_attention", "read from forward: bidirectional LSTM; cat(hidden[-1], hidden[-2]) (backward first) "
      "and dot-product attention queried by cat(hidden[-2], hidden[-1]), masked -> Linear(20, 2)",
      gm.QueryAttentionLSTM, 211, [3, 7, 1, 7, 4, 2, 5], call=call_k),
    C("l_concat_attention_encoder", "read from forward: GRU, additive attention over cat(o_t, h_n[-1]), identity "
      "head (the pooled vector is the output)", gm.ConcatAttentionEncoder, 212, [2, 6, 4, 1, 8, 5], call=call_l),
    C("p_step_net_attention", "read from forward: per-step net Sequential(Linear(6, 8), Tanh) before a GRU; "
      "cat(h_n[-1], additive attention) -> Linear", gm.AttentiveGRU, 213, [5, 1, 7, 3, 7, 2], call=call_p),
    C("q_query_attention", "read from forward: time-major tokens, a per-step Linear + relu on the embeddings, "
      "2-layer BiLSTM, attention with a learned query vector", gm.TranslatedQueryAttention, 214,
      [4, 9, 2, 6, 1, 5], call=call_q),
    C("m_gru4rec_tied", "GRU4Rec: item Embedding(60, 8, padding_idx=0) -> GRU(8, 8, bias=False) -> last -> "
      "h · Eᵀ with the same table (tied, stored once) -> softmax over the 60 items; step_scores from the "
      "module's own score() on each valid step", gm.GRU4Rec, 213, [3, 1, 7, 5, 5, 2, 9, 4], call=call_next_item,
      top_k=TOP_K),
    C("n_gru4rec_dense_bias", "GRU4Rec with a dense layer and an output bias: Embedding(60, 6, padding_idx=0) "
      "-> GRU(6, 10, bias=False) -> last -> Linear(10, 6) -> · Eᵀ + By (Embedding(60, 1), flattened) -> "
      "log_softmax", gm.GRU4RecDenseBias, 214, [4, 6, 1, 8, 2, 6, 3], call=call_next_item, top_k=TOP_K),
    C("o_deeplog", "DeepLog: key Embedding(28, 6) -> 2-layer LSTM(6, 10) -> last -> Linear(10, 28) -> log_softmax; "
      "step_scores (every step's next-key distribution) from the module's own fc + log_softmax",
      gm.DeepLog, 215, [5, 9, 2, 7, 1, 6, 4], call=call_o, top_k=5),
]


def init_model(case):
    """torch.manual_seed(seed), default init, then seeded non-trivial norm params / stats and h0/c0; eval()."""
    torch.manual_seed(case["seed"])
    model = case["cls"](**case["init"])
    g = torch.Generator().manual_seed(case["seed"] + 1000)
    with torch.no_grad():
        for _, m in sorted(model.named_modules()):
            if isinstance(m, nn.BatchNorm1d):
                n = m.num_features
                m.running_mean.copy_(0.5 * torch.randn(n, generator=g))
                m.running_var.copy_(0.5 + 1.5 * torch.rand(n, generator=g))
                m.weight.copy_(1.0 + 0.3 * torch.randn(n, generator=g))
                m.bias.copy_(0.2 * torch.randn(n, generator=g))
                m.num_batches_tracked.fill_(100)
            elif isinstance(m, nn.LayerNorm):
                m.weight.copy_(1.0 + 0.3 * torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=g))
        for name in ("h0", "c0"):
            if isinstance(getattr(model, name, None), nn.Parameter):
                getattr(model, name).copy_(0.5 * torch.randn(getattr(model, name).shape, generator=g))
    if case["dtype"] != "F32":                     # what a reader converting to float32 will see
        model.load_state_dict({k: round_to_dtype(v, case["dtype"]) if v.is_floating_point() else v
                               for k, v in model.state_dict().items()})
    return model.eval()


def make_batch(mj, case):
    """Ragged batch {inputs: {name: rows}, static: {name: [B, size]}} from numpy.random.RandomState(seed)."""
    rng = np.random.RandomState(case["seed"])
    lengths = case["lengths"]
    batch = {"inputs": {}, "static": {}}
    for inp in mj["inputs"]:
        if inp["kind"] == "tokens":
            rows = []
            for i, n in enumerate(lengths):
                s = rng.randint(0, inp["vocab_size"], size=n)
                if inp["padding_idx"] is not None and n >= 3 and i % 2 == 0:   # padding_idx inside some rows
                    s[rng.randint(0, n)] = inp["padding_idx"]
                rows.append(torch.tensor(s, dtype=torch.int64))
        else:
            rows = [torch.from_numpy(rng.standard_normal((n, inp["size"])).astype(np.float32)) for n in lengths]
        batch["inputs"][inp["name"]] = rows
    for s in mj["static"]:
        batch["static"][s["name"]] = torch.from_numpy(rng.standard_normal((len(lengths), s["size"]))
                                                      .astype(np.float32))
    return batch


def run_user_module(case, model, mj, spec, batch):
    """What the user's module computes: {heads, rnn_output, h_n, c_n, embedding, step_scores or None}."""
    lengths = torch.tensor(case["lengths"], dtype=torch.int64)
    padded = {}
    for inp in mj["inputs"]:
        rows = batch["inputs"][inp["name"]]
        pad_value = inp["padding_idx"] if inp["kind"] == "tokens" and inp["padding_idx"] is not None else 0
        padded[inp["name"]] = pad_sequence(rows, batch_first=True, padding_value=pad_value)
    captured = {"rnn": [], "heads": {}}
    rnn_mod = _resolve_module(model, spec["rnn"], "rnn")
    hooks = [rnn_mod.register_forward_hook(lambda m, args, out: captured["rnn"].append(out))]
    for h in spec["heads"]:
        if h.get("module") is None:                # a tied head without a module: the case returns the vector
            continue

        def pre(m, args, name=h["name"]):
            captured["heads"].setdefault(name, []).append(args[0])
        hooks.append(_resolve_module(model, _first_module(h), "head").register_forward_pre_hook(pre))
    with torch.no_grad():
        result = case["call"](model, padded, batch["static"], lengths)
    for hk in hooks:
        hk.remove()
    heads, steps, pooled = (result + (None,) * 3)[:3] if isinstance(result, tuple) else (result, None, None)
    assert len(captured["rnn"]) == 1, "the RNN ran %d times" % len(captured["rnn"])
    packed_out, hidden = captured["rnn"][0]
    rnn_output, _ = pad_packed_sequence(packed_out, batch_first=True)
    h_n, c_n = hidden if mj["rnn"]["mode"] == "LSTM" else (hidden, None)
    # the first call of each head is on the pooled embedding (f also calls its head on every step afterwards)
    embeddings = [captured["heads"][h["name"]][0] if h.get("module") is not None else pooled
                  for h in spec["heads"]]
    assert all(torch.equal(e, embeddings[0]) for e in embeddings), "heads saw different inputs"
    out = {"heads": {k: v.detach() for k, v in heads.items()}, "rnn_output": rnn_output, "h_n": h_n, "c_n": c_n,
           "embedding": embeddings[0], "step_scores": None}
    if st.step_scores_apply(mj):
        if steps is None:   # the module's own head submodule + activation on every valid step output
            h = spec["heads"][0]
            act = {"none": lambda x: x, "sigmoid": torch.sigmoid, "softmax": lambda x: torch.softmax(x, dim=-1),
                   "log_softmax": lambda x: torch.log_softmax(x, dim=-1)}[h.get("activation", "none")]
            with torch.no_grad():
                steps = [act(_apply_head(model, h, rnn_output[b, :k])) for b, k in enumerate(case["lengths"])]
        out["step_scores"] = [s.detach() for s in steps]
    return out


def _apply_head(model, head, x):
    """The user's head modules (and the functions forward applies between them) on x."""
    for item in head["module"] if isinstance(head["module"], list) else [head["module"]]:
        x = st._layer_apply(item, x, {}) if isinstance(item, dict) else _resolve_module(model, item, "head")(x)
    return x


def _first_module(head):
    """The path of a head's first module (a spec's head "module" may be a list of paths and functions)."""
    return head["module"] if isinstance(head["module"], str) else head["module"][0]


def max_err(user, ref):
    pairs = [(user["rnn_output"], ref["rnn_output"]), (user["h_n"], ref["h_n"]),
             (user["embedding"], ref["embedding"])]
    if user["c_n"] is not None:
        pairs.append((user["c_n"], ref["c_n"]))
    assert set(user["heads"]) == set(ref["heads"])
    pairs += [(user["heads"][k], ref["heads"][k]) for k in user["heads"]]
    assert (user["step_scores"] is None) == (ref["step_scores"] is None)
    if user["step_scores"] is not None:
        pairs += list(zip(user["step_scores"], ref["step_scores"]))
    err = 0.0
    for a, b in pairs:
        assert a.shape == b.shape, (a.shape, b.shape)
        err = max(err, float((a.double() - b.double()).abs().max()))
    return err


def case_json(case, mj, batch, user):
    out = {"name": case["name"], "description": case["description"],
           "family": "golden_models." + case["cls"].__name__, "lengths": list(case["lengths"]),
           "inputs": {inp["name"]: [ints(r) if inp["kind"] == "tokens" else f32(r)
                                    for r in batch["inputs"][inp["name"]]] for inp in mj["inputs"]},
           "static": {s["name"]: f32(batch["static"][s["name"]]) for s in mj["static"]},
           "rnn_output": f32(user["rnn_output"]), "h_n": f32(user["h_n"]), "embedding": f32(user["embedding"]),
           "heads": {h["name"]: f32(user["heads"][h["name"]]) for h in mj["heads"]}}
    if user["step_scores"] is not None:
        out["step_scores"] = [f32(s) for s in user["step_scores"]]
    if case["top_k"]:              # torch.topk of the scores, and with each row's own items left out (-inf)
        k = case["top_k"]
        h = mj["heads"][0]["name"]
        scores = user["heads"][h]
        seen = torch.zeros_like(scores, dtype=torch.bool)
        for b, row in enumerate(batch["inputs"][mj["inputs"][0]["name"]]):
            seen[b, row] = True
        top = torch.topk(scores, k, dim=-1)
        top_unseen = torch.topk(scores.masked_fill(seen, float("-inf")), k, dim=-1)
        out["top_k"] = {"head": h, "k": k, "exclude_seen_input": mj["inputs"][0]["name"],
                        "ids": [ints(r) for r in top.indices], "scores": f32(top.values),
                        "ids_excluding_seen": [ints(r) for r in top_unseen.indices],
                        "scores_excluding_seen": f32(top_unseen.values)}
        if user["step_scores"] is not None:   # every step's top k (--per-step --top-k)
            steps = [torch.topk(x, k, dim=-1) for x in user["step_scores"]]
            out["top_k"]["step_ids"] = [[ints(r) for r in st.indices] for st in steps]
            out["top_k"]["step_scores"] = [f32(st.values) for st in steps]
    return out


def self_check(case, case_dir, mj, user):
    tensors, dtypes = read_safetensors(os.path.join(case_dir, "model.safetensors"))   # strict validating reader
    assert set(dtypes.values()) == {case["dtype"]}
    expected = st.graph_tensor_names(mj)
    assert {k: list(v.shape) for k, v in tensors.items()} == expected, "safetensors names/shapes"
    with open(os.path.join(case_dir, "model.json"), encoding="utf-8") as f:
        assert json.load(f) == mj
    with open(os.path.join(case_dir, "case.json"), encoding="utf-8") as f:
        cj = json.load(f)
    for k in ("rnn_output", "h_n", "embedding"):
        assert torch.equal(torch.tensor(cj[k], dtype=torch.float32), user[k].to(torch.float32)), k
    for k, v in user["heads"].items():
        assert torch.equal(torch.tensor(cj["heads"][k], dtype=torch.float32), v), k
    if user["step_scores"] is not None:
        assert all(torch.equal(torch.tensor(a, dtype=torch.float32), b)
                   for a, b in zip(cj["step_scores"], user["step_scores"]))


# -------------------------------------------------------------------------------------------- refusals
def refusal_cases():
    """(case, description, module, spec) that export_module must refuse."""
    S = gm.SPECS
    out = []

    def add(case, description, module, spec):
        out.append((case, description, module, spec))

    def with_(spec, **kw):
        s = json.loads(json.dumps(spec))
        s.update(kw)
        return s

    torch.manual_seed(0)
    fraud = gm.FraudLSTM()
    bad = gm.FraudLSTM()
    bad.head[2] = nn.Softplus()
    add("unknown_head_layer", "a Softplus inside the head Sequential", bad, S["FraudLSTM"])
    add("missing_path", "spec rnn names a submodule the model does not have", fraud,
        with_(S["FraudLSTM"], rnn="encoder"))
    add("missing_nested_path", "spec embedding path embs.2 (the ModuleList has 2 entries)", fraud,
        with_(S["FraudLSTM"], inputs=[{"name": "event", "kind": "tokens", "embedding": "embs.2"}]))
    add("rnn_wrong_kind", "spec rnn points at the head Sequential", fraud, with_(S["FraudLSTM"], rnn="head"))
    add("rnn_input_size_mismatch", "numeric features declared with size 3, the LSTM takes 18 inputs", fraud,
        with_(S["FraudLSTM"], inputs=S["FraudLSTM"]["inputs"][:3] +
              [{"name": "numeric", "kind": "features", "size": 3}, {"name": "hour", "kind": "features", "size": 1}]))
    add("embedding_wrong_kind", "a tokens input whose embedding path is the ModuleList", fraud,
        with_(S["FraudLSTM"], inputs=[{"name": "event", "kind": "tokens", "embedding": "embs"}]))
    m = gm.FraudLSTM()
    m.emb_event = nn.Embedding(20, 6, max_norm=1.0)
    add("embedding_max_norm", "nn.Embedding(max_norm=1.0) renormalises at lookup", m, S["FraudLSTM"])
    add("unknown_spec_key", "a misspelt spec key", fraud, with_(S["FraudLSTM"], poolling=["last"]))
    sensor = gm.SensorGRU()
    add("norm_size_mismatch", "feature size 4 but the BatchNorm1d has 5 features", sensor,
        with_(S["SensorGRU"], inputs=[{"name": "vib", "kind": "features", "size": 4, "norm": "bn_in"},
                                      S["SensorGRU"]["inputs"][1]]))
    add("norm_wrong_kind", "an input norm path that is the GRU", sensor,
        with_(S["SensorGRU"], inputs=[{"name": "vib", "kind": "features", "size": 5, "norm": "gru"},
                                      S["SensorGRU"]["inputs"][1]]))
    m = gm.SensorGRU()
    m.bn_in = nn.BatchNorm1d(5, track_running_stats=False)
    add("batch_norm_no_running_stats", "BatchNorm1d(track_running_stats=False)", m, S["SensorGRU"])
    m = gm.SensorGRU()
    m.ln_in = nn.LayerNorm([2, 3])
    add("layer_norm_two_dims", "LayerNorm([2, 3]) normalises over the last two dims", m, S["SensorGRU"])
    att = gm.BiGRUAttention()
    add("head_in_features_mismatch", "pooling last + mean (32 features) but the head's first Linear takes 16",
        att, with_(S["BiGRUAttention"], pooling=["last", "mean"]))
    add("head_custom_module", "a head path that is a custom module (the attention block)", att,
        with_(S["BiGRUAttention"], heads=[{"name": "convert", "module": "attn"}]))
    m = gm.BiGRUAttention()
    m.attn.v = nn.Linear(10, 1)
    add("attention_context_bias", "the attention context Linear has a bias", m, S["BiGRUAttention"])
    add("attention_proj_wrong_width", "attention proj path naming mlp.3, a Linear(8, 1) (the RNN output has 16 "
        "features)", att,
        with_(S["BiGRUAttention"], pooling=[{"attention": {"proj": "mlp.3", "context": "attn.v"}}]))
    step = gm.StepScorerLSTM()
    add("h0_wrong_shape", "h0 path naming the c0 parameter ([2, 1, 12], the LSTM needs [2, 1, 5])", step,
        with_(S["StepScorerLSTM"], h0="c0"))
    add("h0_missing", "h0 path naming a parameter that does not exist", step,
        with_(S["StepScorerLSTM"], h0="lstm.h0"))
    add("c0_not_lstm", "c0 given for an RNN", gm.ReluRNNMean(), with_(S["ReluRNNMean"], c0="fc.bias"))
    add("bad_join", "static join must be after_pooling or every_step", step,
        with_(S["StepScorerLSTM"], static=[{"name": "static", "size": 2, "join": "each_step"}]))
    rec = gm.GRU4Rec()
    tied = S["GRU4Rec"]["heads"][0]
    add("tied_missing_module", "a tied head naming a module the model does not have", rec,
        with_(S["GRU4Rec"], heads=[dict(tied, tied_to="items_emb")]))
    add("tied_not_embedding", "a tied head naming the GRU", rec, with_(S["GRU4Rec"], heads=[dict(tied, tied_to="gru")]))
    dense = gm.GRU4RecDenseBias()
    add("tied_width_mismatch", "a tied head without the dense layer: the GRU's 10 features against the table's 6",
        dense, with_(S["GRU4RecDenseBias"], heads=[dict(S["GRU4RecDenseBias"]["heads"][0], module=None)]))
    add("tied_bias_size", "a tied head whose bias is the dense layer's (6 values for 60 items)", dense,
        with_(S["GRU4RecDenseBias"], heads=[dict(S["GRU4RecDenseBias"]["heads"][0], bias="dense.bias")]))
    return out


def refusals(tmp_dir):
    out = []
    for case, description, module, spec in refusal_cases():
        try:
            export_module(module.eval(), spec, os.path.join(tmp_dir, case))
        except ExportError as e:
            msg = str(e)
            assert msg and "\n" not in msg
            out.append({"case": case, "message": msg})
            continue
        raise AssertionError("refusal case %s was exported" % case)
    return out


# ----------------------------------------------------------------------------------------------- main
def main(golden_root):
    out = os.path.join(golden_root, "graph")
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    names = [c["name"] for c in CASES]
    assert len(set(names)) == len(names)
    for entry in os.listdir(out):                      # stale graph case folders this script made earlier
        path = os.path.join(out, entry)
        if entry not in names and os.path.isfile(os.path.join(path, "case.json")):
            shutil.rmtree(path)

    errors = {}
    for case in CASES:
        model = init_model(case)
        spec = gm.SPECS[case["cls"].__name__]
        if spec is None:
            spec = infer_spec(model)
        case_dir = os.path.join(out, case["name"])
        with torch.no_grad():
            mj = export_module(model, spec, case_dir, dtype=case["dtype"])
        batch = make_batch(mj, case)
        user = run_user_module(case, model, mj, spec, batch)
        mj_w, tensors_w = read_model_dir(case_dir)
        ref = st.reference_forward(tensors_w, mj_w, batch)
        err = max_err(user, ref)
        if not err <= TOLERANCE:
            raise SystemExit("%s: reference_forward differs from the module's own forward by %.3g (> %g)"
                             % (case["name"], err, TOLERANCE))
        errors[case["name"]] = err
        dump(case_json(case, mj, batch, user), os.path.join(case_dir, "case.json"))
        self_check(case, case_dir, mj, user)
        print("graph/%-24s %s ok  max |reference - module| = %.3g" % (case["name"], case["dtype"], err))

    tmp = os.path.join(out, ".refusals.tmp")
    try:
        refs = refusals(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open(os.path.join(out, "refusals.json"), "w", encoding="utf-8") as f:
        json.dump(refs, f, indent=1)
        f.write("\n")
    print("graph/refusals.json: %d cases" % len(refs))

    with open(os.path.join(out, "GENERATED_BY.txt"), "w", encoding="utf-8") as f:
        f.write("Generated by python/seqpack_torch/golden_graph.py (models: python/seqpack_torch/golden_models.py)\n")
        f.write("command: /usr/bin/python3 scripts/make_golden.py --graph  (from the repository root; writes "
                "golden/graph/ only)\n")
        f.write("date: %s\n" % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"))
        f.write("python: %s\n" % sys.version.split()[0])
        f.write("torch: %s\nnumpy: %s\n" % (torch.__version__, np.__version__))
        f.write("OPENBLAS_CORETYPE: %s\n" % os.environ.get("OPENBLAS_CORETYPE", "(unset)"))
        f.write("torch threads: 1 (torch.set_num_threads(1)); weights: torch.manual_seed(seed) then default "
                "nn.Module init, then BatchNorm running_mean/running_var/weight/bias, LayerNorm weight/bias and "
                "h0/c0 from torch.Generator().manual_seed(seed + 1000); inputs: numpy.random.RandomState(seed)\n")
        f.write("golden values: the user module's own forward (heads), a forward hook on its RNN (rnn_output, "
                "h_n), a forward pre-hook on its head module(s) (embedding); step_scores from the module's own "
                "per-step output (f) or its head submodule + activation applied to each valid step\n")
        f.write("check: seqpack_torch.reference_forward on the written model.json + model.safetensors matches "
                "within %g\n" % TOLERANCE)
        f.write("cases:\n")
        for c in CASES:
            f.write("  %-24s seed %-4d dtype %-4s %-22s max |reference - module| %.3g\n"
                    % (c["name"], c["seed"], c["dtype"], c["cls"].__name__, errors[c["name"]]))
    return errors
