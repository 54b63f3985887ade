package dev.modelcache.core.internal;

import dev.modelcache.core.spi.BackendOptions;
import dev.modelcache.core.spi.StorageBackend;
import dev.modelcache.core.spi.StorageBackendProvider;
import java.util.Set;

/** Registers the {@code file:} backend; it takes no options. */
public final class FileBackendProvider implements StorageBackendProvider {

  @Override
  public String scheme() {
    return "file";
  }

  @Override
  public StorageBackend create(BackendOptions options) {
    options.requireOnly("file", Set.of());
    return new FileBackend();
  }
}
