package dev.modelcache.core;

import dev.modelcache.core.spi.SourceChecksum;
import java.util.Arrays;
import java.util.Objects;

/**
 * One file of a {@link Manifest}: where it came from, what the source vouched for, and the CRC32C
 * of each block the cache wrote.
 *
 * @param path the path inside the entry's directory, {@code /}-separated, already validated
 * @param key the backend's name for the object
 * @param sizeBytes the file's length
 * @param etag the source's entity tag, or {@code null}
 * @param versionId the source's version id, or {@code null}
 * @param checksum the source checksum the file's bytes matched when downloaded (for a multipart
 *     ETag, with the part size that matched), or {@code null} if none could be checked
 * @param blockCrc32c the CRC32C of each block of {@link Manifest#blockSizeBytes()} bytes (the last
 *     may be shorter); empty for an empty file. Copied in and out.
 */
public record ManifestFile(
    String path,
    String key,
    long sizeBytes,
    String etag,
    String versionId,
    SourceChecksum checksum,
    int[] blockCrc32c) {

  public ManifestFile {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(key, "key");
    if (sizeBytes < 0) {
      throw new IllegalArgumentException("sizeBytes < 0 for " + path + ": " + sizeBytes);
    }
    blockCrc32c = blockCrc32c.clone();
  }

  /** A copy of the block checksums. */
  @Override
  public int[] blockCrc32c() {
    return blockCrc32c.clone();
  }

  /** The CRC32C of block {@code index}. */
  public int blockCrc32c(int index) {
    return blockCrc32c[index];
  }

  /** What the file's bytes were checked against when they were downloaded. */
  public Integrity integrity() {
    if (checksum == null) {
      return Integrity.UNVERIFIED;
    }
    if (checksum.isMultipart()) {
      return checksum.algorithm().equals(SourceChecksum.MULTIPART_MD5)
          ? Integrity.ETAG_MULTIPART
          : Integrity.SOURCE_CHECKSUM;
    }
    return checksum.algorithm().equals("MD5")
            && checksum.hex().equalsIgnoreCase(etag == null ? "" : etag)
        ? Integrity.ETAG_MD5
        : Integrity.SOURCE_CHECKSUM;
  }

  /** The number of blocks with a recorded checksum. */
  public int blockCount() {
    return blockCrc32c.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ManifestFile f
        && path.equals(f.path)
        && key.equals(f.key)
        && sizeBytes == f.sizeBytes
        && Objects.equals(etag, f.etag)
        && Objects.equals(versionId, f.versionId)
        && Objects.equals(checksum, f.checksum)
        && Arrays.equals(blockCrc32c, f.blockCrc32c);
  }

  @Override
  public int hashCode() {
    return Objects.hash(path, key, sizeBytes, etag, versionId, checksum) * 31
        + Arrays.hashCode(blockCrc32c);
  }

  @Override
  public String toString() {
    return "ManifestFile[" + path + ", " + sizeBytes + " bytes, " + blockCrc32c.length + " blocks]";
  }
}
