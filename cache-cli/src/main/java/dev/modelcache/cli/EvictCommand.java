package dev.modelcache.cli;

import dev.modelcache.common.json.JsonObject;
import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code modelcache evict}: remove one model, every unused model, or the least recently used down to a size. */
@Command(
    name = "evict",
    description = {
      "Remove models from the cache; never leased (in use) or pinned ones.",
      "'evict SOURCE' fails for a leased or pinned model; --unused and --to-bytes skip them."
    })
final class EvictCommand implements Callable<Integer> {

  @ParentCommand
  ModelcacheCommand app;

  /** Exactly one way of choosing what to evict. */
  static final class Selection {
    @Parameters(
        paramLabel = "SOURCE",
        description = "The model to evict (with --revision R for one revision).")
    String source;

    @Option(
        names = "--unused",
        required = true,
        description = "Evict every model that is neither leased nor pinned.")
    boolean unused;

    @Option(
        names = "--to-bytes",
        required = true,
        paramLabel = "SIZE",
        description =
            "Evict least recently used, unleased, unpinned models until the cache holds at most SIZE, e.g. 500GiB.")
    ByteSize toBytes;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Selection selection;

  @Option(names = "--revision", paramLabel = "R", description = "The revision of SOURCE.")
  String revision;

  @Override
  public Integer call() throws IOException, UsageException {
    if (revision != null && selection.source == null) {
      throw new UsageException("--revision applies to 'evict SOURCE' only");
    }
    List<CacheEntry> evicted = new ArrayList<>();
    try (ModelCache cache = app.openCache(false, null, null)) {
      if (selection.source != null) {
        var argument = new SourceArgument();
        argument.source = selection.source;
        argument.revision = revision;
        ModelSource model = argument.model();
        CacheEntry entry = cache.getIfPresent(model).orElse(null);
        if (entry != null && cache.evict(model)) {
          evicted.add(entry);
        } else {
          app.note("evict: " + model + " is not in the cache");
        }
      } else if (selection.unused) {
        evicted.addAll(cache.evictUnused());
      } else {
        evicted.addAll(cache.evictToBytes(selection.toBytes.bytes()));
      }
    }
    long freed = evicted.stream().mapToLong(CacheEntry::sizeBytes).sum();
    List<JsonObject> list = new ArrayList<>();
    var text = new StringBuilder();
    for (CacheEntry e : evicted) {
      list.add(JsonObject.create()
          .put("source", e.source().uri().toString())
          .put("revision", e.source().revision())
          .put("sizeBytes", e.sizeBytes()));
      text.append("evicted ")
          .append(e.source())
          .append(" (")
          .append(ByteSize.format(e.sizeBytes()))
          .append(')')
          .append(System.lineSeparator());
    }
    text.append("freed ").append(ByteSize.format(freed));
    app.result(JsonObject.create().put("evicted", list).put("freedBytes", freed), text.toString());
    return ExitCode.OK.status();
  }
}
