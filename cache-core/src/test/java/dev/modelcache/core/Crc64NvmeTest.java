package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modelcache.core.spi.SourceChecksum;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** CRC-64/NVME against its published check value, whatever the buffer boundaries. */
class Crc64NvmeTest {

  @Test
  void theCheckValueOf123456789() {
    Crc64Nvme crc = new Crc64Nvme();
    crc.update("123456789".getBytes(StandardCharsets.US_ASCII));
    assertThat(crc.getValue()).isEqualTo(0xAE8B14860A799888L);
    crc.reset();
    assertThat(crc.getValue()).as("of nothing").isZero();
  }

  @Test
  void bytesFedInAnyPiecesGiveTheSameValue() {
    byte[] data = new byte[1_000_003];
    new Random(5).nextBytes(data);
    Crc64Nvme whole = new Crc64Nvme();
    whole.update(ByteBuffer.wrap(data));
    for (int piece : new int[] {1, 7, 8, 4096, 333_333}) {
      Crc64Nvme pieces = new Crc64Nvme();
      for (int off = 0; off < data.length; off += piece) {
        int n = Math.min(piece, data.length - off);
        if (piece == 1) {
          pieces.update(data[off]);
        } else {
          pieces.update(ByteBuffer.allocateDirect(n).put(data, off, n).flip());
        }
      }
      assertThat(pieces.getValue()).as("pieces of %d", piece).isEqualTo(whole.getValue());
    }
  }

  @Test
  void aFileIsCheckedAgainstAnS3Crc64Nvme() {
    var digest =
        FileVerifier.SourceDigest.of(new SourceChecksum("CRC64NVME", "ae8b14860a799888"), 9);
    digest.update(ByteBuffer.wrap("123456789".getBytes(StandardCharsets.US_ASCII)));
    assertThat(digest.mismatch(new ManifestFile("f", "k", 9, null, null, null, new int[0])))
        .isNull();
    var wrong =
        FileVerifier.SourceDigest.of(new SourceChecksum("CRC64NVME", "ae8b14860a799889"), 9);
    wrong.update(ByteBuffer.wrap("123456789".getBytes(StandardCharsets.US_ASCII)));
    assertThat(wrong
            .mismatch(new ManifestFile("f", "k", 9, null, null, null, new int[0]))
            .reason())
        .isEqualTo("CRC64NVME of the file is ae8b14860a799888, the source says ae8b14860a799889");
  }
}
