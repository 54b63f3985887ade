package dev.modelcache.core;

/**
 * Receives the progress of one download. Every method has an empty default.
 *
 * <p>Lifecycle: for each download exactly one {@link #started} and then exactly one of
 * {@link #completed} or {@link #failed}, with {@link #progress} and {@link #fileCompleted} in
 * between. A listener given to a call that joins a download already running (another thread of
 * the same cache) gets the same events, {@code started} first. No events are sent when no download
 * happens: the entry was already cached, another process downloaded it, or the source could not be
 * listed (that error reaches the caller directly).
 *
 * <p>Methods are called from the cache's download threads and must not block. An exception
 * thrown by a listener is logged and ignored: it never breaks the download.
 */
public interface DownloadListener {

  /** A listener that ignores everything. */
  DownloadListener NONE = new DownloadListener() {};

  /**
   * The download began.
   *
   * @param source the model
   * @param bytesTotal the model's size
   */
  default void started(ModelSource source, long bytesTotal) {}

  /**
   * More bytes are on disk. Sent at most every few tens of milliseconds and once at the end.
   *
   * @param bytesDone bytes on disk, resumed bytes included
   * @param bytesTotal the model's size
   * @param bytesPerSecond the rate of this download so far
   */
  default void progress(long bytesDone, long bytesTotal, long bytesPerSecond) {}

  /**
   * One file is fully written (not yet verified).
   *
   * @param path the file's path in the manifest
   * @param sizeBytes its size
   */
  default void fileCompleted(String path, long sizeBytes) {}

  /** The entry is verified and committed. */
  default void completed(CacheEntry entry, DownloadSummary summary) {}

  /** The download failed; {@code error} is also what the caller receives. */
  default void failed(Exception error) {}
}
