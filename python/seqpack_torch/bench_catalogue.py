"""The catalogue row of scripts/bench (issue 21): a GRU4Rec-shaped next-item model scoring a whole item catalogue
through a tied head and keeping the top k, on PyTorch, seqpack and the peers, from the same weights and sessions.

    # the model (exported with export_module, verified against its forward), the peers' files and the check set:
    /usr/bin/python3 scripts/bench_catalogue.py make --out target/bench/catalogue --data target/bench/catalogue/data
    # PyTorch's side: torch.topk(h @ E.T, k) per batch, one thread
    /usr/bin/python3 scripts/bench_catalogue.py run --dir target/bench/catalogue --data target/bench/catalogue/data \
        --json OUT

The model (GRU4Rec as RecBole writes it): item Embedding(items, 128, padding_idx=0) -> GRU(128, 128, bias=False)
-> the last valid state h -> logits h · Eᵀ over every item with the same table -> torch.topk(logits, k).
`make-model` writes only OUT/model (scripts/memcheck --catalogue's 1,000,000 items). `make` writes DIR/model (seqpack: the tied head, activation none, so its top-k scores are torch.topk's values),
DIR/peers/model.pt (TorchScript of TopKScorer, for DJL) and DIR/peers/model.onnx (opset 14: the GRU op with
sequence_lens, MatMul, TopK), and the check set: the first --check rows of DATA (EngineBench's session data),
their top k ids under the rule every side must follow (score descending, a tie to the lower index: a stable sort
of the whole row, which is also checked against torch.topk's own ids) as check_ids.i32 [rows, k], and the top
k + 1 scores as check_scores.f32 [rows, k + 1] (the (k+1)-th shows a tie at the boundary).
`run` times PyTorch's pipeline per batch: pad_sequence -> embedding -> pack_padded_sequence -> GRU -> h_n[-1] @ E.T
-> torch.topk, rows sorted by length in batches of 256 visited in a seeded random order (as PeerBench does), rows
per thread CPU second, best and median of --runs passes.
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence

from .bench_torch import load_data, loaded_blas, openblas_core, torch_config
from .export import export_module
from .safetensors import read_safetensors

SPEC = {"inputs": [{"name": "items", "kind": "tokens", "embedding": "item_emb"}],
        "rnn": "gru",
        "heads": [{"name": "next_item", "tied_to": "item_emb", "activation": "none"}]}


class GRU4Rec(nn.Module):
    """Session recommendation as GRU4Rec: the catalogue's logits h · Eᵀ with the input's own item table."""

    def __init__(self, n_items, hidden):
        super().__init__()
        self.item_emb = nn.Embedding(n_items, hidden, padding_idx=0)
        self.gru = nn.GRU(hidden, hidden, batch_first=True, bias=False)

    def forward(self, items, lengths):
        x = self.item_emb(items)
        # the zero initial state from the input's batch size: left implicit, torch 1.13's ONNX export bakes the
        # example's batch size into the graph
        h0 = torch.zeros(1, items.size(0), self.gru.hidden_size, dtype=x.dtype)
        _, h_n = self.gru(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False), h0)
        return h_n[-1] @ self.item_emb.weight.t()


class TopKScorer(nn.Module):
    """What a nightly job computes: torch.topk(h @ E.T, k); returns (scores, ids), [B, k] each."""

    def __init__(self, model, k: int):
        super().__init__()
        self.model = model
        self.k = k

    def forward(self, items: torch.Tensor, lengths: torch.Tensor):
        return torch.topk(self.model(items, lengths), self.k)


def load_model(dir_, items, hidden):
    model = GRU4Rec(items, hidden).eval()
    tensors, _ = read_safetensors(os.path.join(dir_, "model", "model.safetensors"))
    # the file holds the table once (the tied head reads the input's table)
    model.load_state_dict(tensors, strict=True)
    return model


def sorted_batches(lengths, n, batch):
    """The first n rows sorted by length, longest first (stable), in batches: PeerBench.batches."""
    order = np.argsort(-lengths[:n], kind="stable")
    return [order[i:i + batch] for i in range(0, n, batch)]


def top_under_rule(logits, k):
    """The top k ids of each row, score descending, a tie to the lower index (a stable sort of the whole row)."""
    return np.argsort(-logits, axis=1, kind="stable")[:, :k]


def make_model(args):
    """OUT/model: the seqpack model of a seeded GRU4Rec, exported and verified against its forward."""
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    model = GRU4Rec(args.items, args.hidden).eval()
    export_module(model, SPEC, os.path.join(args.out, "model"), log=lambda m: print("bench_catalogue: " + m,
                                                                                       file=sys.stderr))
    return 0


def make(args):
    make_model(args)
    model = load_model(args.out, args.items, args.hidden)  # what every side reads: the file's weights
    scorer = TopKScorer(model, args.k).eval()
    peers = os.path.join(args.out, "peers")
    os.makedirs(peers, exist_ok=True)
    lengths, seqs = load_data(args.data)
    n = min(args.check, len(lengths))
    ids = np.zeros((n, args.k), dtype=np.int32)
    scores = np.zeros((n, args.k + 1), dtype=np.float32)
    ties = 0
    with torch.no_grad():
        for rows in sorted_batches(lengths, n, args.batch):
            items = pad_sequence([seqs[i] for i in rows], batch_first=True)
            logits = model(items, torch.from_numpy(lengths[rows]))
            values, top = torch.topk(logits, args.k + 1)
            rule = top_under_rule(logits.numpy(), args.k)
            ties += int((rule != top[:, :args.k].numpy()).any(axis=1).sum())
            ids[rows], scores[rows] = rule, values.numpy()
        ex_items = pad_sequence([seqs[i] for i in range(5)], batch_first=True)
        ex_lengths = torch.from_numpy(lengths[:5].copy())
        script = torch.jit.script(scorer)
        diff = int((script(ex_items, ex_lengths)[1] != scorer(ex_items, ex_lengths)[1]).sum())
        if diff:
            raise SystemExit("bench_catalogue: the TorchScript module's top ids differ from the eager module's")
        script.save(os.path.join(peers, "model.pt"))
        torch.onnx.export(scorer, (ex_items, ex_lengths), os.path.join(peers, "model.onnx"), opset_version=14,
                          input_names=["tokens", "lengths"], output_names=["top_scores", "top_ids"],
                          dynamic_axes={"tokens": {0: "batch", 1: "steps"}, "lengths": {0: "batch"},
                                        "top_scores": {0: "batch"}, "top_ids": {0: "batch"}})
    ids.astype("<i4").tofile(os.path.join(args.out, "check_ids.i32"))
    scores.astype("<f4").tofile(os.path.join(args.out, "check_scores.f32"))
    with open(os.path.join(args.out, "CATALOGUE"), "w", encoding="utf-8") as f:
        json.dump({"items": args.items, "hidden": args.hidden, "k": args.k, "check_rows": n,
                   "torch_topk_rows_off_rule": ties, "torch": torch.__version__}, f)
        f.write("\n")
    print("bench_catalogue: GRU4Rec %d items, hidden %d -> %s; top-%d check set of %d rows (torch.topk's ids off the "
          "lower-index rule in %d rows)" % (args.items, args.hidden, args.out, args.k, n, ties), file=sys.stderr)
    return 0


def timed_pass(scorer, seqs, lengths, batches, max_seconds):
    """(thread CPU s, wall s) of scoring the batches, stopping after max_seconds of CPU, scaled to all rows."""
    c0, w0, done = time.thread_time(), time.perf_counter(), 0
    for rows in batches:
        items = pad_sequence([seqs[i] for i in rows], batch_first=True)
        scorer(items, torch.from_numpy(lengths[rows]))
        done += len(rows)
        if time.thread_time() - c0 > max_seconds:
            break
    scale = len(lengths) / done
    return (time.thread_time() - c0) * scale, (time.perf_counter() - w0) * scale


def run(args):
    with open(os.path.join(args.dir, "CATALOGUE"), encoding="utf-8") as f:
        meta = json.load(f)
    torch.set_num_threads(1)
    scorer = TopKScorer(load_model(args.dir, meta["items"], meta["hidden"]), meta["k"]).eval()
    lengths, seqs = load_data(args.data)
    batches = sorted_batches(lengths, len(lengths), args.batch)
    perm = np.random.RandomState(7).permutation(len(batches))  # a time-boxed prefix is a fair sample
    batches = [batches[i] for i in perm]
    with torch.no_grad():
        timed_pass(scorer, seqs, lengths, batches, args.warmup_seconds)
        passes = [timed_pass(scorer, seqs, lengths, batches, args.max_pass_seconds) for _ in range(max(1, args.runs))]
    cpu = [p[0] for p in passes]
    rows = len(lengths)
    doc = {"lib": "torch", "torch": torch.__version__, "blas_loaded": loaded_blas() + openblas_core(),
           "config": torch_config(), "threads": torch.get_num_threads(), "items": meta["items"],
           "hidden": meta["hidden"], "k": meta["k"], "rows": rows, "tokens": int(lengths.sum()), "runs": len(cpu),
           "cpu_seconds": cpu, "wall_seconds": [p[1] for p in passes], "rows_per_s_best": rows / min(cpu),
           "rows_per_s_median": rows / statistics.median(cpu), "check_rows": meta["check_rows"],
           "torch_topk_rows_off_rule": meta["torch_topk_rows_off_rule"]}
    print("torch  catalogue %d items top-%d: %7.0f rows/s (best; median %7.0f)"
          % (meta["items"], meta["k"], doc["rows_per_s_best"], doc["rows_per_s_median"]), file=sys.stderr)
    text = json.dumps(doc, indent=2)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        print(text)
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("--data", required=True, help="EngineBench session data: lengths.i32, tokens.i32 (ids < items)")
    m.add_argument("--k", type=int, default=20)
    m.add_argument("--check", type=int, default=512, help="rows in the check set")
    m.add_argument("--batch", type=int, default=256)
    mm = sub.add_parser("make-model", help="only OUT/model (e.g. a 1,000,000-item catalogue for scripts/memcheck)")
    for parser in (m, mm):
        parser.add_argument("--out", required=True)
        parser.add_argument("--items", type=int, default=100_000)
        parser.add_argument("--hidden", type=int, default=128)
        parser.add_argument("--seed", type=int, default=21)
    r = sub.add_parser("run")
    r.add_argument("--dir", required=True)
    r.add_argument("--data", required=True)
    r.add_argument("--batch", type=int, default=256)
    r.add_argument("--runs", type=int, default=3)
    r.add_argument("--warmup-seconds", type=float, default=2.0)
    r.add_argument("--max-pass-seconds", type=float, default=float("inf"))
    r.add_argument("--json")
    args = p.parse_args(argv)
    return {"make": make, "make-model": make_model, "run": run}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
