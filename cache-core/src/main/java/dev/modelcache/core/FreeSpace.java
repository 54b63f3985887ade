package dev.modelcache.core;

import java.math.BigDecimal;
import java.util.Locale;

/**
 * Free space a cache always leaves on its file system: a number of bytes, or a percentage of the
 * file system's size.
 *
 * @param bytes the bytes to leave free, or {@code -1} when {@code percent} says it
 * @param percent the percentage of the file system's size to leave free (0 to 100, exclusive of
 *     100), or {@code -1} when {@code bytes} says it
 */
public record FreeSpace(long bytes, double percent) {

  public FreeSpace {
    if ((bytes < 0) == (percent < 0)) {
      throw new IllegalArgumentException("a free-space floor is either bytes or a percentage, was "
          + bytes + " bytes and " + percent + "%");
    }
    if (percent >= 100 || Double.isNaN(percent)) {
      throw new IllegalArgumentException(
          "a free-space floor must be below 100% of the disk, was " + percent + "%");
    }
  }

  /** Leave {@code bytes} free. */
  public static FreeSpace ofBytes(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("free space must be >= 0 bytes, was " + bytes);
    }
    return new FreeSpace(bytes, -1);
  }

  /** Leave {@code percent}% of the file system free: {@code 0 <= percent < 100}. */
  public static FreeSpace ofPercent(double percent) {
    if (!(percent >= 0 && percent < 100)) {
      throw new IllegalArgumentException(
          "free space must be at least 0% and below 100% of the disk, was " + percent + "%");
    }
    return new FreeSpace(-1, percent);
  }

  /** Whether this is a percentage of the disk. */
  public boolean isPercent() {
    return percent >= 0;
  }

  /** The bytes to leave free on a file system of {@code totalBytes}. */
  public long resolve(long totalBytes) {
    return isPercent() ? (long) Math.ceil(totalBytes * (percent / 100)) : bytes;
  }

  /** {@code 5%} or the number of bytes, as the settings file stores it. */
  @Override
  public String toString() {
    return isPercent()
        ? new BigDecimal(Double.toString(percent)).stripTrailingZeros().toPlainString() + "%"
        : Long.toString(bytes);
  }

  /** Parses {@link #toString()}: {@code N%} or a number of bytes. */
  static FreeSpace parse(String text) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    try {
      return t.endsWith("%")
          ? ofPercent(Double.parseDouble(t.substring(0, t.length() - 1).strip()))
          : ofBytes(Long.parseLong(t));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "'" + text + "' is neither a number of bytes nor a percentage like 5%");
    }
  }
}
