"""Export a PyTorch seqpack model to a seqpack model directory: model.json + model.safetensors.

Usage (run from the repository root with Debian's python3-torch):

    # a state_dict saved with torch.save(model.state_dict(), "FILE.pt") from a SeqpackModel-shaped module
    # (keys embedding.weight, rnn.weight_ih_l0, ..., fc.weight, fc.bias) plus its model.json:
    /usr/bin/python3 scripts/export_pytorch.py --state-dict FILE.pt --config model.json --out DIR [--dtype F32]

    # the tutorial-shaped model (tokens vocab 11 / embedding 100 / RNN tanh 256 / fc 256->1), torch.manual_seed(0):
    /usr/bin/python3 scripts/export_pytorch.py --demo-tutorial --out DIR

As a library:

    from export_pytorch import export_model
    export_model(model_or_state_dict, config, "out_dir", dtype="F32")   # dtype: F32, F64, F16, BF16

The safetensors file is written by a small writer in this file (no `safetensors` package needed):
8-byte little-endian u64 header length N, a UTF-8 JSON header
{"__metadata__": {"format": "pt"}, "<name>": {"dtype", "shape", "data_offsets": [begin, end]}, ...}
padded with spaces so 8+N is a multiple of 8, then the little-endian row-major tensor bytes, contiguous,
offsets relative to the start of the data area and covering it exactly. Tensors are laid out sorted by name.
"""

import argparse
import inspect
import json
import os
import struct
import sys
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seqpack_torch  # noqa: E402

DTYPES = ("F32", "F64", "F16", "BF16")


def float32_to_bf16_bits(a):
    """uint16 bfloat16 bit patterns for a float32 array: top 16 bits, round-to-nearest-even (NaN stays NaN)."""
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) & 0xFFFF
    nan = np.isnan(np.asarray(a, dtype=np.float32))
    rounded = np.where(nan, (bits >> 16) | 0x0040, rounded)   # keep NaNs quiet NaNs, never round to Inf
    return rounded.astype(np.uint16)


def bf16_bits_to_float32(bits):
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def round_to_dtype(t, dtype):
    """float32 tensor -> the float32 values a reader sees after storing as `dtype` and converting back."""
    a = t.detach().cpu().to(torch.float32).numpy()
    if dtype == "F32" or dtype == "F64":
        r = a.copy()
    elif dtype == "F16":
        r = a.astype(np.float16).astype(np.float32)
    elif dtype == "BF16":
        r = bf16_bits_to_float32(float32_to_bf16_bits(a))
    else:
        raise ValueError("unsupported dtype %r (use one of %s)" % (dtype, DTYPES))
    return torch.from_numpy(np.ascontiguousarray(r).reshape(a.shape))


def tensor_bytes(t, dtype):
    """Little-endian row-major bytes of tensor t stored as dtype."""
    a = t.detach().cpu().to(torch.float32).contiguous().numpy()
    if dtype == "F32":
        out = a.astype("<f4")
    elif dtype == "F64":
        out = a.astype("<f8")
    elif dtype == "F16":
        out = a.astype("<f2")
    elif dtype == "BF16":
        out = float32_to_bf16_bits(a).astype("<u2")
    else:
        raise ValueError("unsupported dtype %r (use one of %s)" % (dtype, DTYPES))
    return np.ascontiguousarray(out).tobytes(order="C")


def write_safetensors(tensors, path, dtype="F32", metadata=None):
    """Write {name: tensor} to `path` in safetensors format, every tensor stored as `dtype`."""
    if dtype not in DTYPES:
        raise ValueError("unsupported dtype %r (use one of %s)" % (dtype, DTYPES))
    header = {"__metadata__": dict(metadata if metadata is not None else {"format": "pt"})}
    chunks, offset = [], 0
    for name in sorted(tensors):
        data = tensor_bytes(tensors[name], dtype)
        header[name] = {"dtype": dtype, "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((-(8 + len(hjson))) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)


def export_model(model_or_state_dict, config, out_dir, dtype="F32"):
    """Write out_dir/model.json (config, pretty JSON) and out_dir/model.safetensors (the state_dict as dtype).

    The state_dict is checked against the config (it must load strictly into SeqpackModel(config))."""
    seqpack_torch.validate_config(config)
    state = model_or_state_dict.state_dict() if hasattr(model_or_state_dict, "state_dict") else model_or_state_dict
    state = {k: v.detach().cpu() for k, v in state.items()}
    seqpack_torch.SeqpackModel(config).load_state_dict(state, strict=True)   # raises on missing/extra/misshapen keys
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "model.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    write_safetensors(state, os.path.join(out_dir, "model.safetensors"), dtype=dtype)
    return out_dir


def demo_tutorial_model():
    """The tutorial model with torch.manual_seed(0) default init (same weights as golden/tutorial)."""
    torch.manual_seed(0)
    config = seqpack_torch.tutorial_config()
    return seqpack_torch.SeqpackModel(config).eval(), config


def load_state_dict_file(path):
    if "weights_only" in inspect.signature(torch.load).parameters:
        return torch.load(path, map_location="cpu", weights_only=True)
    warnings.warn("this torch.load has no weights_only: %s is unpickled, which can run arbitrary code; "
                  "only export files you trust" % path)
    return torch.load(path, map_location="cpu")


def main(argv=None):
    p = argparse.ArgumentParser(description="Export a PyTorch seqpack model to model.json + model.safetensors.",
                                epilog="See the module docstring for the model.json format.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--state-dict", metavar="FILE.pt", help="torch.save()d state_dict of a SeqpackModel-shaped module")
    src.add_argument("--demo-tutorial", action="store_true", help="export the tutorial model (seed 0)")
    p.add_argument("--config", metavar="model.json", help="model config (required with --state-dict)")
    p.add_argument("--out", required=True, metavar="DIR", help="output model directory")
    p.add_argument("--dtype", default="F32", choices=DTYPES, help="safetensors dtype (default F32)")
    args = p.parse_args(argv)
    if args.demo_tutorial:
        model, config = demo_tutorial_model()
        export_model(model, config, args.out, args.dtype)
    else:
        if not args.config:
            p.error("--config is required with --state-dict")
        with open(args.config, encoding="utf-8") as f:
            config = json.load(f)
        export_model(load_state_dict_file(args.state_dict), config, args.out, args.dtype)
    print("wrote %s/model.json and %s/model.safetensors (%s)" % (args.out, args.out, args.dtype))


if __name__ == "__main__":
    main()
