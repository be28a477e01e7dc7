"""A test case with a scratch folder and a check that a refused export writes nothing."""

import os
import tempfile
import unittest

import torch

from seqpack_torch import export as ep


class ExportCase(unittest.TestCase):
    def setUp(self):
        torch.set_num_threads(1)
        self.tmp = tempfile.TemporaryDirectory()
        self.out = os.path.join(self.tmp.name, "model")

    def tearDown(self):
        self.tmp.cleanup()

    def refused(self, module, spec=None, **kw):
        """The ExportError message of exporting module with spec (None: read from forward); nothing written."""
        with self.assertRaises(ep.ExportError) as ctx:
            ep.export_module(module, spec, self.out, **kw)
        self.assertFalse(os.path.exists(self.out), "a refused export wrote %s" % self.out)
        return str(ctx.exception)
