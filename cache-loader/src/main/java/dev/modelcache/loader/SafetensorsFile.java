package dev.modelcache.loader;

import dev.modelcache.loader.internal.HeaderParser;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The validated header of one safetensors file: its tensors and its {@code __metadata__}.
 *
 * <p>Immutable and thread-safe. It holds no open file: {@link #open(Path)} reads and validates
 * the header and closes the file again; reading tensor bytes is the job of {@link Loader} or
 * {@link MappedModel}.
 */
public final class SafetensorsFile {
  private final Path path;
  private final long sizeBytes;
  private final long headerSizeBytes;
  private final List<TensorInfo> tensors;
  private final Map<String, TensorInfo> byName;
  private final Map<String, String> metadata;

  private SafetensorsFile(
      Path path,
      long sizeBytes,
      long headerSizeBytes,
      List<TensorInfo> tensors,
      Map<String, String> metadata) {
    this.path = path;
    this.sizeBytes = sizeBytes;
    this.headerSizeBytes = headerSizeBytes;
    this.tensors = List.copyOf(tensors);
    Map<String, TensorInfo> map = new LinkedHashMap<>();
    for (TensorInfo t : tensors) {
      map.put(t.name(), t);
    }
    this.byName = map;
    this.metadata = metadata;
  }

  /**
   * Reads and validates the header of a safetensors file.
   *
   * <p>The length prefix is checked against the file size before any buffer is allocated, so a
   * hostile file cannot make this allocate more than the file holds (and never more than
   * 100,000,000 bytes for the header).
   *
   * @param path the file
   * @return the validated header
   * @throws SafetensorsFormatException if the file breaks a rule of the format
   * @throws IOException if the file cannot be read
   */
  public static SafetensorsFile open(Path path) throws IOException {
    Objects.requireNonNull(path, "path");
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 8) {
        throw new SafetensorsFormatException(
            path,
            null,
            SafetensorsFormatException.Rule.FILE_TOO_SHORT,
            "the file has " + size + " bytes");
      }
      ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, prefix, 0, path);
      int n = HeaderParser.checkHeaderLength(path, size, prefix.getLong(0));
      ByteBuffer header = ByteBuffer.allocate(n);
      readFully(ch, header, 8, path);
      return fromHeader(path, size, header.array());
    }
  }

  /**
   * Validates {@code header}, the JSON bytes after the length prefix of a file of
   * {@code sizeBytes} at {@code path}, whose length was checked with
   * {@link HeaderParser#checkHeaderLength}: for a reader that has the header's bytes before the
   * file is whole.
   */
  static SafetensorsFile fromHeader(Path path, long sizeBytes, byte[] header)
      throws SafetensorsFormatException {
    HeaderParser.Parsed parsed = HeaderParser.parse(path, sizeBytes, header);
    return new SafetensorsFile(
        path, sizeBytes, header.length, parsed.tensorsByOffset(), parsed.metadata());
  }

  private static void readFully(FileChannel ch, ByteBuffer dst, long position, Path path)
      throws IOException {
    long pos = position;
    while (dst.hasRemaining()) {
      int r = ch.read(dst, pos);
      if (r < 0) {
        throw new EOFException(path + ": file shrank while reading its header at offset " + pos);
      }
      pos += r;
    }
  }

  /** The file's path, as given to {@link #open(Path)}. */
  public Path path() {
    return path;
  }

  /** Size of the whole file in bytes. */
  public long sizeBytes() {
    return sizeBytes;
  }

  /** The header length N (the JSON bytes, without the 8-byte prefix). */
  public long headerSizeBytes() {
    return headerSizeBytes;
  }

  /** Absolute file offset of the data section: {@code 8 + N}. */
  public long dataOffset() {
    return 8 + headerSizeBytes;
  }

  /** Size of the data section in bytes: the sum of all tensor sizes. */
  public long dataSizeBytes() {
    return sizeBytes - dataOffset();
  }

  /** The tensors, sorted by their position in the file (immutable). */
  public List<TensorInfo> tensors() {
    return tensors;
  }

  /** The tensor with this name, if the file has it. */
  public Optional<TensorInfo> tensor(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** The {@code __metadata__} map (immutable, empty when absent). */
  public Map<String, String> metadata() {
    return metadata;
  }

  @Override
  public String toString() {
    return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors, " + sizeBytes + " bytes]";
  }
}
