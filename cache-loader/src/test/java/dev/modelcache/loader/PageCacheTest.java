package dev.modelcache.loader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** warm / drop / residentBytes on a real disk file (tests run with native access enabled). */
class PageCacheTest {
  @TempDir
  Path dir;

  private Path file() throws IOException {
    Path f = dir.resolve("m.safetensors");
    SafetensorsWriter.create()
        .tensor("t", Dtype.U8, new long[] {16L << 20}, (off, chunk) -> {
          for (long i = 0; i < chunk.byteSize(); i += 4096) {
            chunk.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (off + i));
          }
        })
        .write(f);
    return f;
  }

  @Test
  void dropThenWarmChangesResidency() throws IOException {
    assumeThat(PageCache.isControllable()).isTrue();
    Path f = file();
    long size = Files.size(f);
    assertThat(PageCache.drop(f)).isTrue();
    assertThat(PageCache.residentBytes(f).orElseThrow()).isLessThan(size / 4);
    assertThat(PageCache.warm(f)).isEqualTo(size);
    assertThat(PageCache.residentBytes(f).orElseThrow()).isEqualTo(size);
    assertThat(PageCache.drop(f)).isTrue();
    assertThat(PageCache.residentBytes(f).orElseThrow()).isLessThan(size / 4);
  }

  @Test
  void loaderCanDropPagesAfterLoading() throws IOException {
    assumeThat(PageCache.isControllable()).isTrue();
    Path f = file();
    for (ReadStrategy s : ReadStrategy.values()) {
      PageCache.warm(f);
      LoadResult r = Loader.builder()
          .strategy(s)
          .dropPagesAfterLoad(true)
          .build()
          .load(f, new DiscardTensorSink());
      assertThat(r.pagesDropped()).isTrue();
      assertThat(PageCache.residentBytes(f).orElseThrow())
          .as(s.name())
          .isLessThan(Files.size(f) / 4);
    }
  }

  @Test
  void directReadsLeaveThePageCacheCold() throws IOException {
    assumeThat(PageCache.isControllable()).isTrue();
    Path f = file();
    PageCache.drop(f);
    LoadResult r =
        Loader.builder().strategy(ReadStrategy.DIRECT).build().load(f, new DiscardTensorSink());
    assumeThat(r.usedStrategy()).isEqualTo(ReadStrategy.DIRECT);
    assertThat(PageCache.residentBytes(f).orElseThrow()).isLessThan(Files.size(f) / 4);
  }
}
