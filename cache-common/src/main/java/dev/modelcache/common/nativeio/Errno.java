package dev.modelcache.common.nativeio;

/**
 * The error numbers that callers act on, with their Linux values (the same on x86-64 and
 * AArch64). A failure is classified by its number, never by the text of {@code strerror}, which
 * depends on the locale; numbers not listed here are {@link #OTHER}.
 */
public enum Errno {
  EPERM(1, "operation not permitted"),
  ENOENT(2, "no such file or directory"),
  EINTR(4, "interrupted by a signal"),
  EIO(5, "input/output error"),
  EBADF(9, "bad file descriptor"),
  EAGAIN(11, "resource temporarily unavailable"),
  ENOMEM(12, "out of memory, or the range is not mapped"),
  EACCES(13, "permission denied"),
  EFAULT(14, "bad address"),
  EISDIR(21, "is a directory"),
  EINVAL(22, "invalid argument"),
  EMFILE(24, "too many open files"),
  EFBIG(27, "file too large"),
  ENOSPC(28, "no space left on the device"),
  ESPIPE(29, "not a regular file"),
  EROFS(30, "read-only file system"),
  ENOSYS(38, "call not implemented"),
  EOPNOTSUPP(95, "operation not supported by the file system"),
  EDQUOT(122, "disk quota exceeded"),
  /** A number not listed here; {@link NativeIoException#errno()} has it. */
  OTHER(-1, "error");

  private final int value;
  private final String description;

  Errno(int value, String description) {
    this.value = value;
    this.description = description;
  }

  /** The number, or -1 for {@link #OTHER}. */
  public int value() {
    return value;
  }

  /** A short description in English, the same in every locale. */
  public String description() {
    return description;
  }

  /** The constant for {@code errno}, or {@link #OTHER}. */
  public static Errno of(int errno) {
    for (Errno e : values()) {
      if (e.value == errno) {
        return e;
      }
    }
    return OTHER;
  }

  /** Whether this error means the file system is out of room (ENOSPC or EDQUOT). */
  public boolean isNoSpace() {
    return this == ENOSPC || this == EDQUOT;
  }
}
