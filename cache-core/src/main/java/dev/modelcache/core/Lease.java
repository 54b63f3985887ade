package dev.modelcache.core;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A claim that an entry is in use. While any process holds a lease on an entry, no process
 * evicts it. A lease is a small file under the cache root naming this process; a lease left
 * behind by a process that died is recognized as stale and ignored. A lease that is never closed
 * holds its entry until this process exits: it is deliberately not released when the object
 * becomes unreachable, because code may still read from a {@link #directory()} it kept.
 *
 * <p>Thread-safe. {@link #close()} is idempotent and never throws.
 */
public final class Lease implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(Lease.class.getName());

  private final CacheEntry entry;
  private final Path file;
  private final AtomicBoolean closed = new AtomicBoolean();

  Lease(CacheEntry entry, Path file) {
    this.entry = entry;
    this.file = file;
  }

  /** The directory holding the model's files. It stays valid at least until this lease closes. */
  public Path directory() {
    return entry.directory();
  }

  /** The leased entry. */
  public CacheEntry entry() {
    return entry;
  }

  /** Whether {@link #close()} was called. */
  public boolean isClosed() {
    return closed.get();
  }

  /** Releases the lease. The entry becomes evictable once no other lease holds it. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // A lease file that cannot be removed names this process; once it exits the lease is stale.
      LOG.log(Level.WARNING, "could not remove lease file " + file + ": " + e);
    }
  }

  @Override
  public String toString() {
    return "Lease[" + entry.source() + (closed.get() ? ", closed]" : "]");
  }
}
