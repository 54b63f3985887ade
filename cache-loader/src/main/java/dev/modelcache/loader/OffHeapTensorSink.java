package dev.modelcache.loader;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Copies each tensor into its own contiguous off-heap segment (64-byte aligned), owned by one
 * shared arena that {@link #close()} frees.
 *
 * <p>Use it for one load at a time (see {@link TensorSink}); reading {@link #segment} from any
 * thread after the load returned is safe. After {@code close()}, {@link #segment} throws
 * {@link ClosedModelException}.
 */
public final class OffHeapTensorSink implements TensorSink, AutoCloseable {
    private static final long ALIGNMENT = 64;
    private final Arena arena = Arena.ofShared();
    private final Map<String, MemorySegment> segments = new LinkedHashMap<>();
    private MemorySegment current;
    private volatile boolean closed;

    private OffHeapTensorSink() {
    }

    /** A new, empty sink. */
    public static OffHeapTensorSink create() {
        return new OffHeapTensorSink();
    }

    @Override
    public void beginTensor(TensorInfo tensor) {
        ensureOpen();
        current = arena.allocate(Math.max(1, tensor.byteSize()), ALIGNMENT).asSlice(0, tensor.byteSize());
    }

    @Override
    public void chunk(TensorInfo tensor, long offsetInTensor, MemorySegment bytes) {
        MemorySegment.copy(bytes, ValueLayout.JAVA_BYTE, 0, current, ValueLayout.JAVA_BYTE, offsetInTensor, bytes.byteSize());
    }

    @Override
    public void endTensor(TensorInfo tensor) {
        segments.put(tensor.name(), current);
        current = null;
    }

    /**
     * The loaded bytes of a tensor.
     *
     * @throws IllegalArgumentException if no such tensor was loaded
     * @throws ClosedModelException if the sink is closed
     */
    public MemorySegment segment(String name) {
        ensureOpen();
        MemorySegment s = segments.get(Objects.requireNonNull(name, "name"));
        if (s == null) {
            throw new IllegalArgumentException("no tensor named '" + name + "' was loaded");
        }
        return s;
    }

    /** Names of the loaded tensors, in load order. */
    public java.util.Set<String> names() {
        return Collections.unmodifiableSet(segments.keySet());
    }

    /** Total bytes held. */
    public long sizeBytes() {
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

    /** Frees every segment. Idempotent. */
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
