package dev.modelcache.cli;

import dev.modelcache.core.ModelSource;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The {@code SOURCE [--revision R]} of the cache commands. */
final class SourceArgument {

  @Parameters(
      paramLabel = "SOURCE",
      description =
          "The model's source prefix: s3://bucket/prefix/ or file:///mnt/models/name/ (an optional #revision may follow).")
  String source;

  @Option(
      names = "--revision",
      paramLabel = "R",
      description = "The model's revision: a new revision is a separate cache entry.")
  String revision;

  /**
   * The model this argument names.
   *
   * @throws UsageException if the URI is not a valid source, or two different revisions are given
   */
  ModelSource model() throws UsageException {
    ModelSource parsed;
    try {
      parsed = ModelSource.parse(source);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    if (revision == null) {
      return parsed;
    }
    if (parsed.revision() != null && !parsed.revision().equals(revision)) {
      throw new UsageException("two revisions given: '" + parsed.revision() + "' in " + source
          + " and --revision " + revision);
    }
    return parsed.withRevision(revision);
  }
}
