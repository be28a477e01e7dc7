"""Export without a spec: the exporter reads forward (python/seqpack_torch/infer.py), maps it onto seqpack's
parts, refuses what it cannot map with the op and its line, and checks the result against forward.

The modules here are look-alikes written for these tests in the style of published code (none is copied).
Run with all Python tests: scripts/test-python [-v]
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
from seqpack_torch import export as ep  # noqa: E402
from tests.export_case import ExportCase  # noqa: E402
from tests.test_forward_check import StackedCellsSine  # noqa: E402
from seqpack_torch import golden_graph as mgg  # noqa: E402
from seqpack_torch import golden_models as gm  # noqa: E402
from seqpack_torch import infer  # noqa: E402

PY = sys.executable or "/usr/bin/python3"
EXPORTER = os.path.join(ROOT, "scripts", "export_pytorch.py")


class SentimentBiLSTM(nn.Module):
    """2-layer bidirectional LSTM over packed tokens; the pooled vector is cat(hidden[a], hidden[b])."""

    def __init__(self, vocab=40, emb=6, hidden=7, order=(-2, -1)):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=0)
        self.rnn = nn.LSTM(emb, hidden, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(2 * hidden, 1)
        self.order = order

    def forward(self, text, text_lengths):
        packed = pack_padded_sequence(self.embedding(text), text_lengths.to("cpu"), batch_first=True,
                                      enforce_sorted=False)
        _, (hidden, _) = self.rnn(packed)
        return self.fc(torch.cat((hidden[self.order[0]], hidden[self.order[1]]), dim=1))


class FraudHandbookLSTM(nn.Module):
    """Features through an LSTM, a head of separate attributes: fc1 -> relu -> fc2 -> sigmoid in forward."""

    def __init__(self, n_features=5, hidden=8):
        super().__init__()
        self.lstm = nn.LSTM(n_features, hidden, batch_first=True)
        self.fc1 = nn.Linear(hidden, 4)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(4, 1)

    def forward(self, x, lengths):
        _, (h, _) = self.lstm(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
        return torch.sigmoid(self.fc2(self.relu(self.fc1(h[-1]))))


class FftLSTM(nn.Module):
    """Spectral features of the LSTM output: nothing seqpack can run."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 6, batch_first=True)
        self.fc = nn.Linear(4, 1)

    def forward(self, x, lengths):
        out, _ = self.lstm(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
        out, _ = pad_packed_sequence(out, batch_first=True)
        spectrum = torch.fft.rfft(out, dim=-1).abs()
        return self.fc(spectrum.mean(dim=1))


class BranchyGRU(nn.Module):
    """A Python branch on the data: the recorded path holds only for some inputs."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(3, 5, batch_first=True)
        self.fc = nn.Linear(5, 1)

    def forward(self, x, lengths):
        _, h = self.gru(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
        if h[-1].mean() > 0:
            return self.fc(h[-1])
        return -self.fc(h[-1])


class SessionGRUCell(nn.Module):
    """GRU4Rec's own shape: a GRUCell stepped over the session's items, scores h · Eᵀ + By over the item table
    (By an Embedding(n_items, 1))."""

    def __init__(self, n_items=50, hidden=6):
        super().__init__()
        self.E = nn.Embedding(n_items, hidden)
        self.cell = nn.GRUCell(hidden, hidden)
        self.By = nn.Embedding(n_items, 1)

    def forward(self, X):
        H = torch.zeros(X.shape[0], self.cell.hidden_size)
        for t in range(X.shape[1]):
            H = self.cell(self.E(X[:, t]), H)
        return torch.mm(H, self.E.weight.t()) + self.By.weight.view(-1)


def seeded(cls, seed=3, **kw):
    torch.manual_seed(seed)
    return cls(**kw).eval()


def without_names(spec):
    """A spec with the head names (forward's result names them) and default keys dropped."""
    out = json.loads(json.dumps(spec))
    for h in out["heads"]:
        h.pop("name")
        h.setdefault("activation", "none")
    out.setdefault("pooling", ["last"])
    for inp in out["inputs"]:
        if inp.get("norm") is None:
            inp.pop("norm", None)
    return out


class Infer(ExportCase):
    def test_golden_modules_read_as_their_hand_written_specs(self):
        sizes = {"FraudLSTM": {"numeric": 4, "hour": 1}, "StepScorerLSTM": {"x": 4}}
        for case in mgg.CASES:
            name = case["cls"].__name__
            if gm.SPECS[name] is None or any("tied_to" in h for h in gm.SPECS[name]["heads"]):
                continue
            model = mgg.init_model(case)
            spec = infer.infer_spec(model, sizes.get(name))
            self.assertEqual(without_names(spec), without_names(gm.SPECS[name]), name)

    def test_tied_heads_are_read_from_forward(self):
        """h · Eᵀ (+ By) with the input's own item table: a tied head, its bias the one-parameter module By."""
        cases = {c["name"]: c for c in mgg.CASES}
        self.assertEqual(infer.infer_spec(mgg.init_model(cases["m_gru4rec_tied"]))["heads"],
                         [{"name": "score", "tied_to": "item_emb", "activation": "softmax"}])
        self.assertEqual(infer.infer_spec(mgg.init_model(cases["n_gru4rec_dense_bias"]))["heads"],
                         [{"name": "score", "module": "dense", "tied_to": "item_emb", "bias": "By",
                           "activation": "log_softmax"}])
        self.assertTrue(ep.export_module(mgg.init_model(cases["n_gru4rec_dense_bias"]), None, self.out)
                        ["export"]["verified"])

    def test_a_session_stepped_through_a_gru_cell_with_a_tied_head(self):
        spec = infer.infer_spec(seeded(SessionGRUCell))
        self.assertEqual(spec, {"inputs": [{"name": "X", "kind": "tokens", "embedding": "E"}], "rnn": "cell",
                                "pooling": ["last"],
                                "heads": [{"name": "score", "tied_to": "E", "bias": "By", "activation": "none"}]})
        mj = ep.export_module(seeded(SessionGRUCell), None, self.out)
        self.assertEqual((mj["rnn"]["mode"], mj["heads"][0]["layers"][-1]["bias"]), ("GRU", "By.weight"))
        self.assertTrue(mj["export"]["equal_lengths"])

    def test_the_forward_read_golden_modules(self):
        cases = {c["name"]: c for c in mgg.CASES}
        spec = infer.infer_spec(mgg.init_model(cases["i_forward_read"]))
        self.assertEqual(spec, {
            "inputs": [{"name": "event", "kind": "tokens", "embedding": "event_emb"},
                       {"name": "amount", "kind": "features", "size": 2}],
            "rnn": "gru", "h0": "tanh(starter_h)", "pooling": ["last"],
            "heads": [{"name": "score", "module": ["fc1", {"type": "relu"}, "fc2"], "activation": "sigmoid"}]})
        mj = ep.export_module(mgg.init_model(cases["i_forward_read"]), None, self.out)
        self.assertEqual(mj["export"]["layout"], "feature_major")
        self.assertEqual(infer.infer_spec(mgg.init_model(cases["j_all_states"]))["pooling"],
                         [{"hidden": {"indices": [-4, -3, -2, -1]}}])
        self.assertEqual(infer.infer_spec(mgg.init_model(cases["k_query_attention"]))["pooling"],
                         [{"hidden": {"indices": [-1, -2]}}, {"dot_attention": {"query": [-2, -1]}}])
        spec = infer.infer_spec(mgg.init_model(cases["l_concat_attention_encoder"]))
        self.assertEqual(spec["pooling"], [{"attention": {"proj": "attn_proj", "context": "attn_v", "query": [-1]}}])
        self.assertEqual(spec["heads"], [{"name": "score", "module": "rnn_mlp", "activation": "none"}])
        spec = infer.infer_spec(mgg.init_model(cases["p_step_net_attention"]))
        self.assertEqual((spec["step_layers"], spec["pooling"]),
                         ("net", ["last", {"attention": {"proj": "att_proj", "context": "att_score"}}]))
        spec = infer.infer_spec(mgg.init_model(cases["q_query_attention"]))
        self.assertEqual((spec["step_layers"], spec["pooling"]),
                         (["translation", {"type": "relu"}], [{"query_attention": {"query": "query"}}]))

    def test_forward_first_directions_export(self):
        mj = ep.export_module(seeded(SentimentBiLSTM, order=(-2, -1)), None, self.out)
        self.assertEqual(mj["pooling"], ["last"])
        self.assertTrue(mj["export"]["verified"])

    def test_backward_first_directions_export_as_hidden_states_in_that_order(self):
        mj = ep.export_module(seeded(SentimentBiLSTM, order=(-1, -2)), None, self.out)
        self.assertEqual(mj["pooling"], [{"hidden": {"indices": [-1, -2]}}])
        self.assertTrue(mj["export"]["verified"])

    def test_head_of_separate_attributes_with_sigmoid_in_forward(self):
        spec = infer.infer_spec(seeded(FraudHandbookLSTM))
        self.assertEqual(spec["heads"], [{"name": "score", "module": ["fc1", "relu", "fc2"],
                                          "activation": "sigmoid"}])
        self.assertEqual(spec["inputs"], [{"name": "x", "kind": "features", "size": 5}])
        self.assertTrue(ep.export_module(seeded(FraudHandbookLSTM), None, self.out)["export"]["verified"])

    def test_caller_activation_is_added_to_the_head(self):
        spec = infer.infer_spec(seeded(SentimentBiLSTM), post_activations={None: "sigmoid"})
        self.assertEqual(spec["heads"][0]["activation"], "sigmoid")
        mj = ep.export_module(seeded(SentimentBiLSTM), None, self.out, post_activations={None: "sigmoid"})
        self.assertEqual(mj["heads"][0]["activation"], "sigmoid")

    def test_fft_refused_with_op_and_line(self):
        msg = self.refused(seeded(FftLSTM))
        line = FftLSTM.forward.__code__.co_firstlineno + 3
        self.assertIn("forward line %d calls torch.fft.rfft on the RNN output" % line, msg)

    def test_branch_on_values_refused_with_line(self):
        msg = self.refused(seeded(BranchyGRU))
        line = BranchyGRU.forward.__code__.co_firstlineno + 2
        self.assertIn("forward line %d calls Tensor.__bool__: forward branches on tensor values" % line, msg)

    def test_widths_forward_cannot_tell_apart_need_input_size(self):
        case = mgg.CASES[1]
        msg = self.refused(mgg.init_model(case))
        self.assertIn("cannot tell the widths of hour, numeric: lstm takes them together (5 features in all); name "
                      "them with --input-size hour=N,numeric=N", msg)
        mj = ep.export_module(mgg.init_model(case), None, self.out, input_sizes={"numeric": 4})
        self.assertEqual([i["size"] for i in mj["inputs"] if i["kind"] == "features"], [4, 1])


    def test_cells_stepped_in_a_python_loop_read_as_a_stack(self):
        model = seeded(StackedCellsSine).double()
        spec = infer.infer_spec(model)
        self.assertEqual(spec, {"inputs": [{"name": "input", "kind": "features", "size": 1}],
                                "rnn": ["lstm1", "lstm2"], "pooling": ["last"],
                                "heads": [{"name": "score", "module": "linear", "activation": "none"}]})
        mj = ep.export_module(model, None, self.out)
        self.assertEqual((mj["rnn"]["num_layers"], mj["export"]["layout"]), (2, "batch_first_one_feature"))

    def test_step_layers_of_the_wrong_width_are_refused(self):
        model = mgg.init_model({c["name"]: c for c in mgg.CASES}["p_step_net_attention"])
        spec = {"inputs": [{"name": "features", "kind": "features", "size": 6}], "step_layers": "net.0",
                "rnn": "rnn", "heads": [{"name": "s", "module": "fc_out"}]}
        model.net[0] = nn.Linear(6, 5)
        with self.assertRaises(ep.ExportError) as ctx:
            ep.build_graph(model, spec)
        self.assertEqual(str(ctx.exception), 'step_layers "net.0" output 5 features but rnn \'rnn\' has input_size 8')


class Cli(unittest.TestCase):
    def test_print_spec_and_export_without_spec(self):
        with tempfile.TemporaryDirectory() as tmp:
            torch.save(seeded(FraudHandbookLSTM).state_dict(), os.path.join(tmp, "m.pt"))
            base = [PY, EXPORTER, "--module", os.path.abspath(__file__) + ":FraudHandbookLSTM", "--state-dict",
                    os.path.join(tmp, "m.pt")]
            r = subprocess.run(base + ["--print-spec"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(json.loads(r.stdout)["rnn"], "lstm")
            self.assertIn("verified against forward", r.stderr)
            r = subprocess.run(base + ["--out", os.path.join(tmp, "out")], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("verified against forward: max abs difference", r.stdout)
            with open(os.path.join(tmp, "out", "model.json"), encoding="utf-8") as f:
                self.assertTrue(json.load(f)["export"]["verified"])

    def test_refusal_is_one_line_and_exit_2(self):
        with tempfile.TemporaryDirectory() as tmp:
            torch.save(seeded(FftLSTM).state_dict(), os.path.join(tmp, "m.pt"))
            r = subprocess.run([PY, EXPORTER, "--module", os.path.abspath(__file__) + ":FftLSTM", "--state-dict",
                                os.path.join(tmp, "m.pt"), "--out", os.path.join(tmp, "out")],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(len(r.stderr.strip().split("\n")), 1, r.stderr)
            self.assertIn("calls torch.fft.rfft", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(tmp, "out")))


if __name__ == "__main__":
    unittest.main()
