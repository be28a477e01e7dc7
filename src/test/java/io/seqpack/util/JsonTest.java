package io.seqpack.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.seqpack.util.Json.JsonException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Json}: the value types, every strictness rule with its exact message (offsets are character offsets),
 * the checks Jackson does not make itself (lone surrogates, non-ASCII {@code \\u} digits, number length), and the
 * writer's exact output.
 */
class JsonTest {

  @Test
  void parsesValuesToMapsInFileOrderListsAndBoxedScalars() {
    Map<String, Object> m = Json.parseObject(
        " {\"z\": 1, \"a\": [true, false, null], \"m\": {\"s\": \"\\u00e9\\n\\ud83d\\ude00\\/\"},"
            + " \"big\": 9223372036854775808, \"max\": 9223372036854775807, \"neg\": -0, \"d\": 1.5e3,"
            + " \"inf\": 1e400}\r\n\t");
    assertInstanceOf(LinkedHashMap.class, m);
    assertEquals(List.of("z", "a", "m", "big", "max", "neg", "d", "inf"), new ArrayList<>(m.keySet()));
    assertEquals(1L, m.get("z"));
    assertInstanceOf(List.class, m.get("a"));
    assertEquals(Arrays.asList(true, false, null), m.get("a"));
    assertEquals(Map.of("s", "\u00e9\n\ud83d\ude00/"), m.get("m"));
    assertEquals(new BigInteger("9223372036854775808"), m.get("big"));
    assertEquals(Long.MAX_VALUE, m.get("max"));
    assertEquals(0L, m.get("neg"));
    assertEquals(1500.0, m.get("d"));
    assertEquals(Double.POSITIVE_INFINITY, m.get("inf"));
    assertEquals(-123456789012345678L, Json.parse("-123456789012345678"));
    assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
    assertEquals("x", Json.parse("\"x\""));
    assertNull(Json.parse("null"));
  }

  static Stream<Arguments> malformed() {
    return Stream.of(
        Arguments.of("", "unexpected end of input at offset 0"),
        Arguments.of("   ", "unexpected end of input at offset 3"),
        Arguments.of("{\"a\":1,\"a\":2}", "duplicate key \"a\" at offset 7"),
        Arguments.of("{\"a\\\"b\":1, \"a\\\"b\" :2}", "duplicate key \"a\"b\" at offset 11"),
        Arguments.of("{\"" + "K".repeat(250) + "\":1,\"" + "K".repeat(250) + "\":2}",
            "duplicate key \"" + "K".repeat(200) + "...\" at offset 256"),
        Arguments.of("{\"a\":1,}", "expected a string key at offset 7"),
        Arguments.of("[1,]", "unexpected character ']' at offset 3"),
        Arguments.of("// c\n{}", "unexpected character '/' at offset 0"),
        Arguments.of("[1 /* c */]", "expected ',' or ']' at offset 3"),
        Arguments.of("\uFEFF{}", "unexpected character '\\ufeff' at offset 0"),
        Arguments.of("01", "unexpected content after the JSON value at offset 1"),
        Arguments.of("[01]", "expected ',' or ']' at offset 2"),
        Arguments.of("{\"a\": -01}", "expected ',' or '}' at offset 8"),
        Arguments.of("1.", "invalid number at offset 2"),
        Arguments.of("[1.e5]", "invalid number at offset 3"),
        Arguments.of("1e+", "invalid number at offset 3"),
        Arguments.of("-", "invalid number at offset 1"),
        Arguments.of(".5", "unexpected character '.' at offset 0"),
        Arguments.of("+1", "unexpected character '+' at offset 0"),
        Arguments.of("NaN", "unexpected character 'N' at offset 0"),
        Arguments.of("[Infinity]", "unexpected character 'I' at offset 1"),
        Arguments.of("-Infinity", "invalid number at offset 1"),
        Arguments.of("'a'", "unexpected character ''' at offset 0"),
        Arguments.of("{a:1}", "expected a string key at offset 1"),
        Arguments.of("{\"a\" 1}", "expected ':' at offset 5"),
        Arguments.of("{\"a\":1 \"b\":2}", "expected ',' or '}' at offset 7"),
        Arguments.of("[1}", "expected ',' or ']' at offset 2"),
        Arguments.of("{]", "expected a string key at offset 1"),
        Arguments.of("]", "unexpected character ']' at offset 0"),
        Arguments.of("tru", "invalid literal at offset 0"),
        Arguments.of("[truex]", "expected ',' or ']' at offset 5"),
        Arguments.of("1 2", "unexpected content after the JSON value at offset 2"),
        Arguments.of("{} x", "unexpected content after the JSON value at offset 3"),
        Arguments.of("\u0000", "unexpected character '\\u0000' at offset 0"),
        Arguments.of("[\u0001]", "unexpected character '\\u0001' at offset 1"),
        Arguments.of("[\u007f]", "unexpected character '\\u007f' at offset 1"),
        Arguments.of("[", "unexpected end of input at offset 1"),
        Arguments.of("{\"a\":", "unexpected end of input at offset 5"),
        Arguments.of("\"abc", "unexpected end of input at offset 4"),
        Arguments.of("\"\\", "unexpected end of input at offset 2"),
        Arguments.of("\"a\u0001\"", "control character in string at offset 2"),
        Arguments.of("{\"a\tb\":1}", "control character in string at offset 3"),
        Arguments.of("\"\\x\"", "invalid escape '\\x' at offset 2"),
        Arguments.of("\"\\u12\"", "truncated \\u escape at offset 3"),
        Arguments.of("\"\\u", "truncated \\u escape at offset 3"),
        Arguments.of("\"\\u12G4\"", "invalid \\u escape at offset 3"),
        // Jackson reads a \\u digit from its low byte (U+0661 as 'a'): refused by an explicit check
        Arguments.of("\"\\u\u0661\u0662\u0663\u0664\"", "invalid \\u escape at offset 3"),
        Arguments.of("[\"ok\", \"\\u\u0130000\"]", "invalid \\u escape at offset 10"), // U+0130 as '0'
        // lone surrogates (Jackson accepts them): refused by an explicit check, after the closing quote
        Arguments.of("\"\\ud800\"", "lone surrogate in string at offset 8"),
        Arguments.of("\"\\udc00\\ud800\"", "lone surrogate in string at offset 14"),
        Arguments.of("[\"\ud800\"]", "lone surrogate in string at offset 4"),
        Arguments.of("{\"\\ud800\":1}", "lone surrogate in string at offset 9"),
        Arguments.of("{\"\\ud800\" 1}", "lone surrogate in string at offset 9"),
        // depth: Json.MAX_DEPTH levels are fine, one more is refused at its opening bracket
        Arguments.of("[".repeat(65) + "]".repeat(65), "nesting deeper than 64 at offset 64"),
        Arguments.of("{\"k\":".repeat(65) + "1" + "}".repeat(65), "nesting deeper than 64 at offset 320"),
        // number literals: at most 400 characters, sign, point and exponent included
        Arguments.of("-1" + "0".repeat(399), "integer literal too long at offset 401"),
        Arguments.of("[1" + "0".repeat(400) + "]", "integer literal too long at offset 402"),
        Arguments.of("1" + "0".repeat(450) + " ", "integer literal too long at offset 451"),
        Arguments.of("1." + "0".repeat(399), "number literal too long at offset 401"),
        Arguments.of("{\"a\": 1" + "0".repeat(300) + "e" + "0".repeat(300) + "}", "number literal too long at offset 608"));
  }

  @ParameterizedTest
  @MethodSource("malformed")
  void refusesMalformedJsonWithOffset(String text, String message) {
    JsonException e = assertThrows(JsonException.class, () -> Json.parse(text));
    assertEquals(message, e.getMessage());
  }

  @Test
  void acceptsTheLimitsThemselves() {
    assertInstanceOf(List.class, Json.parse("[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH)));
    assertInstanceOf(BigInteger.class, Json.parse("1" + "0".repeat(399)));
    assertEquals(1.0, Json.parse("1." + "0".repeat(398)));
    String longKey = "k".repeat(100_000);
    assertEquals(Map.of(longKey, "v".repeat(100_000)), Json.parse("{\"" + longKey + "\":\"" + "v".repeat(100_000) + "\"}"));
  }

  @Test
  void parseObjectRefusesOtherTopLevelValues() {
    JsonException e = assertThrows(JsonException.class, () -> Json.parseObject("[1]"));
    assertEquals("expected a JSON object at the top level", e.getMessage());
  }

  @Test
  void writesCompactJsonInMapOrder() {
    Map<Object, Object> m = new LinkedHashMap<>();
    m.put("z", 1);
    m.put("a", List.of(1L, new BigInteger("123456789012345678901234567890"), new BigDecimal("1.50"), true));
    m.put(7, Arrays.asList(null, 0.1, 1e300, -0.0, 2.5f, Double.NaN, Float.POSITIVE_INFINITY, (short) 3));
    m.put("s", "q\"b\\s/n\nr\rt\tb\bf\f\u0001\u001f\u007f\u00e9\ud83d\ude00");
    m.put("e", Map.of());
    m.put("l", List.of());
    assertEquals("{\"z\":1,\"a\":[1,123456789012345678901234567890,1.50,true],"
        + "\"7\":[null,0.1,1.0E300,-0.0,2.5,null,null,3.0],"
        + "\"s\":\"q\\\"b\\\\s/n\\nr\\rt\\tb\\u0008f\\u000c\\u0001\\u001f\u007f\u00e9\ud83d\ude00\",\"e\":{},\"l\":[]}",
        Json.write(m));
    assertEquals("\"x\"", Json.write("x"));
    assertEquals("null", Json.write(null));
  }

  @Test
  void writesPrettyJsonWithTwoSpaceIndentAndOneLineArrays() {
    Map<String, Object> inner = new LinkedHashMap<>();
    inner.put("b", List.of(1, 2));
    inner.put("c", Map.of());
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("a", inner);
    m.put("list", List.of(Map.of("k", 1), List.of()));
    assertEquals("{\n"
        + "  \"a\": {\n"
        + "    \"b\": [1, 2],\n"
        + "    \"c\": {}\n"
        + "  },\n"
        + "  \"list\": [{\n"
        + "      \"k\": 1\n"
        + "    }, []]\n"
        + "}\n", Json.writePretty(m));
    assertEquals("[]\n", Json.writePretty(List.of()));
  }

  @Test
  void writtenJsonParsesBack() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("format", "seqpack-model/1");
    m.put("n", List.of(1L, -2L, 3.25, "\u0000\ud83d\ude00"));
    m.put("o", Map.of("x", false));
    assertEquals(m, Json.parse(Json.write(m)));
    assertEquals(m, Json.parse(Json.writePretty(m)));
  }

  @Test
  void refusesToWriteOtherTypes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.write(List.of(new Object())));
    assertEquals("cannot write class java.lang.Object as JSON", e.getMessage());
  }
}
