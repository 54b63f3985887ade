package dev.modelcache.cli;

import dev.modelcache.common.json.JsonObject;
import dev.modelcache.core.CacheEntry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.UUID;

/**
 * What one run of {@code exec} went through, step by step, with the time each step ended: the
 * ready line, the ready file's content and the report file are written from it.
 *
 * <p>Times are {@link System#nanoTime()} values, 0 for a step not reached. Only the thread that
 * runs exec writes to it.
 */
final class ExecReport {

  private final long start = System.nanoTime();
  private final String command;
  private CacheEntry entry;
  private long cachedAt;
  private long childStartedAt;
  private long childPid = -1;
  private long healthyAt;
  private long warmedUpAt;
  private long readyAt;
  private int warmupRequests;
  private int warmupFailures;
  private boolean waitedForHealth;
  private boolean warmedUp;

  /** @param command COMMAND's name (only its name: its arguments may hold secrets) */
  ExecReport(String command) {
    this.command = command;
  }

  void cached(CacheEntry leased) {
    entry = leased;
    cachedAt = System.nanoTime();
  }

  void childStarted(Process child) {
    childStartedAt = System.nanoTime();
    childPid = child.pid();
  }

  long childStartedAt() {
    return childStartedAt;
  }

  void healthy() {
    waitedForHealth = true;
    healthyAt = System.nanoTime();
  }

  void warmupRequest(boolean ok) {
    warmupRequests++;
    if (!ok) {
      warmupFailures++;
    }
  }

  void warmedUp() {
    warmedUp = true;
    warmedUpAt = System.nanoTime();
  }

  void ready() {
    readyAt = System.nanoTime();
  }

  /** Takes {@link #ready()} back: the ready file could not be written. */
  void notReady() {
    readyAt = 0;
  }

  boolean isReady() {
    return readyAt != 0;
  }

  /** The log line once ready: {@code ready in 42.1 s: cache 3.2 s, healthy 35.0 s, warmup 3.9 s (2 requests)}. */
  String readyLine() {
    var sb = new StringBuilder(String.format(
        Locale.ROOT,
        "ready in %.1f s: cache %.1f s",
        seconds(start, readyAt),
        seconds(start, cachedAt)));
    if (waitedForHealth) {
      sb.append(String.format(Locale.ROOT, ", healthy %.1f s", seconds(childStartedAt, healthyAt)));
    } else {
      sb.append(", ").append(command).append(" started (no --wait-http)");
    }
    if (warmedUp) {
      sb.append(String.format(
          Locale.ROOT,
          ", warmup %.1f s (%d request%s",
          seconds(healthyAt, warmedUpAt),
          warmupRequests,
          warmupRequests == 1 ? "" : "s"));
      if (warmupFailures > 0) {
        sb.append(", ").append(warmupFailures).append(" failed");
      }
      sb.append(')');
    }
    return sb.toString();
  }

  /** The ready file's content: where the model is, which process serves it, and the timings. */
  JsonObject readyDocument() {
    JsonObject json = JsonObject.create();
    if (entry != null) {
      json.put("source", entry.source().uri().toString())
          .put("revision", entry.source().revision())
          .put("path", entry.directory().toString());
    } else {
      json.put("source", null).put("revision", null).put("path", null);
    }
    return json.put("command", command)
        .put("pid", childPid < 0 ? null : childPid)
        .put("ready", isReady())
        .put("cacheSeconds", cachedAt == 0 ? null : seconds(start, cachedAt))
        .put("healthySeconds", waitedForHealth ? seconds(childStartedAt, healthyAt) : null)
        .put("warmupSeconds", warmedUp ? seconds(healthyAt, warmedUpAt) : null)
        .put("warmupRequests", warmupRequests)
        .put("warmupFailures", warmupFailures)
        .put("readySeconds", isReady() ? seconds(start, readyAt) : null);
  }

  /**
   * The report file's content on exit.
   *
   * @param exitCode exec's exit status
   * @param childStatus COMMAND's exit status, or null if it did not run
   * @param error the one-line error exec printed, or null
   */
  JsonObject exitDocument(int exitCode, Integer childStatus, String error) {
    return readyDocument()
        .put("exitCode", exitCode)
        .put("childStatus", childStatus)
        .put("error", error)
        .put("seconds", seconds(start, System.nanoTime()));
  }

  private static double seconds(long from, long to) {
    return Math.round((to - from) / 1e6) / 1e3;
  }

  /** Writes {@code text} to a file beside {@code file} and renames it over {@code file}: a reader sees all or nothing. */
  static void writeAtomically(Path file, String text) throws IOException {
    Path fresh = file.resolveSibling("." + file.getFileName() + ".tmp-" + UUID.randomUUID());
    try {
      Files.writeString(fresh, text, StandardCharsets.UTF_8);
      Files.move(fresh, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(fresh);
    }
  }
}
