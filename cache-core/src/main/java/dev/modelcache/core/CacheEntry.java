package dev.modelcache.core;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A complete, committed model in the cache, as seen when it was looked up. Immutable: the
 * lease count and last use are a snapshot.
 *
 * @param source the model
 * @param name the entry's directory name under the cache root (see {@link ModelSource#cacheName()})
 * @param directory the directory holding the model's files (read-only)
 * @param manifest the files and their integrity data
 * @param lastUsed when the cache last handed the entry out (ensure or lease), recorded by the cache
 * @param pinned whether eviction skips it whatever its age
 * @param leases the live leases, from any process on the node, that hold it: each holder as it
 *     describes itself (for people; its pid is in its own PID namespace)
 */
public record CacheEntry(
    ModelSource source,
    String name,
    Path directory,
    Manifest manifest,
    Instant lastUsed,
    boolean pinned,
    List<Holder> leases) {

  public CacheEntry {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(directory, "directory");
    Objects.requireNonNull(manifest, "manifest");
    Objects.requireNonNull(lastUsed, "lastUsed");
    leases = List.copyOf(leases);
  }

  /** How many live leases hold the entry. */
  public int leaseCount() {
    return leases.size();
  }

  /** The sum of the files' sizes. */
  public long sizeBytes() {
    return manifest.sizeBytes();
  }

  /**
   * The path of one of the model's files, given its {@code /}-separated path in the manifest.
   *
   * @throws IllegalArgumentException if {@code path} would lead outside the entry's directory
   */
  public Path file(String path) {
    Path p = directory.resolve(path).normalize();
    if (!p.startsWith(directory) || p.equals(directory)) {
      throw new IllegalArgumentException("'" + path + "' is not a file inside " + directory);
    }
    return p;
  }
}
