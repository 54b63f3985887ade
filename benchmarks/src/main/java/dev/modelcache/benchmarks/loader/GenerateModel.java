package dev.modelcache.benchmarks.loader;

import dev.modelcache.loader.Dtype;
import dev.modelcache.loader.SafetensorsModel;
import dev.modelcache.loader.SafetensorsWriter;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes the benchmark model once: {@code shards} safetensors files with an index, filled with
 * pseudo-random bytes (so nothing along the way can compress or deduplicate them), in a mix of
 * tensor sizes like a transformer's (large projection matrices, small norms and biases).
 *
 * <p>Usage: {@code GenerateModel DIR TOTAL_MIB SHARDS}. Does nothing if {@code DIR} already holds
 * a valid model of that size.
 */
public final class GenerateModel {
  private GenerateModel() {}

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    long totalBytes = Long.parseLong(args[1]) << 20;
    int shards = Integer.parseInt(args[2]);
    if (Files.exists(dir.resolve(SafetensorsModel.INDEX_FILE_NAME))) {
      try {
        SafetensorsModel existing = SafetensorsModel.open(dir);
        if (existing.dataSizeBytes() >= totalBytes) {
          System.out.printf(
              Locale.ROOT,
              "model exists: %s, %d files, %.2f GiB%n",
              dir,
              existing.files().size(),
              existing.dataSizeBytes() / (double) (1L << 30));
          return;
        }
      } catch (IOException e) {
        System.out.println("regenerating: " + e.getMessage());
      }
    }
    Files.createDirectories(dir);
    long perShard = totalBytes / shards;
    Map<String, String> weightMap = new LinkedHashMap<>();
    int layer = 0;
    for (int s = 1; s <= shards; s++) {
      String fileName = String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", s, shards);
      SafetensorsWriter w = SafetensorsWriter.create().metadata("format", "pt");
      long written = 0;
      while (written < perShard) {
        String prefix = "model.layers." + layer + ".";
        // 4096 x 4096 BF16 = 32 MiB; 4096 x 11008 BF16 = 86 MiB; norms 8 KiB; an odd-sized bias.
        long[][] shapes = {{4096, 4096}, {4096, 4096}, {11008, 4096}, {4096}, {4099}};
        String[] names = {
          "self_attn.q_proj.weight",
          "self_attn.o_proj.weight",
          "mlp.up_proj.weight",
          "input_layernorm.weight",
          "bias"
        };
        for (int i = 0; i < shapes.length && written < perShard; i++) {
          String name = prefix + names[i];
          long size = Dtype.BF16.byteSize(shapes[i]);
          long seed = name.hashCode();
          w.tensor(name, Dtype.BF16, shapes[i], (off, chunk) -> {
            SplittableRandom r = new SplittableRandom(seed ^ off);
            long n = chunk.byteSize() / 8 * 8;
            for (long p = 0; p < n; p += 8) {
              chunk.set(ValueLayout.JAVA_LONG_UNALIGNED, p, r.nextLong());
            }
            for (long p = n; p < chunk.byteSize(); p++) {
              chunk.set(ValueLayout.JAVA_BYTE, p, (byte) r.nextInt());
            }
          });
          weightMap.put(name, fileName);
          written += size;
        }
        layer++;
      }
      w.write(dir.resolve(fileName));
      System.out.printf(
          Locale.ROOT, "wrote %s (%.2f GiB)%n", fileName, written / (double) (1L << 30));
    }
    StringBuilder index = new StringBuilder("{\"metadata\":{\"total_size\":0},\"weight_map\":{");
    boolean first = true;
    for (Map.Entry<String, String> e : weightMap.entrySet()) {
      index
          .append(first ? "" : ",")
          .append('"')
          .append(e.getKey())
          .append("\":\"")
          .append(e.getValue())
          .append('"');
      first = false;
    }
    index.append("}}");
    Files.writeString(dir.resolve(SafetensorsModel.INDEX_FILE_NAME), index);
    SafetensorsModel m = SafetensorsModel.open(dir);
    System.out.printf(
        Locale.ROOT,
        "model ready: %d files, %d tensors, %.2f GiB%n",
        m.files().size(),
        m.tensors().size(),
        m.dataSizeBytes() / (double) (1L << 30));
  }
}
