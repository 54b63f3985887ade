package dev.modelcache.loader;

import java.util.Optional;

/**
 * The element types a safetensors header may name, with their width in bits.
 *
 * <p>Sub-byte types ({@link #F4}, {@link #F6_E2M3}, {@link #F6_E3M2}) are packed: a tensor of
 * such a type is valid only when its element count times the width is a whole number of bytes.
 */
public enum Dtype {
  BOOL(8),
  F4(4),
  F6_E2M3(6),
  F6_E3M2(6),
  U8(8),
  I8(8),
  F8_E5M2(8),
  F8_E4M3(8),
  F8_E8M0(8),
  F8_E4M3FNUZ(8),
  F8_E5M2FNUZ(8),
  I16(16),
  U16(16),
  F16(16),
  BF16(16),
  I32(32),
  U32(32),
  F32(32),
  C64(64),
  F64(64),
  I64(64),
  U64(64);

  private final int bits;

  Dtype(int bits) {
    this.bits = bits;
  }

  /** Width of one element in bits (4, 6, 8, 16, 32 or 64). */
  public int bits() {
    return bits;
  }

  /**
   * Looks a dtype up by the exact (case-sensitive) name used in safetensors headers.
   *
   * @param name the header's {@code dtype} value
   * @return the dtype, or empty when the name is not one of the known types
   */
  public static Optional<Dtype> fromHeaderName(String name) {
    for (Dtype d : values()) {
      if (d.name().equals(name)) {
        return Optional.of(d);
      }
    }
    return Optional.empty();
  }

  /**
   * Byte size of a tensor of this type and shape, computed with overflow checks.
   *
   * @param shape the dimensions, each non-negative
   * @return the size in bytes
   * @throws ArithmeticException if the element count or bit count overflows a {@code long}, or
   *     the bits do not make whole bytes
   * @throws IllegalArgumentException if a dimension is negative
   */
  public long byteSize(long[] shape) {
    long elements = 1;
    for (long dim : shape) {
      if (dim < 0) {
        throw new IllegalArgumentException("negative dimension " + dim);
      }
      elements = Math.multiplyExact(elements, dim);
    }
    long totalBits = Math.multiplyExact(elements, (long) bits);
    if (totalBits % 8 != 0) {
      throw new ArithmeticException(
          elements + " elements of " + bits + " bits are not whole bytes");
    }
    return totalBits / 8;
  }
}
