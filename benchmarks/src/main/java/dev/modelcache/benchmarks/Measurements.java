package dev.modelcache.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** What the benchmark forks report besides JMH's own figures: process memory and side records. */
public final class Measurements {

  private Measurements() {}

  /** A field of /proc/self/status in bytes (VmHWM, VmRSS, RssAnon, RssFile), or -1. */
  public static long procStatusBytes(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(field + ":")) {
          String[] parts = line.substring(field.length() + 1).trim().split("\\s+");
          return Long.parseLong(parts[0]) * 1024;
        }
      }
    } catch (IOException e) {
      return -1;
    }
    return -1;
  }

  /**
   * Appends {@code key,context,value} to the file named by the system property {@code property},
   * if it is set; the report scripts read these side files next to JMH's JSON.
   */
  public static void record(String property, String key, String context, String value) {
    String side = System.getProperty(property);
    if (side == null) {
      return;
    }
    try {
      Files.writeString(
          Path.of(side),
          key + "," + context + "," + value + "\n",
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
