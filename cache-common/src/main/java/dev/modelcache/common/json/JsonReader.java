package dev.modelcache.common.json;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A strict pull reader for JSON (RFC 8259) text already decoded from UTF-8.
 *
 * <p>Stricter than most parsers on purpose: nesting is limited, duplicate keys are errors, lone
 * surrogate escapes are errors, and numbers are handed out only as exact non-negative
 * {@code long}s (or kept as text by {@link #readValue()}). It allocates nothing beyond the
 * strings and collections it returns, so callers can bound memory by bounding what they ask for.
 * Not thread-safe.
 *
 * <p>Every {@link JsonException} names the character offset of the problem, and text taken from
 * the input is shortened by {@link #abbreviate} before it goes into a message.
 */
public final class JsonReader {
  /** What the next value is, judged from its first character. */
  public enum ValueKind {
    OBJECT,
    ARRAY,
    STRING,
    NUMBER,
    TRUE,
    FALSE,
    NULL
  }

  private final String text;
  private final int maxDepth;
  private int pos;
  private int depth;
  /** Per open container: whether an element was already read (so a comma is needed). */
  private final boolean[] hasElement;
  /** Keys seen per open object (null for arrays). */
  private final List<Set<String>> keys = new ArrayList<>();

  /**
   * @param text the JSON text
   * @param maxDepth the deepest nesting of objects and arrays accepted
   */
  public JsonReader(String text, int maxDepth) {
    this.text = text;
    this.maxDepth = maxDepth;
    this.hasElement = new boolean[maxDepth + 1];
  }

  /**
   * Reads a whole text that must hold exactly one value, as {@link #readValue()} returns it.
   *
   * @param text the JSON text
   * @param maxDepth the deepest nesting of objects and arrays accepted
   * @throws JsonException if the text is not one well-formed value within the limits
   */
  public static Object parse(String text, int maxDepth) throws JsonException {
    JsonReader reader = new JsonReader(text, maxDepth);
    Object value = reader.readValue();
    reader.endOfText();
    return value;
  }

  /** Current character offset, for messages. */
  public int offset() {
    return pos;
  }

  private JsonException error(JsonException.Kind kind, String message) {
    return new JsonException(kind, pos, message);
  }

  private void skipWhitespace() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        pos++;
      } else {
        return;
      }
    }
  }

  /** Kind of the next value, without consuming it. */
  public ValueKind peek() throws JsonException {
    skipWhitespace();
    if (pos >= text.length()) {
      throw error(JsonException.Kind.SYNTAX, "unexpected end of text, expected a value");
    }
    char c = text.charAt(pos);
    return switch (c) {
      case '{' -> ValueKind.OBJECT;
      case '[' -> ValueKind.ARRAY;
      case '"' -> ValueKind.STRING;
      case 't' -> ValueKind.TRUE;
      case 'f' -> ValueKind.FALSE;
      case 'n' -> ValueKind.NULL;
      default -> {
        if (c == '-' || (c >= '0' && c <= '9')) {
          yield ValueKind.NUMBER;
        }
        throw error(JsonException.Kind.SYNTAX, "unexpected character '" + printable(c) + "'");
      }
    };
  }

  private static String printable(char c) {
    return c < 0x20 || c > 0x7e
        ? String.format(java.util.Locale.ROOT, "\\u%04x", (int) c)
        : String.valueOf(c);
  }

  private void expect(ValueKind kind, String what) throws JsonException {
    ValueKind actual = peek();
    if (actual != kind) {
      throw error(
          JsonException.Kind.TYPE,
          "expected " + what + " but found " + actual.name().toLowerCase(java.util.Locale.ROOT));
    }
  }

  private void push(boolean object) throws JsonException {
    if (depth >= maxDepth) {
      throw error(JsonException.Kind.SYNTAX, "nesting deeper than " + maxDepth);
    }
    pos++;
    depth++;
    hasElement[depth] = false;
    keys.add(object ? new HashSet<>() : null);
  }

  private void pop() {
    keys.remove(keys.size() - 1);
    depth--;
    if (depth > 0) {
      hasElement[depth] = true;
    }
  }

  /** Consumes '{'. */
  public void beginObject() throws JsonException {
    expect(ValueKind.OBJECT, "an object");
    push(true);
  }

  /** Consumes '['. */
  public void beginArray() throws JsonException {
    expect(ValueKind.ARRAY, "an array");
    push(false);
  }

  /**
   * Reads the next key of the current object, with its colon, or consumes the closing brace.
   *
   * @return the key, or {@code null} when the object has ended
   */
  public String nextKey() throws JsonException {
    skipWhitespace();
    if (pos < text.length() && text.charAt(pos) == '}') {
      pos++;
      pop();
      return null;
    }
    if (hasElement[depth]) {
      if (pos >= text.length() || text.charAt(pos) != ',') {
        throw error(JsonException.Kind.SYNTAX, "expected ',' or '}'");
      }
      pos++;
      skipWhitespace();
    }
    if (pos >= text.length() || text.charAt(pos) != '"') {
      throw error(JsonException.Kind.SYNTAX, "expected a string key");
    }
    int keyStart = pos;
    String key = readStringToken();
    Set<String> seen = keys.get(keys.size() - 1);
    if (!seen.add(key)) {
      pos = keyStart;
      throw new JsonException(
          JsonException.Kind.DUPLICATE_KEY, pos, "duplicate key \"" + abbreviate(key) + "\"", key);
    }
    skipWhitespace();
    if (pos >= text.length() || text.charAt(pos) != ':') {
      throw error(JsonException.Kind.SYNTAX, "expected ':'");
    }
    pos++;
    hasElement[depth] = true;
    return key;
  }

  /**
   * Moves to the next element of the current array, or consumes the closing bracket.
   *
   * @return {@code true} if an element follows
   */
  public boolean nextElement() throws JsonException {
    skipWhitespace();
    if (pos < text.length() && text.charAt(pos) == ']') {
      pos++;
      pop();
      return false;
    }
    if (hasElement[depth]) {
      if (pos >= text.length() || text.charAt(pos) != ',') {
        throw error(JsonException.Kind.SYNTAX, "expected ',' or ']'");
      }
      pos++;
    }
    hasElement[depth] = true;
    return true;
  }

  /** Reads a string value. */
  public String readString() throws JsonException {
    expect(ValueKind.STRING, "a string");
    return readStringToken();
  }

  /**
   * Reads a number that must be an exact non-negative integer fitting in a {@code long}.
   *
   * @throws JsonException of kind {@link JsonException.Kind#NUMBER} for a well-formed number
   *     that is negative, fractional, exponential or too large; {@code TYPE} for a non-number
   */
  public long readNonNegativeLong() throws JsonException {
    expect(ValueKind.NUMBER, "a number");
    int start = pos;
    String token = readNumberToken();
    if (token.startsWith("-")) {
      pos = start;
      throw error(JsonException.Kind.NUMBER, token + " is negative");
    }
    if (token.indexOf('.') >= 0 || token.indexOf('e') >= 0 || token.indexOf('E') >= 0) {
      pos = start;
      throw error(JsonException.Kind.NUMBER, abbreviate(token) + " is not written as an integer");
    }
    long value = 0;
    for (int i = 0; i < token.length(); i++) {
      int digit = token.charAt(i) - '0';
      try {
        value = Math.addExact(Math.multiplyExact(value, 10L), digit);
      } catch (ArithmeticException overflow) {
        pos = start;
        throw error(JsonException.Kind.NUMBER, abbreviate(token) + " does not fit in 64 bits");
      }
    }
    return value;
  }

  /**
   * Reads any value into plain Java objects: {@code Map<String,Object>} (insertion-ordered),
   * {@code List<Object>}, {@code String}, {@link JsonNumber}, {@code Boolean} or {@code null}
   * (for JSON null). Nesting is bounded by the reader's depth limit.
   */
  public Object readValue() throws JsonException {
    return switch (peek()) {
      case OBJECT -> {
        beginObject();
        Map<String, Object> map = new LinkedHashMap<>();
        for (String key = nextKey(); key != null; key = nextKey()) {
          map.put(key, readValue());
        }
        yield map;
      }
      case ARRAY -> {
        beginArray();
        List<Object> list = new ArrayList<>();
        while (nextElement()) {
          list.add(readValue());
        }
        yield list;
      }
      case STRING -> readStringToken();
      case NUMBER -> new JsonNumber(readNumberToken());
      case TRUE -> literal("true", Boolean.TRUE);
      case FALSE -> literal("false", Boolean.FALSE);
      case NULL -> literal("null", null);
    };
  }

  /** Skips the next value of any kind, keeping nothing of it (duplicate keys still fail). */
  public void skipValue() throws JsonException {
    switch (peek()) {
      case OBJECT -> {
        beginObject();
        while (nextKey() != null) {
          skipValue();
        }
      }
      case ARRAY -> {
        beginArray();
        while (nextElement()) {
          skipValue();
        }
      }
      case STRING -> readStringToken();
      case NUMBER -> readNumberToken();
      case TRUE -> literal("true", Boolean.TRUE);
      case FALSE -> literal("false", Boolean.FALSE);
      case NULL -> literal("null", null);
    }
  }

  private Object literal(String word, Object value) throws JsonException {
    if (!text.startsWith(word, pos)) {
      throw error(JsonException.Kind.SYNTAX, "invalid literal");
    }
    pos += word.length();
    if (depth > 0) {
      hasElement[depth] = true;
    }
    return value;
  }

  /** Requires that only whitespace is left. */
  public void endOfText() throws JsonException {
    skipWhitespace();
    if (pos != text.length()) {
      throw error(JsonException.Kind.SYNTAX, "unexpected content after the top-level value");
    }
  }

  private String readNumberToken() throws JsonException {
    int start = pos;
    if (pos < text.length() && text.charAt(pos) == '-') {
      pos++;
    }
    if (pos >= text.length() || !isDigit(text.charAt(pos))) {
      throw error(JsonException.Kind.SYNTAX, "malformed number");
    }
    if (text.charAt(pos) == '0') {
      pos++;
    } else {
      while (pos < text.length() && isDigit(text.charAt(pos))) {
        pos++;
      }
    }
    if (pos < text.length() && text.charAt(pos) == '.') {
      pos++;
      if (pos >= text.length() || !isDigit(text.charAt(pos))) {
        throw error(JsonException.Kind.SYNTAX, "malformed number: digit expected after '.'");
      }
      while (pos < text.length() && isDigit(text.charAt(pos))) {
        pos++;
      }
    }
    if (pos < text.length() && (text.charAt(pos) == 'e' || text.charAt(pos) == 'E')) {
      pos++;
      if (pos < text.length() && (text.charAt(pos) == '+' || text.charAt(pos) == '-')) {
        pos++;
      }
      if (pos >= text.length() || !isDigit(text.charAt(pos))) {
        throw error(JsonException.Kind.SYNTAX, "malformed number: digit expected in exponent");
      }
      while (pos < text.length() && isDigit(text.charAt(pos))) {
        pos++;
      }
    }
    if (pos < text.length() && isDigit(text.charAt(pos))) {
      throw error(JsonException.Kind.SYNTAX, "malformed number: leading zero");
    }
    if (depth > 0) {
      hasElement[depth] = true;
    }
    return text.substring(start, pos);
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private String readStringToken() throws JsonException {
    pos++; // opening quote
    StringBuilder sb = null;
    int runStart = pos;
    while (true) {
      if (pos >= text.length()) {
        throw error(JsonException.Kind.SYNTAX, "unterminated string");
      }
      char c = text.charAt(pos);
      if (c == '"') {
        String s = sb == null
            ? text.substring(runStart, pos)
            : sb.append(text, runStart, pos).toString();
        pos++;
        if (depth > 0) {
          hasElement[depth] = true;
        }
        return s;
      }
      if (c < 0x20) {
        throw error(JsonException.Kind.SYNTAX, "unescaped control character in string");
      }
      if (c != '\\') {
        pos++;
        continue;
      }
      if (sb == null) {
        sb = new StringBuilder();
      }
      sb.append(text, runStart, pos);
      pos++;
      if (pos >= text.length()) {
        throw error(JsonException.Kind.SYNTAX, "unterminated escape");
      }
      char e = text.charAt(pos++);
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
          char unit = readHex4();
          if (Character.isHighSurrogate(unit)) {
            if (!text.startsWith("\\u", pos)) {
              throw error(JsonException.Kind.SYNTAX, "unpaired surrogate escape");
            }
            pos += 2;
            char low = readHex4();
            if (!Character.isLowSurrogate(low)) {
              throw error(JsonException.Kind.SYNTAX, "unpaired surrogate escape");
            }
            sb.append(unit).append(low);
          } else if (Character.isLowSurrogate(unit)) {
            throw error(JsonException.Kind.SYNTAX, "unpaired surrogate escape");
          } else {
            sb.append(unit);
          }
        }
        default ->
          throw error(JsonException.Kind.SYNTAX, "invalid escape '\\" + printable(e) + "'");
      }
      runStart = pos;
    }
  }

  private char readHex4() throws JsonException {
    if (pos + 4 > text.length()) {
      throw error(JsonException.Kind.SYNTAX, "truncated \\u escape");
    }
    int v = 0;
    for (int i = 0; i < 4; i++) {
      int d = Character.digit(text.charAt(pos + i), 16);
      if (d < 0) {
        throw error(JsonException.Kind.SYNTAX, "invalid \\u escape");
      }
      v = v * 16 + d;
    }
    pos += 4;
    return (char) v;
  }

  /** Shortens long text for messages so a hostile header cannot blow up an exception. */
  public static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }

  /** A JSON number kept as its exact text, which is also what {@link #toString()} returns. */
  public record JsonNumber(String text) {
    @Override
    public String toString() {
      return text;
    }

    /** The value as a non-negative long, or -1 when it is not an exact one. */
    public long asNonNegativeLong() {
      if (text.isEmpty() || text.length() > 19) {
        return -1;
      }
      for (int i = 0; i < text.length(); i++) {
        if (!isDigit(text.charAt(i))) {
          return -1;
        }
      }
      try {
        return Long.parseLong(text);
      } catch (NumberFormatException e) {
        return -1;
      }
    }
  }
}
