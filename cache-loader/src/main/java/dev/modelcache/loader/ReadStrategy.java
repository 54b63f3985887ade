package dev.modelcache.loader;

/** How {@link Loader} reads tensor bytes from disk. */
public enum ReadStrategy {
  /**
   * Maps each file as one {@code MemorySegment} and hands the sink zero-copy slices of the
   * mapping, one chunk per tensor. The kernel is advised (madvise sequential and will-need)
   * when native access is enabled. Pages are faulted in when the sink touches them. If a file
   * is truncated while mapped, touching the lost pages fails with the JVM's
   * {@code InternalError} (SIGBUS), not an {@code IOException}: use {@link #DIRECT} or
   * {@link #BUFFERED} for files that may change during a load.
   */
  MMAP,
  /**
   * Reads large aligned blocks with {@code O_DIRECT}, bypassing the page cache, several blocks
   * in flight on reader threads and pipelined with the sink through a bounded pool of aligned
   * buffers. Falls back to buffered reads (reported in {@link LoadResult}) where the file
   * system refuses {@code O_DIRECT}.
   */
  DIRECT,
  /** Plain positional reads through the page cache, one block at a time on the calling thread. */
  BUFFERED
}
