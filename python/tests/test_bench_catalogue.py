"""scripts/bench --catalogue's Python side on a tiny catalogue: the check set is torch.topk of the exported model's
logits row by row, and the PyTorch timing pass scores every row (no timing is asserted)."""

import contextlib
import io
import json
import os
import tempfile
import unittest

import numpy as np
import torch

from seqpack_torch import bench_catalogue


class BenchCatalogueTest(unittest.TestCase):
    def test_check_set_is_torch_topk_and_the_timing_pass_runs(self):
        items, hidden, k, rows = 50, 8, 5, 40
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "data")
            os.makedirs(data)
            rng = np.random.RandomState(3)
            lengths = rng.randint(1, 10, size=rows).astype("<i4")
            tokens = rng.randint(0, items, size=int(lengths.sum())).astype("<i4")
            lengths.tofile(os.path.join(data, "lengths.i32"))
            tokens.tofile(os.path.join(data, "tokens.i32"))
            out = os.path.join(tmp, "cat")
            with contextlib.redirect_stderr(io.StringIO()):
                bench_catalogue.main(["make", "--out", out, "--data", data, "--items", str(items), "--hidden",
                                      str(hidden), "--k", str(k), "--check", str(rows), "--batch", "16"])
            for name in ("model/model.safetensors", "peers/model.pt", "peers/model.onnx"):
                self.assertTrue(os.path.exists(os.path.join(out, name)), name)
            ids = np.fromfile(os.path.join(out, "check_ids.i32"), dtype="<i4").reshape(rows, k)
            scores = np.fromfile(os.path.join(out, "check_scores.f32"), dtype="<f4").reshape(rows, k + 1)
            # each row alone (no padding, no batch) through the exported weights: the batched check set agrees
            model = bench_catalogue.load_model(out, items, hidden)
            offsets = np.concatenate([[0], np.cumsum(lengths)])
            with torch.no_grad():
                for r in range(rows):
                    seq = torch.from_numpy(tokens[offsets[r]:offsets[r + 1]].astype(np.int64))[None]
                    values, top = torch.topk(model(seq, torch.tensor([lengths[r]])), k + 1)
                    self.assertEqual(top[0, :k].tolist(), ids[r].tolist(), "row %d" % r)
                    np.testing.assert_allclose(scores[r], values[0].numpy(), atol=1e-5)
            result = os.path.join(tmp, "torch.json")
            with contextlib.redirect_stderr(io.StringIO()):
                bench_catalogue.main(["run", "--dir", out, "--data", data, "--runs", "1", "--warmup-seconds", "0",
                                      "--json", result])
            with open(result, encoding="utf-8") as f:
                doc = json.load(f)
            self.assertEqual((doc["items"], doc["k"], doc["rows"]), (items, k, rows))
            self.assertEqual(doc["torch_topk_rows_off_rule"], 0)


if __name__ == "__main__":
    unittest.main()
