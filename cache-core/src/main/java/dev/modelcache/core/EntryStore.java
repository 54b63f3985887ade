package dev.modelcache.core;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The committed entries of a root as this process reads them: each entry's manifest (parsed once
 * while its file is unchanged), its last use, its pin and its live leases; and the creation of
 * leases and pins.
 *
 * <p>Thread-safe. The manifest cache is a Caffeine cache, safe for concurrent use; every other
 * piece of state is on disk, where writes are atomic renames. Creating a lease holds the entry's
 * gate lock ({@code locks/NAME.gate}), the lock {@link Eviction} holds while it moves an entry
 * aside.
 */
final class EntryStore {

  private static final System.Logger LOG = System.getLogger(EntryStore.class.getName());

  private final CacheLayout layout;
  private final HolderFiles holders;
  private final Ticker ticker;
  /** Tags lease files: this process's pid and random bits (see {@link Engine}). */
  private final String processTag;
  /** Parsed manifests by path, time, size and inode, weighed by their block checksums (about 32 MiB at most). */
  private final Cache<String, Manifest> manifests = Caffeine.newBuilder()
      .maximumWeight(32L << 20)
      .weigher((String key, Manifest m) -> {
        long weight = 256;
        for (ManifestFile f : m.files()) {
          weight += 128 + f.path().length() * 2L + f.blockCount() * 4L;
        }
        return (int) Math.min(Integer.MAX_VALUE, weight);
      })
      .build();

  EntryStore(CacheLayout layout, HolderFiles holders, Ticker ticker, String processTag) {
    this.layout = layout;
    this.holders = holders;
    this.ticker = ticker;
    this.processTag = processTag;
  }

  /**
   * The committed entry named {@code name}, read from disk (manifests are cached while unchanged).
   *
   * @throws ManifestCorruptException if its manifest does not parse or describes another model
   */
  Optional<CacheEntry> committedEntry(String name) throws IOException {
    Path manifestFile = layout.manifest(name);
    BasicFileAttributes attrs;
    try {
      attrs = Files.readAttributes(manifestFile, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    String key = manifestFile + "|" + attrs.lastModifiedTime().toMillis() + "|" + attrs.size() + "|"
        + attrs.fileKey();
    Manifest manifest = manifests.getIfPresent(key);
    if (manifest == null) {
      try {
        manifest = Manifest.read(manifestFile);
      } catch (NoSuchFileException e) {
        return Optional.empty(); // evicted between the two calls
      }
      if (!manifest.source().cacheName().equals(name)) {
        throw new ManifestCorruptException(
            manifestFile,
            "it describes " + manifest.source() + ", which is not the model of entry " + name);
      }
      manifests.put(key, manifest);
    }
    return Optional.of(new CacheEntry(
        manifest.source(),
        name,
        layout.data(name),
        manifest,
        lastUsed(name, manifest),
        Files.exists(layout.pinFile(name)),
        liveLeases(name)));
  }

  /** The committed entry of {@code source}, or empty if there is none or it cannot be read. */
  Optional<CacheEntry> lookupQuietly(ModelSource source) {
    try {
      Optional<CacheEntry> e = committedEntry(source.cacheName());
      return e.filter(x -> x.source().equals(source));
    } catch (IOException e) {
      return Optional.empty(); // the slow path reports or repairs it
    }
  }

  /** The committed entry of {@code source}, checked to describe that source. */
  Optional<CacheEntry> entryOf(ModelSource source) throws IOException {
    Optional<CacheEntry> e = committedEntry(source.cacheName());
    if (e.isPresent()) {
      checkSameSource(e.get(), source);
    }
    return e;
  }

  /** Throws if {@code e}'s manifest names another source than {@code source} (a hash collision, or tampering). */
  static void checkSameSource(CacheEntry e, ModelSource source) throws ManifestCorruptException {
    if (!e.source().equals(source)) {
      throw new ManifestCorruptException(
          e.directory().resolveSibling(CacheLayout.MANIFEST),
          "it describes " + e.source() + ", not " + source);
    }
  }

  /** Committed entries, least recently used first; damaged ones are logged and left out. */
  List<CacheEntry> entries() throws IOException {
    List<CacheEntry> entries = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(layout.entries)) {
      for (Path p : ds) {
        String name = p.getFileName().toString();
        try {
          committedEntry(name).ifPresent(entries::add);
        } catch (IOException e) {
          LOG.log(Level.WARNING, "skipping damaged entry " + p + ": " + e.getMessage());
        }
      }
    }
    entries.sort(Comparator.comparing(CacheEntry::lastUsed).thenComparing(CacheEntry::name));
    return entries;
  }

  /** Records a use of the entry {@code name} at the ticker's time, for eviction order. Best effort. */
  void touch(String name) {
    Path used = layout.usedFile(name);
    Path tmp = used.resolveSibling("." + name + "." + UUID.randomUUID() + ".tmp");
    try {
      Files.writeString(tmp, Long.toString(ticker.millis()), StandardCharsets.US_ASCII);
      Files.move(tmp, used, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      LOG.log(Level.DEBUG, () -> "could not record the use of " + name + ": " + e);
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // best effort: last use is a hint for eviction order
      }
    }
  }

  /** Forgets the last use of an entry that is gone. */
  void forgetUse(String name) throws IOException {
    Files.deleteIfExists(layout.usedFile(name));
  }

  private Instant lastUsed(String name, Manifest manifest) {
    try {
      return Instant.ofEpochMilli(
          Long.parseLong(Files.readString(layout.usedFile(name)).trim()));
    } catch (IOException | NumberFormatException e) {
      return manifest.createdAt();
    }
  }

  /**
   * The live leases of an entry. Lease files of dead holders (and hidden files of leases that were
   * never finished) are removed on the way where this process may remove them.
   */
  List<Holder> liveLeases(String name) throws IOException {
    Path dir = layout.leaseDir(name);
    List<Holder> live = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        boolean hidden = p.getFileName().toString().startsWith(".");
        if (hidden && !holders.settled(p)) {
          continue; // a lease being created, perhaps not locked yet: never probed, never removed
        }
        if (holders.isAlive(p)) {
          if (!hidden) {
            live.add(holders.holder(p));
          }
          continue;
        }
        try {
          Files.deleteIfExists(p); // stale: its holder is gone
        } catch (AccessDeniedException e) {
          // another user's file in a sticky directory: it stays, and is judged dead again next time
        }
      }
    } catch (NoSuchFileException e) {
      return List.of();
    }
    return live;
  }

  /**
   * Leases a committed entry: creates this process's holder file under the entry's gate lock, then
   * checks that the entry is still committed.
   *
   * @throws EntryNotFoundException if the entry is no longer committed
   * @throws CacheAccessDeniedException if this process's user may not create a lease in the root
   */
  @SuppressWarnings("try") // the lock is held for the block, not used in it
  Lease lease(CacheEntry entry) throws IOException {
    String name = entry.name();
    Path leaseDir = layout.leaseDir(name);
    HolderFiles.Held held;
    try (FileLocks.Held gate = FileLocks.lock(layout.gateLock(name))) {
      SharedAccess.sharedDirectory(leaseDir);
      held = holders.create(leaseDir.resolve(processTag + "-" + UUID.randomUUID()));
      if (!Files.exists(layout.manifest(name))) {
        held.close();
        throw new EntryNotFoundException("cannot lease " + entry.source()
            + ": it is no longer in the cache" + " (evicted); ensure it again");
      }
    } catch (AccessDeniedException e) {
      throw CacheAccessDeniedException.lease("lease " + entry.source(), e, layout.root);
    }
    touch(name);
    CacheEntry fresh = committedEntry(name).orElse(entry);
    return new Lease(fresh, held);
  }

  /** Pins {@code source}: written atomically, before or after the entry exists. */
  void pin(ModelSource source) throws IOException {
    DurableFiles.writeAtomically(layout.pinFile(source.cacheName()), source + "\n");
  }

  /** Removes a pin; returns whether there was one. */
  boolean unpin(ModelSource source) throws IOException {
    return Files.deleteIfExists(layout.pinFile(source.cacheName()));
  }

  /** Whether the entry {@code name} is pinned. */
  boolean pinned(String name) {
    return Files.exists(layout.pinFile(name));
  }
}
