#!/usr/bin/env python3
"""Regenerate the PyTorch golden fixtures under src/test/resources/golden/ (Debian's python3-torch).

The code lives in the package python/seqpack_torch/ (seqpack_torch/golden.py); this is its command-line entry point.
`--graph` writes only the seqpack-model/2 fixtures (golden/graph/).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python"))
from seqpack_torch.golden import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
