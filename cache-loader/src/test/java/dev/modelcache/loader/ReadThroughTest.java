package dev.modelcache.loader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.DownloadListener;
import dev.modelcache.core.EntryInUseException;
import dev.modelcache.core.IntegrityException;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ReadThrough} in one process: a miss streams and caches, a hit loads leased, failures commit nothing. */
class ReadThroughTest {

  static final int PART_BYTES = 64 << 10;

  @TempDir
  Path tmp;

  ModelDir model;
  ChecksummedStore store;
  ModelCache cache;
  ModelSource source;

  @BeforeEach
  void setUp() throws IOException {
    model = ModelDir.write(tmp.resolve("store/model"), 3, 6, 150_000, 42);
    store = new ChecksummedStore();
    cache = cache(4);
    source = ModelSource.of(ChecksummedStore.uri(model.dir));
  }

  private ModelCache cache(int concurrency) throws IOException {
    return ModelCache.builder()
        .root(tmp.resolve("cache"))
        .createRootIfMissing()
        .partSizeBytes(PART_BYTES)
        .concurrency(concurrency)
        .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(5))
        .backend(store)
        .build();
  }

  @AfterEach
  void tearDown() {
    cache.close();
  }

  private List<String> expectedOrder(List<String> shards) throws IOException {
    List<String> order = new ArrayList<>();
    for (String s : shards) {
      order.addAll(model.tensorsOf(s));
    }
    return order;
  }

  @Test
  void aMissHandsTensorsOverWhileTheModelDownloadsAndCommitsIt() throws Exception {
    CountDownLatch firstTensor = new CountDownLatch(1);
    AtomicBoolean tensorBeforeLastBlock = new AtomicBoolean();
    String lastShard = model.shards.getLast();
    long lastBlock = (Files.size(model.dir.resolve(lastShard)) - 1) / PART_BYTES * PART_BYTES;
    store.beforeRead = (o, offset, length) -> {
      if (o.relativePath().equals(lastShard) && offset == lastBlock) {
        try {
          tensorBeforeLastBlock.set(firstTensor.await(30, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    };
    List<String> events = new ArrayList<>();
    CheckingSink sink = new CheckingSink(model.tensors) {
      @Override
      public void beginTensor(TensorInfo tensor) throws IOException {
        super.beginTensor(tensor);
        firstTensor.countDown();
      }
    };
    ReadThroughResult r = ReadThrough.builder(cache)
        .listener(new DownloadListener() {
          @Override
          public synchronized void completed(CompletedEvent event) {
            events.add("completed");
          }
        })
        .build()
        .load(source, sink);

    assertThat(tensorBeforeLastBlock)
        .as("the sink had a tensor before the last block was fetched")
        .isTrue();
    assertThat(sink.arrivals).isEqualTo(expectedOrder(model.shards));
    assertThat(sink.failure).isNull();
    assertThat(r.cacheHit()).isFalse();
    assertThat(r.fetchedBytes()).isEqualTo(model.totalBytes);
    assertThat(r.load().tensorCount()).isEqualTo(model.tensors.size());
    assertThat(r.load().fileCount()).isEqualTo(3);
    assertThat(r.load().bytesLoaded())
        .isEqualTo(model.tensors.values().stream().mapToLong(b -> b.length).sum());
    // Positional reads of what the read-back left in the page cache.
    assertThat(r.load().usedStrategy()).isEqualTo(ReadStrategy.BUFFERED);
    assertThat(events).containsExactly("completed");
    CacheEntry entry = cache.getIfPresent(source).orElseThrow();
    assertThat(r.entry().name()).isEqualTo(entry.name());
    for (String f : List.of(model.shards.getFirst(), "config.json")) {
      assertThat(Files.readAllBytes(entry.file(f)))
          .isEqualTo(Files.readAllBytes(model.dir.resolve(f)));
    }

    int readsBefore = store.reads.size();
    CheckingSink again = new CheckingSink(model.tensors);
    ReadThroughResult hit = ReadThrough.builder(cache).build().load(source, again);
    assertThat(hit.cacheHit()).isTrue();
    assertThat(hit.fetchedBytes()).isZero();
    assertThat(again.arrivals).isEqualTo(expectedOrder(model.shards));
    assertThat(store.reads).hasSize(readsBefore);
  }

  @Test
  void headersAreFetchedFirstThenBlocksInTheOrderTheSinkAsksFor() throws Exception {
    cache.close();
    cache = cache(1); // one transfer thread: the reads follow the queue exactly
    List<String> reversed = model.shards.reversed();
    CheckingSink sink = new CheckingSink(model.tensors);
    ReadThrough.builder(cache).fileOrder(List::reversed).build().load(source, sink);

    assertThat(sink.arrivals).isEqualTo(expectedOrder(reversed));
    List<ChecksummedStore.Read> reads = store.reads;
    for (int i = 0; i < reversed.size(); i++) {
      assertThat(reads.get(i))
          .as("read %d", i)
          .isEqualTo(new ChecksummedStore.Read(reversed.get(i), 0, (int)
              Math.min(PART_BYTES, Files.size(model.dir.resolve(reversed.get(i))))));
    }
    List<ChecksummedStore.Read> expected = new ArrayList<>();
    for (String shard : reversed) {
      long size = Files.size(model.dir.resolve(shard));
      for (long off = PART_BYTES; off < size; off += PART_BYTES) {
        expected.add(new ChecksummedStore.Read(shard, off, (int) Math.min(PART_BYTES, size - off)));
      }
    }
    expected.add(new ChecksummedStore.Read(
        "config.json", 0, (int) Files.size(model.dir.resolve("config.json"))));
    assertThat(reads.subList(reversed.size(), reads.size())).isEqualTo(expected);
  }

  @Test
  void aHitLoadsUnderALease() throws Exception {
    cache.ensure(source, DownloadListener.NONE);
    AtomicReference<Exception> evictWhileLoading = new AtomicReference<>();
    CheckingSink sink = new CheckingSink(model.tensors) {
      @Override
      public void beginTensor(TensorInfo tensor) throws IOException {
        super.beginTensor(tensor);
        if (evictWhileLoading.get() == null) {
          try {
            cache.evict(source);
            evictWhileLoading.set(new IllegalStateException("evicted"));
          } catch (EntryInUseException e) {
            evictWhileLoading.set(e);
          }
        }
      }
    };
    ReadThroughResult r = ReadThrough.builder(cache).build().load(source, sink);

    assertThat(r.cacheHit()).isTrue();
    assertThat(evictWhileLoading.get())
        .as("eviction while the load held its lease")
        .isInstanceOf(EntryInUseException.class)
        .hasMessageContaining("1 live lease");
    assertThat(sink.arrivals).isEqualTo(expectedOrder(model.shards));
    assertThat(cache.evict(source))
        .as("evicted once the load released its lease")
        .isTrue();
  }

  @Test
  void aByteFlippedOnTheWayFailsTheLoadTellsTheSinkAndCommitsNothing() throws Exception {
    String bad = model.shards.get(1);
    store.flipByte(bad, Files.size(model.dir.resolve(bad)) / 2, 1);
    // The flipped byte reaches the sink before the file's checksum is known: bytes are not checked.
    // The last range of the bad shard is held until the first shard's tensors have all arrived, so
    // the failure is certain to come after them.
    List<String> firstShard = model.tensorsOf(model.shards.getFirst());
    CountDownLatch firstShardLoaded = new CountDownLatch(1);
    CheckingSink sink = new CheckingSink(model.tensors, false) {
      @Override
      public void beginTensor(TensorInfo tensor) throws IOException {
        super.beginTensor(tensor);
        if (tensor.name().equals(firstShard.getLast())) {
          firstShardLoaded.countDown();
        }
      }
    };
    long badSize = Files.size(model.dir.resolve(bad));
    store.beforeRead = (o, off, len) -> {
      if (o.relativePath().equals(bad) && off + len == badSize) {
        try {
          assertThat(firstShardLoaded.await(60, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new java.io.InterruptedIOException();
        }
      }
    };
    ReadThrough readThrough = ReadThrough.builder(cache).build();

    assertThatThrownBy(() -> readThrough.load(source, sink))
        .isInstanceOf(IntegrityException.class)
        .hasMessageContaining(bad)
        .hasMessageContaining("does not match the source")
        .hasMessageContaining("nothing was committed");
    assertThat(sink.failure).isInstanceOf(IntegrityException.class);
    assertThat(((IntegrityException) sink.failure).path()).isEqualTo(bad);
    assertThat(sink.arrivals)
        .as("tensors arrived before the verification failed")
        .containsAll(firstShard);
    assertThat(cache.getIfPresent(source)).isEmpty();
    assertThat(cache.list().entries()).isEmpty();
    assertThat(cache.list().downloads())
        .as("the staging directory was discarded")
        .isEmpty();

    // Without a reader, the same fault is healed by fetching the file again.
    store.beforeRead = (o, off, len) -> {};
    store.flipByte(bad, Files.size(model.dir.resolve(bad)) / 2, 1);
    cache.ensure(source, DownloadListener.NONE);
    CheckingSink after = new CheckingSink(model.tensors);
    assertThat(readThrough.load(source, after).cacheHit()).isTrue();
    assertThat(after.failure).isNull();
  }

  @Test
  void aFailingSinkEndsTheLoadButNotTheDownload() throws Exception {
    IOException refused = new IOException("device out of memory");
    CheckingSink sink = new CheckingSink(model.tensors) {
      @Override
      public void beginTensor(TensorInfo tensor) throws IOException {
        super.beginTensor(tensor);
        if (arrivals.size() == 3) {
          throw refused;
        }
      }
    };

    assertThatThrownBy(() -> ReadThrough.builder(cache).build().load(source, sink))
        .isInstanceOf(TensorSinkException.class)
        .hasCause(refused);
    assertThat(sink.failure).isInstanceOf(TensorSinkException.class);
    assertThat(sink.arrivals).hasSize(3);
    CacheEntry entry = cache.await(source, Duration.ofMinutes(1));
    assertThat(Files.readAllBytes(entry.file(model.shards.getLast())))
        .isEqualTo(Files.readAllBytes(model.dir.resolve(model.shards.getLast())));
  }

  @Test
  void anInterruptEndsTheLoadButNotTheDownload() throws Exception {
    CheckingSink sink = new CheckingSink(model.tensors) {
      @Override
      public void endTensor(TensorInfo tensor) throws IOException {
        super.endTensor(tensor);
        if (arrivals.size() == 2) {
          Thread.currentThread().interrupt();
        }
      }
    };
    try {
      assertThatThrownBy(() -> ReadThrough.builder(cache).build().load(source, sink))
          .isInstanceOf(java.io.InterruptedIOException.class);
    } finally {
      assertThat(Thread.interrupted()).as("the interrupt is kept").isTrue();
    }
    assertThat(sink.failure).isInstanceOf(java.io.InterruptedIOException.class);
    assertThat(sink.arrivals).hasSize(2);
    assertThat(cache.await(source, Duration.ofMinutes(1)).source()).isEqualTo(source);
  }

  @Test
  void withoutModelFilesTheLoadSaysSoAfterCachingTheSource() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("store/plain"));
    Files.writeString(dir.resolve("README.md"), "no weights here\n");
    ModelSource plain = ModelSource.of(ChecksummedStore.uri(dir));
    CheckingSink sink = new CheckingSink(model.tensors);

    assertThatThrownBy(() -> ReadThrough.builder(cache).build().load(plain, sink))
        .isInstanceOf(SafetensorsFormatException.class)
        .hasMessageContaining("no *.safetensors file");
    assertThat(sink.failure).isInstanceOf(SafetensorsFormatException.class);
    assertThat(cache.getIfPresent(plain)).isPresent();
  }
}
