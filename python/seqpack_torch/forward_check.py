"""Check an export against the module's own forward: no export may write a model that disagrees with it.

A spec maps module *names* onto seqpack's parts; what the model means lives in its ``forward``. So every export
calls ``module.forward`` on seeded random ragged batches (lengths 1 to 60 in no order, ties, batch sizes 1 and
several) and compares what it returns with seqpack's PyTorch reference of the exported graph
(``reference.GraphReference``). Above ``TOLERANCE`` the export is refused, with the largest difference and,
where one exists, the single part of the spec whose change would make them agree (pooling kind, direction order,
activation, norm, initial state).

How ``forward`` is called:
- its parameters are bound to the model's inputs by name (step inputs, static inputs); a parameter whose name
  contains ``len`` takes the lengths (an int64 CPU tensor); parameters left over are bound in order; parameters
  with defaults that match nothing are left to their defaults;
- step inputs are padded (tokens with the embedding's ``padding_idx`` or 0, features with 0.0) and handed over
  batch-first ``[B, T(, F)]``, time-major ``[T, B(, F)]`` or feature-major ``[B, F, T]``: the first layout that
  runs and agrees is the one the module takes (the RNN's ``batch_first`` says which is tried first);
- a ``forward`` without a lengths parameter gets batches whose rows all have the same length;
- its result may be a tensor, a tuple or list, or a dict keyed by head name; heads are paired with its tensors
  by name, else in order by width; a ``[B, T, out]`` tensor is compared on valid steps with per-step scores;
- ``post_activations`` ({head: "sigmoid" | "softmax" | "log_softmax"}) is what the caller applies after forward
  (``--activation``), applied to forward's output before the comparison.
"""

import inspect
import json

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence

from . import reference

TOLERANCE = 1e-5
MAX_LENGTH = 60
LAYOUTS = ("batch_first", "time_major", "feature_major")
SQUEEZED = "batch_first_one_feature"     # [B, T] for inputs of one feature per step (a series of scalars)
POST_ACTIVATIONS = ("sigmoid", "softmax", "log_softmax")
LENGTHS = "<lengths>"


class ForwardCheckError(Exception):
    """The module's forward cannot be called, or disagrees with the exported graph (one-line message)."""


class Verification:
    """What the check measured: the largest difference, rows and batches compared, the layout forward took."""

    def __init__(self, max_abs_diff, rows, batches, layout, equal_lengths):
        self.max_abs_diff, self.rows, self.batches = max_abs_diff, rows, batches
        self.layout, self.equal_lengths = layout, equal_lengths

    def record(self):
        """The model.json "export" block of a verified export (no measured value in it, so that re-exporting
        the same module writes the same bytes on any CPU)."""
        return {"verified": True, "tolerance": TOLERANCE, "rows": self.rows, "batches": self.batches,
                "layout": self.layout, "equal_lengths": self.equal_lengths}

    def summary(self):
        return ("verified against forward: max abs difference %.3g over %d rows in %d batches (%s input%s)"
                % (self.max_abs_diff, self.rows, self.batches, self.layout.replace("_", "-"),
                   "; equal lengths only: forward takes no lengths" if self.equal_lengths else ""))


def unverified_record():
    """The model.json "export" block of an export made with --no-verify."""
    return {"verified": False}


def rounding_difference(mj, exact, rounded, seed=0):
    """Largest head difference between the graph run with the exact tensors and with the stored (F16/BF16)
    ones, on the verification batches: what storing at reduced precision costs."""
    rng = np.random.RandomState(seed)
    batches = [(_random_batch(mj, rng, lengths), lengths) for lengths in verification_batches(seed, False)]
    worst = 0.0
    for a, b in zip(_reference_outputs(mj, exact, batches), _reference_outputs(mj, rounded, batches)):
        for name in a["heads"]:
            worst = max(worst, _worst(a["heads"][name], b["heads"][name]))
    return worst


def _is_lengths_name(name):
    return "len" in name.lower()


class TemplateBinding:
    """forward's arguments from a template (--forward-args): a JSON object of forward's parameters, each value
    "$NAME" (a model input or static input, padded), "$lengths", a list or object of those, or a literal."""

    def __init__(self, module, mj, template):
        self.cls = type(module).__name__
        self.text = "%s.forward(**%s)" % (self.cls, json.dumps(template))
        if not isinstance(template, dict) or not template:
            raise ForwardCheckError("--forward-args must be a JSON object of forward's parameters, got %s"
                                    % json.dumps(template))
        names = {i["name"] for i in mj["inputs"]} | {s["name"] for s in mj["static"]} | {"lengths"}
        used = set()

        def walk(v):
            if isinstance(v, str) and v.startswith("$"):
                if v[1:] not in names:
                    raise ForwardCheckError("--forward-args names %s; the model's inputs are %s" % (
                        v, ", ".join("$" + n for n in sorted(names))))
                used.add(v[1:])
            elif isinstance(v, dict):
                for x in v.values():
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
        walk(template)
        missing = names - used - {"lengths"}
        if missing:
            raise ForwardCheckError("--forward-args does not pass the model's input%s %s to forward" % (
                "s" if len(missing) > 1 else "", ", ".join("$" + n for n in sorted(missing))))
        self.template = template
        self.takes_lengths = "lengths" in used

    def arguments(self, mj, batch, layout, dtype):
        values = dict(ForwardBinding.padded(mj, batch, layout, dtype), lengths=_lengths(mj, batch))

        def fill(v):
            if isinstance(v, str) and v.startswith("$"):
                return values[v[1:]]
            if isinstance(v, dict):
                return {k: fill(x) for k, x in v.items()}
            if isinstance(v, list):
                return [fill(x) for x in v]
            return v
        return fill(self.template)


def _lengths(mj, batch):
    return torch.tensor([r.shape[0] for r in batch["inputs"][mj["inputs"][0]["name"]]], dtype=torch.int64)


class ForwardBinding:
    """Which model input (or the lengths) each parameter of module.forward takes."""

    def __init__(self, module, mj):
        self.cls = type(module).__name__
        try:
            params = list(inspect.signature(module.forward).parameters.values())
        except (TypeError, ValueError) as e:
            raise ForwardCheckError("cannot read the signature of %s.forward: %s" % (self.cls, e))
        params = [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        self.text = "%s.forward(%s)" % (self.cls, ", ".join(p.name for p in params))
        model_names = [i["name"] for i in mj["inputs"]] + [s["name"] for s in mj["static"]]
        bound, unmatched = {}, []
        for p in params:
            if p.name in model_names:
                bound[p.name] = p.name
            elif _is_lengths_name(p.name) and LENGTHS not in bound.values():
                bound[p.name] = LENGTHS
            elif p.default is p.empty:
                unmatched.append(p.name)
        left = [n for n in model_names if n not in bound.values()]
        if unmatched:
            with_lengths = left + ([LENGTHS] if LENGTHS not in bound.values() else [])
            if len(unmatched) in (len(left), len(with_lengths)):
                bound.update(zip(unmatched, with_lengths))
            else:
                raise ForwardCheckError(
                    "cannot call %s with the model's inputs (%s, and the lengths): name its parameters like the "
                    "spec's inputs, or export with --no-verify" % (self.text, ", ".join(model_names)))
        missing = [n for n in model_names if n not in bound.values()]
        if missing:
            raise ForwardCheckError("%s has no parameter for the model's input%s %s; name its parameters like the "
                                    "spec's inputs, or export with --no-verify"
                                    % (self.text, "s" if len(missing) > 1 else "", ", ".join(missing)))
        self.params = bound                                   # {parameter name: model input name or LENGTHS}
        self.takes_lengths = LENGTHS in bound.values()

    def arguments(self, mj, batch, layout, dtype):
        """forward's keyword arguments for a GraphReference-style batch in the given layout."""
        step = ForwardBinding.padded(mj, batch, layout, dtype)
        lengths = _lengths(mj, batch)
        return {p: (lengths if src == LENGTHS else step[src]) for p, src in self.params.items()}

    @staticmethod
    def padded(mj, batch, layout, dtype):
        """{input or static name: padded tensor} of a GraphReference-style batch in the given layout."""
        step = {}
        for inp in mj["inputs"]:
            rows = batch["inputs"][inp["name"]]
            if inp["kind"] == "tokens":
                pad = inp["padding_idx"] if inp["padding_idx"] is not None else 0
                x = pad_sequence(rows, batch_first=True, padding_value=pad)                       # [B, T]
                step[inp["name"]] = x.t().contiguous() if layout == "time_major" else x
            else:
                x = pad_sequence([r.to(dtype) for r in rows], batch_first=True)                   # [B, T, F]
                if layout == SQUEEZED:                    # one feature per step, given as [B, T]
                    x = x.squeeze(-1)
                elif layout == "time_major":
                    x = x.transpose(0, 1).contiguous()
                elif layout == "feature_major":
                    x = x.transpose(1, 2).contiguous()
                step[inp["name"]] = x
        for s in mj["static"]:
            step[s["name"]] = batch["static"][s["name"]].to(dtype)
        return step


def verification_batches(seed, equal_lengths):
    """Lists of row lengths: 1 row of length 1, 1 long row, then several rows of lengths 1..60 in no order with
    ties (each batch's size differs from its longest length, so [B, ...] and [T, ...] cannot be confused)."""
    rng = np.random.RandomState(seed)
    batches = [[1], [int(rng.randint(20, MAX_LENGTH + 1))]]
    for size in (7, 16, 3, 9):
        lengths = [int(n) for n in rng.randint(1, MAX_LENGTH + 1, size=size)]
        lengths[-1] = lengths[0]                              # a tie
        if equal_lengths:
            lengths = [lengths[0]] * size
        if max(lengths) == size:
            lengths = [n + 1 for n in lengths]
        batches.append(lengths)
    return batches


def _random_batch(mj, rng, lengths):
    batch = batch = {"inputs": {}, "static": {}}
    for inp in mj["inputs"]:
        if inp["kind"] == "tokens":
            batch["inputs"][inp["name"]] = [torch.from_numpy(rng.randint(0, inp["vocab_size"], size=n).astype(np.int64))
                                            for n in lengths]
        else:
            batch["inputs"][inp["name"]] = [torch.from_numpy(rng.standard_normal((n, inp["size"])).astype(np.float32))
                                            for n in lengths]
    for s in mj["static"]:
        batch["static"][s["name"]] = torch.from_numpy(rng.standard_normal((len(lengths), s["size"])).astype(np.float32))
    return batch


def _tensors_of(result, prefix="output"):
    """[(label, tensor)] of forward's result, in order (tuples, lists and dicts walked; other values skipped)."""
    if isinstance(result, torch.Tensor):
        return [(prefix, result)]
    out = []
    if isinstance(result, dict):
        for k, v in result.items():
            out += _tensors_of(v, "%s[%r]" % (prefix, k))
    elif isinstance(result, (tuple, list)):
        for i, v in enumerate(result):
            out += _tensors_of(v, "%s[%d]" % (prefix, i))
    return out


def _post(activation, x):
    if activation == "sigmoid":
        return torch.sigmoid(x)
    if activation == "softmax":
        return torch.softmax(x, dim=-1)
    if activation == "log_softmax":
        return torch.log_softmax(x, dim=-1)
    return x


def _shape(t):
    return "[%s]" % ", ".join(str(n) for n in t.shape)


class _Pairing:
    """forward's tensors paired with the model's heads (and per-step scores) for one batch."""

    def __init__(self, mj, result, b, steps, layout, post):
        tensors = _tensors_of(result)
        heads = mj["heads"]
        self.heads = {}
        self.steps = None
        if reference.step_scores_apply(mj):
            width = _head_width(heads[0], mj)
            for label, t in tensors:
                if t.dim() == 2 and width == 1 and t.shape == (b, steps) and steps != 1:
                    t = t.unsqueeze(-1)                       # [B, T] scores of a one-output head
                if t.dim() == 3 and t.shape[-1] == width:
                    if layout != "time_major" and t.shape[0] == b and t.shape[1] == steps:
                        self.steps = (label, t.detach().to(torch.float64))
                    elif t.shape[0] == steps and t.shape[1] == b:
                        self.steps = (label, t.detach().to(torch.float64).transpose(0, 1))
        if isinstance(result, dict) and all(h["name"] in result for h in heads):
            for h in heads:
                self.heads[h["name"]] = (h["name"], result[h["name"]])
        elif self.steps is not None and not any(t is not self.steps[1] and t.dim() >= 1 and t.shape[0] == b
                                                 and _row_width(t, b) == _head_width(heads[0], mj)
                                                 for _, t in tensors):
            pass                                          # forward returns per-step scores only: those are compared
        else:
            rows = [(label, t) for label, t in tensors if t.dim() >= 1 and t.shape[0] == b]
            used = set()
            for h in heads:
                width = _head_width(h, mj)
                pick = next((i for i, (_, t) in enumerate(rows) if i not in used and _row_width(t, b) == width), None)
                if pick is None and len(heads) == 1 and len(rows) == 1:
                    pick = 0
                if pick is None:
                    raise ForwardCheckError(
                        "cannot pair forward's outputs (%s) with the head%s %s: name the outputs in a dict by head, or "
                        "return them in the heads' order" % (", ".join("%s %s" % (lbl, _shape(t)) for lbl, t in tensors)
                                                            or "no tensor", "s" if len(heads) > 1 else "",
                                                            ", ".join("'%s' [B, %d]" % (x["name"], _head_width(x, mj))
                                                                      for x in heads)))
                used.add(pick)
                self.heads[h["name"]] = rows[pick]
        for name, (label, t) in list(self.heads.items()):
            t = _post(post.get(name), t.detach().to(torch.float64))
            if t.dim() == 3 and _row_width(t, b) != _head_width(next(h for h in heads if h["name"] == name), mj):
                raise ForwardCheckError("forward's %s has shape %s for head '%s' of width %d"
                                        % (label, _shape(t), name, _head_width(next(h for h in heads if h["name"] == name), mj)))
            self.heads[name] = (label, t.reshape(b, -1))


def _head_width(h, mj):
    """Output width of head h: its last Linear's, or the pooled vector's for a head without one (identity)."""
    linears = [layer for layer in h["layers"] if layer["type"] == "linear"]
    return linears[-1]["out_features"] if linears else reference.graph_widths(mj)[2]


def _row_width(t, b):
    return int(t.numel() // b) if b else 0


def _worst(a, b):
    if a.shape != b.shape:
        return float("inf")
    return float((a.double() - b.double()).abs().max()) if a.numel() else 0.0


def _compare(mj, ref, pairing, lengths):
    """[(difference, where)] of the reference's outputs against forward's."""
    out = []
    for h in mj["heads"]:
        if h["name"] not in pairing.heads:
            continue
        label, t = pairing.heads[h["name"]]
        out.append((_worst(ref["heads"][h["name"]], t), "head '%s' (forward's %s)" % (h["name"], label)))
    if pairing.steps is not None and ref["step_scores"] is not None:
        label, t = pairing.steps
        err = max(_worst(s, t[i, :n]) for i, (s, n) in enumerate(zip(ref["step_scores"], lengths)))
        out.append((err, "per-step scores (forward's %s)" % label))
    return out


class _Run:
    """forward's outputs on every verification batch in one layout."""

    def __init__(self, module, binding, mj, batches, layout, post, dtype):
        self.layout, self.batches, self.pairings = layout, batches, []
        with torch.no_grad():
            for batch, lengths in batches:
                args = binding.arguments(mj, batch, layout, dtype)
                result = module(**args)
                self.pairings.append(_Pairing(mj, result, len(lengths), max(lengths), layout, post))

    def diff(self, mj, reference_outputs):
        worst = (0.0, "")
        for (batch, lengths), pairing, ref in zip(self.batches, self.pairings, reference_outputs):
            for err, where in _compare(mj, ref, pairing, lengths):
                if not err <= worst[0]:
                    worst = (err, "%s, batch of %d row%s" % (where, len(lengths), "s" if len(lengths) > 1 else ""))
        return worst


def _reference_outputs(mj, tensors, batches):
    ref = reference.GraphReference(mj, tensors)
    with torch.no_grad():
        return [ref(batch) for batch, _ in batches]


def _module_dtype(module):
    for p in list(module.parameters()) + list(module.buffers()):
        if p.is_floating_point():
            return p.dtype
    return torch.float32


def check_forward(module, mj, tensors, post_activations=None, seed=0, forward_args=None):
    """Compare module.forward with GraphReference(mj, tensors) on seeded random ragged batches. Returns a
    Verification; raises ForwardCheckError when forward cannot be called or disagrees by more than TOLERANCE."""
    post = dict(post_activations or {})
    unknown = sorted(set(post) - {h["name"] for h in mj["heads"]})
    if unknown:
        raise ForwardCheckError("--activation names no head: %s (heads: %s)"
                                % (", ".join(unknown), ", ".join(h["name"] for h in mj["heads"])))
    was_training = module.training
    module.eval()
    try:
        binding = ForwardBinding(module, mj) if forward_args is None else TemplateBinding(module, mj, forward_args)
        rng = np.random.RandomState(seed)
        batches = [(_random_batch(mj, rng, lengths), lengths)
                   for lengths in verification_batches(seed, not binding.takes_lengths)]
        reference = _reference_outputs(mj, tensors, batches)
        layouts = _layout_order(module, mj)
        best, first_error = None, None
        for layout in layouts:
            try:
                run = _Run(module, binding, mj, batches, layout, post, _module_dtype(module))
            except ForwardCheckError as e:
                first_error = first_error or str(e)
                continue
            except Exception as e:  # noqa: BLE001 - the user's forward; any failure means "not this layout"
                first_error = first_error or "%s: %s" % (type(e).__name__, " ".join(str(e).split()))
                continue
            err, where = run.diff(mj, reference)
            if best is None or err < best[0]:
                best = (err, where, run)
            if err <= TOLERANCE:
                break
        if best is None:
            raise ForwardCheckError("cannot run %s on padded inputs and lengths (%s): %s; export with --no-verify "
                                    "if forward cannot be called that way" % (binding.text, _layouts_text(layouts),
                                                                             first_error))
        err, where, run = best
        rows = sum(len(lengths) for _, lengths in batches)
        if not err <= TOLERANCE:
            raise ForwardCheckError("the exported model disagrees with %s.forward by %.3g (tolerance %g) at %s; %s"
                                    % (binding.cls, err, TOLERANCE, where, _explain(mj, tensors, batches, run)))
        return Verification(err, rows, len(batches), run.layout, not binding.takes_lengths)
    finally:
        module.train(was_training)


def _layout_order(module, mj):
    rnn = mj["rnn"]["module"]
    m = module.get_submodule(rnn) if rnn else module        # the first cell, for a stack of cells
    first = "batch_first" if getattr(m, "batch_first", True) else "time_major"
    order = [first] + [x for x in LAYOUTS if x != first]
    if all(i["kind"] == "tokens" for i in mj["inputs"]):
        order.remove("feature_major")
    if all(i["kind"] == "tokens" or i["size"] == 1 for i in mj["inputs"]) and any(
            i["kind"] == "features" for i in mj["inputs"]):
        order.append(SQUEEZED)
    return order


def _layouts_text(layouts):
    return " or ".join(x.replace("_", "-") for x in layouts)


# ---------------------------------------------------------------------------------------------- diagnosis
def _alternatives(mj, tensors):
    """(what it means, mj', tensors', embedding transform or None): single changes of the spec that a wrong spec
    is most often off by."""
    r = mj["rnn"]
    d = 2 if r["bidirectional"] else 1
    width = d * (r["proj_size"] or r["hidden_size"])
    kinds = ("last", "first", "mean", "max")
    for i, part in enumerate(mj["pooling"]):
        if isinstance(part, str):
            for other in kinds:
                if other != part:
                    alt = dict(mj, pooling=[other if j == i else p for j, p in enumerate(mj["pooling"])])
                    yield ("pooling[%d]: forward pools like '%s'; the spec says '%s'" % (i, other, part), alt, tensors,
                           None)
        if part == "last" and d == 2:
            start, half = i * width, width // 2

            def swap(e, start=start, half=half):
                e = e.clone()
                e[:, start:start + half], e[:, start + half:start + 2 * half] = (
                    e[:, start + half:start + 2 * half].clone(), e[:, start:start + half].clone())
                return e
            yield ("pooling[%d]: forward concatenates hidden[-1], hidden[-2] (backward state first); the spec's "
                   "'last' gives hidden[-2], hidden[-1] (forward state first): pool with {\"hidden\": {\"indices\": [-1, -2]}}"
                   % i, mj, tensors, swap)
    for key in ("h0", "c0"):
        name = r.get(key)
        if name is not None:
            yield ("%s: forward uses tanh(%s), not the parameter itself" % (key, name), mj,
                   dict(tensors, **{name: torch.tanh(tensors[name])}), None)
            yield ("%s: forward starts from zeros and does not use %s" % (key, name),
                   dict(mj, rnn=dict(r, **{key: None})), tensors, None)
    for i, inp in enumerate(mj["inputs"]):
        if inp.get("norm") is not None:
            yield ("inputs[%d] '%s': forward does not apply the norm %s" % (i, inp["name"], inp["norm"]["module"]),
                   dict(mj, inputs=[dict(x, norm=None) if j == i else x for j, x in enumerate(mj["inputs"])]),
                   tensors, None)
    for i, h in enumerate(mj["heads"]):
        if h["activation"] != "none":
            yield ("heads[%d] '%s': forward returns the values before the spec's %s; if your code applies %s after "
                   "forward, export with --activation %s=%s, else make the head's activation \"none\""
                   % (i, h["name"], h["activation"], h["activation"], h["name"], h["activation"]),
                   dict(mj, heads=[dict(x, activation="none") if j == i else x for j, x in enumerate(mj["heads"])]),
                   tensors, None)
        else:
            for act in ("sigmoid", "softmax"):
                yield ("heads[%d] '%s': forward applies %s after the head; the spec's activation is \"none\""
                       % (i, h["name"], act), dict(mj, heads=[dict(x, activation=act) if j == i else x
                                                              for j, x in enumerate(mj["heads"])]), tensors, None)


def _explain(mj, tensors, batches, run):
    for text, alt_mj, alt_tensors, transform in _alternatives(mj, tensors):
        try:
            outs = _reference_outputs(alt_mj, alt_tensors, batches)
        except (ValueError, KeyError, RuntimeError):
            continue
        if transform is not None:
            for o in outs:
                o["embedding"] = transform(o["embedding"])
                o["heads"] = {h["name"]: reference.head_apply(h, o["embedding"], float32_tensors(alt_tensors),
                                                          alt_mj["inputs"])
                              for h in alt_mj["heads"]}
                o["step_scores"] = None
        try:
            err, _ = run.diff(alt_mj, outs)
        except ForwardCheckError:
            continue
        if err <= TOLERANCE:
            return text
    return "no single change of the spec explains it (pooling kind or direction order, activation, norm, h0): " \
           "compare the spec with forward, or export with --no-verify if forward is not what scores"


def float32_tensors(tensors):
    return {k: v.detach().to(torch.float32) for k, v in tensors.items()}
