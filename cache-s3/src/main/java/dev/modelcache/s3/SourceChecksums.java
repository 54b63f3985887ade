package dev.modelcache.s3;

import dev.modelcache.core.spi.SourceChecksum;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;
import software.amazon.awssdk.services.s3.model.ChecksumType;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

/**
 * Picks the strongest whole-object digest S3 vouches for.
 *
 * <p>Order: the additional checksums SHA-512, SHA-256, SHA-1, CRC64NVME (S3's default for new
 * objects), CRC32C, CRC32, MD5 when they cover the whole
 * object (checksum type {@code FULL_OBJECT}, or no type and no {@code -N} part-count suffix);
 * then the ETag as an MD5, for an object uploaded in one part (32 hex digits, no {@code -N}); then
 * the ETag of a multipart upload ({@code HEX-N}: the MD5 of its parts' MD5s), which the cache checks
 * by the part size {@link S3StorageBackend} learns or by the sizes uploaders use. ETags are used
 * only for objects not encrypted with SSE-KMS or SSE-C, whose ETag is not an MD5 of the data.
 * Composite (per-part) additional checksums ({@code BASE64-N}: ALG of the parts' ALGs) come
 * before the ETag, CRC32C and CRC32 first, checked like a multipart ETag with their own algorithm.
 */
final class SourceChecksums {

  private static final Pattern MD5_ETAG = Pattern.compile("[0-9a-fA-F]{32}");
  private static final Pattern MULTIPART_ETAG =
      Pattern.compile("([0-9a-fA-F]{32})-([1-9][0-9]{0,4})");

  private SourceChecksums() {}

  static SourceChecksum strongest(HeadObjectResponse head) {
    if (head.checksumType() != ChecksumType.COMPOSITE) {
      String[][] candidates = {
        {"SHA-512", head.checksumSHA512()},
        {"SHA-256", head.checksumSHA256()},
        {"SHA-1", head.checksumSHA1()},
        {"CRC64NVME", head.checksumCRC64NVME()},
        {"CRC32C", head.checksumCRC32C()},
        {"CRC32", head.checksumCRC32()},
        {"MD5", head.checksumMD5()},
      };
      for (String[] candidate : candidates) {
        SourceChecksum checksum = fromBase64(candidate[0], candidate[1]);
        if (checksum != null) {
          return checksum;
        }
      }
    }
    if (head.checksumType() == ChecksumType.COMPOSITE) {
      // Per-part additional checksums, cheapest first: each is ALG of the parts' ALGs, "-N".
      String[][] composites = {
        {"CRC32C", head.checksumCRC32C()},
        {"CRC32", head.checksumCRC32()},
        {"SHA-256", head.checksumSHA256()},
        {"SHA-1", head.checksumSHA1()},
      };
      for (String[] candidate : composites) {
        SourceChecksum checksum = compositeFromBase64(candidate[0], candidate[1]);
        if (checksum != null) {
          return checksum;
        }
      }
    }
    String etag = unquote(head.eTag());
    SourceChecksum md5 =
        md5FromEtag(etag, head.serverSideEncryptionAsString(), head.sseCustomerAlgorithm());
    return md5 != null
        ? md5
        : multipartFromEtag(etag, head.serverSideEncryptionAsString(), head.sseCustomerAlgorithm());
  }

  /** The multipart ETag {@code HEX-N} as a checksum of N parts of a size not yet known; else null. */
  static SourceChecksum multipartFromEtag(
      String etag, String serverSideEncryption, String sseCustomerAlgorithm) {
    if (etag == null || encryptedWithoutMd5(serverSideEncryption, sseCustomerAlgorithm)) {
      return null;
    }
    var m = MULTIPART_ETAG.matcher(etag);
    if (!m.matches()) {
      return null;
    }
    int parts = Integer.parseInt(m.group(2));
    return parts > 10_000 ? null : SourceChecksum.multipart(m.group(1), parts, 0);
  }

  private static boolean encryptedWithoutMd5(
      String serverSideEncryption, String sseCustomerAlgorithm) {
    return sseCustomerAlgorithm != null
        || (serverSideEncryption != null
            && serverSideEncryption.toLowerCase(Locale.ROOT).startsWith("aws:kms"));
  }

  static SourceChecksum md5FromEtag(
      String etag, String serverSideEncryption, String sseCustomerAlgorithm) {
    if (etag == null
        || !MD5_ETAG.matcher(etag).matches()
        || encryptedWithoutMd5(serverSideEncryption, sseCustomerAlgorithm)) {
      return null;
    }
    return new SourceChecksum("MD5", etag);
  }

  /** Whether {@code etag} (quoted or not) has the form of a multipart upload's ETag, {@code H-N}. */
  static boolean isMultipartEtag(String etag) {
    String bare = unquote(etag);
    return bare != null && MULTIPART_ETAG.matcher(bare).matches();
  }

  /** A composite checksum {@code BASE64-N} as ALG of N parts' ALGs, of a part size not yet known; else null. */
  static SourceChecksum compositeFromBase64(String algorithm, String value) {
    if (value == null) {
      return null;
    }
    int dash = value.lastIndexOf('-');
    if (dash <= 0) {
      return null;
    }
    int parts;
    try {
      parts = Integer.parseInt(value.substring(dash + 1));
    } catch (NumberFormatException e) {
      return null;
    }
    SourceChecksum whole = fromBase64(algorithm, value.substring(0, dash));
    return whole == null || parts < 1 || parts > 10_000
        ? null
        : SourceChecksum.composite(algorithm, whole.hex(), parts, 0);
  }

  static SourceChecksum fromBase64(String algorithm, String base64) {
    if (base64 == null || base64.isEmpty() || base64.contains("-")) {
      return null;
    }
    byte[] digest;
    try {
      digest = Base64.getDecoder().decode(base64);
    } catch (IllegalArgumentException notBase64) {
      return null;
    }
    if (digest.length == 0) {
      return null;
    }
    return new SourceChecksum(algorithm, HexFormat.of().formatHex(digest));
  }

  static String unquote(String etag) {
    if (etag == null) {
      return null;
    }
    String e = etag.strip();
    if (e.startsWith("W/")) {
      e = e.substring(2);
    }
    if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
      e = e.substring(1, e.length() - 1);
    }
    return e;
  }
}
