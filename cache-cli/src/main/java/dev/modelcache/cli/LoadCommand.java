package dev.modelcache.cli;

import dev.modelcache.loader.DigestTensorSink;
import dev.modelcache.loader.DiscardTensorSink;
import dev.modelcache.loader.LoadResult;
import dev.modelcache.loader.Loader;
import dev.modelcache.loader.OffHeapTensorSink;
import dev.modelcache.loader.PageCache;
import dev.modelcache.loader.ReadStrategy;
import dev.modelcache.loader.SafetensorsFile;
import dev.modelcache.loader.SafetensorsModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code modelcache load PATH|SOURCE}: read every tensor into a sink and report the throughput. */
@Command(
    name = "load",
    description = {
      "Load every tensor of a model into a sink and print bytes, seconds and GiB/s.",
      "A SOURCE must be in the cache; it is leased while it loads."
    })
final class LoadCommand implements Callable<Integer> {

  /** Where the tensors go. */
  enum SinkKind {
    /** Touch the bytes and drop them: measures reading alone. */
    discard,
    /** Copy each tensor into its own off-heap segment (needs memory for the whole model). */
    offheap,
    /** Compute a SHA-256 of every tensor. */
    digest
  }

  @ParentCommand ModelcacheCommand app;

  @Mixin CachedModel model;

  @Option(names = "--strategy", paramLabel = "STRATEGY", description = "How files are read: mmap, direct (O_DIRECT) or buffered (default: the loader's default).")
  ReadStrategy strategy;

  @Option(names = "--sink", paramLabel = "SINK", defaultValue = "discard", description = "Where tensors go: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  SinkKind sink;

  @Option(names = "--block-size", paramLabel = "SIZE", description = "Read block size of the direct and buffered strategies, e.g. 8MiB.")
  ByteSize blockSize;

  @Option(names = "--cold", description = "Drop the files' pages from the page cache first, to measure a load from disk.")
  boolean cold;

  @Override
  public Integer call() throws Exception {
    try (CachedModel.Resolved resolved = model.resolve(app)) {
      return load(resolved.path());
    }
  }

  private int load(Path path) throws IOException {
    SafetensorsModel opened = SafetensorsModel.open(path);
    if (cold) {
      boolean dropped = true;
      for (SafetensorsFile file : opened.files()) {
        dropped &= PageCache.drop(file.path());
      }
      if (!dropped) {
        app.note("note: could not drop cached pages (native access unavailable); the load may be warm");
      }
    }
    var builder = Loader.builder();
    if (strategy != null) {
      builder.strategy(strategy);
    }
    if (blockSize != null) {
      builder.blockSizeBytes(blockSize.bytes());
    }
    Loader loader = builder.build();
    LoadResult result;
    try (Progress progress = app.progress("load", opened.dataSizeBytes())) {
      result = switch (sink) {
        case discard -> loader.load(opened, new CountingSink(new DiscardTensorSink(), progress));
        case digest ->
            loader.load(opened, new CountingSink(DigestTensorSink.of(DigestTensorSink.Algorithm.SHA_256), progress));
        case offheap -> {
          try (OffHeapTensorSink offHeap = OffHeapTensorSink.create()) {
            yield loader.load(opened, new CountingSink(offHeap, progress));
          }
        }
      };
    }
    double seconds = result.elapsed().toNanos() / 1e9;
    String used = result.usedStrategy().name().toLowerCase(Locale.ROOT);
    var json =
        Json.object()
            .put("path", path.toString())
            .put("bytes", result.bytesLoaded())
            .put("seconds", seconds)
            .put("bytesPerSecond", result.bytesPerSecond())
            .put("strategy", used)
            .put("requestedStrategy", result.requestedStrategy().name().toLowerCase(Locale.ROOT))
            .put("fallbackReason", result.fallbackReason().orElse(null))
            .put("sink", sink.name())
            .put("tensors", result.tensorCount())
            .put("files", result.fileCount());
    String text =
        String.format(
            Locale.ROOT,
            "loaded %s (%d tensors, %d files) in %.3f s: %.2f GiB/s (%s, %s sink)",
            ByteSize.format(result.bytesLoaded()),
            result.tensorCount(),
            result.fileCount(),
            seconds,
            result.bytesPerSecond() / (1L << 30),
            used,
            sink);
    result.fallbackReason().ifPresent(reason ->
        app.note("note: read with buffered I/O instead of "
            + result.requestedStrategy().name().toLowerCase(Locale.ROOT) + ": " + reason));
    app.result(json, text);
    return ExitCode.OK.status();
  }
}
