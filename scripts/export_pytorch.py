#!/usr/bin/env python3
"""Export a PyTorch model to a seqpack model directory: model.json + model.safetensors.

The code lives in the package python/seqpack_torch/ (seqpack_torch/export.py); this is its command-line entry point.
Run `/usr/bin/python3 scripts/export_pytorch.py --help`; the formats and the check against the module's own
forward are described in python/seqpack_torch/export.py and the README.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python"))
from seqpack_torch.export import main  # noqa: E402
from seqpack_torch.export import *  # noqa: E402,F401,F403  (`from export_pytorch import export_module` keeps working)

if __name__ == "__main__":
    sys.exit(main())
