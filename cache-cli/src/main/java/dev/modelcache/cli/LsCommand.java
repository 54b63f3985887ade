package dev.modelcache.cli;

import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.CacheListing;
import dev.modelcache.core.DownloadStatus;
import dev.modelcache.core.ModelCache;
import java.io.IOException;
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
      "downloads show bytes done and whether their process still runs."
    })
final class LsCommand implements Callable<Integer> {

  private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

  @ParentCommand ModelcacheCommand app;

  @Override
  public Integer call() throws IOException, UsageException {
    CacheListing listing;
    try (ModelCache cache = app.openCache(false, null, null)) {
      listing = cache.list();
    }
    List<Json> entries = new ArrayList<>();
    var table = new TextTable("SOURCE", "REVISION", ">SIZE", "STATE", "LAST USE", "PINNED", ">LEASES");
    for (CacheEntry e : listing.entries()) {
      entries.add(
          Json.object()
              .put("source", e.source().uri().toString())
              .put("revision", e.source().revision())
              .put("name", e.name())
              .put("path", e.directory().toString())
              .put("sizeBytes", e.sizeBytes())
              .put("state", "complete")
              .put("lastUsed", e.lastUsed().truncatedTo(ChronoUnit.MILLIS).toString())
              .put("pinned", e.pinned())
              .put("leases", e.leaseCount()));
      table.row(
          e.source().uri(),
          e.source().revisionLabel().orElse("-"),
          ByteSize.format(e.sizeBytes()),
          "complete",
          WHEN.format(e.lastUsed()),
          e.pinned() ? "yes" : "no",
          e.leaseCount());
    }
    List<Json> downloads = new ArrayList<>();
    var inProgress = new TextTable("SOURCE", "REVISION", ">DONE", ">SIZE", "STATE", ">PID");
    for (DownloadStatus d : listing.downloads()) {
      String state = d.writerAlive() ? "downloading" : "interrupted";
      downloads.add(
          Json.object()
              .put("source", d.source().uri().toString())
              .put("revision", d.source().revision())
              .put("name", d.name())
              .put("bytesDone", d.bytesDone())
              .put("sizeBytes", d.bytesTotal())
              .put("state", state)
              .put("writerPid", d.writerPid() < 0 ? null : d.writerPid()));
      inProgress.row(
          d.source().uri(),
          d.source().revisionLabel().orElse("-"),
          ByteSize.format(d.bytesDone()),
          ByteSize.format(d.bytesTotal()),
          state,
          d.writerPid() < 0 ? "-" : d.writerPid());
    }
    var text = new StringBuilder();
    text.append(listing.entries().isEmpty() ? "no cached models in " + app.root() : table.toString());
    text.append(System.lineSeparator())
        .append(listing.entries().size())
        .append(listing.entries().size() == 1 ? " model, " : " models, ")
        .append(ByteSize.format(listing.entryBytes()))
        .append(" in ")
        .append(app.root());
    if (!listing.downloads().isEmpty()) {
      text.append(System.lineSeparator()).append(System.lineSeparator()).append("downloads:").append(System.lineSeparator()).append(inProgress);
    }
    app.result(
        Json.object()
            .put("root", app.root().toString())
            .put("totalBytes", listing.entryBytes())
            .put("entries", entries)
            .put("downloads", downloads),
        text.toString());
    return ExitCode.OK.status();
  }
}
