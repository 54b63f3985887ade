package dev.modelcache.core;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Removes committed entries: on request, to a size, to make room for a download, and to replace a
 * damaged copy. Every path goes through {@link #moveAside}, the one place that decides whether an
 * entry may go: never while leased (by any process), never while pinned unless it is being
 * replaced.
 *
 * <p>Thread-safe; it holds no state of its own but a counter. Deciding and moving hold the entry's
 * gate lock ({@code locks/NAME.gate}, exclusive between threads and, where the file system honours
 * locks, between processes), the lock {@link EntryStore#lease} holds while it creates a lease.
 * Because that lock may be a no-op, the leases are counted again after the move, and the entry is
 * put back if one appeared.
 */
final class Eviction {

  private static final System.Logger LOG = System.getLogger(Eviction.class.getName());

  /** What to do when an entry may not go; may throw to report it. */
  @FunctionalInterface
  private interface Refusal {
    /**
     * @param pinned whether a pin keeps it
     * @param leases the live leases that keep it (0 if a pin does)
     */
    void refused(boolean pinned, int leases) throws IOException;
  }

  private static final Refusal QUIETLY = (pinned, leases) -> {};

  private final CacheLayout layout;
  private final EntryStore store;
  private final StatsCounter stats;

  Eviction(CacheLayout layout, EntryStore store, StatsCounter stats) {
    this.layout = layout;
    this.store = store;
    this.stats = stats;
  }

  /**
   * Evicts one entry unless it is pinned or leased.
   *
   * @param explicit whether a caller asked for this entry: a pin or lease then fails the call
   * @return whether the entry was evicted
   * @throws EntryInUseException if {@code explicit} and a pin or lease keeps the entry
   */
  boolean evict(String name, boolean explicit) throws IOException {
    Refusal refusal = explicit
        ? (pinned, leases) -> {
          throw new EntryInUseException(
              pinned
                  ? "cannot evict entry " + name + ": it is pinned (unpin it first)"
                  : "cannot evict entry " + name + ": " + leases + " live lease(s) hold it");
        }
        : QUIETLY;
    Optional<Path> trash = moveAside(name, true, refusal);
    if (trash.isEmpty()) {
      return false;
    }
    store.forgetUse(name);
    stats.evictions.increment();
    LOG.log(Level.DEBUG, () -> "evicted " + name);
    DurableFiles.deleteTree(trash.get());
    return true;
  }

  /**
   * Evicts least recently used entries that are neither leased nor pinned until the committed
   * entries total at most {@code targetBytes}, or nothing more may be evicted.
   *
   * @return the entries evicted, in eviction order
   */
  List<CacheEntry> evictToBytes(long targetBytes) throws IOException {
    List<CacheEntry> evicted = new ArrayList<>();
    List<CacheEntry> entries = store.entries();
    long total = entries.stream().mapToLong(CacheEntry::sizeBytes).sum();
    for (CacheEntry e : entries) {
      if (total <= targetBytes) {
        break;
      }
      if (!e.pinned() && e.leaseCount() == 0 && evict(e.name(), false)) {
        evicted.add(e);
        total -= e.sizeBytes();
      }
    }
    return evicted;
  }

  /**
   * Moves a damaged entry out of the way so that it is downloaded again, pinned or not.
   *
   * @param path the damaged file, for the exception
   * @param offsetBytes where in it the damage is, or -1
   * @throws IntegrityException if it is leased, so that it cannot be replaced now
   */
  void replaceDamaged(ModelSource source, String name, String path, long offsetBytes, String why)
      throws IOException {
    Optional<Path> trash = moveAside(name, false, (pinned, leases) -> {
      throw new IntegrityException(
          "the cached copy of " + source + " is damaged (" + why
              + ") but leased, so it cannot be replaced now",
          path,
          offsetBytes);
    });
    if (trash.isPresent()) {
      DurableFiles.deleteTree(trash.get());
    }
  }

  /**
   * Under the entry's gate lock: unless the entry is absent, pinned (when {@code pinsCount}) or
   * leased, renames it into the trash; then counts its leases again, and puts it back if a lease
   * slipped in past a lock that is a no-op here.
   *
   * @return the entry's directory in the trash, for the caller to delete; empty if it stayed
   */
  @SuppressWarnings("try") // the lock is held for the block, not used in it
  private Optional<Path> moveAside(String name, boolean pinsCount, Refusal refusal)
      throws IOException {
    Path trash = layout.trash.resolve(name + "." + UUID.randomUUID());
    Path dir = layout.entryDir(name);
    try (FileLocks.Held gate = FileLocks.lock(layout.gateLock(name))) {
      if (!Files.exists(dir)) {
        return Optional.empty();
      }
      if (pinsCount && store.pinned(name)) {
        refusal.refused(true, 0);
        return Optional.empty();
      }
      int leases = store.liveLeases(name).size();
      if (leases > 0) {
        refusal.refused(false, leases);
        return Optional.empty();
      }
      try {
        Files.move(dir, trash, StandardCopyOption.ATOMIC_MOVE);
      } catch (NoSuchFileException e) {
        return Optional.empty();
      }
      leases = store.liveLeases(name).size();
      if (leases > 0 && putBack(trash, name)) {
        refusal.refused(false, leases);
        return Optional.empty();
      }
    }
    return Optional.of(trash);
  }

  /**
   * Renames an entry moved aside back into place.
   *
   * @return true if it is back; false if a new copy was committed meanwhile (the rename fails on
   *     a non-empty target), which the lease holder sees instead
   */
  private boolean putBack(Path trash, String name) throws IOException {
    try {
      Files.move(trash, layout.entryDir(name), StandardCopyOption.ATOMIC_MOVE);
      return true;
    } catch (IOException e) {
      if (!Files.exists(layout.manifest(name))) {
        throw e;
      }
      return false;
    }
  }
}
