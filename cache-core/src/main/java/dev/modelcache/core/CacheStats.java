package dev.modelcache.core;

/**
 * A snapshot of the cache: disk state (shared by every process using the root) and this
 * instance's counters.
 *
 * @param entryCount committed entries
 * @param entryBytes their total size
 * @param downloadsInProgress staging directories on disk (live or interrupted downloads)
 * @param maxBytes the configured size limit, {@code 0} for none
 * @param minFreeBytes the configured free-space watermark
 * @param usableBytes free space on the cache's filesystem now
 * @param hits ensure calls by this instance answered by a committed entry
 * @param misses ensure calls by this instance that downloaded or waited for a download
 * @param bytesFetched bytes this instance read from sources
 * @param evictions entries this instance evicted
 * @param liveness how processes on this root judge whether a lease or download holder is alive
 * @param heartbeatExpiry the heartbeat expiry when {@code liveness} is {@link Liveness#HEARTBEAT};
 *     unused otherwise
 * @param limits the space limits in force and where each comes from
 * @param evictableBytes what eviction could free now: entries neither leased nor pinned
 */
public record CacheStats(
    int entryCount,
    long entryBytes,
    int downloadsInProgress,
    long maxBytes,
    long minFreeBytes,
    long usableBytes,
    long hits,
    long misses,
    long bytesFetched,
    long evictions,
    Liveness liveness,
    java.time.Duration heartbeatExpiry,
    CacheLimits limits,
    long evictableBytes) {}
