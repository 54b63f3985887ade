package dev.modelcache.core;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Holder files: one small file per holder of a lease, a staging directory or a download lock,
 * kept alive by its process and judged by every other process on the node the same way (see
 * {@link Liveness}). This class owns every liveness decision of the cache; nothing else looks at a
 * holder file's contents or lock.
 *
 * <p>Java's file locks are POSIX record locks, which a process drops when it closes any
 * descriptor of the file, even one opened only to probe. So this JVM never opens a holder file it
 * holds: holders of this JVM are found by file identity in {@link #HERE} first, and only other
 * processes' files are opened and probed.
 *
 * <p>A holder file appears under its name already locked and filled: it is written under a hidden
 * temporary name ({@code .NAME.UUID.tmp}) and renamed into place, so no prober ever sees it
 * unlocked while its holder lives. Probers skip hidden names, and remove them once dead.
 *
 * <p>Thread-safe.
 */
final class HolderFiles {

  private static final System.Logger LOG = System.getLogger(HolderFiles.class.getName());

  /** The file in the root that records the root's liveness, shared by every process using it. */
  static final String RECORD = "liveness";

  /** How old a hidden holder file being created must be before a prober judges it. */
  private static final Duration SETTLE_TIME = Duration.ofMinutes(10);

  /** Default heartbeat expiry. */
  static final Duration DEFAULT_EXPIRY = Duration.ofSeconds(30);

  /** File systems whose locks are kept by this node's kernel, so they hold between its processes. */
  private static final Set<String> LOCAL_FILE_SYSTEMS = Set.of(
      "ext2",
      "ext3",
      "ext4",
      "xfs",
      "btrfs",
      "tmpfs",
      "ramfs",
      "zfs",
      "f2fs",
      "bcachefs",
      "jfs",
      "reiserfs",
      "overlay",
      "overlayfs");

  /** Holder files this JVM holds, by file identity (device and inode). */
  private static final Map<Object, Held> HERE = new ConcurrentHashMap<>();

  /** Renews heartbeats; one daemon thread for the JVM, since a lease may outlive its cache. */
  private static final ScheduledExecutorService RENEWER =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "modelcache-heartbeat");
        t.setDaemon(true);
        return t;
      });

  private static final AtomicBoolean UNREADABLE_LOGGED = new AtomicBoolean();

  private final Liveness mode;
  private final Duration expiry;
  private final InstantSource clock;

  HolderFiles(Liveness mode, Duration expiry, InstantSource clock) {
    if (mode == Liveness.AUTO) {
      throw new IllegalArgumentException("a root's liveness is LOCKS or HEARTBEAT, not AUTO");
    }
    this.mode = mode;
    this.expiry = expiry;
    this.clock = clock;
  }

  /**
   * A holder file of this process. Closing it removes the file and drops its lock; idempotent.
   */
  final class Held implements AutoCloseable {
    private final FileChannel channel;
    private final Object key;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Path path;
    /** Every name the file had in this process's view, the final one included before it is renamed there. */
    private final Set<Path> names = ConcurrentHashMap.newKeySet();

    private volatile ScheduledFuture<?> renewal;

    private Held(Path path, Path finalPath, FileChannel channel, Object key) {
      this.path = path;
      this.channel = channel;
      this.key = key;
      names.add(path.toAbsolutePath().normalize());
      names.add(finalPath.toAbsolutePath().normalize());
    }

    /** Where the file is now. */
    Path path() {
      return path;
    }

    /** Says that the file (or a directory above it) was renamed: it is now {@code newPath}. */
    void relocate(Path newPath) {
      names.add(newPath.toAbsolutePath().normalize());
      this.path = newPath;
    }

    private void renew() {
      try {
        Files.setLastModifiedTime(path, FileTime.from(clock.instant()));
      } catch (IOException e) {
        LOG.log(
            Level.WARNING,
            "could not renew the heartbeat of " + path + " (" + e
                + "); other processes will judge its holder dead after " + expiry);
        ScheduledFuture<?> r = renewal;
        if (r != null) {
          r.cancel(false);
        }
      }
    }

    @Override
    public void close() {
      if (!closed.compareAndSet(false, true)) {
        return;
      }
      ScheduledFuture<?> r = renewal;
      if (r != null) {
        r.cancel(false);
      }
      try {
        Files.deleteIfExists(path);
      } catch (IOException e) {
        // Once this process lets go of it, any process judges the file dead and removes it.
        LOG.log(Level.DEBUG, () -> "could not remove holder file " + path + ": " + e);
      }
      HERE.remove(key, this);
      try {
        channel.close(); // drops the lock
      } catch (IOException ignored) {
        // the descriptor is gone either way
      }
    }
  }

  /** Heartbeat renewals of a file, stopped by {@link #close()}. */
  interface Renewal extends AutoCloseable {
    @Override
    void close();
  }

  Liveness mode() {
    return mode;
  }

  Duration expiry() {
    return expiry;
  }

  /**
   * Opens the liveness of a root: the one it records, or, for a root that records none yet, the
   * one requested ({@link Liveness#AUTO}: detected), recorded for every later process.
   *
   * @throws CacheRootException if the root records another liveness than an explicit request
   */
  static HolderFiles open(
      Path root, Liveness requested, Duration expiry, boolean expirySet, InstantSource clock)
      throws IOException {
    Path file = root.resolve(RECORD);
    Optional<HolderFiles> recorded = read(file, clock);
    if (recorded.isEmpty()) {
      Liveness mode = requested == Liveness.AUTO ? detect(root) : requested;
      HolderFiles decided = new HolderFiles(mode, expiry, clock);
      Path tmp = root.resolve("." + RECORD + "." + UUID.randomUUID() + ".tmp");
      try {
        Files.writeString(
            tmp, decided.recordText(), StandardCharsets.US_ASCII, StandardOpenOption.CREATE_NEW);
        SharedAccess.readableByAll(tmp);
        Files.createLink(file, tmp); // the first process to record wins; link(2) never replaces
        LOG.log(
            Level.INFO,
            () -> "cache root " + root + ": " + decided.describe() + " (recorded in " + file + ")");
        return decided;
      } catch (FileAlreadyExistsException e) {
        recorded = read(file, clock);
      } catch (AccessDeniedException e) {
        LOG.log(
            Level.DEBUG,
            () -> "cannot record the liveness of " + root + " (" + e + "); using "
                + decided.describe());
        return decided;
      } finally {
        Files.deleteIfExists(tmp);
      }
      if (recorded.isEmpty()) {
        throw new CacheRootException(root, "its liveness record " + file + " cannot be read", null);
      }
    }
    HolderFiles theirs = recorded.get();
    if (requested != Liveness.AUTO && requested != theirs.mode) {
      throw new CacheRootException(
          root,
          "it records " + theirs.describe() + " in " + file + ", and this cache was"
              + " configured with liveness " + requested
              + "; every process using a root must judge holders alike"
              + " (remove that file while no process uses the root to change it)",
          null);
    }
    if (expirySet && theirs.mode == Liveness.HEARTBEAT && !expiry.equals(theirs.expiry)) {
      LOG.log(
          Level.WARNING,
          "cache root " + root + " records a heartbeat expiry of " + theirs.expiry
              + "; using it instead of the configured " + expiry);
    }
    return theirs;
  }

  private static Optional<HolderFiles> read(Path file, InstantSource clock) throws IOException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    Map<String, String> words = new HashMap<>();
    for (String line : text.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        words.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
      }
    }
    try {
      Liveness mode = Liveness.valueOf(words.getOrDefault("mode", "").toUpperCase(Locale.ROOT));
      Duration expiry = Duration.ofMillis(Long.parseLong(
          words.getOrDefault("expiryMillis", Long.toString(DEFAULT_EXPIRY.toMillis()))));
      if (mode == Liveness.AUTO || expiry.isNegative() || expiry.isZero()) {
        throw new IllegalArgumentException(text);
      }
      return Optional.of(new HolderFiles(mode, expiry, clock));
    } catch (IllegalArgumentException e) {
      throw new CacheRootException(
          file.getParent(),
          "its liveness record " + file + " is not valid: '" + text.strip()
              + "' (expected 'mode=locks' or 'mode=heartbeat' and 'expiryMillis=N')",
          null);
    }
  }

  private String recordText() {
    return "mode=" + mode.name().toLowerCase(Locale.ROOT) + "\n"
        + (mode == Liveness.HEARTBEAT ? "expiryMillis=" + expiry.toMillis() + "\n" : "");
  }

  /** For logs and messages: "liveness by kernel locks", "liveness by heartbeat (expiry PT30S)". */
  String describe() {
    return mode == Liveness.LOCKS
        ? "liveness by kernel locks"
        : "liveness by heartbeat (expiry " + expiry + ")";
  }

  /** Kernel locks where this node's kernel keeps them and they work; a heartbeat elsewhere. */
  static Liveness detect(Path root) {
    String type;
    try {
      type = Files.getFileStore(root).type().toLowerCase(Locale.ROOT);
    } catch (IOException e) {
      return Liveness.HEARTBEAT;
    }
    if (!LOCAL_FILE_SYSTEMS.contains(type)) {
      LOG.log(Level.DEBUG, () -> root + " is on a " + type + " file system: liveness by heartbeat");
      return Liveness.HEARTBEAT;
    }
    Path probe = root.resolve(".liveness-probe-" + UUID.randomUUID());
    try (FileChannel ch = FileChannel.open(
        probe,
        StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE,
        StandardOpenOption.DELETE_ON_CLOSE)) {
      FileLock lock = ch.tryLock();
      if (lock == null) {
        return Liveness.HEARTBEAT;
      }
      lock.release();
      return Liveness.LOCKS;
    } catch (AccessDeniedException e) {
      // A user that may not write the root cannot try a lock there; the file system's kind decides.
      return Liveness.LOCKS;
    } catch (IOException e) {
      LOG.log(
          Level.DEBUG,
          () -> "file locks do not work in " + root + " (" + e + "): liveness by heartbeat");
      return Liveness.HEARTBEAT;
    }
  }

  /**
   * Creates the holder file {@code file} for this process, replacing a file of that name (a dead
   * holder's): locked, filled with {@link Holder#current()}, readable by every user, and, under
   * {@link Liveness#HEARTBEAT}, renewed until closed.
   */
  Held create(Path file) throws IOException {
    Path tmp = file.resolveSibling("." + file.getFileName() + "." + UUID.randomUUID() + ".tmp");
    FileChannel channel = FileChannel.open(
        tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
    Held held = null;
    boolean success = false;
    try {
      // Known to this JVM before it is locked: a probe from another thread here must never open
      // it, since closing that probe's descriptor would drop this process's lock.
      Object key = fileKey(
          Files.readAttributes(tmp, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS), tmp);
      held = new Held(tmp, file, channel, key);
      HERE.put(key, held);
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (IOException e) {
        if (mode == Liveness.LOCKS) {
          throw e;
        }
        lock = null; // a heartbeat root's file system need not lock at all
      }
      if (lock == null && mode == Liveness.LOCKS) {
        throw new IOException("could not lock the new holder file " + tmp);
      }
      ByteBuffer line =
          ByteBuffer.wrap(Holder.current().toLine().getBytes(StandardCharsets.US_ASCII));
      while (line.hasRemaining()) {
        channel.write(line);
      }
      SharedAccess.readableByAll(tmp);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      held.relocate(file);
      if (mode == Liveness.HEARTBEAT) {
        long periodMillis = Math.max(1, expiry.toMillis() / 3);
        held.renewal = RENEWER.scheduleWithFixedDelay(
            held::renew, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
      }
      success = true;
      return held;
    } finally {
      if (!success) {
        if (held != null) {
          HERE.remove(held.key, held);
          Files.deleteIfExists(held.path());
        }
        closeQuietly(channel);
        Files.deleteIfExists(tmp);
      }
    }
  }

  /**
   * Whether the holder of {@code file} is alive: this process, a process holding the file's lock
   * ({@link Liveness#LOCKS}), or one that renewed it within the expiry ({@link Liveness#HEARTBEAT}).
   * A missing file has no holder. A file this process may not read is judged alive: a lease must
   * never be ignored because of its mode.
   */
  boolean isAlive(Path file) {
    BasicFileAttributes attrs;
    try {
      attrs = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
    if (heldHere(attrs, file)) {
      return true;
    }
    if (mode == Liveness.HEARTBEAT) {
      return isFresh(attrs.lastModifiedTime());
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      FileLock probe = ch.tryLock(0, Long.MAX_VALUE, true);
      if (probe == null) {
        return true; // another process holds it
      }
      probe.release();
      return false;
    } catch (OverlappingFileLockException e) {
      return true; // locked by this JVM through a channel of its own
    } catch (NoSuchFileException e) {
      return false;
    } catch (AccessDeniedException e) {
      if (UNREADABLE_LOGGED.compareAndSet(false, true)) {
        LOG.log(
            Level.WARNING,
            "cannot read holder file " + file + "; judging its holder alive (make holder"
                + " files readable by every user of the cache)");
      }
      return true;
    } catch (IOException e) {
      LOG.log(
          Level.DEBUG,
          () -> "could not probe holder file " + file + " (" + e + "); judging it alive");
      return true;
    }
  }

  /**
   * Whether a hidden holder file ({@code .NAME.UUID.tmp}, one being created) is old enough to be
   * judged at all: a younger one may be a holder file of any process in its first microseconds,
   * not yet locked, and is left alone.
   */
  boolean settled(Path hidden) {
    try {
      return Files.getLastModifiedTime(hidden, LinkOption.NOFOLLOW_LINKS)
          .toInstant()
          .isBefore(clock.instant().minus(SETTLE_TIME));
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Whether {@code file}, a lock file held by another process, was renewed within the expiry: how a
   * {@link Liveness#HEARTBEAT} root tells a live download lock holder from one whose lock outlived
   * it. Always true under {@link Liveness#LOCKS}, where a held lock is proof enough.
   */
  boolean lockHolderAlive(Path file) {
    if (mode == Liveness.LOCKS) {
      return true;
    }
    try {
      return isFresh(Files.getLastModifiedTime(file, LinkOption.NOFOLLOW_LINKS));
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  /**
   * Keeps renewing the heartbeat of {@code file}, a lock file this process holds, until the returned
   * handle is closed; nothing to do under {@link Liveness#LOCKS}.
   */
  Renewal keepAlive(Path file) {
    if (mode == Liveness.LOCKS) {
      return () -> {};
    }
    long periodMillis = Math.max(1, expiry.toMillis() / 3);
    ScheduledFuture<?> renewal = RENEWER.scheduleWithFixedDelay(
        () -> {
          try {
            Files.setLastModifiedTime(file, FileTime.from(clock.instant()));
          } catch (IOException e) {
            LOG.log(Level.DEBUG, () -> "could not renew the heartbeat of " + file + ": " + e);
          }
        },
        0,
        periodMillis,
        TimeUnit.MILLISECONDS);
    return () -> renewal.cancel(false);
  }

  /** What a holder file says of its holder, for people. */
  Holder holder(Path file) {
    try {
      BasicFileAttributes attrs =
          Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (heldHere(attrs, file)) {
        return Holder.current(); // never opened: closing it would drop this process's lock
      }
      return Holder.parse(Files.readString(file, StandardCharsets.US_ASCII));
    } catch (IOException | RuntimeException e) {
      return Holder.UNKNOWN;
    }
  }

  /**
   * Whether {@code file} is one this JVM holds. A file identity is a device and an inode, both of
   * which are reused (a tmpfs mounted again, a file made after another was deleted), so the holder
   * found must also know {@code file} by name, or still be at its own path with that identity; one
   * that is neither (its file was removed under it) is forgotten.
   */
  private static boolean heldHere(BasicFileAttributes attrs, Path file) {
    Object key = fileKey(attrs, file);
    Held held = HERE.get(key);
    if (held == null) {
      return false;
    }
    if (held.names.contains(file.toAbsolutePath().normalize())) {
      return true;
    }
    try {
      BasicFileAttributes own =
          Files.readAttributes(held.path(), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (key.equals(fileKey(own, held.path()))) {
        return true;
      }
    } catch (IOException e) {
      // gone from where it was
    }
    LOG.log(
        Level.DEBUG,
        () ->
            "holder file " + held.path() + " of this process is gone; it no longer holds anything");
    HERE.remove(key, held);
    return false;
  }

  private boolean isFresh(FileTime renewed) {
    return clock.instant().isBefore(renewed.toInstant().plus(expiry));
  }

  private static Object fileKey(BasicFileAttributes attrs, Path file) {
    Object key = attrs.fileKey();
    return key != null ? key : file.toAbsolutePath().normalize().toString();
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // nothing was held through it
    }
  }
}
