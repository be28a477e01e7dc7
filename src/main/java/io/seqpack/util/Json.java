package io.seqpack.util;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON (RFC 8259) reader and writer. Seqpack parses model files that come from elsewhere, so the
 * reader rejects what lenient parsers accept: duplicate keys, trailing commas, comments, control characters in
 * strings, lone surrogates, trailing content, and nesting deeper than {@link #MAX_DEPTH}.
 *
 * <p>Values map to Java as: object → {@code Map<String,Object>} (insertion order kept), array → {@code
 * List<Object>}, string → {@code String}, {@code true/false} → {@code Boolean}, {@code null} → {@code null},
 * integer literal → {@code Long} (or {@code BigInteger} when it does not fit), other numbers → {@code Double}.
 */
public final class Json {
  /** Deepest nesting of arrays/objects accepted; far above anything a model header needs. */
  public static final int MAX_DEPTH = 64;

  /** Thrown for malformed JSON; the message gives the character offset. */
  public static final class JsonException extends RuntimeException {
    public JsonException(String message) {
      super(message);
    }
  }

  private final String text;
  private int pos;

  private Json(String text) {
    this.text = text;
  }

  /** Parses one JSON value that must span the whole text (whitespace aside). */
  public static Object parse(String text) {
    Json parser = new Json(text);
    parser.skipWhitespace();
    Object value = parser.readValue(0);
    parser.skipWhitespace();
    if (parser.pos != text.length()) {
      throw parser.error("unexpected content after the JSON value");
    }
    return value;
  }

  /** Parses text that must be a JSON object. */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> parseObject(String text) {
    Object value = parse(text);
    if (!(value instanceof Map)) {
      throw new JsonException("expected a JSON object at the top level");
    }
    return (Map<String, Object>) value;
  }

  private JsonException error(String what) {
    return new JsonException(what + " at offset " + pos);
  }

  private void skipWhitespace() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        pos++;
      } else {
        break;
      }
    }
  }

  private Object readValue(int depth) {
    if (pos >= text.length()) {
      throw error("unexpected end of input");
    }
    char c = text.charAt(pos);
    switch (c) {
      case '{':
        return readObject(depth + 1);
      case '[':
        return readArray(depth + 1);
      case '"':
        return readString();
      case 't':
        expectLiteral("true");
        return Boolean.TRUE;
      case 'f':
        expectLiteral("false");
        return Boolean.FALSE;
      case 'n':
        expectLiteral("null");
        return null;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          return readNumber();
        }
        throw error("unexpected character '" + printable(c) + "'");
    }
  }

  private static String printable(char c) {
    return c < 0x20 || c > 0x7e ? String.format("\\u%04x", (int) c) : String.valueOf(c);
  }

  private void expectLiteral(String literal) {
    if (!text.startsWith(literal, pos)) {
      throw error("invalid literal");
    }
    pos += literal.length();
  }

  private Map<String, Object> readObject(int depth) {
    if (depth > MAX_DEPTH) {
      throw error("nesting deeper than " + MAX_DEPTH);
    }
    pos++; // '{'
    Map<String, Object> map = new LinkedHashMap<>();
    skipWhitespace();
    if (peek() == '}') {
      pos++;
      return map;
    }
    while (true) {
      skipWhitespace();
      if (peek() != '"') {
        throw error("expected a string key");
      }
      int keyPos = pos;
      String key = readString();
      skipWhitespace();
      if (peek() != ':') {
        throw error("expected ':'");
      }
      pos++;
      skipWhitespace();
      Object value = readValue(depth);
      if (map.containsKey(key)) {
        pos = keyPos;
        throw error("duplicate key \""
            + (key.length() <= MAX_KEY_SHOWN ? key : key.substring(0, MAX_KEY_SHOWN) + "...") + "\"");
      }
      map.put(key, value);
      skipWhitespace();
      char c = peek();
      pos++;
      if (c == '}') {
        return map;
      }
      if (c != ',') {
        pos--;
        throw error("expected ',' or '}'");
      }
    }
  }

  private List<Object> readArray(int depth) {
    if (depth > MAX_DEPTH) {
      throw error("nesting deeper than " + MAX_DEPTH);
    }
    pos++; // '['
    List<Object> list = new ArrayList<>();
    skipWhitespace();
    if (peek() == ']') {
      pos++;
      return list;
    }
    while (true) {
      skipWhitespace();
      list.add(readValue(depth));
      skipWhitespace();
      char c = peek();
      pos++;
      if (c == ']') {
        return list;
      }
      if (c != ',') {
        pos--;
        throw error("expected ',' or ']'");
      }
    }
  }

  private char peek() {
    if (pos >= text.length()) {
      throw error("unexpected end of input");
    }
    return text.charAt(pos);
  }

  private String readString() {
    pos++; // opening quote
    StringBuilder sb = new StringBuilder();
    while (true) {
      char c = peek();
      pos++;
      if (c == '"') {
        break;
      }
      if (c < 0x20) {
        pos--;
        throw error("control character in string");
      }
      if (c == '\\') {
        char e = peek();
        pos++;
        switch (e) {
          case '"' -> sb.append('"');
          case '\\' -> sb.append('\\');
          case '/' -> sb.append('/');
          case 'b' -> sb.append('\b');
          case 'f' -> sb.append('\f');
          case 'n' -> sb.append('\n');
          case 'r' -> sb.append('\r');
          case 't' -> sb.append('\t');
          case 'u' -> {
            if (pos + 4 > text.length()) {
              throw error("truncated \\u escape");
            }
            int code = 0;
            for (int i = 0; i < 4; i++) {
              int digit = hexDigit(text.charAt(pos + i));
              if (digit < 0) {
                throw error("invalid \\u escape");
              }
              code = code * 16 + digit;
            }
            pos += 4;
            sb.append((char) code);
          }
          default -> {
            pos--;
            throw error("invalid escape '\\" + printable(e) + "'");
          }
        }
      } else {
        sb.append(c);
      }
    }
    String s = sb.toString();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw error("lone surrogate in string");
      }
    }
    return s;
  }

  /**
   * The value of an ASCII hex digit, or -1. Not {@link Character#digit}: that also accepts other scripts' digits
   * (Arabic-Indic, fullwidth, ...), which RFC 8259 does not allow in {@code \\u} escapes.
   */
  private static int hexDigit(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  /** At most this many characters of a key are quoted in an error message; keys can be arbitrarily long. */
  private static final int MAX_KEY_SHOWN = 200;

  private Object readNumber() {
    int start = pos;
    if (peekIs('-')) {
      pos++;
    }
    if (peekIs('0')) {
      pos++;
    } else if (peekDigit()) {
      while (peekDigit()) {
        pos++;
      }
    } else {
      throw error("invalid number");
    }
    boolean integral = true;
    if (peekIs('.')) {
      integral = false;
      pos++;
      if (!peekDigit()) {
        throw error("invalid number");
      }
      while (peekDigit()) {
        pos++;
      }
    }
    if (peekIs('e') || peekIs('E')) {
      integral = false;
      pos++;
      if (peekIs('+') || peekIs('-')) {
        pos++;
      }
      if (!peekDigit()) {
        throw error("invalid number");
      }
      while (peekDigit()) {
        pos++;
      }
    }
    String literal = text.substring(start, pos);
    if (integral) {
      if (literal.length() > 400) {
        throw error("integer literal too long");
      }
      if (literal.length() <= 18) { // fits a long: skip the BigInteger (headers can hold millions of numbers)
        return Long.parseLong(literal);
      }
      BigInteger big = new BigInteger(literal);
      return big.bitLength() < 64 ? (Object) big.longValue() : big;
    }
    if (literal.length() > 400) {
      throw error("number literal too long");
    }
    return Double.parseDouble(literal);
  }

  private boolean peekIs(char c) {
    return pos < text.length() && text.charAt(pos) == c;
  }

  private boolean peekDigit() {
    return pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9';
  }

  // ---------------------------------------------------------------------------------------------- writing

  /** Writes maps, lists, strings, numbers, booleans and null as compact JSON with sorted-as-given keys. */
  public static String write(Object value) {
    StringBuilder sb = new StringBuilder();
    write(value, sb, -1, 0);
    return sb.toString();
  }

  /** Like {@link #write} but indented by two spaces, for files people read. */
  public static String writePretty(Object value) {
    StringBuilder sb = new StringBuilder();
    write(value, sb, 2, 0);
    return sb.append('\n').toString();
  }

  private static void write(Object value, StringBuilder sb, int indent, int level) {
    if (value == null) {
      sb.append("null");
    } else if (value instanceof String s) {
      writeString(s, sb);
    } else if (value instanceof Boolean || value instanceof Integer || value instanceof Long
        || value instanceof BigInteger || value instanceof BigDecimal) {
      sb.append(value);
    } else if (value instanceof Number n) {
      double d = n.doubleValue();
      if (!Double.isFinite(d)) {
        sb.append("null"); // JSON has no NaN/Infinity
      } else if (value instanceof Float f) {
        sb.append(Float.toString(f));
      } else {
        sb.append(Double.toString(d));
      }
    } else if (value instanceof Map<?, ?> map) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        newline(sb, indent, level + 1);
        writeString(String.valueOf(e.getKey()), sb);
        sb.append(indent >= 0 ? ": " : ":");
        write(e.getValue(), sb, indent, level + 1);
      }
      if (!map.isEmpty()) {
        newline(sb, indent, level);
      }
      sb.append('}');
    } else if (value instanceof Iterable<?> list) {
      sb.append('[');
      boolean first = true;
      for (Object item : list) {
        if (!first) {
          sb.append(indent >= 0 ? ", " : ",");
        }
        first = false;
        write(item, sb, indent, level + 1);
      }
      sb.append(']');
    } else {
      throw new IllegalArgumentException("cannot write " + value.getClass() + " as JSON");
    }
  }

  private static void newline(StringBuilder sb, int indent, int level) {
    if (indent >= 0) {
      sb.append('\n').append(String.join("", Collections.nCopies(indent * level, " ")));
    }
  }

  private static void writeString(String s, StringBuilder sb) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
