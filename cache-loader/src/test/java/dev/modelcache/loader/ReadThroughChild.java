package dev.modelcache.loader;

import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;

/**
 * The program a test runs in a separate JVM to read a model through the cache as another process
 * on the node.
 *
 * <pre>
 * ROOT MODEL_DIR HOLD_FILE GO_FILE
 * </pre>
 *
 * Waits for GO_FILE (unless "-"), then loads {@code rt://MODEL_DIR/} through ROOT into a SHA-256
 * sink. Unless HOLD_FILE is "-", reads of the second half of the model's last shard wait until
 * HOLD_FILE exists. Output lines: READY, TENSOR name (as each tensor begins), LOADED hit fetched
 * tensors digest (the SHA-256 of the per-tensor digests), ERROR class message.
 */
public final class ReadThroughChild {

  private ReadThroughChild() {}

  public static void main(String[] args) throws Exception {
    Path root = Path.of(args[0]);
    Path modelDir = Path.of(args[1]);
    Path hold = args[2].equals("-") ? null : Path.of(args[2]);
    Path go = args[3].equals("-") ? null : Path.of(args[3]);
    ChecksummedStore store = new ChecksummedStore();
    if (hold != null) {
      String last;
      try (var files = Files.list(modelDir)) {
        last = files
            .map(p -> p.getFileName().toString())
            .filter(n -> n.endsWith(".safetensors"))
            .sorted()
            .reduce((a, b) -> b)
            .orElseThrow();
      }
      long half = Files.size(modelDir.resolve(last)) / 2;
      store.beforeRead = (o, offset, length) -> {
        if (o.relativePath().equals(last) && offset >= half) {
          awaitFile(hold);
        }
      };
    }
    try (ModelCache cache = ModelCache.builder()
        .root(root)
        .createRootIfMissing()
        .partSizeBytes(ReadThroughTest.PART_BYTES)
        .concurrency(2)
        .pollInterval(Duration.ofMillis(20))
        .backend(store)
        .build()) {
      System.out.println("READY");
      System.out.flush();
      if (go != null) {
        awaitFile(go);
      }
      DigestTensorSink digests = DigestTensorSink.of(DigestTensorSink.Algorithm.SHA_256);
      TensorSink sink = new TensorSink() {
        @Override
        public void beginTensor(TensorInfo tensor) throws IOException {
          System.out.println("TENSOR " + tensor.name());
          System.out.flush();
          digests.beginTensor(tensor);
        }

        @Override
        public void chunk(
            TensorInfo tensor, long offsetInTensor, java.lang.foreign.MemorySegment bytes)
            throws IOException {
          digests.chunk(tensor, offsetInTensor, bytes);
        }

        @Override
        public void endTensor(TensorInfo tensor) throws IOException {
          digests.endTensor(tensor);
        }
      };
      ReadThroughResult r = ReadThrough.builder(cache)
          .build()
          .load(ModelSource.of(ChecksummedStore.uri(modelDir)), sink);
      System.out.println("LOADED " + r.cacheHit() + " " + r.fetchedBytes() + " "
          + r.load().tensorCount() + " " + summary(digests));
    } catch (IOException | RuntimeException e) {
      System.out.println("ERROR " + e.getClass().getName() + " " + e.getMessage());
      e.printStackTrace(System.out);
      System.exit(1);
    }
  }

  /** The SHA-256 of a sink's per-tensor digests, in load order. */
  static String summary(DigestTensorSink sink) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    return HexFormat.of()
        .formatHex(md.digest(sink.digests().toString().getBytes(StandardCharsets.UTF_8)));
  }

  private static void awaitFile(Path file) throws java.io.InterruptedIOException {
    // Another process creates it; a file is the only signal both share.
    while (!Files.exists(file)) {
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted waiting for " + file);
      }
    }
  }
}
