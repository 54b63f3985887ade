package dev.modelcache.loader;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Writes a safetensors file: collect tensors and metadata, then {@link #write(Path)}.
 *
 * <pre>{@code
 * SafetensorsWriter.create()
 *     .metadata("format", "pt")
 *     .tensor("w", Dtype.F32, new long[] {2, 3}, bytes)
 *     .write(Path.of("model.safetensors"));
 * }</pre>
 *
 * <p>Tensors are laid out in the order they were added, back to back from offset 0; the header
 * is padded with spaces so the data section starts at a multiple of 8 bytes. The file is written
 * to a temporary file next to the target, re-read and validated, then moved into place, so a
 * failure leaves no partial file under the target name. Not thread-safe. Data given as
 * {@code MemorySegment} or {@code byte[]} is referenced, not copied, until {@code write}.
 */
public final class SafetensorsWriter {
  private static final int FILL_BUFFER_BYTES = 8 << 20;

  /**
   * Produces a tensor's bytes piece by piece at write time, for tensors too large to hold.
   */
  @FunctionalInterface
  public interface Content {
    /**
     * Fills {@code chunk} with the bytes at {@code [offsetInTensor, offsetInTensor + chunk.byteSize())}.
     *
     * @throws IOException to abort the write
     */
    void fill(long offsetInTensor, MemorySegment chunk) throws IOException;
  }

  private record Entry(
      String name, Dtype dtype, long[] shape, long byteSize, MemorySegment data, Content content) {}

  private final Map<String, String> metadata = new LinkedHashMap<>();
  private final List<Entry> entries = new ArrayList<>();
  private final Set<String> names = new LinkedHashSet<>();

  private SafetensorsWriter() {}

  /** A writer with no tensors and no metadata. */
  public static SafetensorsWriter create() {
    return new SafetensorsWriter();
  }

  /** Adds a {@code __metadata__} entry (replacing an earlier value for the key). */
  public SafetensorsWriter metadata(String key, String value) {
    metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
    return this;
  }

  /**
   * Adds a tensor whose bytes are {@code data}.
   *
   * @throws IllegalArgumentException if the name is taken or reserved, the shape is invalid,
   *     or {@code data} has another size than dtype and shape give
   */
  public SafetensorsWriter tensor(String name, Dtype dtype, long[] shape, MemorySegment data) {
    long size = check(name, dtype, shape);
    if (data.byteSize() != size) {
      throw new IllegalArgumentException(String.format(
          Locale.ROOT,
          "tensor '%s': %s%s needs %d bytes but %d were given",
          name,
          dtype,
          Arrays.toString(shape),
          size,
          data.byteSize()));
    }
    entries.add(new Entry(name, dtype, shape.clone(), size, data, null));
    return this;
  }

  /** Adds a tensor whose bytes are {@code data}; see {@link #tensor(String, Dtype, long[], MemorySegment)}. */
  public SafetensorsWriter tensor(String name, Dtype dtype, long[] shape, byte[] data) {
    return tensor(name, dtype, shape, MemorySegment.ofArray(data));
  }

  /** Adds a tensor whose bytes {@code content} produces at write time. */
  public SafetensorsWriter tensor(String name, Dtype dtype, long[] shape, Content content) {
    long size = check(name, dtype, shape);
    entries.add(new Entry(
        name, dtype, shape.clone(), size, null, Objects.requireNonNull(content, "content")));
    return this;
  }

  /**
   * Adds a tensor of zero bytes that is not written but left as a hole, so that on file
   * systems with sparse files it costs no disk.
   */
  public SafetensorsWriter zeros(String name, Dtype dtype, long[] shape) {
    long size = check(name, dtype, shape);
    entries.add(new Entry(name, dtype, shape.clone(), size, null, null));
    return this;
  }

  private long check(String name, Dtype dtype, long[] shape) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(shape, "shape");
    if (name.equals("__metadata__")) {
      throw new IllegalArgumentException("'__metadata__' is reserved and cannot name a tensor");
    }
    if (names.contains(name)) {
      throw new IllegalArgumentException("tensor '" + name + "' was already added");
    }
    long size;
    try {
      size = dtype.byteSize(shape);
    } catch (ArithmeticException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "tensor '" + name + "': invalid shape " + Arrays.toString(shape) + " for " + dtype + ": "
              + e.getMessage(),
          e);
    }
    names.add(name);
    return size;
  }

  /** The header JSON, padded with spaces so that 8 + its length is a multiple of 8. */
  private byte[] header() {
    StringBuilder sb = new StringBuilder("{");
    if (!metadata.isEmpty()) {
      sb.append("\"__metadata__\":{");
      boolean first = true;
      for (Map.Entry<String, String> e : metadata.entrySet()) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        quote(sb, e.getKey());
        sb.append(':');
        quote(sb, e.getValue());
      }
      sb.append('}');
    }
    long offset = 0;
    for (Entry e : entries) {
      if (sb.length() > 1) {
        sb.append(',');
      }
      quote(sb, e.name());
      sb.append(":{\"dtype\":\"").append(e.dtype().name()).append("\",\"shape\":[");
      for (int i = 0; i < e.shape().length; i++) {
        if (i > 0) {
          sb.append(',');
        }
        sb.append(e.shape()[i]);
      }
      sb.append("],\"data_offsets\":[").append(offset).append(',');
      offset = Math.addExact(offset, e.byteSize());
      sb.append(offset).append("]}");
    }
    sb.append('}');
    byte[] json = sb.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8;
    byte[] header = Arrays.copyOf(json, padded);
    Arrays.fill(header, json.length, padded, (byte) ' ');
    return header;
  }

  private static void quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }

  /**
   * Writes the file atomically and validates it by reading its header back.
   *
   * @param target the file to create or replace
   * @return the validated header of the written file
   * @throws IOException if writing fails (the target is then untouched)
   */
  public SafetensorsFile write(Path target) throws IOException {
    byte[] header = header();
    if (header.length > 100_000_000) {
      throw new IOException(
          target + ": header of " + header.length + " bytes exceeds the format's 100000000");
    }
    Path abs = target.toAbsolutePath();
    // Not Files.createTempFile: its 0600 permissions would stick to the model file.
    Path tmp = abs.resolveSibling(
        "." + abs.getFileName() + "." + Long.toHexString(System.nanoTime()) + ".tmp");
    Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)
        .close();
    boolean success = false;
    try {
      long dataStart = 8L + header.length;
      long end = dataStart;
      try (FileChannel ch =
          FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer prefix =
            ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
        writeFully(ch, prefix, 0);
        writeFully(ch, ByteBuffer.wrap(header), 8);
        try (Arena arena = Arena.ofConfined()) {
          MemorySegment fill = null;
          for (Entry e : entries) {
            if (e.data() != null) {
              for (long off = 0; off < e.byteSize(); off += FILL_BUFFER_BYTES) {
                long n = Math.min(FILL_BUFFER_BYTES, e.byteSize() - off);
                writeFully(ch, e.data().asSlice(off, n).asByteBuffer(), end + off);
              }
            } else if (e.content() != null) {
              if (fill == null) {
                fill = arena.allocate(FILL_BUFFER_BYTES, 4096);
              }
              for (long off = 0; off < e.byteSize(); off += FILL_BUFFER_BYTES) {
                MemorySegment piece =
                    fill.asSlice(0, Math.min(FILL_BUFFER_BYTES, e.byteSize() - off));
                e.content().fill(off, piece);
                writeFully(ch, piece.asByteBuffer(), end + off);
              }
            }
            end += e.byteSize();
          }
        }
        if (ch.size() < end) {
          // Trailing holes: one byte at the end sets the length without allocating blocks.
          writeFully(ch, ByteBuffer.allocate(1), end - 1);
        }
        ch.force(true);
      }
      SafetensorsFile.open(tmp); // validates what was written before it takes the target's name
      Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      success = true;
      return SafetensorsFile.open(abs);
    } finally {
      if (!success) {
        Files.deleteIfExists(tmp);
      }
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer src, long position) throws IOException {
    long pos = position;
    while (src.hasRemaining()) {
      pos += ch.write(src, pos);
    }
  }
}
