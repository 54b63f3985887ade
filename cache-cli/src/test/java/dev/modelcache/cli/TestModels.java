package dev.modelcache.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Writes small safetensors files byte by byte, so tests control every header field, valid or not.
 */
final class TestModels {

  private TestModels() {}

  /** A tensor to write: its header entry is derived from dtype, shape and the data's position. */
  record Tensor(String name, String dtype, long[] shape, byte[] data) {}

  /** Deterministic pseudo-random bytes. */
  static byte[] bytes(int size, long seed) {
    var b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Writes a valid file holding {@code tensors} in order. */
  static Path write(Path file, Tensor... tensors) throws IOException {
    var header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
    long offset = 0;
    for (Tensor t : tensors) {
      header
          .append(",\"")
          .append(t.name())
          .append("\":{\"dtype\":\"")
          .append(t.dtype())
          .append("\",\"shape\":[");
      for (int i = 0; i < t.shape().length; i++) {
        header.append(i == 0 ? "" : ",").append(t.shape()[i]);
      }
      header
          .append("],\"data_offsets\":[")
          .append(offset)
          .append(',')
          .append(offset + t.data().length)
          .append("]}");
      offset += t.data().length;
    }
    header.append('}');
    var data = new java.io.ByteArrayOutputStream();
    for (Tensor t : tensors) {
      data.writeBytes(t.data());
    }
    return writeRaw(file, header.toString(), data.toByteArray());
  }

  /** Writes the length prefix, the header text (padded with spaces to 8 bytes) and the data as given. */
  static Path writeRaw(Path file, String header, byte[] data) throws IOException {
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8;
    var buf = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
    buf.putLong(padded).put(json);
    for (int i = json.length; i < padded; i++) {
      buf.put((byte) ' ');
    }
    buf.put(data);
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.write(file, buf.array());
    return file;
  }

  /** A two-shard model with an index, about {@code 2 * kib} KiB of tensor data. */
  static Path sharded(Path dir, int kib) throws IOException {
    Files.createDirectories(dir);
    write(
        dir.resolve("model-00001-of-00002.safetensors"),
        new Tensor(
            "model.embed_tokens.weight", "BF16", new long[] {kib, 512}, bytes(kib * 1024, 1)),
        new Tensor("model.norm.weight", "F32", new long[] {4}, bytes(16, 2)));
    write(
        dir.resolve("model-00002-of-00002.safetensors"),
        new Tensor("lm_head.weight", "F16", new long[] {512, kib}, bytes(kib * 1024, 3)));
    Files.writeString(
        dir.resolve("model.safetensors.index.json"), """
        {"metadata":{"total_size":%d},"weight_map":{
          "model.embed_tokens.weight":"model-00001-of-00002.safetensors",
          "model.norm.weight":"model-00001-of-00002.safetensors",
          "lm_head.weight":"model-00002-of-00002.safetensors"}}
        """.formatted(2L * kib * 1024 + 16));
    return dir;
  }

  static String sha256(byte[] data) throws Exception {
    return java.util.HexFormat.of()
        .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(data));
  }
}
