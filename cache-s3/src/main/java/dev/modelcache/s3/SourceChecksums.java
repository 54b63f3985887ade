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
 * <p>Order: the additional checksums SHA-256, SHA-1, CRC32C, CRC32, MD5 when they cover the whole
 * object (checksum type {@code FULL_OBJECT}, or no type and no {@code -N} part-count suffix);
 * then the ETag as an MD5, only for an object uploaded in one part (32 hex digits, no {@code -N})
 * and not encrypted with SSE-KMS or SSE-C, where S3's ETag is not the MD5 of the data. Composite
 * (per-part) checksums are not whole-object digests and are skipped; the cache then records the
 * digest it computes itself.
 */
final class SourceChecksums {

  private static final Pattern MD5_ETAG = Pattern.compile("[0-9a-fA-F]{32}");

  private SourceChecksums() {}

  static SourceChecksum strongest(HeadObjectResponse head) {
    if (head.checksumType() != ChecksumType.COMPOSITE) {
      String[][] candidates = {
        {"SHA-256", head.checksumSHA256()},
        {"SHA-1", head.checksumSHA1()},
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
    return md5FromEtag(unquote(head.eTag()), head.serverSideEncryptionAsString(), head.sseCustomerAlgorithm());
  }

  static SourceChecksum md5FromEtag(String etag, String serverSideEncryption, String sseCustomerAlgorithm) {
    if (etag == null || !MD5_ETAG.matcher(etag).matches()) {
      return null;
    }
    if (sseCustomerAlgorithm != null
        || (serverSideEncryption != null
            && serverSideEncryption.toLowerCase(Locale.ROOT).startsWith("aws:kms"))) {
      return null;
    }
    return new SourceChecksum("MD5", etag);
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
