package dev.modelcache.core;

import dev.modelcache.core.spi.SourceChecksum;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.zip.Checksum;

/**
 * Compares a file with its manifest record: length, the CRC32C of every block, and the source's
 * whole-file checksum when it gave one. Reads with the caller's buffer, so memory stays bounded.
 */
final class FileVerifier {

  private FileVerifier() {}

  private static VerificationResult.Mismatch lengthMismatch(ManifestFile mf, long sizeBytes) {
    return new VerificationResult.Mismatch(
        mf.path(),
        Math.min(sizeBytes, mf.sizeBytes()),
        String.format(Locale.ROOT, "length is %d bytes, expected %d", sizeBytes, mf.sizeBytes()));
  }

  /** Block {@code block}, bytes {@code [start, end)}, has CRC32C {@code actual}, not the manifest's. */
  private static VerificationResult.Mismatch blockMismatch(
      ManifestFile mf, int block, long start, long end, int actual) {
    return new VerificationResult.Mismatch(
        mf.path(),
        start,
        String.format(
            Locale.ROOT,
            "CRC32C of block %d (bytes %d-%d) is %08x, expected %08x",
            block,
            start,
            end - 1,
            actual,
            mf.blockCrc32c(block)));
  }

  /**
   * Returns the first difference, or {@code null} when the file matches.
   *
   * @throws IOException if the file cannot be read, naming it and the offset
   */
  static VerificationResult.Mismatch check(
      FileChannel ch, ManifestFile mf, long blockBytes, ByteBuffer buf) throws IOException {
    long size = ch.size();
    if (size != mf.sizeBytes()) {
      return lengthMismatch(mf, size);
    }
    SourceDigest whole = SourceDigest.of(mf.checksum(), mf.sizeBytes());
    boolean checkBlocks = mf.blockCount() > 0;
    long pos = 0;
    for (int block = 0; pos < size; block++) {
      long blockEnd = Math.min(size, pos + blockBytes);
      CRC32C crc = new CRC32C();
      long blockStart = pos;
      while (pos < blockEnd) {
        buf.clear();
        buf.limit((int) Math.min(buf.capacity(), blockEnd - pos));
        while (buf.hasRemaining()) {
          int n;
          try {
            n = ch.read(buf, pos + buf.position());
          } catch (java.nio.channels.ClosedChannelException e) {
            throw e; // closed or interrupted: nothing to say about the file
          } catch (IOException e) {
            throw new IOException(
                String.format(
                    Locale.ROOT,
                    "reading %s at offset %d failed: %s",
                    mf.path(),
                    pos + buf.position(),
                    e.getMessage()),
                e);
          }
          if (n < 0) {
            return new VerificationResult.Mismatch(
                mf.path(), pos + buf.position(), "file ends early");
          }
        }
        buf.flip();
        if (whole != null) {
          whole.update(buf.duplicate());
        }
        crc.update(buf);
        pos += buf.limit();
      }
      if (checkBlocks && (int) crc.getValue() != mf.blockCrc32c(block)) {
        return blockMismatch(mf, block, blockStart, blockEnd, (int) crc.getValue());
      }
    }
    return wholeFileMismatch(mf, whole);
  }

  /**
   * Like {@link #check}, but maps one block at a time and reads it out of the page cache in small
   * chunks ({@link MappedReads}) instead of a transfer buffer; each mapping is released before the
   * next block. For files just written, whose pages are still cached. A page that cannot be read
   * (the file shrank meanwhile, an I/O error) raises {@link InternalError}.
   */
  static VerificationResult.Mismatch checkMapped(FileChannel ch, ManifestFile mf, long blockBytes)
      throws IOException {
    long size = ch.size();
    if (size != mf.sizeBytes()) {
      return lengthMismatch(mf, size);
    }
    SourceDigest whole = SourceDigest.of(mf.checksum(), mf.sizeBytes());
    boolean checkBlocks = mf.blockCount() > 0;
    long pos = 0;
    for (int block = 0; pos < size; block++) {
      long len = Math.min(blockBytes, size - pos);
      CRC32C crc = new CRC32C();
      MappedReads.read(ch, pos, len, chunk -> {
        if (whole != null) {
          whole.update(chunk.duplicate());
        }
        crc.update(chunk);
      });
      if (checkBlocks && (int) crc.getValue() != mf.blockCrc32c(block)) {
        return blockMismatch(mf, block, pos, pos + len, (int) crc.getValue());
      }
      pos += len;
    }
    return wholeFileMismatch(mf, whole);
  }

  /** The difference between {@code whole}'s digest and {@code mf}'s source checksum, or null. */
  static VerificationResult.Mismatch wholeFileMismatch(ManifestFile mf, SourceDigest whole) {
    return whole == null ? null : whole.mismatch(mf);
  }

  /**
   * The outcome of checking a file against the checksum its source vouches for, once all its
   * bytes were taken in: by a {@link SourceDigest} fed them in order, or by a multipart check that
   * takes its parts in any order ({@link MultipartEtag.PerBlock}).
   */
  interface SourceCheck {
    /** Once every byte was taken in: the difference from the source's checksum, or null when it matches. */
    VerificationResult.Mismatch mismatch(ManifestFile mf);

    /**
     * Once it matched: the checksum to record, which for a multipart ETag names the part size
     * that matched.
     */
    SourceChecksum verified();

    /**
     * Whether a mismatch proves the bytes differ from the source's; false when it may only mean
     * the upload used a part size that was not tried.
     */
    boolean conclusive();

    /** Once every byte was taken in: what was computed, to compare two fetches of the same file. */
    String computed();
  }

  /**
   * A file's digest in the form its source vouches for, fed the file's bytes in order: a
   * whole-file digest, or a multipart ETag. Not thread-safe.
   */
  interface SourceDigest extends SourceCheck {
    /** A digest for {@code expected} of a file of {@code sizeBytes}; null for none. */
    static SourceDigest of(SourceChecksum expected, long sizeBytes) {
      if (expected == null) {
        return null;
      }
      return expected.isMultipart()
          ? new MultipartEtag.Digest(expected, sizeBytes)
          : new WholeFile(expected);
    }

    /** Feeds the next bytes of the file. */
    void update(ByteBuffer buf);
  }

  /** A whole-file digest in the source's algorithm, fed the file's bytes in order. Not thread-safe. */
  static final class WholeFile implements SourceDigest {
    private final SourceChecksum expected;
    private final MessageDigest digest;
    private final Checksum checksum;

    WholeFile(SourceChecksum expected) {
      this.expected = expected;
      switch (expected.algorithm()) {
        case "CRC32" -> {
          digest = null;
          checksum = new CRC32();
        }
        case "CRC32C" -> {
          digest = null;
          checksum = new CRC32C();
        }
        case "CRC64NVME" -> {
          digest = null;
          checksum = new Crc64Nvme();
        }
        default -> {
          try {
            digest = MessageDigest.getInstance(expected.algorithm());
          } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(expected.algorithm() + " is required of every JDK", e);
          }
          checksum = null;
        }
      }
    }

    @Override
    public void update(ByteBuffer buf) {
      if (digest != null) {
        digest.update(buf);
      } else {
        checksum.update(buf);
      }
    }

    private String hex;

    private String hex() {
      if (hex == null) {
        hex = digest != null
            ? HexFormat.of().formatHex(digest.digest())
            : checksum instanceof Crc64Nvme
                ? String.format(Locale.ROOT, "%016x", checksum.getValue())
                : String.format(Locale.ROOT, "%08x", checksum.getValue());
      }
      return hex;
    }

    @Override
    public VerificationResult.Mismatch mismatch(ManifestFile mf) {
      String actual = hex();
      if (!actual.equals(expected.hex())) {
        return new VerificationResult.Mismatch(
            mf.path(),
            -1,
            String.format(
                Locale.ROOT,
                "%s of the file is %s, the source says %s",
                expected.algorithm(),
                actual,
                expected.hex()));
      }
      return null;
    }

    @Override
    public SourceChecksum verified() {
      return hex().equals(expected.hex()) ? expected : null;
    }

    @Override
    public boolean conclusive() {
      return true;
    }

    @Override
    public String computed() {
      return hex();
    }
  }
}
