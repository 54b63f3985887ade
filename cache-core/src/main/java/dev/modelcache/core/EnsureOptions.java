package dev.modelcache.core;

import java.time.Duration;
import java.util.Objects;

/**
 * How {@link ModelCache#ensure(ModelSource, EnsureOptions, DownloadListener)} behaves. Immutable;
 * start from {@link #DEFAULTS} and change what you need.
 *
 * @param waitTimeout how long to wait for another process that is downloading the same model
 *     (default 1 hour)
 * @param downloadAfterWait when that wait times out: {@code false} (default) to fail with
 *     {@link CacheTimeoutException}, {@code true} to download in parallel in this process (safe:
 *     each writer stages apart and the first commit wins)
 * @param verify re-read a cached entry's files and compare them with the manifest before
 *     returning it; a damaged, unleased entry is replaced by a fresh download (default false)
 * @param pin pin the entry so eviction never removes it (default false)
 */
public record EnsureOptions(
    Duration waitTimeout, boolean downloadAfterWait, boolean verify, boolean pin) {

  /** Wait up to 1 hour, then fail; no verification; no pin. */
  public static final EnsureOptions DEFAULTS =
      new EnsureOptions(Duration.ofHours(1), false, false, false);

  public EnsureOptions {
    Objects.requireNonNull(waitTimeout, "waitTimeout");
    if (waitTimeout.isNegative()) {
      throw new IllegalArgumentException("waitTimeout is negative: " + waitTimeout);
    }
  }

  /** These options with {@code waitTimeout}. */
  public EnsureOptions withWaitTimeout(Duration waitTimeout) {
    return new EnsureOptions(waitTimeout, downloadAfterWait, verify, pin);
  }

  /** These options with {@code downloadAfterWait}. */
  public EnsureOptions withDownloadAfterWait(boolean downloadAfterWait) {
    return new EnsureOptions(waitTimeout, downloadAfterWait, verify, pin);
  }

  /** These options with {@code verify}. */
  public EnsureOptions withVerify(boolean verify) {
    return new EnsureOptions(waitTimeout, downloadAfterWait, verify, pin);
  }

  /** These options with {@code pin}. */
  public EnsureOptions withPin(boolean pin) {
    return new EnsureOptions(waitTimeout, downloadAfterWait, verify, pin);
  }
}
