"""Peer models for scripts/bench: the bench's own models re-exported for DJL (libtorch) and ONNX Runtime, and the
multi-input ("composable") model of the bench.

    # TorchScript + ONNX from the SAME safetensors the engine reads, and PyTorch's scores of a check set:
    /usr/bin/python3 scripts/bench_peers.py export --models target/bench/models --data target/bench/data \
        --out target/bench/peers
    # the multi-input model (3 token inputs + 4 numeric per-step features + a static vector, LSTM 256, MLP head,
    # sigmoid), a user-style nn.Module exported with export_pytorch.export_module (seqpack-model/2):
    /usr/bin/python3 scripts/bench_peers.py make-multi --out target/bench/models/multi

`export` writes, per model NAME (rnn_tanh, lstm, gru):
  OUT/NAME/model.pt    torch.jit.script of PackedScorer: embedding -> pack_padded_sequence(enforce_sorted=False)
                       -> rnn -> h_n[-1] -> fc; inputs tokens [B, T] int64 (padded), lengths [B] int64; out [B, 1]
  OUT/NAME/model.onnx  torch.onnx.export of the same module (opset 14): the packing becomes the RNN op's
                       sequence_lens, so ORT scores padded batches and the op's Y_h is the last valid step of each
                       row (no gather needed); the zero initial state is built from the input's batch size, else
                       torch 1.13 bakes the example batch size into the graph
  OUT/NAME/check_DIST.f32  PyTorch's scores (scripts/bench_torch.py's pipeline) of the first --check rows of
                       DATA/DIST, sorted by length and cut into batches of 256: what PeerBench compares each peer to
Both files are re-read here (torch.jit.load / the ONNX file's size) and the TorchScript module is checked against the
eager model on a ragged batch before anything is written as done. Weights come from NAME/model.safetensors
(load_state_dict(strict=True)), so every side of the bench scores byte-identical float32 weights.
"""

import argparse
import json
import os
import sys
import warnings

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from .bench_models import MULTI_INIT, MULTI_SPEC, TxnScorer, load_multi  # noqa: F401
from .bench_torch import score_batch
from .export import export_module
from .safetensors import read_safetensors

MODELS = ("rnn_tanh", "lstm", "gru")


class PackedScorer(nn.Module):
    """The tutorial pipeline of a bench model (RNN / GRU), as one scriptable module."""

    def __init__(self, model):
        super().__init__()
        self.embedding, self.rnn, self.fc = model.embedding, model.rnn, model.fc
        self.hidden = model.rnn.hidden_size

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = self.embedding(tokens)
        h0 = torch.zeros(1, tokens.size(0), self.hidden, dtype=x.dtype)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, h_n = self.rnn(packed, h0)
        return self.fc(h_n[-1])


class PackedLstmScorer(PackedScorer):
    """The same for an LSTM (its state is a pair)."""

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = self.embedding(tokens)
        h0 = torch.zeros(1, tokens.size(0), self.hidden, dtype=x.dtype)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.rnn(packed, (h0, h0))
        return self.fc(h_n[-1])


def load_bench_model(model_dir):
    """The bench model (scripts/seqpack_torch.SeqpackModel) with the directory's safetensors, strictly."""
    from . import reference as st
    with open(os.path.join(model_dir, "model.json"), encoding="utf-8") as f:
        config = json.load(f)
    model = st.SeqpackModel(config).eval()
    tensors, _ = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    model.load_state_dict(tensors, strict=True)
    return model


def padded(seqs):
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.int64)
    tokens = torch.zeros(len(seqs), int(lengths.max()), dtype=torch.int64)
    for i, s in enumerate(seqs):
        tokens[i, :len(s)] = s
    return tokens, lengths


def read_data(d):
    lengths = np.fromfile(os.path.join(d, "lengths.i32"), dtype="<i4").astype(np.int64)
    tokens = torch.from_numpy(np.fromfile(os.path.join(d, "tokens.i32"), dtype="<i4").astype(np.int64))
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return lengths, [tokens[offsets[i]:offsets[i + 1]] for i in range(len(lengths))]


def check_batches(lengths, n, batch):
    """The first n rows, sorted by length (descending, stable) and cut into batches: bench_torch's bucketing."""
    order = np.argsort(-lengths[:n], kind="stable")
    return [order[i:i + batch] for i in range(0, n, batch)]


def export(args):
    torch.set_num_threads(1)
    for name in args.names.split(","):
        model = load_bench_model(os.path.join(args.models, name))
        scorer = (PackedLstmScorer if model.mode == "LSTM" else PackedScorer)(model).eval()
        out = os.path.join(args.out, name)
        os.makedirs(out, exist_ok=True)
        # a ragged example batch (unsorted lengths, so the exported sort / unsort is exercised)
        gen = torch.Generator().manual_seed(1)
        ex_len = torch.tensor([5, 9, 1, 7, 3], dtype=torch.int64)
        ex_seqs = [torch.randint(0, model.embedding.num_embeddings, (int(n),), generator=gen) for n in ex_len]
        ex_tokens, _ = padded(ex_seqs)
        with torch.no_grad():
            eager = score_batch(model, ex_seqs, list(range(len(ex_seqs))))
            script = torch.jit.script(scorer)
            diff = float((script(ex_tokens, ex_len) - eager).abs().max())
            if diff > 1e-5:
                raise SystemExit("bench_peers: %s: TorchScript module differs from the eager model by %.2e" % (name, diff))
            script.save(os.path.join(out, "model.pt"))
            torch.jit.load(os.path.join(out, "model.pt"))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tracer warnings about pack_padded_sequence's lengths
                torch.onnx.export(scorer, (ex_tokens, ex_len), os.path.join(out, "model.onnx"), opset_version=14,
                                  input_names=["tokens", "lengths"], output_names=["scores"],
                                  dynamic_axes={"tokens": {0: "batch", 1: "steps"}, "lengths": {0: "batch"},
                                                "scores": {0: "batch"}})
            for dist in args.dists.split(","):
                lengths, seqs = read_data(os.path.join(args.data, dist))
                n = min(args.check, len(lengths))
                scores = np.full(n, np.nan, dtype=np.float32)
                for ids in check_batches(lengths, n, args.batch):
                    scores[ids] = score_batch(model, seqs, ids)[:, 0].numpy()
                scores.astype("<f4").tofile(os.path.join(out, "check_%s.f32" % dist))
        print("bench_peers: %s -> %s/{model.pt, model.onnx} (TorchScript vs eager %.1e), check sets of %d rows"
              % (name, out, diff, n), file=sys.stderr)
    with open(os.path.join(args.out, "EXPORTED"), "w", encoding="utf-8") as f:
        f.write("torch %s\n" % torch.__version__)
    return 0


# ------------------------------------------------------------------------------------------------ multi-input

def make_multi(args):
    torch.manual_seed(args.seed)
    model = TxnScorer(**MULTI_INIT).eval()
    export_module(model, MULTI_SPEC, args.out)
    print("bench_peers: multi-input model (3 token inputs + 4 numeric + static 8, LSTM 256, MLP head) -> %s"
          % args.out, file=sys.stderr)
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export")
    e.add_argument("--models", required=True)
    e.add_argument("--data", required=True)
    e.add_argument("--out", required=True)
    e.add_argument("--names", default=",".join(MODELS))
    e.add_argument("--dists", default="uniform,lognormal")
    e.add_argument("--check", type=int, default=2048, help="rows of each distribution in the check set")
    e.add_argument("--batch", type=int, default=256)
    m = sub.add_parser("make-multi")
    m.add_argument("--out", required=True)
    m.add_argument("--seed", type=int, default=3)
    args = p.parse_args(argv)
    return export(args) if args.cmd == "export" else make_multi(args)


if __name__ == "__main__":
    sys.exit(main())
