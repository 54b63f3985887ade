package dev.modelcache.core;

import dev.modelcache.core.spi.RemoteObject;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * One writer's staging directory for one download: created fresh, or adopted from a dead writer
 * of the same listing (the most advanced one, with its journal); its owner file, which says to
 * every process that a live writer uses it; its journal; the preallocation of every file it will
 * hold; the reserve marker that makes other downloads count it against the limits; and the commit
 * by rename into {@code entries/}.
 *
 * <p>Crash safety rests on ordering: the manifest is written after every file is verified and
 * fsynced, the rename comes last, and the owner file stays until the rename, so that no other
 * writer takes the directory for an abandoned one while it is committed.
 *
 * <p>Not thread-safe: the download thread alone calls its methods. Other threads only read the
 * files it holds.
 */
final class Staging {

  private static final System.Logger LOG = System.getLogger(Staging.class.getName());
  private static final String MANIFEST_RESERVE = "manifest.reserve";

  private final CacheLayout layout;
  private final Manifest draft;
  private final int[] blockCounts;
  private final LocalWriteFailures failures;
  private final Path dir;
  private final Path data;
  /** This writer's holder file in the directory: alive while this download runs. */
  private final HolderFiles.Held owner;

  private final List<Journal.Entry> journaled;
  /** Whether the directory was renamed into {@code entries/} (or given up for another writer's commit). */
  private boolean committed;

  private Staging(
      CacheLayout layout,
      Manifest draft,
      int[] blockCounts,
      LocalWriteFailures failures,
      Path dir,
      HolderFiles.Held owner,
      List<Journal.Entry> journaled) {
    this.layout = layout;
    this.draft = draft;
    this.blockCounts = blockCounts.clone();
    this.failures = failures;
    this.dir = dir;
    this.data = dir.resolve(CacheLayout.DATA);
    this.owner = owner;
    this.journaled = List.copyOf(journaled);
  }

  /**
   * Creates the staging directory of writer {@code writerId} for {@code draft}, or adopts the most
   * advanced one left by a dead writer of the same listing, and removes dead writers' debris.
   *
   * @param blockCounts the number of blocks of each file of {@code draft}
   * @throws CacheWriteException or {@link InsufficientSpaceException} when the directory cannot be made
   */
  static Staging open(
      CacheLayout layout,
      HolderFiles holders,
      String writerId,
      Manifest draft,
      int[] blockCounts,
      LocalWriteFailures failures)
      throws IOException {
    String name = draft.source().cacheName();
    Path mine = layout.stagingDir(name, writerId);
    record Candidate(Path dir, List<Journal.Entry> journal) {}
    List<Candidate> candidates = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(layout.staging)) {
      for (Path p : ds) {
        if (!name.equals(CacheLayout.entryNameOfStaging(p.getFileName().toString()))) {
          continue;
        }
        if (holders.isAlive(p.resolve(CacheLayout.OWNER))) {
          continue; // a live writer elsewhere (locks are unreliable here): leave it alone
        }
        Manifest theirs;
        try {
          theirs = Manifest.read(p.resolve(CacheLayout.DRAFT));
        } catch (IOException e) {
          removeDebris(p, "it has no readable draft");
          continue;
        }
        if (!sameListing(theirs, draft)) {
          removeDebris(p, "its source listing differs (the model changed)");
          continue;
        }
        candidates.add(new Candidate(p, Journal.read(p.resolve(CacheLayout.JOURNAL), blockCounts)));
      }
    }
    candidates.sort(Comparator.comparingInt((Candidate c) -> c.journal().size()).reversed());
    List<Journal.Entry> adopted = null;
    for (Candidate c : candidates) {
      if (adopted == null) {
        try {
          Files.move(c.dir(), mine, StandardCopyOption.ATOMIC_MOVE);
          adopted = c.journal();
          continue;
        } catch (NoSuchFileException e) {
          continue; // another writer adopted it first
        }
      }
      removeDebris(c.dir(), "a more advanced interrupted download was resumed instead");
    }
    if (adopted != null) {
      HolderFiles.Held owner;
      try {
        owner = holders.create(mine.resolve(CacheLayout.OWNER)); // replaces the dead writer's
      } catch (IOException e) {
        throw failures.localWriteFailure("taking over staging directory " + mine, e);
      }
      return new Staging(layout, draft, blockCounts, failures, mine, owner, adopted);
    }
    Path init = layout.staging.resolve(CacheLayout.INIT_PREFIX + writerId);
    HolderFiles.Held owner = null;
    try {
      Files.createDirectories(init.resolve(CacheLayout.DATA));
      owner = holders.create(init.resolve(CacheLayout.OWNER));
      DurableFiles.writeAtomically(init.resolve(CacheLayout.DRAFT), draft.toJson());
      Files.move(init, mine, StandardCopyOption.ATOMIC_MOVE);
      owner.relocate(mine.resolve(CacheLayout.OWNER));
    } catch (IOException e) {
      if (owner != null) {
        owner.close();
      }
      DurableFiles.deleteTree(init);
      throw failures.localWriteFailure("creating staging directory " + mine, e);
    }
    return new Staging(layout, draft, blockCounts, failures, mine, owner, List.of());
  }

  Path dir() {
    return dir;
  }

  /** The journal entries of the adopted directory; empty for a fresh one. */
  List<Journal.Entry> journaled() {
    return journaled;
  }

  /**
   * Where {@code object} is staged.
   *
   * @throws InvalidObjectKeyException when its path resolves outside the entry's data directory
   */
  Path target(RemoteObject object) throws InvalidObjectKeyException {
    Path p = data.resolve(object.relativePath()).normalize();
    if (!p.startsWith(data) || p.equals(data)) {
      throw new InvalidObjectKeyException(object.key(), "it resolves outside the entry directory");
    }
    return p;
  }

  /**
   * Gives every file of the directory its final size: the data files, the journal, and a
   * placeholder as large as the manifest will be, released just before the manifest is written.
   * With posix_fallocate this reserves all the space the download needs before it starts.
   */
  void preallocate(List<RemoteObject> objects) throws IOException {
    long totalBlocks = 0;
    for (int c : blockCounts) {
      totalBlocks += c;
    }
    List<Path> paths = new ArrayList<>();
    List<Long> sizes = new ArrayList<>();
    for (RemoteObject o : objects) {
      paths.add(target(o));
      sizes.add(o.sizeBytes());
    }
    paths.add(journalFile());
    sizes.add(Journal.sizeBytes(blockCounts));
    paths.add(dir.resolve(MANIFEST_RESERVE));
    sizes.add(4096 + 2L * draft.toJson().length() + 8 * totalBlocks);
    for (int i = 0; i < paths.size(); i++) {
      Path p = paths.get(i);
      long size = sizes.get(i);
      try {
        Files.createDirectories(p.getParent());
        if (!Files.exists(p)) {
          Files.createFile(p);
        }
        if (Files.size(p) != size) {
          Preallocator.preallocate(p, size, failures.usableBytes());
        }
      } catch (InsufficientSpaceException e) {
        throw e;
      } catch (IOException e) {
        throw failures.localWriteFailure("preallocating " + size + " bytes for " + p, e);
      }
    }
  }

  /**
   * Leaves the marker that makes every other download count this one against the limits (an
   * empty file: it needs no block of a disk the preallocation may have filled to its floor).
   */
  void markReserved() throws IOException {
    Path marker = dir.resolve(CacheLayout.RESERVED);
    try {
      if (!Files.exists(marker)) {
        Files.createFile(marker);
      }
    } catch (FileAlreadyExistsException e) {
      // an adopted directory's, from its first writer
    } catch (IOException e) {
      throw failures.localWriteFailure("reserving space in " + dir, e);
    }
  }

  /** The journal, opened for recording. */
  Journal openJournal() throws IOException {
    return Journal.open(journalFile(), blockCounts);
  }

  Path journalFile() {
    return dir.resolve(CacheLayout.JOURNAL);
  }

  /**
   * Writes {@code manifest}, makes the data read-only and renames the directory into {@code
   * entries/}. When another writer committed the same entry first, its copy is as good as ours:
   * this one is deleted and the commit counts as done.
   */
  void commit(Manifest manifest) throws IOException {
    try {
      Files.deleteIfExists(journalFile());
      Files.deleteIfExists(dir.resolve(CacheLayout.DRAFT));
      Files.deleteIfExists(dir.resolve(MANIFEST_RESERVE));
      DurableFiles.makeReadOnly(data);
      DurableFiles.writeAtomically(dir.resolve(CacheLayout.MANIFEST), manifest.toJson());
      DurableFiles.fsyncDirectory(dir);
    } catch (IOException e) {
      throw failures.localWriteFailure("finishing staging directory " + dir, e);
    }
    String name = manifest.source().cacheName();
    Path entryDir = layout.entryDir(name);
    try {
      // The owner file stays until the rename, so that no other writer takes this directory for
      // an abandoned one while it is being committed; it leaves the entry just after.
      Files.move(dir, entryDir, StandardCopyOption.ATOMIC_MOVE);
      owner.relocate(entryDir.resolve(CacheLayout.OWNER));
      owner.close();
      Files.deleteIfExists(entryDir.resolve(CacheLayout.RESERVED)); // counted as an entry now
      DurableFiles.fsyncDirectory(layout.entries);
      LOG.log(Level.DEBUG, () -> "committed " + manifest.source() + " as " + entryDir);
    } catch (IOException e) {
      // rename(2) onto a non-empty directory fails (ENOTEMPTY, EEXIST): another writer committed
      // first, and its copy is as good as ours. Anything else is our own failure.
      if (!Files.exists(layout.manifest(name))) {
        throw failures.localWriteFailure("committing " + dir + " as " + entryDir, e);
      }
      LOG.log(
          Level.DEBUG,
          () -> "another writer committed " + manifest.source() + " first; discarding this copy");
      owner.close();
      DurableFiles.deleteTree(dir);
    }
    committed = true;
  }

  /**
   * Gives up this writer's ownership, so that the next download, in any process, may resume from
   * the journal; with {@code discard}, deletes the directory too. Nothing to do after a commit.
   */
  void close(boolean discard) {
    owner.close();
    if (committed || !Files.exists(dir)) {
      return;
    }
    if (discard) {
      try {
        DurableFiles.deleteTree(dir);
      } catch (IOException e) {
        LOG.log(Level.WARNING, "could not clean up staging directory " + dir + ": " + e);
      }
    }
  }

  private static void removeDebris(Path p, String why) {
    LOG.log(Level.DEBUG, () -> "removing staging directory " + p + ": " + why);
    try {
      DurableFiles.deleteTree(p);
    } catch (IOException e) {
      LOG.log(Level.WARNING, "could not remove staging debris " + p + ": " + e);
    }
  }

  private static boolean sameListing(Manifest a, Manifest b) {
    if (a.blockSizeBytes() != b.blockSizeBytes()
        || a.files().size() != b.files().size()
        || !a.source().equals(b.source())) {
      return false;
    }
    for (int i = 0; i < a.files().size(); i++) {
      ManifestFile x = a.files().get(i);
      ManifestFile y = b.files().get(i);
      if (!x.path().equals(y.path())
          || !x.key().equals(y.key())
          || x.sizeBytes() != y.sizeBytes()
          || !Objects.equals(x.etag(), y.etag())
          || !Objects.equals(x.versionId(), y.versionId())
          || !Objects.equals(x.checksum(), y.checksum())) {
        return false;
      }
    }
    return true;
  }
}
