package dev.modelcache.common.nativeio;

/** What {@code posix_fadvise(2)} tells the kernel about a file's coming use. */
public enum FileAdvice {
  /** No particular pattern. */
  NORMAL(0),
  /** Reads jump around: read-ahead is of little use. */
  RANDOM(1),
  /** Reads go from start to end: read ahead aggressively. */
  SEQUENTIAL(2),
  /** The data will be needed soon: start reading it into the page cache now. */
  WILL_NEED(3),
  /** The data is not needed: drop its clean pages from the page cache. */
  DONT_NEED(4);

  private final int linuxValue;

  FileAdvice(int linuxValue) {
    this.linuxValue = linuxValue;
  }

  /** The {@code POSIX_FADV_*} value on Linux. */
  int linuxValue() {
    return linuxValue;
  }
}
