package dev.modelcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.DownloadListener;
import dev.modelcache.core.Lease;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import dev.modelcache.loader.Dtype;
import dev.modelcache.loader.LoadResult;
import dev.modelcache.loader.Loader;
import dev.modelcache.loader.OffHeapTensorSink;
import dev.modelcache.loader.ReadStrategy;
import dev.modelcache.loader.SafetensorsWriter;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The library example of the top-level README: it must compile, run against a real {@code file:}
 * source, and stay identical to the text of the README.
 */
class ReadmeLibraryExampleTest {

  private static final String BEGIN = "// --- README library example begins ---";
  private static final String END = "// --- README library example ends ---";

  @TempDir
  Path tmp;

  private byte[] firstLayer;

  @Test
  void theExampleDownloadsLeasesAndLoadsAModel() throws Exception {
    Path source = Files.createDirectories(tmp.resolve("bucket/llama-tiny"));
    byte[] weights = new byte[4096 * 4];
    for (int i = 0; i < weights.length; i++) {
      weights[i] = (byte) (i * 31 + 7);
    }
    SafetensorsWriter.create()
        .tensor("model.layers.0.mlp.up_proj.weight", Dtype.F32, new long[] {64, 64}, weights)
        .tensor("model.norm.weight", Dtype.F32, new long[] {64}, new byte[256])
        .write(source.resolve("model.safetensors"));
    Path cacheRoot = Files.createDirectories(tmp.resolve("cache"));

    LoadResult result = example(cacheRoot, source.toUri().toString());

    assertThat(result.bytesLoaded()).isEqualTo(weights.length + 256);
    assertThat(firstLayer).isEqualTo(weights);
    try (ModelCache cache = ModelCache.builder().root(cacheRoot).build()) {
      assertThat(cache.getIfPresent(ModelSource.parse(source.toUri().toString())))
          .isPresent();
    }
  }

  @Test
  void theReadmeShowsThisExampleVerbatim() throws IOException {
    String readme = Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8);
    String test = Files.readString(
        Path.of("src/test/java/dev/modelcache/cli/ReadmeLibraryExampleTest.java"),
        StandardCharsets.UTF_8);
    assertThat(normalized(between(readme))).isEqualTo(normalized(between(test)));
  }

  private void handToDevice(MemorySegment tensor) {
    firstLayer = tensor.toArray(ValueLayout.JAVA_BYTE); // a real sink would copy to the GPU here
  }

  private LoadResult example(Path cacheRoot, String uri) throws IOException {
    // --- README library example begins ---
    try (ModelCache cache = ModelCache.builder().root(cacheRoot).build()) {
      CacheEntry entry = cache.ensure(ModelSource.parse(uri), DownloadListener.NONE);
      try (Lease lease = cache.lease(entry);
          OffHeapTensorSink sink = OffHeapTensorSink.create()) {
        Loader loader = Loader.builder().strategy(ReadStrategy.DIRECT).build();
        LoadResult result = loader.load(lease.directory(), sink);
        handToDevice(sink.segment("model.layers.0.mlp.up_proj.weight"));
        return result;
      }
    }
    // --- README library example ends ---
  }

  private static String between(String text) {
    // Markers count only as whole lines, so the constants above do not match themselves.
    Matcher m = Pattern.compile(
            "^\\s*" + Pattern.quote(BEGIN) + "\\s*$(.*?)^\\s*" + Pattern.quote(END) + "\\s*$",
            Pattern.DOTALL | Pattern.MULTILINE)
        .matcher(text);
    assertThat(m.find()).as("markers in text").isTrue();
    return m.group(1);
  }

  private static List<String> normalized(String code) {
    return code.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
  }
}
