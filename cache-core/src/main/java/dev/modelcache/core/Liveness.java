package dev.modelcache.core;

/**
 * How the processes that share a cache root tell whether the holder of a lease, of a staging
 * directory or of a download lock is still alive.
 *
 * <p>A process id is never used for that: processes in different PID namespaces (pods on one node)
 * see different pids for the same process, and each pod's entrypoint is pid 1. Every holder is a
 * small file under the root, and every process on the node judges it the same way:
 *
 * <ul>
 *   <li>{@link #LOCKS}: the holder keeps a kernel lock on its file for as long as it lives; another
 *       process probes it with a non-blocking try-lock. The kernel drops the lock the instant the
 *       holder exits or is killed, in any namespace, so a dead holder is recognized at once.
 *   <li>{@link #HEARTBEAT}: the holder renews its file's modification time every third of
 *       {@link ModelCache.Builder#heartbeatExpiry the expiry}; a file not renewed within the expiry
 *       belongs to a dead holder. For file systems whose locks cannot be trusted (network and FUSE
 *       file systems, or one root shared by several nodes). A holder that is alive but stopped
 *       (SIGSTOP, a frozen cgroup) for longer than the expiry loses what it held.
 * </ul>
 *
 * <p>The choice is made once per root, by the first process that opens it, and recorded in the
 * root's {@code liveness} file, so that every process on the node judges holders the same way
 * whatever it was configured with. The pid, host name and uid stay in each holder file for
 * people ({@code modelcache ls}), never for a decision.
 */
public enum Liveness {
  /**
   * {@link #LOCKS} on local file systems (ext4, xfs, btrfs, tmpfs, overlay, zfs and the like) whose
   * locks work, {@link #HEARTBEAT} elsewhere; or whatever the root already records. The default.
   */
  AUTO,
  /** A kernel lock held for the holder's lifetime, probed with a non-blocking try-lock. */
  LOCKS,
  /** A modification time the holder renews, judged against an expiry. */
  HEARTBEAT
}
