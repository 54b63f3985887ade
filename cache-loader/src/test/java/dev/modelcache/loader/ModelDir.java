package dev.modelcache.loader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A sharded model written for read-through tests: {@code shards} files of {@code tensorsPerShard}
 * tensors of varied sizes (one of zero bytes), and a {@code config.json} that is cached but not
 * loaded. Remembers every tensor's bytes in the order a load must deliver them.
 */
final class ModelDir {

  final Path dir;
  final List<String> shards = new ArrayList<>();
  /** Every tensor's bytes, in file order then offset order. */
  final Map<String, byte[]> tensors = new LinkedHashMap<>();

  long totalBytes;

  private ModelDir(Path dir) {
    this.dir = dir;
  }

  static ModelDir write(Path dir, int shards, int tensorsPerShard, int maxTensorBytes, long seed)
      throws IOException {
    Files.createDirectories(dir);
    ModelDir m = new ModelDir(dir);
    Random random = new Random(seed);
    for (int s = 0; s < shards; s++) {
      String name = String.format("model-%05d-of-%05d.safetensors", s + 1, shards);
      SafetensorsWriter w = SafetensorsWriter.create().metadata("format", "pt");
      for (int t = 0; t < tensorsPerShard; t++) {
        String tensor = "layers." + s + "." + t + ".weight";
        int n = t == 1 ? 0 : 1 + random.nextInt(maxTensorBytes);
        byte[] data = new byte[n];
        random.nextBytes(data);
        w.tensor(tensor, Dtype.U8, new long[] {n}, data);
        m.tensors.put(tensor, data);
      }
      w.write(dir.resolve(name));
      m.shards.add(name);
    }
    Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"Test\"]}\n");
    try (var files = Files.list(dir)) {
      for (Path p : files.toList()) {
        m.totalBytes += Files.size(p);
      }
    }
    return m;
  }

  /** The tensors of {@code shard}, in the order they are delivered. */
  List<String> tensorsOf(String shard) throws IOException {
    return SafetensorsFile.open(dir.resolve(shard)).tensors().stream()
        .map(TensorInfo::name)
        .toList();
  }
}
