package dev.modelcache.core;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * Where everything lives under the cache root. Entry names come from
 * {@link ModelSource#cacheName()} and never contain a separator, so every path below stays under
 * the root.
 *
 * <pre>
 * entries/NAME/manifest.json     committed entries (the rename of a staging dir is the commit)
 * entries/NAME/data/...          the model's files, read-only
 * staging/NAME.WRITER/           one per writer: owner, draft.json, journal, data/...
 * staging/.init-WRITER/          a staging dir being set up, not yet visible under its name
 * locks/NAME.download            held while downloading (avoids duplicate work only)
 * locks/NAME.gate                held briefly by lease and evict
 * locks/space                    held while a download checks the limits and reserves its space
 * leases/NAME/PID-RANDOM-UUID    one per lease: a holder file (see HolderFiles), locked or renewed
 *                                while the lease lives; the pid, host and uid inside are for people
 * meta/NAME.used                 last use, recorded by the cache (not atime)
 * pins/NAME                      present while pinned
 * trash/                         entries being deleted after eviction
 * liveness                       how holders are judged on this root (see Liveness)
 * settings.json                  the limits every process applies (see CacheSettings)
 * </pre>
 *
 * <p>Nothing stored under the root names the root's absolute path: pods mount one hostPath at
 * different paths, and every process resolves these names against its own view of the root.
 */
final class CacheLayout {

  private static final System.Logger LOG = System.getLogger(ModelCache.class.getName());

  static final String MANIFEST = "manifest.json";
  static final String DATA = "data";
  static final String OWNER = "owner";
  static final String DRAFT = "draft.json";
  static final String JOURNAL = "journal";
  /** Present in a staging directory once its download has reserved its space (see SpaceAccounting#makeRoom). */
  static final String RESERVED = "reserved";

  static final String INIT_PREFIX = ".init-";

  final Path root;
  final Path entries;
  final Path staging;
  final Path locks;
  final Path leases;
  final Path meta;
  final Path pins;
  final Path trash;

  /**
   * Opens the cache root {@code r} (absolute, normalized): creates it if asked to, lays it out if
   * it is not yet, and widens the shared directories' modes where this user may.
   *
   * @throws CacheRootException naming what is wrong with the root
   */
  static CacheLayout open(Path r, boolean createRoot) throws IOException {
    if (!Files.exists(r)) {
      if (!createRoot) {
        throw new CacheRootException(
            r, "it does not exist (create it, or call createRootIfMissing())", null);
      }
      try {
        Files.createDirectories(r);
      } catch (IOException e) {
        throw new CacheRootException(r, "it does not exist and cannot be created: " + e, e);
      }
    }
    if (!Files.isDirectory(r)) {
      throw new CacheRootException(r, "it is not a directory", null);
    }
    CacheLayout layout = new CacheLayout(r);
    if (!layout.exists()) {
      try {
        layout.create();
      } catch (IOException e) {
        throw new CacheRootException(
            r,
            "it is not writable by " + SharedAccess.currentUser() + " (" + SharedAccess.describe(r)
                + "): " + e,
            e);
      }
    } else if (!Files.isWritable(r)) {
      // Another user's root (a serving pod's uid reading what a root prefetcher wrote): it may
      // lease, load and await through the shared directories; writes fail naming the path.
      LOG.log(
          Level.DEBUG,
          () -> "cache root " + r + " is not writable by " + SharedAccess.currentUser()
              + "; opening it to read, lease and await");
    } else {
      layout.widenShared();
    }
    return layout;
  }

  CacheLayout(Path root) {
    this.root = root;
    this.entries = root.resolve("entries");
    this.staging = root.resolve("staging");
    this.locks = root.resolve("locks");
    this.leases = root.resolve("leases");
    this.meta = root.resolve("meta");
    this.pins = root.resolve("pins");
    this.trash = root.resolve("trash");
  }

  Path[] directories() {
    return new Path[] {entries, staging, locks, leases, meta, pins, trash};
  }

  /** Directories every user of the cache writes in: mode 1777 (see {@link SharedAccess}). */
  private Path[] shared() {
    return new Path[] {locks, leases};
  }

  /** Whether every directory of the layout exists. */
  boolean exists() {
    for (Path d : directories()) {
      if (!Files.isDirectory(d)) {
        return false;
      }
    }
    return true;
  }

  /** Creates what is missing of the layout, and checks the root is writable. */
  void create() throws IOException {
    for (Path d : directories()) {
      if (java.util.List.of(shared()).contains(d)) {
        SharedAccess.sharedDirectory(d);
      } else {
        Files.createDirectories(d);
      }
    }
    Path probe = root.resolve(".probe-" + UUID.randomUUID());
    Files.writeString(probe, "probe");
    Files.delete(probe);
  }

  /** Gives the shared directories mode 1777 where this process owns them (roots made before it was). */
  void widenShared() {
    for (Path d : shared()) {
      SharedAccess.widenDirectory(d);
    }
  }

  Path entryDir(String name) {
    return entries.resolve(name);
  }

  Path manifest(String name) {
    return entryDir(name).resolve(MANIFEST);
  }

  Path data(String name) {
    return entryDir(name).resolve(DATA);
  }

  Path stagingDir(String name, String writerId) {
    return staging.resolve(name + "." + writerId);
  }

  Path downloadLock(String name) {
    return locks.resolve(name + ".download");
  }

  /** Held while a download decides it fits and reserves its space: one process at a time. */
  Path spaceLock() {
    return locks.resolve("space");
  }

  /** Held while the root's settings are read, changed and written. */
  Path settingsLock() {
    return locks.resolve("settings");
  }

  Path gateLock(String name) {
    return locks.resolve(name + ".gate");
  }

  Path leaseDir(String name) {
    return leases.resolve(name);
  }

  Path usedFile(String name) {
    return meta.resolve(name + ".used");
  }

  Path pinFile(String name) {
    return pins.resolve(name);
  }

  /** The entry name of a staging directory's file name, or null if it is not one. */
  static String entryNameOfStaging(String dirName) {
    if (dirName.startsWith(".")) {
      return null;
    }
    int dot = dirName.lastIndexOf('.');
    return dot <= 0 ? null : dirName.substring(0, dot);
  }
}
