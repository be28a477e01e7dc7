package io.seqpack.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.seqpack.model.ModelSpec.Activation;
import io.seqpack.model.ModelSpec.HeadSpec;
import io.seqpack.model.ModelSpec.InputKind;
import io.seqpack.model.ModelSpec.InputSpec;
import io.seqpack.model.ModelSpec.Pooling;
import io.seqpack.model.parts.LstmMode;
import io.seqpack.model.parts.PartRegistry;
import io.seqpack.model.parts.RecurrentMode;
import io.seqpack.model.ModelSpec.RnnSpec;
import io.seqpack.model.SafeTensorsFuzzTest.Harness;
import io.seqpack.model.SafeTensorsFuzzTest.Harness.Case;
import io.seqpack.model.SafeTensorsFuzzTest.Harness.Expect;
import io.seqpack.model.SafeTensorsFuzzTest.Harness.Golden;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes {@code model.json} through {@link ModelLoader#load(ModelBytes, String, boolean)}, paired with golden (or
 * freshly built) safetensors: wrong JSON types, unknown modes and spellings, negative / huge / fractional sizes,
 * sizes that do not match the tensors, random structural edits of the JSON tree, byte-level damage, and
 * meaning-preserving rewrites that must load the same model. Same contract and knobs as {@link
 * SafeTensorsFuzzTest}: load a valid model or throw {@link io.seqpack.ModelFormatException}, within 2 s.
 */
class ModelJsonFuzzTest {

  @Test
  void mutatedModelJsonLoadsOrIsRefusedWithModelFormatException() {
    Harness.run("model.json", ModelJsonFuzzTest::generate);
  }

  static Case generate(Random r) {
    Golden g = Harness.pick(r, Harness.golden());
    int k = r.nextInt(100);
    if (k < 22) {
      return fieldMutation(r, g);
    } else if (k < 36) {
      return mismatch(r, g);
    } else if (k < 50) {
      return fresh(r, g);
    } else if (k < 64) {
      return tree(r, g);
    } else if (k < 80) {
      return textual(r, g);
    } else if (k < 84) {
      return hugeSpec(r, g);
    }
    return equivalent(r, g);
  }

  private static final Map<String, List<String>> KEYS = Map.of(
      "", List.of("format", "input", "rnn", "head"),
      "input", List.of("kind", "vocab_size", "embedding_dim", "padding_idx", "input_size"),
      "rnn", List.of("mode", "hidden_size", "num_layers", "bidirectional", "bias", "proj_size"),
      "head", List.of("pooling", "out_features", "activation"));

  private static final List<String> SPELLINGS = List.of("RNN_TANH", "RNN_RELU", "LSTM", "GRU", "lstm", "Lstm", "RNN",
      "rnn_tanh", "LSTM ", " GRU", "GRU\u0000", "ＬＳＴＭ", "tokens", "features", "TOKENS", "token", "last", "mean",
      "max", "LAST", "sum", "first", "none", "sigmoid", "softmax", "SIGMOID", "relu", "tanh", "seqpack-model/1",
      "seqpack-model/2", "seqpack-model/1 ", "seqpack-model", "", "null", "true", "1");

  private static Object value(Random r, String key) {
    return switch (r.nextInt(4)) {
      case 0 -> Harness.pick(r, SPELLINGS);
      case 1 -> Harness.pick(r, Harness.interestingNumbers());
      case 2 -> Harness.pick(r, List.of((long) ModelSpec.MAX_DIM, ModelSpec.MAX_DIM + 1L, (long) ModelSpec.MAX_LAYERS,
          ModelSpec.MAX_LAYERS + 1L, (long) ModelSpec.MAX_VOCAB_SIZE, ModelSpec.MAX_VOCAB_SIZE + 1L, -20L, -21L, 19L,
          20L, 3L, 4L, 12L, 11L, 13L));
      default -> Harness.randomValue(r, 0);
    };
  }

  /** One to three fields set to a wrong-typed or out-of-range value, removed, renamed or added. */
  static Case fieldMutation(Random r, Golden g) {
    Map<String, Object> spec = Harness.deepCopy(g.spec());
    List<String> what = new ArrayList<>();
    for (int n = 1 + r.nextInt(3); n > 0; n--) {
      String section = Harness.pick(r, List.of("", "input", "rnn", "head"));
      Map<String, Object> target = section.isEmpty() || !(spec.get(section) instanceof Map)
          ? spec : Harness.obj(spec.get(section));
      if (target == spec) {
        section = "";
      }
      String key = r.nextInt(8) == 0
          ? Harness.pick(r, List.of("extra", "", "Mode", "hidden", "dropout", "batch_first", "nonlinearity", "rnn"))
          : Harness.pick(r, KEYS.get(section));
      String path = (section.isEmpty() ? "" : section + ".") + key;
      int op = r.nextInt(10);
      if (op < 7) {
        Object v = value(r, key);
        target.put(key, v);
        what.add(path + "=" + Harness.escape(Harness.shorten(Harness.write(v, null), 40)));
      } else if (op < 9) {
        target.remove(key);
        what.add("remove " + path);
      } else {
        Map<String, Object> copy = new LinkedHashMap<>(target);
        target.clear();
        copy.forEach((k, v) -> target.put(k.equals(key) ? key.toUpperCase(java.util.Locale.ROOT) : k, v));
        what.add("rename " + path);
      }
    }
    return new Case("fields: " + String.join("; ", what), g, json(spec, r.nextBoolean() ? r : null), g.st(),
        Expect.ANY);
  }

  /** An architecture field changed so that it no longer matches the golden tensors: refused. */
  static Case mismatch(Random r, Golden g) {
    Map<String, Object> spec = Harness.deepCopy(g.spec());
    Map<String, Object> input = Harness.obj(spec.get("input"));
    Map<String, Object> rnn = Harness.obj(spec.get("rnn"));
    Map<String, Object> head = Harness.obj(spec.get("head"));
    ModelSpec s = g.model().spec();
    RnnSpec rs = s.rnn();
    boolean tokens = s.input().kind() == InputKind.TOKENS;
    Expect expect = Expect.REFUSE;
    java.util.function.Consumer<LoadedModel> check = null;
    String what;
    switch (r.nextInt(12)) {
      case 0 -> {
        long h = rs.hiddenSize() + (r.nextBoolean() || rs.hiddenSize() == 1 ? 1 : -1);
        rnn.put("hidden_size", h);
        what = "hidden_size " + h;
      }
      case 1 -> {
        rnn.put("num_layers", rs.numLayers() + 1L);
        what = "one more layer";
      }
      case 2 -> {
        rnn.put("num_layers", rs.numLayers() - 1L);
        what = "one layer less";
      }
      case 3 -> {
        rnn.put("bidirectional", !rs.bidirectional());
        what = "bidirectional flipped";
      }
      case 4 -> {
        rnn.put("bias", !rs.bias());
        what = "bias flipped";
      }
      case 5 -> {
        long p = rs.projSize();
        long q = rs.mode() instanceof LstmMode && rs.hiddenSize() > 2 ? (p + 1 + r.nextInt(rs.hiddenSize() - 1))
            % rs.hiddenSize() : p == 0 ? 1 : 0;
        if (q == p) {
          q = p == 0 ? 1 : 0;
        }
        rnn.put("proj_size", q);
        what = "proj_size " + q;
      }
      case 6 -> {
        RecurrentMode other;
        do {
          other = Harness.pick(r, PartRegistry.RECURRENT_MODES.all());
        } while (other.equals(rs.mode()));
        rnn.put("mode", other.spelling());
        what = "mode " + other.spelling();
        if (other.gates() == rs.mode().gates() && rs.projSize() == 0) {
          expect = Expect.LOAD; // RNN_TANH <-> RNN_RELU: same tensors
          RecurrentMode expected = other;
          check = m -> assertEquals(expected, m.spec().rnn().mode());
        }
      }
      case 7, 8 -> {
        String key = tokens ? (r.nextBoolean() ? "vocab_size" : "embedding_dim") : "input_size";
        long v = (Long) input.get(key) + (r.nextBoolean() ? 1 : -1);
        input.put(key, v);
        what = key + " " + v;
      }
      case 9 -> {
        input.clear();
        if (tokens) {
          input.put("kind", "features");
          input.put("input_size", (long) s.input().embeddingDim());
        } else {
          input.put("kind", "tokens");
          input.put("vocab_size", 5L);
          input.put("embedding_dim", (long) s.input().inputSize());
        }
        what = "kind switched";
      }
      case 10 -> {
        long v = s.head().outFeatures() + (r.nextBoolean() || s.head().outFeatures() == 1 ? 1 : -1);
        head.put("out_features", v);
        what = "out_features " + v;
      }
      default -> {
        // not a mismatch: pooling and activation do not change the tensors
        Pooling pooling = Harness.pick(r, Arrays.asList(Pooling.values()));
        Activation activation = Harness.pick(r, Arrays.asList(Activation.values()));
        head.put("pooling", ModelSpec.spelling(pooling));
        head.put("activation", ModelSpec.spelling(activation));
        expect = Expect.LOAD;
        check = m -> assertEquals(new HeadSpec(pooling, s.head().outFeatures(), activation), m.spec().head());
        what = "head " + pooling + "/" + activation;
      }
    }
    return new Case("mismatch: " + what, g, json(spec, null), g.st(), expect, check);
  }

  /** A random small valid architecture with fresh random weights: loads exactly what was written. */
  static Case fresh(Random r, Golden g) {
    ModelSpec spec = randomSpec(r);
    Map<String, Tensor> tensors = new TreeMap<>();
    ModelLoader.expectedShapes(spec).forEach((name, shape) -> {
      float[] data = new float[Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
      for (int i = 0; i < data.length; i++) {
        data[i] = (float) r.nextGaussian();
      }
      tensors.put(name, new Tensor(name, shape, data));
    });
    byte[] st = SafeTensors.write(tensors, r.nextBoolean() ? Map.of("format", "pt") : null);
    Map<String, Object> json = Harness.deepCopy(spec.toJson());
    boolean omitted = r.nextBoolean();
    if (omitted) {
      omitDefaults(json);
    }
    return new Case("fresh " + ModelLoader.architecture(spec) + (omitted ? " (defaults omitted)" : ""), g,
        json(json, r.nextBoolean() ? r : null), st, Expect.LOAD, m -> {
          assertEquals(spec, m.spec());
          tensors.forEach((name, t) -> assertArrayEquals(t.data(), m.tensor(name).data(), name));
        });
  }

  static ModelSpec randomSpec(Random r) {
    InputSpec input;
    if (r.nextBoolean()) {
      int vocab = 1 + r.nextInt(30);
      input = InputSpec.tokens(vocab, 1 + r.nextInt(8), r.nextBoolean() ? null : r.nextInt(vocab));
    } else {
      input = InputSpec.features(1 + r.nextInt(8));
    }
    RecurrentMode mode = Harness.pick(r, PartRegistry.RECURRENT_MODES.all());
    int hidden = 1 + r.nextInt(8);
    int proj = mode instanceof LstmMode && hidden > 1 && r.nextBoolean() ? 1 + r.nextInt(hidden - 1) : 0;
    RnnSpec rnn = new RnnSpec(mode, hidden, 1 + r.nextInt(3), r.nextBoolean(), r.nextBoolean(), proj);
    HeadSpec head = new HeadSpec(Harness.pick(r, Arrays.asList(Pooling.values())), 1 + r.nextInt(5),
        Harness.pick(r, Arrays.asList(Activation.values())));
    return new ModelSpec(input, rnn, head);
  }

  /** Removes optional keys that hold their default value (the spec must parse the same). */
  private static void omitDefaults(Map<String, Object> json) {
    Map<String, Object> input = Harness.obj(json.get("input"));
    if (input.containsKey("padding_idx") && input.get("padding_idx") == null) {
      input.remove("padding_idx");
    }
    Map<String, Object> rnn = Harness.obj(json.get("rnn"));
    rnn.remove("num_layers", 1);
    rnn.remove("num_layers", 1L);
    rnn.remove("bidirectional", false);
    rnn.remove("bias", true);
    rnn.remove("proj_size", 0);
    rnn.remove("proj_size", 0L);
    Harness.obj(json.get("head")).remove("activation", "none");
  }

  /** One to four random edits anywhere in the JSON tree. */
  static Case tree(Random r, Golden g) {
    Map<String, Object> spec = Harness.deepCopy(g.spec());
    List<String> what = new ArrayList<>();
    for (int n = 1 + r.nextInt(4); n > 0; n--) {
      what.add(Harness.mutateTree(r, spec));
    }
    return new Case("tree: " + String.join("; ", what), g, json(spec, null), g.st(), Expect.ANY);
  }

  /** Byte- and text-level damage to model.json. */
  static Case textual(Random r, Golden g) {
    byte[] json = g.json();
    String text = new String(json, StandardCharsets.UTF_8);
    Expect expect = Expect.REFUSE;
    String what;
    byte[] out;
    switch (r.nextInt(14)) {
      case 0, 1 -> {
        out = json.clone();
        int flips = 1 + r.nextInt(4);
        for (int i = 0; i < flips; i++) {
          out[r.nextInt(out.length)] ^= (byte) (1 << r.nextInt(8));
        }
        expect = Expect.ANY;
        what = flips + " bit flips";
      }
      case 2 -> {
        out = json.clone();
        int at = r.nextInt(out.length);
        out[at] = (byte) r.nextInt(256);
        expect = Expect.ANY;
        what = "byte " + at + " = " + (out[at] & 0xff);
      }
      case 3 -> {
        int at = r.nextInt(json.length);
        out = r.nextBoolean()
            ? Harness.splice(json, at, Math.min(1 + r.nextInt(4), json.length - at), new byte[0])
            : Harness.splice(json, at, 0, new byte[] {(byte) "{}[],:\"0-e \\".charAt(r.nextInt(12))});
        expect = Expect.ANY;
        what = "insert or delete at " + at;
      }
      case 4 -> {
        int cut = r.nextInt(text.lastIndexOf('}') + 1);
        out = Arrays.copyOf(json, cut);
        what = "truncated to " + cut + " bytes";
      }
      case 5 -> {
        out = ("\uFEFF" + text).getBytes(StandardCharsets.UTF_8);
        what = "byte order mark";
      }
      case 6 -> {
        byte[][] bad = {{(byte) 0x80}, {(byte) 0xc0, (byte) 0xaf}, {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
            {(byte) 0xff}, {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}};
        byte[] b = bad[r.nextInt(bad.length)];
        int at = r.nextInt(json.length - b.length + 1);
        out = json.clone();
        System.arraycopy(b, 0, out, at, b.length);
        what = "invalid UTF-8 " + Harness.hex(b) + " at " + at;
      }
      case 7 -> {
        Map<String, Object> spec = Harness.deepCopy(g.spec());
        String section = Harness.pick(r, List.of("", "input", "rnn", "head"));
        Map<String, Object> target = section.isEmpty() ? spec : Harness.obj(spec.get(section));
        List<Object[]> entries = Harness.entries(target);
        Object[] e = Harness.pick(r, entries);
        entries.add(r.nextInt(entries.size() + 1), new Object[] {e[0], Harness.deepCopy(e[1])});
        Object dup = new Harness.Dup(entries);
        out = (section.isEmpty() ? Harness.write(dup, null) : replaceSection(spec, section, dup))
            .getBytes(StandardCharsets.UTF_8);
        what = "duplicate key " + section + "." + e[0];
      }
      case 8 -> {
        String tail = Harness.pick(r, List.of("x", "{}", ",", "]", "}", "\u0000", "null", "/**/", "\"s\""));
        out = (text + tail).getBytes(StandardCharsets.UTF_8);
        what = "trailing " + Harness.escape(tail);
      }
      case 9 -> {
        int depth = Harness.pick(r, List.of(1, 10, 63, 64, 65, 1000, 100_000));
        String nested = r.nextBoolean() ? "[".repeat(depth) + "]".repeat(depth)
            : "{\"rnn\":".repeat(depth) + "{}" + "}".repeat(depth);
        String section = Harness.pick(r, List.of("input", "rnn", "head"));
        out = replaceSection(Harness.deepCopy(g.spec()), section, new Harness.Raw(nested))
            .getBytes(StandardCharsets.UTF_8);
        what = "nesting depth " + depth + " in " + section;
      }
      case 10 -> {
        Map<String, Object> spec = Harness.deepCopy(g.spec());
        String section = Harness.pick(r, List.of("input", "rnn", "head"));
        Map<String, Object> target = Harness.obj(spec.get(section));
        int count = 1000 << (r.nextInt(8) == 0 ? 4 + r.nextInt(3) : r.nextInt(4));
        for (int i = 0; i < count; i++) {
          target.put("unknown" + i, (long) i);
        }
        out = Harness.write(spec, null).getBytes(StandardCharsets.UTF_8);
        what = count + " unknown keys in " + section;
      }
      case 11 -> {
        String[] whole = {"", " ", "null", "[]", "{}", "\"seqpack-model/1\"", "1", "{\"format\":\"seqpack-model/1\"}",
            text.replace('"', '\''), text.replaceFirst("}", ",}"), "//c\n" + text, "[" + text + "]"};
        String w = whole[r.nextInt(whole.length)];
        out = w.getBytes(StandardCharsets.UTF_8);
        what = "whole file " + Harness.escape(Harness.shorten(w, 30));
      }
      case 12 -> {
        Map<String, Object> spec = Harness.deepCopy(g.spec());
        String key = Harness.pick(r, List.of("mode", "hidden_size", "bias"));
        Harness.obj(spec.get("rnn")).put(key, "M".repeat(1 << (10 + r.nextInt(11))));
        out = Harness.write(spec, null).getBytes(StandardCharsets.UTF_8);
        what = "long string for rnn." + key;
      }
      default -> {
        Map<String, Object> spec = Harness.deepCopy(g.spec());
        String section = Harness.pick(r, List.of("", "input", "rnn", "head"));
        Map<String, Object> target = section.isEmpty() ? spec : Harness.obj(spec.get(section));
        int len = 1 << (8 + r.nextInt(13));
        target.put("K".repeat(len), 1L);
        out = Harness.write(spec, null).getBytes(StandardCharsets.UTF_8);
        what = len + "-character key in " + (section.isEmpty() ? "the top level" : section);
      }
    }
    return new Case("textual: " + what, g, out, g.st(), expect);
  }

  private static String replaceSection(Map<String, Object> spec, String section, Object value) {
    List<Object[]> entries = Harness.entries(spec);
    for (Object[] e : entries) {
      if (e[0].equals(section)) {
        e[1] = value;
      }
    }
    return Harness.write(new Harness.Dup(entries), null);
  }

  /**
   * Sizes at (or just past) their limits — thousands of layers, million-wide layers — with safetensors that
   * cannot match: the golden file, or a header naming every expected tensor with empty or tiny data. Must be
   * refused quickly, without allocating anything of the declared sizes.
   */
  static Case hugeSpec(Random r, Golden g) {
    Map<String, Object> spec = Harness.deepCopy(g.spec());
    Map<String, Object> input = Harness.obj(spec.get("input"));
    Map<String, Object> rnn = Harness.obj(spec.get("rnn"));
    List<String> what = new ArrayList<>();
    boolean pastLimit = r.nextInt(5) == 0;
    for (int n = 1 + r.nextInt(3); n > 0; n--) {
      switch (r.nextInt(6)) {
        case 0 -> rnn.put("hidden_size", (long) ModelSpec.MAX_DIM + (pastLimit ? 1 : 0));
        case 1 -> rnn.put("num_layers", (long) ModelSpec.MAX_LAYERS + (pastLimit ? 1 : 0));
        case 2 -> rnn.put("bidirectional", true);
        case 3 -> Harness.obj(spec.get("head")).put("out_features", (long) ModelSpec.MAX_DIM);
        case 4 -> {
          if ("tokens".equals(input.get("kind"))) {
            input.put("vocab_size", (long) ModelSpec.MAX_VOCAB_SIZE);
            input.put("embedding_dim", (long) ModelSpec.MAX_DIM);
          } else {
            input.put("input_size", (long) ModelSpec.MAX_DIM);
          }
        }
        default -> {
          rnn.put("mode", "LSTM");
          rnn.put("proj_size", ((Long) rnn.get("hidden_size")) - 1);
        }
      }
    }
    if (spec.equals(g.spec())) { // e.g. bidirectional=true on a bidirectional model
      rnn.put("hidden_size", (long) ModelSpec.MAX_DIM);
    }
    what.add("rnn " + Harness.write(rnn, null));
    byte[] json = json(spec, null);
    ModelSpec parsed;
    try {
      parsed = ModelSpec.parse(new String(json, StandardCharsets.UTF_8), "x");
    } catch (io.seqpack.ModelFormatException e) {
      return new Case("huge spec (invalid): " + what, g, json, g.st(), Expect.REFUSE);
    }
    Map<String, int[]> shapes = ModelLoader.expectedShapes(parsed);
    Map<String, Object> header = new LinkedHashMap<>();
    int variant = r.nextInt(4);
    int extras = variant == 1 ? 1000 << (r.nextInt(8) == 0 ? 4 + r.nextInt(2) : r.nextInt(4)) : 0;
    byte[] data = new byte[variant == 3 ? 4 * shapes.size() : 0];
    long offset = 0;
    for (Map.Entry<String, int[]> e : shapes.entrySet()) {
      Map<String, Object> info = new LinkedHashMap<>();
      info.put("dtype", "F32");
      List<Object> shape = new ArrayList<>();
      switch (variant) {
        case 2 -> Arrays.stream(e.getValue()).forEach(d -> shape.add((long) d));
        case 3 -> shape.add(1L);
        default -> shape.add(0L);
      }
      info.put("shape", shape);
      long end = variant == 3 ? offset + 4 : offset;
      info.put("data_offsets", List.of(offset, end));
      offset = end;
      header.put(e.getKey(), info);
    }
    for (int i = 0; i < extras; i++) {
      header.put("extra." + i, Map.of("dtype", "F32", "shape", List.of(0L), "data_offsets", List.of(0L, 0L)));
    }
    byte[] st = variant == 0 ? g.st() : Harness.safetensors(Harness.write(header, null), data);
    String[] variants = {"golden tensors", "empty tensors + " + extras + " extras", "declared shapes, no data",
        "[1] tensors"};
    return new Case("huge spec: " + what + " with " + shapes.size() + " expected tensors, " + variants[variant], g,
        json, st, Expect.REFUSE);
  }

  /** Rewrites that must load the same model: defaults omitted, negative padding_idx, key order, spacing. */
  static Case equivalent(Random r, Golden g) {
    Map<String, Object> spec = Harness.deepCopy(g.spec());
    List<String> what = new ArrayList<>();
    if (r.nextBoolean()) {
      omitDefaults(spec);
      what.add("defaults omitted");
    }
    Map<String, Object> input = Harness.obj(spec.get("input"));
    if (input.get("padding_idx") instanceof Long p && r.nextBoolean()) {
      long vocab = (Long) input.get("vocab_size");
      input.put("padding_idx", p == 0 && r.nextBoolean() ? new Harness.Raw("-0") : (Object) (p - vocab));
      what.add("padding_idx " + Harness.write(input.get("padding_idx"), null));
    }
    if (r.nextBoolean()) {
      shuffleKeys(spec, r);
      what.add("keys shuffled");
    }
    boolean styled = r.nextBoolean();
    if (styled) {
      what.add("styled");
    }
    String text = Harness.write(spec, styled ? r : null);
    if (r.nextBoolean()) {
      text = " \n" + text + "\r\n\t ";
      what.add("surrounding whitespace");
    }
    return new Case("equivalent: " + String.join(", ", what), g, text.getBytes(StandardCharsets.UTF_8), g.st(),
        Expect.SAME);
  }

  private static void shuffleKeys(Object node, Random r) {
    if (node instanceof Map<?, ?> raw) {
      Map<String, Object> map = Harness.obj(raw);
      List<Map.Entry<String, Object>> entries = new ArrayList<>(map.entrySet().stream()
          .map(e -> Map.entry(e.getKey(), e.getValue() == null ? new Harness.Raw("null") : e.getValue())).toList());
      Collections.shuffle(entries, r);
      map.clear();
      entries.forEach(e -> map.put(e.getKey(), e.getValue()));
      map.values().forEach(v -> shuffleKeys(v, r));
    }
  }

  private static byte[] json(Map<String, Object> spec, Random style) {
    return Harness.write(spec, style).getBytes(StandardCharsets.UTF_8);
  }
}
