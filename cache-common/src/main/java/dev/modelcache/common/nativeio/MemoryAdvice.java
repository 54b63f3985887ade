package dev.modelcache.common.nativeio;

/**
 * What {@code madvise(2)} tells the kernel about a mapped range. Only advice that cannot change
 * the contents of a mapping is offered.
 */
public enum MemoryAdvice {
  /** No particular pattern. */
  NORMAL(0),
  /** Pages are touched in random order: read-ahead is of little use. */
  RANDOM(1),
  /** Pages are touched in order: read ahead aggressively, free pages behind. */
  SEQUENTIAL(2),
  /** The range will be touched soon: start reading it in now. */
  WILL_NEED(3);

  private final int linuxValue;

  MemoryAdvice(int linuxValue) {
    this.linuxValue = linuxValue;
  }

  /** The {@code MADV_*} value on Linux. */
  int linuxValue() {
    return linuxValue;
  }
}
