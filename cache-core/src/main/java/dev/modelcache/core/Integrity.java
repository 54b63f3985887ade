package dev.modelcache.core;

import java.util.Locale;

/**
 * What a cached file's bytes were checked against, beyond the CRC32C of every block (which is
 * always checked on a read-back, and catches what the disk did, not what the wire did).
 */
public enum Integrity {
  /** A whole-object checksum the store keeps beside the object (S3's SHA-256, SHA-1, CRC32C, CRC32, MD5). */
  SOURCE_CHECKSUM,
  /** The ETag of an object uploaded in one part, which is the MD5 of its bytes. */
  ETAG_MD5,
  /** The ETag of a multipart upload: the MD5 of its parts' MD5s, for the part size recorded. */
  ETAG_MULTIPART,
  /** Nothing the store offered could be checked: only the block checksums of what was received. */
  UNVERIFIED;

  /** The name in manifests and JSON output: {@code source-checksum}, {@code etag-md5}, ... */
  public String label() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
