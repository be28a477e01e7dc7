"""Read a module's forward and write the spec it amounts to: export without a hand-written spec.

``torch.fx`` symbolic tracing fails on most published recurrent models (sizes taken from tensors, ``len``,
packing code, Python loops; see REFERENCE.md §7), so this reads ``forward`` by running it on small concrete
batches and recording what it does:

1. **Inputs.** ``forward``'s parameters become the model's inputs, named after them. A parameter whose name
   contains ``len`` takes the lengths. A parameter whose values reach an ``nn.Embedding`` (any subclass) is a
   tokens input; the others are features (``[B, T, F]``) or static vectors (``[B, S]``). Widths are found by
   running with width 1 and reading the first layer that expects another width (an RNN's ``input_size``, a
   ``Linear``'s ``in_features``, a norm's size); when one layer takes several unknown inputs at once, the user
   names their widths (``--input-size NAME=N``). The layout (batch-first, time-major, ``[B, F, T]``) is the
   first one forward runs with.
2. **Recording.** A ``TorchFunctionMode`` records every torch function and tensor method ``forward`` calls at
   the top level, with the source line; forward hooks record the leaf modules (RNNs, embeddings, linears,
   activations, norms, dropout) without their insides. Every tensor carries where it came from (which inputs,
   which parameters, the RNN's outputs).
3. **Mapping.** By class (``isinstance``), never by attribute name: the one recurrent layer; the tensors
   concatenated into its input, each traced back to its parameter through embeddings, norms and layout-only
   ops; its initial state traced to a parameter (``tanh`` of it folded); the vector its head reads, matched
   segment by segment against what each pooling kind gives on the recorded RNN outputs; the head as the chain
   of layers from that vector to forward's result, attribute modules and functional calls alike, a final
   sigmoid or softmax as the head's activation.
Whatever cannot be mapped is refused with every unmapped op and its source line at once. The spec this returns
is then exported and checked against ``forward`` on ragged batches like any other (forward_check), which has
the last word.
"""

import inspect
import sys

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence
from torch.overrides import TorchFunctionMode

from .forward_check import LAYOUTS, SQUEEZED as ONE_FEATURE  # the layouts the check against forward tries

LEAVES = (nn.RNNBase, nn.RNNCellBase, nn.Embedding, nn.Linear, nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.Tanh,
          nn.Sigmoid, nn.Softmax, nn.LogSoftmax, nn.Dropout, nn.LayerNorm, nn.BatchNorm1d, nn.Identity, nn.Flatten)
NORMS = (nn.LayerNorm, nn.BatchNorm1d)
# layers that run on every step's joined input before the RNN (a per-step nn.Linear / nn.Sequential)
STEP_LAYERS = (nn.Linear, nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.Dropout, nn.LayerNorm,
               nn.Identity)
# ops that only move values around (absorbed into the column layout, or shape bookkeeping of the batch)
LAYOUT_OPS = {"transpose", "permute", "view", "reshape", "contiguous", "to", "float", "double", "clone", "detach",
              "squeeze", "unsqueeze", "expand", "expand_as", "repeat", "flatten", "cpu", "type", "t"}
# element-wise functions a head may apply, by their recorded names
FUNCTIONAL = {"relu": {"type": "relu"}, "relu_": {"type": "relu"}, "tanh": {"type": "tanh"},
              "sigmoid": {"type": "sigmoid"}, "gelu": {"type": "gelu"}, "dropout": {"type": "dropout"}}
MAX_PROBE_RUNS = 16
# ops that take one step (or a slice) of a sequence: forward loops that step cells read their inputs this way
SLICING = {"__getitem__", "split", "unbind", "chunk", "select", "narrow"}
# products with a weight matrix: with an nn.Embedding's table as the weight, a head tied to that input
PRODUCTS = {"matmul", "mm", "linear", "__matmul__"}
ADDS = {"add", "__add__", "__radd__"}
# recorded calls that read shapes or sizes, not values: never a step of the data path
NOT_DATA = {"__get__", "size", "dim", "numel", "__len__", "__int__", "__index__", "tolist", "cpu"}


class CannotInfer(Exception):
    """forward cannot be read into seqpack's parts (one-line message)."""


def _name(func):
    return getattr(func, "__name__", None) or str(func)


def _display(func_name, qualname):
    """How a recorded function reads in a message: torch.fft.rfft, Tensor.abs, torch.cat."""
    if func_name.startswith("fft_"):
        return "torch.fft." + func_name[4:]
    if "Tensor" in (qualname or ""):
        return "Tensor." + func_name
    return "torch." + func_name


def _tensors(obj):
    """The tensors inside an argument or result (tuples, lists, dicts, PackedSequence), in order."""
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in _tensors(v)]
    if isinstance(obj, (tuple, list)):
        return [t for v in obj for t in _tensors(v)]
    return []


class Event:
    """One recorded step of forward: a leaf module call or a top-level torch function / tensor method."""

    def __init__(self, kind, name, module, args, kwargs, result, line, shown=None):
        self.kind, self.name, self.module, self.shown = kind, name, module, shown or name
        self.args, self.kwargs, self.result, self.line = args, kwargs, result, line
        self.inputs = _tensors(args) + _tensors(kwargs)
        self.outputs = _tensors(result)

    def describe(self):
        what = ("calls %s" % self.shown) if self.kind == "op" else ("calls %s (%s)" % (self.name,
                                                                                     type(self.module).__name__))
        return ("forward line %d %s" % (self.line, what)) if self.line else ("forward %s" % what)


class Width(Exception):
    """A leaf module met an input of another width than it takes (raised by the probe's pre-hooks)."""

    def __init__(self, path, expected, actual, sources):
        super().__init__("%s expects %d features, got %d" % (path, expected, actual))
        self.path, self.expected, self.actual, self.sources = path, expected, actual, sources


class Recorder(TorchFunctionMode):
    """Records forward's top-level ops and leaf module calls, and where every tensor came from."""

    def __init__(self, root, inputs, check_widths):
        super().__init__()
        self.root, self.events, self.depth, self.keep = root, [], 0, []
        self.sources = {}                 # id(tensor) -> frozenset of "in:NAME", "p:PARAM", "rnn"
        self.producer = {}                # id(tensor) -> Event
        self.params = {id(p): name for name, p in root.named_parameters()}
        self.check_widths = check_widths
        self.source_file = _source_file(type(root))
        for name, t in inputs.items():
            self._mark(t, frozenset(["in:" + name]))
        self.paths = {m: path for path, m in root.named_modules()}
        self.handles = []
        for m, path in self.paths.items():
            if isinstance(m, LEAVES):
                self.handles.append(m.register_forward_pre_hook(self._pre))
                self.handles.append(m.register_forward_hook(self._post))

    def close(self):
        for h in self.handles:
            h.remove()

    def _mark(self, t, sources):
        self.keep.append(t)                # ids stay unique while the recording lives
        self.sources[id(t)] = sources

    def source_of(self, t):
        if id(t) in self.sources:
            return self.sources[id(t)]
        if id(t) in self.params:
            return frozenset(["p:" + self.params[id(t)]])
        if t._base is not None:            # basic indexing (h_n[-1]) makes views without a recorded call
            return self.source_of(t._base)
        return frozenset()

    def _line(self):
        if self.source_file is None:
            return None
        f = sys._getframe(2)
        while f is not None:
            if f.f_code.co_filename == self.source_file:
                return f.f_lineno
            f = f.f_back
        return None

    def _record(self, event, extra=frozenset()):
        event.index = len(self.events)
        sources = frozenset().union(extra, *[self.source_of(t) for t in event.inputs])
        for t in event.outputs:
            if id(t) not in self.sources:
                self._mark(t, sources)
                self.producer[id(t)] = event
        self.events.append(event)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        if self.depth == 0:
            name = _name(func)
            self._record(Event("op", name, None, args, kwargs, result, self._line(),
                               _display(name, getattr(func, "__qualname__", ""))))
        return result

    def _pre(self, module, args):
        if self.depth == 0 and self.check_widths:
            _check_width(self.paths[module], module, args, self)
        self.depth += 1

    def _post(self, module, args, result):
        self.depth -= 1
        if self.depth == 0:
            extra = frozenset(["rnn"]) if isinstance(module, (nn.RNNBase, nn.RNNCellBase)) else frozenset()
            self._record(Event("module", self.paths[module], module, args, {}, result, self._line()), extra)


def _source_file(cls):
    try:
        return inspect.getsourcefile(cls)
    except TypeError:
        return None


def _check_width(path, m, args, rec):
    """Raise Width when a width-taking leaf gets another width (the probe then solves an input's width)."""
    if not args or not isinstance(args[0], (torch.Tensor, PackedSequence)):
        return
    x = args[0].data if isinstance(args[0], PackedSequence) else args[0]
    if isinstance(m, (nn.RNNBase, nn.RNNCellBase)):
        want, got = m.input_size, x.shape[-1]
    elif isinstance(m, nn.Linear):
        want, got = m.in_features, x.shape[-1]
    elif isinstance(m, nn.LayerNorm):
        want, got = m.normalized_shape[-1], x.shape[-1]
    elif isinstance(m, nn.BatchNorm1d):
        want, got = m.num_features, (x.shape[1] if x.dim() >= 2 else x.shape[0])
    else:
        return
    if want != got:
        raise Width(path, want, got, rec.source_of(x))


# --------------------------------------------------------------------------------------------- the inputs
class Inputs:
    """How forward takes its inputs: per parameter a role ("lengths", "tokens", "features", "static"), widths,
    the layout of step inputs, and a way to build them for a batch of given lengths."""

    def __init__(self, params, roles, sizes, layout, vocab, dtype=torch.float32):
        self.params, self.roles, self.sizes, self.layout, self.vocab = params, roles, sizes, layout, vocab
        self.dtype = dtype                        # the module's float type: float64 models get float64 steps

    def build(self, lengths, rng):
        b, steps = len(lengths), max(lengths)
        mask = torch.arange(steps).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
        out = {}
        for p in self.params:
            role = self.roles[p]
            if role == "lengths":
                out[p] = torch.tensor(lengths, dtype=torch.int64)
            elif role == "tokens":
                x = torch.from_numpy(rng.randint(0, self.vocab[p], size=(b, steps)).astype(np.int64)) * mask
                out[p] = x.t().contiguous() if self.layout == "time_major" else x
            elif role == "static":
                out[p] = torch.from_numpy(rng.standard_normal((b, self.sizes[p]))).to(self.dtype)
            else:
                x = torch.from_numpy(rng.standard_normal((b, steps, self.sizes[p]))).to(self.dtype)
                x = x * mask.unsqueeze(-1)
                if self.layout == ONE_FEATURE:
                    x = x.squeeze(-1)
                elif self.layout == "time_major":
                    x = x.transpose(0, 1).contiguous()
                elif self.layout == "feature_major":
                    x = x.transpose(1, 2).contiguous()
                out[p] = x
        return out


def _run(module, inputs, values, check_widths):
    rec = Recorder(module, values, check_widths)
    try:
        with torch.no_grad(), rec:
            result = module(**values)
    finally:
        rec.close()
    return rec, result


PROBE_LENGTHS = [4, 2, 3]          # batch 3, longest 4: [B, ...] and [T, ...] cannot be confused


def probe_inputs(module, input_sizes=None):
    """Inputs of module.forward: roles, widths and layout (see the module docstring). Raises CannotInfer."""
    cls = type(module).__name__
    sig = inspect.signature(module.forward)
    params = [p.name for p in sig.parameters.values()
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.default is p.empty]
    if not params:
        raise CannotInfer("%s.forward takes no inputs" % cls)
    embeddings = [m for m in module.modules() if isinstance(m, nn.Embedding)]
    dtype = next((p.dtype for p in module.parameters() if p.is_floating_point()), torch.float32)
    roles = {p: ("lengths" if "len" in p.lower() else None) for p in params}
    if list(roles.values()).count("lengths") > 1:
        first = next(p for p in params if roles[p] == "lengths")
        roles = {p: (r if p == first or r != "lengths" else None) for p, r in roles.items()}
    unknown = [p for p in params if roles[p] is None]
    if not unknown:
        raise CannotInfer("%s.forward(%s) has no input besides the lengths" % (cls, ", ".join(params)))
    vocab = {}
    # tokens: what reaches an embedding when every unknown parameter is given as token ids
    if embeddings:
        min_vocab = min(m.num_embeddings for m in embeddings)
        trial = Inputs(params, dict(roles, **{p: "tokens" for p in unknown}), {}, "batch_first",
                       {p: min_vocab for p in unknown})
        for layout in _layouts(module):
            trial.layout = layout
            values = trial.build(PROBE_LENGTHS, np.random.RandomState(0))
            rec = Recorder(module, values, False)
            try:
                with torch.no_grad(), rec:
                    module(**values)
            except Exception:  # noqa: BLE001 - features given as ids fail somewhere after the embeddings
                pass
            finally:
                rec.close()
            reached = {}
            for e in rec.events:
                if e.kind == "module" and isinstance(e.module, nn.Embedding) and e.inputs:
                    for s in rec.source_of(e.inputs[0]):
                        if s.startswith("in:"):
                            reached.setdefault(s[3:], []).append(e.module.num_embeddings)
            if reached:
                for p, sizes in reached.items():
                    roles[p], vocab[p] = "tokens", min(sizes)
                break
    sizes = {p: 1 for p in params if roles[p] is None}
    given = dict(input_sizes or {})
    for p, n in given.items():
        if p not in sizes:
            raise CannotInfer("--input-size %s: forward has no features or static parameter %s (its inputs: %s)"
                              % (p, p, ", ".join(params)))
        sizes[p] = n
    last_error, ambiguous, open_names = None, None, list(sizes)
    statics = [()] + [(p,) for p in open_names] + [(p, q) for i, p in enumerate(open_names)
                                                       for q in open_names[i + 1:]]
    for static in statics:                # which parameters are [B, S] vectors rather than [B, T, F] steps
        for layout in _layouts(module):   # every layout before taking a step input for a static vector
            kinds = {p: ("static" if p in static else "features") for p in open_names}
            widths = {p: given.get(p, 1) for p in open_names}
            fixed = set(given)
            for _ in range(MAX_PROBE_RUNS):
                inputs = Inputs(params, dict(roles, **kinds), widths, layout, vocab, dtype)
                values = inputs.build(PROBE_LENGTHS, np.random.RandomState(0))
                try:
                    _run(module, inputs, values, True)
                    return inputs
                except Width as w:
                    unsolved = sorted(s[3:] for s in w.sources
                                      if s.startswith("in:") and s[3:] in widths and s[3:] not in fixed)
                    if len(unsolved) == 1:
                        widths[unsolved[0]] = max(1, widths[unsolved[0]] + w.expected - w.actual)
                        fixed.add(unsolved[0])
                        continue
                    if len(unsolved) > 1:
                        ambiguous = ambiguous or CannotInfer("cannot tell the widths of %s: %s takes them together (%d features in "
                                          "all); name them with --input-size %s" % (
                                              ", ".join(unsolved), w.path, w.expected - w.actual + len(unsolved),
                                              ",".join("%s=N" % p for p in unsolved)))
                        break
                    last_error = str(w)
                    break
                except Exception as e:  # noqa: BLE001 - the user's forward: try static vectors, another layout
                    last_error = "%s: %s" % (type(e).__name__, " ".join(str(e).split()))
                    break
    if ambiguous is not None:
        raise ambiguous
    raise CannotInfer("cannot run %s.forward(%s) on padded inputs and lengths in any layout (batch-first, "
                      "time-major, [B, F, T]): %s" % (cls, ", ".join(params), last_error))




def _layouts(module):
    rnns = [m for m in module.modules() if isinstance(m, nn.RNNBase)]
    first = "time_major" if rnns and not rnns[0].batch_first else "batch_first"
    return [first] + [x for x in LAYOUTS + (ONE_FEATURE,) if x != first]


# --------------------------------------------------------------------------------------------- the mapping
RECORD_LENGTHS = [7, 3, 5, 1, 6]


def infer_spec(module, input_sizes=None, post_activations=None):
    """The spec forward amounts to (a dict for export.build_graph). Raises CannotInfer with every unmapped op."""
    was_training = module.training
    module.eval()
    try:
        inputs = probe_inputs(module, input_sizes)
        # without a lengths parameter forward sees only full rows: record rows of one length
        lengths = RECORD_LENGTHS if "lengths" in inputs.roles.values() else [max(RECORD_LENGTHS)] * len(RECORD_LENGTHS)
        values = inputs.build(lengths, np.random.RandomState(1))
        rec, result = _run(module, inputs, values, False)
        return _Mapper(module, inputs, values, rec, result, post_activations or {}, lengths).spec()
    finally:
        module.train(was_training)


class _CellLoop:
    """Cells forward steps over the sequence in Python, seen as one recurrent stack: the cells called in the first
    step, in order, are the layers; the same order must repeat at every step."""

    def __init__(self, calls):
        stack = []
        for e in calls:
            if e.name in stack:
                break
            stack.append(e.name)
        if len(calls) % len(stack) or any(calls[i].name != stack[i % len(stack)] for i in range(len(calls))):
            raise CannotInfer("%s: forward calls its cells %s in an order that changes between steps; seqpack "
                              "runs a fixed stack" % (calls[0].describe(), ", ".join(stack)))
        self.calls, self.stack, self.steps = calls, stack, len(calls) // len(stack)
        self.name, self.module = stack if len(stack) > 1 else stack[0], calls[0].module
        self.args = calls[0].args                 # the first step's input and initial state of the first cell
        self.index = calls[-1].index

    @staticmethod
    def _h(result):
        return result[0] if isinstance(result, tuple) else result

    def outputs(self):
        """(padded [B, T, H]: the last cell's output at every step, h_n [layers, B, H]: every cell's last)."""
        layers = len(self.stack)
        padded = torch.stack([self._h(self.calls[t * layers + layers - 1].result) for t in range(self.steps)], 1)
        h_n = torch.stack([self._h(self.calls[(self.steps - 1) * layers + k].result) for k in range(layers)])
        return padded, h_n

    def initial_states(self):
        """The initial states each cell is first called with (None: zeros by default)."""
        return [self.calls[k].args[1] if len(self.calls[k].args) > 1 else None for k in range(len(self.stack))]


class _Mapper:
    def __init__(self, module, inputs, values, rec, result, post, lengths):
        self.module, self.inputs, self.values, self.rec, self.result = module, inputs, values, rec, result
        self.lengths = lengths
        self.per_step = False
        self.post = post
        self.cls = type(module).__name__
        self.problems = []

    def fail_with_problems(self, lead):
        seen, lines = set(), []
        for p in self.problems:
            if p not in seen:
                seen.add(p)
                lines.append(p)
        raise CannotInfer("%s: %s" % (lead, "; ".join(lines)) if lines else lead)

    # ---- the recurrent layer
    def rnn_event(self):
        calls = [e for e in self.rec.events if e.kind == "module" and isinstance(e.module, (nn.RNNBase,
                                                                                          nn.RNNCellBase))]
        cells = [e for e in calls if isinstance(e.module, nn.RNNCellBase)]
        if cells:
            if len(cells) != len(calls):
                raise CannotInfer("%s.forward calls cells and recurrent layers; seqpack runs one stack" % self.cls)
            return _CellLoop(cells)
        layers = sorted({e.name for e in calls})
        if not layers:
            raise CannotInfer("%s.forward calls no nn.RNN, nn.LSTM or nn.GRU" % self.cls)
        if len(layers) > 1:
            raise CannotInfer("%s.forward calls %d recurrent layers (%s); seqpack runs one"
                              % (self.cls, len(layers), ", ".join(layers)))
        if len(calls) > 1:
            raise CannotInfer("%s calls %s %d times; seqpack runs it once over the sequence"
                              % (calls[1].describe(), layers[0], len(calls)))
        return calls[0]

    def back(self, t):
        """The event that produced t (None for forward's inputs and parameters)."""
        return self.rec.producer.get(id(t))

    def trace_input(self, t):
        """(role entry) for one part of the RNN's input: walk back through layout ops and norms to a parameter
        of forward, through an embedding for tokens."""
        norm = None
        while True:
            for p, v in self.values.items():
                if v is t:
                    return p, None, norm
            e = self.back(t)
            if e is None and t._base is not None:
                t = t._base
                continue
            if e is None:
                return None, None, norm
            if e.kind == "module" and isinstance(e.module, nn.Embedding):
                src = [s[3:] for s in self.rec.source_of(e.inputs[0]) if s.startswith("in:")]
                return (src[0] if len(src) == 1 else None), e.name, norm
            if e.kind == "module" and isinstance(e.module, NORMS):
                if norm is not None:
                    self.problems.append("%s: a second norm on one input" % e.describe())
                norm = e.name
                t = e.inputs[0]
                continue
            if e.kind == "op" and e.name in LAYOUT_OPS | SLICING and e.inputs:
                t = e.inputs[0]
                continue
            self.problems.append("%s on an input before the %s" % (e.describe(), "RNN"))
            return None, None, norm

    def step_inputs(self, rnn):
        x = rnn.args[0]
        data = x.data if isinstance(x, PackedSequence) else x
        e = self.back(data)
        if e is not None and e.kind == "op" and e.name == "_pack_padded_sequence":
            data = e.inputs[0]
            e = self.back(data)
            if e is not None and e.kind == "op" and e.name == "index_select":   # enforce_sorted=False's sort
                data = e.inputs[0]
                e = self.back(data)
        self.step_layers = []      # per-step layers between the joined inputs and the RNN, outermost last
        while e is not None and (e.kind == "module" and isinstance(e.module, STEP_LAYERS) or (
                e.kind == "op" and e.name in set(FUNCTIONAL) | LAYOUT_OPS)) and e.inputs and e.inputs[0].dim() == 3:
            if e.kind == "module":
                self.step_layers.insert(0, e.name)
            elif e.name in FUNCTIONAL:
                self.step_layers.insert(0, dict(FUNCTIONAL[e.name]))
            data = e.inputs[0]
            e = self.back(data)
        parts = e.args[0] if (e is not None and e.kind == "op" and e.name == "cat") else [data]
        entries, statics = [], []
        for part in parts:
            param, emb, norm = self.trace_input(part)
            if param is None:
                self.problems.append("cannot trace a %d-feature part of %s's input to a forward parameter"
                                     % (part.shape[-1], rnn.name))
                continue
            role = self.inputs.roles[param]
            if role == "tokens" and emb is not None:
                entries.append({"name": param, "kind": "tokens", "embedding": emb})
            elif role == "static":
                statics.append({"name": param, "size": self.inputs.sizes[param], "join": "every_step"})
            else:
                entry = {"name": param, "kind": "features", "size": self.inputs.sizes[param]}
                if norm is not None:
                    entry["norm"] = norm
                entries.append(entry)
            if statics and role != "static":
                self.problems.append("%s joins static input %s before step input %s; seqpack puts every-step "
                                     "static inputs after the step inputs" % (rnn.name, statics[0]["name"], param))
        return entries, statics

    def initial_state(self, rnn):
        if isinstance(rnn, _CellLoop):           # zeros only: a learned state per cell is not folded yet
            for k, hx in enumerate(rnn.initial_states()):
                for h in (list(hx) if isinstance(hx, (tuple, list)) else [hx] if hx is not None else []):
                    if float(h.abs().max()) != 0.0:
                        self.problems.append("cell %s starts from a state other than zeros" % rnn.stack[k])
            return {}
        hx = rnn.args[1] if len(rnn.args) > 1 else None
        if hx is None:
            return {}
        states = list(hx) if isinstance(hx, (tuple, list)) else [hx]
        out = {}
        for key, h in zip(("h0", "c0"), states):
            sources = self.rec.source_of(h)
            if any(s.startswith("in:") or s == "rnn" for s in sources):
                self.problems.append("%s's initial %s depends on forward's inputs" % (rnn.name, key))
                continue
            params = [s[2:] for s in sources if s.startswith("p:")]
            if not params:
                if float(h.abs().max()) != 0.0:
                    self.problems.append("%s's initial %s is a constant other than zeros" % (rnn.name, key))
                continue
            if len(params) > 1:
                self.problems.append("%s's initial %s mixes parameters %s" % (rnn.name, key, ", ".join(params)))
                continue
            p = dict(self.module.named_parameters())[params[0]]
            first = h[:, :1, :] if h.dim() == 3 else h
            value = p.detach().reshape(first.shape) if p.numel() == first.numel() else None
            if value is not None and torch.allclose(first, value, atol=1e-7):
                out[key] = params[0]
            elif value is not None and torch.allclose(first, torch.tanh(value), atol=1e-7):
                out[key] = "tanh(%s)" % params[0]
            else:
                self.problems.append("%s's initial %s is computed from parameter %s in a way seqpack cannot "
                                     "fold (it folds the parameter itself or tanh of it)" % (rnn.name, key, params[0]))
        return out

    # ---- pooling
    def rnn_outputs(self, rnn):
        if isinstance(rnn, _CellLoop):
            padded, h_n = rnn.outputs()
            return padded, h_n, torch.tensor(self.lengths, dtype=torch.int64)
        result = rnn.result
        out, hidden = result[0], result[1]
        h_n = hidden[0] if isinstance(hidden, tuple) else hidden
        lengths = torch.tensor(self.lengths, dtype=torch.int64)
        if isinstance(out, PackedSequence):
            padded, _ = pad_packed_sequence(out, batch_first=True)
        else:
            padded = out if rnn.module.batch_first else out.transpose(0, 1)
        return padded, h_n, lengths

    def pooled_vector(self):
        """(tensor, its first consumer events): the [B, W] vector the head reads: the input of the first leaf
        module after the RNN that takes one row per sequence, walked back through element-wise functions."""
        b = len(RECORD_LENGTHS)
        for e in self.rec.events:
            tied = e.kind == "op" and e.name in PRODUCTS and self.tied_table(e) is not None
            if not tied and (e.kind != "module" or isinstance(e.module, (nn.RNNBase, nn.RNNCellBase, nn.Embedding))
                             or not e.inputs):
                continue
            x = e.inputs[0]
            if "rnn" not in self.rec.source_of(x) or x.dim() != 2 or x.shape[0] != b:
                continue
            while True:
                p = self.back(x)
                if p is not None and p.kind == "op" and p.name in FUNCTIONAL and p.inputs and p.inputs[0].dim() == 2:
                    x = p.inputs[0]
                    continue
                break
            return x
        raise CannotInfer("%s.forward's result reads no [B, W] vector of the RNN's outputs through a layer seqpack "
                          "knows (Linear, an activation, a norm)" % self.cls)

    def pooling(self, rnn, pooled, statics):
        padded, h_n, lengths = self.rnn_outputs(rnn)
        m = rnn.module
        d = 2 if getattr(m, "bidirectional", False) else 1
        mask = (torch.arange(padded.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(-1)
        rows = [padded[i, :n] for i, n in enumerate(lengths.tolist())]
        candidates = [("last", torch.cat((h_n[-2], h_n[-1]), 1) if d == 2 else h_n[-1]),
                      ("first", padded[:, 0, :]),
                      ("mean", torch.stack([r.mean(0) for r in rows])),
                      ("max", torch.stack([r.max(0).values for r in rows]))]
        states = h_n.shape[0]
        queries = [[-1]] if d == 1 else [[-2, -1], [-1, -2]]
        for k in range(states):                  # one final state; consecutive ones become one "hidden" part
            candidates.append((("hidden", k - states), h_n[k]))
        for q in queries:                        # e_t = o_t · q, softmax over valid steps
            query = torch.cat([h_n[i] for i in q], dim=1)
            e = torch.bmm(padded, query.unsqueeze(2)).squeeze(2).masked_fill(~mask.squeeze(-1), float("-inf"))
            w = torch.softmax(e, dim=1)
            candidates.append(({"dot_attention": {"query": q}}, (w.unsqueeze(-1) * padded).sum(1)))
        for att in self.attention_candidates(padded, mask, h_n, queries):
            candidates.append(att)
        for name, p in self.module.named_parameters():   # a learned query vector: e_t = o_t · q
            if p.numel() == padded.shape[2] and max(p.shape) == p.numel():
                e = (padded @ p.detach().reshape(-1)).masked_fill(~mask.squeeze(-1), float("-inf"))
                w = torch.softmax(e, dim=1)
                candidates.append(({"query_attention": {"query": name}}, (w.unsqueeze(-1) * padded).sum(1)))
        # the mean of each row's last k valid steps; k below the longest row (above it, it is the mean)
        for k in range(2, max(lengths.tolist())):
            candidates.append(({"last_k_mean": {"k": k}}, torch.stack([r[-k:].mean(0) for r in rows])))
        after = [(s, self.values[s]) for s, role in self.inputs.roles.items() if role == "static"]
        parts, statics_after, offset, w = [], [], 0, pooled.shape[1]
        while offset < w:
            for name, c in candidates + [("static:" + s, v) for s, v in after]:
                width = c.shape[1]
                if offset + width <= w and torch.allclose(pooled[:, offset:offset + width], c, atol=1e-5):
                    if isinstance(name, str) and name.startswith("static:"):
                        statics_after.append({"name": name[7:], "size": width, "join": "after_pooling"})
                    elif statics_after:
                        self.problems.append("the pooled vector puts static input %s before a pooling part; "
                                             "seqpack puts them after" % statics_after[0]["name"])
                    elif isinstance(name, tuple):        # ("hidden", k): joins a "hidden" part just before it
                        if parts and isinstance(parts[-1], dict) and "hidden" in parts[-1]:
                            parts[-1]["hidden"]["indices"].append(name[1])
                        else:
                            parts.append({"hidden": {"indices": [name[1]]}})
                    else:
                        parts.append(name)
                    offset += width
                    break
            else:
                unmapped = self.unmapped_ops_after_rnn()
                self.problems.extend(unmapped or ["columns %d..%d of the vector the head reads match "
                                                  "no pooling seqpack knows (last, first, mean, max, last_k_mean, "
                                                  "attention)"
                                                  % (offset, w - 1)])
                break
        return self.merge_final_states(parts, d), statics_after

    @staticmethod
    def merge_final_states(parts, d):
        """Next to a "hidden" part, "last" reads as its final states, and neighbouring "hidden" parts as one:
        [{"hidden": [-4, -3]}, "last"] is {"hidden": [-4, -3, -2, -1]}, every layer's h_n."""
        if not any(isinstance(p, dict) and "hidden" in p for p in parts):
            return parts
        out = []
        for p in parts:
            if p == "last":
                p = {"hidden": {"indices": [-2, -1] if d == 2 else [-1]}}
            if out and isinstance(p, dict) and "hidden" in p and isinstance(out[-1], dict) and "hidden" in out[-1]:
                out[-1]["hidden"]["indices"].extend(p["hidden"]["indices"])
            else:
                out.append(p)
        return out

    def attention_candidates(self, padded, mask, h_n, queries):
        """Additive attention v·tanh(W x_t + b) of a (proj, context) Linear pair forward applies to the RNN
        output (x_t = o_t), or to the output concatenated with a final state (x_t = cat(o_t, q)), softmax over
        the valid steps."""
        out = []
        width = padded.shape[2]
        events = [e for e in self.rec.events if e.kind == "module" and isinstance(e.module, nn.Linear)]
        for e in events:
            x = e.inputs[0]
            if x.dim() != 3 or "rnn" not in self.rec.source_of(x) or e.module.bias is None:
                continue
            options = [None] if e.module.in_features == width else [
                q for q in queries + [[-1]] if width + len(q) * h_n.shape[2] == e.module.in_features]
            for c in events:
                cm = c.module
                if not (cm.out_features == 1 and cm.bias is None and cm.in_features == e.module.out_features):
                    continue
                for q in options:
                    xs = padded if q is None else torch.cat(
                        [padded, torch.cat([h_n[i] for i in q], 1).unsqueeze(1).expand(-1, padded.shape[1], -1)], 2)
                    scores = cm(torch.tanh(e.module(xs))).squeeze(-1).masked_fill(~mask.squeeze(-1), float("-inf"))
                    w = torch.softmax(scores, dim=1)
                    att = {"proj": e.name, "context": c.name}
                    if q is not None:
                        att["query"] = q
                    out.append(({"attention": att}, (w.unsqueeze(-1) * padded).sum(1)))
        return out

    def unmapped_ops_after_rnn(self):
        known = LAYOUT_OPS | set(FUNCTIONAL) | {"__getitem__", "cat", "stack", "sum", "mean", "max", "div", "truediv",
                                                "__truediv__", "masked_fill", "softmax", "bmm", "mul", "__mul__",
                                                "arange", "lt", "__lt__", "size", "dim", "__get__", "_pad_packed_sequence",
                                                "pad_packed_sequence", "index_select", "__len__", "tolist", "numel",
                                                "__int__", "__index__", "unbind", "split", "chunk", "select", "narrow"}
        out = []
        for e in self.rec.events:
            if e.kind == "op" and e.name not in known and "rnn" in frozenset().union(
                    *[self.rec.source_of(t) for t in e.inputs]):
                out.append("%s on the %s output" % (e.describe(), "RNN"))
        return out

    # ---- heads
    def heads(self, pooled):
        consumers = [e for e in self.consumers_of(pooled)      # not the next step of the cells' own loop
                     if not (e.kind == "module" and isinstance(e.module, (nn.RNNBase, nn.RNNCellBase)))]
        outputs = self.output_names()
        heads = []
        for start in consumers:
            layers, act, t, e, tied = [], None, pooled, start, {}
            while e is not None:
                if e.kind == "op" and e.name in PRODUCTS and self.tied_table(e) is not None and not tied:
                    tied = {"module": list(layers), "tied_to": self.tied_table(e)}
                    layers = []
                elif tied and e.kind == "op" and e.name in ADDS and "bias" not in tied and not layers \
                        and self.bias_of(e) is not None:
                    tied["bias"] = self.bias_of(e)
                elif e.kind == "module":
                    m = e.module
                    if isinstance(m, (nn.Softmax, nn.LogSoftmax)) or (isinstance(m, nn.Sigmoid) and self.is_last(e)):
                        act = self.activation_of(e)
                    elif isinstance(m, nn.Flatten):
                        pass
                    else:
                        layers.append(e.name)
                elif e.name in ("sigmoid", "softmax", "log_softmax") and self.is_last(e):
                    act = self.activation_of(e)
                elif e.name in FUNCTIONAL:
                    layers.append(dict(FUNCTIONAL[e.name]))
                elif e.name == "leaky_relu":
                    slope = e.args[1] if len(e.args) > 1 else e.kwargs.get("negative_slope", 0.01)
                    layers.append({"type": "leaky_relu", "negative_slope": float(slope)})
                elif e.name == "elu":
                    layers.append({"type": "elu", "alpha": float(e.args[1] if len(e.args) > 1 else
                                                                 e.kwargs.get("alpha", 1.0))})
                elif self.per_step and e.name in ("cat", "stack"):   # the steps' scores joined into forward's result
                    t = e.outputs[0]
                    break
                elif e.name not in LAYOUT_OPS | {"__getitem__"}:
                    self.problems.append("%s in the head" % e.describe())
                    break
                t = e.outputs[0] if e.outputs else None
                if t is None or id(t) in outputs:
                    break
                nxt = self.consumers_of(t, e.index)
                e = nxt[0] if nxt else None
            if t is None or id(t) not in outputs:
                continue
            if tied:
                if layers:
                    self.problems.append("forward applies %s after the tied product h · %s.weightᵀ; seqpack ends a "
                                         "tied head with it" % (layers[0], tied["tied_to"]))
                head = {"name": outputs[id(t)]}
                if tied["module"]:
                    head["module"] = tied.pop("module")
                else:
                    tied.pop("module")
                head.update(tied)
                head["activation"] = act or "none"
                heads.append(head)
                continue
            heads.append({"name": outputs[id(t)], "module": layers, "activation": act or "none"})
        if not heads:
            self.fail_with_problems("cannot find the head from the pooled vector to forward's result")
        if len(heads) == 1 and heads[0]["name"] == "output":
            heads[0]["name"] = "score"
        post = dict(self.post)
        if None in post:                         # --activation ACT: the only head's
            if len(heads) == 1:
                post[heads[0]["name"]] = post.pop(None)
            else:
                self.problems.append("--activation %s: forward returns %d heads (%s); say which, as HEAD=%s" % (
                    post[None], len(heads), ", ".join(h["name"] for h in heads), post[None]))
        for h in heads:
            if h["name"] in post:
                if h["activation"] != "none":
                    self.problems.append("--activation %s=%s: forward already applies %s" % (
                        h["name"], post[h["name"]], h["activation"]))
                h["activation"] = post[h["name"]]
            if "module" in h:
                h["module"] = self.collapse(h["module"])
        return heads

    def collapse(self, layers):
        """A layer list that is exactly one nn.Sequential's layers (or one module) reads as that path."""
        if len(layers) == 1:
            return layers[0]
        if all(isinstance(x, str) for x in layers):
            parent = layers[0].rpartition(".")[0]
            m = self.module.get_submodule(parent) if parent else None
            if isinstance(m, nn.Sequential):
                leaves = [parent + "." + n for n, c in m.named_modules() if n and not isinstance(c, nn.Sequential)]
                if leaves == layers:
                    return parent
        return layers

    def activation_of(self, e):
        if isinstance(e.module, nn.Softmax) or e.name == "softmax":
            return "softmax"
        if isinstance(e.module, nn.LogSoftmax) or e.name == "log_softmax":
            return "log_softmax"
        return "sigmoid"

    def is_last(self, e):
        """Whether nothing but layout ops follow e on the way to forward's result."""
        t = e.outputs[0] if e.outputs else None
        outputs = self.output_names()
        at = e.index
        while t is not None and id(t) not in outputs:
            nxt = self.consumers_of(t, at)
            if not nxt or nxt[0].kind != "op" or nxt[0].name not in LAYOUT_OPS | {"__getitem__"}:
                return False
            at = nxt[0].index
            t = nxt[0].outputs[0] if nxt[0].outputs else None
        return t is not None

    def tied_table(self, e):
        """The path of the nn.Embedding whose table is the weight of product e (h · Eᵀ), else None."""
        if len(e.inputs) < 2:
            return None
        params = [s[2:] for s in self.rec.source_of(e.inputs[1]) if s.startswith("p:")]
        if len(params) != 1 or not params[0].endswith(".weight") or any(
                not s.startswith("p:") for s in self.rec.source_of(e.inputs[1])):
            return None
        path = params[0][:-len(".weight")]
        return path if isinstance(self.module.get_submodule(path), nn.Embedding) else None

    def bias_of(self, e):
        """The parameter (or the one-parameter module holding it) that add e puts on the scores, else None."""
        params = [s[2:] for t in e.inputs[1:] for s in self.rec.source_of(t) if s.startswith("p:")]
        if len(params) != 1:
            return None
        owner = params[0].rpartition(".")[0]
        m = self.module.get_submodule(owner) if owner else None
        return owner if m is not None and len(list(m.parameters())) == 1 else params[0]

    def consumers_of(self, t, after=-1):
        """The events that read t, after event index `after` (an op may hand back its input: x.contiguous())."""
        return [e for e in self.rec.events[after + 1:] if e.name not in NOT_DATA and any(x is t for x in e.inputs)]

    def output_names(self):
        names = {}
        if isinstance(self.result, torch.Tensor):
            names[id(self.result)] = "output"
        elif isinstance(self.result, dict):
            for k, v in self.result.items():
                if isinstance(v, torch.Tensor):
                    names[id(v)] = str(k)
        elif isinstance(self.result, (tuple, list)):
            for i, v in enumerate(self.result):
                if isinstance(v, torch.Tensor):
                    names[id(v)] = "output_%d" % i
        return names

    def branches_on_values(self):
        lengths = {"in:" + p for p, r in self.inputs.roles.items() if r == "lengths"}
        for e in self.rec.events:
            if e.kind == "op" and e.name in ("__bool__", "item", "__float__"):
                data = [s for t in e.inputs for s in self.rec.source_of(t)
                        if (s.startswith("in:") and s not in lengths) or s == "rnn"]
                if data:
                    self.problems.append("%s: forward branches on tensor values (Python control flow on data: "
                                         "the recorded path holds only for these values)" % e.describe())

    def spec(self):
        self.branches_on_values()
        rnn = self.rnn_event()
        inputs, every_step = self.step_inputs(rnn)
        init = self.initial_state(rnn)
        pooled = self.pooled_vector()
        producer = self.back(pooled)
        # a head that forward applies inside its loop over the cells, at every step: per-step scores
        self.per_step = isinstance(rnn, _CellLoop) and producer in rnn.calls[:-len(rnn.stack)]
        pooling, after = (["last"], []) if self.per_step else self.pooling(rnn, pooled, every_step)
        heads = self.heads(pooled)
        if self.problems:
            self.fail_with_problems("cannot export %s" % self.cls)
        spec = {"inputs": inputs}
        if every_step or after:
            spec["static"] = every_step + after
        if self.step_layers:
            spec["step_layers"] = self.collapse(self.step_layers)
        spec["rnn"] = rnn.name
        spec.update(init)
        spec["pooling"] = pooling
        spec["heads"] = heads
        return spec
