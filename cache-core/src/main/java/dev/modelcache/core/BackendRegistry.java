package dev.modelcache.core;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.modelcache.core.spi.BackendOptions;
import dev.modelcache.core.spi.StorageBackend;
import dev.modelcache.core.spi.StorageBackendProvider;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The storage backends of one cache, by scheme: the instances its builder was given (the caller
 * keeps them) and those it creates on first use through {@link StorageBackendProvider}s found with
 * {@link ServiceLoader} (the registry owns and closes them).
 *
 * <p>Thread-safe. Lookups of a known scheme read a concurrent map without locking; creating a
 * backend, and closing, hold this registry's monitor, so each scheme gets one backend.
 */
final class BackendRegistry {

  private static final System.Logger LOG = System.getLogger(BackendRegistry.class.getName());

  private final Map<String, StorageBackend> backends = new ConcurrentHashMap<>();

  @GuardedBy("this")
  private final Set<StorageBackend> owned = new HashSet<>();

  private final Map<String, BackendOptions> options;

  /**
   * @param options settings for the backends the registry creates, by lower-case scheme
   * @param given backends to use as they are, by lower-case scheme; never closed here
   */
  BackendRegistry(Map<String, BackendOptions> options, Map<String, StorageBackend> given) {
    this.options = Map.copyOf(options);
    this.backends.putAll(given);
  }

  /**
   * The backend that serves {@code source}'s scheme, created on first use.
   *
   * @throws InvalidModelSourceException if no backend serves the scheme, naming those available
   */
  StorageBackend backendFor(ModelSource source) throws IOException {
    String scheme = source.scheme();
    StorageBackend existing = backends.get(scheme);
    if (existing != null) {
      return existing;
    }
    synchronized (this) {
      existing = backends.get(scheme);
      if (existing != null) {
        return existing;
      }
      List<String> known = new ArrayList<>(backends.keySet());
      for (StorageBackendProvider p : ServiceLoader.load(
          StorageBackendProvider.class, BackendRegistry.class.getClassLoader())) {
        known.add(p.scheme());
        if (p.scheme().equals(scheme)) {
          StorageBackend created = p.create(options.getOrDefault(scheme, BackendOptions.NONE));
          owned.add(created);
          backends.put(scheme, created);
          return created;
        }
      }
      throw new InvalidModelSourceException("no storage backend for scheme '" + scheme + "' of "
          + source + "; available: " + new TreeSet<>(known) + " (add the module that provides it)");
    }
  }

  /** Closes the backends this registry created, logging failures; given ones stay open. */
  synchronized void closeOwned() {
    for (StorageBackend b : owned) {
      try {
        b.close();
      } catch (IOException e) {
        LOG.log(Level.WARNING, "closing the " + b.scheme() + ": backend failed: " + e);
      }
    }
  }
}
