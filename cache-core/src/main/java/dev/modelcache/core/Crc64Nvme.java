package dev.modelcache.core;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.Checksum;

/**
 * CRC-64/NVME (the checksum S3 computes for new objects by default): reflected polynomial
 * {@code 0x9A6C9329AC4BC9B5}, initial value and final XOR all ones, check value
 * {@code 0xAE8B14860A799888} for {@code "123456789"}. The JDK has no CRC-64; this is the usual
 * table-driven form, eight bytes a step (slicing by eight). Not thread-safe.
 */
final class Crc64Nvme implements Checksum {

  private static final long POLY = 0x9A6C9329AC4BC9B5L;
  private static final long[][] TABLES = tables();

  private long crc = -1L;

  private static long[][] tables() {
    long[][] t = new long[8][256];
    for (int i = 0; i < 256; i++) {
      long c = i;
      for (int k = 0; k < 8; k++) {
        c = (c & 1) != 0 ? (c >>> 1) ^ POLY : c >>> 1;
      }
      t[0][i] = c;
    }
    for (int i = 0; i < 256; i++) {
      for (int s = 1; s < 8; s++) {
        t[s][i] = (t[s - 1][i] >>> 8) ^ t[0][(int) (t[s - 1][i] & 0xff)];
      }
    }
    return t;
  }

  @Override
  public void update(int b) {
    crc = (crc >>> 8) ^ TABLES[0][(int) ((crc ^ b) & 0xff)];
  }

  @Override
  public void update(byte[] b, int off, int len) {
    update(ByteBuffer.wrap(b, off, len));
  }

  @Override
  public void update(ByteBuffer buf) {
    ByteBuffer in = buf.slice().order(ByteOrder.LITTLE_ENDIAN);
    long c = crc;
    long[] t0 = TABLES[0];
    long[] t1 = TABLES[1];
    long[] t2 = TABLES[2];
    long[] t3 = TABLES[3];
    long[] t4 = TABLES[4];
    long[] t5 = TABLES[5];
    long[] t6 = TABLES[6];
    long[] t7 = TABLES[7];
    int i = 0;
    int n = in.remaining();
    for (; i + 8 <= n; i += 8) {
      long x = c ^ in.getLong(i);
      c = t7[(int) (x & 0xff)]
          ^ t6[(int) ((x >>> 8) & 0xff)]
          ^ t5[(int) ((x >>> 16) & 0xff)]
          ^ t4[(int) ((x >>> 24) & 0xff)]
          ^ t3[(int) ((x >>> 32) & 0xff)]
          ^ t2[(int) ((x >>> 40) & 0xff)]
          ^ t1[(int) ((x >>> 48) & 0xff)]
          ^ t0[(int) (x >>> 56)];
    }
    for (; i < n; i++) {
      c = (c >>> 8) ^ t0[(int) ((c ^ in.get(i)) & 0xff)];
    }
    crc = c;
    buf.position(buf.limit());
  }

  /** The CRC so far; all 64 bits (a {@link Checksum} value, so signed when the top bit is set). */
  @Override
  public long getValue() {
    return ~crc;
  }

  @Override
  public void reset() {
    crc = -1L;
  }
}
