package dev.modelcache.common.nativeio;

import java.util.Locale;

/**
 * A native file call failed. The message names the call, what it was applied to and the error by
 * its symbolic name and number (for example {@code "posix_fallocate of 8388608 bytes at offset 0
 * of /cache/x failed: ENOSPC (errno 28, no space left on the device)"}); callers decide with
 * {@link #is(Errno)}, never by parsing the message.
 */
public final class NativeIoException extends java.io.IOException {
  private static final long serialVersionUID = 1L;

  private final int errno;
  private final String call;

  NativeIoException(String call, String target, int errno) {
    super(String.format(Locale.ROOT, "%s of %s failed: %s", call, target, describe(errno)));
    this.errno = errno;
    this.call = call;
  }

  private static String describe(int errno) {
    Errno e = Errno.of(errno);
    return e == Errno.OTHER
        ? String.format(Locale.ROOT, "errno %d", errno)
        : String.format(Locale.ROOT, "%s (errno %d, %s)", e.name(), errno, e.description());
  }

  /** The raw error number. */
  public int errno() {
    return errno;
  }

  /** The error as a constant ({@link Errno#OTHER} if it is not one of those listed). */
  public Errno code() {
    return Errno.of(errno);
  }

  /** Whether the error is {@code e}. */
  public boolean is(Errno e) {
    return e != Errno.OTHER && e.value() == errno;
  }

  /** The name of the call that failed, such as {@code "posix_fallocate"}. */
  public String call() {
    return call;
  }
}
