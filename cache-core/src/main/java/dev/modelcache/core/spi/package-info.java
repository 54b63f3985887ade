/**
 * The storage-backend SPI: how the cache lists a source and reads byte ranges of its objects.
 * Implement {@link dev.modelcache.core.spi.StorageBackend} and register a
 * {@link dev.modelcache.core.spi.StorageBackendProvider} to add a URI scheme.
 */
package dev.modelcache.core.spi;
