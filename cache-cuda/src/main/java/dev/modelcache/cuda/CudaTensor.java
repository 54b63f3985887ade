package dev.modelcache.cuda;

import dev.modelcache.loader.Dtype;
import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor in device memory: where it lies and what it is. The pointer is a CUDA device address
 * ({@code void*} on the device), valid until the {@link CudaTensorSink} that holds it is closed.
 *
 * @param name the tensor's name in the model
 * @param dtype its element type
 * @param shape its dimensions (a copy is returned)
 * @param byteSize its size in bytes
 * @param offset its offset in the sink's device allocation (a multiple of 256)
 * @param devicePointer the device address of its first byte
 */
public record CudaTensor(
    String name, Dtype dtype, long[] shape, long byteSize, long offset, long devicePointer) {

  /** Copies {@code shape}. */
  public CudaTensor {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dtype, "dtype");
    shape = shape.clone();
  }

  /** A copy of the dimensions. */
  @Override
  public long[] shape() {
    return shape.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CudaTensor t
        && name.equals(t.name)
        && dtype == t.dtype
        && Arrays.equals(shape, t.shape)
        && byteSize == t.byteSize
        && offset == t.offset
        && devicePointer == t.devicePointer;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, dtype, Arrays.hashCode(shape), byteSize, offset, devicePointer);
  }

  @Override
  public String toString() {
    return String.format(
        java.util.Locale.ROOT,
        "%s %s%s %d bytes at device 0x%x (offset %d)",
        name,
        dtype,
        Arrays.toString(shape),
        byteSize,
        devicePointer,
        offset);
  }
}
