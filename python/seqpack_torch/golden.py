"""Generate the golden fixtures under src/test/resources/golden/ (format: golden/FORMAT.md).

Usage, from the repository root:

    /usr/bin/python3 scripts/make_golden.py [--out src/test/resources/golden]
    /usr/bin/python3 scripts/make_golden.py --graph [--out ...]   # only the seqpack-model/2 cases, <out>/graph/

Deterministic: every model case seeds torch (weights, default PyTorch init) and numpy (inputs) with its own
seed, and torch runs single-threaded. Writes golden/<case>/{model.json, model.safetensors, case.json},
golden/packing.json and golden/GENERATED_BY.txt, then self-checks every case: reads model.safetensors back with
an independent reader, loads it into a fresh SeqpackModel and requires every output to match bit-exactly, and
requires case.json floats to parse back to the exact float32 values.
"""

import argparse
import datetime
import json
import os
import shutil
import sys

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

from . import reference as st
from .export import export_model
from .golden_io import dump, f32, ints
from .safetensors import read_safetensors, round_to_dtype

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DEFAULT_OUT = os.path.join(ROOT, "src", "test", "resources", "golden")


# ----------------------------------------------------------------------------------------------- cases
def C(name, description, config, seed, lengths=None, inputs=None, dtype="F32"):
    return dict(name=name, description=description, config=config, seed=seed, lengths=lengths, inputs=inputs,
                dtype=dtype)


def tok(mode, h, **kw):
    kw.setdefault("vocab_size", 20)
    kw.setdefault("embedding_dim", 6)
    return st.make_config(mode=mode, hidden_size=h, **kw)


def feat(mode, h, **kw):
    return st.make_config(mode=mode, hidden_size=h, input_size=5, **kw)


MIXED = [1, 40, 17, 5, 23, 9, 31]      # lengths 1..40, batch 7, original order deliberately unsorted
SHORT = [3, 7, 1, 12, 5, 9]
TIES = [4, 9, 4, 1, 9, 4, 2, 1]        # batch 8 (<= 16: torch.sort happens to keep ties in original order)
TIES20 = [5, 3, 5, 2, 5, 3, 1, 5, 3, 2, 5, 1, 3, 5, 2, 4, 5, 3, 2, 5]   # batch 20 (> 16: tie order not stable)

CASES = [
    C("tutorial", "the tutorial: tokens vocab 11 / embedding 100 / RNN_TANH 256 / fc 256->1 / last / none; "
      "same weights as export_pytorch.py --demo-tutorial (torch.manual_seed(0))",
      st.tutorial_config(), 0, inputs=[[1, 2, 3], [4, 5], [6, 7, 8, 9], [10]]),
    # one layer, unidirectional, tokens, pooling last
    C("rnn_tanh", "RNN_TANH 1 layer uni, tokens, last, lengths 1..40", tok("RNN_TANH", 12), 101, MIXED),
    C("rnn_relu", "RNN_RELU 1 layer uni, tokens, last, lengths 1..40", tok("RNN_RELU", 12), 102, MIXED),
    C("lstm", "LSTM 1 layer uni, tokens, last, lengths 1..40", tok("LSTM", 12), 103, MIXED),
    C("gru", "GRU 1 layer uni, tokens, last, lengths 1..40", tok("GRU", 12), 104, MIXED),
    # stacked + bidirectional
    C("rnn_tanh_bi2", "RNN_TANH 2 layers bidirectional, tokens, last",
      tok("RNN_TANH", 6, num_layers=2, bidirectional=True), 111, SHORT),
    C("rnn_relu_bi2", "RNN_RELU 2 layers bidirectional, tokens, last, out_features 2",
      tok("RNN_RELU", 6, num_layers=2, bidirectional=True, out_features=2), 112, SHORT),
    C("lstm_bi2", "LSTM 2 layers bidirectional, tokens, last",
      tok("LSTM", 6, num_layers=2, bidirectional=True), 113, SHORT),
    C("gru_bi3", "GRU 3 layers bidirectional, tokens, last",
      tok("GRU", 5, num_layers=3, bidirectional=True), 114, SHORT),
    # LSTM projections
    C("lstm_proj", "LSTM proj_size 4 (hidden 10), 1 layer uni, tokens, last", tok("LSTM", 10, proj_size=4), 121, SHORT),
    C("lstm_proj_bi2", "LSTM proj_size 3 (hidden 7), 2 layers bidirectional, tokens, last, sigmoid",
      tok("LSTM", 7, proj_size=3, num_layers=2, bidirectional=True, activation="sigmoid"), 122, SHORT),
    # no biases
    C("rnn_tanh_nobias", "RNN_TANH bias=False, 2 layers uni, tokens, last",
      tok("RNN_TANH", 8, num_layers=2, bias=False), 131, SHORT),
    C("lstm_nobias", "LSTM bias=False, 1 layer bidirectional, tokens, last",
      tok("LSTM", 6, bidirectional=True, bias=False), 132, SHORT),
    C("gru_nobias", "GRU bias=False, 1 layer uni, tokens, last", tok("GRU", 8, bias=False), 133, SHORT),
    C("lstm_proj_nobias", "LSTM bias=False with proj_size 3 (hidden 6), 1 layer uni, tokens, last",
      tok("LSTM", 6, proj_size=3, bias=False), 134, SHORT),
    # padding_idx
    C("padding_idx", "tokens with padding_idx 0 (embedding row 0 is zero) and token 0 present in the inputs; LSTM",
      tok("LSTM", 8, padding_idx=0), 141, SHORT),
    C("padding_idx_nonzero", "tokens with padding_idx 7 present in the inputs; GRU bidirectional",
      tok("GRU", 6, padding_idx=7, bidirectional=True), 142, SHORT),
    # features input
    C("features_rnn_tanh", "features (input_size 5), RNN_TANH 1 layer uni, last", feat("RNN_TANH", 8), 151, SHORT),
    C("features_rnn_relu_bi", "features (input_size 5), RNN_RELU 1 layer bidirectional, last",
      feat("RNN_RELU", 6, bidirectional=True), 152, SHORT),
    C("features_lstm", "features (input_size 5), LSTM 1 layer uni, last", feat("LSTM", 8), 153, SHORT),
    C("features_gru_bi2", "features (input_size 5), GRU 2 layers bidirectional, last",
      feat("GRU", 6, num_layers=2, bidirectional=True), 154, SHORT),
    # pooling + activations
    C("gru_mean_sigmoid", "GRU uni, pooling mean over valid steps, sigmoid, out_features 3",
      tok("GRU", 8, pooling="mean", out_features=3, activation="sigmoid"), 161, SHORT),
    C("rnn_tanh_mean_bi_softmax", "RNN_TANH bidirectional, pooling mean, softmax over 3",
      tok("RNN_TANH", 6, bidirectional=True, pooling="mean", out_features=3, activation="softmax"), 162, SHORT),
    C("lstm_max_softmax", "LSTM uni, pooling max over valid steps, softmax over 3",
      tok("LSTM", 8, pooling="max", out_features=3, activation="softmax"), 163, SHORT),
    C("gru_max_bi2_sigmoid", "GRU 2 layers bidirectional, pooling max, sigmoid, out_features 3",
      tok("GRU", 5, num_layers=2, bidirectional=True, pooling="max", out_features=3, activation="sigmoid"), 164, SHORT),
    C("features_lstm_mean_bi", "features, LSTM bidirectional, pooling mean, activation none, out_features 2",
      feat("LSTM", 5, bidirectional=True, pooling="mean", out_features=2), 165, SHORT),
    C("relu_max_softmax", "RNN_RELU uni, pooling max, softmax over 3 (ReLU outputs contain exact zeros)",
      tok("RNN_RELU", 8, pooling="max", out_features=3, activation="softmax"), 166, SHORT),
    # shapes of the batch
    C("long", "long sequences (lengths 300, 211, 64, 2), LSTM uni hidden 6, last, sigmoid",
      tok("LSTM", 6, activation="sigmoid"), 171, [300, 211, 64, 2]),
    C("long_gru_bi", "long sequences (lengths 1, 150, 257), GRU bidirectional hidden 4, mean",
      tok("GRU", 4, bidirectional=True, pooling="mean"), 172, [1, 150, 257]),
    C("batch_one", "a batch of one (length 6), LSTM bidirectional, last", tok("LSTM", 6, bidirectional=True), 173, [6]),
    C("batch_one_len1", "a batch of one of length 1, GRU uni, softmax over 3",
      tok("GRU", 6, out_features=3, activation="softmax"), 174, [1]),
    C("equal_lengths", "all lengths equal (5 x 7), LSTM bidirectional, last", tok("LSTM", 6, bidirectional=True),
      175, [7, 7, 7, 7, 7]),
    C("ties", "ties among lengths (batch 8), GRU bidirectional 2 layers, last",
      tok("GRU", 5, num_layers=2, bidirectional=True), 176, TIES),
    C("ties_b20", "ties among lengths in a batch of 20: torch.sort(descending=True) is NOT stable here, so "
      "sorted_indices orders tied rows differently from a stable sort; outputs are order-independent",
      tok("RNN_TANH", 4), 177, TIES20),
]
DTYPE_CONFIG = tok("LSTM", 6, num_layers=2, bidirectional=True, out_features=2, activation="sigmoid")
for _dt in ("F64", "F16", "BF16"):
    CASES.append(C("dtype_" + _dt.lower(), "model stored as %s (golden outputs computed with the weights rounded to "
                   "%s and back to float32); same weights/inputs as the other dtype_* cases; LSTM bi2" % (_dt, _dt),
                   DTYPE_CONFIG, 181, SHORT, dtype=_dt))
CASES.append(C("dtype_f32", "the dtype_* model stored as F32 (reference for dtype_f64/f16/bf16)", DTYPE_CONFIG, 181,
               SHORT))


def make_inputs(case, rng):
    cfg = case["config"]["input"]
    if case["inputs"] is not None:
        return [torch.tensor(x, dtype=torch.int64) for x in case["inputs"]]
    seqs = []
    for i, n in enumerate(case["lengths"]):
        if cfg["kind"] == "tokens":
            s = rng.randint(0, cfg["vocab_size"], size=n)
            pidx = cfg["padding_idx"]
            if pidx is not None and n >= 2:            # make sure padding_idx occurs (also at position 0 once)
                s[rng.randint(0, n)] = pidx
                if i == 0:
                    s[0] = pidx
            seqs.append(torch.tensor(s, dtype=torch.int64))
        else:
            seqs.append(torch.from_numpy(rng.standard_normal((n, cfg["input_size"])).astype(np.float32)))
    return seqs


# ------------------------------------------------------------------------------------------ serialization
def case_json(case, seqs, d):
    tokens = case["config"]["input"]["kind"] == "tokens"
    out = {"name": case["name"], "description": case["description"],
           "inputs": [ints(s) for s in seqs] if tokens else [f32(s) for s in seqs],
           "lengths": ints(d["lengths"]),
           "batch_sizes": ints(d["batch_sizes"]),
           "sorted_indices": ints(d["sorted_indices"]),
           "unsorted_indices": ints(d["unsorted_indices"]),
           "rnn_output": f32(d["rnn_output"]),
           "h_n": f32(d["h_n"])}
    if d["c_n"] is not None:
        out["c_n"] = f32(d["c_n"])
    out.update(pooled=f32(d["pooled"]), logits=f32(d["logits"]), scores=f32(d["scores"]),
               step_scores=[f32(s) for s in d["step_scores"]],
               tutorial_last_column=f32(d["tutorial_last_column"]))
    return out



def same(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b)


def self_check(case, case_dir, seqs, d):
    tensors, dtypes = read_safetensors(os.path.join(case_dir, "model.safetensors"))
    assert set(dtypes.values()) == {case["dtype"]}
    with open(os.path.join(case_dir, "model.json"), encoding="utf-8") as f:
        config = json.load(f)
    assert config == case["config"]
    model = st.SeqpackModel(config).eval()
    model.load_state_dict(tensors, strict=True)
    with torch.no_grad():
        d2 = model.forward_details(seqs)
        scores = model(seqs)
    for k in ("batch_sizes", "sorted_indices", "unsorted_indices", "rnn_output", "h_n", "pooled", "logits", "scores",
              "tutorial_last_column"):
        assert same(d[k], d2[k]), "%s: %s differs after safetensors round trip" % (case["name"], k)
    assert d["c_n"] is None or same(d["c_n"], d2["c_n"])
    assert all(same(a, b) for a, b in zip(d["step_scores"], d2["step_scores"]))
    assert same(scores, d["scores"]), "forward() differs from forward_details()"
    # case.json floats parse back to the exact float32 values
    with open(os.path.join(case_dir, "case.json"), encoding="utf-8") as f:
        cj = json.load(f)
    for k in ("rnn_output", "h_n", "pooled", "logits", "scores", "tutorial_last_column"):
        assert same(torch.tensor(cj[k], dtype=torch.float32), d[k]), k
    assert np.all(np.isfinite(np.array(cj["rnn_output"], dtype=np.float64)))
    # the pitfalls the fixtures are meant to exhibit
    lengths = d["lengths"].tolist()
    if case["config"]["head"]["pooling"] == "last" and min(lengths) < max(lengths):
        assert not torch.equal(d["scores"], d["tutorial_last_column"]), "pitfall not visible"


# -------------------------------------------------------------------------------------------- packing
PACKING = [
    # name, width, batch_first, padding_value, lengths, total_length
    ("doc_example", 1, False, 0.0, [2, 1, 3], None),
    ("ties_batch_first", 3, True, -1.0, [3, 5, 3, 1, 5], None),
    ("total_length_batch_first", 3, True, 0.0, [4, 2, 3], 6),
    ("total_length_time_major", 1, False, -1.0, [1, 3], 5),
    ("total_length_equals_max", 1, True, -1.0, [1, 2, 3, 4, 5], 5),
    ("batch_of_one", 3, True, 0.0, [4], None),
    ("batch_of_one_len1", 1, False, -1.0, [1], 3),
    ("all_equal", 3, False, 0.0, [3, 3, 3, 3], None),
    ("all_equal_b20_unstable_sort", 1, True, 0.0, [2] * 20, None),
    ("ties_b17_unstable_sort", 1, False, -1.0, [3, 1, 3, 2, 3, 1, 2, 3, 3, 1, 2, 2, 3, 1, 3, 2, 3], None),
    ("increasing", 3, False, 0.0, [1, 2, 3, 4, 5], None),
    ("decreasing_ties", 1, True, 0.0, [6, 6, 4, 4, 1], None),
]


def packing_cases():
    out = []
    for name, width, bf, pv, lengths, total in PACKING:
        # distinct, exactly representable values: row i, step t, channel c -> (i+1)*100 + (t+1) + c/4
        seqs = [torch.tensor([[(i + 1) * 100 + (t + 1) + c * 0.25 for c in range(width)] for t in range(n)],
                             dtype=torch.float32) for i, n in enumerate(lengths)]
        padded = pad_sequence(seqs, batch_first=bf, padding_value=pv)
        packed = pack_padded_sequence(padded, torch.tensor(lengths), batch_first=bf, enforce_sorted=False)
        unpacked, un_lengths = pad_packed_sequence(packed, batch_first=bf, padding_value=pv, total_length=total)
        out.append({"name": name, "width": width, "batch_first": bf, "padding_value": pv, "lengths": lengths,
                    "padded": f32(padded), "data": f32(packed.data), "batch_sizes": ints(packed.batch_sizes),
                    "sorted_indices": ints(packed.sorted_indices), "unsorted_indices": ints(packed.unsorted_indices),
                    "unpacked": f32(unpacked), "unpacked_lengths": ints(un_lengths), "total_length": total})
    return out


def stable_order(lengths):
    return sorted(range(len(lengths)), key=lambda i: -lengths[i])


# ----------------------------------------------------------------------------------------------- main
def main(argv=None):
    p = argparse.ArgumentParser(description="Generate golden fixtures (see golden/FORMAT.md).")
    p.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: src/test/resources/golden)")
    p.add_argument("--graph", action="store_true",
                   help="write only the seqpack-model/2 fixtures, <out>/graph/ (python/seqpack_torch/golden_graph.py); "
                        "without it, only the seqpack-model/1 cases, packing.json and GENERATED_BY.txt")
    args = p.parse_args(argv)
    if args.graph:
        from . import golden_graph as make_golden_graph
        make_golden_graph.main(args.out)
        return
    out = args.out
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    names = [c["name"] for c in CASES]
    assert len(set(names)) == len(names)
    for entry in os.listdir(out):                      # drop stale case folders this script made earlier
        path = os.path.join(out, entry)
        if entry not in names and os.path.isfile(os.path.join(path, "case.json")):
            shutil.rmtree(path)

    unstable = []
    for case in CASES:
        torch.manual_seed(case["seed"])
        model = st.SeqpackModel(case["config"]).eval()
        if case["dtype"] != "F32":                      # what a reader converting to float32 will see
            model.load_state_dict({k: round_to_dtype(v, case["dtype"]) for k, v in model.state_dict().items()})
        seqs = make_inputs(case, np.random.RandomState(case["seed"]))
        with torch.no_grad():
            d = model.forward_details(seqs)
        case_dir = os.path.join(out, case["name"])
        export_model(model, case["config"], case_dir, dtype=case["dtype"])
        dump(case_json(case, seqs, d), os.path.join(case_dir, "case.json"))
        self_check(case, case_dir, seqs, d)
        if ints(d["sorted_indices"]) != stable_order(ints(d["lengths"])):
            unstable.append(case["name"])
        print("%-26s %s ok" % (case["name"], case["dtype"]))

    if "tutorial" in names:                            # same weights as export_pytorch.py --demo-tutorial
        from export_pytorch import demo_tutorial_model
        demo, _ = demo_tutorial_model()
        tensors, _ = read_safetensors(os.path.join(out, "tutorial", "model.safetensors"))
        assert all(torch.equal(v, tensors[k]) for k, v in demo.state_dict().items())

    packing = packing_cases()
    dump(packing, os.path.join(out, "packing.json"))
    for pc in packing:
        if pc["sorted_indices"] != stable_order(pc["lengths"]):
            unstable.append("packing.json:" + pc["name"])
    print("packing.json: %d cases" % len(packing))

    with open(os.path.join(out, "GENERATED_BY.txt"), "w", encoding="utf-8") as f:
        f.write("Generated by scripts/make_golden.py\n")
        f.write("command: /usr/bin/python3 scripts/make_golden.py  (from the repository root)\n")
        f.write("date: %s\n" % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"))
        f.write("python: %s\n" % sys.version.split()[0])
        f.write("torch: %s\nnumpy: %s\n" % (torch.__version__, np.__version__))
        f.write("torch threads: 1 (torch.set_num_threads(1)); weights: torch.manual_seed(seed) then default "
                "nn.Module init; inputs: numpy.random.RandomState(seed)\n")
        f.write("seeds:\n")
        for c in CASES:
            f.write("  %-26s seed %-4d dtype %s\n" % (c["name"], c["seed"], c["dtype"]))
        f.write("tie order: pack_padded_sequence(enforce_sorted=False) uses torch.sort(lengths, descending=True), "
                "which is not a stable sort. Observed with this torch: tied rows keep their original order for "
                "batches of <= 16 rows, but not for larger batches. sorted_indices differ from a stable "
                "descending sort in: %s\n" % (", ".join(unstable) or "(none)"))
    print("cases with non-stable sorted_indices:", unstable)


if __name__ == "__main__":
    main()
