package dev.modelcache.core;

import java.util.List;

/**
 * What the cache holds: committed entries, and, apart from them, downloads in progress.
 *
 * @param entries complete entries, least recently used first
 * @param downloads downloads in progress or interrupted, not usable until committed
 */
public record CacheListing(List<CacheEntry> entries, List<DownloadStatus> downloads) {
  public CacheListing {
    entries = List.copyOf(entries);
    downloads = List.copyOf(downloads);
  }

  /** The sum of the committed entries' sizes. */
  public long entryBytes() {
    return entries.stream().mapToLong(CacheEntry::sizeBytes).sum();
  }
}
