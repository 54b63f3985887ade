package dev.modelcache.cli;

import dev.modelcache.common.json.JsonObject;
import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.DownloadListener;
import dev.modelcache.core.Lease;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import dev.modelcache.core.spi.BackendOptions;
import dev.modelcache.loader.DiscardTensorSink;
import dev.modelcache.loader.LoadResult;
import dev.modelcache.loader.Loader;
import dev.modelcache.loader.PageCache;
import dev.modelcache.loader.ReadStrategy;
import dev.modelcache.loader.SafetensorsModel;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code modelcache demo}: the cold-start story on this machine, with the real code paths and no
 * network: a generated Llama-shaped model on an S3 server on loopback, loaded by pods without and
 * with the node cache.
 */
@Command(
    name = "demo",
    description = {
      "Time a pod's cold start without and with the node cache, on this machine.",
      "Generates a sharded Llama-shaped safetensors model, serves it from an S3-compatible server",
      "on loopback, and times a pod without the cache (download, then load), a pod with the cache",
      "(load only) and a second pod on the same node. Cleans up after itself."
    })
final class DemoCommand implements Callable<Integer> {

  private static final String BUCKET = "models";
  private static final String PREFIX = "llama-demo/";
  private static final long MIN_SIZE_BYTES = 16L << 20;

  @ParentCommand
  ModelcacheCommand app;

  @Option(
      names = "--size",
      paramLabel = "SIZE",
      defaultValue = "2GiB",
      description = "Size of the generated model (default: ${DEFAULT-VALUE}).")
  ByteSize size;

  @Option(
      names = "--work-dir",
      paramLabel = "DIR",
      description =
          "Where to put the model, the S3 server's data and the caches (default: a new directory under the system's temporary directory).")
  Path workDir;

  @Option(names = "--keep", description = "Keep the work directory afterwards.")
  boolean keep;

  @Option(
      names = "--strategy",
      paramLabel = "STRATEGY",
      description =
          "How pods read the model: mmap, direct or buffered (default: the loader's default).")
  ReadStrategy strategy;

  /** One row of the timeline. */
  record Phase(String pod, String step, double seconds, long bytes) {
    JsonObject json() {
      return JsonObject.create()
          .put("pod", pod)
          .put("step", step)
          .put("seconds", seconds)
          .put("bytes", bytes)
          .put("bytesPerSecond", bytes > 0 && seconds > 0 ? bytes / seconds : null);
    }
  }

  @Override
  public Integer call() throws Exception {
    if (size.bytes() < MIN_SIZE_BYTES) {
      throw new UsageException("--size must be at least 16MiB, was " + size);
    }
    try {
      Class.forName("org.gaul.s3proxy.S3Proxy", false, DemoCommand.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IOException(
          "the demo's S3 server (S3Proxy) is not part of this installation; run bin/modelcache demo from a source checkout");
    }
    Path work = workDir == null
        ? Files.createTempDirectory("modelcache-demo-")
        : Files.createDirectories(workDir)
            .resolve("modelcache-demo-" + ProcessHandle.current().pid());
    Files.createDirectories(work);
    long needed = size.bytes() * 21 / 10;
    long usable = Files.getFileStore(work).getUsableSpace();
    if (usable < needed) {
      deleteTree(work);
      throw new IOException(
          "the demo needs about " + ByteSize.format(needed) + " free in " + work.getParent()
              + ", but " + ByteSize.format(usable) + " is free (use --size or --work-dir)");
    }
    Thread cleanup = new Thread(() -> deleteQuietly(work), "modelcache-demo-cleanup");
    if (!keep) {
      Runtime.getRuntime().addShutdownHook(cleanup);
    }
    try {
      return run(work);
    } finally {
      if (!keep) {
        deleteQuietly(work);
        try {
          Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException e) {
          // Already shutting down: the hook does the same.
        }
      } else {
        app.note("demo: kept " + work);
      }
    }
  }

  private int run(Path work) throws Exception {
    Path origin = work.resolve("origin");
    app.note("demo: generating a Llama-shaped model of about " + size + " in " + origin);
    DemoModel model;
    try (Progress progress = app.progress("generate", size.bytes())) {
      model = DemoModel.write(origin, size.bytes(), progress);
    }
    List<Phase> phases = new ArrayList<>();
    try (DemoS3Server s3 = DemoS3Server.start(work.resolve("s3"))) {
      s3.createBucket(BUCKET);
      List<Path> files;
      try (Stream<Path> list = Files.list(origin)) {
        files = list.sorted().toList();
      }
      long uploadBytes = 0;
      for (Path f : files) {
        uploadBytes += Files.size(f);
      }
      try (Progress progress = app.progress("upload to S3", uploadBytes)) {
        for (Path f : files) {
          s3.upload(BUCKET, PREFIX + f.getFileName(), f, progress::advance);
        }
      }
      deleteTree(origin);
      ModelSource source = ModelSource.parse("s3://" + BUCKET + "/" + PREFIX);
      app.note(String.format(
          Locale.ROOT,
          "demo: %s: %d layers, hidden size %d, %d tensors, %s in %d shards, served by S3 at %s",
          source,
          model.layers(),
          model.hiddenSize(),
          model.tensors(),
          ByteSize.format(model.sizeBytes()),
          model.files().size(),
          s3.endpoint()));
      Loader loader = strategy == null
          ? Loader.builder().build()
          : Loader.builder().strategy(strategy).build();
      String loadStep =
          "load (" + loader.strategy().name().toLowerCase(Locale.ROOT) + ", discard sink)";

      // 1. The pattern without a node cache: every pod downloads into its own emptyDir, then loads.
      String pod1 = "pod, no node cache";
      Path emptyDir = work.resolve("pod-1-emptydir");
      double download;
      CacheEntry copy;
      long start = System.nanoTime();
      try (ModelCache cache = cache(emptyDir, s3.endpoint());
          DownloadProgress listener = new DownloadProgress(app, "download")) {
        copy = cache.ensure(source, listener);
      }
      download = seconds(start);
      phases.add(new Phase(pod1, "download from S3 to local disk", download, copy.sizeBytes()));
      LoadResult load1 = load(loader, copy.directory());
      phases.add(new Phase(pod1, loadStep, seconds(load1), load1.bytesLoaded()));
      double ready1 = download + seconds(load1);
      phases.add(new Phase(pod1, "ready after", ready1, 0));
      deleteTree(emptyDir); // the pod is gone, and its copy with it

      // 2. The node cache, filled by the DaemonSet before serving pods start.
      Path nodeCache = work.resolve("node-cache");
      start = System.nanoTime();
      CacheEntry cached;
      try (ModelCache cache = cache(nodeCache, s3.endpoint());
          DownloadProgress listener = new DownloadProgress(app, "prefetch")) {
        cached = cache.ensure(source, listener);
      }
      phases.add(new Phase(
          "DaemonSet",
          "prefetch into the node cache (before pods start)",
          seconds(start),
          cached.sizeBytes()));
      boolean dropped = true;
      for (var f : cached.manifest().files()) {
        dropped &= PageCache.drop(cached.file(f.path()));
      }
      String coldStep = dropped ? loadStep + ", page cache dropped" : loadStep;
      if (!dropped) {
        app.note(
            "demo: could not drop cached pages (run with --enable-native-access=ALL-UNNAMED); the cold load may read from memory");
      }

      // 3. A serving pod on that node: a cache hit, then a load from local disk.
      double ready2 =
          pod("pod, node cache", nodeCache, s3.endpoint(), source, loader, coldStep, phases);
      // 4. A second pod on the same node: the entry and its pages are already there.
      double ready3 =
          pod("second pod, same node", nodeCache, s3.endpoint(), source, loader, loadStep, phases);

      report(model, s3.endpoint(), phases, ready1, ready2, ready3);
    }
    return ExitCode.OK.status();
  }

  /** A pod's start with the node cache: ensure (a hit), lease, load. Returns seconds until ready. */
  private double pod(
      String pod,
      Path root,
      URI endpoint,
      ModelSource source,
      Loader loader,
      String loadStep,
      List<Phase> phases)
      throws IOException, UsageException {
    long start = System.nanoTime();
    try (ModelCache cache = cache(root, endpoint)) {
      CacheEntry entry = cache.ensure(source, DownloadListener.NONE);
      try (Lease lease = cache.lease(entry)) {
        double ensure = seconds(start);
        phases.add(new Phase(pod, "ensure: cache hit, lease", ensure, 0));
        LoadResult result = load(loader, lease.directory());
        phases.add(new Phase(pod, loadStep, seconds(result), result.bytesLoaded()));
        double ready = ensure + seconds(result);
        phases.add(new Phase(pod, "ready after", ready, 0));
        return ready;
      }
    }
  }

  private ModelCache cache(Path root, URI endpoint) throws IOException {
    return ModelCache.builder()
        .root(root)
        .createRootIfMissing()
        .backendOptions(
            "s3",
            BackendOptions.NONE
                .with("endpoint", endpoint.toString())
                .with("pathStyle", "true")
                .with("region", "us-east-1")
                .with("anonymous", "true"))
        .build();
  }

  private LoadResult load(Loader loader, Path dir) throws IOException {
    SafetensorsModel model = SafetensorsModel.open(dir);
    try (Progress progress = app.progress("load", model.dataSizeBytes())) {
      return loader.load(model, new CountingSink(new DiscardTensorSink(), progress));
    }
  }

  private void report(
      DemoModel model,
      URI endpoint,
      List<Phase> phases,
      double ready1,
      double ready2,
      double ready3) {
    var table = new TextTable("POD", "STEP", ">SECONDS", ">GiB", ">GiB/s");
    String lastPod = null;
    for (Phase p : phases) {
      table.row(
          p.pod().equals(lastPod) ? "" : p.pod(),
          p.step(),
          String.format(Locale.ROOT, "%.2f", p.seconds()),
          p.bytes() > 0 ? String.format(Locale.ROOT, "%.2f", p.bytes() / (double) (1L << 30)) : "",
          p.bytes() > 0 && p.seconds() > 0
              ? String.format(Locale.ROOT, "%.2f", p.bytes() / p.seconds() / (1L << 30))
              : "");
      lastPod = p.pod();
    }
    String summary = String.format(
        Locale.ROOT,
        "A pod is ready %.1fx sooner with the node cache (%.2f s instead of %.2f s), a second pod on the node %.1fx sooner (%.2f s).%n"
            + "Here the S3 server shares this machine's CPU and disk with the client; with remote object storage the download"
            + " time follows the network instead.",
        ready1 / ready2,
        ready2,
        ready1,
        ready1 / ready3,
        ready3);
    app.result(
        JsonObject.create()
            .put(
                "model",
                JsonObject.create()
                    .put("bytes", model.sizeBytes())
                    .put("files", model.files().size())
                    .put("tensors", model.tensors())
                    .put("layers", model.layers())
                    .put("hiddenSize", model.hiddenSize()))
            .put("endpoint", endpoint.toString())
            .put("phases", phases.stream().map(Phase::json).toList())
            .put(
                "readySeconds",
                JsonObject.create()
                    .put("withoutCache", ready1)
                    .put("withCache", ready2)
                    .put("secondPod", ready3)),
        table + System.lineSeparator() + System.lineSeparator() + summary);
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  private static double seconds(LoadResult result) {
    return result.elapsed().toNanos() / 1e9;
  }

  private static void deleteQuietly(Path dir) {
    try {
      deleteTree(dir);
    } catch (IOException e) {
      System.err.println("modelcache demo: could not remove " + dir + ": " + e.getMessage());
    }
  }

  /** Deletes a tree, making directories writable first: committed cache entries are read-only. */
  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.filter(Files::isDirectory).forEach(d -> d.toFile().setWritable(true, true));
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
