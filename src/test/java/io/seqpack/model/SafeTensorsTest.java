package io.seqpack.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.ModelFormatException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SafeTensorsTest {
  private static final String SOURCE = "/m/model.safetensors";
  private static final String PREFIX = "Cannot read safetensors file " + SOURCE + ": ";

  // ------------------------------------------------------------------------------------------- builders

  /** A file with the given declared header length followed by {@code rest}. */
  private static byte[] file(long headerLength, byte[] rest) {
    return ByteBuffer.allocate(8 + rest.length).order(ByteOrder.LITTLE_ENDIAN).putLong(headerLength).put(rest)
        .array();
  }

  /** A well-framed file: the header's UTF-8 bytes, then {@code dataBytes} zero bytes. */
  private static byte[] file(String header, int dataBytes) {
    return file(header.getBytes(StandardCharsets.UTF_8), new byte[dataBytes]);
  }

  private static byte[] file(byte[] header, byte[] data) {
    byte[] rest = new byte[header.length + data.length];
    System.arraycopy(header, 0, rest, 0, header.length);
    System.arraycopy(data, 0, rest, header.length, data.length);
    return file(header.length, rest);
  }

  /** A header entry text. */
  private static String entry(String name, String dtype, String shape, String offsets) {
    return "\"" + name + "\": {\"dtype\": \"" + dtype + "\", \"shape\": " + shape + ", \"data_offsets\": " + offsets
        + "}";
  }

  private static byte[] littleEndian(int bytesPerValue, long... values) {
    ByteBuffer b = ByteBuffer.allocate(bytesPerValue * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      switch (bytesPerValue) {
        case 2 -> b.putShort((short) v);
        case 8 -> b.putLong(v);
        default -> throw new IllegalArgumentException();
      }
    }
    return b.array();
  }

  private static float[] readOne(String dtype, int bytesPerValue, long... values) {
    String header = "{" + entry("x", dtype, "[" + values.length + "]", "[0, " + bytesPerValue * values.length + "]")
        + "}";
    return SafeTensors.read(file(header.getBytes(StandardCharsets.UTF_8), littleEndian(bytesPerValue, values)),
        SOURCE).get("x").data();
  }

  private static Tensor tensor(String name, int[] shape, float... data) {
    return new Tensor(name, shape, data);
  }

  // ------------------------------------------------------------------------------------------- round trip

  @Test
  void writeThenReadRoundTrips() {
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("rnn.weight_hh_l0", tensor("rnn.weight_hh_l0", new int[] {2, 3}, 1, -2, 3.5f, Float.NaN,
        Float.NEGATIVE_INFINITY, Float.MIN_VALUE));
    tensors.put("a.scalar", tensor("a.scalar", new int[] {}, 42));
    tensors.put("empty", tensor("empty", new int[] {0, 3}));
    tensors.put("fc.bias", tensor("fc.bias", new int[] {1}, -0.0f));
    byte[] bytes = SafeTensors.write(tensors, Map.of("format", "pt"));

    Map<String, Tensor> read = SafeTensors.read(bytes, SOURCE);
    assertEquals(List.of("a.scalar", "empty", "fc.bias", "rnn.weight_hh_l0"), List.copyOf(read.keySet()));
    for (Tensor t : tensors.values()) {
      Tensor r = read.get(t.name());
      assertEquals(t.name(), r.name());
      assertArrayEquals(t.shape(), r.shape());
      assertArrayEquals(t.data(), r.data()); // bitwise via Float.equals semantics: NaN, -0.0 kept
    }
    assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(read.get("fc.bias").data()[0]));
  }

  @Test
  void writerPadsHeaderToEightBytesAndOrdersByName() {
    Map<String, Tensor> tensors = Map.of(
        "b", tensor("b", new int[] {1}, 2), "a", tensor("a", new int[] {2}, 1, 1));
    byte[] bytes = SafeTensors.write(tensors, null);
    long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    assertEquals(0, n % 8);
    assertEquals(8 + n + 12, bytes.length);
    String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
    assertTrue(header.indexOf("\"a\"") < header.indexOf("\"b\""), header);
    assertTrue(header.contains("\"data_offsets\":[0,8]") && header.contains("\"data_offsets\":[8,12]"), header);
    assertTrue(header.contains("\"dtype\":\"F32\""), header);
    assertTrue(header.stripTrailing().endsWith("}"), header);
  }

  @Test
  void writerRejectsInconsistentTensors() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SafeTensors.write(Map.of("x", tensor("x", new int[] {2, 2}, 1, 2, 3)), null));
    assertEquals("tensor x has shape [2, 2] but 3 values", e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> SafeTensors.write(Map.of("y", tensor("x", new int[] {1}, 1)), null));
    assertThrows(IllegalArgumentException.class,
        () -> SafeTensors.write(Map.of("x", tensor("x", new int[] {-1, -1}, 1)), null));
    assertThrows(IllegalArgumentException.class,
        () -> SafeTensors.write(Map.of("__metadata__", tensor("__metadata__", new int[] {1}, 1)), null));
  }

  @Test
  void readsEmptyHeaderAndZeroSizedTensorsSharingAnOffset() {
    assertTrue(SafeTensors.read(file("{}", 0), SOURCE).isEmpty());
    assertTrue(SafeTensors.read(file("{}      ", 0), SOURCE).isEmpty()); // space padding
    Map<String, Tensor> read = SafeTensors.read(file("{" + entry("a", "F32", "[0]", "[0, 0]") + ", "
        + entry("b", "F16", "[2, 0]", "[0, 0]") + ", " + entry("c", "F32", "[1]", "[0, 4]") + "}", 4), SOURCE);
    assertEquals(0, read.get("a").data().length);
    assertArrayEquals(new int[] {2, 0}, read.get("b").shape());
    assertArrayEquals(new float[] {0}, read.get("c").data());
  }

  @Test
  void acceptsTensorsStoredOutOfNameOrder() {
    byte[] data = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1).putFloat(2).array();
    String header = "{" + entry("a", "F32", "[1]", "[4, 8]") + ", " + entry("b", "F32", "[1]", "[0, 4]") + "}";
    Map<String, Tensor> read = SafeTensors.read(file(header.getBytes(StandardCharsets.UTF_8), data), SOURCE);
    assertArrayEquals(new float[] {2}, read.get("a").data());
    assertArrayEquals(new float[] {1}, read.get("b").data());
  }

  // ------------------------------------------------------------------------------------------- dtypes

  @Test
  void decodesF64ByNarrowing() {
    float[] v = readOne("F64", 8, Double.doubleToRawLongBits(1.5), Double.doubleToRawLongBits(-2.25),
        Double.doubleToRawLongBits(0.1), Double.doubleToRawLongBits(1e300), Double.doubleToRawLongBits(Double.NaN));
    assertArrayEquals(new float[] {1.5f, -2.25f, 0.1f, Float.POSITIVE_INFINITY, Float.NaN}, v);
  }

  @Test
  void decodesF16KnownBitPatterns() {
    float[] v = readOne("F16", 2,
        0x3C00, 0xC000, 0x7BFF, 0x3555, 0x0400, 0x03FF, 0x0001, 0x8001, 0x0000, 0x8000, 0x7C00, 0xFC00, 0x7E00);
    assertEquals(1.0f, v[0]);
    assertEquals(-2.0f, v[1]);
    assertEquals(65504.0f, v[2]); // largest half
    assertEquals(0.333251953125f, v[3]);
    assertEquals(0x1p-14f, v[4]); // smallest normal
    assertEquals(1023 * 0x1p-24f, v[5]); // largest subnormal
    assertEquals(0x1p-24f, v[6]); // smallest subnormal
    assertEquals(-0x1p-24f, v[7]);
    assertEquals(Float.floatToRawIntBits(0.0f), Float.floatToRawIntBits(v[8]));
    assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(v[9]));
    assertEquals(Float.POSITIVE_INFINITY, v[10]);
    assertEquals(Float.NEGATIVE_INFINITY, v[11]);
    assertTrue(Float.isNaN(v[12]));
  }

  @Test
  void halfToFloatMatchesTheIeeeFormulaForEveryBitPattern() {
    for (int bits = 0; bits < 0x10000; bits++) {
      int exponent = (bits >>> 10) & 0x1f;
      int mantissa = bits & 0x3ff;
      double sign = (bits & 0x8000) != 0 ? -1 : 1;
      double expected = exponent == 0x1f
          ? (mantissa == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN)
          : exponent == 0
              ? sign * mantissa * Math.pow(2, -24)
              : sign * (1 + mantissa / 1024.0) * Math.pow(2, exponent - 15);
      float actual = SafeTensors.halfToFloat((short) bits);
      if (Double.isNaN(expected)) {
        assertTrue(Float.isNaN(actual), Integer.toHexString(bits));
        // payload kept, as Float.float16ToFloat does
        assertEquals(mantissa << 13, Float.floatToRawIntBits(actual) & 0x7fffff, Integer.toHexString(bits));
      } else {
        assertEquals((float) expected, actual, Integer.toHexString(bits));
        assertEquals(sign < 0, (Float.floatToRawIntBits(actual) & 0x80000000) != 0, Integer.toHexString(bits));
      }
    }
  }

  @Test
  void decodesBf16KnownBitPatterns() {
    float[] v = readOne("BF16", 2, 0x3F80, 0xC040, 0x4049, 0x7F80, 0xFF80, 0x7FC0, 0x0001, 0x8000);
    assertEquals(1.0f, v[0]);
    assertEquals(-3.0f, v[1]);
    assertEquals(3.140625f, v[2]);
    assertEquals(Float.POSITIVE_INFINITY, v[3]);
    assertEquals(Float.NEGATIVE_INFINITY, v[4]);
    assertTrue(Float.isNaN(v[5]));
    assertEquals(Float.intBitsToFloat(0x00010000), v[6]); // subnormal
    assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(v[7]));
  }

  // ------------------------------------------------------------------------------------------- framing

  static Stream<Arguments> malformedFraming() {
    return Stream.of(
        Arguments.of(new byte[7], "file is 7 bytes, expected at least 8 (the header length)"),
        Arguments.of(new byte[0], "file is 0 bytes, expected at least 8 (the header length)"),
        Arguments.of(file(0, new byte[16]), "header length is 0 bytes, expected at least 2 (a JSON object)"),
        Arguments.of(file(1, new byte[16]), "header length is 1 bytes, expected at least 2 (a JSON object)"),
        Arguments.of(file(Long.MAX_VALUE, new byte[16]),
            "header length is 9223372036854775807 bytes, expected at most 100000000"),
        Arguments.of(file(-1L, new byte[16]),
            "header length is 18446744073709551615 bytes, expected at most 100000000"),
        Arguments.of(file(Long.MIN_VALUE, new byte[16]),
            "header length is 9223372036854775808 bytes, expected at most 100000000"),
        Arguments.of(file(100_000_001L, new byte[16]),
            "header length is 100000001 bytes, expected at most 100000000"),
        Arguments.of(file(7, new byte[0]), "header length is 7 bytes, but only 0 bytes follow the 8-byte length"),
        Arguments.of(file(11, "{}        ".getBytes(StandardCharsets.US_ASCII)),
            "header length is 11 bytes, but only 10 bytes follow the 8-byte length"),
        Arguments.of(file(7, "{\"a\":1}".getBytes(StandardCharsets.US_ASCII)),
            "a: 1, expected an object"));
  }

  @ParameterizedTest
  @MethodSource("malformedFraming")
  void rejectsMalformedFraming(byte[] bytes, String reason) {
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafeTensors.read(bytes, SOURCE));
    assertEquals(PREFIX + reason, e.getMessage());
  }

  @Test
  void rejectsHeaderThatIsNotUtf8() {
    byte[] header = "{\"a\u00e9\": 1}".getBytes(StandardCharsets.UTF_8);
    header[3] = (byte) 0xC3;
    header[4] = (byte) 0x28; // C3 28: a lead byte followed by a non-continuation byte
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> SafeTensors.read(file(header, new byte[0]), SOURCE));
    assertEquals(PREFIX + "the header is not valid UTF-8 at byte 3", e.getMessage());

    byte[] truncated = {'{', '"', (byte) 0xE2, (byte) 0x82};
    e = assertThrows(ModelFormatException.class, () -> SafeTensors.read(file(truncated, new byte[0]), SOURCE));
    assertEquals(PREFIX + "the header is not valid UTF-8 at byte 2", e.getMessage());
  }

  // ------------------------------------------------------------------------------------------- header

  static Stream<Arguments> malformedHeaders() {
    String a = entry("a", "F32", "[1]", "[0, 4]");
    return Stream.of(
        Arguments.of("{\"a\": }", 0, "malformed JSON (line 1, column 7): Unexpected character ('}' (code 125)): expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"),
        Arguments.of("{" + a + ", " + a + "}", 4, "malformed JSON (line 1, column 66): duplicate key \"a\""),
        Arguments.of("[1, 2]", 0, "the top level: [1,2], expected an object"),
        Arguments.of("\"x\"", 0, "the top level: \"x\", expected an object"),
        Arguments.of("{\"__metadata__\": \"pt\"}", 0, "__metadata__: \"pt\", expected an object"),
        Arguments.of("{\"__metadata__\": {\"format\": 1}}", 0, "__metadata__.format: 1, expected a string"),
        Arguments.of("{\"a\": [0, 4]}", 4, "a: [0,4], expected an object"),
        Arguments.of("{\"a\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4,
            "a.dtype: missing"),
        Arguments.of("{\"a\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", 4,
            "a.shape: missing"),
        Arguments.of("{\"a\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4,
            "a.data_offsets: missing"),
        Arguments.of("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4], \"offsets\": 1}}", 4,
            "a.offsets: unknown field, expected one of data_offsets, dtype, shape"),
        Arguments.of("{" + entry("w", "I64", "[1]", "[0, 8]") + "}", 8,
            "w.dtype: \"I64\", expected one of F32, F64, F16, BF16"),
        Arguments.of("{" + entry("w", "U8", "[1]", "[0, 1]") + "}", 1,
            "w.dtype: \"U8\", expected one of F32, F64, F16, BF16"),
        Arguments.of("{" + entry("w", "BOOL", "[1]", "[0, 1]") + "}", 1,
            "w.dtype: \"BOOL\", expected one of F32, F64, F16, BF16"),
        Arguments.of("{" + entry("w", "f32", "[1]", "[0, 4]") + "}", 4,
            "w.dtype: \"f32\", expected one of F32, F64, F16, BF16"),
        Arguments.of("{\"w\": {\"dtype\": 32, \"shape\": [1], \"data_offsets\": [0, 4]}}", 4,
            "w.dtype: 32, expected one of F32, F64, F16, BF16"),
        Arguments.of("{" + entry("w", "F32", "[1, -1]", "[0, 4]") + "}", 4,
            "w.shape[1]: -1, expected an integer >= 0"),
        Arguments.of("{" + entry("w", "F32", "[2.5]", "[0, 4]") + "}", 4,
            "w.shape[0]: 2.5, expected an integer >= 0"),
        Arguments.of("{" + entry("w", "F32", "\"1\"", "[0, 4]") + "}", 4,
            "w.shape: \"1\", expected an array"),
        Arguments.of("{" + entry("w", "F32", "[1,1,1,1,1,1,1,1,1]", "[0, 4]") + "}", 4,
            "w.shape: 9 dimensions, expected at most 8"),
        Arguments.of("{" + entry("w", "F32", "[2147483648]", "[0, 4]") + "}", 4,
            "w.shape[0]: 2147483648, expected an integer >= 0 that fits in 32 bits"),
        Arguments.of("{" + entry("w", "F32", "[2147483647, 2147483647, 2147483647, 0]", "[0, 0]") + "}", 0,
            "w.shape: [2147483647, 2147483647, 2147483647, 0], expected a 64-bit element count (it overflows)"),
        Arguments.of("{" + entry("w", "F32", "[65536, 65536]", "[0, 17179869184]") + "}", 0,
            "w.shape: [65536, 65536] (4294967296 elements), expected at most 2147483639 elements"),
        Arguments.of("{" + entry("w", "F32", "[1]", "[4]") + "}", 4,
            "w.data_offsets: [4], expected [begin, end] with begin <= end"),
        Arguments.of("{" + entry("w", "F32", "[1]", "[0, 4, 8]") + "}", 4,
            "w.data_offsets: [0, 4, 8], expected [begin, end] with begin <= end"),
        Arguments.of("{" + entry("w", "F32", "[1]", "[-4, 0]") + "}", 4,
            "w.data_offsets[0]: -4, expected an integer >= 0"),
        Arguments.of("{" + entry("w", "F32", "[1]", "[0, 18446744073709551616]") + "}", 4,
            "w.data_offsets[1]: 18446744073709551616, expected an integer"),
        Arguments.of("{" + entry("w", "F32", "[0]", "[4, 0]") + "}", 4,
            "w.data_offsets: [4, 0], expected [begin, end] with begin <= end"),
        Arguments.of("{" + entry("w", "F32", "[2]", "[0, 4]") + "}", 4,
            "w.data_offsets: [0, 4] (4 bytes), expected 8 bytes (F32 [2])"),
        Arguments.of("{" + entry("w", "F16", "[2, 3]", "[0, 24]") + "}", 24,
            "w.data_offsets: [0, 24] (24 bytes), expected 12 bytes (F16 [2, 3])"),
        // coverage of the data area
        Arguments.of("{" + entry("a", "F32", "[1]", "[4, 8]") + "}", 8,
            "tensor a starts at byte 4 of the data area, expected 0 (tensors must be contiguous, without gaps or"
                + " overlaps)"),
        Arguments.of("{" + a + ", " + entry("b", "F32", "[1]", "[8, 12]") + "}", 12,
            "tensor b starts at byte 8 of the data area, expected 4 (tensors must be contiguous, without gaps or"
                + " overlaps)"),
        Arguments.of("{" + entry("a", "F32", "[2]", "[0, 8]") + ", " + entry("b", "F32", "[2]", "[4, 12]") + "}", 12,
            "tensor b starts at byte 4 of the data area, expected 8 (tensors must be contiguous, without gaps or"
                + " overlaps)"),
        Arguments.of("{" + a + "}", 8, "the tensors cover 4 bytes of the data area, expected all 8 bytes after the"
            + " header"),
        Arguments.of("{" + a + "}", 3, "the tensors cover 4 bytes of the data area, expected all 3 bytes after the"
            + " header"),
        Arguments.of("{}", 1, "the tensors cover 0 bytes of the data area, expected all 1 bytes after the header"),
        // sizes the file cannot hold are refused before anything is allocated
        Arguments.of("{" + entry("w", "F32", "[2000000000]", "[0, 8000000000]") + "}", 16,
            "the tensors cover 8000000000 bytes of the data area, expected all 16 bytes after the header"));
  }

  @ParameterizedTest
  @MethodSource("malformedHeaders")
  void rejectsMalformedHeader(String header, int dataBytes, String reason) {
    ModelFormatException e =
        assertThrows(ModelFormatException.class, () -> SafeTensors.read(file(header, dataBytes), SOURCE));
    assertEquals(PREFIX + reason, e.getMessage());
  }
}
