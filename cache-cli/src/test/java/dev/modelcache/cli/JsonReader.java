package dev.modelcache.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict JSON parser for tests (RFC 8259): objects become ordered maps, integers {@code Long},
 * other numbers {@code Double}. Anything that is not exactly one JSON value fails.
 */
final class JsonReader {
  private final String s;
  private int at;

  private JsonReader(String s) {
    this.s = s;
  }

  static Object parse(String text) {
    var r = new JsonReader(text);
    r.ws();
    Object v = r.value();
    r.ws();
    if (r.at != text.length()) {
      throw r.error("trailing characters");
    }
    return v;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> object(String text) {
    Object v = parse(text);
    if (!(v instanceof Map)) {
      throw new IllegalArgumentException("not a JSON object: " + text);
    }
    return (Map<String, Object>) v;
  }

  private IllegalArgumentException error(String what) {
    return new IllegalArgumentException(what + " at " + at + " in: " + s);
  }

  private void ws() {
    while (at < s.length() && " \t\r\n".indexOf(s.charAt(at)) >= 0) {
      at++;
    }
  }

  private Object value() {
    if (at >= s.length()) {
      throw error("unexpected end");
    }
    char c = s.charAt(at);
    return switch (c) {
      case '{' -> obj();
      case '[' -> arr();
      case '"' -> str();
      case 't' -> lit("true", Boolean.TRUE);
      case 'f' -> lit("false", Boolean.FALSE);
      case 'n' -> lit("null", null);
      default -> num();
    };
  }

  private Object lit(String word, Object v) {
    if (!s.startsWith(word, at)) {
      throw error("bad literal");
    }
    at += word.length();
    return v;
  }

  private Map<String, Object> obj() {
    var m = new LinkedHashMap<String, Object>();
    at++;
    ws();
    if (peek() == '}') {
      at++;
      return m;
    }
    while (true) {
      ws();
      if (peek() != '"') {
        throw error("expected a key");
      }
      String k = str();
      ws();
      expect(':');
      ws();
      if (m.containsKey(k)) {
        throw error("duplicate key " + k);
      }
      m.put(k, value());
      ws();
      if (peek() == ',') {
        at++;
        continue;
      }
      expect('}');
      return m;
    }
  }

  private List<Object> arr() {
    var l = new ArrayList<Object>();
    at++;
    ws();
    if (peek() == ']') {
      at++;
      return l;
    }
    while (true) {
      ws();
      l.add(value());
      ws();
      if (peek() == ',') {
        at++;
        continue;
      }
      expect(']');
      return l;
    }
  }

  private String str() {
    expect('"');
    var sb = new StringBuilder();
    while (true) {
      if (at >= s.length()) {
        throw error("unterminated string");
      }
      char c = s.charAt(at++);
      if (c == '"') {
        return sb.toString();
      }
      if (c < 0x20) {
        throw error("raw control character in string");
      }
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      char e = s.charAt(at++);
      switch (e) {
        case '"', '\\', '/' -> sb.append(e);
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'n' -> sb.append('\n');
        case 'r' -> sb.append('\r');
        case 't' -> sb.append('\t');
        case 'u' -> {
          sb.append((char) Integer.parseInt(s.substring(at, at + 4), 16));
          at += 4;
        }
        default -> throw error("bad escape");
      }
    }
  }

  private Object num() {
    int start = at;
    if (peek() == '-') {
      at++;
    }
    while (at < s.length() && "0123456789.eE+-".indexOf(s.charAt(at)) >= 0) {
      at++;
    }
    String n = s.substring(start, at);
    if (!n.matches("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?")) {
      throw error("bad number '" + n + "'");
    }
    if (n.matches("-?[0-9]+")) {
      return Long.parseLong(n);
    }
    return Double.parseDouble(n);
  }

  private char peek() {
    if (at >= s.length()) {
      throw error("unexpected end");
    }
    return s.charAt(at);
  }

  private void expect(char c) {
    if (peek() != c) {
      throw error("expected '" + c + "'");
    }
    at++;
  }
}
