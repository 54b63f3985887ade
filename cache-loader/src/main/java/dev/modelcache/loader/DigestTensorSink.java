package dev.modelcache.loader;

import java.lang.foreign.MemorySegment;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Checksums every tensor: SHA-256 (to compare content, tamper-evident) or CRC32C (to detect
 * corruption, several times faster, hardware-accelerated). Use it for one load at a time (see
 * {@link TensorSink}).
 */
public final class DigestTensorSink implements TensorSink {
  /** The checksum computed per tensor. */
  public enum Algorithm {
    /** SHA-256 through {@link MessageDigest}. */
    SHA_256,
    /** CRC32C through {@link CRC32C}. */
    CRC32C
  }

  /** Largest piece handed to the digest at once (ByteBuffer views are limited to 2 GiB). */
  private static final long PIECE_BYTES = 1L << 30;

  private final Algorithm algorithm;
  private final Map<String, String> digests = new LinkedHashMap<>();
  private MessageDigest sha;
  private CRC32C crc;

  private DigestTensorSink(Algorithm algorithm) {
    this.algorithm = algorithm;
  }

  /** A sink computing {@code algorithm} for each tensor. */
  public static DigestTensorSink of(Algorithm algorithm) {
    return new DigestTensorSink(java.util.Objects.requireNonNull(algorithm, "algorithm"));
  }

  @Override
  public void beginTensor(TensorInfo tensor) {
    if (algorithm == Algorithm.SHA_256) {
      try {
        sha = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("every JDK has SHA-256", e);
      }
    } else {
      crc = new CRC32C();
    }
  }

  @Override
  public void chunk(TensorInfo tensor, long offsetInTensor, MemorySegment bytes) {
    for (long off = 0; off < bytes.byteSize(); off += PIECE_BYTES) {
      var piece =
          bytes.asSlice(off, Math.min(PIECE_BYTES, bytes.byteSize() - off)).asByteBuffer();
      if (sha != null) {
        sha.update(piece);
      } else {
        crc.update(piece);
      }
    }
  }

  @Override
  public void endTensor(TensorInfo tensor) {
    String hex;
    if (sha != null) {
      hex = HexFormat.of().formatHex(sha.digest());
      sha = null;
    } else {
      hex = String.format(java.util.Locale.ROOT, "%08x", crc.getValue());
      crc = null;
    }
    digests.put(tensor.name(), hex);
  }

  /** The algorithm used. */
  public Algorithm algorithm() {
    return algorithm;
  }

  /** Lower-case hex digest per tensor name, in load order. */
  public Map<String, String> digests() {
    return Collections.unmodifiableMap(digests);
  }
}
