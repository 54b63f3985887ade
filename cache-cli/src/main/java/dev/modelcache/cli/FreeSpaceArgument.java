package dev.modelcache.cli;

import dev.modelcache.core.FreeSpace;
import java.math.BigDecimal;
import picocli.CommandLine;

/**
 * Free space typed on the command line: a size ({@code 50GiB}, as {@link ByteSize} reads it) or a
 * percentage of the disk ({@code 5%}, below 100).
 */
final class FreeSpaceArgument {

  private FreeSpaceArgument() {}

  /**
   * Parses a free-space floor.
   *
   * @throws IllegalArgumentException naming the text and what is accepted
   */
  static FreeSpace parse(String text) {
    String t = text.strip();
    if (t.endsWith("%")) {
      BigDecimal percent;
      try {
        percent = new BigDecimal(t.substring(0, t.length() - 1).strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("invalid free space '" + text
            + "': expected a size such as 50GiB or a" + " percentage of the disk such as 5%");
      }
      if (percent.signum() < 0 || percent.compareTo(BigDecimal.valueOf(100)) >= 0) {
        throw new IllegalArgumentException("invalid free space '" + text
            + "': a percentage of the disk must be" + " at least 0% and below 100%");
      }
      return FreeSpace.ofPercent(percent.doubleValue());
    }
    try {
      return FreeSpace.ofBytes(ByteSize.parse(t).bytes());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid free space '" + text
          + "': expected a size such as 50GiB or a" + " percentage of the disk such as 5%");
    }
  }

  /** "5%" or "50.0 GiB". */
  static String format(FreeSpace f) {
    return f.isPercent() ? f.toString() : ByteSize.format(f.bytes());
  }

  /** For picocli options. */
  static final class Converter implements CommandLine.ITypeConverter<FreeSpace> {
    @Override
    public FreeSpace convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
