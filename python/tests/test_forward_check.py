"""Every export is checked against the module's own forward (python/seqpack_torch/forward_check.py): a spec that disagrees
with forward is refused with the part it points to, and nothing is written.

Run with all Python tests: scripts/test-python [-v]
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
from seqpack_torch import export as ep  # noqa: E402
from tests.export_case import ExportCase  # noqa: E402
from seqpack_torch import golden_graph as mgg  # noqa: E402
from seqpack_torch import golden_models as gm  # noqa: E402

PY = sys.executable or "/usr/bin/python3"


class BackwardFirstBiLSTM(nn.Module):
    """The most-read packed-LSTM tutorial's shape: 2-layer BiLSTM, pooled as cat(hidden[-1], hidden[-2])."""

    def __init__(self, vocab=30, emb=6, hidden=7, out=1, backward_first=True):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=0)
        self.rnn = nn.LSTM(emb, hidden, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(2 * hidden, out)
        self.backward_first = backward_first

    def forward(self, text, text_lengths):
        packed = pack_padded_sequence(self.embedding(text), text_lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        _, (hidden, _) = self.rnn(packed)
        pair = (hidden[-1], hidden[-2]) if self.backward_first else (hidden[-2], hidden[-1])
        return self.fc(torch.cat(pair, dim=1))


class TanhStarterGRU(nn.Module):
    """A learned initial state used through tanh, as event-sequence libraries do."""

    def __init__(self, n_in=3, hidden=5):
        super().__init__()
        self.rnn = nn.GRU(n_in, hidden, batch_first=True)
        self.starter_h = nn.Parameter(torch.randn(1, 1, hidden))
        self.head = nn.Linear(hidden, 1)

    def forward(self, x, lengths):
        h0 = torch.tanh(self.starter_h).expand(-1, x.shape[0], -1).contiguous()
        _, h_n = self.rnn(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False), h0)
        return self.head(h_n[-1])


class DictInput(nn.Module):
    """A forward that takes one dict: nothing can bind the model's inputs to it."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(3, 4, batch_first=True)
        self.fc = nn.Linear(4, 1)

    def forward(self, batch):
        _, h = self.rnn(pack_padded_sequence(batch["x"], batch["lengths"], batch_first=True, enforce_sorted=False))
        return self.fc(h[-1])


class StackedCellsSine(nn.Module):
    """Two LSTMCells stepped in Python over a series of scalars, in float64, a Linear on every step (the shape of
    pytorch/examples' time-sequence prediction): no lengths, per-step outputs only."""

    def __init__(self, hidden=7):
        super().__init__()
        self.hidden = hidden
        self.lstm1 = nn.LSTMCell(1, hidden)
        self.lstm2 = nn.LSTMCell(hidden, hidden)
        self.linear = nn.Linear(hidden, 1)

    def forward(self, input):
        outputs = []
        h_t = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        c_t = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            outputs += [self.linear(h_t2)]
        return torch.cat(outputs, dim=1)


CELLS_SPEC = {"inputs": [{"name": "input", "kind": "features", "size": 1}], "rnn": ["lstm1", "lstm2"],
              "heads": [{"name": "output", "module": "linear"}]}
BILSTM_SPEC = {"inputs": [{"name": "text", "kind": "tokens", "embedding": "embedding"}], "rnn": "rnn",
               "pooling": ["last"], "heads": [{"name": "score", "module": "fc"}]}
GRU_SPEC = {"inputs": [{"name": "x", "kind": "features", "size": 3}], "rnn": "rnn", "h0": "starter_h",
            "heads": [{"name": "y", "module": "head"}]}


def seeded(cls, seed=5, **kw):
    torch.manual_seed(seed)
    return cls(**kw).eval()


class ForwardCheck(ExportCase):
    def test_every_golden_module_verifies(self):
        for case in mgg.CASES:
            mj = ep.export_module(mgg.init_model(case), gm.SPECS[case["cls"].__name__],
                                  os.path.join(self.tmp.name, case["name"]), case["dtype"])
            self.assertTrue(mj["export"]["verified"], case["name"])
            self.assertEqual(mj["export"]["rows"], 37, case["name"])
            layout = {"e_static_two_heads": "time_major", "i_forward_read": "feature_major",
                      "q_query_attention": "time_major"}.get(case["name"],
                                                                                               "batch_first")
            self.assertEqual(mj["export"]["layout"], layout, case["name"])

    def test_time_major_forward_is_found(self):
        case = mgg.CASES[4]
        mj = ep.export_module(mgg.init_model(case), gm.SPECS["StaticTwoHeads"], self.out)
        self.assertEqual(mj["export"]["layout"], "time_major")

    def test_swapped_directions_refused_with_the_part(self):
        msg = self.refused(seeded(BackwardFirstBiLSTM), BILSTM_SPEC)
        self.assertTrue(msg.startswith("cannot export: the exported model disagrees with BackwardFirstBiLSTM.forward "
                                       "by "), msg)
        self.assertIn("at head 'score' (forward's output", msg)
        self.assertIn("pooling[0]: forward concatenates hidden[-1], hidden[-2] (backward state first); the spec's "
                      "'last' gives hidden[-2], hidden[-1]", msg)

    def test_forward_first_order_exports(self):
        mj = ep.export_module(seeded(BackwardFirstBiLSTM, backward_first=False), BILSTM_SPEC, self.out)
        self.assertTrue(mj["export"]["verified"])

    def test_mean_for_last_refused(self):
        spec = dict(gm.SPECS["ReluRNNMean"], pooling=["last"])
        msg = self.refused(mgg.init_model(mgg.CASES[6]), spec)
        self.assertIn("pooling[0]: forward pools like 'mean'; the spec says 'last'", msg)

    def test_raw_h0_refused(self):
        msg = self.refused(seeded(TanhStarterGRU), GRU_SPEC)
        self.assertIn("h0: forward uses tanh(starter_h), not the parameter itself", msg)

    def test_missing_activation_refused_and_caller_activation_accepted(self):
        case = mgg.CASES[1]
        spec = dict(gm.SPECS["FraudLSTM"], heads=[{"name": "fraud", "module": "head"}])
        msg = self.refused(mgg.init_model(case), spec)
        self.assertIn("heads[0] 'fraud': forward applies sigmoid after the head; the spec's activation is \"none\"",
                      msg)
        # a forward returning logits, with the sigmoid applied by the caller
        msg = self.refused(seeded(BackwardFirstBiLSTM, backward_first=False),
                           dict(BILSTM_SPEC, heads=[{"name": "score", "module": "fc", "activation": "sigmoid"}]))
        self.assertIn("forward returns the values before the spec's sigmoid; if your code applies sigmoid after "
                      "forward, export with --activation score=sigmoid", msg)
        mj = ep.export_module(seeded(BackwardFirstBiLSTM, backward_first=False),
                              dict(BILSTM_SPEC, heads=[{"name": "score", "module": "fc", "activation": "sigmoid"}]),
                              self.out, post_activations={"score": "sigmoid"})
        self.assertTrue(mj["export"]["verified"])

    def test_uncallable_forward_refused_unless_no_verify(self):
        spec = {"inputs": [{"name": "x", "kind": "features", "size": 3}], "rnn": "rnn",
                "heads": [{"name": "y", "module": "fc"}]}
        msg = self.refused(seeded(DictInput), spec)
        self.assertIn("cannot run DictInput.forward(batch) on padded inputs and lengths", msg)
        self.assertIn("export with --no-verify", msg)
        mj = ep.export_module(seeded(DictInput), spec, self.out, verify=False)
        self.assertEqual(mj["export"], {"verified": False})
        with open(os.path.join(self.out, "model.json"), encoding="utf-8") as f:
            self.assertEqual(json.load(f)["export"], {"verified": False})

    def test_forward_args_template_calls_other_signatures(self):
        spec = {"inputs": [{"name": "x", "kind": "features", "size": 3}], "rnn": "rnn",
                "heads": [{"name": "y", "module": "fc"}]}
        mj = ep.export_module(seeded(DictInput), spec, self.out,
                              forward_args={"batch": {"x": "$x", "lengths": "$lengths"}})
        self.assertTrue(mj["export"]["verified"])
        self.out = os.path.join(self.tmp.name, "other")
        msg = self.refused(seeded(DictInput), spec, forward_args={"batch": {"x": "$y"}})
        self.assertIn("--forward-args names $y; the model's inputs are $lengths, $x", msg)

    def test_refused_export_leaves_an_existing_model_alone(self):
        ep.export_module(seeded(BackwardFirstBiLSTM, backward_first=False), BILSTM_SPEC, self.out)
        with open(os.path.join(self.out, "model.safetensors"), "rb") as f:
            before = f.read()
        with self.assertRaises(ep.ExportError):
            ep.export_module(seeded(BackwardFirstBiLSTM, seed=9), BILSTM_SPEC, self.out)
        with open(os.path.join(self.out, "model.safetensors"), "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertEqual([n for n in os.listdir(self.tmp.name) if n.startswith(".seqpack-export-")], [])


    def test_a_stack_of_cells_exports_as_one_layer_and_verifies_on_its_steps(self):
        model = seeded(StackedCellsSine).double()
        mj = ep.export_module(model, CELLS_SPEC, self.out)
        self.assertEqual((mj["rnn"]["mode"], mj["rnn"]["num_layers"], mj["rnn"]["module"]), ("LSTM", 2, "lstm1"))
        self.assertEqual(mj["export"]["layout"], "batch_first_one_feature")
        self.assertTrue(mj["export"]["equal_lengths"])
        _, tensors = ep.read_model_dir(self.out)
        self.assertTrue(torch.equal(tensors["lstm1.weight_hh_l1"], model.lstm2.weight_hh.float()))
        # a stack of cells whose sizes differ is not one multi-layer RNN
        self.out = os.path.join(self.tmp.name, "refused")
        msg = self.refused(seeded(StackedCellsSine), dict(CELLS_SPEC, rnn=["lstm1", "linear"]))
        self.assertIn("rnn cell 'linear' is a Linear", msg)


class Cli(unittest.TestCase):
    def test_cli_refuses_wrong_spec_with_exit_2_and_one_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            torch.save(seeded(BackwardFirstBiLSTM).state_dict(), os.path.join(tmp, "m.pt"))
            with open(os.path.join(tmp, "spec.json"), "w", encoding="utf-8") as f:
                json.dump(BILSTM_SPEC, f)
            args = [PY, os.path.join(ROOT, "scripts", "export_pytorch.py"), "--module",
                    os.path.abspath(__file__) + ":BackwardFirstBiLSTM", "--state-dict", os.path.join(tmp, "m.pt"),
                    "--spec", os.path.join(tmp, "spec.json"), "--out", os.path.join(tmp, "out")]
            r = subprocess.run(args, capture_output=True, text=True)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(len(r.stderr.strip().split("\n")), 1, r.stderr)
            self.assertIn("backward state first", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(tmp, "out")))
            r = subprocess.run(args + ["--no-verify"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("NOT verified against forward (--no-verify)", r.stdout)


if __name__ == "__main__":
    unittest.main()
