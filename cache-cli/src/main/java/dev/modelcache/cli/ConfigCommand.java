package dev.modelcache.cli;

import dev.modelcache.common.json.JsonObject;
import dev.modelcache.core.CacheLimits;
import dev.modelcache.core.CacheSettings;
import dev.modelcache.core.FreeSpace;
import dev.modelcache.core.ModelCache;
import java.io.IOException;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code modelcache config}: the limits stored with the cache root, which every process on the
 * node applies (a process's own {@code --max-size} / {@code --min-free} override them for it alone).
 */
@Command(
    name = "config",
    description = {
      "Show or change the limits stored with the cache, which every process using it applies:",
      "max-size (the most the cache holds; default: no limit) and min-free (free space always",
      "left on the disk, a size or a percentage; default: 5% of the disk, at most 1 GiB)."
    },
    subcommands = {ConfigCommand.Get.class, ConfigCommand.Set.class, ConfigCommand.Unset.class})
final class ConfigCommand implements Callable<Integer> {

  @ParentCommand
  ModelcacheCommand app;

  /** The settings a user names on the command line. */
  enum Key {
    MAX_SIZE("max-size"),
    MIN_FREE("min-free");

    final String label;

    Key(String label) {
      this.label = label;
    }

    static Key of(String text) throws UsageException {
      for (Key k : values()) {
        if (k.label.equals(text.toLowerCase(Locale.ROOT))) {
          return k;
        }
      }
      throw new UsageException(
          "unknown setting '" + text + "': known settings are max-size and min-free");
    }
  }

  @Override
  public Integer call() throws IOException, UsageException {
    return Get.show(app);
  }

  /** {@code config get}: the limits in force, and where each comes from. */
  @Command(name = "get", description = "Show the limits in force and where each comes from.")
  static final class Get implements Callable<Integer> {
    @ParentCommand
    ConfigCommand config;

    @Override
    public Integer call() throws IOException, UsageException {
      return show(config.app);
    }

    static int show(ModelcacheCommand app) throws IOException, UsageException {
      CacheLimits limits;
      CacheSettings settings;
      try (ModelCache cache = app.openCache(false, null, null)) {
        limits = cache.limits();
        settings = cache.settings();
      }
      app.result(
          JsonObject.create()
              .put("root", app.root().toString())
              .put("settingsFile", CacheSettings.file(app.root()).toString())
              .put(
                  "maxSize",
                  settings.maxBytes().isPresent() ? settings.maxBytes().getAsLong() : null)
              .put("minFree", settings.minFree().map(FreeSpace::toString).orElse(null))
              .put("limits", LsCommand.limits(limits)),
          "max-size  " + LsCommand.describeMax(limits) + System.lineSeparator()
              + "min-free  " + LsCommand.describeMinFree(limits) + System.lineSeparator()
              + "(stored in " + CacheSettings.file(app.root()) + ")");
      return ExitCode.OK.status();
    }
  }

  /** {@code config set KEY VALUE}. */
  @Command(
      name = "set",
      description = {
        "Change a limit for every process using the cache, e.g. 'config set max-size 1.5TiB',",
        "'config set min-free 50GiB' or 'config set min-free 5%'."
      })
  static final class Set implements Callable<Integer> {
    @ParentCommand
    ConfigCommand config;

    @Parameters(index = "0", paramLabel = "KEY", description = "max-size or min-free.")
    String key;

    @Parameters(
        index = "1",
        paramLabel = "VALUE",
        description = "A size (1.5TiB, 500G) or, for min-free, a percentage of the disk (5%).")
    String value;

    @Override
    public Integer call() throws IOException, UsageException {
      Key k = Key.of(key);
      java.util.function.UnaryOperator<CacheSettings> change;
      try {
        change = switch (k) {
          case MAX_SIZE -> {
            long bytes = ByteSize.parse(value).bytes();
            if (bytes == 0) {
              throw new UsageException(
                  "max-size 0: a cache of no bytes holds nothing; 'config unset max-size' removes the limit");
            }
            yield s -> s.withMaxBytes(bytes);
          }
          case MIN_FREE -> {
            FreeSpace floor = FreeSpaceArgument.parse(value);
            yield s -> s.withMinFree(floor);
          }
        };
      } catch (IllegalArgumentException e) {
        throw new UsageException(k.label + ": " + e.getMessage());
      }
      return update(config.app, change);
    }
  }

  /** {@code config unset KEY}. */
  @Command(
      name = "unset",
      description =
          "Go back to a limit's default (max-size: none; min-free: 5% of the disk, at most 1 GiB).")
  static final class Unset implements Callable<Integer> {
    @ParentCommand
    ConfigCommand config;

    @Parameters(index = "0", paramLabel = "KEY", description = "max-size or min-free.")
    String key;

    @Override
    public Integer call() throws IOException, UsageException {
      Key k = Key.of(key);
      return update(
          config.app,
          k == Key.MAX_SIZE ? CacheSettings::withoutMaxBytes : CacheSettings::withoutMinFree);
    }
  }

  private static int update(
      ModelcacheCommand app, java.util.function.UnaryOperator<CacheSettings> change)
      throws IOException, UsageException {
    try (ModelCache cache = app.openCache(true, null, null)) {
      cache.updateSettings(change);
    }
    return Get.show(app);
  }
}
