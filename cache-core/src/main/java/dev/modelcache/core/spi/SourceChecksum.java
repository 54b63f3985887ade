package dev.modelcache.core.spi;

import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * A whole-object digest offered by a store, which the cache checks against the bytes it wrote.
 *
 * @param algorithm one of {@link #ALGORITHMS}
 * @param hex the expected digest, lower-case hexadecimal
 */
public record SourceChecksum(String algorithm, String hex) {

  /** Algorithms the cache can verify: {@code MD5, SHA-1, SHA-256, CRC32, CRC32C}. */
  public static final Set<String> ALGORITHMS = Set.of("MD5", "SHA-1", "SHA-256", "CRC32", "CRC32C");

  public SourceChecksum {
    Objects.requireNonNull(algorithm, "algorithm");
    Objects.requireNonNull(hex, "hex");
    if (!ALGORITHMS.contains(algorithm)) {
      throw new IllegalArgumentException(
          "unsupported checksum algorithm '" + algorithm + "'; supported: " + ALGORITHMS);
    }
    hex = hex.toLowerCase(Locale.ROOT);
    if (hex.isEmpty() || !hex.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      throw new IllegalArgumentException("checksum is not hexadecimal: '" + hex + "'");
    }
  }
}
