"""Writing golden fixtures: exact float32 values as JSON, one line per file."""

import json

import numpy as np
import torch


def f32(t):
    """Nested lists of Python floats holding exact float32 values."""
    return t.detach().to(torch.float32).numpy().astype(np.float32).tolist()


def ints(t):
    return [int(v) for v in t.tolist()]


def dump(obj, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
