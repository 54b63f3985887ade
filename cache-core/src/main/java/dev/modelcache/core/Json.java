package dev.modelcache.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The small JSON subset the cache writes for its manifests and drafts: objects, arrays, strings,
 * integers, booleans and null. A reader rejects anything else with the offset of the problem, so
 * a damaged file is reported rather than half-read.
 */
final class Json {

  /** A syntax error, with the character offset where it was found. */
  static final class SyntaxException extends Exception {
    private static final long serialVersionUID = 1L;

    SyntaxException(String message, int offset) {
      super(message + " at character " + offset);
    }
  }

  private final String text;
  private int pos;

  private Json(String text) {
    this.text = text;
  }

  static Object parse(String text) throws SyntaxException {
    Json json = new Json(text);
    json.skipSpace();
    Object value = json.value(0);
    json.skipSpace();
    if (json.pos != text.length()) {
      throw new SyntaxException("trailing characters", json.pos);
    }
    return value;
  }

  static String quote(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder out = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20 || (c >= 0x7f && c < 0xa0) || Character.isSurrogate(c)) {
            out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }

  private Object value(int depth) throws SyntaxException {
    if (depth > 32) {
      throw new SyntaxException("nesting too deep", pos);
    }
    if (pos >= text.length()) {
      throw new SyntaxException("unexpected end of input", pos);
    }
    char c = text.charAt(pos);
    return switch (c) {
      case '{' -> object(depth);
      case '[' -> array(depth);
      case '"' -> string();
      case 't' -> literal("true", Boolean.TRUE);
      case 'f' -> literal("false", Boolean.FALSE);
      case 'n' -> literal("null", null);
      default -> {
        if (c == '-' || (c >= '0' && c <= '9')) {
          yield number();
        }
        throw new SyntaxException("unexpected character '" + c + "'", pos);
      }
    };
  }

  private Map<String, Object> object(int depth) throws SyntaxException {
    Map<String, Object> map = new LinkedHashMap<>();
    pos++;
    skipSpace();
    if (peek() == '}') {
      pos++;
      return map;
    }
    while (true) {
      skipSpace();
      if (peek() != '"') {
        throw new SyntaxException("expected a field name", pos);
      }
      String key = string();
      skipSpace();
      expect(':');
      skipSpace();
      if (map.put(key, value(depth + 1)) != null) {
        throw new SyntaxException("duplicate field '" + key + "'", pos);
      }
      skipSpace();
      char c = peek();
      pos++;
      if (c == '}') {
        return map;
      }
      if (c != ',') {
        throw new SyntaxException("expected ',' or '}'", pos - 1);
      }
    }
  }

  private List<Object> array(int depth) throws SyntaxException {
    List<Object> list = new ArrayList<>();
    pos++;
    skipSpace();
    if (peek() == ']') {
      pos++;
      return list;
    }
    while (true) {
      skipSpace();
      list.add(value(depth + 1));
      skipSpace();
      char c = peek();
      pos++;
      if (c == ']') {
        return list;
      }
      if (c != ',') {
        throw new SyntaxException("expected ',' or ']'", pos - 1);
      }
    }
  }

  private String string() throws SyntaxException {
    pos++;
    StringBuilder out = new StringBuilder();
    while (true) {
      if (pos >= text.length()) {
        throw new SyntaxException("unterminated string", pos);
      }
      char c = text.charAt(pos++);
      if (c == '"') {
        return out.toString();
      }
      if (c < 0x20) {
        throw new SyntaxException("control character in string", pos - 1);
      }
      if (c != '\\') {
        out.append(c);
        continue;
      }
      if (pos >= text.length()) {
        throw new SyntaxException("unterminated escape", pos);
      }
      char e = text.charAt(pos++);
      switch (e) {
        case '"', '\\', '/' -> out.append(e);
        case 'n' -> out.append('\n');
        case 'r' -> out.append('\r');
        case 't' -> out.append('\t');
        case 'b' -> out.append('\b');
        case 'f' -> out.append('\f');
        case 'u' -> {
          if (pos + 4 > text.length()) {
            throw new SyntaxException("short \\u escape", pos);
          }
          try {
            out.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
          } catch (NumberFormatException ex) {
            throw new SyntaxException("bad \\u escape", pos);
          }
          pos += 4;
        }
        default -> throw new SyntaxException("bad escape '\\" + e + "'", pos - 1);
      }
    }
  }

  private Long number() throws SyntaxException {
    int start = pos;
    if (peek() == '-') {
      pos++;
    }
    while (pos < text.length() && Character.isDigit(text.charAt(pos))) {
      pos++;
    }
    if (pos < text.length() && ".eE".indexOf(text.charAt(pos)) >= 0) {
      throw new SyntaxException("only integers are expected", pos);
    }
    try {
      return Long.parseLong(text.substring(start, pos));
    } catch (NumberFormatException e) {
      throw new SyntaxException("bad number", start);
    }
  }

  private Object literal(String word, Object value) throws SyntaxException {
    if (!text.startsWith(word, pos)) {
      throw new SyntaxException("unexpected token", pos);
    }
    pos += word.length();
    return value;
  }

  private void expect(char c) throws SyntaxException {
    if (peek() != c) {
      throw new SyntaxException("expected '" + c + "'", pos);
    }
    pos++;
  }

  private char peek() throws SyntaxException {
    if (pos >= text.length()) {
      throw new SyntaxException("unexpected end of input", pos);
    }
    return text.charAt(pos);
  }

  private void skipSpace() {
    while (pos < text.length() && " \t\r\n".indexOf(text.charAt(pos)) >= 0) {
      pos++;
    }
  }
}
