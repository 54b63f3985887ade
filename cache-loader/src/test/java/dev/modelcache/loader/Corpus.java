package dev.modelcache.loader;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Writes raw safetensors files byte by byte, so that tests can break any rule. */
final class Corpus {
  private Corpus() {}

  /** A file made of the 8-byte length of {@code header}, the header, and {@code dataBytes} bytes. */
  static Path raw(Path file, String header, long dataBytes) throws IOException {
    return raw(file, header.getBytes(StandardCharsets.UTF_8), dataBytes);
  }

  static Path raw(Path file, byte[] header, long dataBytes) throws IOException {
    return rawWithLength(file, header.length, header, dataBytes);
  }

  /** Like {@link #raw} but with any value in the length prefix. */
  static Path rawWithLength(Path file, long declaredLength, byte[] header, long dataBytes)
      throws IOException {
    ByteBuffer buf =
        ByteBuffer.allocate(8 + header.length + (int) dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    buf.putLong(declaredLength).put(header);
    byte[] data = new byte[(int) dataBytes];
    new SplittableRandom(dataBytes).nextBytes(data);
    buf.put(data);
    Files.write(file, buf.array());
    return file;
  }

  /** Random bytes, reproducible from the seed. */
  static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  /**
   * A model with tensors of awkward sizes (odd, zero, scalar, sub-byte) so that with small
   * blocks tensors straddle blocks and the header is not block-aligned.
   */
  static SafetensorsFile awkward(Path file, long seed) throws IOException {
    SplittableRandom r = new SplittableRandom(seed);
    SafetensorsWriter w =
        SafetensorsWriter.create().metadata("format", "pt").metadata("seed", Long.toString(seed));
    w.tensor("scalar", Dtype.F32, new long[] {}, bytes(4, r.nextLong()));
    w.tensor("empty", Dtype.F16, new long[] {3, 0, 7}, new byte[0]);
    w.tensor("odd", Dtype.U8, new long[] {4097}, bytes(4097, r.nextLong()));
    w.tensor("f4", Dtype.F4, new long[] {2, 3}, bytes(3, r.nextLong()));
    w.tensor("big", Dtype.BF16, new long[] {3, 50_001}, bytes(300_006, r.nextLong()));
    w.tensor("mid", Dtype.I64, new long[] {1000}, bytes(8000, r.nextLong()));
    w.tensor("tail-empty", Dtype.F32, new long[] {0}, new byte[0]);
    w.tensor("last", Dtype.U8, new long[] {13}, bytes(13, r.nextLong()));
    return w.write(file);
  }
}
