/**
 * The node-local model cache: identity, manifests, the download engine, leases, eviction and the
 * storage-backend SPI.
 */
module dev.modelcache.core {
  requires com.github.benmanes.caffeine;
  requires dev.modelcache.common;
  requires com.google.common;
  requires static com.google.errorprone.annotations;
  requires jdk.unsupported; // com.sun.nio.file.ExtendedOpenOption.DIRECT

  exports dev.modelcache.core;
  exports dev.modelcache.core.spi;

  uses dev.modelcache.core.spi.StorageBackendProvider;

  provides dev.modelcache.core.spi.StorageBackendProvider with
      dev.modelcache.core.internal.FileBackendProvider;
}
