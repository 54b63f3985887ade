package dev.modelcache.core;

import java.time.Instant;
import java.util.Optional;

/**
 * A process on this node, by pid and start time, so that a recycled pid is not mistaken for the
 * process that wrote a lease, lock or staging directory.
 */
record ProcessIdentity(long pid, long startMillis) {

  /** Start times read through /proc are rounded to clock ticks; allow for that. */
  private static final long START_TOLERANCE_MILLIS = 2_000;

  private static final ProcessIdentity CURRENT = of(ProcessHandle.current());

  static ProcessIdentity current() {
    return CURRENT;
  }

  static ProcessIdentity of(ProcessHandle handle) {
    return new ProcessIdentity(
        handle.pid(), handle.info().startInstant().map(Instant::toEpochMilli).orElse(0L));
  }

  /** Whether the process still runs (and is the same process, not a recycled pid). */
  boolean isAlive() {
    if (pid <= 0) {
      return false;
    }
    if (pid == CURRENT.pid) {
      return true;
    }
    Optional<ProcessHandle> handle = ProcessHandle.of(pid);
    if (handle.isEmpty() || !handle.get().isAlive()) {
      return false;
    }
    if (startMillis == 0) {
      return true;
    }
    return handle.get().info().startInstant()
        .map(s -> Math.abs(s.toEpochMilli() - startMillis) <= START_TOLERANCE_MILLIS)
        .orElse(true);
  }

  String toLine() {
    return pid + " " + startMillis + "\n";
  }

  /** Parses {@link #toLine()}; anything unreadable is a process that is not alive. */
  static ProcessIdentity parse(String text) {
    String[] parts = text.trim().split("\\s+");
    try {
      return new ProcessIdentity(Long.parseLong(parts[0]), parts.length > 1 ? Long.parseLong(parts[1]) : 0);
    } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
      return new ProcessIdentity(-1, 0);
    }
  }
}
