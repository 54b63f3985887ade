package dev.modelcache.cli;

import dev.modelcache.common.json.JsonObject;
import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.CacheLimits;
import dev.modelcache.core.CacheListing;
import dev.modelcache.core.CacheStats;
import dev.modelcache.core.DownloadStatus;
import dev.modelcache.core.Holder;
import dev.modelcache.core.Liveness;
import dev.modelcache.core.ModelCache;
import java.io.IOException;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code modelcache ls}: the cache's entries, and apart from them the downloads in progress. */
@Command(
    name = "ls",
    description = {
      "List cached models and, apart from them, downloads in progress.",
      "Models show size, revision, last use, pinned and leases, least recently used first;",
      "downloads show bytes done and whether their process still runs.",
      "Lease holders and writers are named by host (a pod's name) and pid in their own namespace."
    })
final class LsCommand implements Callable<Integer> {

  private static final DateTimeFormatter WHEN =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

  @ParentCommand
  ModelcacheCommand app;

  @Override
  public Integer call() throws IOException, UsageException {
    CacheListing listing;
    CacheStats stats;
    Liveness liveness;
    Duration expiry;
    try (ModelCache cache = app.openCache(false, null, null)) {
      listing = cache.list();
      stats = cache.stats();
      liveness = cache.liveness();
      expiry = cache.heartbeatExpiry();
    }
    List<JsonObject> entries = new ArrayList<>();
    var table = new TextTable(
        "SOURCE", "REVISION", ">SIZE", "STATE", "LAST USE", "PINNED", ">LEASES", "HELD BY");
    for (CacheEntry e : listing.entries()) {
      entries.add(JsonObject.create()
          .put("source", e.source().uri().toString())
          .put("revision", e.source().revision())
          .put("name", e.name())
          .put("path", e.directory().toString())
          .put("sizeBytes", e.sizeBytes())
          .put("state", "complete")
          .put("lastUsed", e.lastUsed().truncatedTo(ChronoUnit.MILLIS).toString())
          .put("pinned", e.pinned())
          .put("leases", e.leaseCount())
          .put("leaseHolders", e.leases().stream().map(LsCommand::holder).toList())
          .put("integrity", PrefetchCommand.integritySummary(e)));
      table.row(
          e.source().uri(),
          e.source().revisionLabel().orElse("-"),
          ByteSize.format(e.sizeBytes()),
          "complete",
          WHEN.format(e.lastUsed()),
          e.pinned() ? "yes" : "no",
          e.leaseCount(),
          e.leases().isEmpty()
              ? "-"
              : String.join(", ", e.leases().stream().map(LsCommand::who).toList()));
    }
    List<JsonObject> downloads = new ArrayList<>();
    var inProgress = new TextTable("SOURCE", "REVISION", ">DONE", ">SIZE", "STATE", "WRITER");
    for (DownloadStatus d : listing.downloads()) {
      String state = d.writerAlive() ? "downloading" : "interrupted";
      downloads.add(JsonObject.create()
          .put("source", d.source().uri().toString())
          .put("revision", d.source().revision())
          .put("name", d.name())
          .put("bytesDone", d.bytesDone())
          .put("sizeBytes", d.bytesTotal())
          .put("state", state)
          .put("writerPid", d.writerPid() < 0 ? null : d.writerPid())
          .put("writer", d.writerPid() < 0 ? null : holder(d.writer())));
      inProgress.row(
          d.source().uri(),
          d.source().revisionLabel().orElse("-"),
          ByteSize.format(d.bytesDone()),
          ByteSize.format(d.bytesTotal()),
          state,
          d.writerPid() < 0 ? "-" : who(d.writer()));
    }
    var text = new StringBuilder();
    text.append(
        listing.entries().isEmpty() ? "no cached models in " + app.root() : table.toString());
    text.append(System.lineSeparator())
        .append(listing.entries().size())
        .append(listing.entries().size() == 1 ? " model, " : " models, ")
        .append(ByteSize.format(listing.entryBytes()))
        .append(" in ")
        .append(app.root())
        .append(System.lineSeparator())
        .append("limits: max-size ")
        .append(describeMax(stats.limits()))
        .append(", min-free ")
        .append(describeMinFree(stats.limits()))
        .append(System.lineSeparator())
        .append(ByteSize.format(stats.usableBytes()))
        .append(" free on the disk; eviction could free ")
        .append(ByteSize.format(stats.evictableBytes()))
        .append(" now (models neither leased nor pinned)")
        .append(System.lineSeparator())
        .append(describe(liveness, expiry));
    if (!listing.downloads().isEmpty()) {
      text.append(System.lineSeparator())
          .append(System.lineSeparator())
          .append("downloads:")
          .append(System.lineSeparator())
          .append(inProgress);
    }
    app.result(
        JsonObject.create()
            .put("root", app.root().toString())
            .put("totalBytes", listing.entryBytes())
            .put("limits", limits(stats.limits()))
            .put("usableBytes", stats.usableBytes())
            .put("evictableBytes", stats.evictableBytes())
            .put("liveness", liveness)
            .put(
                "heartbeatExpirySeconds",
                liveness == Liveness.HEARTBEAT ? expiry.toMillis() / 1000.0 : null)
            .put("entries", entries)
            .put("downloads", downloads),
        text.toString());
    return ExitCode.OK.status();
  }

  /** "leases and downloads are alive while their holders keep a kernel lock", or the heartbeat's. */
  static String describe(Liveness liveness, Duration expiry) {
    return liveness == Liveness.LOCKS
        ? "liveness: kernel locks (a lease or download ends the moment its process does)"
        : "liveness: heartbeat (a lease or download ends " + TimeSpan.format(expiry)
            + " after its process stops renewing it)";
  }

  /** The limits as JSON: each value in bytes and where it comes from. */
  static JsonObject limits(CacheLimits l) {
    return JsonObject.create()
        .put("maxBytes", l.maxBytes() == 0 ? null : l.maxBytes())
        .put("maxBytesSource", l.maxBytesSource())
        .put("minFreeBytes", l.minFreeBytes())
        .put("minFree", l.minFree().toString())
        .put("minFreeSource", l.minFreeSource());
  }

  /** "1.50 TiB (the cache's setting)", "none (default)". */
  static String describeMax(CacheLimits l) {
    return (l.maxBytes() == 0 ? "none" : ByteSize.format(l.maxBytes())) + " ("
        + source(l.maxBytesSource()) + ")";
  }

  /** "5% = 23.4 GiB (the cache's setting)", "1.00 GiB (default: 5% of the disk, at most 1 GiB)". */
  static String describeMinFree(CacheLimits l) {
    String value = l.minFree().isPercent() && l.minFreeSource() != CacheLimits.Source.DEFAULT
        ? l.minFree() + " = " + ByteSize.format(l.minFreeBytes())
        : ByteSize.format(l.minFreeBytes());
    return value + " ("
        + (l.minFreeSource() == CacheLimits.Source.DEFAULT
            ? "default: 5% of the disk, at most 1 GiB"
            : source(l.minFreeSource()))
        + ")";
  }

  private static String source(CacheLimits.Source s) {
    return switch (s) {
      case DEFAULT -> "default";
      case ROOT_SETTINGS -> "the cache's setting";
      case OVERRIDE -> "this process's option";
    };
  }

  private static String who(Holder h) {
    return (h.host().isEmpty() ? "?" : h.host()) + " (pid " + h.pid() + ")";
  }

  private static JsonObject holder(Holder h) {
    return JsonObject.create()
        .put("pid", h.pid())
        .put("host", h.host().isEmpty() ? null : h.host())
        .put("uid", h.uid() < 0 ? null : h.uid())
        .put("since", h.since().truncatedTo(ChronoUnit.MILLIS).toString());
  }
}
