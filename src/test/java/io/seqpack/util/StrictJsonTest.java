package io.seqpack.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.SeqpackException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link StrictJson}: every text the hand-written parser refused (with the reason it gave) is refused in one
 * line, and the checks Jackson does not make itself (lone surrogates, non-ASCII {@code \\u} digits) hold.
 */
class StrictJsonTest {
  private static String refusal(String text) {
    SeqpackException e = assertThrows(SeqpackException.class,
        () -> StrictJson.read("t", null, SeqpackException::new, () -> StrictJson.tree(StrictJson.MAPPER, text)));
    assertTrue(e.getMessage().startsWith("Cannot read t: "), e.getMessage());
    assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    return e.getMessage().substring("Cannot read t: ".length());
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
        Arguments.of("{\"\\ud800\":1}", "lone surrogate in string at offset 9"),
        Arguments.of("{\"\\ud800\" 1}", "expected ':' (Jackson meets the missing colon before the lone surrogate)"),
        // depth: Json.MAX_DEPTH levels are fine, one more is refused at its opening bracket
        Arguments.of("[".repeat(65) + "]".repeat(65), "nesting deeper than 64 at offset 64"),
        Arguments.of("{\"k\":".repeat(65) + "1" + "}".repeat(65), "nesting deeper than 64 at offset 320"),
        // number literals: at most 400 digits (Jackson's count: sign and point aside); raw lone surrogates cannot
        // come from the strict UTF-8 decoding every file goes through
        Arguments.of("[1" + "0".repeat(400) + "]", "integer literal too long at offset 402"),
        Arguments.of("1" + "0".repeat(450) + " ", "integer literal too long at offset 451"),
        Arguments.of("{\"a\": 1" + "0".repeat(300) + "e" + "0".repeat(300) + "}", "number literal too long at offset 608"));
  }


  @ParameterizedTest
  @MethodSource("malformed")
  void refusesMalformedJson(String text, String formerReason) {
    String reason = refusal(text);
    assertTrue(reason.startsWith("malformed JSON"), reason);
    for (String kept : new String[] {"duplicate key", "nesting deeper than 64", "invalid \\u escape", "lone surrogate"}) {
      if (formerReason.startsWith(kept)) {
        assertTrue(reason.contains(kept), formerReason + " became " + reason);
      }
    }
  }

  @Test
  void namesWhatJacksonLetsThrough() {
    assertEquals("malformed JSON: invalid \\u escape \\u\u0661\u0662\u0663\u0664 at character 1",
        refusal("\"\\u\u0661\u0662\u0663\u0664\""));
    assertEquals("malformed JSON: lone surrogate \\ud800 at character 8", refusal("{\"a\": \"x\\ud800\"}"));
    assertEquals("malformed JSON: lone surrogate \\udc00 at character 1", refusal("\"\\udc00\\ud800\""));
    assertEquals("malformed JSON (line 1, column 11): duplicate key \"a\"", refusal("{\"a\":1,\"a\":2}"));
    assertEquals("malformed JSON (line 1, column 3): content after the JSON value", refusal("1 2"));
    assertEquals("\ud83d\ude00", StrictJson.MAPPER.valueToTree("\ud83d\ude00").textValue());
  }
}
