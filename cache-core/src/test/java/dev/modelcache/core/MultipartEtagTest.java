package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.core.spi.SourceChecksum;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The part sizes a multipart ETag is checked with, and the MD5 of MD5s itself. */
class MultipartEtagTest {

  private static final long MIB = 1L << 20;

  @Test
  void aKnownPartSizeIsTheOnlyOneTriedIfItFits() {
    assertThat(MultipartEtag.partSizes(20 * MIB + 5, 3, 8 * MIB)).containsExactly(8 * MIB);
    assertThat(MultipartEtag.partSizes(20 * MIB + 5, 3, 5 * MIB))
        .as("gives 5 parts, not 3")
        .isEmpty();
  }

  @Test
  void commonSizesComeFirstThenMibMultiplesAtMostFour() {
    // 2.5 parts of 8 MiB: every size from 6.67 MiB to 10 MiB gives 3 parts.
    assertThat(MultipartEtag.partSizes(20 * MIB, 3, 0))
        .containsExactly(8 * MIB, 8_000_000L, 10_000_000L, 7 * MIB);
    // Many parts leave one size: 5 MiB alone gives 12 parts of 57.5 MiB.
    assertThat(MultipartEtag.partSizes(57 * MIB + MIB / 2, 12, 0)).containsExactly(5 * MIB);
    assertThat(MultipartEtag.partSizes(1152 * MIB, 144, 0)).containsExactly(8 * MIB);
    assertThat(MultipartEtag.partSizes(10 * MIB, 1, 0))
        .as("one part: the whole file")
        .containsExactly(10 * MIB);
    assertThat(MultipartEtag.partSizes(100, 5, 0))
        .as("no MiB multiple, no common size")
        .isEmpty();
    assertThat(MultipartEtag.partSizes(10 * MIB, 11, 0))
        .as("more parts than MiB")
        .isEmpty();
  }

  @Test
  void theDigestMatchesTheMd5OfPartMd5sWhateverTheBufferBoundaries() throws Exception {
    byte[] data = new byte[(int) (2 * 5 * MIB + 12_345)];
    new Random(3).nextBytes(data);
    String etag = md5OfPartMd5s(data, (int) (5 * MIB));
    for (int chunk : new int[] {1 << 20, 777_777, (int) (5 * MIB), data.length}) {
      var digest = new MultipartEtag.Digest(SourceChecksum.multipart(etag, 3, 0), data.length);
      for (int off = 0; off < data.length; off += chunk) {
        digest.update(ByteBuffer.wrap(data, off, Math.min(chunk, data.length - off)));
      }
      ManifestFile mf =
          new ManifestFile("f", "k", data.length, etag + "-3", null, null, new int[0]);
      assertThat(digest.mismatch(mf)).as("chunks of %d", chunk).isNull();
      assertThat(digest.verified()).isEqualTo(SourceChecksum.multipart(etag, 3, 5 * MIB));
    }
  }

  @Test
  void aFlippedByteIsAMismatchNamingWhatWasTriedAndOneSizeIsConclusive() throws Exception {
    byte[] data = new byte[(int) (11 * 5 * MIB + 5 * MIB / 2)];
    new Random(4).nextBytes(data);
    String etag = md5OfPartMd5s(data, (int) (5 * MIB));
    data[12_345_678] ^= 1;
    var digest = new MultipartEtag.Digest(SourceChecksum.multipart(etag, 12, 0), data.length);
    digest.update(ByteBuffer.wrap(data));
    var mismatch = digest.mismatch(
        new ManifestFile("shard", "k", data.length, etag + "-12", null, null, new int[0]));
    assertThat(mismatch).isNotNull();
    assertThat(mismatch.reason())
        .isEqualTo("the MD5 of its 12 parts' MD5s (parts of 5242880 bytes) is "
            + md5OfPartMd5s(data, (int) (5 * MIB)) + "-12, the source's multipart ETag is " + etag
            + "-12");
    assertThat(digest.conclusive()).isTrue();
    assertThat(digest.verified()).isNull();

    var ambiguous = new MultipartEtag.Digest(SourceChecksum.multipart(etag, 3, 0), 20 * MIB);
    ambiguous.update(ByteBuffer.wrap(data, 0, (int) (20 * MIB)));
    assertThat(ambiguous.conclusive()).as("four sizes tried").isFalse();
    assertThat(ambiguous
            .mismatch(new ManifestFile("f", "k", 20 * MIB, null, null, null, new int[0]))
            .reason())
        .startsWith(
            "no part size tried gives the source's multipart ETag " + etag + "-3 (8388608 bytes: ");
    assertThat(ambiguous.computed().split(",")).hasSize(4);
  }

  @Test
  void partsTakenInAnyOrderGiveWhatTheInOrderDigestGives() throws Exception {
    int part = (int) (5 * MIB);
    byte[] data = new byte[3 * part + 12_345];
    new Random(5).nextBytes(data);
    String etag = md5OfPartMd5s(data, part);
    SourceChecksum told = SourceChecksum.multipart(etag, 4, part);
    var check = MultipartEtag.PerBlock.of(told, data.length, part);
    assertThat(check).isNotNull();
    for (int i : new int[] {2, 0, 3}) {
      assertThat(check.record(i, partDigest(check, data, i, part))).isFalse();
    }
    assertThat(check.record(1, partDigest(check, data, 1, part)))
        .as("the last one")
        .isTrue();
    ManifestFile mf = new ManifestFile("f", "k", data.length, null, null, null, new int[0]);
    assertThat(check.mismatch(mf)).isNull();
    assertThat(check.verified()).isEqualTo(SourceChecksum.multipart(etag, 4, part));
    assertThat(check.computed()).isEqualTo(etag);
    assertThatThrownBy(() -> check.record(1, new byte[16]))
        .isInstanceOf(IllegalStateException.class);

    data[part + 7] ^= 1;
    var damaged = MultipartEtag.PerBlock.of(told, data.length, part);
    var inOrder = new MultipartEtag.Digest(told, data.length);
    inOrder.update(ByteBuffer.wrap(data));
    for (int i = 3; i >= 0; i--) {
      damaged.record(i, partDigest(damaged, data, i, part));
    }
    assertThat(damaged.mismatch(mf)).isNotNull().isEqualTo(inOrder.mismatch(mf));
    assertThat(damaged.conclusive()).isTrue();
    assertThat(damaged.verified()).isNull();
  }

  @Test
  void partsAreTakenAsBlocksOnlyWhenTheOnePartSizeIsTheBlockSize() {
    long size = 300 * MIB + 4321;
    // Not said by the store, but 8 MiB is the only size that gives 38 parts.
    assertThat(MultipartEtag.PerBlock.of(SourceChecksum.multipart("ab", 38, 0), size, 8 * MIB))
        .isNotNull();
    assertThat(MultipartEtag.PerBlock.of(SourceChecksum.multipart("ab", 38, 0), size, 4 * MIB))
        .as("parts of two blocks")
        .isNull();
    assertThat(MultipartEtag.PerBlock.of(SourceChecksum.multipart("ab", 3, 0), 20 * MIB, 8 * MIB))
        .as("four part sizes fit")
        .isNull();
    assertThat(MultipartEtag.PerBlock.of(new SourceChecksum("MD5", "ab"), size, 8 * MIB))
        .as("a whole-file MD5")
        .isNull();
  }

  private static byte[] partDigest(
      MultipartEtag.PerBlock check, byte[] data, int index, int partBytes) {
    MultipartEtag.PartHash hash = check.partHash();
    int from = index * partBytes;
    hash.update(ByteBuffer.wrap(data, from, Math.min(partBytes, data.length - from)));
    return hash.finish();
  }

  static String md5OfPartMd5s(byte[] data, int partBytes) throws Exception {
    MessageDigest outer = MessageDigest.getInstance("MD5");
    for (int off = 0; off < data.length; off += partBytes) {
      MessageDigest part = MessageDigest.getInstance("MD5");
      part.update(data, off, Math.min(partBytes, data.length - off));
      outer.update(part.digest());
    }
    return HexFormat.of().formatHex(outer.digest());
  }

  @Test
  void manifestsKeepTheMatchedPartSizeAndTheIntegrityLevel() throws Exception {
    SourceChecksum matched =
        SourceChecksum.multipart("0123456789abcdef0123456789abcdef", 3, 8 * MIB);
    Manifest m = new Manifest(
        ModelSource.parse("s3://b/m/"),
        MIB,
        java.time.Instant.EPOCH,
        List.of(
            new ManifestFile(
                "a",
                "m/a",
                20 * MIB,
                "0123456789abcdef0123456789abcdef-3",
                null,
                matched,
                new int[20]),
            new ManifestFile(
                "b",
                "m/b",
                3,
                "900150983cd24fb0d6963f7d28e17f72",
                null,
                new SourceChecksum("MD5", "900150983cd24fb0d6963f7d28e17f72"),
                new int[1]),
            new ManifestFile(
                "c", "m/c", 3, "x", null, new SourceChecksum("SHA-256", "ab"), new int[1]),
            new ManifestFile("d", "m/d", 3, "y-2", null, null, new int[1])));
    Manifest read = Manifest.parse(java.nio.file.Path.of("manifest.json"), m.toJson());
    assertThat(read.files()).isEqualTo(m.files());
    assertThat(read.files())
        .extracting(ManifestFile::integrity)
        .containsExactly(
            Integrity.ETAG_MULTIPART,
            Integrity.ETAG_MD5,
            Integrity.SOURCE_CHECKSUM,
            Integrity.UNVERIFIED);
    assertThat(m.toJson())
        .contains("\"parts\": 3, \"partSizeBytes\": 8388608")
        .contains("\"integrity\": \"etag-multipart\"");
  }
}
