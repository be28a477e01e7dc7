"""safetensors I/O for seqpack model directories (no `safetensors` package needed).

Format: an 8-byte little-endian u64 header length N, a UTF-8 JSON header
{"__metadata__": {"format": "pt"}, "<name>": {"dtype", "shape", "data_offsets": [begin, end]}, ...}
padded with spaces so 8+N is a multiple of 8, then the little-endian row-major tensor bytes, contiguous,
offsets relative to the start of the data area and covering it exactly. Tensors are laid out sorted by name.
"""

import json
import os
import struct

import numpy as np
import torch

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


def read_safetensors(path):
    """Validating safetensors reader -> ({name: float32 tensor}, {name: dtype}). Strict: the header is 8-byte
    aligned, __metadata__ is {"format": "pt"}, every entry has exactly dtype/shape/data_offsets, and the tensors
    cover the data area exactly, contiguously; anything else raises ValueError naming the file."""
    with open(path, "rb") as f:
        buf = f.read()

    def need(cond, what):
        if not cond:
            raise ValueError("%s: %s" % (path, what))

    need(len(buf) >= 8, "too small for a safetensors file")
    (n,) = struct.unpack("<Q", buf[:8])
    need(n <= 100_000_000 and 8 + n <= len(buf), "bad header length %d" % n)
    need((8 + n) % 8 == 0, "data area not 8-byte aligned")
    need(buf[8:9] == b"{", "header is not a JSON object")
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    need(header.pop("__metadata__", None) == {"format": "pt"}, "__metadata__ is not {\"format\": \"pt\"}")
    data = buf[8 + n:]
    sizes = {"F32": (4, "<f4"), "F64": (8, "<f8"), "F16": (2, "<f2"), "BF16": (2, "<u2")}
    tensors, dtypes, spans = {}, {}, []
    for name, info in header.items():
        need(isinstance(info, dict) and set(info) == {"dtype", "shape", "data_offsets"}, "bad entry %s" % name)
        need(info["dtype"] in sizes, "%s: unsupported dtype %s" % (name, info["dtype"]))
        size, np_dt = sizes[info["dtype"]]
        b, e = info["data_offsets"]
        count = int(np.prod(info["shape"], dtype=np.int64))
        need(0 <= b <= e <= len(data) and e - b == count * size, "bad data_offsets for %s" % name)
        spans.append((b, e))
        a = np.frombuffer(data[b:e], dtype=np_dt)
        if info["dtype"] == "BF16":
            a = (a.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = torch.from_numpy(a.astype(np.float32).reshape(info["shape"]))
        dtypes[name] = info["dtype"]
    pos = 0
    for b, e in sorted(spans):                       # contiguous and covering the data area exactly
        need(b == pos, "gap or overlap at byte %d of the data area" % b)
        pos = e
    need(pos == len(data), "data area not covered exactly")
    return tensors, dtypes


def read_model_dir(model_dir):
    """(model.json dict, {name: float32 tensor}) of a model directory written by export_module."""
    with open(os.path.join(model_dir, "model.json"), encoding="utf-8") as f:
        mj = json.load(f)
    tensors, _ = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    return mj, tensors
