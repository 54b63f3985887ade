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
 * The record of completed ranges of one staging directory: fixed 16-byte records (file index,
 * block index, the block's CRC32C, and a CRC32C of those 12 bytes). A record is appended only
 * after its block's bytes were written, so a record names bytes that reached the file; a torn
 * last record (a crash mid-append) fails its own check and ends the journal there.
 *
 * <p>Records are not fsynced one by one: after a crash the adopter re-reads each journaled block
 * and keeps it only if its CRC32C still matches, which also covers data lost with a power cut.
 */
final class Journal implements AutoCloseable {

  static final int RECORD_BYTES = 16;

  record Entry(int fileIndex, int blockIndex, int crc32c) {}

  private final FileChannel channel;

  private Journal(FileChannel channel) {
    this.channel = channel;
  }

  static Journal openForAppend(Path file) throws IOException {
    return new Journal(FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND));
  }

  /** Appends one record. Thread-safe. */
  void append(int fileIndex, int blockIndex, int crc32c) throws IOException {
    ByteBuffer record = ByteBuffer.allocate(RECORD_BYTES);
    record.putInt(fileIndex).putInt(blockIndex).putInt(crc32c);
    CRC32C check = new CRC32C();
    check.update(record.array(), 0, 12);
    record.putInt((int) check.getValue()).flip();
    synchronized (this) {
      while (record.hasRemaining()) {
        channel.write(record);
      }
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  /** Reads every intact record, stopping at the first torn or damaged one. */
  static List<Entry> read(Path file) throws IOException {
    List<Entry> entries = new ArrayList<>();
    byte[] bytes;
    try {
      bytes = java.nio.file.Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return entries;
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    while (buf.remaining() >= RECORD_BYTES) {
      int start = buf.position();
      int fileIndex = buf.getInt();
      int blockIndex = buf.getInt();
      int crc = buf.getInt();
      int check = buf.getInt();
      CRC32C c = new CRC32C();
      c.update(bytes, start, 12);
      if ((int) c.getValue() != check || fileIndex < 0 || blockIndex < 0) {
        break;
      }
      entries.add(new Entry(fileIndex, blockIndex, crc));
    }
    return entries;
  }
}
