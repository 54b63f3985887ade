package dev.modelcache.core;

import dev.modelcache.core.spi.StorageBackend;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.ExecutorService;

/**
 * What a {@link DownloadJob} needs from the cache that runs it: the root's layout and holders, the
 * shared settings, threads and buffers, and the few cache decisions a download takes part in.
 */
interface DownloadHost {

  CacheLayout layout();

  HolderFiles holders();

  DownloadSettings settings();

  /** The threads that fetch and write ranges, shared by every download of the cache. */
  ExecutorService rangePool();

  BufferPool buffers();

  /** The backend that serves {@code source}'s scheme. */
  StorageBackend backendFor(ModelSource source) throws IOException;

  /** The committed entry named {@code name}, if there is one. */
  Optional<CacheEntry> committedEntry(String name) throws IOException;

  /** Records a use of the entry {@code name}, for eviction order. */
  void touch(String name);

  /**
   * Takes the root's space lock, which serializes every process's decision "this download fits"
   * with its reservation: the gate of {@link #makeRoom} and the preallocation after it.
   */
  FileLocks.Held spaceLock() throws IOException;

  /** Evicts unleased entries until {@code bytesNeeded} more fit, or throws {@link InsufficientSpaceException}. */
  void makeRoom(long bytesNeeded, String forName, ModelSource source) throws IOException;

  /** Usable bytes on the root's file store; 0 when it cannot be read. */
  long usableBytes();

  /** Counts bytes fetched from a source, for {@link CacheStats}. */
  void countFetched(long bytes);

  /** A writer id unique across processes and PID namespaces. */
  String newWriterId();
}
