"""Export a PyTorch model to a seqpack model directory: model.json + model.safetensors.

Usage (run from the repository root with Debian's python3-torch):

    # a state_dict saved with torch.save(model.state_dict(), "FILE.pt") from a SeqpackModel-shaped module
    # (keys embedding.weight, rnn.weight_ih_l0, ..., fc.weight, fc.bias) plus its model.json:
    /usr/bin/python3 scripts/export_pytorch.py --state-dict FILE.pt --config model.json --out DIR [--dtype F32]

    # the tutorial-shaped model (tokens vocab 11 / embedding 100 / RNN tanh 256 / fc 256->1), torch.manual_seed(0):
    /usr/bin/python3 scripts/export_pytorch.py --demo-tutorial --out DIR

    # seqpack-model/2: YOUR OWN nn.Module class, its state_dict and a SPEC naming its submodules:
    /usr/bin/python3 scripts/export_pytorch.py --module FILE.py:CLASS [--init-args JSON] --state-dict FILE.pt \
        --spec SPEC.json --out DIR [--dtype F32|F16|BF16|F64] [--activation [HEAD=]ACT] [--no-verify]

SPEC.json (module paths as in named_modules(); `embs.1` is index 1 of a ModuleList/Sequential):

    {"inputs": [{"name": "event", "kind": "tokens", "embedding": "emb_event"},
                {"name": "amount", "kind": "features", "size": 2, "norm": "amount_bn"}],   # norm: BatchNorm1d|LayerNorm
     "static": [{"name": "profile", "size": 3, "join": "after_pooling"}],                # or "every_step"
     "rnn": "encoder", "h0": null, "c0": null,
     "pooling": ["last", {"attention": {"proj": "attn.proj", "context": "attn.v"}}],     # last|first|mean|max|{"last_k_mean": {"k": 5}}
     "heads": [{"name": "fraud", "module": "head", "activation": "sigmoid"}]}            # none|sigmoid|softmax

Optional: static [], h0/c0 null, pooling ["last"], activation "none", norm null, join "after_pooling". Sizes,
eps, modes, shapes are read from the modules. Anything that cannot be exported exactly is refused with one line
`export_pytorch: error: <message>` on stderr and exit status 2 (ExportError in the API). Every --module export is checked
against the module's own forward on seeded random ragged batches (forward_check.py): when the written files
disagree with it by more than 1e-5 nothing is written and the error names the part of the spec that would agree
(--verify is accepted and is what every export does; --no-verify skips the check and marks the model as not
verified; --activation names a sigmoid/softmax/log_softmax the caller applies after forward). The model.json
format is described in golden/FORMAT.md.

As a library:

    from export_pytorch import export_model
    export_model(model_or_state_dict, config, "out_dir", dtype="F32")   # dtype: F32, F64, F16, BF16
    from export_pytorch import export_module, ExportError
    model_json = export_module(my_module, spec_dict, "out_dir", dtype="F32")    # seqpack-model/2

The safetensors file is written by a small writer in this file (no `safetensors` package needed):
8-byte little-endian u64 header length N, a UTF-8 JSON header
{"__metadata__": {"format": "pt"}, "<name>": {"dtype", "shape", "data_offsets": [begin, end]}, ...}
padded with spaces so 8+N is a multiple of 8, then the little-endian row-major tensor bytes, contiguous,
offsets relative to the start of the data area and covering it exactly. Tensors are laid out sorted by name.
"""

import argparse
import inspect
import json
import os
import shutil
import struct
import sys
import tempfile
import warnings

import numpy as np
import torch

from . import forward_check, infer, reference
from .safetensors import DTYPES, read_model_dir, read_safetensors, round_to_dtype, write_safetensors  # noqa: F401

def export_model(model_or_state_dict, config, out_dir, dtype="F32"):
    """Write out_dir/model.json (config, pretty JSON) and out_dir/model.safetensors (the state_dict as dtype).

    The state_dict is checked against the config (it must load strictly into SeqpackModel(config))."""
    reference.validate_config(config)
    state = model_or_state_dict.state_dict() if hasattr(model_or_state_dict, "state_dict") else model_or_state_dict
    state = {k: v.detach().cpu() for k, v in state.items()}
    reference.SeqpackModel(config).load_state_dict(state, strict=True)   # raises on missing/extra/misshapen keys
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "model.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    write_safetensors(state, os.path.join(out_dir, "model.safetensors"), dtype=dtype)
    return out_dir


def demo_tutorial_model():
    """The tutorial model with torch.manual_seed(0) default init (same weights as golden/tutorial)."""
    torch.manual_seed(0)
    config = reference.tutorial_config()
    return reference.SeqpackModel(config).eval(), config


def load_state_dict_file(path):
    if "weights_only" in inspect.signature(torch.load).parameters:
        return torch.load(path, map_location="cpu", weights_only=True)
    warnings.warn("this torch.load has no weights_only: %s is unpickled, which can run arbitrary code; "
                  "only export files you trust" % path)
    return torch.load(path, map_location="cpu")


# ============================================================================================================
# seqpack-model/2: export a user's own nn.Module, described by a SPEC (module paths), without knowing its forward
# ============================================================================================================
HEAD_LAYERS_TEXT = "Linear, ReLU, LeakyReLU, ELU, GELU, Tanh, Sigmoid, Dropout, LayerNorm, BatchNorm1d, Identity"
SPEC_KEYS = {"inputs", "static", "step_layers", "rnn", "h0", "c0", "pooling", "heads"}
HEAD_KEYS = {"name", "module", "activation", "tied_to", "bias", "exclude_padding"}


class ExportError(Exception):
    """The module or the spec cannot be exported as seqpack-model/2 (one-line message saying why)."""


def _fail(msg):
    raise ExportError(" ".join(str(msg).split()))


def _kind(m):
    return type(m).__name__


def _a(m):
    """'a Softplus', 'an ELU': the module's class name with its article."""
    name = _kind(m)
    return ("an " if name[:1] in "AEIOU" else "a ") + name


def _path_text(path):
    return "'%s'" % path if path else "the root module"


def _resolve_module(root, path, what):
    """The submodule at a dotted path ('' = root), as named_modules() spells it."""
    if not isinstance(path, str):
        _fail("%s must be a module path (a string), got %s" % (what, json.dumps(path)))
    m, walked = root, []
    for part in path.split(".") if path else []:
        children = getattr(m, "_modules", {})
        if part not in children or children[part] is None:
            names = [k for k, v in children.items() if v is not None]
            _fail("no module at path '%s' (%s): %s has no submodule '%s'; its submodules are: %s"
                  % (path, what, "the model" if not walked else "'%s'" % ".".join(walked), part,
                     ", ".join(names) or "(none)"))
        m = children[part]
        walked.append(part)
    return m


def _resolve_tensor_path(root, path, what):
    """(parameter or buffer at a dotted path, its name)."""
    if not isinstance(path, str) or not path:
        _fail("%s must be the dotted path of a parameter or buffer, got %s" % (what, json.dumps(path)))
    parent_path, _, name = path.rpartition(".")
    parent = _resolve_module(root, parent_path, what)
    t = parent._parameters.get(name) if name in parent._parameters else parent._buffers.get(name)
    if t is None:
        _fail("no parameter or buffer at path '%s' (%s)" % (path, what))
    return t


def _check_keys(obj, allowed, where, required=()):
    if not isinstance(obj, dict):
        _fail("%s must be a JSON object, got %s" % (where, json.dumps(obj)))
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        _fail("%s: unknown key%s %s (allowed: %s)" % (where, "s" if len(unknown) > 1 else "", ", ".join(unknown),
                                                       ", ".join(sorted(allowed))))
    for k in required:
        if k not in obj:
            _fail("%s: missing key '%s'" % (where, k))


def _pos_int(v, where):
    if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
        _fail("%s must be a positive integer, got %s" % (where, json.dumps(v)))
    return v


class _Collector:
    """Collects the tensors the model.json references, by their state-dict names."""

    def __init__(self, module):
        self.sd = module.state_dict(keep_vars=True)
        self.tensors = {}

    def take(self, name, shape, what):
        t = self.sd.get(name)
        if t is None:
            _fail("%s: the model's state_dict has no tensor '%s' (weight_norm / parametrizations / "
                  "lazy modules are not supported)" % (what, name))
        if not t.is_floating_point():
            _fail("%s: tensor '%s' has dtype %s, expected a floating point tensor" % (what, name, t.dtype))
        if list(t.shape) != list(shape):
            _fail("%s: tensor '%s' has shape %s, expected %s" % (what, name, list(t.shape), list(shape)))
        self.tensors[name] = t.detach().cpu().to(torch.float32).clone()

    def fold(self, name, function):
        """Replace a taken tensor by the value the model uses (`function` of it): it is stored, under its own
        name, as that value."""
        self.tensors[name] = function(self.tensors[name])


def _prefix(path):
    return path + "." if path else ""


def _norm_entry(root, col, path, width, where, with_size):
    """norm object for a BatchNorm1d / LayerNorm at path applied to vectors of `width` features."""
    m = _resolve_module(root, path, where)
    if type(m) is torch.nn.BatchNorm1d:
        if not m.track_running_stats or m.running_mean is None or m.running_var is None:
            _fail("%s '%s' is a BatchNorm1d with track_running_stats=False (it normalises with batch statistics "
                  "even in eval mode); only BatchNorm1d with running statistics is supported" % (where, path))
        if m.num_features != width:
            _fail("%s '%s' is BatchNorm1d(%d) but its input has %d features" % (where, path, m.num_features, width))
        affine = bool(m.affine)
        col.take(_prefix(path) + "running_mean", [width], where)
        col.take(_prefix(path) + "running_var", [width], where)
        entry = {"type": "batch_norm", "module": path}
    elif type(m) is torch.nn.LayerNorm:
        shape = tuple(m.normalized_shape)
        if len(shape) != 1:
            _fail("%s '%s' is LayerNorm(%s): it normalises over more than the last dim; only LayerNorm over the "
                  "last dim (normalized_shape of one int) is supported" % (where, path, list(shape)))
        if shape[0] != width:
            _fail("%s '%s' is LayerNorm(%d) but its input has %d features" % (where, path, shape[0], width))
        affine = bool(m.elementwise_affine)
        if affine and getattr(m, "bias", None) is None:
            _fail("%s '%s' is a LayerNorm with a weight but no bias; not supported" % (where, path))
        entry = {"type": "layer_norm", "module": path}
    else:
        _fail("%s '%s' is %s; a norm must be a BatchNorm1d or a LayerNorm" % (where, path, _a(m)))
    if affine:
        col.take(_prefix(path) + "weight", [width], where)
        col.take(_prefix(path) + "bias", [width], where)
    if with_size:                                  # a head layer: type, module, size, eps, affine
        entry["size"] = width
    entry["eps"] = float(m.eps)
    entry["affine"] = affine
    return entry


def _head_layer(root, col, path, m, width):
    """(layer object, output width) for one layer of a head."""
    t = type(m)
    if t is torch.nn.Linear:
        if m.in_features != width:
            _fail("%s is Linear(in_features=%d, out_features=%d) but its input has %d features"
                  % (path, m.in_features, m.out_features, width))
        bias = m.bias is not None
        col.take(_prefix(path) + "weight", [m.out_features, m.in_features], path)
        if bias:
            col.take(_prefix(path) + "bias", [m.out_features], path)
        return {"type": "linear", "module": path, "in_features": m.in_features, "out_features": m.out_features,
                "bias": bias}, m.out_features
    if t is torch.nn.ReLU:
        return {"type": "relu"}, width
    if t is torch.nn.LeakyReLU:
        return {"type": "leaky_relu", "negative_slope": float(m.negative_slope)}, width
    if t is torch.nn.ELU:
        return {"type": "elu", "alpha": float(m.alpha)}, width
    if t is torch.nn.GELU:
        approx = getattr(m, "approximate", "none")
        if approx not in ("none", "tanh"):
            _fail("%s is GELU(approximate='%s'); GELU approximate is 'none' or 'tanh'" % (path, approx))
        return ({"type": "gelu", "approximate": "tanh"} if approx == "tanh" else {"type": "gelu"}), width
    if t is torch.nn.Tanh:
        return {"type": "tanh"}, width
    if t is torch.nn.Sigmoid:
        return {"type": "sigmoid"}, width
    if t is torch.nn.Dropout:
        return {"type": "dropout"}, width
    if t is torch.nn.Identity:
        return {"type": "identity"}, width
    if t in (torch.nn.LayerNorm, torch.nn.BatchNorm1d):
        return _norm_entry(root, col, path, width, path, True), width
    _fail("%s is %s; a head may contain %s" % (path, _a(m), HEAD_LAYERS_TEXT))


def _tied_layer(root, col, h, inputs, width):
    """(tied layer object, catalogue width) for a head {"tied_to": EMBEDDING, "bias": PATH, "exclude_padding": B}:
    scores = x · Eᵀ (+ bias), E the weight of a tokens input's nn.Embedding (stored once, as that input's)."""
    where = "head '%s'" % h["name"]
    path = h["tied_to"]
    emb = _resolve_module(root, path, where + " tied_to")
    if not isinstance(emb, torch.nn.Embedding):
        _fail("%s: tied_to '%s' is %s; it must be the nn.Embedding of a tokens input" % (where, path, _a(emb)))
    owner = next((i for i in inputs if i["kind"] == "tokens" and i["embedding"] == path), None)
    if owner is None:
        _fail("%s: tied_to '%s' is not the embedding of a tokens input (%s); a tied head shares its table with "
              "an input" % (where, path, ", ".join("%s: %s" % (i["name"], i["embedding"]) for i in inputs
                                                  if i["kind"] == "tokens") or "the spec has none"))
    if emb.embedding_dim != width:
        _fail("%s: the vector reaching the tied product has %d features but tied_to '%s' has embedding_dim %d"
              % (where, width, path, emb.embedding_dim))
    n = emb.num_embeddings
    entry = {"type": "tied", "embedding": path, "num_embeddings": n, "embedding_dim": width}
    bias = h.get("bias")
    if bias is not None:
        m = _resolve_module(root, bias, where + " bias") if _has_module(root, bias) else None
        if m is not None:                        # a module of one parameter, e.g. GRU4Rec's By = Embedding(n, 1)
            params = list(m._parameters)
            if len(params) != 1:
                _fail("%s: bias '%s' is %s with parameters %s; name one parameter" % (where, bias, _a(m), params))
            bias = _prefix(bias) + params[0]
        t = _resolve_tensor_path(root, bias, where + " bias")
        if t.numel() != n:
            _fail("%s: bias '%s' has shape %s (%d values); expected one value per row of '%s' (%d)"
                  % (where, bias, list(t.shape), t.numel(), path, n))
        col.take(bias, list(t.shape), where + " bias")
        col.fold(bias, lambda v: v.reshape(n))
        entry["bias"] = bias
    exclude = h.get("exclude_padding", False)
    if not isinstance(exclude, bool):
        _fail("%s: exclude_padding is %s; expected true or false" % (where, json.dumps(exclude)))
    if exclude and owner["padding_idx"] is None:
        _fail("%s: exclude_padding is true but tied_to '%s' has no padding_idx" % (where, path))
    entry["exclude_padding"] = exclude
    return entry, n


def _has_module(root, path):
    try:
        root.get_submodule(path)
        return True
    except AttributeError:
        return False


def _flatten_head(m, path):
    """(path, layer) pairs of a head: a Linear, or a Sequential (nested Sequentials are flattened)."""
    if type(m) is torch.nn.Sequential:
        out = []
        for name, child in m._modules.items():
            if child is not None:
                out.extend(_flatten_head(child, _prefix(path) + name))
        return out
    return [(path, m)]


def _state_indices(value, states, where):
    """A list of indices into h_n's `states` final states (negative counts from the end, as in Python)."""
    if not isinstance(value, list) or not value or not all(reference._is_int(k) and -states <= k < states
                                                           for k in value):
        _fail("%s is %s; expected a non-empty list of indices into h_n's %d final states (-%d..%d; h_n is "
              "layer-major: 2l forward, 2l+1 backward of layer l)" % (where, json.dumps(value), states, states,
                                                                     states - 1))
    return list(value)


def _cells_as_layer(module, col, paths):
    """(path, layer) for cells that forward steps over the sequence, a stack when several (each one's output
    feeding the next): the equivalent nn.RNN / nn.LSTM / nn.GRU with the cells' weights copied (the same math),
    its tensors stored as that layer's (PATH.weight_ih_l0, ...), PATH being the first cell's."""
    if not paths:
        _fail("spec rnn is an empty list; name the cells, e.g. [\"lstm1\", \"lstm2\"]")
    cells = [_resolve_module(module, p, "spec rnn") for p in paths]
    kinds = {torch.nn.LSTMCell: torch.nn.LSTM, torch.nn.GRUCell: torch.nn.GRU, torch.nn.RNNCell: torch.nn.RNN}
    for p, c in zip(paths, cells):
        if type(c) not in kinds:
            _fail("rnn cell '%s' is %s; a list of cells takes nn.RNNCell, nn.LSTMCell or nn.GRUCell" % (p, _a(c)))
    first = cells[0]
    for p, c in zip(paths[1:], cells[1:]):
        if type(c) is not type(first) or getattr(c, "nonlinearity", None) != getattr(first, "nonlinearity", None):
            _fail("rnn cells '%s' (%s) and '%s' (%s) differ in kind; a stack is one kind of cell"
                  % (paths[0], _kind(first), p, _kind(c)))
        if c.hidden_size != first.hidden_size or c.input_size != first.hidden_size or c.bias != first.bias:
            _fail("rnn cell '%s' is %s(%d, %d, bias=%s) after '%s' %s(%d, %d, bias=%s); a stack of cells exports as "
                  "one multi-layer RNN, whose layers share hidden_size and bias" % (
                      p, _kind(c), c.input_size, c.hidden_size, c.bias, paths[0], _kind(first), first.input_size,
                      first.hidden_size, first.bias))
    extra = {"nonlinearity": first.nonlinearity} if isinstance(first, torch.nn.RNNCell) else {}
    layer = kinds[type(first)](first.input_size, first.hidden_size, num_layers=len(cells), bias=first.bias, **extra)
    with torch.no_grad():
        for k, c in enumerate(cells):
            for name in ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if c.bias else ()):
                getattr(layer, "%s_l%d" % (name, k)).copy_(getattr(c, name).to(torch.float32))
    col.sd.update({_prefix(paths[0]) + k: v for k, v in layer.state_dict().items()})
    return paths[0], layer


FOLDED_PREFIX = "tanh("
FUNCTIONAL_LAYERS = {"relu": set(), "tanh": set(), "sigmoid": set(), "gelu": set(), "dropout": set(),
                     "identity": set(), "leaky_relu": {"negative_slope"}, "elu": {"alpha"}}


def _layer_list(module, col, h, width):
    """(layer dicts, output width) of a head or of step layers reading vectors of `width`."""
    out = []
    for path, layer in _head_parts(module, h):
        if path is None:
            entry = layer                                      # a function forward applies, e.g. {"type": "relu"}
        else:
            entry, width = _head_layer(module, col, path, layer, width)
        out.append(entry)
    return out, width


def _head_parts(module, h):
    """(path, module) pairs of a head's layers, in order; (None, layer dict) for a function forward applies.
    "module" is the path of an nn.Linear or nn.Sequential, or a list of such paths and functional layers
    ({"type": "relu"}, {"type": "leaky_relu", "negative_slope": 0.2}, ...): heads written as separate attributes
    called one after the other in forward."""
    items = h["module"] if isinstance(h["module"], list) else [h["module"]]
    if not items:
        _fail("head '%s': module is an empty list" % h["name"])
    flat = []
    for item in items:
        if isinstance(item, dict):
            typ = item.get("type")
            if typ not in FUNCTIONAL_LAYERS or set(item) != {"type"} | FUNCTIONAL_LAYERS[typ]:
                _fail("head '%s': %s is not a functional layer; expected one of %s" % (
                    h["name"], json.dumps(item), ", ".join(
                        json.dumps(dict({"type": t}, **{k: 0.0 for k in ks})) for t, ks in FUNCTIONAL_LAYERS.items())))
            flat.append((None, dict(item)))
            continue
        hm = _resolve_module(module, item, "head '%s'" % h["name"])
        if type(hm) is torch.nn.Sequential:
            sub = _flatten_head(hm, item)
            if not sub:
                _fail("head '%s' at %s is an empty Sequential" % (h["name"], _path_text(item)))
            flat.extend(sub)
        else:                                        # one layer (an nn.Identity head: the pooled vector itself)
            flat.append((item, hm))
    return flat


def build_graph(module, spec):
    """(seqpack-model/2 dict, {state-dict name: float32 tensor}) for `module` described by `spec`.

    Raises ExportError (one-line message) on anything that cannot be exported exactly."""
    if not isinstance(module, torch.nn.Module):
        _fail("expected a torch.nn.Module, got %s" % _kind(module))
    _check_keys(spec, SPEC_KEYS, "spec", required=("inputs", "rnn", "heads"))
    col = _Collector(module)
    names = set()

    def new_name(n, where):
        if not isinstance(n, str) or not n:
            _fail("%s.name must be a non-empty string, got %s" % (where, json.dumps(n)))
        if n in names:
            _fail("%s: name '%s' is used twice (input and static names must be distinct)" % (where, n))
        names.add(n)
        return n

    # ---- inputs
    if not isinstance(spec["inputs"], list) or not spec["inputs"]:
        _fail("spec.inputs must be a non-empty list")
    inputs, widths = [], []
    for i, inp in enumerate(spec["inputs"]):
        where = "spec.inputs[%d]" % i
        _check_keys(inp, {"name", "kind", "embedding", "size", "norm"}, where, required=("name", "kind"))
        name = new_name(inp["name"], where)
        where = "input '%s'" % name
        if inp["kind"] == "tokens":
            if "size" in inp:
                _fail("%s: a tokens input takes 'embedding' (a module path), not 'size'" % where)
            if "embedding" not in inp:
                _fail("%s: a tokens input needs 'embedding' (the path of its nn.Embedding)" % where)
            path = inp["embedding"]
            emb = _resolve_module(module, path, where + " embedding")
            if not isinstance(emb, torch.nn.Embedding):  # subclasses too: the check against forward decides
                _fail("%s embedding '%s' is %s; it must be an nn.Embedding" % (where, path, _a(emb)))
            if emb.max_norm is not None:
                _fail("%s embedding '%s' has max_norm=%s (it renormalises rows at lookup); not supported"
                      % (where, path, emb.max_norm))
            col.take(_prefix(path) + "weight", [emb.num_embeddings, emb.embedding_dim], where)
            pidx = emb.padding_idx
            if pidx is not None and pidx < 0:
                pidx += emb.num_embeddings
            width = emb.embedding_dim
            entry = {"name": name, "kind": "tokens", "vocab_size": emb.num_embeddings, "embedding_dim": width,
                     "padding_idx": None if pidx is None else int(pidx), "embedding": path}
        elif inp["kind"] == "features":
            if "embedding" in inp:
                _fail("%s: a features input takes 'size', not 'embedding'" % where)
            width = _pos_int(inp.get("size"), where + " size")
            entry = {"name": name, "kind": "features", "size": width}
        else:
            _fail("%s: kind must be \"tokens\" or \"features\", got %s" % (where, json.dumps(inp["kind"])))
        norm = inp.get("norm")
        entry["norm"] = None if norm is None else _norm_entry(module, col, norm, width, where + " norm", False)
        inputs.append(entry)
        widths.append("%s %d" % (name, width))
    step_width = sum(e["embedding_dim"] if e["kind"] == "tokens" else e["size"] for e in inputs)

    # ---- static
    static = []
    st_list = spec.get("static", [])
    if not isinstance(st_list, list):
        _fail("spec.static must be a list")
    for i, s in enumerate(st_list):
        where = "spec.static[%d]" % i
        _check_keys(s, {"name", "size", "join"}, where, required=("name", "size"))
        name = new_name(s["name"], where)
        size = _pos_int(s["size"], "static '%s' size" % name)
        join = s.get("join", "after_pooling")
        if join not in reference.JOINS:
            _fail("static '%s': join must be \"after_pooling\" or \"every_step\", got %s" % (name, json.dumps(join)))
        static.append({"name": name, "size": size, "join": join})
        if join == "every_step":
            step_width += size
            widths.append("static %s %d" % (name, size))

    # ---- rnn
    rpath = spec["rnn"]
    if isinstance(rpath, list) or isinstance(_resolve_module(module, rpath, "spec rnn"), torch.nn.RNNCellBase):
        rpath, rnn = _cells_as_layer(module, col, rpath if isinstance(rpath, list) else [rpath])
    else:
        rnn = _resolve_module(module, rpath, "spec rnn")
    if type(rnn) not in (torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU):
        _fail("rnn %s is %s; it must be an nn.RNN, nn.LSTM or nn.GRU (or cells: nn.RNNCell, nn.LSTMCell, "
              "nn.GRUCell, or a list of them)" % (_path_text(rpath), _a(rnn)))
    mode = rnn.mode
    if mode not in reference.MODES:
        _fail("rnn %s has mode %s; expected one of %s" % (_path_text(rpath), mode, ", ".join(reference.MODES)))
    proj = int(getattr(rnn, "proj_size", 0) or 0)
    step_layers = None
    if spec.get("step_layers") is not None:     # per-step layers on the joined input, before the RNN
        step_layers, width = _layer_list(module, col, {"name": "step_layers", "module": spec["step_layers"]},
                                         step_width)
        if width != rnn.input_size:
            _fail("step_layers %s output %d features but rnn %s has input_size %d"
                  % (json.dumps(spec["step_layers"]), width, _path_text(rpath), rnn.input_size))
        step_width = width
    if rnn.input_size != step_width:
        _fail("rnn %s has input_size %d but the inputs give %d (%s)"
              % (_path_text(rpath), rnn.input_size, step_width, " + ".join(widths)))
    d = 2 if rnn.bidirectional else 1
    hsz, layers = rnn.hidden_size, rnn.num_layers
    p = proj if proj > 0 else hsz
    gates = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}[mode] * hsz
    what = "rnn %s" % _path_text(rpath)
    for k in range(layers):
        for sfx in ("", "_reverse")[:d]:
            col.take("%sweight_ih_l%d%s" % (_prefix(rpath), k, sfx), [gates, rnn.input_size if k == 0 else d * p], what)
            col.take("%sweight_hh_l%d%s" % (_prefix(rpath), k, sfx), [gates, p], what)
            if rnn.bias:
                col.take("%sbias_ih_l%d%s" % (_prefix(rpath), k, sfx), [gates], what)
                col.take("%sbias_hh_l%d%s" % (_prefix(rpath), k, sfx), [gates], what)
            if proj > 0:
                col.take("%sweight_hr_l%d%s" % (_prefix(rpath), k, sfx), [proj, hsz], what)
    init = {}
    for key, shape in (("h0", [layers * d, 1, p]), ("c0", [layers * d, 1, hsz])):
        path = spec.get(key)
        if path is None:
            init[key] = None
            continue
        through = None      # "tanh(PATH)": forward uses tanh of the parameter; the value it uses is stored
        if isinstance(path, str) and path.startswith(FOLDED_PREFIX) and path.endswith(")"):
            through, path = torch.tanh, path[len(FOLDED_PREFIX):-1]
        if key == "c0" and mode != "LSTM":
            _fail("spec c0 is given but rnn %s is %s; c0 is for an LSTM only" % (_path_text(rpath), _kind(rnn)))
        t = _resolve_tensor_path(module, path, "spec " + key)
        if list(t.shape) != shape:
            _fail("%s '%s' has shape %s; expected %s (num_layers*directions, 1, %s) broadcast over the batch"
                  % (key, path, list(t.shape), shape, "proj_size or hidden_size" if key == "h0" else "hidden_size"))
        col.take(path, shape, key)
        if through is not None:
            col.fold(path, through)
        init[key] = path
    rnn_entry = {"module": rpath, "mode": mode, "input_size": rnn.input_size, "hidden_size": hsz,
                 "num_layers": layers, "bidirectional": bool(rnn.bidirectional), "bias": bool(rnn.bias),
                 "proj_size": proj, "h0": init["h0"], "c0": init["c0"]}
    o = d * p

    # ---- pooling
    pooling_spec = spec.get("pooling", ["last"])
    if not isinstance(pooling_spec, list) or not pooling_spec:
        _fail("spec.pooling must be a non-empty list")
    pooling = []
    for i, part in enumerate(pooling_spec):
        if isinstance(part, str):
            if part not in reference.POOLINGS2:
                _fail("spec.pooling[%d] is %s; expected \"last\", \"first\", \"mean\", \"max\", "
                      "{\"last_k_mean\": {\"k\": K}} or {\"attention\": {\"proj\": PATH, \"context\": PATH}}"
                      % (i, json.dumps(part)))
            pooling.append(part)
            continue
        if isinstance(part, dict) and "query_attention" in part:
            where = "spec.pooling[%d].query_attention" % i
            _check_keys(part, {"query_attention"}, "spec.pooling[%d]" % i, required=("query_attention",))
            _check_keys(part["query_attention"], {"query"}, where, required=("query",))
            name = part["query_attention"]["query"]
            q = _resolve_tensor_path(module, name, where + ".query")
            if q.numel() != o or max(q.shape) != o:
                _fail("%s.query '%s' has shape %s; expected %d values (the RNN output's width)"
                      % (where, name, list(q.shape), o))
            col.take(name, list(q.shape), "query attention")
            col.fold(name, lambda t: t.reshape(-1))
            pooling.append({"query_attention": {"query": name}})
            continue
        if isinstance(part, dict) and ("hidden" in part or "dot_attention" in part):
            kind, field = ("hidden", "indices") if "hidden" in part else ("dot_attention", "query")
            where = "spec.pooling[%d].%s" % (i, kind)
            _check_keys(part, {kind}, "spec.pooling[%d]" % i, required=(kind,))
            _check_keys(part[kind], {field}, where, required=(field,))
            idx = _state_indices(part[kind][field], layers * d, where + "." + field)
            if kind == "dot_attention" and len(idx) * p != o:
                _fail("%s.query takes %d final states (%d floats) but the RNN output has %d features; the query "
                      "must be as wide as the output" % (where, len(idx), len(idx) * p, o))
            pooling.append({kind: {field: idx}})
            continue
        if isinstance(part, dict) and "last_k_mean" in part:
            _check_keys(part, {"last_k_mean"}, "spec.pooling[%d]" % i, required=("last_k_mean",))
            _check_keys(part["last_k_mean"], {"k"}, "spec.pooling[%d].last_k_mean" % i, required=("k",))
            k = part["last_k_mean"]["k"]
            if not reference._is_int(k) or k < 1:
                _fail("spec.pooling[%d].last_k_mean.k is %s; expected an integer >= 1" % (i, json.dumps(k)))
            pooling.append({"last_k_mean": {"k": k}})
            continue
        _check_keys(part, {"attention"}, "spec.pooling[%d]" % i, required=("attention",))
        att = part["attention"]
        _check_keys(att, {"proj", "context", "query"}, "spec.pooling[%d].attention" % i,
                    required=("proj", "context"))
        query = None if att.get("query") is None else _state_indices(att["query"], layers * d,
                                                                    "spec.pooling[%d].attention.query" % i)
        qw = 0 if query is None else len(query) * p
        proj_m = _resolve_module(module, att["proj"], "attention proj")
        ctx_m = _resolve_module(module, att["context"], "attention context")
        if type(proj_m) is not torch.nn.Linear or proj_m.bias is None:
            _fail("attention proj '%s' is %s; it must be an nn.Linear(%d, A) with bias"
                  % (att["proj"], repr(proj_m).split("\n")[0] if type(proj_m) is torch.nn.Linear else
                     _a(proj_m), o))
        if proj_m.in_features != o + qw:
            _fail("attention proj '%s' is Linear(in_features=%d) but the RNN output has %d features%s"
                  % (att["proj"], proj_m.in_features, o, "" if query is None else
                     " and the query %d more" % qw))
        a = proj_m.out_features
        if type(ctx_m) is not torch.nn.Linear:
            _fail("attention context '%s' is %s; it must be an nn.Linear(%d, 1, bias=False)"
                  % (att["context"], _a(ctx_m), a))
        if ctx_m.in_features != a or ctx_m.out_features != 1 or ctx_m.bias is not None:
            _fail("attention context '%s' is Linear(in_features=%d, out_features=%d, bias=%s); it must be "
                  "Linear(%d, 1, bias=False)" % (att["context"], ctx_m.in_features, ctx_m.out_features,
                                                 ctx_m.bias is not None, a))
        col.take(_prefix(att["proj"]) + "weight", [a, o + qw], "attention proj")
        col.take(_prefix(att["proj"]) + "bias", [a], "attention proj")
        col.take(_prefix(att["context"]) + "weight", [1, a], "attention context")
        entry = {"proj": att["proj"], "context": att["context"], "size": a}
        if query is not None:
            entry["query"] = query
        pooling.append({"attention": entry})
    emb_width = sum(reference.pooling_width(part, rnn_entry) for part in pooling)
    emb_width += sum(s["size"] for s in static if s["join"] == "after_pooling")

    # ---- heads
    if not isinstance(spec["heads"], list) or not spec["heads"]:
        _fail("spec.heads must be a non-empty list")
    heads, head_names = [], set()
    for i, h in enumerate(spec["heads"]):
        where = "spec.heads[%d]" % i
        _check_keys(h, HEAD_KEYS, where, required=("name",) if "tied_to" in h else ("name", "module"))
        if not isinstance(h["name"], str) or not h["name"] or h["name"] in head_names:
            _fail("%s.name must be a distinct non-empty string, got %s" % (where, json.dumps(h["name"])))
        head_names.add(h["name"])
        act = h.get("activation", "none")
        if act not in reference.HEAD_ACTIVATIONS:
            _fail("head '%s': activation must be one of %s, got %s"
                  % (h["name"], ", ".join(json.dumps(a) for a in reference.HEAD_ACTIVATIONS), json.dumps(act)))
        layers_out, width = (_layer_list(module, col, h, emb_width) if h.get("module") is not None
                             else ([], emb_width))
        if "tied_to" in h:
            entry, width = _tied_layer(module, col, h, inputs, width)
            layers_out.append(entry)
        elif "bias" in h or "exclude_padding" in h:
            _fail("head '%s': 'bias' and 'exclude_padding' belong to a head with 'tied_to'" % h["name"])
        heads.append({"name": h["name"], "activation": act, "layers": layers_out})

    mj = {"format": reference.FORMAT2, "inputs": inputs, "static": static, "rnn": rnn_entry,
          "pooling": pooling, "heads": heads}
    if step_layers is not None:
        mj["step_layers"] = step_layers
    reference.validate_graph(mj)
    expected = reference.graph_tensor_names(mj)
    assert set(expected) == set(col.tensors), (sorted(expected), sorted(col.tensors))
    return mj, col.tensors


def infer_spec(module, input_sizes=None, post_activations=None):
    """The spec module.forward amounts to (infer.infer_spec), or ExportError with every op it cannot map."""
    try:
        return infer.infer_spec(module, input_sizes, post_activations)
    except infer.CannotInfer as e:
        _fail("cannot export: %s" % e)


def export_module(module, spec_dict, out_dir, dtype="F32", verify=True, post_activations=None, log=None,
                  input_sizes=None, forward_args=None):
    """Export a user's nn.Module described by spec_dict (module paths; see the module docstring; None: read from
    the module's forward, with input_sizes {input: width} where forward cannot tell them) to
    out_dir/model.json (seqpack-model/2) + out_dir/model.safetensors (only the referenced tensors, by their
    state-dict names, stored as dtype). Returns the model.json dict. Raises ExportError if it cannot be exported
    exactly. The module is read as in eval mode (BatchNorm running stats, dropout off); it is not modified.

    Unless verify is False, the written files are checked against the module's own forward first
    (forward_check.check_forward; post_activations: {head: activation the caller applies after forward}): when
    they disagree, or forward cannot be called, ExportError says why and nothing is written to out_dir. The
    model.json's "export" block records whether it was verified; log (a print-like function), if given, gets
    one line with the measured difference."""
    if dtype not in DTYPES:
        _fail("unsupported dtype %r (use one of %s)" % (dtype, ", ".join(DTYPES)))
    if spec_dict is None:
        spec_dict = infer_spec(module, input_sizes, post_activations)
    mj, tensors = build_graph(module, spec_dict)
    post_activations = _resolve_activations(post_activations or {}, mj["heads"])
    parent = os.path.dirname(os.path.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".seqpack-export-", dir=parent)
    try:
        write_safetensors(tensors, os.path.join(staging, "model.safetensors"), dtype=dtype)
        if verify:
            written = read_safetensors(os.path.join(staging, "model.safetensors"))[0]
            exact = dtype in ("F32", "F64")
            try:
                verification = forward_check.check_forward(module, mj, written if exact else tensors,
                                                           post_activations, forward_args=forward_args)
            except forward_check.ForwardCheckError as e:
                _fail("cannot export: %s" % e)
            record = verification.record()
            if log is not None:
                log(verification.summary())
            if not exact:
                record["rounding_max_abs_diff"] = forward_check.rounding_difference(mj, tensors, written)
            mj_out = dict(mj, export=record)
        else:
            mj_out = dict(mj, export=forward_check.unverified_record())
        with open(os.path.join(staging, "model.json"), "w", encoding="utf-8") as f:
            json.dump(mj_out, f, indent=2)
            f.write("\n")
        os.makedirs(out_dir, exist_ok=True)
        for fn in ("model.safetensors", "model.json"):
            os.replace(os.path.join(staging, fn), os.path.join(out_dir, fn))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return mj_out


def load_module_class(spec_text):
    """The class named by FILE.py:CLASS (the file is imported as a module; its folder goes on sys.path)."""
    import importlib.util
    path, sep, cls_name = spec_text.rpartition(":")
    if not sep or not path or not cls_name:
        _fail("--module must be FILE.py:CLASS, got %r" % spec_text)
    if not os.path.isfile(path):
        _fail("--module: no such file: %s" % path)
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    mod_name = "_seqpack_user_" + os.path.splitext(os.path.basename(path))[0]
    mspec = importlib.util.spec_from_file_location(mod_name, path)
    user = importlib.util.module_from_spec(mspec)
    sys.modules[mod_name] = user
    mspec.loader.exec_module(user)
    cls = getattr(user, cls_name, None)
    if cls is None:
        _fail("--module: %s defines no %s" % (path, cls_name))
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        _fail("--module: %s in %s is not an nn.Module class" % (cls_name, path))
    return cls


def load_user_module(module_arg, init_args, state_dict_path):
    """Build CLASS(**init_args), strictly load the state dict, eval()."""
    cls = load_module_class(module_arg)
    try:
        kwargs = json.loads(init_args) if init_args else {}
    except ValueError as e:
        _fail("--init-args is not valid JSON: %s" % e)
    if not isinstance(kwargs, dict):
        _fail("--init-args must be a JSON object of keyword arguments, got %s" % init_args)
    try:
        model = cls(**kwargs)
    except Exception as e:  # noqa: BLE001 - the user's constructor; report it on one line
        _fail("%s(**%s) failed: %s: %s" % (cls.__name__, json.dumps(kwargs), type(e).__name__, e))
    if not os.path.isfile(state_dict_path):
        _fail("--state-dict: no such file: %s" % state_dict_path)
    state = load_state_dict_file(state_dict_path)
    if not isinstance(state, dict):
        _fail("--state-dict %s holds a %s, not a state_dict (save it with torch.save(model.state_dict(), ...))"
              % (state_dict_path, type(state).__name__))
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        _fail("--state-dict %s does not load strictly into %s: %s" % (state_dict_path, cls.__name__, e))
    return model.eval()


def parse_activations(values, heads=None):
    """--activation values ("sigmoid", or "HEAD=softmax" for one of several heads) -> {head or None: activation}."""
    out = {}
    for v in values or []:
        head, sep, act = v.rpartition("=")
        if act not in forward_check.POST_ACTIVATIONS:
            _fail("--activation %s: the activation must be one of %s" % (v, ", ".join(forward_check.POST_ACTIVATIONS)))
        key = head if sep else None
        if key in out:
            _fail("--activation given twice for %s" % ("head '%s'" % key if key else "the head"))
        out[key] = act
    return out


def _resolve_activations(parsed, mj_heads):
    """{None: act} means the only head; refuse it when the model has several."""
    if None in parsed:
        if len(mj_heads) != 1:
            _fail("--activation %s: the model has %d heads (%s); say which, as HEAD=%s"
                  % (parsed[None], len(mj_heads), ", ".join(h["name"] for h in mj_heads), parsed[None]))
        parsed = dict(parsed)
        parsed[mj_heads[0]["name"]] = parsed.pop(None)
    return parsed


def parse_input_sizes(values):
    """--input-size values ("numeric=4", "a=2,b=3", repeatable) -> {input: width}."""
    out = {}
    for v in values or []:
        for item in v.split(","):
            name, sep, n = item.strip().partition("=")
            if not sep or not name or not n.strip().isdigit() or int(n) < 1:
                _fail("--input-size %s: expected NAME=WIDTH with a positive width, e.g. --input-size numeric=4" % item)
            if name in out:
                _fail("--input-size names %s twice" % name)
            out[name] = int(n)
    return out


def main_module(args):
    """--module FILE.py:CLASS --state-dict FILE.pt [--spec SPEC.json] [--out DIR] [--print-spec] [--no-verify]
    [--activation ...] [--input-size ...]"""
    model = load_user_module(args.module, args.init_args, args.state_dict)
    spec = None
    if args.spec is not None:
        try:
            with open(args.spec, encoding="utf-8") as f:
                spec = json.load(f)
        except (OSError, ValueError) as e:
            _fail("--spec %s: %s" % (args.spec, e))
    activations = parse_activations(args.activation)
    forward_args = None
    if args.forward_args is not None:
        try:
            forward_args = json.loads(args.forward_args)
        except ValueError as e:
            _fail("--forward-args is not valid JSON: %s" % e)
        if spec is None:
            _fail("--forward-args goes with --spec (the exporter reads forward by calling it with its own inputs)")
    with torch.no_grad():
        if spec is None:
            spec = infer_spec(model, parse_input_sizes(args.input_size), activations)
        if args.print_spec:
            print(json.dumps(spec, indent=2))
        if args.out is None:                     # --print-spec alone: the spec, checked against forward
            mj, tensors = build_graph(model, spec)
            if not args.no_verify:
                try:
                    print(forward_check.check_forward(model, mj, tensors, _resolve_activations(
                        activations, mj["heads"]), forward_args=forward_args).summary(), file=sys.stderr)
                except forward_check.ForwardCheckError as e:
                    _fail("the spec disagrees with forward: %s" % e)
            return 0
        mj = export_module(model, spec, args.out, args.dtype, verify=not args.no_verify,
                           post_activations=activations, log=print, forward_args=forward_args)
    print("wrote %s/model.json (%s) and %s/model.safetensors (%s)%s"
          % (args.out, reference.FORMAT2, args.out, args.dtype,
             "" if mj["export"]["verified"] else "; NOT verified against forward (--no-verify)"))
    if "rounding_max_abs_diff" in mj["export"]:
        print("stored as %s: scores move by up to %.3g from the float32 model"
              % (args.dtype, mj["export"]["rounding_max_abs_diff"]))
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description="Export a PyTorch model to a seqpack model directory: model.json + "
                                            "model.safetensors.",
                                epilog="See the module docstring for the model.json formats.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--state-dict", metavar="FILE.pt", help="torch.save()d state_dict (of a SeqpackModel-shaped "
                                                             "module with --config, or of --module's class)")
    src.add_argument("--demo-tutorial", action="store_true", help="export the tutorial model (seed 0)")
    p.add_argument("--config", metavar="model.json", help="seqpack-model/1 config (with --state-dict, no --module)")
    p.add_argument("--module", metavar="FILE.py:CLASS", help="your nn.Module class (seqpack-model/2 export; "
                                                             "needs --state-dict and --spec)")
    p.add_argument("--init-args", metavar="JSON", help="keyword arguments for CLASS, a JSON object (default none)")
    p.add_argument("--spec", metavar="SPEC.json", help="which submodules are the inputs, rnn, pooling and heads")
    p.add_argument("--verify", action="store_true", help="accepted for old scripts: every --module export is "
                                                         "checked against the module's own forward")
    p.add_argument("--no-verify", action="store_true", help="with --module: do not call forward (for a forward that "
                                                            "cannot take padded inputs and lengths); the model is "
                                                            "marked as not verified")
    p.add_argument("--activation", action="append", metavar="[HEAD=]ACT",
                   help="an activation (sigmoid, softmax, log_softmax) your code applies after forward; repeat "
                        "for several heads")
    p.add_argument("--print-spec", action="store_true", help="with --module: print the spec (the one given, or the "
                                                             "one read from forward) as JSON; without --out, only "
                                                             "print it (checked against forward)")
    p.add_argument("--input-size", action="append", metavar="NAME=N",
                   help="with --module and no --spec: the width of a features or static input forward cannot "
                        "tell apart from another (repeatable, or NAME=N,NAME=N)")
    p.add_argument("--forward-args", metavar="JSON",
                   help="with --spec: how the check calls forward when its parameters are not the inputs and "
                        "the lengths, e.g. '{\"batch\": {\"x\": \"$x\", \"lengths\": \"$lengths\"}}'")
    p.add_argument("--out", metavar="DIR", help="output model directory")
    p.add_argument("--dtype", default="F32", choices=DTYPES, help="safetensors dtype (default F32)")
    args = p.parse_args(argv)
    if args.module is not None or args.spec is not None:
        if args.module is None or args.state_dict is None:
            p.error("--module and --state-dict go together (--spec is optional: without it forward is read)")
        if args.out is None and not args.print_spec:
            p.error("--out DIR is required (or --print-spec to only print the spec)")
        if args.spec is not None and args.input_size:
            p.error("--input-size is for exports without --spec (a spec gives each input's size)")
        if args.config is not None:
            p.error("--config is for seqpack-model/1 exports; with --module use --spec")
        if args.verify and args.no_verify:
            p.error("--verify and --no-verify contradict each other")
        torch.set_num_threads(1)
        try:
            return main_module(args)
        except ExportError as e:
            print("export_pytorch: error: %s" % e, file=sys.stderr)
            return 2
    if args.init_args is not None or args.verify or args.no_verify or args.activation or args.print_spec \
            or args.input_size:
        p.error("--init-args, --verify, --no-verify, --activation, --print-spec and --input-size need --module")
    if args.out is None:
        p.error("--out DIR is required")
    if args.demo_tutorial:
        model, config = demo_tutorial_model()
        export_model(model, config, args.out, args.dtype)
    else:
        if not args.config:
            p.error("--config is required with --state-dict")
        with open(args.config, encoding="utf-8") as f:
            config = json.load(f)
        export_model(load_state_dict_file(args.state_dict), config, args.out, args.dtype)
    print("wrote %s/model.json and %s/model.safetensors (%s)" % (args.out, args.out, args.dtype))
    return 0


if __name__ == "__main__":
    sys.exit(main())
