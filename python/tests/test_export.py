"""Self-test of the seqpack-model/2 exporter (python/seqpack_torch/export.py) and reference (reference.py).

Run with all Python tests: scripts/test-python [-v]

Checks: the refusal messages (and that they match golden/graph/refusals.json), the CLI end to end
(--module FILE.py:CLASS --init-args --state-dict --spec --out --verify) on a golden module class saved with
torch.save(state_dict), CLI refusals (exit status 2, one line on stderr), that exported v2 files reproduce the
module's own outputs, that the committed golden/graph fixtures are reproduced, and that the seqpack-model/1
forms (--demo-tutorial, --state-dict --config) still write the same bytes as golden/tutorial.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
from seqpack_torch import export as ep  # noqa: E402
from seqpack_torch import golden_graph as mgg  # noqa: E402
from seqpack_torch import golden_models as gm  # noqa: E402
from seqpack_torch import reference as st  # noqa: E402

GOLDEN = os.path.join(ROOT, "src", "test", "resources", "golden")
EXPORTER = os.path.join(ROOT, "scripts", "export_pytorch.py")
GOLDEN_MODELS = gm.__file__
PY = sys.executable or "/usr/bin/python3"


def run_cli(*args):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([PY, EXPORTER] + list(args), capture_output=True, text=True, env=env, cwd=ROOT)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def max_err(a, b):
    return float((a.double() - b.double()).abs().max())


class Refusals(unittest.TestCase):
    def test_refusals_match_golden(self):
        with open(os.path.join(GOLDEN, "graph", "refusals.json"), encoding="utf-8") as f:
            golden = {r["case"]: r["message"] for r in json.load(f)}
        with tempfile.TemporaryDirectory() as tmp:
            got = {r["case"]: r["message"] for r in mgg.refusals(tmp)}
        self.assertEqual(got, golden)

    def test_required_refusals(self):
        with tempfile.TemporaryDirectory() as tmp:
            got = {r["case"]: r["message"] for r in mgg.refusals(tmp)}
        self.assertEqual(got["unknown_head_layer"], "head.2 is a Softplus; a head may contain Linear, ReLU, "
                         "LeakyReLU, ELU, GELU, Tanh, Sigmoid, Dropout, LayerNorm, BatchNorm1d, Identity")
        self.assertIn("'encoder'", got["missing_path"])
        self.assertIn("it must be an nn.RNN, nn.LSTM or nn.GRU", got["rnn_wrong_kind"])
        self.assertIn("input_size 18 but the inputs give 17", got["rnn_input_size_mismatch"])
        self.assertNotIn("gelu_tanh", got)  # exported since GELU(approximate='tanh') is a head layer
        self.assertIn("track_running_stats=False", got["batch_norm_no_running_stats"])
        self.assertIn("more than the last dim", got["layer_norm_two_dims"])
        self.assertIn("BatchNorm1d(5) but its input has 4", got["norm_size_mismatch"])

    def test_gelu_tanh_and_last_k_mean_export_verified(self):
        m = gm.SensorGRU()
        m.head[1] = torch.nn.GELU(approximate="tanh")
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "m")
            ep.export_module(m.eval(), dict(gm.SPECS["SensorGRU"], pooling=["last", {"last_k_mean": {"k": 3}},
                                                                             "mean"]), out, verify=False)
            with open(os.path.join(out, "model.json"), encoding="utf-8") as f:
                mj = json.load(f)
        self.assertEqual(mj["heads"][0]["layers"][1], {"type": "gelu", "approximate": "tanh"})
        self.assertEqual(mj["pooling"][1], {"last_k_mean": {"k": 3}})

    def test_refusal_writes_nothing(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "m")
            with self.assertRaises(ep.ExportError):
                ep.export_module(gm.FraudLSTM().eval(), dict(gm.SPECS["FraudLSTM"], rnn="head"), out)
            self.assertFalse(os.path.exists(out))


def sensor_model(seed=7):
    case = dict(mgg.CASES[2], seed=seed, init={"hidden": 10})
    return mgg.init_model(case), case


class Cli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        torch.set_num_threads(1)
        cls.model, cls.case = sensor_model()
        cls.sd = os.path.join(cls.tmp.name, "sensor.pt")
        torch.save(cls.model.state_dict(), cls.sd)
        cls.spec = os.path.join(cls.tmp.name, "spec.json")
        with open(cls.spec, "w", encoding="utf-8") as f:
            json.dump(gm.SPECS["SensorGRU"], f)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def export(self, *extra, out="out"):
        return run_cli("--module", GOLDEN_MODELS + ":SensorGRU", "--init-args",
                       '{"hidden": 10}', "--state-dict", self.sd, "--spec", self.spec,
                       "--out", os.path.join(self.tmp.name, out), *extra)

    def test_end_to_end_verify_and_module_outputs(self):
        r = self.export("--verify")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"verified against forward: max abs difference \S+ over 37 rows in 6 batches "
                                   r"\(batch-first input\)")
        mj, tensors = ep.read_model_dir(os.path.join(self.tmp.name, "out"))
        self.assertEqual(mj["format"], "seqpack-model/2")
        self.assertEqual(mj["inputs"][0]["norm"], {"type": "batch_norm", "module": "bn_in", "eps": 1e-05,
                                                   "affine": True})
        self.assertEqual(set(tensors), set(st.graph_tensor_names(mj)))
        self.assertNotIn("bn_in.num_batches_tracked", tensors)
        # the written files reproduce the module's own forward
        batch = mgg.make_batch(mj, self.case)
        user = mgg.run_user_module(self.case, self.model, mj, gm.SPECS["SensorGRU"], batch)
        ref = st.reference_forward(tensors, mj, batch)
        self.assertLess(mgg.max_err(user, ref), 1e-6)

    def test_bf16_verify_reports_rounding(self):
        r = self.export("--verify", "--dtype", "BF16", out="bf16")
        self.assertEqual(r.returncode, 0, r.stderr)
        err = float(r.stdout.split("scores move by up to ")[1].split()[0])
        self.assertTrue(0 < err < 0.1, r.stdout)
        _, dtypes = ep.read_safetensors(os.path.join(self.tmp.name, "bf16", "model.safetensors"))
        self.assertEqual(set(dtypes.values()), {"BF16"})

    def assert_refused(self, r, start):
        self.assertEqual(r.returncode, 2, (r.stdout, r.stderr))
        lines = r.stderr.strip("\n").split("\n")
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith("export_pytorch: error: " + start), lines[0])

    def test_cli_refusal_bad_spec(self):
        bad = os.path.join(self.tmp.name, "bad_spec.json")
        with open(bad, "w", encoding="utf-8") as f:
            json.dump(dict(gm.SPECS["SensorGRU"], rnn="nope"), f)
        r = run_cli("--module", GOLDEN_MODELS + ":SensorGRU", "--init-args",
                    '{"hidden": 10}', "--state-dict", self.sd, "--spec", bad, "--out",
                    os.path.join(self.tmp.name, "bad"))
        self.assert_refused(r, "no module at path 'nope'")

    def test_cli_refusal_state_dict_mismatch(self):
        r = run_cli("--module", GOLDEN_MODELS + ":SensorGRU", "--state-dict", self.sd,
                    "--spec", self.spec, "--out", os.path.join(self.tmp.name, "bad2"))     # default hidden 12
        self.assert_refused(r, "--state-dict ")

    def test_cli_refusal_unknown_class(self):
        r = run_cli("--module", GOLDEN_MODELS + ":NoSuchModel", "--state-dict", self.sd,
                    "--spec", self.spec, "--out", os.path.join(self.tmp.name, "bad3"))
        self.assert_refused(r, "--module: ")


class GoldenGraph(unittest.TestCase):
    def test_committed_fixtures_reproduce(self):
        torch.set_num_threads(1)
        for case in mgg.CASES:
            d = os.path.join(GOLDEN, "graph", case["name"])
            with open(os.path.join(d, "case.json"), encoding="utf-8") as f:
                cj = json.load(f)
            mj, tensors = ep.read_model_dir(d)
            batch = {"inputs": {}, "static": {}}
            for inp in mj["inputs"]:
                rows = cj["inputs"][inp["name"]]
                batch["inputs"][inp["name"]] = [torch.tensor(r, dtype=torch.int64 if inp["kind"] == "tokens"
                                                             else torch.float32) for r in rows]
            for s in mj["static"]:
                batch["static"][s["name"]] = torch.tensor(cj["static"][s["name"]], dtype=torch.float32)
            ref = st.reference_forward(tensors, mj, batch)
            self.assertEqual(ref["lengths"].tolist(), cj["lengths"])
            for k in ("rnn_output", "h_n", "embedding"):
                self.assertLess(max_err(ref[k], torch.tensor(cj[k])), 1e-6, (case["name"], k))
            for k, v in ref["heads"].items():
                self.assertLess(max_err(v, torch.tensor(cj["heads"][k])), 1e-6, (case["name"], k))
            self.assertEqual(ref["step_scores"] is not None, "step_scores" in cj, case["name"])
            if ref["step_scores"] is not None:
                for a, b in zip(ref["step_scores"], cj["step_scores"]):
                    self.assertLess(max_err(a, torch.tensor(b)), 1e-6, case["name"])
            # re-exporting the seeded user module writes the same files
            with tempfile.TemporaryDirectory() as tmp:
                with torch.no_grad():
                    ep.export_module(mgg.init_model(case), gm.SPECS[case["cls"].__name__], tmp, case["dtype"])
                for fn in ("model.json", "model.safetensors"):
                    self.assertEqual(read_bytes(os.path.join(tmp, fn)), read_bytes(os.path.join(d, fn)),
                                     (case["name"], fn))


class V1Forms(unittest.TestCase):
    def test_demo_tutorial_and_state_dict_config(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = run_cli("--demo-tutorial", "--out", os.path.join(tmp, "demo"))
            self.assertEqual(r.returncode, 0, r.stderr)
            model, config = ep.demo_tutorial_model()
            torch.save(model.state_dict(), os.path.join(tmp, "t.pt"))
            with open(os.path.join(tmp, "config.json"), "w", encoding="utf-8") as f:
                json.dump(config, f)
            r = run_cli("--state-dict", os.path.join(tmp, "t.pt"), "--config", os.path.join(tmp, "config.json"),
                        "--out", os.path.join(tmp, "sd"))
            self.assertEqual(r.returncode, 0, r.stderr)
            for d in ("demo", "sd"):
                for fn in ("model.json", "model.safetensors"):
                    self.assertEqual(read_bytes(os.path.join(tmp, d, fn)),
                                     read_bytes(os.path.join(GOLDEN, "tutorial", fn)), (d, fn))


class Reference(unittest.TestCase):
    def test_reference_from_live_module_equals_files_f32(self):
        torch.set_num_threads(1)
        model, case = sensor_model(seed=11)
        with tempfile.TemporaryDirectory() as tmp:
            with torch.no_grad():
                ep.export_module(model, gm.SPECS["SensorGRU"], tmp)
            mj_w, tensors_w = ep.read_model_dir(tmp)
        mj, tensors = ep.build_graph(model, gm.SPECS["SensorGRU"])
        batch = mgg.make_batch(mj, case)
        self.assertEqual(max_err(st.reference_forward(tensors_w, mj_w, batch)["heads"]["health"],
                                 st.reference_forward(tensors, mj, batch)["heads"]["health"]), 0.0)

    def test_validate_graph_rejects_unknown_key(self):
        with open(os.path.join(GOLDEN, "graph", "a_bilstm_text", "model.json"), encoding="utf-8") as f:
            mj = json.load(f)
        st.validate_graph(mj)
        mj["rnn"]["dropout"] = 0.25
        with self.assertRaises(ValueError):
            st.validate_graph(mj)


class PaddingMaskedGRU4Rec(gm.GRU4Rec):
    """GRU4Rec that never recommends the padding item: its logit is -inf before the softmax."""

    def score(self, h):
        s = super().score(h)
        return s.masked_fill(torch.arange(s.shape[-1]) == self.item_emb.padding_idx, float("-inf"))


class TiedHeads(unittest.TestCase):
    def test_exclude_padding_is_verified_against_a_module_that_masks_it(self):
        torch.manual_seed(3)
        model = PaddingMaskedGRU4Rec().eval()
        spec = json.loads(json.dumps(gm.SPECS["GRU4Rec"]))
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaises(ep.ExportError) as ctx:        # the padding item scored: disagrees
                ep.export_module(model, spec, os.path.join(tmp, "plain"))
            self.assertIn("disagrees with PaddingMaskedGRU4Rec.forward", str(ctx.exception))
            spec["heads"][0]["exclude_padding"] = True
            mj = ep.export_module(model, spec, os.path.join(tmp, "masked"))
        self.assertEqual(mj["heads"][0]["layers"], [{"type": "tied", "embedding": "item_emb", "num_embeddings": 60,
                                                     "embedding_dim": 8, "exclude_padding": True}])
        self.assertTrue(mj["export"]["verified"])

    def test_exclude_padding_needs_a_padding_idx(self):
        model = gm.GRU4Rec().eval()
        model.item_emb.padding_idx = None
        spec = json.loads(json.dumps(gm.SPECS["GRU4Rec"]))
        spec["heads"][0]["exclude_padding"] = True
        with tempfile.TemporaryDirectory() as tmp, self.assertRaises(ep.ExportError) as ctx:
            ep.export_module(model, spec, os.path.join(tmp, "m"))
        self.assertEqual(str(ctx.exception), "head 'next_item': exclude_padding is true but tied_to 'item_emb' has "
                                             "no padding_idx")


if __name__ == "__main__":
    np.random.seed(0)
    unittest.main()
