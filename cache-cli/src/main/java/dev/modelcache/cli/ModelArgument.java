package dev.modelcache.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * A {@code PATH|SOURCE} argument: a source URI ({@code s3://bucket/prefix/}, {@code file:///mnt/m/})
 * names a model in the cache; anything else is a local file or directory.
 *
 * @param text the argument as typed
 */
record ModelArgument(String text) {

  private static final Pattern URI_SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:.*");

  /** Whether the argument is a source URI rather than a path. */
  boolean isSource() {
    // A one-letter scheme would be a Windows drive ("C:\models"), not a URI.
    return URI_SCHEME.matcher(text).matches() && text.indexOf(':') > 1;
  }

  /**
   * The argument as an existing local path.
   *
   * @throws UsageException if nothing exists there
   */
  Path existingPath() throws UsageException {
    Path path = Path.of(text);
    if (!Files.exists(path)) {
      throw new UsageException("no such file or directory: " + text);
    }
    return path;
  }

  @Override
  public String toString() {
    return text;
  }
}
