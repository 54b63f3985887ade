package dev.modelcache.core;

import java.util.concurrent.atomic.LongAdder;

/**
 * This process's counters of one cache, reported by {@link ModelCache#stats()}. Thread-safe: each
 * counter is a {@link LongAdder}, added to by any thread without locking.
 */
final class StatsCounter {
  /** Ensures answered by a committed entry. */
  final LongAdder hits = new LongAdder();
  /** Ensures that found no committed entry and downloaded or waited for one. */
  final LongAdder misses = new LongAdder();
  /** Bytes read from sources by this cache's downloads. */
  final LongAdder bytesFetched = new LongAdder();
  /** Entries this cache evicted. */
  final LongAdder evictions = new LongAdder();
}
