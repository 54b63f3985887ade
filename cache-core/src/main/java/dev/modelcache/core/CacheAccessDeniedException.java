package dev.modelcache.core;

import java.nio.file.AccessDeniedException;
import java.nio.file.Path;

/**
 * Thrown when this process's user lacks a permission the operation needs in the cache root: for
 * example a serving pod's uid leasing in a root whose {@code leases/} directory another user made
 * without the shared mode (1777) that the cache gives it. The message names the path, its mode and
 * owner, and this process's user. Nothing is left behind: no half-taken lease.
 */
public class CacheAccessDeniedException extends java.io.IOException {
  private static final long serialVersionUID = 1L;

  private final transient Path path;

  public CacheAccessDeniedException(String message, Path path, Throwable cause) {
    super(message, cause);
    this.path = path;
  }

  /** The path the permission was missing on. */
  public Path path() {
    return path;
  }

  /**
   * Describes a denied {@code operation} ("lease s3://...") on {@code e}'s file (else {@code where}),
   * with {@code advice} on what the root needs.
   */
  static CacheAccessDeniedException of(
      String operation, AccessDeniedException e, Path where, String advice) {
    Path denied = e.getFile() == null ? where : Path.of(e.getFile());
    Path described = java.nio.file.Files.exists(denied) ? denied : denied.getParent();
    return new CacheAccessDeniedException(
        "cannot " + operation + ": permission denied on " + denied
            + " ("
            + (described == null ? "missing" : described + ": " + SharedAccess.describe(described))
            + "; this process runs as " + SharedAccess.currentUser() + "). " + advice,
        denied,
        e);
  }

  /** A lease this user may not take. */
  static CacheAccessDeniedException lease(String operation, AccessDeniedException e, Path root) {
    return of(
        operation,
        e,
        root,
        "Every user that leases needs write access to " + root.resolve("leases")
            + " and " + root.resolve("locks")
            + ", which the cache creates with mode 1777 (its lock files 0666);"
            + " a root made otherwise needs 'chmod 1777' on both");
  }
}
