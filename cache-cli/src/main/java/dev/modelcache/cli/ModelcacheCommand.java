package dev.modelcache.cli;

import dev.modelcache.common.json.JsonObject;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code modelcache}: the global options, shared by every subcommand, and what the subcommands
 * use to talk to the user (results on stdout, progress and notes on stderr).
 */
@Command(
    name = "modelcache",
    mixinStandardHelpOptions = true,
    scope = ScopeType.INHERIT, // every subcommand gets --help and --version
    sortOptions = false,
    versionProvider = ModelcacheCommand.Version.class,
    usageHelpAutoWidth = true,
    description = {
      "A node-local cache and fast loader for large model weights.",
      "",
      "Exit status: 0 success, 1 runtime failure (I/O, remote store), 2 usage error,",
      "3 invalid or corrupt data, 4 timed out; exec exits with its command's status,",
      "unless it stops the command itself (not ready in time: 4, a failed warmup: 1).",
      "'modelcache COMMAND --help' shows a command's options."
    })
final class ModelcacheCommand implements Callable<Integer> {

  private final CommandContext context;

  @Spec
  CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--root",
      paramLabel = "DIR",
      scope = ScopeType.INHERIT,
      description =
          "Cache directory (default: $MODELCACHE_ROOT, else /var/cache/modelcache for root, "
              + "else $XDG_CACHE_HOME/modelcache or ~/.cache/modelcache).")
  Path root;

  @Option(
      names = "--json",
      scope = ScopeType.INHERIT,
      description = "Print the result as one JSON document on stdout, and nothing else there.")
  boolean json;

  @Option(
      names = {"-q", "--quiet"},
      scope = ScopeType.INHERIT,
      description = "No progress or notes on stderr; errors only.")
  boolean quiet;

  @Option(
      names = "--debug",
      scope = ScopeType.INHERIT,
      description = "Show stack traces and library log messages.")
  boolean debug;

  ModelcacheCommand(CommandContext context) {
    this.context = context;
  }

  CommandContext context() {
    return context;
  }

  /** The cache root this run uses. */
  Path root() {
    return CacheRoot.resolve(root, context.env());
  }

  boolean json() {
    return json;
  }

  boolean quiet() {
    return quiet;
  }

  boolean debug() {
    return debug;
  }

  /**
   * Opens the cache at {@link #root()}.
   *
   * @param createRoot whether a missing root is created (commands that fill the cache), rather than
   *     reported (commands that read it: a missing root there usually means a volume that did not mount)
   * @param download transfer settings for downloads of {@code source}, or null
   */
  ModelCache openCache(boolean createRoot, DownloadOptions download, ModelSource source)
      throws IOException, UsageException {
    ModelCache.Builder builder = ModelCache.builder().root(root());
    if (createRoot) {
      builder.createRootIfMissing();
    }
    if (download != null) {
      download.applyTo(builder, source);
    }
    ModelCache cache = builder.build();
    if (download != null) {
      boolean success = false;
      try {
        download.noteOverrides(this, cache);
        success = true;
      } finally {
        if (!success) {
          cache.close();
        }
      }
    }
    return cache;
  }

  /** Prints a command's result: the JSON document with {@code --json}, else the text (if any). */
  void result(JsonObject document, String text) {
    if (json) {
      context.out().println(document);
    } else if (text != null) {
      context.out().println(text);
    }
    context.out().flush();
  }

  /** A note for people on stderr (what is happening, what was found), unless {@code --quiet}. */
  void note(String line) {
    if (!quiet) {
      context.err().println(line);
      context.err().flush();
    }
  }

  /** Starts a progress display on stderr, in the style this run calls for. */
  Progress progress(String label, long totalBytes) {
    Progress.Style style = quiet
        ? Progress.Style.NONE
        : context.terminal() ? Progress.Style.BAR : Progress.Style.LINES;
    return Progress.start(context.err(), style, label, totalBytes, context.progressInterval());
  }

  @Override
  public Integer call() throws UsageException {
    throw new UsageException(
        "missing command: one of " + String.join(", ", spec.subcommands().keySet()));
  }

  /** Reads the version Maven wrote into the resources. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
      var props = new Properties();
      try (InputStream in = ModelcacheCommand.class.getResourceAsStream("version.properties")) {
        if (in != null) {
          props.load(in);
        }
      }
      return new String[] {
        "modelcache " + props.getProperty("version", "unknown"),
        "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"
      };
    }
  }
}
