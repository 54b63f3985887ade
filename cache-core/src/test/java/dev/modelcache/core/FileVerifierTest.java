package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modelcache.core.spi.SourceChecksum;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link FileVerifier}: the first difference it reports, where, and in what words, for both read paths. */
class FileVerifierTest {
  @TempDir
  Path dir;

  private static final byte[] DATA = new byte[10];

  static {
    for (int i = 0; i < DATA.length; i++) {
      DATA[i] = (byte) (i * 7 + 1);
    }
  }

  private static int crc(byte[] b, int from, int to) {
    CRC32C c = new CRC32C();
    c.update(b, from, to - from);
    return (int) c.getValue();
  }

  private static int[] blocks(byte[] b, int blockBytes) {
    int n = (b.length + blockBytes - 1) / blockBytes;
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = crc(b, i * blockBytes, Math.min(b.length, (i + 1) * blockBytes));
    }
    return out;
  }

  private static ManifestFile mf(long size, SourceChecksum checksum, int[] crcs) {
    return new ManifestFile("f.bin", "k/f.bin", size, null, null, checksum, crcs);
  }

  private VerificationResult.Mismatch[] both(
      byte[] content, ManifestFile mf, int blockBytes, int bufBytes) throws Exception {
    Path file = Files.write(dir.resolve("f" + System.nanoTime()), content);
    try (FileChannel ch = FileChannel.open(file)) {
      return new VerificationResult.Mismatch[] {
        FileVerifier.check(ch, mf, blockBytes, ByteBuffer.allocate(bufBytes)),
        FileVerifier.checkMapped(ch, mf, blockBytes)
      };
    }
  }

  @Test
  void matchingFileHasNoMismatchWhateverTheBufferSize() throws Exception {
    for (int buf : new int[] {1, 3, 4, 64}) {
      assertThat(both(DATA, mf(10, null, blocks(DATA, 4)), 4, buf)).containsOnlyNulls();
    }
    assertThat(both(DATA, mf(10, null, new int[0]), 4, 3))
        .as("no block checksums")
        .containsOnlyNulls();
    assertThat(both(new byte[0], mf(0, null, new int[0]), 4, 3)).containsOnlyNulls();
  }

  @Test
  void lengthIsCheckedFirst() throws Exception {
    for (VerificationResult.Mismatch m : both(DATA, mf(12, null, new int[0]), 4, 4)) {
      assertThat(m)
          .isEqualTo(
              new VerificationResult.Mismatch("f.bin", 10, "length is 10 bytes, expected 12"));
    }
    for (VerificationResult.Mismatch m : both(DATA, mf(9, null, new int[0]), 4, 4)) {
      assertThat(m)
          .isEqualTo(new VerificationResult.Mismatch("f.bin", 9, "length is 10 bytes, expected 9"));
    }
  }

  @Test
  void firstBadBlockIsNamedWithItsRange() throws Exception {
    byte[] bad = DATA.clone();
    bad[5] ^= 1;
    bad[9] ^= 1;
    int[] crcs = blocks(DATA, 4);
    String reason = String.format(
        "CRC32C of block 1 (bytes 4-7) is %08x, expected %08x", crc(bad, 4, 8), crcs[1]);
    for (VerificationResult.Mismatch m : both(bad, mf(10, null, crcs), 4, 3)) {
      assertThat(m).isEqualTo(new VerificationResult.Mismatch("f.bin", 4, reason));
    }
    byte[] lastBad = DATA.clone();
    lastBad[9] ^= 1;
    String last = String.format(
        "CRC32C of block 2 (bytes 8-9) is %08x, expected %08x", crc(lastBad, 8, 10), crcs[2]);
    for (VerificationResult.Mismatch m : both(lastBad, mf(10, null, crcs), 4, 64)) {
      assertThat(m).isEqualTo(new VerificationResult.Mismatch("f.bin", 8, last));
    }
  }

  @Test
  void wholeFileChecksums() throws Exception {
    HexFormat hex = HexFormat.of();
    String sha = hex.formatHex(MessageDigest.getInstance("SHA-256").digest(DATA));
    CRC32 c32 = new CRC32();
    c32.update(DATA);
    CRC32C c32c = new CRC32C();
    c32c.update(DATA);
    String crc32 = String.format("%08x", c32.getValue());
    String crc32c = String.format("%08x", c32c.getValue());
    for (SourceChecksum ok : new SourceChecksum[] {
      new SourceChecksum("SHA-256", sha),
      new SourceChecksum("CRC32", crc32),
      new SourceChecksum("CRC32C", crc32c)
    }) {
      assertThat(both(DATA, mf(10, ok, blocks(DATA, 4)), 4, 3))
          .as(ok.algorithm())
          .containsOnlyNulls();
      FileVerifier.SourceDigest d = FileVerifier.SourceDigest.of(ok, 10);
      d.update(ByteBuffer.wrap(DATA));
      assertThat(d.verified()).isEqualTo(ok);
      assertThat(d.computed()).isEqualTo(ok.hex());
      assertThat(d.conclusive()).isTrue();
    }
    SourceChecksum wrong = new SourceChecksum("CRC32", "00000000");
    for (VerificationResult.Mismatch m : both(DATA, mf(10, wrong, new int[0]), 4, 3)) {
      assertThat(m)
          .isEqualTo(new VerificationResult.Mismatch(
              "f.bin", -1, "CRC32 of the file is " + crc32 + ", the source says 00000000"));
    }
    FileVerifier.SourceDigest d = FileVerifier.SourceDigest.of(wrong, 10);
    d.update(ByteBuffer.wrap(DATA));
    assertThat(d.verified()).isNull();
    assertThat(FileVerifier.SourceDigest.of(null, 10)).isNull();
    assertThat(FileVerifier.wholeFileMismatch(mf(10, null, new int[0]), null)).isNull();
  }

  @Test
  void crc64IsWrittenWithSixteenDigitsLeadingZerosIncluded() throws Exception {
    // Find a short content whose CRC64NVME has a zero top nibble.
    byte[] content = null;
    long value = 0;
    for (int i = 0; content == null; i++) {
      byte[] candidate = java.nio.ByteBuffer.allocate(4).putInt(i).array();
      Crc64Nvme c = new Crc64Nvme();
      c.update(candidate, 0, 4);
      if (c.getValue() >>> 60 == 0) {
        content = candidate;
        value = c.getValue();
      }
    }
    String hex = String.format("%016x", value);
    assertThat(hex).startsWith("0");
    SourceChecksum ok = new SourceChecksum("CRC64NVME", hex);
    FileVerifier.SourceDigest d = FileVerifier.SourceDigest.of(ok, 4);
    d.update(ByteBuffer.wrap(content));
    assertThat(d.computed()).isEqualTo(hex);
    assertThat(d.verified()).isEqualTo(ok);
    assertThat(both(content, mf(4, ok, new int[0]), 4, 4)).containsOnlyNulls();
  }

  /** Reads at most three bytes a call, and claims {@code claimedSize} bytes. */
  private static final class ShortReads extends FileChannel {
    private final byte[] content;
    private final long claimedSize;

    ShortReads(byte[] content, long claimedSize) {
      this.content = content;
      this.claimedSize = claimedSize;
    }

    @Override
    public int read(ByteBuffer dst, long position) {
      if (position >= content.length) {
        return -1;
      }
      int n = (int) Math.min(Math.min(3, dst.remaining()), content.length - position);
      dst.put(content, (int) position, n);
      return n;
    }

    @Override
    public long size() {
      return claimedSize;
    }

    @Override
    public int read(ByteBuffer dst) {
      throw new UnsupportedOperationException();
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) {
      throw new UnsupportedOperationException();
    }

    @Override
    public int write(ByteBuffer src) {
      throw new UnsupportedOperationException();
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) {
      throw new UnsupportedOperationException();
    }

    @Override
    public int write(ByteBuffer src, long position) {
      throw new UnsupportedOperationException();
    }

    @Override
    public long position() {
      throw new UnsupportedOperationException();
    }

    @Override
    public FileChannel position(long newPosition) {
      throw new UnsupportedOperationException();
    }

    @Override
    public FileChannel truncate(long size) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void force(boolean metaData) {}

    @Override
    public long transferTo(
        long position, long count, java.nio.channels.WritableByteChannel target) {
      throw new UnsupportedOperationException();
    }

    @Override
    public long transferFrom(java.nio.channels.ReadableByteChannel src, long position, long count) {
      throw new UnsupportedOperationException();
    }

    @Override
    public java.nio.MappedByteBuffer map(MapMode mode, long position, long size) {
      throw new UnsupportedOperationException();
    }

    @Override
    public java.nio.channels.FileLock lock(long position, long size, boolean shared) {
      throw new UnsupportedOperationException();
    }

    @Override
    public java.nio.channels.FileLock tryLock(long position, long size, boolean shared) {
      throw new UnsupportedOperationException();
    }

    @Override
    protected void implCloseChannel() {}
  }

  @Test
  void shortReadsAreContinuedWhereTheyStopped() throws Exception {
    assertThat(FileVerifier.check(
            new ShortReads(DATA, 10), mf(10, null, blocks(DATA, 4)), 4, ByteBuffer.allocate(8)))
        .isNull();
    assertThat(FileVerifier.check(
            new ShortReads(DATA, 10), mf(10, null, blocks(DATA, 8)), 8, ByteBuffer.allocate(64)))
        .isNull();
  }

  @Test
  void fileThatEndsBeforeItsSizeEndsEarly() throws Exception {
    byte[] longer = java.util.Arrays.copyOf(DATA, 12);
    assertThat(FileVerifier.check(
            new ShortReads(DATA, 12), mf(12, null, blocks(longer, 4)), 4, ByteBuffer.allocate(8)))
        .isEqualTo(new VerificationResult.Mismatch("f.bin", 10, "file ends early"));
  }

  @Test
  void blockMismatchIsReportedBeforeAWholeFileMismatch() throws Exception {
    byte[] bad = DATA.clone();
    bad[0] ^= 1;
    int[] crcs = blocks(DATA, 4);
    for (VerificationResult.Mismatch m :
        both(bad, mf(10, new SourceChecksum("CRC32", "00000000"), crcs), 4, 4)) {
      assertThat(m.offsetBytes()).isZero();
      assertThat(m.reason()).startsWith("CRC32C of block 0 (bytes 0-3)");
    }
  }
}
