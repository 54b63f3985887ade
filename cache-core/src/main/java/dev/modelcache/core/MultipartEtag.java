package dev.modelcache.core;

import dev.modelcache.core.spi.SourceChecksum;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A file checked against a per-part digest {@code H-N}: {@code H} is ALG of the concatenated ALGs
 * of the upload's {@code N} parts, every part but the last of one size; ALG is MD5 for a multipart
 * ETag, or the algorithm of a composite checksum (SHA-256, CRC32C, ...; a CRC counts as its four
 * big-endian bytes). Where the store does not say the part size, it is one of the sizes {@code p}
 * with {@code ceil(size / p) == N}; the sizes uploaders use are tried, a few at once in the same
 * pass over the bytes (each costs a digest of the file), and the first that gives {@code H} is the
 * one recorded.
 */
final class MultipartEtag {

  /** Part sizes tried in one pass at most: each is a whole MD5 of the file. */
  static final int MAX_CANDIDATES = 4;

  private static final long MIB = 1L << 20;
  /**
   * Part sizes of common uploaders, most likely first: 8 MiB (AWS CLI, boto3, the SDKs' transfer
   * managers), 5 MiB (S3's minimum, rclone), 16 MiB, 64 MiB, 100 MiB, powers of two, decimal megabytes.
   */
  private static final long[] COMMON = {
    8 * MIB,
    5 * MIB,
    16 * MIB,
    64 * MIB,
    100 * MIB,
    32 * MIB,
    128 * MIB,
    10 * MIB,
    50 * MIB,
    256 * MIB,
    512 * MIB,
    1024 * MIB,
    15 * MIB,
    25 * MIB,
    8_000_000,
    5_000_000,
    10_000_000,
    16_000_000,
    50_000_000,
    100_000_000
  };

  private MultipartEtag() {}

  /**
   * The part sizes to try for a file of {@code sizeBytes} in {@code parts} parts: the known one,
   * else the common sizes consistent with both, then other MiB multiples from the smallest
   * consistent one up, at most {@link #MAX_CANDIDATES}. Empty if no size is consistent (a
   * malformed ETag).
   */
  static List<Long> partSizes(long sizeBytes, int parts, long knownPartSize) {
    if (knownPartSize > 0) {
      return consistent(sizeBytes, parts, knownPartSize) ? List.of(knownPartSize) : List.of();
    }
    if (parts == 1) {
      return sizeBytes > 0 ? List.of(sizeBytes) : List.of(1L);
    }
    Set<Long> out = new LinkedHashSet<>();
    for (long p : COMMON) {
      if (out.size() < MAX_CANDIDATES && consistent(sizeBytes, parts, p)) {
        out.add(p);
      }
    }
    // The consistent sizes are [ceil(size / N), floor((size - 1) / (N - 1))].
    long lo = (sizeBytes + parts - 1) / parts;
    long hi = (sizeBytes - 1) / (parts - 1);
    for (long p = (lo + MIB - 1) / MIB * MIB; p <= hi && out.size() < MAX_CANDIDATES; p += MIB) {
      out.add(p);
    }
    return new ArrayList<>(out);
  }

  private static boolean consistent(long sizeBytes, int parts, long partSize) {
    if (partSize <= 0) {
      return false;
    }
    long n = sizeBytes == 0 ? 1 : (sizeBytes + partSize - 1) / partSize;
    return n == parts;
  }

  /** A digest of the parts' digests for one part size, fed the file's bytes in order. Not thread-safe. */
  private static final class OnePartSize {
    final long partSize;
    final PartHash part;
    final PartHash outer;
    long inPart;
    int parts;

    OnePartSize(long partSize, String algorithm) {
      this.partSize = partSize;
      this.part = PartHash.of(algorithm);
      this.outer = PartHash.of(algorithm);
    }

    void update(ByteBuffer buf) {
      while (buf.hasRemaining()) {
        int n = (int) Math.min(buf.remaining(), partSize - inPart);
        ByteBuffer slice = buf.slice(buf.position(), n);
        part.update(slice);
        buf.position(buf.position() + n);
        inPart += n;
        if (inPart == partSize) {
          endPart();
        }
      }
    }

    private void endPart() {
      outer.update(ByteBuffer.wrap(part.finish()));
      parts++;
      inPart = 0;
    }

    String hex() {
      if (inPart > 0 || parts == 0) {
        endPart();
      }
      return HexFormat.of().formatHex(outer.finish());
    }
  }

  /**
   * One hash of a part or of the parts' hashes: a message digest, or a CRC as four big-endian
   * bytes. Not thread-safe.
   */
  interface PartHash {
    void update(ByteBuffer buf);

    /** The value so far, and a fresh start. */
    byte[] finish();

    static PartHash of(String algorithm) {
      return switch (algorithm) {
        case "CRC32", "CRC32C" ->
          new PartHash() {
            private final java.util.zip.Checksum crc =
                algorithm.equals("CRC32") ? new java.util.zip.CRC32() : new java.util.zip.CRC32C();

            @Override
            public void update(ByteBuffer buf) {
              crc.update(buf);
            }

            @Override
            public byte[] finish() {
              int v = (int) crc.getValue();
              crc.reset();
              return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
            }
          };
        default ->
          new PartHash() {
            private final MessageDigest digest = messageDigest(algorithm);

            @Override
            public void update(ByteBuffer buf) {
              digest.update(buf);
            }

            @Override
            public byte[] finish() {
              return digest.digest();
            }
          };
      };
    }
  }

  /** The digest of a file against {@code H-N}, for each part size tried. */
  static final class Digest implements FileVerifier.SourceDigest {
    private final SourceChecksum expected;
    private final List<OnePartSize> candidates = new ArrayList<>();
    private final List<String> results = new ArrayList<>();
    private SourceChecksum matched;
    private boolean finished;

    Digest(SourceChecksum expected, long sizeBytes) {
      this.expected = expected;
      for (long p : partSizes(sizeBytes, expected.parts(), expected.partSizeBytes())) {
        candidates.add(new OnePartSize(p, expected.partAlgorithm()));
      }
    }

    @Override
    public void update(ByteBuffer buf) {
      for (OnePartSize c : candidates) {
        c.update(buf.duplicate());
      }
    }

    private void finish() {
      if (finished) {
        return;
      }
      finished = true;
      for (OnePartSize c : candidates) {
        String hex = c.hex();
        results.add(hex);
        if (matched == null && hex.equals(expected.hex()) && c.parts == expected.parts()) {
          matched = new SourceChecksum(
              expected.algorithm(), expected.hex(), expected.parts(), c.partSize);
        }
      }
    }

    @Override
    public VerificationResult.Mismatch mismatch(ManifestFile mf) {
      finish();
      if (matched != null) {
        return null;
      }
      String etag = expected.hex() + "-" + expected.parts();
      String what = kind(expected);
      if (candidates.isEmpty()) {
        return new VerificationResult.Mismatch(
            mf.path(),
            -1,
            String.format(
                Locale.ROOT,
                "no part size gives %d parts for %d bytes, so the %s %s cannot be checked",
                expected.parts(),
                mf.sizeBytes(),
                what,
                etag));
      }
      if (candidates.size() == 1) {
        OnePartSize c = candidates.getFirst();
        return oneSizeMismatch(mf, expected, c.partSize, c.parts, results.getFirst());
      }
      StringBuilder tried = new StringBuilder();
      for (int i = 0; i < candidates.size(); i++) {
        tried
            .append(i == 0 ? "" : ", ")
            .append(candidates.get(i).partSize)
            .append(" bytes: ")
            .append(results.get(i));
      }
      return new VerificationResult.Mismatch(
          mf.path(),
          -1,
          String.format(
              Locale.ROOT, "no part size tried gives the source's %s %s (%s)", what, etag, tried));
    }

    @Override
    public SourceChecksum verified() {
      finish();
      return matched;
    }

    @Override
    public boolean conclusive() {
      return candidates.size() == 1;
    }

    @Override
    public String computed() {
      finish();
      return String.join(",", results);
    }
  }

  /** "multipart ETag", or "composite CRC32C checksum". */
  private static String kind(SourceChecksum expected) {
    return expected.algorithm().equals(SourceChecksum.MULTIPART_MD5)
        ? "multipart ETag"
        : "composite " + expected.partAlgorithm() + " checksum";
  }

  /** The mismatch of a file checked with one part size, which computed {@code hex} over {@code parts} parts. */
  private static VerificationResult.Mismatch oneSizeMismatch(
      ManifestFile mf, SourceChecksum expected, long partSize, int parts, String hex) {
    String alg = expected.partAlgorithm();
    return new VerificationResult.Mismatch(
        mf.path(),
        -1,
        String.format(
            Locale.ROOT,
            "the %s of its %d parts' %ss (parts of %d bytes) is %s-%d, the source's %s is %s-%d",
            alg,
            parts,
            alg,
            partSize,
            hex,
            parts,
            kind(expected),
            expected.hex(),
            expected.parts()));
  }

  /**
   * The check of a file against {@code H-N} when its parts are the download's blocks: the part
   * size, told by the store or the only one that fits, equals the block size. Each block's digest
   * is then a part's, computed on its own as soon as the block is read back, in any order and on
   * any thread, and {@code H} is computed once the last one is in. {@link Digest} instead takes the
   * file's bytes in order, so a block written early waits for every block before it, and the
   * blocks still waiting when the last byte arrives are read back after it.
   *
   * <p>Thread-safe: {@link #record} may be called from any thread, once per block; the outcome
   * methods once the last {@code record} returned true.
   */
  static final class PerBlock implements FileVerifier.SourceCheck {
    private final SourceChecksum expected;
    private final long partSize;
    private final AtomicReferenceArray<byte[]> parts;
    private final AtomicInteger missing;
    /** H as computed, once every part's digest is in. */
    private volatile String hex;

    private PerBlock(SourceChecksum expected, long partSize, int parts) {
      this.expected = expected;
      this.partSize = partSize;
      this.parts = new AtomicReferenceArray<>(parts);
      this.missing = new AtomicInteger(parts);
    }

    /**
     * The check of a file of {@code sizeBytes} read back in blocks of {@code blockBytes} against
     * {@code expected}, or null when that is not a multipart checksum whose only part size is the
     * block size (the file is then checked in order by a {@link Digest}).
     */
    static PerBlock of(SourceChecksum expected, long sizeBytes, long blockBytes) {
      if (expected == null || !expected.isMultipart() || sizeBytes == 0) {
        return null;
      }
      List<Long> sizes = partSizes(sizeBytes, expected.parts(), expected.partSizeBytes());
      return sizes.equals(List.of(blockBytes))
          ? new PerBlock(expected, blockBytes, expected.parts())
          : null;
    }

    /** A fresh hash of one part, to feed one block's bytes in order and {@link #record} what it gives. */
    PartHash partHash() {
      return PartHash.of(expected.partAlgorithm());
    }

    /**
     * Records the digest of block (part) {@code index}.
     *
     * @return true when it was the last one missing: the outcome can be asked for now
     * @throws IllegalStateException if that block's digest was recorded before
     */
    boolean record(int index, byte[] digest) {
      if (!parts.compareAndSet(index, null, digest)) {
        throw new IllegalStateException("the digest of part " + index + " was recorded twice");
      }
      if (missing.decrementAndGet() != 0) {
        return false;
      }
      PartHash outer = PartHash.of(expected.partAlgorithm());
      for (int i = 0; i < parts.length(); i++) {
        outer.update(ByteBuffer.wrap(parts.get(i)));
      }
      hex = HexFormat.of().formatHex(outer.finish());
      return true;
    }

    private String hex() {
      String h = hex;
      if (h == null) {
        throw new IllegalStateException(missing.get() + " parts are not checked yet");
      }
      return h;
    }

    @Override
    public VerificationResult.Mismatch mismatch(ManifestFile mf) {
      return hex().equals(expected.hex())
          ? null
          : oneSizeMismatch(mf, expected, partSize, parts.length(), hex());
    }

    @Override
    public SourceChecksum verified() {
      return hex().equals(expected.hex())
          ? new SourceChecksum(expected.algorithm(), expected.hex(), expected.parts(), partSize)
          : null;
    }

    @Override
    public boolean conclusive() {
      return true; // one part size, as a Digest with one candidate
    }

    @Override
    public String computed() {
      return hex();
    }
  }

  private static MessageDigest messageDigest(String algorithm) {
    try {
      return MessageDigest.getInstance(algorithm);
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(algorithm + " is required of every JDK", e);
    }
  }
}
