package dev.modelcache.cli;

import dev.modelcache.common.json.JsonObject;
import dev.modelcache.common.json.JsonWriter;
import dev.modelcache.loader.Dtype;
import dev.modelcache.loader.SafetensorsWriter;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A generated model with the tensor names and shapes of a Llama decoder (embeddings, per-layer
 * attention with grouped-query K/V, gated MLP, RMS norms, LM head) in BF16, sharded the way
 * Hugging Face saves large models: {@code model-0000N-of-0000M.safetensors} plus
 * {@code model.safetensors.index.json}. The bytes are pseudo-random, so nothing along the way can
 * take a shortcut for zeros.
 *
 * @param hiddenSize the model width
 * @param intermediateSize the MLP width
 * @param layers the decoder layers
 * @param vocabSize the vocabulary
 * @param sizeBytes bytes of tensor data
 * @param tensors the number of tensors
 * @param files the shard files, in order
 */
record DemoModel(
    int hiddenSize,
    int intermediateSize,
    int layers,
    int vocabSize,
    long sizeBytes,
    int tensors,
    List<Path> files) {

  private static final int VOCAB = 32_000;
  private static final int BYTES_PER_PARAM = 2; // BF16
  private static final long SHARD_TARGET_BYTES = 512L << 20;

  /** One tensor of the plan. */
  private record Planned(String name, long[] shape) {
    long bytes() {
      long n = BYTES_PER_PARAM;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }
  }

  /**
   * Writes a model of about {@code targetBytes} into {@code dir} (which must be empty or absent).
   * The width is the largest power of two that still leaves at least 8 layers.
   */
  static DemoModel write(Path dir, long targetBytes, Progress progress) throws IOException {
    int hidden = 8192;
    int layers;
    while (true) {
      layers = (int) ((targetBytes - embeddingBytes(hidden)) / layerBytes(hidden));
      if (layers >= 8 || hidden <= 64) {
        break;
      }
      hidden /= 2;
    }
    layers = Math.max(1, layers);
    int intermediate = hidden * 7 / 2;
    int kv = Math.max(1, hidden / 4);

    List<Planned> plan = new ArrayList<>();
    plan.add(new Planned("model.embed_tokens.weight", new long[] {VOCAB, hidden}));
    for (int i = 0; i < layers; i++) {
      String p = "model.layers." + i + ".";
      plan.add(new Planned(p + "input_layernorm.weight", new long[] {hidden}));
      plan.add(new Planned(p + "self_attn.q_proj.weight", new long[] {hidden, hidden}));
      plan.add(new Planned(p + "self_attn.k_proj.weight", new long[] {kv, hidden}));
      plan.add(new Planned(p + "self_attn.v_proj.weight", new long[] {kv, hidden}));
      plan.add(new Planned(p + "self_attn.o_proj.weight", new long[] {hidden, hidden}));
      plan.add(new Planned(p + "post_attention_layernorm.weight", new long[] {hidden}));
      plan.add(new Planned(p + "mlp.gate_proj.weight", new long[] {intermediate, hidden}));
      plan.add(new Planned(p + "mlp.up_proj.weight", new long[] {intermediate, hidden}));
      plan.add(new Planned(p + "mlp.down_proj.weight", new long[] {hidden, intermediate}));
    }
    plan.add(new Planned("model.norm.weight", new long[] {hidden}));
    plan.add(new Planned("lm_head.weight", new long[] {VOCAB, hidden}));

    long total = plan.stream().mapToLong(Planned::bytes).sum();
    int shardCount =
        (int) Math.max(2, Math.min(99, (total + SHARD_TARGET_BYTES - 1) / SHARD_TARGET_BYTES));
    long perShard = (total + shardCount - 1) / shardCount;
    List<List<Planned>> shards = new ArrayList<>();
    List<Planned> current = new ArrayList<>();
    long currentBytes = 0;
    for (Planned t : plan) {
      if (!current.isEmpty()
          && currentBytes + t.bytes() > perShard
          && shards.size() < shardCount - 1) {
        shards.add(current);
        current = new ArrayList<>();
        currentBytes = 0;
      }
      current.add(t);
      currentBytes += t.bytes();
    }
    shards.add(current);

    Files.createDirectories(dir);
    Map<String, String> weightMap = new LinkedHashMap<>();
    List<Path> files = new ArrayList<>();
    int seed = 0;
    for (int s = 0; s < shards.size(); s++) {
      String name =
          String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", s + 1, shards.size());
      var writer = SafetensorsWriter.create().metadata("format", "pt");
      for (Planned t : shards.get(s)) {
        long tensorSeed = ++seed;
        writer.tensor(t.name(), Dtype.BF16, t.shape(), (offset, chunk) -> {
          fill(chunk, tensorSeed, offset);
          progress.advance(chunk.byteSize());
        });
        weightMap.put(t.name(), name);
      }
      writer.write(dir.resolve(name));
      files.add(dir.resolve(name));
    }
    Files.writeString(
        dir.resolve("model.safetensors.index.json"),
        JsonWriter.compact(JsonObject.create()
            .put("metadata", JsonObject.create().put("total_size", total))
            .put("weight_map", weightMap)));
    Files.writeString(
        dir.resolve("config.json"),
        JsonObject.create()
            .put("architectures", List.of("LlamaForCausalLM"))
            .put("model_type", "llama")
            .put("hidden_size", hidden)
            .put("intermediate_size", intermediate)
            .put("num_hidden_layers", layers)
            .put("num_attention_heads", Math.max(1, hidden / 128))
            .put("num_key_value_heads", Math.max(1, kv / 128))
            .put("vocab_size", VOCAB)
            .put("torch_dtype", "bfloat16")
            .toString());
    return new DemoModel(
        hidden, intermediate, layers, VOCAB, total, plan.size(), List.copyOf(files));
  }

  private static long embeddingBytes(int hidden) {
    return 2L * VOCAB * hidden * BYTES_PER_PARAM;
  }

  private static long layerBytes(int hidden) {
    long h = hidden;
    long kv = Math.max(1, h / 4);
    long i = h * 7 / 2;
    return (2 * h * h + 2 * kv * h + 3 * i * h + 2 * h) * BYTES_PER_PARAM;
  }

  /** Deterministic pseudo-random bytes for a piece of a tensor. */
  private static void fill(MemorySegment chunk, long tensorSeed, long offset) {
    var random = new SplittableRandom(tensorSeed * 0x9E3779B97F4A7C15L ^ offset);
    long size = chunk.byteSize();
    long at = 0;
    for (; at + 8 <= size; at += 8) {
      chunk.set(ValueLayout.JAVA_LONG_UNALIGNED, at, random.nextLong());
    }
    for (; at < size; at++) {
      chunk.set(ValueLayout.JAVA_BYTE, at, (byte) random.nextInt());
    }
  }
}
