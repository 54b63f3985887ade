package dev.modelcache.core;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Decides whether a download fits the root's limits ({@link CacheLimits}: {@code maxBytes} over
 * committed entries and other live downloads' reservations, {@code minFreeBytes} on the file
 * system) and makes room when it does not: first by deleting abandoned downloads
 * ({@link Janitor}), then by evicting least recently used entries ({@link Eviction}).
 *
 * <p>Thread-safe and stateless. Callers hold the root's space lock ({@code locks/space}, see
 * {@link DownloadHost#spaceLock()}) around {@link #makeRoom} and their reservation, so that
 * processes decide "this fits" one at a time; the accounting itself reads the disk afresh.
 */
final class SpaceAccounting {

  private final CacheLayout layout;
  private final SpaceLimits limits;
  private final EntryStore store;
  private final DownloadListing downloads;
  private final Janitor janitor;
  private final Eviction eviction;

  SpaceAccounting(
      CacheLayout layout,
      SpaceLimits limits,
      EntryStore store,
      DownloadListing downloads,
      Janitor janitor,
      Eviction eviction) {
    this.layout = layout;
    this.limits = limits;
    this.store = store;
    this.downloads = downloads;
    this.janitor = janitor;
    this.eviction = eviction;
  }

  /** Usable bytes on the root's file store; 0 when it cannot be read. */
  long usableBytes() {
    try {
      return Files.getFileStore(layout.root).getUsableSpace();
    } catch (IOException e) {
      return 0;
    }
  }

  /**
   * Makes room for {@code bytesNeeded} more bytes by evicting least recently used entries that
   * are neither leased nor pinned; fails at once, evicting nothing, if even that would not be enough.
   *
   * @param forName the entry being downloaded, whose own staging and entry are left alone
   * @throws InsufficientSpaceException naming the bytes needed and available and the limits
   */
  void makeRoom(long bytesNeeded, String forName, ModelSource source) throws IOException {
    CacheLimits now = limits.current();
    // Downloads before entries: a download that commits in between is then counted twice (as a
    // reservation and an entry), which is safe, and never missed.
    List<DownloadStatus> inProgress = downloads.downloads();
    List<CacheEntry> entries = store.entries();
    long used = 0;
    for (CacheEntry e : entries) {
      used += e.sizeBytes();
    }
    for (DownloadStatus d : inProgress) {
      if (d.spaceReserved() && d.writerAlive() && !d.name().equals(forName)) {
        used += d.bytesTotal(); // another live download has reserved this much
      }
    }
    long usable = usableBytes();
    if (fits(now, bytesNeeded, used, usable)) {
      return;
    }
    if (janitor.removeAbandonedDownloads(forName) > 0) {
      usable = usableBytes();
      if (fits(now, bytesNeeded, used, usable)) {
        return;
      }
    }
    List<CacheEntry> candidates = new ArrayList<>();
    long freeable = 0;
    for (CacheEntry e : entries) {
      if (!e.pinned() && e.leaseCount() == 0 && !e.name().equals(forName)) {
        candidates.add(e);
        freeable += e.sizeBytes();
      }
    }
    if (!fits(now, bytesNeeded, used - freeable, usable + freeable)) {
      throw insufficient(
          now,
          source,
          bytesNeeded,
          used - freeable,
          usable + freeable,
          entries.size() - candidates.size());
    }
    for (CacheEntry e : candidates) {
      if (fits(now, bytesNeeded, used, usable)) {
        break;
      }
      if (eviction.evict(e.name(), false)) {
        used -= e.sizeBytes();
        usable = Math.max(usableBytes(), usable);
      }
    }
    if (!fits(now, bytesNeeded, used, usable)) {
      throw insufficient(now, source, bytesNeeded, used, usable, -1);
    }
  }

  private static boolean fits(CacheLimits limits, long need, long used, long usable) {
    return (limits.maxBytes() == 0 || used + need <= limits.maxBytes())
        && usable - need >= limits.minFreeBytes();
  }

  private static InsufficientSpaceException insufficient(
      CacheLimits limits, ModelSource source, long need, long used, long usable, int kept) {
    long maxBytes = limits.maxBytes();
    long minFreeBytes = limits.minFreeBytes();
    long byLimit = maxBytes == 0 ? Long.MAX_VALUE : maxBytes - used;
    long available = Math.max(0, Math.min(byLimit, usable - minFreeBytes));
    return new InsufficientSpaceException(
        String.format(
            Locale.ROOT,
            "%s needs %d bytes but the cache can make only %d available (maxBytes %d%s, %d bytes kept in entries and"
                + " other downloads%s; %d bytes free on disk, minFreeBytes %d%s)",
            source,
            need,
            available,
            maxBytes,
            from(limits.maxBytesSource()),
            used,
            kept >= 0 ? " of which " + kept + " leased or pinned entries cannot be evicted" : "",
            usable,
            minFreeBytes,
            from(limits.minFreeSource())),
        need,
        available);
  }

  private static String from(CacheLimits.Source source) {
    return switch (source) {
      case DEFAULT -> "";
      case ROOT_SETTINGS -> " from the root's settings";
      case OVERRIDE -> " set by this process";
    };
  }
}
