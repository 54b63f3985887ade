package dev.modelcache.cuda;

import dev.modelcache.loader.Dtype;
import dev.modelcache.loader.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** A small two-shard model whose tensors straddle 64 KiB blocks, with odd sizes and an empty tensor. */
final class TestModel {
  private TestModel() {}

  static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  static Path write(Path dir) throws IOException {
    Files.createDirectories(dir);
    SafetensorsWriter.create()
        .tensor("embed.weight", Dtype.BF16, new long[] {300, 257}, bytes(300 * 257 * 2, 1))
        .tensor("norm.weight", Dtype.F32, new long[] {257}, bytes(257 * 4, 2))
        .tensor("empty", Dtype.F16, new long[] {0, 8}, new byte[0])
        .tensor("scalar", Dtype.I64, new long[] {}, bytes(8, 3))
        .write(dir.resolve("model-00001-of-00002.safetensors"));
    SafetensorsWriter.create()
        .tensor("layer.0.q", Dtype.F16, new long[] {123, 457}, bytes(123 * 457 * 2, 4))
        .tensor("layer.0.bias", Dtype.U8, new long[] {3}, bytes(3, 5))
        .tensor("lm_head.weight", Dtype.F8_E4M3, new long[] {1000, 131}, bytes(1000 * 131, 6))
        .write(dir.resolve("model-00002-of-00002.safetensors"));
    return dir;
  }
}
