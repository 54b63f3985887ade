package dev.modelcache.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Resolves a cache's space limits: this process's overrides, else the root's settings file (read
 * again whenever it changes, so a long-running process follows {@code modelcache config set}),
 * else the defaults. Thread-safe.
 */
final class SpaceLimits {

  /** The default floor: 5% of the file system, at most 1 GiB. */
  private static final double DEFAULT_MIN_FREE_PERCENT = 5;

  private static final long DEFAULT_MIN_FREE_CAP_BYTES = 1L << 30;

  private final Path root;
  private final OptionalLong maxBytesOverride;
  private final Optional<FreeSpace> minFreeOverride;
  private final long totalBytes;

  private record Read(Object stamp, CacheSettings settings) {}

  private volatile Read last;

  SpaceLimits(Path root, OptionalLong maxBytesOverride, Optional<FreeSpace> minFreeOverride)
      throws IOException {
    this.root = root;
    this.maxBytesOverride = maxBytesOverride;
    this.minFreeOverride = minFreeOverride;
    this.totalBytes = Files.getFileStore(root).getTotalSpace();
    current(); // a settings file that does not parse fails the cache's build, not a later download
  }

  /** The root's settings as they are now. */
  CacheSettings settings() throws IOException {
    Path file = CacheSettings.file(root);
    Object stamp;
    try {
      BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
      stamp = a.lastModifiedTime().toMillis() + "|" + a.size() + "|" + a.fileKey();
    } catch (NoSuchFileException e) {
      return CacheSettings.NONE;
    }
    Read r = last;
    if (r != null && r.stamp().equals(stamp)) {
      return r.settings();
    }
    CacheSettings s = CacheSettings.read(root);
    last = new Read(stamp, s);
    return s;
  }

  /** The limits in force now. */
  CacheLimits current() throws IOException {
    CacheSettings s = settings();
    long maxBytes;
    CacheLimits.Source maxSource;
    if (maxBytesOverride.isPresent()) {
      maxBytes = maxBytesOverride.getAsLong();
      maxSource = CacheLimits.Source.OVERRIDE;
    } else if (s.maxBytes().isPresent()) {
      maxBytes = s.maxBytes().getAsLong();
      maxSource = CacheLimits.Source.ROOT_SETTINGS;
    } else {
      maxBytes = 0;
      maxSource = CacheLimits.Source.DEFAULT;
    }
    FreeSpace floor;
    CacheLimits.Source floorSource;
    long floorBytes;
    if (minFreeOverride.isPresent()) {
      floor = minFreeOverride.get();
      floorSource = CacheLimits.Source.OVERRIDE;
      floorBytes = floor.resolve(totalBytes);
    } else if (s.minFree().isPresent()) {
      floor = s.minFree().get();
      floorSource = CacheLimits.Source.ROOT_SETTINGS;
      floorBytes = floor.resolve(totalBytes);
    } else {
      floor = FreeSpace.ofPercent(DEFAULT_MIN_FREE_PERCENT);
      floorSource = CacheLimits.Source.DEFAULT;
      floorBytes = Math.min(DEFAULT_MIN_FREE_CAP_BYTES, totalBytes / 20);
    }
    return new CacheLimits(maxBytes, maxSource, floorBytes, floorSource, floor);
  }
}
