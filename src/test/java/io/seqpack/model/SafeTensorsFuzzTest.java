package io.seqpack.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.seqpack.ModelFormatException;
import io.seqpack.testing.TestJson;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Fuzzes {@link SafeTensors#read} through {@link ModelLoader#load(ModelBytes, String, boolean)}: every golden model
 * directory (each model kind) is mutated thousands of ways — bit flips, byte overwrites, truncation at every region
 * boundary, bad header lengths, structural header mutations re-serialized with a corrected length prefix (so they
 * reach the deep validation, not just the framing), non-UTF-8, duplicate keys, deep nesting, huge headers,
 * non-finite weights — and every case must either load a model that passes validation or be refused with a
 * {@link ModelFormatException}: never another exception, never a hang (2 s per case), never an allocation out of
 * proportion to the input.
 *
 * <p>{@code -Dseqpack.fuzz.iterations=N} (default 3000) and {@code -Dseqpack.fuzz.seed=S} control the run; a case
 * is reproducible from the seed and its index. Failing inputs are written to {@code target/fuzz-failures/}. The
 * seed corpus in {@code src/test/resources/fuzz/} (see its README.txt) is replayed with exact expected outcomes.
 */
class SafeTensorsFuzzTest {

  @Test
  void mutatedSafetensorsLoadOrAreRefusedWithModelFormatException() {
    Harness.run("safetensors", SafeTensorsFuzzTest::generate);
  }

  @Test
  void seedCorpusReplaysWithItsDocumentedOutcome() throws IOException {
    List<String> lines = Files.readAllLines(Harness.CORPUS.resolve("README.txt"), StandardCharsets.UTF_8);
    int cases = 0;
    List<String> problems = new ArrayList<>();
    for (String line : lines) {
      if (!line.matches("^\\d\\d-.*")) {
        continue;
      }
      String[] parts = line.split(" \\| ", 4);
      assertEquals(4, parts.length, "malformed corpus line: " + line);
      String name = parts[0].trim();
      byte[] st = Harness.corpusFile(parts[1].trim());
      byte[] json = Harness.corpusFile(parts[2].trim());
      String expected = parts[3].trim();
      cases++;
      Object outcome;
      try {
        outcome = ModelLoader.load(new ModelBytes(json, st), Harness.SOURCE, false);
      } catch (ModelFormatException e) {
        outcome = e;
      } catch (RuntimeException | Error e) {
        problems.add(name + ": threw " + e);
        continue;
      }
      String streamed = streamedDifference(json, st, outcome);
      if (streamed != null) {
        problems.add(name + ": read as a stream, " + streamed);
      }
      if (expected.equals("loads")) {
        if (outcome instanceof ModelFormatException e) {
          problems.add(name + ": expected to load, refused: " + e.getMessage());
        } else {
          String invalid = Harness.validate((LoadedModel) outcome, new ModelBytes(json, st));
          if (invalid != null) {
            problems.add(name + ": loaded an invalid model: " + invalid);
          }
        }
      } else if (expected.startsWith("refused: ")) {
        String substring = expected.substring("refused: ".length());
        if (!(outcome instanceof ModelFormatException e)) {
          problems.add(name + ": expected a refusal containing \"" + substring + "\", but it loaded");
        } else if (!e.getMessage().contains(substring)) {
          problems.add(name + ": expected a refusal containing \"" + substring + "\", got: " + e.getMessage());
        }
      } else {
        fail("unknown expected outcome in corpus line: " + line);
      }
    }
    assertTrue(cases >= 15, "the seed corpus should hold at least 15 cases, found " + cases);
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  /**
   * How reading {@code st} as a stream ({@link ModelLoader#load(byte[], java.io.InputStream, long, String,
   * boolean)}, what large models use) differs from reading its bytes, which gave {@code outcome}; null if it does
   * not: the same message, or the same tensors and content hash.
   */
  private static String streamedDifference(byte[] json, byte[] st, Object outcome) {
    Object streamed;
    try {
      streamed = ModelLoader.load(json, new java.io.ByteArrayInputStream(st), st.length, Harness.SOURCE, false);
    } catch (ModelFormatException e) {
      streamed = e;
    } catch (IOException | RuntimeException | Error e) {
      return "threw " + e;
    }
    if (outcome instanceof ModelFormatException e) {
      return streamed instanceof ModelFormatException s && s.getMessage().equals(e.getMessage()) ? null
          : "expected the refusal \"" + e.getMessage() + "\", got " + describe(streamed);
    }
    if (!(streamed instanceof LoadedModel s)) {
      return "expected it to load, got " + describe(streamed);
    }
    LoadedModel bytes = (LoadedModel) outcome;
    if (!s.contentHash().equals(bytes.contentHash()) || !s.tensors().keySet().equals(bytes.tensors().keySet())) {
      return "loaded another model (hash " + s.contentHash() + ", expected " + bytes.contentHash() + ")";
    }
    for (String tensor : bytes.tensors().keySet()) {
      if (!java.util.Arrays.equals(s.tensor(tensor).data(), bytes.tensor(tensor).data())) {
        return "tensor " + tensor + " differs";
      }
    }
    return null;
  }

  private static String describe(Object outcome) {
    return outcome instanceof ModelFormatException e ? "the refusal \"" + e.getMessage() + "\"" : "a model";
  }

  /**
   * Headers of exactly {@link SafeTensors#MAX_MODEL_HEADER_BYTES} of the costliest kinds — many tensors,
   * many metadata keys, millions of tiny JSON values — must be handled within the per-case time and allocation
   * bounds; one byte more is refused before parsing.
   */
  @Test
  void headersAtTheSizeLimitAreHandledWithinBounds() {
    Harness.Golden g = Harness.golden("rnn_tanh");
    int limit = (int) SafeTensors.MAX_MODEL_HEADER_BYTES;
    Harness.Layout l = Harness.layout(g.tensors(), g.keyOrder(), null);
    String base = Harness.write(l.header, null);
    List<String> problems = new ArrayList<>();
    // Each costs about a second: the quick run covers the worst kind, longer runs all of them.
    List<String> kinds = Harness.iterations() > Harness.DEFAULT_ITERATIONS
        ? List.of("tensors", "metadata", "arrays", "numbers", "over") : List.of("tensors", "over");
    for (String kind : kinds) {
      StringBuilder sb = new StringBuilder(limit + 1).append(base, 0, base.length() - 1);
      Harness.Expect expect = Harness.Expect.REFUSE;
      switch (kind) {
        case "tensors" -> {
          for (int i = 0; sb.length() < limit - 100; i++) {
            sb.append(",\"x").append(i).append("\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}");
          }
        }
        case "metadata" -> {
          sb.append(",\"__metadata__\":{\"k\":\"v\"");
          for (int i = 0; sb.length() < limit - 100; i++) {
            sb.append(",\"k").append(i).append("\":\"\"");
          }
          sb.append('}');
          expect = Harness.Expect.SAME;
        }
        case "arrays", "numbers" -> {
          String item = kind.equals("arrays") ? "[]" : "0";
          sb.append(",\"__metadata__\":{\"x\":[").append(item);
          while (sb.length() < limit - 100) {
            sb.append(',').append(item);
          }
          sb.append("]}");
        }
        default -> {}
      }
      sb.append('}');
      sb.append(" ".repeat(limit - sb.length() + (kind.equals("over") ? 1 : 0)));
      Harness.Case c = new Harness.Case("header of " + sb.length() + " bytes: " + kind, g, g.json(),
          Harness.safetensors(sb.toString(), l.data), expect);
      Harness.Outcome o = assertTimeoutPreemptively(Duration.ofMillis(Harness.HANG_LIMIT_MILLIS),
          () -> Harness.execute(c));
      String problem = Harness.evaluate(c, o);
      System.out.printf(Locale.ROOT, "[fuzz limit] %s: %s in %.0f ms CPU, %.0f MiB allocated%n", c.what(),
          o.thrown() == null ? "loaded" : Harness.shorten(String.valueOf(o.thrown().getMessage()), 100),
          o.cpuNanos() / 1e6, o.allocated() / 1048576.0);
      if (problem != null) {
        problems.add(c.what() + ": " + problem);
      }
      if (kind.equals("over") && !(o.thrown() != null && o.thrown().getMessage().contains("for a model"))) {
        problems.add(c.what() + ": expected the size-limit refusal");
      }
    }
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  /**
   * Regenerates {@code src/test/resources/fuzz/} from the golden models: {@code mvn -o test
   * -Dtest=SafeTensorsFuzzTest -Dseqpack.fuzz.writeCorpus=true}.
   */
  @Test
  @EnabledIfSystemProperty(named = "seqpack.fuzz.writeCorpus", matches = "true")
  void writeSeedCorpus() throws IOException {
    SeedCorpus.write(Harness.CORPUS);
  }

  // ------------------------------------------------------------------------------------------ generator

  static Harness.Case generate(Random r) {
    Harness.Golden g = Harness.pick(r, Harness.golden());
    int k = r.nextInt(100);
    if (k < 16) {
      return byteMutation(r, g);
    } else if (k < 26) {
      return truncation(r, g);
    } else if (k < 33) {
      return headerLength(r, g);
    } else if (k < 41) {
      return preserving(r, g);
    } else if (k < 45) {
      return nonUtf8(r, g);
    } else if (k < 55) {
      return textual(r, g);
    } else if (k < 58) {
      return huge(r, g);
    } else if (k < 62) {
      return nonFinite(r, g);
    }
    return structural(r, g);
  }

  private static final byte[] INTERESTING_BYTES = bytes(0, 0xff, 0x7f, 0x80, '{', '}', '[', ']', '"', ',', ':', '\\',
      '0', '1', '9', '-', 'e', '.', ' ', 'n', 0xc0, 0xed, 0xfe, 0x01, 0x20);

  private static byte[] bytes(int... values) {
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (byte) values[i];
    }
    return out;
  }

  /** Random bit flips, overwrites, insertions and deletions, mostly in the length and header. */
  static Harness.Case byteMutation(Random r, Harness.Golden g) {
    byte[] st = g.st().clone();
    int ops = 1 + r.nextInt(r.nextBoolean() ? 2 : 8);
    StringBuilder what = new StringBuilder("bytes");
    for (int op = 0; op < ops && st.length > 0; op++) {
      int headerEnd = Math.min(st.length, 8 + g.headerLength());
      int pos = r.nextInt(4) != 0 ? r.nextInt(headerEnd) : r.nextInt(st.length);
      switch (r.nextInt(6)) {
        case 0, 1 -> {
          int bit = r.nextInt(8);
          st[pos] ^= (byte) (1 << bit);
          what.append(" flip@").append(pos).append('.').append(bit);
        }
        case 2 -> {
          st[pos] = INTERESTING_BYTES[r.nextInt(INTERESTING_BYTES.length)];
          what.append(" set@").append(pos).append('=').append(st[pos] & 0xff);
        }
        case 3 -> {
          st[pos] = (byte) r.nextInt(256);
          what.append(" set@").append(pos).append('=').append(st[pos] & 0xff);
        }
        case 4 -> {
          int n = 1 + r.nextInt(4);
          byte[] ins = new byte[n];
          for (int i = 0; i < n; i++) {
            ins[i] = INTERESTING_BYTES[r.nextInt(INTERESTING_BYTES.length)];
          }
          st = Harness.splice(st, pos, 0, ins);
          what.append(" insert@").append(pos).append('+').append(n);
        }
        default -> {
          int n = Math.min(1 + r.nextInt(4), st.length - pos);
          st = Harness.splice(st, pos, n, new byte[0]);
          what.append(" delete@").append(pos).append('-').append(n);
        }
      }
    }
    return new Harness.Case(what.toString(), g, g.json(), st, Harness.Expect.ANY);
  }

  /** Truncation at a region boundary (or just around it), or trailing bytes: always refused. */
  static Harness.Case truncation(Random r, Harness.Golden g) {
    byte[] st = g.st();
    int dataStart = 8 + g.headerLength();
    if (r.nextInt(5) == 0) {
      int n = 1 + r.nextInt(16);
      byte[] extra = new byte[n];
      if (r.nextBoolean()) {
        r.nextBytes(extra);
      }
      return new Harness.Case("append " + n + " bytes", g, g.json(), Harness.splice(st, st.length, 0, extra),
          Harness.Expect.REFUSE);
    }
    List<Integer> cuts = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (int i = 0; i <= 8; i++) {
      cuts.add(i);
      names.add(i < 8 ? "inside the length" : "after the length");
    }
    cuts.add(8 + r.nextInt(g.headerLength()));
    names.add("inside the header");
    cuts.add(dataStart - 1);
    names.add("before the header's last byte");
    cuts.add(dataStart);
    names.add("at the header end");
    cuts.add(dataStart + 1);
    names.add("one byte into the data");
    long offset = 0;
    for (Harness.RawTensor t : g.tensors()) {
      int len = t.bytes().length;
      cuts.add(dataStart + (int) offset);
      names.add("at the start of " + t.name());
      if (len > 0) {
        cuts.add(dataStart + (int) offset + r.nextInt(len));
        names.add("inside " + t.name());
        cuts.add(dataStart + (int) offset + len - 1);
        names.add("before the last byte of " + t.name());
      }
      offset += len;
    }
    cuts.add(st.length - 1);
    names.add("before the last byte");
    int i = r.nextInt(cuts.size());
    int cut = cuts.get(i);
    return new Harness.Case("truncate to " + cut + " bytes (" + names.get(i) + ")", g, g.json(),
        Arrays.copyOf(st, cut), Harness.Expect.REFUSE);
  }

  /** A wrong header length N in the 8-byte prefix: always refused. */
  static Harness.Case headerLength(Random r, Harness.Golden g) {
    long n = g.headerLength();
    long len = g.st().length;
    long[] values = {0, 1, 2, 7, 8, n - 1, n + 1, n - 8, n + 8, n - 2, len - 8, len - 7, len, Long.MAX_VALUE, -1,
        Long.MIN_VALUE, SafeTensors.MAX_HEADER_BYTES, SafeTensors.MAX_HEADER_BYTES + 1, (1L << 32) + n,
        (1L << 56) + n, n | Long.MIN_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE + 1L, 0xffffffffL,
        r.nextLong(), r.nextInt((int) len + 16)};
    long v;
    do {
      v = values[r.nextInt(values.length)];
    } while (v == n);
    byte[] st = g.st().clone();
    ByteBuffer.wrap(st).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v);
    return new Harness.Case("header length " + Long.toUnsignedString(v) + " (actual " + n + ")", g, g.json(), st,
        Harness.Expect.REFUSE);
  }

  /**
   * Rewrites that keep the meaning: data reordered, header keys reordered, random whitespace and {@code \\u}
   * escapes, padding, metadata dropped/extended, tensors widened to F32/F64. The model must load unchanged.
   */
  static Harness.Case preserving(Random r, Harness.Golden g) {
    List<Harness.RawTensor> data = new ArrayList<>(g.tensors());
    StringBuilder what = new StringBuilder("preserving");
    if (r.nextBoolean()) {
      Collections.shuffle(data, r);
      what.append(" shuffled-data");
    }
    if (r.nextInt(3) == 0) {
      for (int i = 0; i < data.size(); i++) {
        if (r.nextInt(3) == 0) {
          String dtype = r.nextBoolean() ? "F32" : "F64";
          data.set(i, Harness.widen(data.get(i), g, dtype));
          what.append(' ').append(data.get(i).name()).append("->").append(dtype);
        }
      }
    }
    List<String> keys = new ArrayList<>(g.keyOrder());
    if (r.nextBoolean()) {
      Collections.shuffle(keys, r);
      what.append(" shuffled-keys");
    }
    Map<String, Object> metadata = g.metadata();
    switch (r.nextInt(4)) {
      case 0 -> {
        metadata = null;
        what.append(" no-metadata");
      }
      case 1 -> {
        metadata = new LinkedHashMap<>();
        what.append(" empty-metadata");
      }
      case 2 -> {
        metadata = metadata == null ? new LinkedHashMap<>() : new LinkedHashMap<>(metadata);
        metadata.put("note", "ünïcødé ✓ \u0000 \" \\ /");
        metadata.put("", "");
        metadata.put("hidden_size", "12");
        what.append(" more-metadata");
      }
      default -> {}
    }
    Harness.Layout l = Harness.layout(data, keys, metadata);
    boolean styled = r.nextBoolean();
    String text = Harness.write(l.header, styled ? r : null);
    if (styled) {
      what.append(" styled");
    }
    String lead = r.nextInt(4) == 0 ? " \n\t\r".substring(r.nextInt(4)) : "";
    text = lead + text;
    int pad = switch (r.nextInt(3)) {
      case 0 -> 0;
      case 1 -> (8 - text.getBytes(StandardCharsets.UTF_8).length % 8) % 8;
      default -> r.nextInt(20);
    };
    text = text + " \t\n\r".repeat(5).substring(0, pad);
    return new Harness.Case(what.toString(), g, g.json(), Harness.safetensors(text, l.data), Harness.Expect.SAME);
  }

  private static final byte[][] INVALID_UTF8 = {
    bytes(0x80), bytes(0xbf), bytes(0xc0, 0xaf), bytes(0xc1, 0xbf), bytes(0xc3, 0x28), bytes(0xe2, 0x82),
    bytes(0xed, 0xa0, 0x80), bytes(0xed, 0xbf, 0xbf), bytes(0xe0, 0x80, 0xaf), bytes(0xf4, 0x90, 0x80, 0x80),
    bytes(0xf8, 0x88, 0x80, 0x80), bytes(0xff), bytes(0xfe), bytes(0xf0, 0x9f, 0x98)
  };

  /** An invalid UTF-8 sequence somewhere in the header: always refused. */
  static Harness.Case nonUtf8(Random r, Harness.Golden g) {
    byte[] bad = INVALID_UTF8[r.nextInt(INVALID_UTF8.length)];
    byte[] st = g.st().clone();
    int pos = 8 + r.nextInt(g.headerLength() - bad.length + 1);
    System.arraycopy(bad, 0, st, pos, bad.length);
    return new Harness.Case("invalid UTF-8 " + Harness.hex(bad) + " at " + pos, g, g.json(), st,
        Harness.Expect.REFUSE);
  }

  /** Text-level header mutations with a corrected length prefix. */
  static Harness.Case textual(Random r, Harness.Golden g) {
    Harness.Layout l = Harness.layout(g.tensors(), g.keyOrder(), g.metadata());
    String text = Harness.write(l.header, null);
    List<Object[]> entries = Harness.entries(l.header);
    String name = Harness.pick(r, g.tensors()).name();
    Harness.Expect expect = Harness.Expect.REFUSE;
    String what;
    switch (r.nextInt(14)) {
      case 0 -> {
        Object[] e = entries.get(r.nextInt(entries.size()));
        entries.add(r.nextInt(entries.size() + 1), new Object[] {e[0], Harness.deepCopy(e[1])});
        text = Harness.write(new Harness.Dup(entries), null);
        what = "duplicate key " + e[0];
      }
      case 1 -> {
        List<Object[]> info = Harness.entries(Harness.obj(l.header.get(name)));
        Object[] f = info.get(r.nextInt(info.size()));
        info.add(new Object[] {f[0], Harness.deepCopy(f[1])});
        replaceEntry(entries, name, new Harness.Dup(info));
        text = Harness.write(new Harness.Dup(entries), null);
        what = "duplicate field " + f[0] + " in " + name;
      }
      case 2 -> {
        List<Object[]> meta = new ArrayList<>();
        meta.add(new Object[] {"format", "pt"});
        meta.add(new Object[] {"format", r.nextBoolean() ? "pt" : "np"});
        entries.removeIf(e -> e[0].equals(Harness.META));
        entries.add(0, new Object[] {Harness.META, new Harness.Dup(meta)});
        text = Harness.write(new Harness.Dup(entries), null);
        what = "duplicate metadata key";
      }
      case 3 -> {
        String[] garbage = {"x", "{}", ",", "]", "}", "\u0000", "null", "/*c*/", "\"s\"", "0", "{", "\uFEFF"};
        String tail = Harness.pick(r, Arrays.asList(garbage));
        text = text + (r.nextBoolean() ? " " : "") + tail;
        what = "trailing " + Harness.escape(tail);
      }
      case 4 -> {
        text = "\uFEFF" + text;
        what = "byte order mark";
      }
      case 5 -> {
        text = text + "\u0000".repeat(1 + r.nextInt(8));
        what = "NUL padding";
      }
      case 6 -> {
        text = text.substring(0, text.length() - 1) + ",}";
        what = "trailing comma";
      }
      case 7 -> {
        String[] nonObjects = {"[]", "null", "\"x\"", "1", "true", "[{}]", "{}", "{\"__metadata__\":{}}", "  ", "{",
            "[" + text + "]", "\"" + text.replace("\"", "\\\"") + "\""};
        text = Harness.pick(r, Arrays.asList(nonObjects));
        what = "header replaced by " + Harness.shorten(text, 40);
      }
      case 8 -> {
        int[] depths = {1, 2, 63, 64, 65, 66, 200, 5000, 100_000};
        int depth = depths[r.nextInt(depths.length)];
        String nested = r.nextBoolean()
            ? "[".repeat(depth) + "]".repeat(depth)
            : "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
        if (r.nextInt(4) == 0) {
          nested = nested.substring(0, depth); // unbalanced
        }
        String where = r.nextBoolean() ? Harness.META : name;
        replaceEntry(entries, where, new Harness.Raw(nested));
        if (!entries.stream().anyMatch(e -> e[0].equals(where))) {
          entries.add(new Object[] {where, new Harness.Raw(nested)});
        }
        text = Harness.write(new Harness.Dup(entries), null);
        what = "nesting depth " + depth + " at " + where;
      }
      case 9 -> {
        // a tensor name spelled with escapes: valid escapes load, invalid ones are refused
        int at = r.nextInt(name.length());
        String hexDigits = String.format(Locale.ROOT, "%04x", (int) name.charAt(at));
        String escaped;
        switch (r.nextInt(6)) {
          case 0 -> {
            escaped = "\\u" + hexDigits;
            expect = Harness.Expect.SAME;
          }
          case 1 -> {
            escaped = "\\u" + hexDigits.toUpperCase(Locale.ROOT);
            expect = Harness.Expect.SAME;
          }
          case 2 -> escaped = "\\u" + toNonAsciiDigits(hexDigits, r); // Character.digit would accept these
          case 3 -> escaped = name.charAt(at) + "\\ud800";
          case 4 -> escaped = name.charAt(at) + "\t";
          default -> escaped = "\\x" + hexDigits.substring(2);
        }
        String key = "\"" + name.substring(0, at) + escaped + name.substring(at + 1) + "\"";
        for (Object[] e : entries) {
          if (e[0].equals(name)) {
            e[0] = new Harness.Raw(key);
          }
        }
        text = Harness.write(new Harness.Dup(entries), null);
        what = "name spelled " + key;
      }
      case 10 -> {
        Map<String, Object> info = Harness.obj(l.header.get(name));
        String field = r.nextBoolean() ? "shape" : "data_offsets";
        @SuppressWarnings("unchecked")
        List<Object> list = (List<Object>) info.get(field);
        if (list.isEmpty()) {
          list.add(new Harness.Raw("-0"));
          what = "empty " + field + " given an element";
        } else {
          int i = r.nextInt(list.size());
          long v = (Long) list.get(i);
          String[] spellings = {v + ".0", v + "e0", v + "E+0", "+" + v, "0" + v, "00" + v, "-" + v, v + ".",
              "0x" + Long.toHexString(v), v + " " + v, "\"" + v + "\"", "1" + "0".repeat(400), "-0"};
          String spelled = Harness.pick(r, Arrays.asList(spellings));
          if (spelled.equals("-0") && v == 0) {
            expect = Harness.Expect.SAME;
          } else if (spelled.equals("-" + v) && v == 0) {
            expect = Harness.Expect.SAME;
          }
          list.set(i, new Harness.Raw(spelled));
          what = field + "[" + i + "] of " + name + " spelled " + spelled;
        }
        text = Harness.write(l.header, null);
      }
      case 11 -> {
        text = text.replace('"', '\'');
        what = "single quotes";
      }
      case 12 -> {
        int at = text.indexOf(',');
        String comment = r.nextBoolean() ? "/* comment */" : "// comment\n";
        text = text.substring(0, at + 1) + comment + text.substring(at + 1);
        what = "comment";
      }
      default -> {
        // a raw control character or a bad escape inside a metadata string
        String[] bad = {"\u0001", "\n", "\\q", "\\u12", "\\u12G4", "\\ud800", "\\udc00\\ud800"};
        String s = Harness.pick(r, Arrays.asList(bad));
        List<Object[]> meta = new ArrayList<>();
        meta.add(new Object[] {"format", new Harness.Raw("\"p" + s + "t\"")});
        entries.removeIf(e -> e[0].equals(Harness.META));
        entries.add(0, new Object[] {Harness.META, new Harness.Dup(meta)});
        text = Harness.write(new Harness.Dup(entries), null);
        what = "metadata string with " + Harness.escape(s);
      }
    }
    return new Harness.Case("textual: " + what, g, g.json(), Harness.safetensors(text, l.data), expect);
  }

  private static String toNonAsciiDigits(String hex, Random r) {
    // Arabic-Indic (U+0660), fullwidth (U+FF10 / U+FF21), Devanagari (U+0966) digits
    StringBuilder sb = new StringBuilder();
    for (char c : hex.toCharArray()) {
      int d = Character.digit(c, 16);
      if (d < 10) {
        int[] zeros = {0x0660, 0xff10, 0x0966};
        sb.append((char) (zeros[r.nextInt(zeros.length)] + d));
      } else {
        sb.append((char) (0xff21 + d - 10));
      }
    }
    return sb.toString();
  }

  private static void replaceEntry(List<Object[]> entries, String key, Object value) {
    for (Object[] e : entries) {
      if (e[0].equals(key)) {
        e[1] = value;
      }
    }
  }

  /** Headers with many keys, long strings, many dimensions. */
  static Harness.Case huge(Random r, Harness.Golden g) {
    Harness.Layout l = Harness.layout(g.tensors(), g.keyOrder(), g.metadata());
    int count = 1000 << (r.nextInt(8) == 0 ? 4 + r.nextInt(3) : r.nextInt(4)); // 1k..8k, sometimes 16k..64k
    String name = Harness.pick(r, g.tensors()).name();
    Map<String, Object> info = Harness.obj(l.header.get(name));
    Harness.Expect expect = Harness.Expect.REFUSE;
    String what;
    switch (r.nextInt(12)) {
      case 0 -> {
        Map<String, Object> meta = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
          meta.put("key" + i, "value" + i);
        }
        l.header.put(Harness.META, meta);
        expect = Harness.Expect.SAME;
        what = count + " metadata keys";
      }
      case 1 -> {
        String dtype = Harness.pick(r, List.of("F32", "F16", "BF16", "F64"));
        List<Object> shape = Harness.pick(r, List.of(List.of(0L), List.of(0L, 5L), List.of(7L, 0L, 3L)));
        long at = r.nextBoolean() ? 0 : l.data.length;
        for (int i = 0; i < count; i++) {
          Map<String, Object> e = new LinkedHashMap<>();
          e.put("dtype", dtype);
          e.put("shape", shape);
          e.put("data_offsets", List.of(at, at));
          l.header.put("extra." + i, e);
        }
        what = count + " extra empty tensors at " + at;
      }
      case 2 -> {
        for (int i = 0; i < count; i++) {
          info.put("field" + i, i);
        }
        what = count + " unknown fields in " + name;
      }
      case 3 -> {
        info.put("shape", new ArrayList<>(Collections.nCopies(count, 1L)));
        what = count + " dimensions for " + name;
      }
      case 4 -> {
        info.put("dtype", "F".repeat(count * (r.nextBoolean() ? 1 : 32)));
        what = "dtype of " + count + "+ characters";
      }
      case 5 -> {
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("blob", "x".repeat(count * 32));
        l.header.put(Harness.META, meta);
        expect = Harness.Expect.SAME;
        what = "metadata value of " + count * 32 + " characters";
      }
      case 6 -> {
        info.put("data_offsets", new ArrayList<>(Collections.nCopies(count, 0L)));
        what = count + " data_offsets for " + name;
      }
      case 7 -> {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("dtype", "F32");
        e.put("shape", List.of(0L));
        e.put("data_offsets", List.of(0L, 0L));
        l.header.put("n".repeat(count * 8), e);
        what = "extra tensor with a " + count * 8 + "-character name";
      }
      case 10 -> {
        String key = "k".repeat(count * 8);
        List<Object[]> entries = Harness.entries(l.header);
        entries.add(new Object[] {key, 0L});
        entries.add(new Object[] {key, 0L});
        String text = Harness.write(new Harness.Dup(entries), null);
        return new Harness.Case("huge: duplicate " + key.length() + "-character key", g, g.json(),
            Harness.safetensors(text, l.data), expect);
      }
      case 11 -> {
        info.put("f".repeat(count * 8), 0L);
        what = "unknown " + count * 8 + "-character field in " + name;
      }
      case 8 -> {
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("list", new ArrayList<>(Collections.nCopies(count, new ArrayList<>())));
        l.header.put(Harness.META, meta);
        what = "metadata list of " + count + " empty lists";
      }
      default -> {
        List<Object> shape = new ArrayList<>();
        shape.add(new Harness.Raw("1".repeat(r.nextBoolean() ? 399 : 401)));
        info.put("shape", shape);
        what = "400-digit dimension for " + name;
      }
    }
    String text = Harness.write(l.header, null);
    return new Harness.Case("huge: " + what, g, g.json(), Harness.safetensors(text, l.data), expect);
  }

  /** A NaN or infinity in one weight, encoded in the tensor's dtype: refused (non-finite weights not allowed). */
  static Harness.Case nonFinite(Random r, Harness.Golden g) {
    List<Harness.RawTensor> data = new ArrayList<>(g.tensors());
    int index = r.nextInt(data.size());
    Harness.RawTensor t = data.get(index);
    if (t.bytes().length == 0) {
      return preserving(r, g);
    }
    byte[] bytes = t.bytes().clone();
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    String value;
    switch (t.dtype()) {
      case "F32" -> {
        int[] bits = {0x7fc00000, 0x7f800000, 0xff800000, 0x7f800001, 0xffffffff};
        int v = bits[r.nextInt(bits.length)];
        b.putInt(4 * r.nextInt(bytes.length / 4), v);
        value = Integer.toHexString(v);
      }
      case "F64" -> {
        long[] bits = {0x7ff0000000000000L, 0xfff0000000000000L, 0x7ff8000000000000L, 0x7ff0000000000001L,
            Double.doubleToLongBits(1e300), Double.doubleToLongBits(-1e39)};
        long v = bits[r.nextInt(bits.length)];
        b.putLong(8 * r.nextInt(bytes.length / 8), v);
        value = Long.toHexString(v);
      }
      case "F16" -> {
        short[] bits = {0x7c00, (short) 0xfc00, 0x7e00, 0x7c01, (short) 0xffff};
        short v = bits[r.nextInt(bits.length)];
        b.putShort(2 * r.nextInt(bytes.length / 2), v);
        value = Integer.toHexString(v & 0xffff);
      }
      default -> {
        short[] bits = {0x7f80, (short) 0xff80, 0x7fc0, 0x7f81, (short) 0xffff};
        short v = bits[r.nextInt(bits.length)];
        b.putShort(2 * r.nextInt(bytes.length / 2), v);
        value = Integer.toHexString(v & 0xffff);
      }
    }
    data.set(index, new Harness.RawTensor(t.name(), t.dtype(), t.shape(), bytes));
    Harness.Layout l = Harness.layout(data, g.keyOrder(), g.metadata());
    return new Harness.Case("non-finite " + t.dtype() + " 0x" + value + " in " + t.name(), g, g.json(),
        Harness.safetensors(Harness.write(l.header, null), l.data), Harness.Expect.REFUSE);
  }

  private static final String[] DTYPES = {"F33", "f32", "", "FLOAT", "float32", "F32 ", " F32", "F 32", "I64", "I32",
    "I16", "I8", "U8", "U16", "U32", "U64", "BOOL", "F8_E5M2", "F8_E4M3", "F8_E8M0", "C64", "F4", "F6_E2M3",
    "F6_E3M2", "F16", "BF16", "F32", "F64", "bf16", "Ｆ32", "F32\u0000"};

  /**
   * Structure-aware mutations: parse, change tensors or header fields, re-serialize with a corrected length
   * prefix.
   */
  static Harness.Case structural(Random r, Harness.Golden g) {
    List<Harness.RawTensor> data = new ArrayList<>(g.tensors());
    List<String> keys = new ArrayList<>(g.keyOrder());
    List<String> what = new ArrayList<>();
    if (r.nextBoolean()) {
      Collections.shuffle(data, r);
    }
    int ops = 1 + r.nextInt(3);
    if (r.nextInt(3) == 0) {
      what.add(tensorListOp(r, data, g));
      ops--;
    }
    Harness.Layout l = Harness.layout(data, keys, g.metadata());
    for (int i = 0; i < ops; i++) {
      what.add(headerOp(r, l));
    }
    String text = Harness.write(l.header, null);
    return new Harness.Case("structural: " + String.join("; ", what), g, g.json(), Harness.safetensors(text, l.data),
        Harness.Expect.ANY);
  }

  /** Changes the tensor list itself (names, dtypes, shapes, bytes), before the header is laid out. */
  private static String tensorListOp(Random r, List<Harness.RawTensor> data, Harness.Golden g) {
    int i = r.nextInt(data.size());
    Harness.RawTensor t = data.get(i);
    switch (r.nextInt(7)) {
      case 0 -> {
        data.remove(i);
        return "drop " + t.name();
      }
      case 1 -> {
        String[] names = {"rnn.weight_ih_l9", "extra", "", "__metadata", "fc.bias ", "FC.BIAS", "rnn.weight_hr_l0",
            "rnn.weight_ih_l0_reverse", "embedding.weight", "rnn.bias_ih_l1", "ü", "\u0000"};
        String name = Harness.pick(r, Arrays.asList(names));
        int n = r.nextInt(5);
        byte[] bytes = new byte[4 * n];
        data.add(r.nextInt(data.size() + 1), new Harness.RawTensor(name, "F32", List.of((long) n), bytes));
        return "add " + Harness.escape(name) + " [" + n + "]";
      }
      case 2 -> {
        data.add(new Harness.RawTensor(t.name() + "_copy", t.dtype(), t.shape(), t.bytes()));
        return "copy " + t.name();
      }
      case 3 -> {
        String to = r.nextBoolean() ? Harness.pick(r, data).name() : t.name().replace("l0", "l1");
        data.set(i, new Harness.RawTensor(to, t.dtype(), t.shape(), t.bytes()));
        return "rename " + t.name() + " to " + to;
      }
      case 4 -> {
        List<Long> shape = new ArrayList<>(t.shape());
        String how;
        if (shape.size() >= 2 && r.nextBoolean()) {
          Collections.reverse(shape);
          how = "transpose";
        } else if (r.nextBoolean()) {
          shape.add(0, 1L);
          how = "add a leading 1";
        } else {
          long n = shape.stream().reduce(1L, (a, b) -> a * b);
          shape = List.of(n);
          how = "flatten";
        }
        data.set(i, new Harness.RawTensor(t.name(), t.dtype(), shape, t.bytes()));
        return how + " " + t.name() + " to " + shape;
      }
      case 5 -> {
        String dtype = switch (t.dtype()) {
          case "F16" -> "BF16";
          case "BF16" -> "F16";
          case "F32" -> r.nextBoolean() ? "I32" : "U32";
          default -> "I64";
        };
        data.set(i, new Harness.RawTensor(t.name(), dtype, t.shape(), t.bytes()));
        return "relabel " + t.name() + " as " + dtype;
      }
      default -> {
        int cut = t.bytes().length == 0 ? 0 : r.nextInt(t.bytes().length);
        data.set(i, new Harness.RawTensor(t.name(), t.dtype(), t.shape(), Arrays.copyOf(t.bytes(), cut)));
        return "cut " + t.name() + " to " + cut + " bytes";
      }
    }
  }

  /** Changes one field of the laid-out header (offsets, shapes, dtypes, entries, metadata) or any node. */
  @SuppressWarnings("unchecked")
  private static String headerOp(Random r, Harness.Layout l) {
    List<String> names = l.header.keySet().stream()
        .filter(k -> !k.equals(Harness.META) && l.header.get(k) instanceof Map)
        .collect(Collectors.toCollection(ArrayList::new));
    int op = r.nextInt(14);
    if (names.isEmpty() && op < 12) {
      op = 13;
    }
    String name = names.isEmpty() ? null : Harness.pick(r, names);
    Map<String, Object> info = name == null ? null : Harness.obj(l.header.get(name));
    Object offsetsValue = info == null ? null : info.get("data_offsets");
    List<Object> offsets = offsetsValue instanceof List<?> list && list.size() == 2 && list.get(0) instanceof Long
        && list.get(1) instanceof Long ? (List<Object>) list : null;
    if (offsets == null && op <= 2) {
      op = 3;
    }
    switch (op) {
      case 0 -> {
        long[] deltas = {-8, -4, -2, -1, 1, 2, 4, 8, 1L << 20, -(1L << 20), Long.MAX_VALUE / 2};
        long d = deltas[r.nextInt(deltas.length)];
        boolean both = r.nextBoolean();
        offsets.set(0, (Long) offsets.get(0) + d);
        if (both) {
          offsets.set(1, (Long) offsets.get(1) + d);
        }
        return "shift " + (both ? "offsets" : "begin") + " of " + name + " by " + d + " -> " + offsets;
      }
      case 1 -> {
        String other = Harness.pick(r, names);
        Map<String, Object> otherInfo = Harness.obj(l.header.get(other));
        Object theirs = otherInfo.get("data_offsets");
        otherInfo.put("data_offsets", offsets);
        info.put("data_offsets", theirs);
        return "swap offsets of " + name + " and " + other;
      }
      case 2 -> {
        long begin = (Long) offsets.get(0);
        long end = (Long) offsets.get(1);
        offsets.set(0, end);
        offsets.set(1, begin);
        if (r.nextBoolean()) {
          offsets.set(1, end - 1);
        }
        return "offsets of " + name + " backwards: " + offsets;
      }
      case 3 -> {
        Object v = Harness.pick(r, Harness.interestingNumbers());
        Object[] shapes = {new ArrayList<>(), new ArrayList<>(List.of(0L)), new ArrayList<>(List.of(0L, 0L, 0L)), "0,4",
            null, new LinkedHashMap<>(), new ArrayList<>(List.of(new ArrayList<>(List.of(0L)), 4L)),
            new ArrayList<>(Arrays.asList(v, v)), new ArrayList<>(Arrays.asList(0L, v))};
        Object value = r.nextBoolean() ? shapes[r.nextInt(shapes.length)] : null;
        if (value == null && offsetsValue instanceof List<?> list && !list.isEmpty()) {
          List<Object> copy = new ArrayList<>(list);
          copy.set(r.nextInt(copy.size()), v);
          value = copy;
        }
        info.put("data_offsets", value);
        return "data_offsets of " + name + " = " + Harness.shorten(Harness.write(value, null), 60);
      }
      case 4, 5 -> {
        Object v = Harness.pick(r, Harness.interestingNumbers());
        long m = Integer.MAX_VALUE;
        Object[] shapes = {List.of(m, m, m), List.of(m, m), List.of(65536L, 65536L), List.of(46340L, 46340L),
            List.of(1L << 31, 1L), List.of(-1L), List.of(-1L, -1L), List.of(0L), List.of(), List.of(1L, 1L, 1L, 1L, 1L,
            1L, 1L, 1L, 1L), List.of(m, m, m, m, m, m, m, m), List.of(3037000500L, 3037000500L),
            List.of(1L << 62, 2L, 2L), Collections.singletonList(v), Arrays.asList(1L, v), "[1]",
            List.of(Collections.emptyList())};
        Object value = shapes[r.nextInt(shapes.length)];
        info.put("shape", value);
        return "shape of " + name + " = " + Harness.shorten(Harness.write(value, null), 80);
      }
      case 6 -> {
        Object shape = info.get("shape");
        if (shape instanceof List<?> list && !list.isEmpty()) {
          List<Object> copy = new ArrayList<>(list);
          int i = r.nextInt(copy.size());
          Object v = r.nextBoolean() ? Harness.pick(r, Harness.interestingNumbers())
              : copy.get(i) instanceof Long n ? (Object) (n + (r.nextBoolean() ? 1 : -1)) : null;
          copy.set(i, v);
          info.put("shape", copy);
          return "shape[" + i + "] of " + name + " = " + Harness.write(v, null);
        }
        info.put("shape", List.of(1L));
        return "shape of " + name + " = [1]";
      }
      case 7 -> {
        Object dtype = r.nextInt(5) == 0 ? Harness.pick(r, Harness.interestingNumbers())
            : DTYPES[r.nextInt(DTYPES.length)];
        info.put("dtype", dtype);
        return "dtype of " + name + " = " + Harness.escape(Harness.write(dtype, null));
      }
      case 8 -> {
        l.header.remove(name);
        return "remove entry " + name;
      }
      case 9 -> {
        String field = Harness.pick(r, List.of("dtype", "shape", "data_offsets"));
        if (r.nextBoolean()) {
          info.remove(field);
          return "remove " + field + " of " + name;
        }
        info.put(Harness.pick(r, List.of("offsets", "extra", "Dtype", "data_offsets ", "")), 0L);
        return "extra field in " + name;
      }
      case 10 -> {
        Object value = Harness.pick(r, Arrays.asList(null, 1L, "x", new ArrayList<>(), true,
            new ArrayList<>(List.of(info))));
        l.header.put(name, value);
        return "entry " + name + " = " + Harness.shorten(Harness.write(value, null), 40);
      }
      case 11 -> {
        Object meta = Harness.pick(r, Arrays.asList(null, 1L, "pt", new ArrayList<>(), Map.of("format", 1L),
            Map.of("format", Map.of()), Map.of("format", List.of("pt")), Map.of("format", true), Map.of("format",
            "pt", "n", new Harness.Raw("null"))));
        l.header.put(Harness.META, meta);
        return "metadata = " + Harness.write(meta, null);
      }
      case 12 -> {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("dtype", info.get("dtype"));
        entry.put("shape", Harness.deepCopy(info.get("shape")));
        entry.put("data_offsets", Harness.deepCopy(info.get("data_offsets")));
        l.header.put(name + (r.nextBoolean() ? "_reverse" : ".1"), entry);
        return "second entry sharing the data of " + name;
      }
      default -> {
        Map<String, Object> copy = Harness.deepCopy(l.header); // earlier ops may have put immutable lists
        l.header.clear();
        l.header.putAll(copy);
        return Harness.mutateTree(r, l.header);
      }
    }
  }

  // ====================================================================================== seed corpus

  /** Builds the seed corpus in {@code src/test/resources/fuzz/} (files + README.txt) from the golden models. */
  static final class SeedCorpus {
    private final Path dir;
    private final List<String> lines = new ArrayList<>();
    private final Harness.Golden g = Harness.golden("rnn_tanh");
    private static final String GOLDEN_JSON = "golden/rnn_tanh/model.json";

    private SeedCorpus(Path dir) {
      this.dir = dir;
    }

    static void write(Path dir) throws IOException {
      Files.createDirectories(dir);
      try (Stream<Path> old = Files.list(dir)) {
        for (Path p : old.toList()) {
          Files.delete(p);
        }
      }
      new SeedCorpus(dir).build();
    }

    private void safetensors(String name, byte[] st, String expected) throws IOException {
      String id = String.format(Locale.ROOT, "%02d-%s", lines.size() + 1, name);
      Files.write(dir.resolve(id + ".safetensors"), st);
      lines.add(id + " | " + id + ".safetensors | " + GOLDEN_JSON + " | " + expected);
    }

    private void modelJson(String name, String golden, byte[] json, String expected) throws IOException {
      String id = String.format(Locale.ROOT, "%02d-%s", lines.size() + 1, name);
      Files.write(dir.resolve(id + ".model.json"), json);
      lines.add(id + " | golden/" + golden + "/model.safetensors | " + id + ".model.json | " + expected);
    }

    private interface SpecEdit {
      void apply(Map<String, Object> spec);
    }

    private void modelJson(String name, String golden, SpecEdit edit, String expected) throws IOException {
      Map<String, Object> spec = Harness.deepCopy(Harness.golden(golden).spec());
      edit.apply(spec);
      modelJson(name, golden, TestJson.writePretty(spec).getBytes(StandardCharsets.UTF_8), expected);
    }

    private byte[] withLength(long length) {
      byte[] st = g.st().clone();
      ByteBuffer.wrap(st).order(ByteOrder.LITTLE_ENDIAN).putLong(0, length);
      return st;
    }

    private Harness.Layout base() {
      return Harness.layout(g.tensors(), g.keyOrder(), g.metadata());
    }

    private static byte[] file(Harness.Layout l) {
      return Harness.safetensors(Harness.write(l.header, null), l.data);
    }

    @SuppressWarnings("unchecked")
    private static List<Object> offsets(Harness.Layout l, String name) {
      return (List<Object>) Harness.obj(l.header.get(name)).get("data_offsets");
    }

    private void build() throws IOException {
      int n = g.headerLength();
      int len = g.st().length;
      safetensors("empty-file", new byte[0], "refused: file is 0 bytes, expected at least 8");
      safetensors("truncated-in-length", Arrays.copyOf(g.st(), 5), "refused: file is 5 bytes, expected at least 8");
      safetensors("header-length-0", withLength(0), "refused: header length is 0 bytes, expected at least 2");
      safetensors("header-length-7", withLength(7), "refused: malformed JSON (line 1, column 8)");
      safetensors("header-length-2pow63-minus-1", withLength(Long.MAX_VALUE),
          "refused: header length is 9223372036854775807 bytes, expected at most 100000000");
      safetensors("header-length-minus-1", withLength(-1),
          "refused: header length is 18446744073709551615 bytes, expected at most 100000000");
      safetensors("header-length-just-past-file", withLength(len - 8 + 1),
          "refused: header length is " + (len - 7) + " bytes, but only " + (len - 8) + " bytes follow");
      safetensors("truncated-in-header", Arrays.copyOf(g.st(), 8 + n / 2),
          "refused: bytes follow the 8-byte length");
      safetensors("truncated-in-tensor", Arrays.copyOf(g.st(), len - 10),
          "refused: bytes of the data area, expected all " + (len - 10 - 8 - n) + " bytes");
      safetensors("trailing-byte", Arrays.copyOf(g.st(), len + 1),
          "refused: the tensors cover " + (len - 8 - n) + " bytes of the data area, expected all " + (len - 7 - n));

      Harness.Layout gap = base();
      for (String name : gap.header.keySet()) {
        if (!name.equals(Harness.META)) {
          List<Object> o = offsets(gap, name);
          o.set(0, (Long) o.get(0) + 4);
          o.set(1, (Long) o.get(1) + 4);
        }
      }
      gap.data = Harness.splice(gap.data, 0, 0, new byte[4]);
      String first = g.tensors().get(0).name();
      safetensors("offsets-gap", file(gap), "refused: tensor " + first + " starts at byte 4 of the data area, "
          + "expected 0 (tensors must be contiguous, without gaps or overlaps)");

      String second = g.tensors().get(1).name();
      Harness.Layout overlap = base();
      List<Object> o2 = offsets(overlap, second);
      o2.set(0, (Long) o2.get(0) - 4);
      o2.set(1, (Long) o2.get(1) - 4);
      safetensors("offsets-overlap", file(overlap), "refused: tensor " + second + " starts at byte " + o2.get(0)
          + " of the data area, expected " + ((Long) o2.get(0) + 4));

      Harness.Layout backwards = base();
      Collections.reverse(offsets(backwards, second));
      safetensors("offsets-backwards", file(backwards),
          "refused: " + second + ".data_offsets: " + offsets(backwards, second)
              + ", expected [begin, end] with begin <= end");

      Harness.RawTensor last = g.tensors().get(g.tensors().size() - 1);
      Harness.Layout past = base();
      Map<String, Object> lastInfo = Harness.obj(past.header.get(last.name()));
      List<Object> lastShape = new ArrayList<>(last.shape());
      lastShape.set(0, (Long) lastShape.get(0) + 1);
      lastInfo.put("shape", lastShape);
      long rowBytes = last.bytes().length / last.shape().get(0);
      List<Object> o3 = offsets(past, last.name());
      o3.set(1, (Long) o3.get(1) + rowBytes);
      safetensors("offsets-past-end", file(past), "refused: the tensors cover " + o3.get(1)
          + " bytes of the data area, expected all " + past.data.length + " bytes");

      Harness.Layout overflow = base();
      long m = Integer.MAX_VALUE;
      Harness.obj(overflow.header.get("fc.bias")).put("shape", List.of(m, m, m));
      safetensors("shape-overflows-long", file(overflow),
          "refused: fc.bias.shape: [2147483647, 2147483647, 2147483647], expected a 64-bit element count");

      Harness.Layout dtype = base();
      Harness.obj(dtype.header.get("fc.bias")).put("dtype", "F33");
      safetensors("dtype-unknown", file(dtype),
          "refused: fc.bias.dtype: \"F33\", expected one of F32, F64, F16, BF16");

      Harness.Layout integer = base();
      Harness.obj(integer.header.get("fc.bias")).put("dtype", "I32");
      safetensors("dtype-integer", file(integer), "refused: fc.bias.dtype: \"I32\", expected one of");

      Harness.Layout dup = base();
      List<Object[]> entries = Harness.entries(dup.header);
      entries.add(new Object[] {"fc.bias", Harness.deepCopy(dup.header.get("fc.bias"))});
      safetensors("duplicate-key", Harness.safetensors(Harness.write(new Harness.Dup(entries), null), dup.data),
          "refused: duplicate key \"fc.bias\"");

      byte[] utf8 = g.st().clone();
      int at = new String(utf8, 8, n, StandardCharsets.ISO_8859_1).indexOf("format") + 8;
      utf8[at] = (byte) 0xc3;
      utf8[at + 1] = (byte) 0x28;
      safetensors("non-utf8-header", utf8, "refused: the header is not valid UTF-8 at byte " + (at - 8));

      Harness.Layout deep = base();
      deep.header.put(Harness.META, new Harness.Raw("[".repeat(100) + "]".repeat(100)));
      safetensors("deep-nesting", file(deep), "refused: nesting deeper than 64");

      List<Harness.RawTensor> nanData = new ArrayList<>(g.tensors());
      for (int i = 0; i < nanData.size(); i++) {
        Harness.RawTensor t = nanData.get(i);
        if (t.name().equals("fc.bias")) {
          byte[] b = t.bytes().clone();
          ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, Float.NaN);
          nanData.set(i, new Harness.RawTensor(t.name(), t.dtype(), t.shape(), b));
        }
      }
      safetensors("nan-weight", file(Harness.layout(nanData, g.keyOrder(), g.metadata())),
          "refused: tensor fc.bias has NaN at index [0], expected finite values");

      safetensors("header-is-array", Harness.safetensors("[]", base().data),
          "refused: the top level: [], expected an object");

      Harness.Layout many = base();
      for (int i = 0; i < 1000; i++) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("dtype", "F32");
        e.put("shape", List.of(0L));
        e.put("data_offsets", List.of(0L, 0L));
        many.header.put("extra." + i, e);
      }
      safetensors("many-empty-tensors", file(many),
          "refused: model.safetensors has tensors model.json does not describe: extra.0, extra.1, extra.10, "
              + "extra.100, extra.101, extra.102, extra.103, extra.104, extra.105, extra.106, extra.107, extra.108, "
              + "extra.109, extra.11, extra.110, extra.111, extra.112, extra.113, extra.114, extra.115 and 980 more "
              + "(check mode");

      Harness.Layout digits = base();
      List<Object[]> digitEntries = Harness.entries(digits.header);
      for (Object[] e : digitEntries) {
        if (e[0].equals("fc.bias")) {
          e[0] = new Harness.Raw("\"\\u\u0660\u0660\u0666\u0666c.bias\""); // Arabic-Indic digits for 0066 ('f')
        }
      }
      safetensors("non-ascii-digit-escape",
          Harness.safetensors(Harness.write(new Harness.Dup(digitEntries), null), digits.data),
          "refused: invalid \\u escape");

      List<Harness.RawTensor> shuffled = new ArrayList<>(g.tensors());
      Collections.shuffle(shuffled, new Random(1));
      shuffled.replaceAll(t -> t.name().equals("fc.weight") ? Harness.widen(t, g, "F64") : t);
      List<String> reversed = new ArrayList<>(g.keyOrder());
      Collections.reverse(reversed);
      Harness.Layout rewrite = Harness.layout(shuffled, reversed, null);
      safetensors("equivalent-rewrite",
          Harness.safetensors("\n " + Harness.write(rewrite.header, new Random(2)) + "   \t", rewrite.data), "loads");

      modelJson("mode-lowercase", "lstm", s -> Harness.obj(s.get("rnn")).put("mode", "lstm"),
          "refused: rnn.mode: \"lstm\", expected one of RNN_TANH, RNN_RELU, LSTM, GRU");
      modelJson("hidden-size-string", "rnn_tanh", s -> Harness.obj(s.get("rnn")).put("hidden_size", "12"),
          "refused: rnn.hidden_size: \"12\", expected an integer");
      modelJson("hidden-size-mismatch", "rnn_tanh", s -> Harness.obj(s.get("rnn")).put("hidden_size", 13L),
          "refused: Invalid tensor rnn.weight_ih_l0 in fuzz/model.safetensors: shape [12, 6], expected [13, 6]");
      modelJson("num-layers-huge", "rnn_tanh", s -> Harness.obj(s.get("rnn")).put("num_layers", 1_000_000L),
          "refused: rnn.num_layers: 1000000, expected an integer in [1, 1024]");
      modelJson("proj-size-on-gru", "gru", s -> Harness.obj(s.get("rnn")).put("proj_size", 4L),
          "refused: rnn.proj_size: 4, expected 0 for mode GRU (only LSTM has projections)");
      modelJson("extra-layer", "rnn_tanh", s -> Harness.obj(s.get("rnn")).put("num_layers", 2L),
          "refused: tensor rnn.weight_ih_l1 is missing from model.safetensors (model.json says num_layers=2)");
      modelJson("huge-sizes", "rnn_tanh", s -> {
        Harness.obj(s.get("rnn")).put("num_layers", 1024L);
        Harness.obj(s.get("rnn")).put("bidirectional", true);
        Harness.obj(s.get("rnn")).put("hidden_size", 1L << 20);
      }, "refused: tensor rnn.weight_ih_l0_reverse is missing from model.safetensors (model.json says "
          + "bidirectional=true)");
      byte[] json = Harness.golden("rnn_tanh").json();
      modelJson("truncated", "rnn_tanh", Arrays.copyOf(json, json.length / 2), "refused: malformed JSON");
      modelJson("padding-idx-negative", "padding_idx",
          s -> Harness.obj(s.get("input")).put("padding_idx", -20L), "loads");
      byte[] badJson = json.clone();
      int q = new String(badJson, StandardCharsets.ISO_8859_1).indexOf("RNN_TANH");
      badJson[q] = (byte) 0xff;
      modelJson("non-utf8", "rnn_tanh", badJson,
          "refused: Cannot read model.json in fuzz: the file is not valid UTF-8 at byte " + q);

      List<String> readme = new ArrayList<>(List.of(
          "Seed corpus for SafeTensorsFuzzTest / ModelJsonFuzzTest",
          "=======================================================",
          "",
          "Small, hand-picked inputs for the safetensors reader and the model loader. Each case is a pair: a",
          "model.safetensors and a model.json, one of them from this folder, the other a golden model file",
          "(golden/<dir>/... means src/test/resources/golden/<dir>/...). SafeTensorsFuzzTest",
          "#seedCorpusReplaysWithItsDocumentedOutcome loads every pair with",
          "ModelLoader.load(new ModelBytes(json, safetensors), \"fuzz\", false) and asserts the outcome below:",
          "\"loads\" (and the model passes validation) or \"refused: <text>\" (a ModelFormatException whose",
          "message contains <text>).",
          "",
          "Regenerate with: mvn -o test -Dtest=SafeTensorsFuzzTest -Dseqpack.fuzz.writeCorpus=true",
          "(then review the diff: the outcomes are part of the contract). To add a case found by scripts/fuzz,",
          "copy the failing pair from target/fuzz-failures/ here and add a line.",
          "",
          "case | model.safetensors | model.json | expected outcome",
          ""));
      readme.addAll(lines);
      Files.write(dir.resolve("README.txt"), readme, StandardCharsets.UTF_8);
    }
  }

  // ========================================================================================== harness

  /** Shared machinery of the fuzz tests: golden inputs, a JSON writer for mutated trees, the timed runner. */
  static final class Harness {
    static final Path GOLDEN = Path.of("src/test/resources/golden");
    static final Path CORPUS = Path.of("src/test/resources/fuzz");
    static final Path FAILURES = Path.of("target/fuzz-failures");
    static final String SOURCE = "fuzz";
    static final String META = "__metadata__";

    /** A case that uses more CPU time than this fails ("slow"). CPU time, so that a busy machine does not matter. */
    static final long CASE_LIMIT_MILLIS = 2_000;

    /**
     * A case still running after this much wall-clock time is a hang: it fails and stops the run (its thread
     * cannot be killed).
     */
    static final long HANG_LIMIT_MILLIS = 15_000;

    /** Refusal messages longer than this fail the case: they end up in driver logs. */
    static final int MAX_MESSAGE_CHARS = 4_096;

    /** A case may allocate at most this much plus {@link #ALLOCATION_FACTOR} times its input size. */
    static final long ALLOCATION_BASE = 32L << 20;

    static final long ALLOCATION_FACTOR = 64;

    private Harness() {}

    static final int DEFAULT_ITERATIONS = 3000;

    static int iterations() {
      return Integer.getInteger("seqpack.fuzz.iterations", DEFAULT_ITERATIONS);
    }

    static long seed() {
      return Long.getLong("seqpack.fuzz.seed", 20240601L);
    }

    /** What a case must do: anything but crash, be refused, load, or load exactly the unmutated model. */
    enum Expect { ANY, REFUSE, LOAD, SAME }

    /** JSON text written verbatim (numbers JSON cannot otherwise hold, broken text, pre-escaped keys). */
    record Raw(String text) {}

    /** A JSON object whose keys may repeat: entries are {@code {key (String or Raw), value}}. */
    record Dup(List<Object[]> entries) {}

    /** One tensor of a golden file: its header fields and raw bytes. */
    record RawTensor(String name, String dtype, List<Long> shape, byte[] bytes) {}

    /**
     * A golden model: its files, the loaded model, the parsed model.json, the tensors in data order, the header
     * key order and metadata.
     */
    record Golden(String name, byte[] json, byte[] st, int headerLength, LoadedModel model, Map<String, Object> spec,
        List<RawTensor> tensors, List<String> keyOrder, Map<String, Object> metadata) {}

    /** One fuzz input and what it must do; {@code check} (optional) runs on a loaded model. */
    record Case(String what, Golden base, byte[] json, byte[] st, Expect expect, Consumer<LoadedModel> check) {
      Case(String what, Golden base, byte[] json, byte[] st, Expect expect) {
        this(what, base, json, st, expect, null);
      }
    }

    /** What one case did. */
    record Outcome(LoadedModel model, Throwable thrown, long cpuNanos, long allocated) {}

    private static List<Golden> golden;

    /** Every golden model directory (one per model kind and dtype), loaded and checked once. */
    static synchronized List<Golden> golden() {
      if (golden == null) {
        try (Stream<Path> dirs = Files.list(GOLDEN)) {
          golden = dirs.filter(d -> Files.isRegularFile(d.resolve(ModelLoader.MODEL_SAFETENSORS))
                  && Files.isRegularFile(d.resolve(ModelLoader.MODEL_JSON)))
              .sorted()
              .map(Harness::readGolden)
              .toList();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        assertFalse(golden.isEmpty(), "no golden model directories under " + GOLDEN);
      }
      return golden;
    }

    static Golden golden(String name) {
      return golden().stream().filter(g -> g.name().equals(name)).findFirst().orElseThrow();
    }

    private static Golden readGolden(Path dir) {
      try {
        byte[] json = Files.readAllBytes(dir.resolve(ModelLoader.MODEL_JSON));
        byte[] st = Files.readAllBytes(dir.resolve(ModelLoader.MODEL_SAFETENSORS));
        LoadedModel model = ModelLoader.load(new ModelBytes(json, st), dir.toString(), false);
        int n = (int) ByteBuffer.wrap(st).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        Map<String, Object> header = TestJson.parseObject(new String(st, 8, n, StandardCharsets.UTF_8));
        Map<Long, RawTensor> byOffset = new java.util.TreeMap<>();
        Map<String, Object> metadata = null;
        for (Map.Entry<String, Object> e : header.entrySet()) {
          if (e.getKey().equals(META)) {
            metadata = obj(e.getValue());
            continue;
          }
          Map<String, Object> info = obj(e.getValue());
          List<?> offsets = (List<?>) info.get("data_offsets");
          long begin = (Long) offsets.get(0);
          long end = (Long) offsets.get(1);
          List<Long> shape = ((List<?>) info.get("shape")).stream().map(x -> (Long) x).toList();
          byOffset.put(begin * 2 + (begin == end ? 0 : 1), new RawTensor(e.getKey(), (String) info.get("dtype"),
              shape, Arrays.copyOfRange(st, 8 + n + (int) begin, 8 + n + (int) end)));
        }
        return new Golden(dir.getFileName().toString(), json, st, n, model,
            TestJson.parseObject(new String(json, StandardCharsets.UTF_8)), List.copyOf(byOffset.values()),
            List.copyOf(header.keySet()), metadata);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** A corpus file: {@code golden/<dir>/<file>} or a file name in the corpus folder. */
    static byte[] corpusFile(String name) throws IOException {
      Path path = name.startsWith("golden/") ? GOLDEN.resolve(name.substring("golden/".length()))
          : CORPUS.resolve(name);
      return Files.readAllBytes(path);
    }

    // --------------------------------------------------------------------------------------- running

    /**
     * Runs {@link #iterations()} cases from {@code generator} (each with its own {@code Random} derived from the
     * seed and the case index), checks each outcome, prints one summary line and fails with the first problems.
     */
    static void run(String suite, Function<Random, Case> generator) {
      int iterations = iterations();
      long seed = seed();
      golden(); // load outside the timed part
      // All cases run on one worker thread (no per-case hand-off, which is slow on a busy machine); this thread
      // watches it and gives up on a case that runs longer than HANG_LIMIT_MILLIS.
      ExecutorService worker = Executors.newSingleThreadExecutor(task -> {
        Thread t = new Thread(task, "fuzz-" + suite);
        t.setDaemon(true);
        return t;
      });
      Stats stats = new Stats();
      long start = System.nanoTime();
      Future<?> run = worker.submit(() -> {
        for (int i = 0; i < iterations && !Thread.currentThread().isInterrupted(); i++) {
          long g0 = System.nanoTime();
          Case c = generator.apply(new Random(caseSeed(seed, i)));
          stats.generating += System.nanoTime() - g0;
          stats.current = new Running(i, c, System.nanoTime());
          Outcome o = execute(c);
          stats.current = null;
          stats.record(suite, i, c, o);
        }
      });
      try {
        while (true) {
          try {
            run.get(100, TimeUnit.MILLISECONDS);
            break;
          } catch (TimeoutException e) {
            Running r = stats.current;
            if (r != null && System.nanoTime() - r.startNanos() > HANG_LIMIT_MILLIS * 1_000_000L) {
              run.cancel(true);
              synchronized (stats) {
                stats.ran++;
                stats.failures.add(describe(suite, r.index(), r.c()) + ": still running after " + HANG_LIMIT_MILLIS
                    + " ms");
              }
              save(suite, r.index(), r.c());
              break;
            }
          } catch (ExecutionException e) {
            throw new AssertionError("fuzz " + suite + " generator or harness failed", e.getCause());
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
          }
        }
      } finally {
        worker.shutdownNow();
      }
      synchronized (stats) {
        stats.report(suite, seed, (System.nanoTime() - start) / 1e9);
      }
    }

    /** The case the worker is running, for the hang watchdog. */
    private record Running(int index, Case c, long startNanos) {}

    /** Counts and extremes of one run (written by the worker, read after it finishes). */
    private static final class Stats {
      volatile Running current;
      final Map<String, Integer> categories = new HashMap<>();
      final List<String> failures = new ArrayList<>();
      int loaded;
      int refused;
      int ran;
      long slowest = -1;
      String slowestCase = "";
      long mostAllocated;
      String mostAllocatedCase = "";
      long generating;
      long loading;

      synchronized void record(String suite, int i, Case c, Outcome o) {
        ran++;
        loading += o.cpuNanos();
        if (o.cpuNanos() > slowest) {
          slowest = o.cpuNanos();
          slowestCase = i + " (" + shorten(c.what(), 60) + ")";
        }
        if (o.allocated() > mostAllocated) {
          mostAllocated = o.allocated();
          mostAllocatedCase = i + " (" + shorten(c.what(), 60) + ", " + (c.json().length + c.st().length)
              + " bytes in)";
        }
        String problem = evaluate(c, o);
        if (problem != null) {
          failures.add(describe(suite, i, c) + ": " + problem);
          save(suite, i, c);
        }
        if (o.thrown() instanceof ModelFormatException e) {
          refused++;
          categories.merge(category(e.getMessage()), 1, Integer::sum);
        } else if (o.thrown() == null) {
          loaded++;
        }
      }

      void report(String suite, long seed, double seconds) {
        String top = categories.entrySet().stream()
            .sorted(Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
            .limit(10)
            .map(e -> e.getValue() + " \"" + e.getKey() + "\"")
            .collect(Collectors.joining(", "));
        System.out.printf(Locale.ROOT,
            "[fuzz %s] %d cases (seed %d) in %.1f s (generating %.1f s, loading %.1f s CPU): %d loaded, %d refused,"
                + " %d failed; slowest %.1f ms CPU (case %s); most allocated %.1f MiB (case %s); top refusals: %s%n",
            suite, ran, seed, seconds, generating / 1e9, loading / 1e9, loaded, refused, failures.size(),
            slowest / 1e6, slowestCase, mostAllocated / 1048576.0, mostAllocatedCase, top);
        if (!failures.isEmpty()) {
          fail(failures.size() + " of " + ran + " " + suite + " fuzz cases failed (inputs in " + FAILURES
              + "; rerun with -Dseqpack.fuzz.seed=" + seed + "):\n" + failures.stream().limit(20)
              .collect(Collectors.joining("\n")));
        }
      }
    }

    private static long caseSeed(long seed, int i) {
      long z = seed * 0x9E3779B97F4A7C15L + i;
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      return z ^ (z >>> 31);
    }

    /** Null when the case did what it must within the time and allocation bounds, else what is wrong. */
    static String evaluate(Case c, Outcome o) {
      String problem = check(c, o);
      if (problem == null && o.allocated() > ALLOCATION_BASE + ALLOCATION_FACTOR * (c.json().length
          + (long) c.st().length)) {
        problem = "allocated " + o.allocated() / (1 << 20) + " MiB for " + (c.json().length + c.st().length)
            + " bytes of input";
      }
      if (problem == null && o.cpuNanos() > CASE_LIMIT_MILLIS * 1_000_000L) {
        problem = "took " + o.cpuNanos() / 1_000_000 + " ms of CPU time";
      }
      return problem;
    }

    static Outcome execute(Case c) {
      long allocatedBefore = allocatedBytes();
      long t0 = cpuNanos();
      LoadedModel model = null;
      Throwable thrown = null;
      try {
        model = ModelLoader.load(new ModelBytes(c.json(), c.st()), SOURCE, false);
      } catch (Throwable t) { // the point: anything but ModelFormatException is a finding, OOM included
        thrown = t;
      }
      long nanos = cpuNanos() - t0;
      long allocated = allocatedBefore < 0 ? 0 : allocatedBytes() - allocatedBefore;
      return new Outcome(model, thrown, nanos, allocated);
    }

    /** The worker thread's CPU time, or wall-clock time where the JVM cannot measure it. */
    private static long cpuNanos() {
      java.lang.management.ThreadMXBean threads = ManagementFactory.getThreadMXBean();
      return threads.isCurrentThreadCpuTimeSupported() ? threads.getCurrentThreadCpuTime() : System.nanoTime();
    }

    private static long allocatedBytes() {
      if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean threads
          && threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled()) {
        return threads.getCurrentThreadAllocatedBytes();
      }
      return -1;
    }

    private static final String[] MESSAGE_PREFIXES = {
      "Cannot read safetensors file " + SOURCE + "/" + ModelLoader.MODEL_SAFETENSORS + ": ",
      "Cannot read model.json in " + SOURCE + ": ",
      "Cannot load model " + SOURCE + ": ",
      "Invalid tensor "
    };

    /** Null when the outcome is acceptable for the case, else what is wrong. */
    private static String check(Case c, Outcome o) {
      if (o.thrown() != null) {
        if (!(o.thrown() instanceof ModelFormatException e)) {
          return "threw " + stackSummary(o.thrown());
        }
        String message = e.getMessage();
        if (message == null || Arrays.stream(MESSAGE_PREFIXES).noneMatch(message::startsWith)) {
          return "refused with an unexpected message: " + shorten(String.valueOf(message), 300);
        }
        if (message.length() > MAX_MESSAGE_CHARS) {
          return "refused with a " + message.length() + "-character message: " + shorten(message, 300);
        }
        if (c.expect() == Expect.LOAD || c.expect() == Expect.SAME) {
          return "expected to load, but refused: " + shorten(message, 300);
        }
        return null;
      }
      if (c.expect() == Expect.REFUSE) {
        return "expected a refusal, but it loaded";
      }
      String invalid = validate(o.model(), new ModelBytes(c.json(), c.st()));
      if (invalid != null) {
        return "loaded an invalid model: " + invalid;
      }
      if (c.expect() == Expect.SAME) {
        String different = compare(c.base().model(), o.model());
        if (different != null) {
          return "loaded a different model: " + different;
        }
      }
      if (c.check() != null) {
        try {
          c.check().accept(o.model());
        } catch (AssertionError e) {
          return "loaded model failed its check: " + e.getMessage();
        }
      }
      return null;
    }

    /** Null when a loaded model is consistent (tensors exactly as its spec calls for, finite, hashed), else why. */
    static String validate(LoadedModel m, ModelBytes bytes) {
      Map<String, int[]> expected = ModelLoader.expectedShapes(m.spec());
      if (!expected.keySet().equals(m.tensors().keySet())) {
        return "tensors " + m.tensors().keySet() + ", expected " + expected.keySet();
      }
      for (Map.Entry<String, int[]> e : expected.entrySet()) {
        Tensor t = m.tensors().get(e.getKey());
        if (!Arrays.equals(t.shape(), e.getValue()) || t.data().length != t.numel()) {
          return e.getKey() + " has shape " + t.shapeString() + " and " + t.data().length + " values, expected "
              + Arrays.toString(e.getValue());
        }
        for (float v : t.data()) {
          if (!Float.isFinite(v)) {
            return e.getKey() + " holds " + v;
          }
        }
      }
      if (!m.contentHash().equals(ModelLoader.contentHash(bytes))) {
        return "content hash " + m.contentHash() + " is not the files' hash";
      }
      return null;
    }

    /** Null when two models have the same spec and bit-identical tensors, else the first difference. */
    static String compare(LoadedModel expected, LoadedModel actual) {
      if (!expected.spec().equals(actual.spec())) {
        return "spec " + actual.spec() + ", expected " + expected.spec();
      }
      for (Tensor t : expected.tensors().values()) {
        Tensor a = actual.tensors().get(t.name());
        if (a == null || !Arrays.equals(a.shape(), t.shape()) || !Arrays.equals(a.data(), t.data())) {
          return "tensor " + t.name() + " differs";
        }
      }
      return null;
    }

    /**
     * The kind of refusal, for the summary: the message's reason (after the source), with numbers replaced by
     * {@code #} and tensor names by {@code X}, cut to its first five words.
     */
    static String category(String message) {
      String reason = message;
      int at = message.indexOf(SOURCE);
      if (at >= 0 && message.indexOf(": ", at) >= 0) {
        reason = message.substring(message.indexOf(": ", at) + 2);
      }
      if (message.startsWith("Invalid tensor ")) {
        reason = "tensor X " + reason;
      }
      List<String> words = new ArrayList<>();
      String previous = "";
      boolean tensorName = false;
      for (String w : reason.split("\\s+")) {
        String word = tensorName ? "X" : w.matches(".*\\d.*") ? "#" : w.replaceAll("[,:;(]+$", "");
        tensorName = w.equals("tensor") || w.equals("dtype");
        if (word.equals("#") && previous.equals("#") || word.isEmpty()) {
          continue;
        }
        words.add(word);
        previous = word;
        if (words.size() == 5) {
          break;
        }
      }
      return String.join(" ", words);
    }

    private static String describe(String suite, int i, Case c) {
      return suite + " case " + i + " [" + c.base().name() + "] " + shorten(c.what(), 200);
    }

    private static String stackSummary(Throwable t) {
      return t + Arrays.stream(t.getStackTrace()).limit(6).map(f -> "\n      at " + f).collect(Collectors.joining());
    }

    private static void save(String suite, int i, Case c) {
      try {
        Path dir = FAILURES.resolve(suite + "-" + seed() + "-" + i);
        Files.createDirectories(dir);
        Files.write(dir.resolve(ModelLoader.MODEL_JSON), c.json());
        Files.write(dir.resolve(ModelLoader.MODEL_SAFETENSORS), c.st());
        Files.writeString(dir.resolve("case.txt"), c.base().name() + ": " + c.what() + "\n");
      } catch (IOException e) {
        System.err.println("cannot save fuzz failure: " + e);
      }
    }

    // ------------------------------------------------------------------------------------- building

    /** A laid-out safetensors file: a mutable header tree and the data area it describes. */
    static final class Layout {
      final LinkedHashMap<String, Object> header = new LinkedHashMap<>();
      byte[] data;
    }

    /** Lays tensors out contiguously in {@code dataOrder}, header keys in {@code keyOrder} (others appended). */
    static Layout layout(List<RawTensor> dataOrder, List<String> keyOrder, Map<String, Object> metadata) {
      Map<String, Map<String, Object>> infos = new HashMap<>();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      long offset = 0;
      for (RawTensor t : dataOrder) {
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("dtype", t.dtype());
        info.put("shape", new ArrayList<Object>(t.shape()));
        info.put("data_offsets", new ArrayList<Object>(List.of(offset, offset + t.bytes().length)));
        offset += t.bytes().length;
        out.writeBytes(t.bytes());
        infos.put(t.name(), info);
      }
      Layout l = new Layout();
      for (String k : keyOrder) {
        if (k.equals(META)) {
          if (metadata != null) {
            l.header.put(META, deepCopy(metadata));
          }
        } else if (infos.containsKey(k)) {
          l.header.put(k, infos.get(k));
        }
      }
      for (RawTensor t : dataOrder) {
        l.header.putIfAbsent(t.name(), infos.get(t.name()));
      }
      if (metadata != null) {
        l.header.putIfAbsent(META, deepCopy(metadata));
      }
      l.data = out.toByteArray();
      return l;
    }

    /** A tensor re-encoded as F32 or F64 holding the golden model's float32 values (so it loads the same). */
    static RawTensor widen(RawTensor t, Golden g, String dtype) {
      float[] values = g.model().tensor(t.name()).data();
      ByteBuffer b = ByteBuffer.allocate(values.length * (dtype.equals("F64") ? 8 : 4))
          .order(ByteOrder.LITTLE_ENDIAN);
      for (float v : values) {
        if (dtype.equals("F64")) {
          b.putDouble(v);
        } else {
          b.putFloat(v);
        }
      }
      return new RawTensor(t.name(), dtype, t.shape(), b.array());
    }

    /** A safetensors file whose length prefix is the header's true UTF-8 length. */
    static byte[] safetensors(String header, byte[] data) {
      byte[] h = header.getBytes(StandardCharsets.UTF_8);
      return safetensors(h, h.length, data);
    }

    static byte[] safetensors(byte[] header, long declaredLength, byte[] data) {
      return ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
          .putLong(declaredLength).put(header).put(data).array();
    }

    static byte[] splice(byte[] in, int at, int remove, byte[] insert) {
      byte[] out = new byte[in.length - remove + insert.length];
      System.arraycopy(in, 0, out, 0, at);
      System.arraycopy(insert, 0, out, at, insert.length);
      System.arraycopy(in, at + remove, out, at + insert.length, in.length - at - remove);
      return out;
    }

    /** A map's entries as mutable {@code {key, value}} pairs, for {@link Dup}. */
    static List<Object[]> entries(Map<String, Object> map) {
      List<Object[]> out = new ArrayList<>();
      map.forEach((k, v) -> out.add(new Object[] {k, v}));
      return out;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> obj(Object value) {
      return (Map<String, Object>) value;
    }

    /** A mutable deep copy of a JSON tree (maps stay ordered). */
    static Object deepCopy(Object v) {
      if (v instanceof Map<?, ?> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        m.forEach((k, x) -> out.put((String) k, deepCopy(x)));
        return out;
      }
      if (v instanceof List<?> l) {
        List<Object> out = new ArrayList<>();
        l.forEach(x -> out.add(deepCopy(x)));
        return out;
      }
      return v;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> deepCopy(Map<String, Object> m) {
      return (Map<String, Object>) deepCopy((Object) m);
    }

    static <T> T pick(Random r, List<T> list) {
      return list.get(r.nextInt(list.size()));
    }

    /** Numbers (and non-numbers) that probe integer parsing and range checks. */
    static List<Object> interestingNumbers() {
      return Arrays.asList(null, true, "0", "", 0L, 1L, -1L, 2L, 7L, 8L, 255L, 65536L, (long) Integer.MAX_VALUE,
          Integer.MAX_VALUE + 1L, (long) Integer.MIN_VALUE, 0xffffffffL, Long.MAX_VALUE, Long.MIN_VALUE,
          Long.MAX_VALUE - 1, BigInteger.ONE.shiftLeft(64), BigInteger.ONE.shiftLeft(63),
          BigInteger.ONE.shiftLeft(63).negate().subtract(BigInteger.ONE), new Raw("1e400"), new Raw("-0"),
          new Raw("0.0"), new Raw("1.5"), new Raw("1E2"), new Raw("-1e-400"), new Raw("4.0"),
          new Raw("9223372036854775807.0"), new Raw("1" + "0".repeat(399)));
    }

    /** A random JSON value (fresh containers), for tree mutations. */
    static Object randomValue(Random r, int depth) {
      return switch (r.nextInt(depth > 1 ? 4 : 6)) {
        case 0 -> pick(r, interestingNumbers());
        case 1 -> (long) (r.nextInt(14) - 3);
        case 2 -> pick(r, List.of("", "x", "F32", "LSTM", "lstm", "tokens", "last", "none", "pt", "null", "0",
            "seqpack-model/1", "ü", "\u0000", "\"", "\\", "a".repeat(100)));
        case 3 -> pick(r, List.of(new Raw("true"), new Raw("false"), new Raw("null"), new Raw("-0"), new Raw("0e0"),
            new Raw("[]"), new Raw("{}"), new Raw("\"\\u0000\"")));
        case 4 -> {
          List<Object> list = new ArrayList<>();
          for (int i = r.nextInt(4); i > 0; i--) {
            list.add(randomValue(r, depth + 1));
          }
          yield list;
        }
        default -> {
          Map<String, Object> map = new LinkedHashMap<>();
          for (int i = r.nextInt(4); i > 0; i--) {
            map.put(pick(r, List.of("a", "dtype", "shape", "mode", "kind", "", "x" + i)), randomValue(r, depth + 1));
          }
          yield map;
        }
      };
    }

    /** One random edit of a JSON tree (maps and lists must be mutable): set, remove, add, rename or wrap. */
    @SuppressWarnings("unchecked")
    static String mutateTree(Random r, Object root) {
      List<Object> containers = new ArrayList<>();
      List<String> paths = new ArrayList<>();
      collect(root, "$", containers, paths);
      int i = r.nextInt(containers.size());
      Object c = containers.get(i);
      String path = paths.get(i);
      if (c instanceof Map<?, ?> raw) {
        Map<String, Object> map = (Map<String, Object>) raw;
        List<String> keys = new ArrayList<>(map.keySet());
        int op = keys.isEmpty() ? 2 : r.nextInt(5);
        String key = keys.isEmpty() ? null : pick(r, keys);
        switch (op) {
          case 0 -> {
            map.put(key, randomValue(r, 0));
            return "set " + path + "." + key;
          }
          case 1 -> {
            map.remove(key);
            return "remove " + path + "." + key;
          }
          case 2 -> {
            String k = pick(r, List.of("extra", "", "dtype", "shape", "data_offsets", META, "x".repeat(50)));
            map.put(k, randomValue(r, 0));
            return "add " + path + "." + k;
          }
          case 3 -> {
            String to = key + pick(r, List.of("_", " ", "2", "")) ;
            Map<String, Object> copy = new LinkedHashMap<>(map);
            map.clear();
            copy.forEach((k, v) -> map.put(k.equals(key) ? to : k, v));
            return "rename " + path + "." + key;
          }
          default -> {
            Object v = map.get(key);
            map.put(key, r.nextBoolean() ? new ArrayList<>(Collections.singletonList(v))
                : new LinkedHashMap<>(Collections.singletonMap("v", v)));
            return "wrap " + path + "." + key;
          }
        }
      }
      List<Object> list = (List<Object>) c;
      int op = list.isEmpty() ? 2 : r.nextInt(5);
      int at = list.isEmpty() ? 0 : r.nextInt(list.size());
      switch (op) {
        case 0 -> {
          list.set(at, randomValue(r, 0));
          return "set " + path + "[" + at + "]";
        }
        case 1 -> {
          list.remove(at);
          return "remove " + path + "[" + at + "]";
        }
        case 2 -> {
          list.add(at, randomValue(r, 0));
          return "insert " + path + "[" + at + "]";
        }
        case 3 -> {
          list.add(at, deepCopy(list.get(at)));
          return "duplicate " + path + "[" + at + "]";
        }
        default -> {
          list.set(at, new ArrayList<>(Collections.singletonList(list.get(at))));
          return "wrap " + path + "[" + at + "]";
        }
      }
    }

    private static void collect(Object v, String path, List<Object> containers, List<String> paths) {
      if (v instanceof Map<?, ?> m) {
        containers.add(v);
        paths.add(path);
        m.forEach((k, x) -> collect(x, path + "." + k, containers, paths));
      } else if (v instanceof List<?> l) {
        containers.add(v);
        paths.add(path);
        for (int i = 0; i < l.size(); i++) {
          collect(l.get(i), path + "[" + i + "]", containers, paths);
        }
      }
    }

    // -------------------------------------------------------------------------------------- writing

    /**
     * Writes a JSON tree compactly; with {@code style} non-null, adds random whitespace between tokens and
     * spells random ASCII letters in strings as {@code \\u} escapes (both meaning-preserving).
     */
    static String write(Object value, Random style) {
      StringBuilder sb = new StringBuilder();
      write(value, sb, style);
      return sb.toString();
    }

    private static void write(Object v, StringBuilder sb, Random style) {
      if (v == null) {
        sb.append("null");
      } else if (v instanceof Raw raw) {
        sb.append(raw.text());
      } else if (v instanceof String s) {
        quote(s, sb, style);
      } else if (v instanceof Map<?, ?> m) {
        List<Object[]> entries = new ArrayList<>();
        m.forEach((k, x) -> entries.add(new Object[] {k, x}));
        writeObject(entries, sb, style);
      } else if (v instanceof Dup d) {
        writeObject(d.entries(), sb, style);
      } else if (v instanceof List<?> list) {
        sb.append('[');
        for (int i = 0; i < list.size(); i++) {
          if (i > 0) {
            space(sb, style);
            sb.append(',');
          }
          space(sb, style);
          write(list.get(i), sb, style);
        }
        space(sb, style);
        sb.append(']');
      } else {
        sb.append(v); // Long, BigInteger, Boolean
      }
    }

    private static void writeObject(List<Object[]> entries, StringBuilder sb, Random style) {
      sb.append('{');
      for (int i = 0; i < entries.size(); i++) {
        if (i > 0) {
          space(sb, style);
          sb.append(',');
        }
        space(sb, style);
        write(entries.get(i)[0], sb, style);
        space(sb, style);
        sb.append(':');
        space(sb, style);
        write(entries.get(i)[1], sb, style);
      }
      space(sb, style);
      sb.append('}');
    }

    private static void space(StringBuilder sb, Random style) {
      while (style != null && style.nextInt(5) == 0) {
        sb.append(" \t\n\r".charAt(style.nextInt(4)));
      }
    }

    private static void quote(String s, StringBuilder sb, Random style) {
      sb.append('"');
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c == '"' || c == '\\') {
          sb.append('\\').append(c);
        } else if (c < 0x20 || (style != null && style.nextInt(8) == 0)) {
          String hex = String.format(Locale.ROOT, "%04x", (int) c);
          sb.append("\\u").append(style != null && style.nextBoolean() ? hex.toUpperCase(Locale.ROOT) : hex);
        } else {
          sb.append(c);
        }
      }
      sb.append('"');
    }

    static String shorten(String s, int max) {
      return s.length() <= max ? s : s.substring(0, max) + "...(" + s.length() + " chars)";
    }

    /** Control and non-ASCII characters as escapes, for case descriptions. */
    static String escape(String s) {
      StringBuilder sb = new StringBuilder();
      for (char c : shorten(s, 80).toCharArray()) {
        sb.append(c < 0x20 || c > 0x7e ? String.format(Locale.ROOT, "\\u%04x", (int) c) : String.valueOf(c));
      }
      return sb.toString();
    }

    static String hex(byte[] bytes) {
      StringBuilder sb = new StringBuilder();
      for (byte b : bytes) {
        sb.append(String.format(Locale.ROOT, "%02x", b & 0xff));
      }
      return sb.toString();
    }
  }
}
