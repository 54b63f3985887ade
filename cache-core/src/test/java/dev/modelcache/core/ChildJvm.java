package dev.modelcache.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A real JVM running {@link CacheChild}, started with the test's java and class path. */
final class ChildJvm implements AutoCloseable {

  final Process process;
  final Path log;

  private ChildJvm(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  static ChildJvm start(
      Path log, Map<String, String> properties, boolean nativeAccess, String... args)
      throws IOException {
    return start(log, List.of(), properties, nativeAccess, args);
  }

  static ChildJvm start(
      Path log,
      List<String> jvmFlags,
      Map<String, String> properties,
      boolean nativeAccess,
      String... args)
      throws IOException {
    return start(
        log,
        List.of(),
        System.getProperty("java.class.path"),
        jvmFlags,
        properties,
        nativeAccess,
        args);
  }

  /**
   * Starts the child under {@code wrapper} (a command that runs the rest of its command line, such
   * as {@code unshare --pid --fork --mount-proc}) with the given class path.
   */
  static ChildJvm start(
      Path log,
      List<String> wrapper,
      String classPath,
      List<String> jvmFlags,
      Map<String, String> properties,
      boolean nativeAccess,
      String... args)
      throws IOException {
    List<String> cmd = new ArrayList<>(wrapper);
    cmd.add(ProcessHandle.current().info().command().orElseThrow());
    cmd.add("-XX:-UsePerfData"); // JVMs in other PID namespaces would share /tmp/hsperfdata_root/1
    cmd.add("-Xmx128m");
    cmd.addAll(jvmFlags);
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-XX:+UseSerialGC");
    if (nativeAccess) {
      cmd.add("--enable-native-access=ALL-UNNAMED");
    }
    properties.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
    cmd.add("-cp");
    cmd.add(classPath);
    cmd.add(CacheChild.class.getName());
    cmd.addAll(List.of(args));
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    return new ChildJvm(pb.start(), log);
  }

  String output() throws IOException {
    return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
  }

  /** Waits until the output has a line starting with {@code prefix}; fails if the process exits first. */
  String awaitLine(String prefix, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      for (String line : output().split("\n")) {
        if (line.startsWith(prefix)) {
          return line;
        }
      }
      if (!process.isAlive()) {
        throw new AssertionError(
            "child exited with " + process.exitValue() + " before '" + prefix + "':\n" + output());
      }
      Thread.sleep(10);
    }
    throw new AssertionError("no '" + prefix + "' line within " + timeout + ":\n" + output());
  }

  int waitFor(Duration timeout) throws Exception {
    if (!process.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("child did not exit within " + timeout + ":\n" + output());
    }
    return process.exitValue();
  }

  /**
   * SIGKILLs the JVM, then waits until it is reaped. Under a wrapper the JVM is the wrapper's child
   * (pid 1 of its namespace): it is killed, and the wrapper, which waits for it, exits once it is gone.
   */
  void kill() {
    List<ProcessHandle> wrapped = process.children().toList();
    if (wrapped.isEmpty()) {
      process.destroyForcibly();
    } else {
      wrapped.forEach(ProcessHandle::destroyForcibly);
    }
    try {
      if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      kill();
    }
  }
}
