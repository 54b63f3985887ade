package dev.modelcache.agent;

import java.util.Locale;
import java.util.Map;

/**
 * JSON merge patches (RFC 7386) of string maps nested in objects, written out here because a
 * {@code null} value, which removes a key, must reach the wire as {@code null}.
 */
final class MergePatch {

  private MergePatch() {}

  /**
   * {@code {"a":{"b":{ entries }}}} for {@code path} a, b: each entry a string, or {@code null} to
   * remove that key.
   */
  static String at(Map<String, String> entries, String... path) {
    StringBuilder out = new StringBuilder();
    for (String p : path) {
      out.append('{').append(string(p)).append(':');
    }
    out.append('{');
    boolean first = true;
    for (var e : entries.entrySet()) {
      if (!first) {
        out.append(',');
      }
      first = false;
      out.append(string(e.getKey())).append(':').append(e.getValue() == null ? "null" : string(e.getValue()));
    }
    out.append('}');
    out.append("}".repeat(path.length));
    return out.toString();
  }

  static String string(String s) {
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
          if (c < 0x20) {
            out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }
}
