package dev.modelcache.core.spi;

import java.util.Objects;

/**
 * One object of a source listing, with the strongest identity and integrity the store offers.
 *
 * @param key the backend's own name for the object (an S3 key, a file path); opaque to the cache
 * @param relativePath the validated path of the file inside the cache entry, with {@code /}
 *     separators (see {@link ObjectKeys#relativePath})
 * @param sizeBytes the object's length
 * @param etag the store's entity tag, without quotes, or {@code null}
 * @param versionId the store's version id, or {@code null}
 * @param checksum a whole-object digest the store vouches for, or {@code null}
 */
public record RemoteObject(
    String key,
    String relativePath,
    long sizeBytes,
    String etag,
    String versionId,
    SourceChecksum checksum) {

  public RemoteObject {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(relativePath, "relativePath");
    if (sizeBytes < 0) {
      throw new IllegalArgumentException("sizeBytes < 0 for " + key + ": " + sizeBytes);
    }
  }
}
