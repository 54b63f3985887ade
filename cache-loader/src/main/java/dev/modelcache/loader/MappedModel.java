package dev.modelcache.loader;

import dev.modelcache.common.nativeio.MemoryAdvice;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A model whose files are memory-mapped, giving zero-copy, read-only views of its tensors.
 *
 * <p>One shared {@link Arena} owns every mapping; {@link #close()} unmaps them all at once. The
 * views from {@link #tensor(String)} are slices that own nothing. After {@code close()} the
 * methods of this class throw {@link ClosedModelException}, also when the close races with a
 * call on another thread; a view obtained earlier is dead too, and touching it directly raises
 * the JDK's {@code IllegalStateException}, which is why {@link #copy} exists. Files over 2 GiB
 * are mapped whole (offsets are {@code long}).
 *
 * <p>Thread-safe: any thread may read and any thread may close.
 */
public final class MappedModel implements AutoCloseable {
  private final SafetensorsModel model;
  private final Arena arena;
  private final Map<java.nio.file.Path, MemorySegment> mappings;
  private volatile boolean closed;

  private MappedModel(
      SafetensorsModel model, Arena arena, Map<java.nio.file.Path, MemorySegment> mappings) {
    this.model = model;
    this.arena = arena;
    this.mappings = mappings;
  }

  /**
   * Maps every file of a model read-only.
   *
   * @param model the validated model
   * @return the mapped model; close it to unmap
   * @throws IOException if a file cannot be mapped or has changed size since it was validated
   */
  // The arena is closed here on failure and otherwise owned by the returned model's close().
  @SuppressWarnings("MustBeClosedChecker")
  public static MappedModel map(SafetensorsModel model) throws IOException {
    Objects.requireNonNull(model, "model");
    Arena arena = Arena.ofShared();
    boolean success = false;
    try {
      Map<java.nio.file.Path, MemorySegment> mappings = new HashMap<>();
      for (SafetensorsFile f : model.files()) {
        try (FileChannel ch = FileChannel.open(f.path(), StandardOpenOption.READ)) {
          if (ch.size() != f.sizeBytes()) {
            throw new IOException(f.path() + ": file is " + ch.size() + " bytes now but was "
                + f.sizeBytes() + " when validated");
          }
          MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, f.sizeBytes(), arena);
          PageCache.advise(seg, MemoryAdvice.WILL_NEED);
          mappings.put(f.path(), seg);
        }
      }
      MappedModel mapped = new MappedModel(model, arena, mappings);
      success = true;
      return mapped;
    } finally {
      if (!success) {
        arena.close();
      }
    }
  }

  /** The model that was mapped. */
  public SafetensorsModel model() {
    return model;
  }

  private TensorInfo info(String name) {
    return model
        .tensor(name)
        .orElseThrow(() ->
            new IllegalArgumentException("no tensor named '" + name + "' in " + model.path()));
  }

  /**
   * A zero-copy, read-only view of a tensor's bytes, valid until {@link #close()}.
   *
   * @throws IllegalArgumentException if the model has no such tensor
   * @throws ClosedModelException if this model is closed
   */
  public MemorySegment tensor(String name) {
    TensorInfo t = info(name);
    ensureOpen();
    try {
      return mappings.get(t.file()).asSlice(t.fileOffset(), t.byteSize()).asReadOnly();
    } catch (IllegalStateException e) {
      throw closedException(e);
    }
  }

  /**
   * Copies part of a tensor into {@code dst}, safely against a concurrent {@link #close()}.
   *
   * @param name the tensor
   * @param offsetInTensor first byte to copy
   * @param dst destination; {@code dst.byteSize()} bytes are copied
   * @throws IndexOutOfBoundsException if the range is outside the tensor
   * @throws ClosedModelException if this model is closed, before or during the copy
   */
  public void copy(String name, long offsetInTensor, MemorySegment dst) {
    TensorInfo t = info(name);
    Objects.checkFromIndexSize(offsetInTensor, dst.byteSize(), t.byteSize());
    ensureOpen();
    try {
      MemorySegment.copy(
          mappings.get(t.file()),
          ValueLayout.JAVA_BYTE,
          t.fileOffset() + offsetInTensor,
          dst,
          ValueLayout.JAVA_BYTE,
          0,
          dst.byteSize());
    } catch (IllegalStateException e) {
      throw closedException(e);
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new ClosedModelException("mapped model " + model.path(), null);
    }
  }

  private RuntimeException closedException(IllegalStateException e) {
    if (closed || !arena.scope().isAlive()) {
      return new ClosedModelException("mapped model " + model.path(), e);
    }
    return e;
  }

  /** Whether {@link #close()} was called. */
  public boolean isClosed() {
    return closed;
  }

  /** Unmaps every file. Idempotent; views obtained from this model become invalid. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    arena.close();
  }
}
