package dev.modelcache.common.json;

import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Writes values as JSON text, in one of two layouts: {@link #compact} (no whitespace at all, one
 * line) for results that programs read, and {@link #pretty} for files that people read too.
 *
 * <p>A value may be {@code null}, a {@link String}, {@link Boolean}, {@link Number}, an enum
 * (written as its name in lower case), an {@link Optional} (its value, or null), a
 * {@link JsonObject}, a {@link Map} (keys written with {@code String.valueOf}), a
 * {@link Collection} or a {@code long[]}, nested to any depth. Anything else is a programming
 * error and fails with an {@link IllegalArgumentException} naming its class, never with the text
 * of its {@code toString()}.
 *
 * <p>Integral numbers are written exactly; a {@code double} or {@code float} that is a whole
 * number below 10<sup>15</sup> is written without a fraction, NaN and infinities (which JSON
 * lacks) as null. Strings escape what RFC 8259 requires, plus DEL and the C1 controls, U+2028 and
 * U+2029 (so the text is also valid JavaScript) and any unpaired surrogate; everything else,
 * including non-ASCII letters and paired surrogates, is written as it is. Stateless and
 * thread-safe.
 */
public final class JsonWriter {

  /** Containers this deep and deeper are written on one line by {@link #pretty}. */
  private static final int PRETTY_BROKEN_LEVELS = 2;

  private JsonWriter() {}

  /** {@code value} as JSON text without any whitespace between tokens. */
  public static String compact(Object value) {
    StringBuilder out = new StringBuilder();
    new Layout(out, false).value(value, 0);
    return out.toString();
  }

  /**
   * {@code value} as a JSON document for a file: the members of the top-level container and of
   * the containers directly inside it on lines of their own (indented by two spaces a level),
   * deeper containers on one line with a space after each {@code ':'} and {@code ','}, and a final
   * newline. For example:
   *
   * <pre>
   * {
   *   "format": 1,
   *   "files": [
   *     {"path": "a", "sizeBytes": 3, "checksum": {"algorithm": "SHA-256", "hex": "ab"}}
   *   ]
   * }
   * </pre>
   */
  public static String pretty(Object value) {
    StringBuilder out = new StringBuilder();
    new Layout(out, true).value(value, 0);
    return out.append('\n').toString();
  }

  /** {@code s} as a JSON string literal, with its quotes; {@code null} as {@code null}. */
  public static String quote(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder out = new StringBuilder(s.length() + 2);
    string(out, s);
    return out.toString();
  }

  private record Layout(StringBuilder out, boolean pretty) {

    void value(Object value, int level) {
      switch (value) {
        case null -> out.append("null");
        case String s -> string(out, s);
        case Boolean b -> out.append(b.booleanValue());
        case Double d -> number(out, d);
        case Float f -> number(out, f.doubleValue());
        case Number n -> out.append(n.longValue());
        case JsonObject o -> members(o.members(), level);
        case Map<?, ?> map -> members(map, level);
        case long[] longs -> {
          out.append('[');
          for (int i = 0; i < longs.length; i++) {
            separate(i == 0, level);
            out.append(longs[i]);
          }
          close(']', longs.length == 0, level);
        }
        case Collection<?> c -> {
          out.append('[');
          boolean first = true;
          for (Object element : c) {
            separate(first, level);
            first = false;
            value(element, level + 1);
          }
          close(']', c.isEmpty(), level);
        }
        case Enum<?> e -> string(out, e.name().toLowerCase(Locale.ROOT));
        case Optional<?> o -> value(o.orElse(null), level);
        // Fail loudly: writing toString() here once put "Optional.empty" into a result.
        default ->
          throw new IllegalArgumentException(
              "cannot write a " + value.getClass().getName() + " as JSON");
      }
    }

    private void members(Map<?, ?> map, int level) {
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : map.entrySet()) {
        separate(first, level);
        first = false;
        string(out, String.valueOf(e.getKey()));
        out.append(pretty ? ": " : ":");
        value(e.getValue(), level + 1);
      }
      close('}', map.isEmpty(), level);
    }

    /** What goes before an element: a comma unless it is the first, then a line break or a space. */
    private void separate(boolean first, int level) {
      if (!first) {
        out.append(',');
      }
      if (!pretty) {
        return;
      }
      if (level < PRETTY_BROKEN_LEVELS) {
        out.append('\n').repeat(' ', 2 * (level + 1));
      } else if (!first) {
        out.append(' ');
      }
    }

    private void close(char bracket, boolean empty, int level) {
      if (pretty && !empty && level < PRETTY_BROKEN_LEVELS) {
        out.append('\n').repeat(' ', 2 * level);
      }
      out.append(bracket);
    }
  }

  private static void number(StringBuilder out, double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      out.append("null");
    } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      out.append((long) d);
    } else {
      out.append(d); // Double.toString is valid JSON: digits, '.', 'E' and a sign
    }
  }

  private static void string(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (Character.isHighSurrogate(c)
              && i + 1 < s.length()
              && Character.isLowSurrogate(s.charAt(i + 1))) {
            out.append(c).append(s.charAt(++i));
          } else if (c < 0x20
              || (c >= 0x7f && c < 0xa0)
              || c == 0x2028
              || c == 0x2029
              || Character.isSurrogate(c)) {
            out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
