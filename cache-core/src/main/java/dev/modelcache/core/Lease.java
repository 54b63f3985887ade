package dev.modelcache.core;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A claim that an entry is in use. While any process holds a lease on an entry, no process on the
 * node evicts it, whatever its PID namespace, user or path to the root. A lease is a holder file
 * under the cache root, kept alive by this process as {@link Liveness} says (a kernel lock, or a
 * renewed heartbeat); a lease of a process that died is recognized as such (at once under kernel
 * locks, after the heartbeat expiry otherwise) and ignored. A lease that is never closed
 * holds its entry until this process exits: it is deliberately not released when the object
 * becomes unreachable, because code may still read from a {@link #directory()} it kept.
 *
 * <p>Thread-safe. {@link #close()} is idempotent and never throws.
 */
public final class Lease implements AutoCloseable {

  private final CacheEntry entry;
  private final HolderFiles.Held file;
  private final AtomicBoolean closed = new AtomicBoolean();

  Lease(CacheEntry entry, HolderFiles.Held file) {
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
    file.close();
  }

  @Override
  public String toString() {
    return "Lease[" + entry.source() + (closed.get() ? ", closed]" : "]");
  }
}
