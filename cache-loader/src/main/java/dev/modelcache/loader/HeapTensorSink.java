package dev.modelcache.loader;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Copies each tensor into a {@code byte[]}: for small models and tests. A tensor larger than a
 * Java array can hold fails the load. Use it for one load at a time (see {@link TensorSink}).
 */
public final class HeapTensorSink implements TensorSink {
  private static final long MAX_ARRAY_BYTES = Integer.MAX_VALUE - 8;
  private final Map<String, byte[]> arrays = new LinkedHashMap<>();
  private byte[] current;

  /** A new, empty sink. */
  public HeapTensorSink() {}

  @Override
  public void beginTensor(TensorInfo tensor) throws IOException {
    if (tensor.byteSize() > MAX_ARRAY_BYTES) {
      throw new IOException("tensor '" + tensor.name() + "' has " + tensor.byteSize()
          + " bytes, more than a Java array holds; use OffHeapTensorSink");
    }
    current = new byte[(int) tensor.byteSize()];
  }

  @Override
  public void chunk(TensorInfo tensor, long offsetInTensor, MemorySegment bytes) {
    MemorySegment.copy(
        bytes, ValueLayout.JAVA_BYTE, 0, current, (int) offsetInTensor, (int) bytes.byteSize());
  }

  @Override
  public void endTensor(TensorInfo tensor) {
    arrays.put(tensor.name(), current);
    current = null;
  }

  /** The loaded tensors by name, in load order (the arrays are the sink's own, not copies). */
  public Map<String, byte[]> arrays() {
    return Collections.unmodifiableMap(arrays);
  }
}
