package dev.modelcache.core.spi;

import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * A digest of an object offered by a store, which the cache checks against the bytes it wrote:
 * a whole-object digest, or a per-part one ({@code ALG-PARTS}: ALG of the concatenated ALGs of
 * the object's upload parts), which is what S3 gives a multipart upload as its ETag ({@value
 * #MULTIPART_MD5}, written {@code HEX-N}) and as a composite additional checksum
 * ({@code SHA-256-PARTS}, {@code CRC32C-PARTS}, ...).
 *
 * @param algorithm one of {@link #ALGORITHMS}
 * @param hex the expected digest, lower-case hexadecimal (for {@value #MULTIPART_MD5}, the part
 *     before {@code -N})
 * @param parts for a per-part digest, the number of parts {@code N} (at least 1); 0 otherwise
 * @param partSizeBytes for a per-part digest, the size of every part but the last when the store
 *     said it (or a verification found it); 0 when unknown, and always 0 otherwise
 */
public record SourceChecksum(String algorithm, String hex, int parts, long partSizeBytes) {

  /** The multipart ETag: MD5 over the concatenated MD5s of the upload's parts. */
  public static final String MULTIPART_MD5 = "MD5-PARTS";

  /**
   * Algorithms the cache can verify: {@code MD5, SHA-1, SHA-256, SHA-512, CRC32, CRC32C,
   * CRC64NVME, MD5-PARTS}.
   */
  public static final Set<String> ALGORITHMS = Set.of(
      "MD5",
      "SHA-1",
      "SHA-256",
      "SHA-512",
      "CRC32",
      "CRC32C",
      "CRC64NVME",
      MULTIPART_MD5,
      "SHA-1-PARTS",
      "SHA-256-PARTS",
      "SHA-512-PARTS",
      "CRC32-PARTS",
      "CRC32C-PARTS");

  private static final String PARTS = "-PARTS";

  /** A whole-object digest. */
  public SourceChecksum(String algorithm, String hex) {
    this(algorithm, hex, 0, 0);
  }

  /** A multipart ETag of {@code parts} parts, {@code partSizeBytes} each but the last (0: unknown). */
  public static SourceChecksum multipart(String hex, int parts, long partSizeBytes) {
    return new SourceChecksum(MULTIPART_MD5, hex, parts, partSizeBytes);
  }

  /**
   * A composite checksum: {@code partAlgorithm} (SHA-256, CRC32C, ...) of the concatenated
   * {@code partAlgorithm}s of {@code parts} parts, {@code partSizeBytes} each but the last (0: unknown).
   */
  public static SourceChecksum composite(
      String partAlgorithm, String hex, int parts, long partSizeBytes) {
    return new SourceChecksum(partAlgorithm + PARTS, hex, parts, partSizeBytes);
  }

  public SourceChecksum {
    Objects.requireNonNull(algorithm, "algorithm");
    Objects.requireNonNull(hex, "hex");
    if (!ALGORITHMS.contains(algorithm)) {
      throw new IllegalArgumentException(
          "unsupported checksum algorithm '" + algorithm + "'; supported: " + ALGORITHMS);
    }
    hex = hex.toLowerCase(Locale.ROOT);
    if (hex.isEmpty()
        || !hex.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      throw new IllegalArgumentException("checksum is not hexadecimal: '" + hex + "'");
    }
    boolean multipart = algorithm.endsWith(PARTS);
    if (multipart ? parts < 1 || partSizeBytes < 0 : parts != 0 || partSizeBytes != 0) {
      throw new IllegalArgumentException(
          multipart
              ? "a multipart ETag needs at least 1 part and a part size >= 0, was " + parts
                  + " and " + partSizeBytes
              : "only a multipart ETag has parts, not " + algorithm);
    }
  }

  /** Whether this is a per-part digest: a multipart ETag or a composite checksum. */
  public boolean isMultipart() {
    return algorithm.endsWith(PARTS);
  }

  /** For a per-part digest, the algorithm of each part and of the whole: MD5 for a multipart ETag. */
  public String partAlgorithm() {
    return isMultipart() ? algorithm.substring(0, algorithm.length() - PARTS.length()) : algorithm;
  }

  /** As S3 writes it: {@code hex} or, for a multipart ETag, {@code hex-N}. */
  @Override
  public String toString() {
    return algorithm + ":" + hex
        + (isMultipart()
            ? "-" + parts + (partSizeBytes > 0 ? " (parts of " + partSizeBytes + " bytes)" : "")
            : "");
  }
}
