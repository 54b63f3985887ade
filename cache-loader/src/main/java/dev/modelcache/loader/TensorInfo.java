package dev.modelcache.loader;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * Metadata of one tensor of a safetensors file, as validated from its header.
 *
 * <p>Offsets come in two frames: {@code dataBegin}/{@code dataEnd} are the header's
 * {@code data_offsets}, relative to the start of the data section; {@code fileOffset} is the
 * absolute position of the first byte in {@code file}. The shape array is copied in and out.
 *
 * @param name tensor name, unique within its model
 * @param dtype element type
 * @param shape dimensions (empty for a 0-rank scalar); a copy is returned
 * @param file the safetensors file holding the bytes
 * @param dataBegin first byte, relative to the data section
 * @param dataEnd one past the last byte, relative to the data section
 * @param fileOffset absolute position of the first byte in {@code file}
 */
public record TensorInfo(
    String name,
    Dtype dtype,
    long[] shape,
    Path file,
    long dataBegin,
    long dataEnd,
    long fileOffset) {

  /** Validates the invariants; copies {@code shape}. */
  public TensorInfo {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(file, "file");
    shape = shape.clone();
    if (dataBegin < 0 || dataEnd < dataBegin || fileOffset < 0) {
      throw new IllegalArgumentException(
          "bad offsets for " + name + ": [" + dataBegin + ", " + dataEnd + ") at " + fileOffset);
    }
    if (dtype.byteSize(shape) != dataEnd - dataBegin) {
      throw new IllegalArgumentException("size of " + name + " does not match its shape");
    }
  }

  /** A copy of the dimensions. */
  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** Number of dimensions (0 for a scalar). */
  public int rank() {
    return shape.length;
  }

  /** Number of elements (the product of the dimensions, 1 for a scalar). */
  public long elementCount() {
    long n = 1;
    for (long d : shape) {
      n *= d; // cannot overflow: validated at construction
    }
    return n;
  }

  /** Size of the tensor's bytes: {@code dataEnd - dataBegin}. */
  public long byteSize() {
    return dataEnd - dataBegin;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorInfo t
        && name.equals(t.name)
        && dtype == t.dtype
        && Arrays.equals(shape, t.shape)
        && file.equals(t.file)
        && dataBegin == t.dataBegin
        && dataEnd == t.dataEnd
        && fileOffset == t.fileOffset;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, dtype, Arrays.hashCode(shape), file, dataBegin, dataEnd, fileOffset);
  }

  @Override
  public String toString() {
    return name + " " + dtype + Arrays.toString(shape) + " [" + dataBegin + ", " + dataEnd + ") in "
        + file;
  }
}
