package dev.modelcache.cli;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * A number of bytes typed on the command line: {@code 1048576}, {@code 8MiB}, {@code 2GiB},
 * {@code 500M}, {@code 1.5GB}. Units ending in {@code i}/{@code iB} are powers of 1024; {@code K},
 * {@code M}, {@code G}, {@code T} (with or without {@code B}) are powers of 1000, as in Kubernetes
 * quantities. Letters are case-insensitive.
 *
 * @param bytes the size, {@code >= 0}
 */
record ByteSize(long bytes) {

  private static final Pattern SIZE =
      Pattern.compile("(?<number>[0-9]+(?:\\.[0-9]+)?)\\s*(?<unit>[a-zA-Z]*)");

  ByteSize {
    if (bytes < 0) {
      throw new IllegalArgumentException("size < 0: " + bytes);
    }
  }

  /**
   * Parses a size.
   *
   * @throws IllegalArgumentException naming the text and saying what is accepted
   */
  static ByteSize parse(String text) {
    var m = SIZE.matcher(text.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException("invalid size '" + text
          + "': expected a number with an optional unit, e.g. 8MiB, 2GiB or 500M");
    }
    long multiplier = multiplier(text, m.group("unit"));
    BigDecimal value = new BigDecimal(m.group("number")).multiply(BigDecimal.valueOf(multiplier));
    if (value.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
      throw new IllegalArgumentException("invalid size '" + text + "': too large");
    }
    return new ByteSize(value.longValue());
  }

  private static long multiplier(String text, String unit) {
    return switch (unit.toLowerCase(Locale.ROOT)) {
      case "", "b" -> 1L;
      case "k", "kb" -> 1_000L;
      case "m", "mb" -> 1_000_000L;
      case "g", "gb" -> 1_000_000_000L;
      case "t", "tb" -> 1_000_000_000_000L;
      case "ki", "kib" -> 1L << 10;
      case "mi", "mib" -> 1L << 20;
      case "gi", "gib" -> 1L << 30;
      case "ti", "tib" -> 1L << 40;
      default ->
        throw new IllegalArgumentException("invalid size '" + text + "': unknown unit '" + unit
            + "' (use B, KiB, MiB, GiB, TiB or K, M, G, T)");
    };
  }

  /** A size for people: {@code 512 B}, {@code 8.0 MiB}, {@code 2.00 GiB}. */
  static String format(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    double value = bytes;
    int unit = -1;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return String.format(
        Locale.ROOT,
        value < 10 ? "%.2f %s" : value < 100 ? "%.1f %s" : "%.0f %s",
        value,
        units[unit]);
  }

  @Override
  public String toString() {
    return format(bytes);
  }

  /** Lets picocli turn option values into sizes, with the parse error as the message. */
  static final class Converter implements CommandLine.ITypeConverter<ByteSize> {
    @Override
    public ByteSize convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
