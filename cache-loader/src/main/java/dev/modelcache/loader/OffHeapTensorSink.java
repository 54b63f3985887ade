package dev.modelcache.loader;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Copies each tensor into its own contiguous off-heap segment (64-byte aligned). By default the
 * segments are owned by one shared arena that {@link #close()} frees; with
 * {@link #create(SegmentAllocator)} they come from the caller's allocator (a preallocated slab,
 * pinned host memory), which the caller owns and frees.
 *
 * <p>Use it for one load at a time (see {@link TensorSink}); the accessors are synchronized, so
 * any thread may read {@link #segment} once the load returned. After {@code close()}, {@link #segment} throws
 * {@link ClosedModelException}.
 */
public final class OffHeapTensorSink implements TensorSink, AutoCloseable {
  private static final long ALIGNMENT = 64;
  private final Arena arena;
  private final SegmentAllocator allocator;
  private final Map<String, MemorySegment> segments = new LinkedHashMap<>();
  private MemorySegment current;
  private volatile boolean closed;

  private OffHeapTensorSink(Arena arena, SegmentAllocator allocator) {
    this.arena = arena;
    this.allocator = allocator;
  }

  /** A new, empty sink that owns its memory. */
  // The arena is owned, and closed, by the returned sink.
  @SuppressWarnings("MustBeClosedChecker")
  public static OffHeapTensorSink create() {
    Arena arena = Arena.ofShared();
    return new OffHeapTensorSink(arena, arena);
  }

  /**
   * A new, empty sink that takes each tensor's memory from {@code allocator} (for example
   * {@link SegmentAllocator#slicingAllocator} over a slab reused across loads). The caller owns
   * that memory; {@link #close()} only ends this sink's use of it.
   */
  public static OffHeapTensorSink create(SegmentAllocator allocator) {
    return new OffHeapTensorSink(null, Objects.requireNonNull(allocator, "allocator"));
  }

  @Override
  public void beginTensor(TensorInfo tensor) {
    ensureOpen();
    current =
        allocator.allocate(Math.max(1, tensor.byteSize()), ALIGNMENT).asSlice(0, tensor.byteSize());
  }

  @Override
  public void chunk(TensorInfo tensor, long offsetInTensor, MemorySegment bytes) {
    MemorySegment.copy(
        bytes,
        ValueLayout.JAVA_BYTE,
        0,
        current,
        ValueLayout.JAVA_BYTE,
        offsetInTensor,
        bytes.byteSize());
  }

  @Override
  public synchronized void endTensor(TensorInfo tensor) {
    segments.put(tensor.name(), current);
    current = null;
  }

  /**
   * The loaded bytes of a tensor.
   *
   * @throws IllegalArgumentException if no such tensor was loaded
   * @throws ClosedModelException if the sink is closed
   */
  public synchronized MemorySegment segment(String name) {
    ensureOpen();
    MemorySegment s = segments.get(Objects.requireNonNull(name, "name"));
    if (s == null) {
      throw new IllegalArgumentException("no tensor named '" + name + "' was loaded");
    }
    return s;
  }

  /** Names of the loaded tensors, in load order. */
  public synchronized java.util.Set<String> names() {
    return Collections.unmodifiableSet(new java.util.LinkedHashSet<>(segments.keySet()));
  }

  /** Total bytes held. */
  public synchronized long sizeBytes() {
    long sum = 0;
    for (MemorySegment s : segments.values()) {
      sum += s.byteSize();
    }
    return sum;
  }

  private void ensureOpen() {
    if (closed) {
      throw new ClosedModelException("off-heap tensor sink", null);
    }
  }

  /** Frees every segment (when the sink owns them). Idempotent. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    if (arena != null) {
      arena.close();
    }
  }
}
