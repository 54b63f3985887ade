package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modelcache.core.spi.SourceChecksum;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.zip.Checksum;
import org.junit.jupiter.api.Test;

/** Exact part-size candidates at their bounds, composite CRC checksums, and the words of each kind of mismatch. */
class MultipartEtagPartsTest {
  private static final long MIB = 1L << 20;
  private static final byte[] DATA = new byte[10];

  static {
    for (int i = 0; i < DATA.length; i++) {
      DATA[i] = (byte) (31 * i + 3);
    }
  }

  private static ManifestFile mf(long size) {
    return new ManifestFile("p.bin", "k/p.bin", size, null, null, null, new int[0]);
  }

  /** The reference: digest of the concatenated digests of parts of {@code partSize}. */
  private static String reference(String alg, byte[] data, int partSize) throws Exception {
    java.io.ByteArrayOutputStream outer = new java.io.ByteArrayOutputStream();
    int from = 0;
    do {
      int to = Math.min(data.length, from + partSize);
      outer.writeBytes(digest(alg, data, from, to));
      from = to;
    } while (from < data.length);
    byte[] all = outer.toByteArray();
    return HexFormat.of().formatHex(digest(alg, all, 0, all.length));
  }

  private static byte[] digest(String alg, byte[] b, int from, int to) throws Exception {
    if (alg.startsWith("CRC")) {
      Checksum c = alg.equals("CRC32") ? new CRC32() : new CRC32C();
      c.update(b, from, to - from);
      return ByteBuffer.allocate(4).putInt((int) c.getValue()).array();
    }
    MessageDigest d = MessageDigest.getInstance(alg);
    d.update(b, from, to - from);
    return d.digest();
  }

  @Test
  void candidateBounds() {
    assertThat(MultipartEtag.partSizes(0, 1, 0)).as("empty file, one part").containsExactly(1L);
    assertThat(MultipartEtag.partSizes(1, 1, 0)).containsExactly(1L);
    assertThat(MultipartEtag.partSizes(0, 1, 5 * MIB)).containsExactly(5 * MIB);
    assertThat(MultipartEtag.partSizes(0, 2, 5 * MIB)).isEmpty();
    assertThat(MultipartEtag.partSizes(16 * MIB, 2, 0))
        .as("five fit, four are kept")
        .containsExactly(8 * MIB, 10 * MIB, 15 * MIB, 10_000_000L);
    assertThat(MultipartEtag.partSizes(3 * MIB + 1, 2, 0)).containsExactly(2 * MIB, 3 * MIB);
    assertThat(MultipartEtag.partSizes(3 * MIB, 2, 0))
        .as("3 MiB would be one part")
        .containsExactly(2 * MIB);
    assertThat(MultipartEtag.partSizes(4 * MIB, 2, 0)).containsExactly(2 * MIB, 3 * MIB);
    assertThat(MultipartEtag.partSizes(8 * MIB, 2, 8 * MIB))
        .as("8 MiB is one part of 8 MiB")
        .isEmpty();
    assertThat(MultipartEtag.partSizes(8 * MIB + 1, 2, 8 * MIB)).containsExactly(8 * MIB);
  }

  private static FileVerifier.SourceDigest fed(SourceChecksum expected, byte[] data, int chunk) {
    FileVerifier.SourceDigest d = FileVerifier.SourceDigest.of(expected, data.length);
    for (int i = 0; i < data.length; i += chunk) {
      d.update(ByteBuffer.wrap(data, i, Math.min(chunk, data.length - i)));
    }
    return d;
  }

  @Test
  void compositeChecksumsOfEveryPartAlgorithm() throws Exception {
    for (String alg : new String[] {"CRC32", "CRC32C", "SHA-256", "MD5"}) {
      String hex = reference(alg, DATA, 4);
      SourceChecksum expected = alg.equals("MD5")
          ? SourceChecksum.multipart(hex, 3, 4)
          : SourceChecksum.composite(alg, hex, 3, 4);
      for (int chunk : new int[] {1, 3, 10}) {
        FileVerifier.SourceDigest d = fed(expected, DATA, chunk);
        assertThat(d.computed()).as(alg).isEqualTo(hex);
        assertThat(d.mismatch(mf(10))).isNull();
        assertThat(d.verified()).isEqualTo(expected);
        assertThat(d.conclusive()).isTrue();
      }
    }
  }

  @Test
  void partsEndingExactlyAtTheEndAndTheEmptyFile() throws Exception {
    byte[] eight = java.util.Arrays.copyOf(DATA, 8);
    String hex = reference("MD5", eight, 4);
    FileVerifier.SourceDigest d = fed(SourceChecksum.multipart(hex, 2, 4), eight, 8);
    assertThat(d.verified()).isEqualTo(SourceChecksum.multipart(hex, 2, 4));
    String empty = reference("MD5", new byte[0], 1);
    FileVerifier.SourceDigest e =
        FileVerifier.SourceDigest.of(SourceChecksum.multipart(empty, 1, 0), 0);
    assertThat(e.computed()).isEqualTo(empty);
    assertThat(e.verified()).isEqualTo(SourceChecksum.multipart(empty, 1, 1));
  }

  @Test
  void verifiedAloneFinishesTheDigest() throws Exception {
    String hex = reference("CRC32C", DATA, 4);
    FileVerifier.SourceDigest d = fed(SourceChecksum.composite("CRC32C", hex, 3, 4), DATA, 10);
    assertThat(d.verified()).isEqualTo(SourceChecksum.composite("CRC32C", hex, 3, 4));
  }

  @Test
  void oneCandidateMismatchNamesItsDigest() throws Exception {
    String actual = reference("CRC32C", DATA, 4);
    SourceChecksum expected = SourceChecksum.composite("CRC32C", "0badc0de", 3, 4);
    FileVerifier.SourceDigest d = fed(expected, DATA, 10);
    assertThat(d.verified()).isNull();
    assertThat(d.conclusive()).isTrue();
    assertThat(d.mismatch(mf(10)))
        .isEqualTo(new VerificationResult.Mismatch(
            "p.bin",
            -1,
            "the CRC32C of its 3 parts' CRC32Cs (parts of 4 bytes) is " + actual
                + "-3, the source's composite CRC32C checksum is 0badc0de-3"));
  }

  @Test
  void noCandidateMismatch() {
    SourceChecksum expected = SourceChecksum.multipart("0123456789abcdef0123456789abcdef", 11, 0);
    FileVerifier.SourceDigest d = fed(expected, DATA, 10);
    assertThat(d.conclusive()).isFalse();
    assertThat(d.computed()).isEmpty();
    assertThat(d.mismatch(mf(10)))
        .isEqualTo(
            new VerificationResult.Mismatch(
                "p.bin",
                -1,
                "no part size gives 11 parts for 10 bytes, so the multipart ETag 0123456789abcdef0123456789abcdef-11 cannot be checked"));
  }

  @Test
  void severalCandidatesMismatchListsEach() {
    byte[] big = new byte[(int) (16 * MIB)];
    SourceChecksum expected = SourceChecksum.multipart("0123456789abcdef0123456789abcdef", 2, 0);
    FileVerifier.SourceDigest d = FileVerifier.SourceDigest.of(expected, big.length);
    d.update(ByteBuffer.wrap(big));
    assertThat(d.conclusive()).isFalse();
    String[] computed = d.computed().split(",");
    assertThat(computed).hasSize(4);
    assertThat(d.mismatch(mf(big.length)).reason())
        .isEqualTo(
            "no part size tried gives the source's multipart ETag 0123456789abcdef0123456789abcdef-2 ("
                + 8 * MIB + " bytes: " + computed[0] + ", " + 10 * MIB + " bytes: " + computed[1]
                + ", "
                + 15 * MIB + " bytes: " + computed[2] + ", 10000000 bytes: " + computed[3] + ")");
  }
}
