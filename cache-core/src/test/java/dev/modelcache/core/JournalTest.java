package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal's slots: what is read back, and that empty, torn, misplaced and surplus slots are not. */
class JournalTest {
  @TempDir
  Path dir;

  private static byte[] slot(int fileIndex, int blockIndex, int crc, boolean validCheck) {
    ByteBuffer b = ByteBuffer.allocate(16).putInt(fileIndex).putInt(blockIndex).putInt(crc);
    CRC32C c = new CRC32C();
    c.update(b.array(), 0, 12);
    b.putInt(validCheck ? (int) c.getValue() : (int) c.getValue() ^ 1);
    return b.array();
  }

  private static byte[] concat(byte[]... parts) {
    ByteBuffer b = ByteBuffer.allocate(
        java.util.Arrays.stream(parts).mapToInt(p -> p.length).sum());
    for (byte[] p : parts) {
      b.put(p);
    }
    return b.array();
  }

  @Test
  void sizeIsSixteenBytesPerBlock() {
    assertThat(Journal.sizeBytes(new int[0])).isZero();
    assertThat(Journal.sizeBytes(new int[] {3, 0, 2})).isEqualTo(80);
    assertThat(Journal.sizeBytes(new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE}))
        .isEqualTo(16L * 2 * Integer.MAX_VALUE);
  }

  @Test
  void recordedSlotsAreReadBackInSlotOrder() throws Exception {
    Path file = dir.resolve("journal");
    int[] counts = {2, 0, 3};
    try (Journal j = Journal.open(file, counts)) {
      j.record(2, 2, 0xCAFEBABE);
      j.record(0, 1, -1);
      j.record(2, 0, 7);
    }
    assertThat(Files.size(file)).isEqualTo(16L * (2 + 3));
    assertThat(Journal.read(file, counts))
        .containsExactly(
            new Journal.Entry(0, 1, -1),
            new Journal.Entry(2, 0, 7),
            new Journal.Entry(2, 2, 0xCAFEBABE));
  }

  @Test
  void slotBytesAreTheDocumentedLayout() throws Exception {
    Path file = dir.resolve("journal");
    try (Journal j = Journal.open(file, new int[] {1, 2})) {
      j.record(1, 1, 0x01020304);
    }
    byte[] bytes = Files.readAllBytes(file);
    assertThat(bytes).hasSize(48);
    assertThat(java.util.Arrays.copyOfRange(bytes, 32, 48)).isEqualTo(slot(1, 1, 0x01020304, true));
    assertThat(java.util.Arrays.copyOfRange(bytes, 0, 32)).containsOnly(0);
  }

  @Test
  void missingJournalHasNoEntries() throws Exception {
    assertThat(Journal.read(dir.resolve("none"), new int[] {4})).isEmpty();
  }

  @Test
  void emptyTornAndMisplacedSlotsAreSkipped() throws Exception {
    int[] counts = {1, 2};
    Path file = Files.write(
        dir.resolve("journal"),
        concat(
            slot(0, 0, 11, false), // torn: check does not match
            slot(1, 1, 12, true), // valid bytes, but in the slot of (1, 0)
            slot(1, 1, 13, true))); // right place
    assertThat(Journal.read(file, counts)).containsExactly(new Journal.Entry(1, 1, 13));
    Path zeros = Files.write(dir.resolve("zeros"), new byte[48]);
    assertThat(Journal.read(zeros, counts)).isEmpty();
  }

  @Test
  void slotOfAnotherFileIndexIsSkipped() throws Exception {
    Path file =
        Files.write(dir.resolve("journal"), concat(slot(1, 0, 5, true), slot(0, 0, 6, true)));
    assertThat(Journal.read(file, new int[] {1, 1})).isEmpty();
  }

  @Test
  void surplusAndPartialSlotsAreIgnored() throws Exception {
    byte[] partial = java.util.Arrays.copyOf(slot(0, 1, 9, true), 15);
    Path file = Files.write(dir.resolve("journal"), concat(slot(0, 0, 8, true), partial));
    assertThat(Journal.read(file, new int[] {2})).containsExactly(new Journal.Entry(0, 0, 8));
    Path surplus =
        Files.write(dir.resolve("surplus"), concat(slot(0, 0, 8, true), slot(0, 1, 9, true)));
    assertThat(Journal.read(surplus, new int[] {1})).containsExactly(new Journal.Entry(0, 0, 8));
    assertThat(Journal.read(surplus, new int[0])).isEmpty();
    assertThat(Journal.read(surplus, new int[] {0, 0, 2})).isEmpty();
    Path exact =
        Files.write(dir.resolve("exact"), concat(slot(0, 0, 8, true), slot(0, 1, 9, true)));
    assertThat(Journal.read(exact, new int[] {2})).hasSize(2);
  }

  @Test
  void emptyFilesBetweenAreSkippedWhenPlacingSlots() throws Exception {
    Path file = Files.write(
        dir.resolve("journal"),
        concat(slot(0, 0, 1, true), slot(3, 0, 2, true), slot(3, 1, 3, true)));
    assertThat(Journal.read(file, new int[] {1, 0, 0, 2}))
        .containsExactly(
            new Journal.Entry(0, 0, 1), new Journal.Entry(3, 0, 2), new Journal.Entry(3, 1, 3));
  }

  @Test
  void recordingTwiceKeepsTheLastWrite() throws Exception {
    Path file = dir.resolve("journal");
    try (Journal j = Journal.open(file, new int[] {1})) {
      j.record(0, 0, 1);
      j.record(0, 0, 2);
    }
    assertThat(Journal.read(file, new int[] {1})).isEqualTo(List.of(new Journal.Entry(0, 0, 2)));
  }
}
