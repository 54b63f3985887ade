package dev.modelcache.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A file channel that passes everything to a real one ({@link ForwardingFileChannel}), except
 * that a test decides what a positional write does: a disk that stores other bytes than it was
 * given, or that fails. Given to
 * the engine through {@link ModelCache.Builder#directOpener}, it stands for the O_DIRECT channel;
 * it opens the file without O_DIRECT, so it works on any file system.
 */
final class InterceptedChannel extends ForwardingFileChannel {

  /** What a positional write does instead; {@code real} is {@code file}, opened to read and write. */
  interface Write {
    int write(Path file, FileChannel real, ByteBuffer src, long position) throws IOException;
  }

  private final Path file;
  private final Write write;

  private InterceptedChannel(Path file, FileChannel real, Write write) {
    super(real);
    this.file = file;
    this.write = write;
  }

  /** An opener whose channels write through {@code write}. */
  static DirectIo.Opener opener(Write write) {
    return file -> new InterceptedChannel(
        file, FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE), write);
  }

  /** Writes {@code src} in full at {@code position}, as the kernel would. */
  static int writeFully(FileChannel ch, ByteBuffer src, long position) throws IOException {
    int n = 0;
    while (src.hasRemaining()) {
      n += ch.write(src, position + n);
    }
    return n;
  }

  /** Flips the byte at {@code position} of the file behind {@code ch} (a channel {@link #opener} gave). */
  static void flip(FileChannel ch, long position) throws IOException {
    ByteBuffer one = ByteBuffer.allocate(1);
    ch.read(one, position);
    one.put(0, (byte) ~one.get(0)).rewind();
    writeFully(ch, one, position);
  }

  @Override
  public int write(ByteBuffer src, long position) throws IOException {
    return write.write(file, delegate, src, position);
  }
}
