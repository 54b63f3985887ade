package dev.modelcache.loader;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What a {@link Loader#load} did.
 *
 * @param requestedStrategy the strategy the loader was configured with
 * @param usedStrategy the strategy that actually read the bytes ({@link ReadStrategy#BUFFERED}
 *     when a direct load fell back for at least one file)
 * @param fallbackReason why {@code usedStrategy} differs from {@code requestedStrategy}
 * @param bytesLoaded tensor bytes delivered to the sink
 * @param tensorCount tensors delivered
 * @param fileCount files read
 * @param elapsed wall time of the load
 * @param bufferPoolBytes bytes of read buffers the load held at most (0 for mmap)
 * @param pagesDropped whether the files' cached pages were dropped after loading
 */
public record LoadResult(
    ReadStrategy requestedStrategy,
    ReadStrategy usedStrategy,
    Optional<String> fallbackReason,
    long bytesLoaded,
    int tensorCount,
    int fileCount,
    Duration elapsed,
    long bufferPoolBytes,
    boolean pagesDropped) {

  /** Checks for nulls. */
  public LoadResult {
    Objects.requireNonNull(requestedStrategy, "requestedStrategy");
    Objects.requireNonNull(usedStrategy, "usedStrategy");
    Objects.requireNonNull(fallbackReason, "fallbackReason");
    Objects.requireNonNull(elapsed, "elapsed");
  }

  /** Load throughput in bytes per second. */
  public double bytesPerSecond() {
    long nanos = Math.max(1, elapsed.toNanos());
    return bytesLoaded * 1e9 / nanos;
  }
}
