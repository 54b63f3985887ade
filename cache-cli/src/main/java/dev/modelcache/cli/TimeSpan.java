package dev.modelcache.cli;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * A duration typed on the command line: {@code 30s}, {@code 10m}, {@code 1h}, {@code 1h30m},
 * {@code 250ms}, {@code 2d}, or {@code 0}. A number needs a unit, because a bare {@code 30} could
 * mean seconds or minutes.
 *
 * @param duration the duration, not negative
 */
record TimeSpan(Duration duration) {

  private static final Pattern PART = Pattern.compile("([0-9]+)(ms|s|m|h|d)");

  /**
   * Parses a duration.
   *
   * @throws IllegalArgumentException naming the text and saying what is accepted
   */
  static TimeSpan parse(String text) {
    String s = text.strip().toLowerCase(Locale.ROOT);
    if (s.equals("0")) {
      return new TimeSpan(Duration.ZERO);
    }
    if (s.matches("[0-9]+")) {
      throw new IllegalArgumentException(
          "invalid duration '" + text + "': add a unit (ms, s, m, h, d), e.g. 30s or 10m");
    }
    var m = PART.matcher(s);
    Duration total = Duration.ZERO;
    int at = 0;
    while (at < s.length() && m.find(at) && m.start() == at) {
      long n;
      try {
        n = Long.parseLong(m.group(1));
        total = total.plus(
            switch (m.group(2)) {
              case "ms" -> Duration.ofMillis(n);
              case "s" -> Duration.ofSeconds(n);
              case "m" -> Duration.ofMinutes(n);
              case "h" -> Duration.ofHours(n);
              default -> Duration.ofDays(n);
            });
      } catch (NumberFormatException | ArithmeticException e) {
        throw new IllegalArgumentException("invalid duration '" + text + "': too large");
      }
      at = m.end();
    }
    if (at == 0 || at != s.length()) {
      throw new IllegalArgumentException("invalid duration '" + text
          + "': expected a number and a unit (ms, s, m, h, d), e.g. 30s, 10m or 1h30m");
    }
    return new TimeSpan(total);
  }

  /** A duration for people: {@code 1.25 s}, {@code 3m05s}, {@code 1h02m}. */
  static String format(Duration d) {
    long seconds = d.toSeconds();
    if (seconds < 60) {
      return String.format(Locale.ROOT, "%.1fs", d.toMillis() / 1000.0);
    }
    if (seconds < 3600) {
      return String.format(Locale.ROOT, "%dm%02ds", seconds / 60, seconds % 60);
    }
    return String.format(Locale.ROOT, "%dh%02dm", seconds / 3600, (seconds % 3600) / 60);
  }

  @Override
  public String toString() {
    return format(duration);
  }

  /** Lets picocli turn option values into durations, with the parse error as the message. */
  static final class Converter implements CommandLine.ITypeConverter<TimeSpan> {
    @Override
    public TimeSpan convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
