package dev.modelcache.cli;

import dev.modelcache.common.json.JsonObject;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import dev.modelcache.cuda.CudaException;
import dev.modelcache.cuda.CudaTensorSink;
import dev.modelcache.loader.DigestTensorSink;
import dev.modelcache.loader.DiscardTensorSink;
import dev.modelcache.loader.LoadResult;
import dev.modelcache.loader.Loader;
import dev.modelcache.loader.OffHeapTensorSink;
import dev.modelcache.loader.PageCache;
import dev.modelcache.loader.ReadStrategy;
import dev.modelcache.loader.ReadThrough;
import dev.modelcache.loader.ReadThroughResult;
import dev.modelcache.loader.SafetensorsFile;
import dev.modelcache.loader.SafetensorsModel;
import dev.modelcache.loader.TensorSinkException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code modelcache load PATH|SOURCE}: read every tensor into a sink and report the throughput;
 * with {@code --fetch}, a SOURCE not yet cached is downloaded and loaded in the same pass.
 */
@Command(
    name = "load",
    description = {
      "Load every tensor of a model into a sink and print bytes, seconds and GiB/s.",
      "A SOURCE must be in the cache; it is leased while it loads.",
      "With --fetch, a SOURCE that is not is downloaded and loaded in one pass (tensors load as their bytes arrive)"
          + " and cached for the next load."
    })
final class LoadCommand implements Callable<Integer> {

  /** Where the tensors go. */
  enum SinkKind {
    /** Touch the bytes and drop them: measures reading alone. */
    discard,
    /** Copy each tensor into its own off-heap segment (needs memory for the whole model). */
    offheap,
    /** Compute a SHA-256 of every tensor. */
    digest,
    /** Copy every tensor into the memory of a CUDA device, through pinned read buffers. */
    cuda
  }

  /** A {@code --sink} value: the kind, and for {@code cuda[:DEVICE]} the device (0 by default). */
  record SinkChoice(SinkKind kind, int device) {
    @Override
    public String toString() {
      return kind == SinkKind.cuda ? "cuda:" + device : kind.name();
    }

    static final class Converter implements CommandLine.ITypeConverter<SinkChoice> {
      @Override
      public SinkChoice convert(String value) {
        String v = value.strip().toLowerCase(Locale.ROOT);
        String kind = v;
        int device = 0;
        int colon = v.indexOf(':');
        if (colon >= 0) {
          kind = v.substring(0, colon);
          try {
            device = Integer.parseInt(v.substring(colon + 1));
          } catch (NumberFormatException e) {
            device = -1;
          }
          if (!kind.equals("cuda") || device < 0) {
            throw new CommandLine.TypeConversionException("'" + value
                + "': only cuda takes a device, as cuda:N with N a device number from 0");
          }
        }
        for (SinkKind k : SinkKind.values()) {
          if (k.name().equals(kind)) {
            return new SinkChoice(k, device);
          }
        }
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not a sink: expected discard, offheap, digest or cuda[:DEVICE]");
      }
    }
  }

  @ParentCommand
  ModelcacheCommand app;

  @Mixin
  CachedModel model;

  @Option(
      names = "--strategy",
      paramLabel = "STRATEGY",
      description =
          "How files are read: mmap, direct (O_DIRECT) or buffered (default: the loader's default).")
  ReadStrategy strategy;

  @Option(
      names = "--sink",
      paramLabel = "SINK",
      defaultValue = "discard",
      converter = SinkChoice.Converter.class,
      description =
          "Where tensors go: discard, offheap, digest or cuda[:DEVICE] (CUDA device memory, device 0 by default) (default: ${DEFAULT-VALUE}).")
  SinkChoice sink;

  @Option(
      names = "--block-size",
      paramLabel = "SIZE",
      description = "Read block size of the direct and buffered strategies, e.g. 8MiB.")
  ByteSize blockSize;

  @Option(
      names = "--cold",
      description = "Drop the files' pages from the page cache first, to measure a load from disk.")
  boolean cold;

  @Option(
      names = "--fetch",
      description =
          "On a miss, download SOURCE and load it in the same pass, committing it to the cache when the download"
              + " completes; the download options below apply. Without it a SOURCE must be cached.")
  boolean fetch;

  @Mixin
  DownloadOptions download;

  @Override
  public Integer call() throws Exception {
    if (fetch) {
      return fetchAndLoad();
    }
    String given = download.firstGiven();
    if (given != null) {
      throw new UsageException(
          given + " applies with --fetch, which downloads a SOURCE that is not cached");
    }
    try (CachedModel.Resolved resolved = model.resolve(app)) {
      return load(resolved.path());
    }
  }

  /** {@code --fetch}: a hit loads the entry leased, a miss loads while it downloads. */
  private int fetchAndLoad() throws IOException, UsageException {
    if (!new ModelArgument(model.target).isSource()) {
      throw new UsageException("--fetch applies to a SOURCE, not to the path " + model.target);
    }
    if (sink.kind() == SinkKind.cuda) {
      throw new UsageException(
          "--sink cuda does not apply with --fetch: device memory is reserved from every header"
              + " before the load starts, before a download has them; run 'modelcache prefetch' first");
    }
    if (cold) {
      throw new UsageException("--cold does not apply with --fetch");
    }
    var sourceArgument = new SourceArgument();
    sourceArgument.source = model.target;
    sourceArgument.revision = model.revision;
    ModelSource source = sourceArgument.model();
    ReadThroughResult result;
    try (ModelCache cache = app.openCache(true, download, source);
        DownloadProgress listener = new DownloadProgress(app, "load")) {
      ReadThrough readThrough =
          ReadThrough.builder(cache).loader(loader()).listener(listener).build();
      result = switch (sink.kind()) {
        case discard -> readThrough.load(source, new DiscardTensorSink());
        case digest ->
          readThrough.load(source, DigestTensorSink.of(DigestTensorSink.Algorithm.SHA_256));
        case offheap -> {
          try (OffHeapTensorSink offHeap = OffHeapTensorSink.create()) {
            yield readThrough.load(source, offHeap);
          }
        }
        case cuda -> throw new IllegalStateException("refused above");
      };
    }
    report(result.entry().directory(), result.load(), null, result);
    return ExitCode.OK.status();
  }

  private Loader loader() {
    var builder = Loader.builder();
    if (strategy != null) {
      builder.strategy(strategy);
    }
    if (blockSize != null) {
      builder.blockSizeBytes(blockSize.bytes());
    }
    return builder.build();
  }

  private int load(Path path) throws IOException {
    SafetensorsModel opened = SafetensorsModel.open(path);
    // Before anything is read: without a usable GPU this fails at once, in one line.
    CudaTensorSink cudaSink =
        sink.kind() == SinkKind.cuda ? CudaTensorSink.open(sink.device()) : null;
    try (cudaSink) {
      return load(path, opened, cudaSink);
    }
  }

  private int load(Path path, SafetensorsModel opened, CudaTensorSink cudaSink) throws IOException {
    if (cold) {
      boolean dropped = true;
      for (SafetensorsFile file : opened.files()) {
        dropped &= PageCache.drop(file.path());
      }
      if (!dropped) {
        app.note(
            "note: could not drop cached pages (native access unavailable); the load may be warm");
      }
    }
    Loader loader = loader();
    LoadResult result;
    try (Progress progress = app.progress("load", opened.dataSizeBytes())) {
      result = switch (sink.kind()) {
        case discard -> loader.load(opened, new CountingSink(new DiscardTensorSink(), progress));
        case digest ->
          loader.load(
              opened,
              new CountingSink(DigestTensorSink.of(DigestTensorSink.Algorithm.SHA_256), progress));
        case offheap -> {
          try (OffHeapTensorSink offHeap = OffHeapTensorSink.create()) {
            yield loader.load(opened, new CountingSink(offHeap, progress));
          }
        }
        case cuda -> loadToDevice(loader, opened, cudaSink, progress);
      };
    }
    report(path, result, cudaSink, null);
    return ExitCode.OK.status();
  }

  /** Prints what a load did; {@code readThrough} is the outcome of a {@code --fetch} load, else null. */
  private void report(
      Path path, LoadResult result, CudaTensorSink cudaSink, ReadThroughResult readThrough) {
    double seconds = result.elapsed().toNanos() / 1e9;
    String used = result.usedStrategy().name().toLowerCase(Locale.ROOT);
    var json = JsonObject.create()
        .put("path", path.toString())
        .put("bytes", result.bytesLoaded())
        .put("seconds", seconds)
        .put("bytesPerSecond", result.bytesPerSecond())
        .put("strategy", used)
        .put("requestedStrategy", result.requestedStrategy().name().toLowerCase(Locale.ROOT))
        .put("fallbackReason", result.fallbackReason().orElse(null))
        .put("sink", sink.kind().name())
        .put("tensors", result.tensorCount())
        .put("files", result.fileCount());
    if (cudaSink != null) {
      json.put("cudaDevice", cudaSink.device()).put("cudaRuntime", cudaSink.runtimeDescription());
    }
    if (readThrough != null) {
      json.put("cacheHit", readThrough.cacheHit()).put("fetchedBytes", readThrough.fetchedBytes());
    }
    String text = String.format(
            Locale.ROOT,
            "loaded %s (%d tensors, %d files) in %.3f s: %.2f GiB/s (%s, %s)",
            ByteSize.format(result.bytesLoaded()),
            result.tensorCount(),
            result.fileCount(),
            seconds,
            result.bytesPerSecond() / (1L << 30),
            used,
            cudaSink != null
                ? "cuda sink, into the memory of device " + cudaSink.device()
                : sink + " sink")
        + (readThrough == null
            ? ""
            : readThrough.cacheHit()
                ? "; cache hit"
                : "; cache miss, read through the download of "
                    + ByteSize.format(readThrough.fetchedBytes()));
    result
        .fallbackReason()
        .ifPresent(reason -> app.note("note: read with buffered I/O instead of "
            + result.requestedStrategy().name().toLowerCase(Locale.ROOT) + ": " + reason));
    app.result(json, text);
  }

  /** One device allocation for the model, then the load; CUDA's failure is reported as itself. */
  private static LoadResult loadToDevice(
      Loader loader, SafetensorsModel model, CudaTensorSink cudaSink, Progress progress)
      throws IOException {
    cudaSink.reserve(model);
    try {
      LoadResult result = loader.load(model, new CountingSink(cudaSink, progress));
      cudaSink.synchronizeAll();
      return result;
    } catch (TensorSinkException e) {
      for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
        if (c instanceof CudaException cuda) {
          throw cuda;
        }
      }
      throw e;
    }
  }
}
