package dev.modelcache.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The record of completed ranges of one staging directory: one fixed 16-byte slot per block of
 * the model (file index, block index, the block's CRC32C, and a CRC32C of those 12 bytes), so the
 * journal has a known size and is preallocated with the data files: a disk that fills during the
 * download cannot stop it from recording progress. A slot is written only after its block's bytes
 * were written, so a valid slot names bytes that reached the file; an empty or torn slot fails its
 * own check and means "not done".
 *
 * <p>Slots are not fsynced one by one: after a crash the adopter re-reads each journaled block
 * and keeps it only if its CRC32C still matches, which also covers data lost with a power cut.
 */
final class Journal implements AutoCloseable {

  static final int SLOT_BYTES = 16;

  record Entry(int fileIndex, int blockIndex, int crc32c) {}

  private final FileChannel channel;
  private final long[] firstSlot;

  private Journal(FileChannel channel, long[] firstSlot) {
    this.channel = channel;
    this.firstSlot = firstSlot;
  }

  /** The journal's length for files of these block counts. */
  static long sizeBytes(int[] blockCounts) {
    long slots = 0;
    for (int n : blockCounts) {
      slots += n;
    }
    return slots * SLOT_BYTES;
  }

  static Journal open(Path file, int[] blockCounts) throws IOException {
    return new Journal(
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE),
        firstSlots(blockCounts));
  }

  /** Records block {@code blockIndex} of file {@code fileIndex} as written. Thread-safe. */
  void record(int fileIndex, int blockIndex, int crc32c) throws IOException {
    ByteBuffer slot = encode(fileIndex, blockIndex, crc32c);
    long pos = (firstSlot[fileIndex] + blockIndex) * SLOT_BYTES;
    while (slot.hasRemaining()) {
      pos += channel.write(slot, pos);
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  /** Reads every valid slot; empty, torn or misplaced slots are skipped. */
  static List<Entry> read(Path file, int[] blockCounts) throws IOException {
    List<Entry> entries = new ArrayList<>();
    byte[] bytes;
    try {
      bytes = java.nio.file.Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return entries;
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    int fileIndex = 0;
    int blockIndex = 0;
    for (int slot = 0; (long) (slot + 1) * SLOT_BYTES <= bytes.length; slot++) {
      while (fileIndex < blockCounts.length && blockIndex >= blockCounts[fileIndex]) {
        fileIndex++;
        blockIndex = 0;
      }
      if (fileIndex >= blockCounts.length) {
        break;
      }
      int start = slot * SLOT_BYTES;
      int fi = buf.getInt(start);
      int bi = buf.getInt(start + 4);
      int crc = buf.getInt(start + 8);
      int check = buf.getInt(start + 12);
      CRC32C c = new CRC32C();
      c.update(bytes, start, 12);
      if ((int) c.getValue() == check && fi == fileIndex && bi == blockIndex) {
        entries.add(new Entry(fi, bi, crc));
      }
      blockIndex++;
    }
    return entries;
  }

  private static ByteBuffer encode(int fileIndex, int blockIndex, int crc32c) {
    ByteBuffer slot = ByteBuffer.allocate(SLOT_BYTES);
    slot.putInt(fileIndex).putInt(blockIndex).putInt(crc32c);
    CRC32C check = new CRC32C();
    check.update(slot.array(), 0, 12);
    return slot.putInt((int) check.getValue()).flip();
  }

  private static long[] firstSlots(int[] blockCounts) {
    long[] first = new long[blockCounts.length];
    long next = 0;
    for (int i = 0; i < blockCounts.length; i++) {
      first[i] = next;
      next += blockCounts[i];
    }
    return first;
  }
}
