package dev.modelcache.core;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Pods on one node, imitated with real namespaces: each child JVM in a PID namespace of its own
 * (where it is pid 1, as a container's entrypoint is), optionally with the cache root bind-mounted
 * at another path, or as another user. Needs root and {@code unshare}; {@link #unavailable()} says
 * why not, for a test to skip with.
 */
final class Pods {

  private static final String UNAVAILABLE = probe();

  private Pods() {}

  /** Why pods cannot be imitated here, or null if they can. */
  static String unavailable() {
    return UNAVAILABLE;
  }

  private static String probe() {
    try {
      Process p = new ProcessBuilder(
              "unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "true")
          .redirectErrorStream(true)
          .start();
      String out = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return "unshare --pid is not permitted here: " + out.strip();
      }
      return null;
    } catch (IOException | InterruptedException e) {
      return "unshare is not available: " + e;
    }
  }

  /** A command prefix that runs the rest in a new PID namespace (and mount namespace). */
  static List<String> pidNamespace() {
    return List.of("unshare", "--pid", "--fork", "--mount-proc", "--kill-child");
  }

  /** Like {@link #pidNamespace()}, with a shell as pid 1 and the rest as its child, pid 2. */
  static List<String> pidNamespaceUnderAShell() {
    List<String> cmd = new ArrayList<>(pidNamespace());
    cmd.addAll(List.of("sh", "-c", "\"$@\"; exit $?", "sh"));
    return cmd;
  }

  /**
   * A prefix that runs the rest in new PID and mount namespaces where {@code root} is also mounted
   * at {@code otherPath} (a bind mount only that namespace sees).
   */
  static List<String> withRootAt(Path root, Path otherPath) {
    List<String> cmd = new ArrayList<>(pidNamespace());
    cmd.addAll(List.of(
        "sh",
        "-c",
        "mkdir -p \"$1\" && mount --bind \"$2\" \"$1\" && shift 2 && exec \"$@\"",
        "sh",
        otherPath.toString(),
        root.toString()));
    return cmd;
  }

  /** A prefix that runs the rest in a new PID namespace as {@code uid}:{@code uid}, with no other groups. */
  static List<String> asUser(int uid) {
    List<String> cmd = new ArrayList<>(pidNamespace());
    cmd.addAll(List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups"));
    return cmd;
  }

  /**
   * This JVM's class path, copied into {@code dir} where every user can read it (the Maven
   * repository and the checkout may be under a private home directory).
   */
  static String classPathForAnyUser(Path dir) throws IOException {
    Files.createDirectories(dir);
    List<String> entries = new ArrayList<>();
    int n = 0;
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path from = Path.of(entry);
      if (!Files.exists(from)) {
        continue;
      }
      Path to = dir.resolve(n++ + "-" + from.getFileName());
      try (var tree = Files.walk(from)) {
        for (Path p : (Iterable<Path>) tree::iterator) {
          Path target = to.resolve(from.relativize(p).toString());
          if (Files.isDirectory(p)) {
            Files.createDirectories(target);
            Files.setAttribute(target, "unix:mode", 0755);
          } else {
            Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
            Files.setAttribute(target, "unix:mode", 0644);
          }
        }
      }
      entries.add(to.toString());
    }
    return String.join(File.pathSeparator, entries);
  }

  /**
   * Lets every user traverse {@code dir} and the directories above it up to {@code top} (a JUnit
   * temp dir is 0700); nothing above {@code top} is changed.
   */
  static void openToAll(Path dir, Path top) throws IOException {
    Path stop = top.toAbsolutePath().getParent();
    for (Path d = dir.toAbsolutePath(); d != null && !d.equals(stop); d = d.getParent()) {
      int mode = (Integer) Files.getAttribute(d, "unix:mode") & 07777;
      Files.setAttribute(d, "unix:mode", mode | 0055);
    }
  }
}
