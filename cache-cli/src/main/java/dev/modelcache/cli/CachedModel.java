package dev.modelcache.cli;

import dev.modelcache.core.EntryNotFoundException;
import dev.modelcache.core.Lease;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The {@code PATH|SOURCE} argument of {@code load} and {@code warm}: a local model, or a model in
 * the cache, leased for as long as the command uses it so that no process evicts it meanwhile.
 */
final class CachedModel {

  @Parameters(
      paramLabel = "PATH|SOURCE",
      description =
          "A model file or directory, or the source URI of a cached model (s3://bucket/prefix/).")
  String target;

  @Option(names = "--revision", paramLabel = "R", description = "The revision of SOURCE.")
  String revision;

  /** The model's local path, and what to release when done with it. */
  interface Resolved extends AutoCloseable {
    Path path();

    @Override
    void close() throws IOException;
  }

  /**
   * Finds the model: a path as given, or the cached entry of a source, leased.
   *
   * @throws UsageException if a path does not exist, or --revision is given with a path
   * @throws EntryNotFoundException if a source is not in the cache
   */
  Resolved resolve(ModelcacheCommand app) throws IOException, UsageException {
    var argument = new ModelArgument(target);
    if (!argument.isSource()) {
      if (revision != null) {
        throw new UsageException("--revision applies to a SOURCE, not to the path " + target);
      }
      Path path = argument.existingPath();
      return new Resolved() {
        @Override
        public Path path() {
          return path;
        }

        @Override
        public void close() {}
      };
    }
    var sourceArgument = new SourceArgument();
    sourceArgument.source = target;
    sourceArgument.revision = revision;
    ModelSource model = sourceArgument.model();
    if (!java.nio.file.Files.isDirectory(app.root())) {
      throw new EntryNotFoundException(model + " is not in the cache: there is no cache at "
          + app.root() + " (run 'modelcache prefetch " + model + "' first)");
    }
    ModelCache cache = app.openCache(false, null, model);
    boolean success = false;
    try {
      var entry = cache
          .getIfPresent(model)
          .orElseThrow(() -> new EntryNotFoundException(model + " is not in the cache at "
              + app.root() + " (run 'modelcache prefetch " + model + "' first)"));
      Lease lease = cache.lease(entry);
      success = true;
      return new Resolved() {
        @Override
        public Path path() {
          return lease.directory();
        }

        @Override
        public void close() {
          lease.close();
          cache.close();
        }
      };
    } finally {
      if (!success) {
        cache.close();
      }
    }
  }
}
