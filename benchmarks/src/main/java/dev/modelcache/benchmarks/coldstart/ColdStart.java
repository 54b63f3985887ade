package dev.modelcache.benchmarks.coldstart;

import dev.modelcache.benchmarks.Measurements;
import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.DownloadListener;
import dev.modelcache.core.Lease;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import dev.modelcache.core.spi.BackendOptions;
import dev.modelcache.core.spi.RemoteObject;
import dev.modelcache.core.spi.StorageBackend;
import dev.modelcache.core.spi.StorageBackendProvider;
import dev.modelcache.loader.DiscardTensorSink;
import dev.modelcache.loader.LoadResult;
import dev.modelcache.loader.Loader;
import dev.modelcache.loader.ReadStrategy;
import dev.modelcache.loader.ReadThrough;
import dev.modelcache.loader.ReadThroughResult;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * One cold start of a model server, timed phase by phase in a fresh JVM: what a pod does between
 * "the process started" and "the weights are in memory". {@code benchmarks/bench coldstart} starts one process per
 * measurement under {@code /usr/bin/time}, so each figure also has its own peak RSS.
 *
 * <pre>
 * ColdStart download-load CACHE_ROOT SOURCE [options]  empty cache: ensure (download, verify,
 *                                                       fsync, commit), then load the entry
 * ColdStart download      CACHE_ROOT SOURCE [options]  empty cache: ensure only (download,
 *                                                       verify, fsync, commit), no load
 * ColdStart cached-load   CACHE_ROOT SOURCE [options]  entry already cached and its pages
 *                                                       dropped (checked): ensure (a hit) + load
 * ColdStart read-through  CACHE_ROOT SOURCE [options]  empty cache: ReadThrough, tensors loaded
 *                                                       while the model downloads, committed
 * ColdStart load          DIR [options]                load a directory (after a peer's download)
 * ColdStart stream        SOURCE [options]             every byte straight from the store into
 *                                                       memory (ranged reads, no disk), discarded
 * options: --endpoint URL (s3 sources) --strategy MMAP|DIRECT|BUFFERED (default DIRECT)
 *          --concurrency N (default 16) --part-bytes N (default 8 MiB)
 * </pre>
 *
 * Prints one line: {@code COLDSTART mode=... bytes=N fetch_s=S load_s=S total_s=S hwm=BYTES}, where
 * {@code fetch_s} is the time to have the files locally (or to stream them), {@code load_s} the
 * loader's time, and {@code total_s} both together from the first call into the library. A
 * read-through does both at once: its whole pass, to the commit, is {@code fetch_s}, and {@code
 * load_s} is 0.
 */
public final class ColdStart {
  private ColdStart() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println(
          "usage: ColdStart download-load|download|cached-load|read-through CACHE_ROOT SOURCE | load DIR | stream SOURCE"
              + " [options]");
      System.exit(2);
    }
    System.out.println(run(args));
  }

  /** Runs one measurement in this JVM and returns its {@code COLDSTART} line. */
  static String run(String... args) throws Exception {
    String mode = args[0];
    List<String> positional = new ArrayList<>();
    Map<String, String> options = new HashMap<>();
    for (int i = 1; i < args.length; i++) {
      if (args[i].startsWith("--")) {
        options.put(args[i].substring(2), args[++i]);
      } else {
        positional.add(args[i]);
      }
    }
    Settings s = new Settings(
        Optional.ofNullable(options.get("endpoint")).map(URI::create),
        ReadStrategy.valueOf(options.getOrDefault("strategy", "DIRECT")),
        Integer.parseInt(options.getOrDefault("concurrency", "16")),
        Integer.parseInt(options.getOrDefault("part-bytes", Integer.toString(8 << 20))));
    Result r = switch (mode) {
      case "download-load" ->
        downloadLoad(Path.of(positional.get(0)), ModelSource.parse(positional.get(1)), s, false);
      case "cached-load" ->
        downloadLoad(Path.of(positional.get(0)), ModelSource.parse(positional.get(1)), s, true);
      case "download" ->
        download(Path.of(positional.get(0)), ModelSource.parse(positional.get(1)), s);
      case "read-through" ->
        readThrough(Path.of(positional.get(0)), ModelSource.parse(positional.get(1)), s);
      case "load" -> load(Path.of(positional.get(0)), s);
      case "stream" -> stream(ModelSource.parse(positional.get(0)), s);
      default -> throw new IllegalArgumentException("unknown mode " + mode);
    };
    return String.format(
        Locale.ROOT,
        "COLDSTART mode=%s bytes=%d fetch_s=%.3f load_s=%.3f total_s=%.3f hwm=%d",
        mode,
        r.bytes,
        r.fetchSeconds,
        r.loadSeconds,
        r.fetchSeconds + r.loadSeconds,
        Measurements.procStatusBytes("VmHWM"));
  }

  record Settings(Optional<URI> endpoint, ReadStrategy strategy, int concurrency, int partBytes) {
    BackendOptions s3Options() {
      return BackendOptions.NONE
          .with("endpoint", endpoint.orElseThrow().toString())
          .with("region", "us-east-1");
    }
  }

  record Result(long bytes, double fetchSeconds, double loadSeconds) {}

  private static ModelCache cache(Path root, ModelSource source, Settings s) throws IOException {
    ModelCache.Builder b = ModelCache.builder()
        .root(root)
        .createRootIfMissing()
        .concurrency(s.concurrency())
        .partSizeBytes(s.partBytes());
    if (s.endpoint().isPresent()) {
      b.backendOptions(source.scheme(), s.s3Options());
    }
    return b.build();
  }

  /** {@code source}'s entry in {@code cache}; fails unless it is there exactly when {@code expected}. */
  private static Optional<CacheEntry> cached(
      ModelCache cache, ModelSource source, Path root, boolean expected) throws IOException {
    Optional<CacheEntry> present = cache.getIfPresent(source);
    if (present.isPresent() != expected) {
      throw new IllegalStateException(
          source + (expected ? " is not cached under " : " is already cached under ") + root);
    }
    return present;
  }

  /** An empty cache: one read-through pass, from the first call to the commit. */
  private static Result readThrough(Path root, ModelSource source, Settings s) throws IOException {
    try (ModelCache cache = cache(root, source, s)) {
      cached(cache, source, root, false);
      long t0 = System.nanoTime();
      ReadThroughResult r = ReadThrough.builder(cache)
          .loader(loader(s))
          .build()
          .load(source, new DiscardTensorSink());
      long t1 = System.nanoTime();
      if (r.cacheHit() || r.fetchedBytes() != r.entry().sizeBytes()) {
        throw new IllegalStateException("not a cold read-through: hit " + r.cacheHit()
            + ", fetched " + r.fetchedBytes() + " of " + r.entry().sizeBytes() + " bytes");
      }
      return new Result(r.entry().sizeBytes(), (t1 - t0) / 1e9, 0);
    }
  }

  /** An empty cache: one {@code ensure}, from the first call to the commit, and no load. */
  private static Result download(Path root, ModelSource source, Settings s) throws IOException {
    try (ModelCache cache = cache(root, source, s)) {
      cached(cache, source, root, false);
      long t0 = System.nanoTime();
      CacheEntry entry = cache.ensure(source, DownloadListener.NONE);
      return new Result(entry.sizeBytes(), (System.nanoTime() - t0) / 1e9, 0);
    }
  }

  private static Result downloadLoad(
      Path root, ModelSource source, Settings s, boolean expectCached) throws IOException {
    try (ModelCache cache = cache(root, source, s)) {
      Optional<CacheEntry> present = cached(cache, source, root, expectCached);
      if (present.isPresent()) {
        // the driver dropped the entry's pages; a cached load that is not cold measures nothing.
        double resident =
            Residency.fraction(Residency.regularFiles(present.get().directory()));
        if (resident > Residency.COLD_MAX) {
          throw new IllegalStateException(String.format(
              Locale.ROOT,
              "the cached entry is %.1f%% resident: drop its pages first (Residency drop DIR)",
              100 * resident));
        }
      }
      long t0 = System.nanoTime();
      CacheEntry entry = cache.ensure(source, DownloadListener.NONE);
      long t1 = System.nanoTime();
      LoadResult loaded;
      try (Lease lease = cache.lease(entry)) {
        loaded = loader(s).load(lease.directory(), new DiscardTensorSink());
      }
      long t2 = System.nanoTime();
      checkStrategy(loaded);
      return new Result(entry.sizeBytes(), (t1 - t0) / 1e9, (t2 - t1) / 1e9);
    }
  }

  private static Result load(Path dir, Settings s) throws IOException {
    long t0 = System.nanoTime();
    LoadResult loaded = loader(s).load(dir, new DiscardTensorSink());
    long t1 = System.nanoTime();
    checkStrategy(loaded);
    return new Result(loaded.bytesLoaded(), 0, (t1 - t0) / 1e9);
  }

  /** Reads every range of every object with the backend into a bounded pool of buffers. */
  private static Result stream(ModelSource source, Settings s) throws Exception {
    StorageBackendProvider provider = ServiceLoader.load(StorageBackendProvider.class).stream()
        .map(ServiceLoader.Provider::get)
        .filter(p -> p.scheme().equals(source.scheme()))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException(
            "no storage backend for " + source.scheme() + ": on the class path?"));
    long t0 = System.nanoTime();
    long total = 0;
    try (StorageBackend backend =
        provider.create(s.endpoint().isPresent() ? s.s3Options() : BackendOptions.NONE)) {
      List<RemoteObject> objects = backend.list(source.uri());
      ExecutorService pool = Executors.newFixedThreadPool(s.concurrency());
      ThreadLocal<ByteBuffer> buffers =
          ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(s.partBytes()));
      try {
        List<Future<Long>> reads = new ArrayList<>();
        for (RemoteObject o : objects) {
          for (long off = 0; off < o.sizeBytes(); off += s.partBytes()) {
            long offset = off;
            int length = (int) Math.min(s.partBytes(), o.sizeBytes() - off);
            reads.add(pool.submit(() -> {
              ByteBuffer dst = buffers.get().clear().limit(length);
              backend.read(o, offset, dst);
              if (dst.hasRemaining()) {
                throw new IOException("short read of " + o.key() + " at " + offset);
              }
              return (long) length;
            }));
          }
          total += o.sizeBytes();
        }
        long received = 0;
        for (Future<Long> f : reads) {
          received += f.get();
        }
        if (received != total) {
          throw new IOException("received " + received + " of " + total + " bytes");
        }
      } finally {
        pool.shutdownNow();
      }
    }
    return new Result(total, (System.nanoTime() - t0) / 1e9, 0);
  }

  private static Loader loader(Settings s) {
    return Loader.builder().strategy(s.strategy()).build();
  }

  private static void checkStrategy(LoadResult loaded) {
    if (loaded.usedStrategy() != loaded.requestedStrategy()) {
      throw new IllegalStateException("the load fell back to " + loaded.usedStrategy() + ": "
          + loaded.fallbackReason().orElse("?"));
    }
  }
}
