package dev.modelcache.cli;

import dev.modelcache.common.json.JsonObject;
import dev.modelcache.loader.PageCache;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

/** {@code modelcache warm PATH|SOURCE}: pull a model's files into the page cache. */
@Command(
    name = "warm",
    description = {
      "Read a model's files once so that they are in the page cache when the runtime starts.",
      "PATH may be a file, a directory or a link made by --link."
    })
final class WarmCommand implements Callable<Integer> {

  @ParentCommand
  ModelcacheCommand app;

  @Mixin
  CachedModel model;

  @Override
  public Integer call() throws Exception {
    try (CachedModel.Resolved resolved = model.resolve(app)) {
      return warm(resolved.path());
    }
  }

  private int warm(Path path) throws IOException {
    Path real = path.toRealPath();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(real)) {
      files = walk.filter(Files::isRegularFile).sorted().toList();
    }
    long total = 0;
    for (Path f : files) {
      total += Files.size(f);
    }
    long start = System.nanoTime();
    long bytes = 0;
    try (Progress progress = app.progress("warm", total)) {
      for (Path f : files) {
        long n = PageCache.warm(f);
        bytes += n;
        progress.advance(n);
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    double rate = seconds > 0 ? bytes / seconds : 0;
    app.result(
        JsonObject.create()
            .put("path", real.toString())
            .put("files", files.size())
            .put("bytes", bytes)
            .put("seconds", seconds)
            .put("bytesPerSecond", rate),
        String.format(
            Locale.ROOT,
            "warmed %s (%d files) in %.3f s: %.2f GiB/s",
            ByteSize.format(bytes),
            files.size(),
            seconds,
            rate / (1L << 30)));
    return ExitCode.OK.status();
  }
}
