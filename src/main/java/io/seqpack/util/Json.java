package io.seqpack.util;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.PrettyPrinter;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Strict JSON (RFC 8259) reading and writing on Jackson's streaming API (jackson-core, which Spark brings). Seqpack
 * parses model files that come from elsewhere, so the reader rejects what lenient parsers accept: duplicate keys,
 * trailing commas, comments, single quotes, a byte order mark, leading zeros, {@code NaN}/{@code Infinity}, control
 * characters in strings, lone surrogates, trailing content, and nesting deeper than {@link #MAX_DEPTH}.
 *
 * <p>Values map to Java as: object → {@code Map<String,Object>} (insertion order kept), array → {@code
 * List<Object>}, string → {@code String}, {@code true/false} → {@code Boolean}, {@code null} → {@code null},
 * integer literal → {@code Long} (or {@code BigInteger} when it does not fit), other numbers → {@code Double}.
 *
 * <p>Errors read {@code <what> at offset <n>} (a character offset into the text) in a fixed vocabulary whatever
 * Jackson's wording: {@code unexpected character 'x'}, {@code expected a string key}, {@code expected ':'}, {@code
 * expected ',' or '}'}, {@code invalid number}, {@code duplicate key "k"}, ... — see {@link #translate}.
 */
public final class Json {
  /** Deepest nesting of arrays/objects accepted; far above anything a model header needs. */
  public static final int MAX_DEPTH = 64;

  /** Longest number literal (sign, point and exponent included): bounds BigInteger / Double parsing work. */
  private static final int MAX_NUMBER_CHARS = 400;

  /** At most this many characters of a key are quoted in an error message; keys can be arbitrarily long. */
  private static final int MAX_KEY_SHOWN = 200;

  /** Thrown for malformed JSON; the message gives the character offset. */
  public static final class JsonException extends RuntimeException {
    public JsonException(String message) {
      super(message);
    }
  }

  /** Control characters as {@code \\u00xx}, also {@code \b} and {@code \f} (Jackson's default writes those short). */
  private static final CharacterEscapes ESCAPES = new CharacterEscapes() {
    private final int[] ascii = standardAsciiEscapesForJSON();

    {
      ascii['\b'] = ESCAPE_STANDARD;
      ascii['\f'] = ESCAPE_STANDARD;
    }

    @Override
    public int[] getEscapeCodesForAscii() {
      return ascii;
    }

    @Override
    public SerializableString getEscapeSequence(int ch) {
      return null;
    }
  };

  private static final JsonFactory FACTORY = new JsonFactoryBuilder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      // No symbol table shared across documents: it would grow with every file's keys, and Jackson throws an
      // IllegalStateException when crafted keys collide in it.
      .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
      .streamReadConstraints(StreamReadConstraints.builder()
          .maxNestingDepth(MAX_DEPTH)
          .maxNumberLength(MAX_NUMBER_CHARS) // Jackson counts digits only; number() counts the whole literal
          // Callers bound the whole text (model.json 1 MiB, a header 8 MiB); Jackson's defaults (20M chars for a
          // string, 50k for a key) would refuse some texts this class has always accepted.
          .maxStringLength(Integer.MAX_VALUE)
          .maxNameLength(Integer.MAX_VALUE)
          .build())
      .disable(JsonWriteFeature.WRITE_HEX_UPPER_CASE)
      .characterEscapes(ESCAPES)
      // writing nests as deep as the value does, as it always has (Jackson's default stops at 1000)
      .streamWriteConstraints(StreamWriteConstraints.builder().maxNestingDepth(Integer.MAX_VALUE).build())
      .build();

  private final String text;
  private final JsonParser parser;
  /** The last key read() has checked; Jackson reads a key and the start of its value in one step. */
  private String checkedKey;

  private Json(String text, JsonParser parser) {
    this.text = text;
    this.parser = parser;
  }

  /** Parses one JSON value that must span the whole text (whitespace aside). */
  public static Object parse(String text) {
    try (JsonParser parser = FACTORY.createParser(text)) {
      return new Json(text, parser).document();
    } catch (IOException e) { // the text is in memory: parse errors are JsonProcessingException, handled inside
      throw new UncheckedIOException(e);
    }
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

  private Object document() throws IOException {
    Object value;
    try {
      JsonToken first = parser.nextToken();
      if (first == null) {
        throw fail(text.length(), "unexpected end of input");
      }
      value = read(first);
      // What databind's FAIL_ON_TRAILING_TOKENS does, without asking Jackson for the next token (it may fail
      // inside that token first): nothing but whitespace may follow the value.
      int rest = skipWhitespace(offset(parser.currentLocation().getCharOffset()), 1);
      if (rest < text.length()) {
        throw fail(rest, "unexpected content after the JSON value");
      }
    } catch (JsonProcessingException e) {
      throw translate(e);
    }
    checkEscapes(text.length());
    return value;
  }

  private Object read(JsonToken token) throws IOException {
    switch (token) {
      case START_OBJECT -> {
        Map<String, Object> map = new LinkedHashMap<>();
        while (parser.nextToken() == JsonToken.FIELD_NAME) { // duplicates: STRICT_DUPLICATE_DETECTION
          String key = parser.currentName();
          checkedKey = key;
          if (hasLoneSurrogate(key)) {
            throw fail(stringEnd(offset(parser.currentTokenLocation().getCharOffset())), "lone surrogate in string");
          }
          map.put(key, read(parser.nextToken()));
        }
        return map;
      }
      case START_ARRAY -> {
        List<Object> list = new ArrayList<>();
        for (JsonToken t = parser.nextToken(); t != JsonToken.END_ARRAY; t = parser.nextToken()) {
          list.add(read(t));
        }
        return list;
      }
      case VALUE_STRING -> {
        String s = parser.getText();
        if (hasLoneSurrogate(s)) {
          throw fail(offset(parser.currentLocation().getCharOffset()), "lone surrogate in string");
        }
        return s;
      }
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
        return number(token == JsonToken.VALUE_NUMBER_INT);
      }
      case VALUE_TRUE, VALUE_FALSE -> {
        return token == JsonToken.VALUE_TRUE;
      }
      case VALUE_NULL -> {
        return null;
      }
      default -> throw new IllegalStateException("Jackson returned " + token + " for JSON text");
    }
  }

  private Object number(boolean integral) throws IOException {
    String literal = parser.getText();
    if (literal.length() > MAX_NUMBER_CHARS) {
      int end = offset(parser.currentTokenLocation().getCharOffset()) + literal.length();
      throw fail(end, (integral ? "integer" : "number") + " literal too long");
    }
    if (!integral) {
      return Double.parseDouble(literal);
    }
    if (literal.length() <= 18) { // fits a long: skip the BigInteger (headers can hold millions of numbers)
      return Long.parseLong(literal);
    }
    BigInteger big = new BigInteger(literal);
    return big.bitLength() < 64 ? (Object) big.longValue() : big;
  }

  /** Jackson has no option to refuse unpaired UTF-16 surrogates ({@code "\ud800"}); they cannot become UTF-8. */
  private static boolean hasLoneSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Refuses {@code \\u} escapes starting before {@code limit} whose four digits are not all ASCII hex digits: Jackson
   * decodes a digit from its low byte, so it reads U+0661 (ARABIC-INDIC DIGIT ONE) as {@code a}. Before {@code
   * limit} Jackson has accepted the text, so every backslash there opens an escape inside a string.
   */
  private void checkEscapes(int limit) {
    for (int i = text.indexOf('\\'); i >= 0 && i < limit; i = text.indexOf('\\', i + 2)) {
      if (i + 6 <= text.length() && text.charAt(i + 1) == 'u') {
        for (int k = i + 2; k < i + 6; k++) {
          if ("0123456789abcdefABCDEF".indexOf(text.charAt(k)) < 0) {
            throw error(i + 2, "invalid \\u escape");
          }
        }
      }
    }
  }

  private JsonException fail(int at, String what) {
    checkEscapes(at);
    return error(at, what);
  }

  private static JsonException error(int at, String what) {
    return new JsonException(what + " at offset " + at);
  }

  // ------------------------------------------------------------------------------------ Jackson's errors

  /**
   * Words Jackson's error as this class always has, at the offset of the first character that cannot continue a
   * JSON text. Jackson's location is that character for most errors; the exceptions are handled here.
   */
  private JsonException translate(JsonProcessingException e) {
    int at = offset(e.getLocation() != null ? e.getLocation().getCharOffset() : parser.currentLocation().getCharOffset());
    try {
      return translate(String.valueOf(e.getOriginalMessage()), at, e instanceof StreamConstraintsException);
    } catch (IndexOutOfBoundsException | NullPointerException unforeseen) { // a newer Jackson's wording or location
      return error(at, String.valueOf(e.getOriginalMessage()));
    }
  }

  private JsonException translate(String m, int at, boolean constraint) {
    checkEscapes(at);
    if (constraint) { // no location: Jackson has just read the '[' / '{' / number
      if (m.startsWith("Document nesting depth")) {
        return error(at - 1, "nesting deeper than " + MAX_DEPTH);
      }
      int end = skipWhitespace(at - 1, -1) + 1; // a root-level number is read with the whitespace after it
      int start = valueStart(end);
      boolean integral = text.substring(start, end).chars().noneMatch(c -> c == '.' || c == 'e' || c == 'E');
      return error(end, (integral ? "integer" : "number") + " literal too long");
    }
    String key = parser.getParsingContext().getCurrentName();
    if (key != null && key != checkedKey && hasLoneSurrogate(key)) { // the key came first: its closing quote
      return error(text.lastIndexOf('"', at - 1) + 1, "lone surrogate in string");
    }
    if (m.startsWith("Duplicate field '")) {
      int open = at - 2; // Jackson points just after the closing quote
      while (text.charAt(open) != '"' || escaped(open)) {
        open--;
      }
      return error(open, "duplicate key \""
          + (key.length() <= MAX_KEY_SHOWN ? key : key.substring(0, MAX_KEY_SHOWN) + "...") + "\"");
    }
    if (m.contains("has to be escaped")) {
      return error(at, "control character in string");
    }
    if (m.startsWith("Unrecognized character escape")) {
      return error(at, "invalid escape '\\" + printable(text.charAt(at)) + "'");
    }
    if (m.contains("hex-digit") || m.contains("in character escape sequence")) {
      if (at >= text.length() && text.endsWith("\\")) {
        return error(at, "unexpected end of input");
      }
      int u = text.lastIndexOf("\\u", at - 2) + 2; // the first digit
      return error(u, u + 4 > text.length() ? "truncated \\u escape" : "invalid \\u escape");
    }
    if (m.contains("numeric value") || m.contains("Number value") || m.contains("No digit following sign")
        || m.contains("number exponent") || m.startsWith("Non-standard token")) {
      return unexpected(valueStart(at)); // Jackson points anywhere in (or after) the number or token
    }
    if (m.contains("only regular white space")) { // a control character between tokens: Jackson points after it
      return unexpected(at - 1);
    }
    if (at >= text.length()) { // in a string, between tokens or after a ':' or ','
      return error(at, "unexpected end of input");
    }
    return unexpected(at);
  }

  /** The error for the character at {@code at} (or the end of the text), given what may stand there. */
  private JsonException unexpected(int at) {
    int before = skipWhitespace(at - 1, -1);
    char prev = before < 0 ? '[' : text.charAt(before);
    JsonStreamContext context = parser.getParsingContext();
    boolean end = at >= text.length();
    if (prev == '-') { // Jackson words "-.5" as a bad value at '.'
      return error(before + 1, "invalid number");
    } else if (prev == '[' || prev == ':' || (prev == ',' && context.inArray())) {
      return value(at);
    } else if (prev == '{' || prev == ',') {
      return error(at, end ? "unexpected end of input" : "expected a string key");
    } else if (prev == '"' && context.inObject() && isKey(before)) {
      return error(at, end ? "unexpected end of input" : "expected ':'");
    } else if (context.inRoot()) {
      return error(at, "unexpected content after the JSON value");
    }
    return error(at, end ? "unexpected end of input" : context.inArray() ? "expected ',' or ']'" : "expected ',' or '}'");
  }

  /** The error for a value that starts at {@code at}. */
  private JsonException value(int at) {
    if (at >= text.length()) {
      return error(at, "unexpected end of input");
    }
    char c = text.charAt(at);
    if (c == '-' || (c >= '0' && c <= '9')) {
      return invalidNumber(at);
    }
    for (String literal : new String[] {"true", "false", "null"}) {
      if (c == literal.charAt(0)) {
        return text.startsWith(literal, at)
            ? unexpected(skipWhitespace(at + literal.length(), 1)) : error(at, "invalid literal");
      }
    }
    return error(at, "unexpected character '" + printable(c) + "'");
  }

  /** Where the number at {@code at} misses a digit (RFC 8259 grammar), else the error after it (a leading zero). */
  private JsonException invalidNumber(int at) {
    int i = text.charAt(at) == '-' ? at + 1 : at;
    if (!digit(i)) {
      return error(i, "invalid number");
    }
    i = text.charAt(i) == '0' ? i + 1 : digits(i);
    if (i < text.length() && text.charAt(i) == '.') {
      if (!digit(++i)) {
        return error(i, "invalid number");
      }
      i = digits(i);
    }
    if (i < text.length() && (text.charAt(i) == 'e' || text.charAt(i) == 'E')) {
      i++;
      if (i < text.length() && (text.charAt(i) == '+' || text.charAt(i) == '-')) {
        i++;
      }
      if (!digit(i)) {
        return error(i, "invalid number");
      }
      i = digits(i);
    }
    return unexpected(skipWhitespace(i, 1));
  }

  private boolean digit(int i) {
    return i < text.length() && text.charAt(i) >= '0' && text.charAt(i) <= '9';
  }

  private int digits(int i) {
    while (digit(i)) {
      i++;
    }
    return i;
  }

  /** The first non-whitespace index from {@code i} in direction {@code step} (-1 or the length when none). */
  private int skipWhitespace(int i, int step) {
    while (i >= 0 && i < text.length() && " \t\n\r".indexOf(text.charAt(i)) >= 0) {
      i += step;
    }
    return i;
  }

  /** The start of the number or bare word that ends at (or contains) {@code at - 1}. */
  private int valueStart(int at) {
    int i = Math.min(at, text.length()) - 1;
    while (i >= 0 && " \t\n\r,:[{".indexOf(text.charAt(i)) < 0) {
      i--;
    }
    return i + 1;
  }

  /** Whether the string whose closing quote is at {@code close} is an object key. */
  private boolean isKey(int close) {
    int open = close - 1;
    while (text.charAt(open) != '"' || escaped(open)) {
      open--;
    }
    int before = skipWhitespace(open - 1, -1);
    return before >= 0 && (text.charAt(before) == '{' || text.charAt(before) == ',');
  }

  /** Whether the character at {@code i} follows an odd number of backslashes. */
  private boolean escaped(int i) {
    int n = 0;
    while (i - n - 1 >= 0 && text.charAt(i - n - 1) == '\\') {
      n++;
    }
    return n % 2 == 1;
  }

  /** The index after the closing quote of the string whose opening quote is at {@code open}. */
  private int stringEnd(int open) {
    int i = open + 1;
    while (text.charAt(i) != '"') {
      i += text.charAt(i) == '\\' ? 2 : 1;
    }
    return i + 1;
  }

  private static int offset(long charOffset) {
    return (int) charOffset;
  }

  private static String printable(char c) {
    return c < 0x20 || c > 0x7e ? String.format("\\u%04x", (int) c) : String.valueOf(c);
  }

  // ---------------------------------------------------------------------------------------------- writing

  /** The same layout as the files {@link JsonRecords} writes. */
  private static final PrettyPrinter PRETTY = JsonRecords.PRETTY;

  /** Writes maps, lists, strings, numbers, booleans and null as compact JSON with sorted-as-given keys. */
  public static String write(Object value) {
    return write(value, (PrettyPrinter) null);
  }

  /** Like {@link #write} but indented by two spaces, for files people read. */
  public static String writePretty(Object value) {
    return write(value, PRETTY) + "\n";
  }

  private static String write(Object value, PrettyPrinter pretty) {
    StringWriter out = new StringWriter();
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      g.setPrettyPrinter(pretty);
      write(value, g);
    } catch (IOException e) { // a StringWriter does not fail
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  private static void write(Object value, JsonGenerator g) throws IOException {
    if (value == null) {
      g.writeNull();
    } else if (value instanceof String s) {
      g.writeString(s);
    } else if (value instanceof Boolean b) {
      g.writeBoolean(b);
    } else if (value instanceof Integer || value instanceof Long) {
      g.writeNumber(((Number) value).longValue());
    } else if (value instanceof BigInteger b) {
      g.writeNumber(b);
    } else if (value instanceof BigDecimal d) {
      g.writeNumber(d);
    } else if (value instanceof Number n) {
      if (!Double.isFinite(n.doubleValue())) {
        g.writeNull(); // JSON has no NaN/Infinity
      } else if (value instanceof Float f) {
        g.writeNumber(f.floatValue());
      } else {
        g.writeNumber(n.doubleValue());
      }
    } else if (value instanceof Map<?, ?> map) {
      g.writeStartObject();
      for (Map.Entry<?, ?> e : map.entrySet()) {
        g.writeFieldName(String.valueOf(e.getKey()));
        write(e.getValue(), g);
      }
      g.writeEndObject();
    } else if (value instanceof Iterable<?> list) {
      g.writeStartArray();
      for (Object item : list) {
        write(item, g);
      }
      g.writeEndArray();
    } else {
      throw new IllegalArgumentException("cannot write " + value.getClass() + " as JSON");
    }
  }
}
