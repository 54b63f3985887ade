package dev.modelcache.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * The process behind a lease or a download, as it describes itself in its holder file: for
 * people ({@code modelcache ls}), never for deciding whether it is alive (see {@link Liveness}).
 *
 * @param pid its process id in its own PID namespace (in a pod, often 1); -1 if unknown
 * @param host its host name: in Kubernetes, the pod's name; empty if unknown
 * @param uid its user id; -1 if unknown
 * @param since when the process started
 */
public record Holder(long pid, String host, long uid, Instant since) {
  /** A holder whose file could not be read. */
  public static final Holder UNKNOWN = new Holder(-1, "", -1, Instant.EPOCH);

  private static final Holder CURRENT = new Holder(
      ProcessHandle.current().pid(),
      hostName(),
      currentUid(),
      ProcessHandle.current().info().startInstant().orElse(Instant.now()));

  /** This process. */
  public static Holder current() {
    return CURRENT;
  }

  /** One line of {@code key=value} words. */
  String toLine() {
    return "pid=" + pid + " host=" + host + " uid=" + uid + " since=" + since + "\n";
  }

  /** Parses {@link #toLine()}; anything unreadable gives {@link #UNKNOWN}'s values. */
  static Holder parse(String text) {
    Map<String, String> words = new HashMap<>();
    for (String word : text.trim().split("\\s+")) {
      int eq = word.indexOf('=');
      if (eq > 0) {
        words.put(word.substring(0, eq), word.substring(eq + 1));
      }
    }
    try {
      return new Holder(
          Long.parseLong(words.getOrDefault("pid", "-1")),
          words.getOrDefault("host", ""),
          Long.parseLong(words.getOrDefault("uid", "-1")),
          words.containsKey("since") ? Instant.parse(words.get("since")) : Instant.EPOCH);
    } catch (RuntimeException e) {
      return UNKNOWN;
    }
  }

  private static String hostName() {
    // The UTS namespace's name: a pod's name in Kubernetes.
    try {
      String name = Files.readString(
              Path.of("/proc/sys/kernel/hostname"), StandardCharsets.US_ASCII)
          .strip();
      if (!name.isEmpty()) {
        return name.replaceAll("\\s", "_");
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    String env = System.getenv("HOSTNAME");
    return env == null || env.isBlank() ? "-" : env.strip().replaceAll("\\s", "_");
  }

  private static long currentUid() {
    try {
      return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
