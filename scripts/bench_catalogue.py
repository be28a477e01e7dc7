#!/usr/bin/env python3
"""The catalogue row of scripts/bench (GRU4Rec, top-k over a tied head).

The code lives in the package python/seqpack_torch/ (seqpack_torch/bench_catalogue.py); this is its command-line entry point.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python"))
try:
    import torch  # noqa: F401
except ImportError as e:  # the bench runs without PyTorch: its side is skipped
    print("bench_catalogue: skipped (PyTorch not importable: %s)" % e)
    sys.exit(0)
from seqpack_torch.bench_catalogue import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
