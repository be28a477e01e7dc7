"""PyTorch side of scripts/bench: single-thread tokens/s of the same models on the same sequences.

    # write the benchmark models (torch.manual_seed + default PyTorch init, exported with export_pytorch.py):
    /usr/bin/python3 scripts/bench_torch.py --make-models target/bench/models
    # time them on the data EngineBench wrote (DIR/{uniform,lognormal}/{lengths,tokens}.i32):
    /usr/bin/python3 scripts/bench_torch.py --models target/bench/models --data target/bench/data --json OUT

Per batch (the tutorial pipeline, timed end to end): pad_sequence -> embedding -> pack_padded_sequence(
enforce_sorted=False) -> rnn -> h_n -> fc, under torch.no_grad() with torch.set_num_threads(1).
"bucketed": sequences sorted by length, cut into batches of 256; "random": input order cut into batches of 256.
tok/s are tokens / thread CPU seconds (robust to other load); wall-clock figures are in the JSON too.
--max-pass-seconds time-boxes each pass (bucketed batches are visited in a seeded random order, so the batches
scored are a fair sample; the time is scaled up to the whole dataset).
If EngineBench left DATA/DIST/scores_NAME.f32, the largest |seqpack - torch| score difference is reported too.

    # the multi-input model (scripts/bench_peers.py make-multi; inputs from EngineBench multi-data):
    /usr/bin/python3 scripts/bench_torch.py --multi-model target/bench/models/multi \
        --multi-data target/bench/data/multi/uniform --json OUT
times the user's own module (bench_models.TxnScorer, weights read back from the exported safetensors) calling its
forward(event, mcc, country, numeric, profile, lengths) on sorted batches of 256 (pad_sequence per column), and
compares with DATA/scores_multi.f32 (EngineBench multi) when present.
Installs nothing; without torch it prints a skip message and exits 0.
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence

from . import reference as st
from .bench_models import load_multi
from .export import export_model
from .safetensors import read_safetensors

MODELS = {"rnn_tanh": "RNN_TANH", "lstm": "LSTM", "gru": "GRU"}


def make_models(out, vocab, embedding, hidden, seed):
    for i, (name, mode) in enumerate(MODELS.items()):
        torch.manual_seed(seed + i)
        config = st.make_config(mode=mode, hidden_size=hidden, vocab_size=vocab, embedding_dim=embedding)
        export_model(st.SeqpackModel(config).eval(), config, os.path.join(out, name))
        print("bench_torch: model %s (%s %d, vocab %d) -> %s" % (name, mode, hidden, vocab, os.path.join(out, name)),
              file=sys.stderr)


def load_model(model_dir):
    with open(os.path.join(model_dir, "model.json"), encoding="utf-8") as f:
        config = json.load(f)
    model = st.SeqpackModel(config).eval()
    tensors, _ = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    model.load_state_dict(tensors, strict=True)
    return model


def load_data(d):
    lengths = np.fromfile(os.path.join(d, "lengths.i32"), dtype="<i4").astype(np.int64)
    tokens = np.fromfile(os.path.join(d, "tokens.i32"), dtype="<i4").astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    assert offsets[-1] == len(tokens), "lengths and tokens disagree in " + d
    t = torch.from_numpy(tokens)
    seqs = [t[offsets[i]:offsets[i + 1]] for i in range(len(lengths))]
    return lengths, seqs


def score_batch(model, seqs, ids):
    batch = [seqs[i] for i in ids]
    lengths = torch.tensor([len(s) for s in batch], dtype=torch.int64)
    padded = pad_sequence(batch, batch_first=True)
    x = model.embedding(padded)
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    _, hidden = model.rnn(packed)
    h_n = hidden[0] if model.mode == "LSTM" else hidden
    return model.fc(h_n[-1])


def timed_pass(model, seqs, lengths, batches, scores=None, max_seconds=float("inf")):
    """Scores batches until max_seconds of thread CPU time; returns (cpu, wall) seconds scaled to all batches.

    CPU time (time.thread_time) rather than wall time keeps the figures comparable when other processes load the
    machine; torch runs its one compute thread in this thread."""
    c0, w0, done, total = time.thread_time(), time.perf_counter(), 0, int(lengths.sum())
    for ids in batches:
        out = score_batch(model, seqs, ids)
        if scores is not None:
            scores[ids] = out[:, 0].numpy()
        done += int(lengths[ids].sum())
        if time.thread_time() - c0 > max_seconds:
            break
    scale = total / done
    return (time.thread_time() - c0) * scale, (time.perf_counter() - w0) * scale


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--make-models", metavar="DIR", help="write the benchmark models and exit")
    p.add_argument("--vocab", type=int, default=10_000)
    p.add_argument("--embedding", type=int, default=100)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--models", metavar="DIR")
    p.add_argument("--data", metavar="DIR")
    p.add_argument("--names", default="rnn_tanh,lstm,gru")
    p.add_argument("--dists", default="uniform,lognormal")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--runs", type=int, default=3, help="timed passes over the bucketed batches (default 3)")
    p.add_argument("--random-runs", type=int, default=1, help="timed passes over random batches (default 1)")
    p.add_argument("--warmup-seconds", type=float, default=2.0)
    p.add_argument("--max-pass-seconds", type=float, default=float("inf"),
                   help="time-box each pass to this much CPU time (the batches scored are scaled up to all)")
    p.add_argument("--multi-model", metavar="DIR", help="time the multi-input model instead (see above)")
    p.add_argument("--multi-data", metavar="DIR")
    p.add_argument("--json", metavar="OUT")
    args = p.parse_args(argv)

    if args.multi_model:
        return multi(args)

    if args.make_models:
        make_models(args.make_models, args.vocab, args.embedding, args.hidden, args.seed)
        return 0
    if not (args.models and args.data):
        p.error("give --make-models DIR, or --models DIR --data DIR")

    torch.set_num_threads(1)
    results = []
    with torch.no_grad():
        for name in args.names.split(","):
            model = load_model(os.path.join(args.models, name))
            for dist in args.dists.split(","):
                d = os.path.join(args.data, dist)
                lengths, seqs = load_data(d)
                n, total = len(lengths), int(lengths.sum())
                order = np.argsort(-lengths, kind="stable")
                bucketed = [order[i:i + args.batch] for i in range(0, n, args.batch)]
                # batches in a seeded random order, so a time-boxed prefix is a fair sample of batch shapes
                perm = np.random.RandomState(7).permutation(len(bucketed))
                bucketed = [bucketed[i] for i in perm]
                rnd = [np.arange(i, min(n, i + args.batch)) for i in range(0, n, args.batch)]
                scores = np.full(n, np.nan, dtype=np.float32)
                timed_pass(model, seqs, lengths, bucketed, max_seconds=args.warmup_seconds)
                b = [timed_pass(model, seqs, lengths, bucketed, scores, args.max_pass_seconds)
                     for _ in range(max(1, args.runs))]
                r = [timed_pass(model, seqs, lengths, rnd, None, args.max_pass_seconds)
                     for _ in range(max(0, args.random_runs))]
                b_times, r_times = [x[0] for x in b], [x[0] for x in r]
                row = {"model": name, "mode": model.mode, "dist": dist, "sequences": n, "tokens": total,
                       "bucketed_cpu_seconds": b_times, "random_cpu_seconds": r_times,
                       "bucketed_wall_seconds": [x[1] for x in b], "random_wall_seconds": [x[1] for x in r],
                       "bucketed_wall_tok_per_s_best": total / min(x[1] for x in b),
                       "bucketed_tok_per_s_best": total / min(b_times),
                       "bucketed_tok_per_s_median": total / statistics.median(b_times),
                       "random_tok_per_s_best": total / min(r_times) if r_times else None}
                java_scores = os.path.join(d, "scores_%s.f32" % name)
                if os.path.exists(java_scores):
                    js = np.fromfile(java_scores, dtype="<f4")
                    done = ~np.isnan(scores) & ~np.isnan(js) if len(js) == n else None
                    if len(js) == n and done.any():
                        row["max_abs_diff_vs_seqpack"] = float(np.max(np.abs(js[done] - scores[done])))
                        row["compared_sequences"] = int(done.sum())
                results.append(row)
                print("torch  %-9s %-9s bucketed %9.0f tok/s (best; median %9.0f)  random %s tok/s  max|diff| %s"
                      % (name, dist, row["bucketed_tok_per_s_best"], row["bucketed_tok_per_s_median"],
                         "%.0f" % row["random_tok_per_s_best"] if r_times else "-",
                         "%.2e" % row["max_abs_diff_vs_seqpack"] if "max_abs_diff_vs_seqpack" in row else "-"),
                      file=sys.stderr)
    blas = [x.split("=", 1)[1] for x in torch.__config__.show().replace(",", " ").split() if x.startswith("BLAS_INFO=")]
    doc = {"torch": torch.__version__, "blas": blas[0] if blas else "?",
           "blas_loaded": loaded_blas() + openblas_core(), "config": torch_config(),
           "threads": torch.get_num_threads(),
           "batch": args.batch, "timing": "thread CPU time", "results": results}
    text = json.dumps(doc, indent=2)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        print(text)
    return 0


def multi(args):
    """The multi-input model through its own forward, one thread, sorted batches (see the module docstring)."""
    torch.set_num_threads(1)
    model = load_multi(args.multi_model)
    d = args.multi_data
    lengths = np.fromfile(os.path.join(d, "lengths.i32"), dtype="<i4").astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    n, total = len(lengths), int(lengths.sum())

    def steps(name, dtype, width=None):
        a = torch.from_numpy(np.fromfile(os.path.join(d, name), dtype=dtype).astype(
            np.int64 if dtype == "<i4" else np.float32))
        if width:
            a = a.view(-1, width)
        return [a[offsets[i]:offsets[i + 1]] for i in range(n)]

    event, mcc, country = steps("event.i32", "<i4"), steps("mcc.i32", "<i4"), steps("country.i32", "<i4")
    numeric = steps("numeric.f32", "<f4", 4)
    profile = torch.from_numpy(np.fromfile(os.path.join(d, "profile.f32"), dtype="<f4")).view(n, -1)
    order = np.argsort(-lengths, kind="stable")
    batches = [order[i:i + args.batch] for i in range(0, n, args.batch)]
    perm = np.random.RandomState(7).permutation(len(batches))
    batches = [batches[i] for i in perm]
    scores = np.full(n, np.nan, dtype=np.float32)

    def run_pass(max_seconds):
        c0, w0, done = time.thread_time(), time.perf_counter(), 0
        for ids in batches:
            cols = [pad_sequence([c[i] for i in ids], batch_first=True) for c in (event, mcc, country, numeric)]
            out = model(*cols, profile[torch.from_numpy(ids)], torch.from_numpy(lengths[ids]))
            scores[ids] = out.numpy()
            done += int(lengths[ids].sum())
            if time.thread_time() - c0 > max_seconds:
                break
        return (time.thread_time() - c0) * total / done, (time.perf_counter() - w0) * total / done

    with torch.no_grad():
        run_pass(args.warmup_seconds)
        b = [run_pass(args.max_pass_seconds) for _ in range(max(1, args.runs))]
    cpu = [x[0] for x in b]
    row = {"model": "multi", "sequences": n, "steps": total, "cpu_seconds": cpu, "wall_seconds": [x[1] for x in b],
           "tok_per_s_best": total / min(cpu), "tok_per_s_median": total / statistics.median(cpu)}
    js_path = os.path.join(d, "scores_multi.f32")
    if os.path.exists(js_path):
        js = np.fromfile(js_path, dtype="<f4")
        done = ~np.isnan(scores) & ~np.isnan(js) if len(js) == n else None
        if len(js) == n and done.any():
            row["max_abs_diff_vs_seqpack"] = float(np.max(np.abs(js[done] - scores[done])))
            row["compared_sequences"] = int(done.sum())
    print("torch  multi-input %9.0f tok/s (best; median %9.0f)  max|diff| %s" % (
        row["tok_per_s_best"], row["tok_per_s_median"],
        "%.2e" % row["max_abs_diff_vs_seqpack"] if "max_abs_diff_vs_seqpack" in row else "-"), file=sys.stderr)
    doc = {"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": args.batch,
           "timing": "thread CPU time", "result": row}
    text = json.dumps(doc, indent=2)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        print(text)
    return 0


def torch_config():
    """The essentials of torch.__config__.show() and parallel_info(): BLAS, MKL, oneDNN, OpenMP, CPU capability."""
    show, par = torch.__config__.show(), torch.__config__.parallel_info()
    out = []
    for key in ("BLAS_INFO", "LAPACK_INFO"):
        out += [x.rstrip(",") for x in show.split() if x.startswith(key + "=")]
    for line in show.splitlines():
        line = line.strip(" -")
        if line.startswith(("Intel(R) MKL-DNN", "oneDNN", "Intel(R) oneAPI", "Intel(R) Math Kernel", "OpenMP",
                            "CPU capability usage")):
            out.append(line.replace("(Git Hash N/A)", "").replace("(a.k.a. OpenMP 4.5)", "").strip())
    if "MKL not found" in par:
        out.append("no MKL")
    return ", ".join(out)


def loaded_blas():
    """The BLAS library this process actually mapped: Debian's torch calls libblas.so.3, which the alternatives
    system points at the reference BLAS or, once libopenblas0-pthread is installed, at OpenBLAS."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            paths = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
    except OSError:
        return "?"
    real = sorted({os.path.realpath(p) for p in paths})
    return ", ".join(os.path.basename(p) for p in real) or "?"


def openblas_core():
    """' core Haswell' when the mapped BLAS is OpenBLAS: openblas_get_corename() of the loaded library."""
    import ctypes
    try:
        get = ctypes.CDLL(None).openblas_get_corename
    except (OSError, AttributeError):
        return ""
    get.restype = ctypes.c_char_p
    return " core " + get().decode()


if __name__ == "__main__":
    sys.exit(main())
