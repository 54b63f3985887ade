package dev.modelcache.core;

/**
 * The space limits a cache applies now, and where each comes from.
 *
 * @param maxBytes the most bytes committed entries and live downloads may take; {@code 0} for none
 * @param maxBytesSource where {@code maxBytes} comes from
 * @param minFreeBytes the free space always left on the disk
 * @param minFreeSource where {@code minFreeBytes} comes from
 * @param minFree {@code minFreeBytes} as it was set: bytes, or a percentage of the disk
 */
public record CacheLimits(
    long maxBytes,
    Source maxBytesSource,
    long minFreeBytes,
    Source minFreeSource,
    FreeSpace minFree) {

  /** Where a limit comes from. */
  public enum Source {
    /** Nothing set it: no size cap; 5% of the disk, at most 1 GiB, left free. */
    DEFAULT,
    /** The cache root's settings file, shared by every process on the node. */
    ROOT_SETTINGS,
    /** This process's own configuration ({@link ModelCache.Builder}), overriding the root's. */
    OVERRIDE
  }
}
