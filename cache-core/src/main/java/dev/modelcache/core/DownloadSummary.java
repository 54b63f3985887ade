package dev.modelcache.core;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * What one download did; sent with {@link DownloadListener#completed}. Immutable. Only the cache
 * creates summaries; accessors may be added in later versions.
 */
public final class DownloadSummary {

  private final ModelSource source;
  private final long bytesTotal;
  private final long bytesFetched;
  private final long bytesResumed;
  private final long bytesWrittenDirect;
  private final long bytesReadBack;
  private final Duration elapsed;

  DownloadSummary(
      ModelSource source,
      long bytesTotal,
      long bytesFetched,
      long bytesResumed,
      long bytesWrittenDirect,
      long bytesReadBack,
      Duration elapsed) {
    this.source = Objects.requireNonNull(source, "source");
    this.bytesTotal = bytesTotal;
    this.bytesFetched = bytesFetched;
    this.bytesResumed = bytesResumed;
    this.bytesWrittenDirect = bytesWrittenDirect;
    this.bytesReadBack = bytesReadBack;
    this.elapsed = Objects.requireNonNull(elapsed, "elapsed");
  }

  /** The model. */
  public ModelSource source() {
    return source;
  }

  /** The model's size in bytes. */
  public long bytesTotal() {
    return bytesTotal;
  }

  /** Bytes read from the source by this download, retries and files fetched again included. */
  public long bytesFetched() {
    return bytesFetched;
  }

  /** Bytes taken over from an interrupted download, after re-checking them. */
  public long bytesResumed() {
    return bytesResumed;
  }

  /**
   * Bytes this download wrote with O_DIRECT, bypassing the page cache (0 when direct writes are
   * off or the file system refused them).
   */
  public long bytesWrittenDirect() {
    return bytesWrittenDirect;
  }

  /**
   * Bytes this download read back from the staging files after writing them, to check them (with
   * {@link ModelCache.Builder#readBack} off, only those of files whose source digest needs their
   * bytes in order); blocks re-checked on resume are not counted.
   */
  public long bytesReadBack() {
    return bytesReadBack;
  }

  /** From the start of the download (after the listing) to its commit. */
  public Duration elapsed() {
    return elapsed;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DownloadSummary s
        && source.equals(s.source)
        && bytesTotal == s.bytesTotal
        && bytesFetched == s.bytesFetched
        && bytesResumed == s.bytesResumed
        && bytesWrittenDirect == s.bytesWrittenDirect
        && bytesReadBack == s.bytesReadBack
        && elapsed.equals(s.elapsed);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        source, bytesTotal, bytesFetched, bytesResumed, bytesWrittenDirect, bytesReadBack, elapsed);
  }

  @Override
  public String toString() {
    return String.format(
        Locale.ROOT,
        "DownloadSummary[source=%s, bytesTotal=%d, bytesFetched=%d, bytesResumed=%d, bytesWrittenDirect=%d, bytesReadBack=%d, elapsed=%s]",
        source,
        bytesTotal,
        bytesFetched,
        bytesResumed,
        bytesWrittenDirect,
        bytesReadBack,
        elapsed);
  }
}
