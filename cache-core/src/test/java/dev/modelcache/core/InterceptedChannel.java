package dev.modelcache.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A file channel that passes everything to a real one, except that a test decides what a
 * positional write does: a disk that stores other bytes than it was given, or that fails. Given to
 * the engine through {@link ModelCache.Builder#directOpener}, it stands for the O_DIRECT channel;
 * it opens the file without O_DIRECT, so it works on any file system.
 */
final class InterceptedChannel extends FileChannel {

  /** What a positional write does instead; {@code real} is {@code file}, opened to read and write. */
  interface Write {
    int write(Path file, FileChannel real, ByteBuffer src, long position) throws IOException;
  }

  private final Path file;
  private final FileChannel real;
  private final Write write;

  private InterceptedChannel(Path file, FileChannel real, Write write) {
    this.file = file;
    this.real = real;
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
    return write.write(file, real, src, position);
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    return real.read(dst);
  }

  @Override
  public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
    return real.read(dsts, offset, length);
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    return real.write(src);
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    return real.write(srcs, offset, length);
  }

  @Override
  public long position() throws IOException {
    return real.position();
  }

  @Override
  public FileChannel position(long newPosition) throws IOException {
    real.position(newPosition);
    return this;
  }

  @Override
  public long size() throws IOException {
    return real.size();
  }

  @Override
  public FileChannel truncate(long size) throws IOException {
    real.truncate(size);
    return this;
  }

  @Override
  public void force(boolean metaData) throws IOException {
    real.force(metaData);
  }

  @Override
  public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
    return real.transferTo(position, count, target);
  }

  @Override
  public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
    return real.transferFrom(src, position, count);
  }

  @Override
  public int read(ByteBuffer dst, long position) throws IOException {
    return real.read(dst, position);
  }

  @Override
  public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
    return real.map(mode, position, size);
  }

  @Override
  public FileLock lock(long position, long size, boolean shared) throws IOException {
    return real.lock(position, size, shared);
  }

  @Override
  public FileLock tryLock(long position, long size, boolean shared) throws IOException {
    return real.tryLock(position, size, shared);
  }

  @Override
  protected void implCloseChannel() throws IOException {
    real.close();
  }
}
