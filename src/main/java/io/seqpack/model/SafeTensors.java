package io.seqpack.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.seqpack.ModelFormatException;
import io.seqpack.util.StrictJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format: {@code
 * [u64 little-endian N][N bytes of UTF-8 JSON header][data]}, where each header entry {@code name: {"dtype",
 * "shape", "data_offsets": [begin, end]}} places one row-major little-endian tensor at {@code data[begin,
 * end)}.
 *
 * <p>The reader applies the reference implementation's checks (header size limit, UTF-8, strict JSON without
 * duplicate keys, {@code numel * sizeof(dtype) == end - begin} without overflow, and tensors that cover the data
 * area exactly, with no gaps, overlaps or trailing bytes) before it allocates anything, plus a tighter header
 * size limit ({@link #MAX_MODEL_HEADER_BYTES}) so that a hostile header cannot exhaust an executor's heap, and
 * converts F32, F64, F16 and BF16 to float32. Other dtypes are refused: a model's weights are floating point.
 */
public final class SafeTensors {
  /** The reference implementation's limit on the header length N. */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  /**
   * Largest header this reader parses. The format allows {@link #MAX_HEADER_BYTES}, but a header costs roughly
   * 20 times its size in heap to parse (a 99 MB one took 10-20 s and 2 GB), while the largest model {@link
   * ModelSpec} allows (10,243 tensors) needs about 1.3 MB; 8 MiB leaves ample room for metadata.
   */
  public static final long MAX_MODEL_HEADER_BYTES = 8L << 20;

  /** Most dimensions a tensor may have. */
  public static final int MAX_RANK = 8;

  /** Most elements a tensor may have: the largest Java array. */
  public static final int MAX_NUMEL = Integer.MAX_VALUE - 8;

  private static final String METADATA = "__metadata__";

  /** The floating-point dtypes this reader converts to float32, with their sizes in bytes. */
  enum DType {
    F32(4),
    F64(8),
    F16(2),
    BF16(2);

    final int size;

    DType(int size) {
      this.size = size;
    }
  }

  /** One validated header entry. */
  record Entry(String name, DType dtype, int[] shape, int numel, long begin, long end) {}

  private SafeTensors() {}

  /**
   * Parses a whole safetensors file into float32 tensors.
   *
   * @param file the file's bytes
   * @param source where they came from, used in error messages only
   * @return tensors by name, in name order
   * @throws ModelFormatException {@code Cannot read safetensors file <source>: <reason>}, naming the tensor when
   *     the problem is in one
   */
  public static Map<String, Tensor> read(byte[] file, String source) {
    Function<String, ModelFormatException> error =
        what -> new ModelFormatException("Cannot read safetensors file " + source + ": " + what);
    if (file.length < 8) {
      throw error.apply("file is " + file.length + " bytes, expected at least 8 (the header length)");
    }
    ByteBuffer buffer = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    long headerLength = buffer.getLong(0);
    // Unsigned comparisons: a u64 above 2^63 - 1 reads as a negative long.
    if (Long.compareUnsigned(headerLength, MAX_HEADER_BYTES) > 0) {
      throw error.apply("header length is " + Long.toUnsignedString(headerLength) + " bytes, expected at most "
          + MAX_HEADER_BYTES);
    }
    if (headerLength < 2) {
      throw error.apply("header length is " + headerLength + " bytes, expected at least 2 (a JSON object)");
    }
    if (headerLength > file.length - 8) {
      throw error.apply("header length is " + headerLength + " bytes, but only " + (file.length - 8)
          + " bytes follow the 8-byte length");
    }
    if (headerLength > MAX_MODEL_HEADER_BYTES) {
      throw error.apply("header length is " + headerLength + " bytes, expected at most " + MAX_MODEL_HEADER_BYTES
          + " for a model (seqpack's limit, below the format's " + MAX_HEADER_BYTES + ")");
    }
    int dataStart = 8 + (int) headerLength;
    long dataLength = file.length - dataStart;

    List<Entry> entries = SafeTensorsHeader.read(decodeUtf8(file, 8, (int) headerLength, "the header", error),
        "safetensors file " + source);
    checkCoverage(entries, dataLength, error);

    Map<String, Tensor> tensors = new TreeMap<>();
    for (Entry e : entries) {
      tensors.put(e.name(), new Tensor(e.name(), e.shape(), decode(buffer, dataStart + (int) e.begin(), e)));
    }
    return tensors;
  }

  /** Bytes read at a time by {@link #read(InputStream, long, String, MessageDigest)}: a multiple of every dtype. */
  private static final int CHUNK_BYTES = 1 << 20;

  /**
   * Parses a safetensors file from a stream of {@code size} bytes straight into float32 tensors, with the checks
   * of {@link #read(byte[], String)}: the file is never held whole, so a large model costs its floats only (a
   * 512 MB table read from bytes needs the bytes and the floats at once).
   *
   * @param digest updated with every byte of the file, in order (null: none)
   * @throws ModelFormatException as {@link #read(byte[], String)}, and when the stream ends early or goes on
   *     past {@code size} bytes
   */
  public static Map<String, Tensor> read(InputStream in, long size, String source, MessageDigest digest)
      throws IOException {
    Function<String, ModelFormatException> error =
        what -> new ModelFormatException("Cannot read safetensors file " + source + ": " + what);
    Header header = readHeader(in, size, source, digest);
    checkCoverage(header.entries(), header.dataLength(), error);
    Map<String, Tensor> tensors = new TreeMap<>();
    ByteBuffer chunk = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    long at = 0; // position in the data area
    for (Entry e : header.entries()) { // in file order: checkCoverage sorted them by begin
      float[] out = new float[e.numel()];
      int done = 0; // elements decoded
      long left = e.end() - e.begin();
      while (left > 0) {
        int n = (int) Math.min(CHUNK_BYTES, left);
        chunk.clear().limit(n);
        readFully(in, chunk.array(), n, error, 8 + header.length() + at, size, digest);
        done += decode(chunk, e.dtype(), out, done, n / e.dtype().size);
        left -= n;
        at += n;
      }
      tensors.put(e.name(), new Tensor(e.name(), e.shape(), out));
    }
    if (in.read() >= 0) {
      throw error.apply("the file is longer than its " + size + " bytes (it changed while it was read)");
    }
    return tensors;
  }

  /**
   * The dtypes a stream's tensors are stored in, sorted, from its header alone (see {@link #storedDtypes(byte[],
   * String)}).
   */
  public static List<String> storedDtypes(InputStream in, long size, String source) throws IOException {
    return readHeader(in, size, source, null).entries().stream().map(e -> e.dtype().name()).distinct().sorted()
        .toList();
  }

  /** A file's validated header: its length N, its entries and the length of the data area after it. */
  private record Header(int length, List<Entry> entries, long dataLength) {}

  private static Header readHeader(InputStream in, long size, String source, MessageDigest digest)
      throws IOException {
    Function<String, ModelFormatException> error =
        what -> new ModelFormatException("Cannot read safetensors file " + source + ": " + what);
    if (size < 8) {
      throw error.apply("file is " + size + " bytes, expected at least 8 (the header length)");
    }
    byte[] lengthBytes = new byte[8];
    readFully(in, lengthBytes, 8, error, 0, size, digest);
    long headerLength = ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    if (Long.compareUnsigned(headerLength, MAX_HEADER_BYTES) > 0) {
      throw error.apply("header length is " + Long.toUnsignedString(headerLength) + " bytes, expected at most "
          + MAX_HEADER_BYTES);
    }
    if (headerLength < 2) {
      throw error.apply("header length is " + headerLength + " bytes, expected at least 2 (a JSON object)");
    }
    if (headerLength > size - 8) {
      throw error.apply("header length is " + headerLength + " bytes, but only " + (size - 8)
          + " bytes follow the 8-byte length");
    }
    if (headerLength > MAX_MODEL_HEADER_BYTES) {
      throw error.apply("header length is " + headerLength + " bytes, expected at most " + MAX_MODEL_HEADER_BYTES
          + " for a model (seqpack's limit, below the format's " + MAX_HEADER_BYTES + ")");
    }
    byte[] json = new byte[(int) headerLength];
    readFully(in, json, json.length, error, 8, size, digest);
    List<Entry> entries = SafeTensorsHeader.read(decodeUtf8(json, 0, json.length, "the header", error),
        "safetensors file " + source);
    return new Header(json.length, entries, size - 8 - headerLength);
  }

  /** Reads exactly {@code n} bytes into {@code into}, which start at byte {@code at} of a file of {@code size}. */
  private static void readFully(InputStream in, byte[] into, int n, Function<String, ModelFormatException> error,
      long at, long size, MessageDigest digest) throws IOException {
    int read = 0;
    while (read < n) {
      int r = in.read(into, read, n - read);
      if (r < 0) {
        throw error.apply("the file ended after " + (at + read) + " of its " + size
            + " bytes (it changed while it was read)");
      }
      read += r;
    }
    if (digest != null) {
      digest.update(into, 0, n);
    }
  }

  /**
   * The dtypes a file stores its tensors in ({@code F32}, {@code BF16}, ...), sorted: what the run report's model
   * card shows (seqpack converts every dtype to float32 as it reads).
   *
   * @param file the bytes of a file {@link #read} accepts
   */
  public static List<String> storedDtypes(byte[] file, String source) {
    long headerLength = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    Function<String, ModelFormatException> error =
        what -> new ModelFormatException("Cannot read safetensors file " + source + ": " + what);
    return SafeTensorsHeader.read(decodeUtf8(file, 8, (int) headerLength, "the header", error),
        "safetensors file " + source).stream().map(e -> e.dtype().name()).distinct().sorted().toList();
  }

  /**
   * Writes tensors as an F32 safetensors file: entries in name order, offsets contiguous from 0, and the header
   * padded with spaces so the data starts on an 8-byte boundary, as the reference writer does.
   *
   * @param tensors tensors by name; each key must equal its tensor's {@link Tensor#name()}
   * @param metadata the optional {@code __metadata__} string map, or null for none
   * @throws IllegalArgumentException if a name is {@code __metadata__} or differs from its key, a shape has a
   *     negative dimension or does not match the tensor's data, or the file would exceed 2 GiB
   */
  public static byte[] write(Map<String, Tensor> tensors, Map<String, String> metadata) {
    Map<String, Object> header = new LinkedHashMap<>();
    if (metadata != null && !metadata.isEmpty()) {
      header.put(METADATA, new TreeMap<>(metadata));
    }
    Map<String, Tensor> ordered = new TreeMap<>(tensors);
    long offset = 0;
    for (Map.Entry<String, Tensor> e : ordered.entrySet()) {
      Tensor t = e.getValue();
      if (METADATA.equals(e.getKey()) || !e.getKey().equals(t.name())) {
        throw new IllegalArgumentException("cannot write tensor " + t.name() + " under the name " + e.getKey());
      }
      if (Arrays.stream(t.shape()).anyMatch(d -> d < 0) || t.numel() != t.data().length) {
        throw new IllegalArgumentException("tensor " + t.name() + " has shape " + t.shapeString() + " but "
            + t.data().length + " values");
      }
      long end = offset + 4L * t.data().length;
      Map<String, Object> info = new LinkedHashMap<>(); // fixed key order: the bytes are hashed
      info.put("dtype", DType.F32.name());
      info.put("shape", Arrays.stream(t.shape()).boxed().toList());
      info.put("data_offsets", List.of(offset, end));
      header.put(t.name(), info);
      offset = end;
    }
    byte[] json;
    try {
      json = StrictJson.MAPPER.writeValueAsBytes(header);
    } catch (JsonProcessingException e) { // maps of strings, numbers and lists always map
      throw new UncheckedIOException(e);
    }
    int headerLength = (json.length + 7) / 8 * 8;
    long fileLength = 8L + headerLength + offset;
    if (fileLength > MAX_NUMEL) {
      throw new IllegalArgumentException("a safetensors file of " + fileLength + " bytes does not fit in an array");
    }
    ByteBuffer out = ByteBuffer.allocate((int) fileLength).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(headerLength).put(json);
    for (int i = json.length; i < headerLength; i++) {
      out.put((byte) ' ');
    }
    for (Tensor t : ordered.values()) {
      for (float v : t.data()) {
        out.putFloat(v);
      }
    }
    return out.array();
  }

  /**
   * Decodes UTF-8 strictly: malformed input is an error ({@code <what> is not valid UTF-8 at byte <i>}), never
   * replaced with U+FFFD as {@code new String(bytes, UTF_8)} would.
   */
  static String decodeUtf8(
      byte[] bytes, int offset, int length, String what, Function<String, ModelFormatException> error) {
    ByteBuffer in = ByteBuffer.wrap(bytes, offset, length);
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(in)
          .toString();
    } catch (CharacterCodingException e) {
      throw error.apply(what + " is not valid UTF-8 at byte " + (in.position() - offset));
    }
  }

  /**
   * The reference reader's offset rules: sorted by begin, the tensors must tile the data area exactly — the
   * first starting at 0, each starting where the previous ends, the last ending at the end of the file.
   */
  private static void checkCoverage(
      List<Entry> entries, long dataLength, Function<String, ModelFormatException> error) {
    entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    long covered = 0;
    for (Entry e : entries) {
      if (e.begin() != covered) {
        throw error.apply("tensor " + StrictJson.shorten(e.name()) + " starts at byte " + e.begin()
            + " of the data area, expected " + covered + " (tensors must be contiguous, without gaps or overlaps)");
      }
      covered = e.end();
    }
    if (covered != dataLength) {
      throw error.apply("the tensors cover " + covered + " bytes of the data area, expected all " + dataLength
          + " bytes after the header");
    }
  }

  /** Converts one tensor, already checked to lie inside the file, to float32. */
  private static float[] decode(ByteBuffer file, int start, Entry e) {
    float[] out = new float[e.numel()];
    ByteBuffer bytes = file.slice(start, (int) (e.end() - e.begin())).order(ByteOrder.LITTLE_ENDIAN);
    decode(bytes, e.dtype(), out, 0, out.length);
    return out;
  }

  /** Converts {@code count} values of {@code dtype} from the start of {@code bytes} into {@code out[at ..]}. */
  private static int decode(ByteBuffer bytes, DType dtype, float[] out, int at, int count) {
    switch (dtype) {
      case F32 -> bytes.asFloatBuffer().get(out, at, count);
      case F64 -> {
        for (int i = 0; i < count; i++) {
          out[at + i] = (float) bytes.getDouble(8 * i);
        }
      }
      case F16 -> {
        for (int i = 0; i < count; i++) {
          out[at + i] = halfToFloat(bytes.getShort(2 * i));
        }
      }
      case BF16 -> {
        for (int i = 0; i < count; i++) {
          out[at + i] = bfloat16ToFloat(bytes.getShort(2 * i));
        }
      }
    }
    return count;
  }

  /**
   * Converts IEEE 754 half-precision bits to float32 exactly, as Java 20's {@code Float.float16ToFloat} does:
   * normal numbers, subnormals, signed zeros, infinities and NaNs (payload kept).
   */
  static float halfToFloat(short half) {
    int bits = half & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exponent = (bits >>> 10) & 0x1f;
    int mantissa = bits & 0x3ff;
    if (exponent == 0x1f) { // infinity or NaN
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    if (exponent == 0) { // zero or subnormal: mantissa * 2^-24, exact in float32
      float magnitude = mantissa * 0x1p-24f;
      return sign == 0 ? magnitude : -magnitude;
    }
    return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
  }

  /** Converts bfloat16 bits to float32: the upper half of the float's bits. */
  static float bfloat16ToFloat(short bf16) {
    return Float.intBitsToFloat((bf16 & 0xffff) << 16);
  }
}
