package dev.modelcache.core.spi;

import java.io.IOException;

/**
 * Creates {@link StorageBackend}s for one URI scheme. Providers are found with
 * {@link java.util.ServiceLoader} ({@code provides dev.modelcache.core.spi.StorageBackendProvider
 * with ...} in a module, or {@code META-INF/services} on the class path).
 */
public interface StorageBackendProvider {

  /** The URI scheme served, lower case, such as {@code "s3"}. */
  String scheme();

  /**
   * Creates a backend.
   *
   * @param options settings the caller gave (an endpoint, a region); unknown keys are rejected
   *     with an {@link IllegalArgumentException} naming the key
   * @throws IOException if the backend cannot be set up
   */
  StorageBackend create(BackendOptions options) throws IOException;
}
