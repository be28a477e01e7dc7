"""seqpack's Python side: export PyTorch models to seqpack model directories and the PyTorch reference of what
seqpack computes.

- ``export``: ``export_module(module, spec, out_dir)`` (format 2, checked against the module's own forward),
  ``export_model(model, config, out_dir)`` (format 1), the ``scripts/export_pytorch.py`` command line;
- ``forward_check``: the comparison of an export with the module's own ``forward``;
- ``reference``: ``SeqpackModel`` (format 1) and ``GraphReference`` (format 2), plain PyTorch;
- ``safetensors``: the safetensors writer and strict reader;
- ``golden``, ``golden_graph``, ``golden_models``, ``golden_io``: the golden fixtures of the Java tests;
- ``bench_torch``, ``bench_peers``, ``bench_models``: PyTorch and the peers in ``scripts/bench``.
"""

from .export import ExportError, export_model, export_module  # noqa: F401
from .reference import GraphReference, SeqpackModel, reference_forward  # noqa: F401
