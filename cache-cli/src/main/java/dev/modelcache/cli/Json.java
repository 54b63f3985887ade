package dev.modelcache.cli;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A JSON value written by {@code --json}: an object keeps its keys in insertion order, so the
 * output reads the way the command's documentation lists the fields.
 *
 * <p>Values may be {@code null}, {@link String}, {@link Boolean}, {@link Number}, enums (written
 * in lower case), {@link java.util.Optional}s, {@link Json} objects, {@link Collection}s,
 * {@code long[]} and {@link Map}s of these; anything else is a programming error.
 */
final class Json {

  private final Map<String, Object> fields = new LinkedHashMap<>();

  private Json() {}

  /** An empty object. */
  static Json object() {
    return new Json();
  }

  /** Adds (or replaces) {@code key}. */
  Json put(String key, Object value) {
    fields.put(key, value);
    return this;
  }

  /** The value of {@code key}, or null. */
  Object get(String key) {
    return fields.get(key);
  }

  /** This object as compact JSON text. */
  @Override
  public String toString() {
    var sb = new StringBuilder();
    write(sb, this);
    return sb.toString();
  }

  /** Writes {@code value} as JSON text. */
  static String write(Object value) {
    var sb = new StringBuilder();
    write(sb, value);
    return sb.toString();
  }

  private static void write(StringBuilder sb, Object value) {
    switch (value) {
      case null -> sb.append("null");
      case String s -> string(sb, s);
      case Boolean b -> sb.append(b);
      case Double d -> number(sb, d);
      case Float f -> number(sb, f.doubleValue());
      case Number n -> sb.append(n.longValue());
      case Json json -> map(sb, json.fields);
      case Map<?, ?> map -> map(sb, map);
      case long[] longs -> {
        List<Long> list = new ArrayList<>(longs.length);
        for (long l : longs) {
          list.add(l);
        }
        list(sb, list);
      }
      case Collection<?> c -> list(sb, c);
      case Enum<?> e -> string(sb, e.name().toLowerCase(Locale.ROOT));
      case java.util.Optional<?> o -> write(sb, o.orElse(null));
      // Fail loudly: a toString() here once wrote "Optional.empty" into a result.
      default -> throw new IllegalArgumentException("cannot write a " + value.getClass().getName() + " as JSON");
    }
  }

  private static void map(StringBuilder sb, Map<?, ?> map) {
    sb.append('{');
    boolean first = true;
    for (var e : map.entrySet()) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      string(sb, String.valueOf(e.getKey()));
      sb.append(':');
      write(sb, e.getValue());
    }
    sb.append('}');
  }

  private static void list(StringBuilder sb, Collection<?> values) {
    sb.append('[');
    boolean first = true;
    for (Object v : values) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      write(sb, v);
    }
    sb.append(']');
  }

  private static void number(StringBuilder sb, double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      sb.append("null"); // JSON has no NaN or infinity
    } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      sb.append((long) d);
    } else {
      sb.append(d); // Double.toString is valid JSON (digits, '.', 'E', sign)
    }
  }

  private static void string(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        default -> {
          // Control characters must be escaped; U+2028/2029 too, so the text is also valid JavaScript.
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
