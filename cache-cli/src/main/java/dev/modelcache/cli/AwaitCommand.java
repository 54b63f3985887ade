package dev.modelcache.cli;

import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.CacheTimeoutException;
import dev.modelcache.core.DownloadStatus;
import dev.modelcache.core.EnsureOptions;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code modelcache await SOURCE --timeout D}: wait for another process (a DaemonSet, another pod)
 * to put a model in the cache, instead of racing it.
 */
@Command(
    name = "await",
    description = {
      "Wait until some process on this node has the model cached, then print its directory.",
      "Exits with status 4 if it is not cached within --timeout, unless --fetch-after-timeout",
      "is given: then it downloads the model itself (prefetch's options apply)."
    })
final class AwaitCommand implements Callable<Integer> {

  @ParentCommand
  ModelcacheCommand app;

  @Mixin
  SourceArgument source;

  @Option(
      names = "--timeout",
      required = true,
      paramLabel = "DURATION",
      description = "How long to wait, e.g. 30s, 10m, 1h; 0 only checks.")
  TimeSpan timeout;

  @Option(
      names = "--fetch-after-timeout",
      description = "Download the model after the timeout instead of failing.")
  boolean fetchAfterTimeout;

  @Mixin
  DownloadOptions download;

  @Mixin
  PrefetchCommand.EntryOptions entryOptions;

  @Override
  public Integer call() throws IOException, UsageException {
    ModelSource model = source.model();
    long start = System.nanoTime();
    CacheEntry entry;
    DownloadProgress progress = null;
    try (ModelCache cache = app.openCache(true, download, model)) {
      try {
        entry = cache.getIfPresent(model).orElse(null);
        if (entry == null) {
          app.note("await: waiting up to " + timeout + " for " + model + " to be cached");
          Watch watch = new Watch(cache, model);
          try {
            entry = cache.await(model, timeout.duration());
          } finally {
            watch.close();
          }
        }
      } catch (CacheTimeoutException e) {
        if (!fetchAfterTimeout) {
          throw e;
        }
        app.note("await: " + model + " is not cached after " + timeout + "; downloading it");
        try (DownloadProgress listener = new DownloadProgress(app, "download")) {
          // Wait no longer for anyone: download beside a stalled writer if there is one; the first
          // commit wins and the other copy is discarded.
          EnsureOptions options =
              EnsureOptions.DEFAULTS.withWaitTimeout(Duration.ZERO).withDownloadAfterWait(true);
          entry = cache.ensure(model, options, listener);
          progress = listener;
        }
      }
      if (entryOptions.pin && !entry.pinned()) {
        cache.pin(model);
        entry = cache.getIfPresent(model).orElse(entry);
      }
    }
    PrefetchCommand.report(
        app, entry, progress, System.nanoTime() - start, entryOptions.link(entry));
    return ExitCode.OK.status();
  }

  /**
   * While waiting, shows how far the process that downloads the model has got, from the journal it
   * keeps in the cache: an init container's log then says why it waits.
   */
  private final class Watch implements AutoCloseable {
    private final java.util.concurrent.atomic.AtomicReference<Progress> progress =
        new java.util.concurrent.atomic.AtomicReference<>();
    private final ScheduledExecutorService poller;

    Watch(ModelCache cache, ModelSource model) {
      poller = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "modelcache-await");
        t.setDaemon(true);
        return t;
      });
      String name = model.cacheName();
      poller.scheduleWithFixedDelay(
          () -> {
            try {
              for (DownloadStatus d : cache.list().downloads()) {
                if (d.name().equals(name) && d.writerAlive()) {
                  Progress p = progress.get();
                  if (p == null) {
                    p = app.progress(
                        "await: pid " + d.writerPid() + " is downloading " + model, d.bytesTotal());
                    progress.set(p);
                  }
                  p.total(d.bytesTotal());
                  p.done(d.bytesDone());
                }
              }
            } catch (IOException | RuntimeException e) {
              // Only a display: the wait itself goes on.
            }
          },
          0,
          500,
          TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
      poller.shutdownNow();
      try {
        poller.awaitTermination(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      Progress p = progress.get();
      if (p != null) {
        p.close();
      }
    }
  }
}
