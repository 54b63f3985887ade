package dev.modelcache.cli;

import dev.modelcache.common.json.JsonObject;
import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.EnsureOptions;
import dev.modelcache.core.Integrity;
import dev.modelcache.core.ManifestFile;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code modelcache prefetch SOURCE}: make sure a model is in the cache and print its directory. */
@Command(
    name = "prefetch",
    description = {
      "Ensure a model is in the cache (download it once per node) and print its directory.",
      "Processes prefetching the same model at once download it once; the others wait."
    })
final class PrefetchCommand implements Callable<Integer> {

  @ParentCommand
  ModelcacheCommand app;

  @Mixin
  SourceArgument source;

  @Mixin
  DownloadOptions download;

  @Mixin
  EntryOptions entryOptions;

  @Option(
      names = "--verify",
      description =
          "If the model is cached, re-read its files against the manifest first; a damaged copy is downloaded again.")
  boolean verify;

  @Override
  public Integer call() throws IOException, UsageException {
    ModelSource model = source.model();
    long start = System.nanoTime();
    CacheEntry entry;
    DownloadProgress progress;
    try (ModelCache cache = app.openCache(true, download, model);
        DownloadProgress listener = new DownloadProgress(app, "prefetch")) {
      entry = cache.ensure(
          model, EnsureOptions.DEFAULTS.withPin(entryOptions.pin).withVerify(verify), listener);
      progress = listener;
    }
    report(app, entry, progress, System.nanoTime() - start, entryOptions.link(entry));
    return ExitCode.OK.status();
  }

  /**
   * Prints the result of {@code prefetch} and {@code await}: the directory, or its JSON, with what
   * {@code progress} saw of this process's download (null when it downloaded nothing).
   */
  static void report(
      ModelcacheCommand app, CacheEntry entry, DownloadProgress progress, long nanos, Path link) {
    double seconds = nanos / 1e9;
    ModelSource model = entry.source();
    long downloadedBytes = progress == null ? 0 : progress.downloadedBytes();
    app.note(summary(entry, downloadedBytes, nanos, link));
    app.result(
        JsonObject.create()
            .put("source", model.uri().toString())
            .put("revision", model.revision())
            .put("path", entry.directory().toString())
            .put("bytes", entry.sizeBytes())
            .put("seconds", seconds)
            .put("downloadedBytes", downloadedBytes)
            .put("writtenDirectBytes", progress == null ? 0 : progress.writtenDirectBytes())
            .put("readBackBytes", progress == null ? 0 : progress.readBackBytes())
            .put("pinned", entry.pinned())
            .put("link", link == null ? null : link.toString())
            .put("integrity", integritySummary(entry))
            .put("files", files(entry)),
        entry.directory().toString());
  }

  /**
   * Each file with what its bytes were checked against: {@code path}, {@code sizeBytes},
   * {@code integrity} (source-checksum, etag-md5, etag-multipart or unverified), {@code checksum}.
   */
  static List<JsonObject> files(CacheEntry entry) {
    List<JsonObject> files = new ArrayList<>();
    for (ManifestFile f : entry.manifest().files()) {
      files.add(JsonObject.create()
          .put("path", f.path())
          .put("sizeBytes", f.sizeBytes())
          .put("integrity", f.integrity().label())
          .put("checksum", f.checksum() == null ? null : f.checksum().toString()));
    }
    return files;
  }

  /** How many of the entry's files passed each kind of check: {"etag-multipart": 2, "unverified": 1}. */
  static JsonObject integritySummary(CacheEntry entry) {
    Map<Integrity, Integer> counts = new EnumMap<>(Integrity.class);
    for (ManifestFile f : entry.manifest().files()) {
      counts.merge(f.integrity(), 1, Integer::sum);
    }
    JsonObject summary = JsonObject.create();
    counts.forEach((level, n) -> summary.put(level.label(), n));
    return summary;
  }

  /** ", 2 of 5 files not verified against the source" when some are not; else nothing. */
  static String unverifiedNote(CacheEntry entry) {
    long unverified = entry.manifest().files().stream()
        .filter(f -> f.integrity() == Integrity.UNVERIFIED)
        .count();
    return unverified == 0
        ? ""
        : String.format(
            Locale.ROOT,
            ", %d of %d files not verified against the source",
            unverified,
            entry.manifest().files().size());
  }

  /** The note on stderr about how an entry got here: "SOURCE: downloaded 1.2 GiB in 3.40 s, linked at PATH". */
  static String summary(CacheEntry entry, long downloadedBytes, long nanos, Path link) {
    String what;
    if (downloadedBytes == 0) {
      what = "already cached (" + ByteSize.format(entry.sizeBytes()) + ")";
    } else if (downloadedBytes < entry.sizeBytes()) {
      what = "downloaded " + ByteSize.format(downloadedBytes) + " of "
          + ByteSize.format(entry.sizeBytes()) + " (the rest resumed from an interrupted download)";
    } else {
      what = "downloaded " + ByteSize.format(downloadedBytes);
    }
    return String.format(
        Locale.ROOT,
        "%s: %s in %.2f s%s%s",
        entry.source(),
        what,
        nanos / 1e9,
        downloadedBytes == 0 ? "" : unverifiedNote(entry),
        link == null ? "" : ", linked at " + link);
  }

  /** What to do with the entry once it is there: {@code --pin} and {@code --link}. */
  static final class EntryOptions {

    @Option(names = "--pin", description = "Pin the entry: eviction never removes it.")
    boolean pin;

    @Option(
        names = "--link",
        paramLabel = "PATH",
        description = {
          "Also point a symbolic link at the entry's directory (replaced atomically), so a runtime can use a fixed path.",
          "The link's target is relative: a link inside the cache root resolves in every pod, wherever it mounts the root."
        })
    Path link;

    /**
     * Points {@code --link} at the entry, if given.
     *
     * @return the link, or null
     */
    Path link(CacheEntry entry) throws IOException, UsageException {
      if (link == null) {
        return null;
      }
      Path absolute = link.toAbsolutePath();
      if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS) && !Files.isSymbolicLink(absolute)) {
        // Only a link is replaced: anything else there is someone's data.
        throw new UsageException("--link " + absolute
            + ": something other than a symbolic link is there; not replacing it");
      }
      Files.createDirectories(absolute.getParent());
      // A new link beside the old one, renamed over it: a reader sees the old or the new entry,
      // never none.
      Path fresh = absolute.resolveSibling(
          "." + absolute.getFileName() + ".tmp-" + java.util.UUID.randomUUID());
      // Relative to where the link lives, so that nothing depends on the path this process mounts
      // the root at: pods mount one hostPath at different paths.
      Path target =
          absolute.getParent().toRealPath().relativize(entry.directory().toRealPath());
      Files.createSymbolicLink(fresh, target);
      Files.move(
          fresh, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return absolute;
    }
  }
}
