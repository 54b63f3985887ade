package dev.modelcache.core.spi;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * String settings handed to a {@link StorageBackendProvider}: what a command line or a
 * configuration file can say about a backend (for example {@code endpoint}, {@code region},
 * {@code pathStyle}). Immutable.
 *
 * @param values the settings by key
 */
public record BackendOptions(Map<String, String> values) {

  /** No settings: every backend's defaults. */
  public static final BackendOptions NONE = new BackendOptions(Map.of());

  public BackendOptions {
    values = Map.copyOf(new TreeMap<>(Objects.requireNonNull(values, "values")));
  }

  /** Returns the options with {@code key} set to {@code value}. */
  public BackendOptions with(String key, String value) {
    var copy = new TreeMap<>(values);
    copy.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
    return new BackendOptions(copy);
  }

  /** The value of {@code key}, if set. */
  public Optional<String> get(String key) {
    return Optional.ofNullable(values.get(key));
  }

  /**
   * Fails if any key is not in {@code known}, naming the key and the known ones.
   *
   * @throws IllegalArgumentException on the first unknown key
   */
  public void requireOnly(String scheme, Set<String> known) {
    for (String key : values.keySet()) {
      if (!known.contains(key)) {
        throw new IllegalArgumentException("unknown option '" + key + "' for the " + scheme
            + ": backend; known: " + new java.util.TreeSet<>(known));
      }
    }
  }
}
