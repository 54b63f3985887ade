package dev.modelcache.core;

import java.time.Duration;

/**
 * The settings every download of one cache shares, fixed when the cache is built.
 *
 * @param partSizeBytes the block size: what one transfer buffer holds, and one checksum covers
 * @param blocksPerRequest consecutive blocks of one file asked for in one request, at least 1
 * @param concurrency how many requests are in flight at once
 * @param directWrites whether blocks are written with {@code O_DIRECT} where the file system allows
 * @param readBack whether every block is read back from the disk after it is written; otherwise
 *     only blocks of files whose source digest needs their bytes in order are
 * @param requireSourceVerification whether a file the source's checksum cannot confirm fails the download
 * @param directOpener opens a staging file for direct writes (tests inject refusals)
 * @param maxAttempts attempts per block before the download fails
 * @param retryInitialDelay the first backoff between attempts
 * @param retryMaxDelay the longest backoff between attempts
 */
record DownloadSettings(
    int partSizeBytes,
    int blocksPerRequest,
    int concurrency,
    boolean directWrites,
    boolean readBack,
    boolean requireSourceVerification,
    DirectIo.Opener directOpener,
    int maxAttempts,
    Duration retryInitialDelay,
    Duration retryMaxDelay) {

  /** The backoff before attempt {@code attempt + 1}, in milliseconds. */
  long backoffMillis(int attempt) {
    return RangeFetcher.backoffMillis(attempt, retryInitialDelay, retryMaxDelay);
  }
}
