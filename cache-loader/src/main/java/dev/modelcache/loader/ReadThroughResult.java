package dev.modelcache.loader;

import dev.modelcache.core.CacheEntry;
import java.util.Objects;

/**
 * What a {@link ReadThrough#load} did.
 *
 * @param entry the committed entry the model was loaded from, or committed by this load
 * @param cacheHit whether the entry was in the cache when the load began (its tensors were read
 *     from the entry's files); false on a miss, whether this load downloaded the model or waited for
 *     another download of it
 * @param fetchedBytes bytes this process fetched from the store for the entry (0 on a hit, or when
 *     another process downloaded it)
 * @param load what was delivered to the sink: the tensors, the bytes, the files and the time
 */
@SuppressWarnings("exports") // CacheEntry: see module-info
public record ReadThroughResult(
    CacheEntry entry, boolean cacheHit, long fetchedBytes, LoadResult load) {

  /** Checks for nulls and a negative count. */
  public ReadThroughResult {
    Objects.requireNonNull(entry, "entry");
    Objects.requireNonNull(load, "load");
    if (fetchedBytes < 0) {
      throw new IllegalArgumentException("fetchedBytes is negative: " + fetchedBytes);
    }
  }
}
