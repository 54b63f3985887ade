package dev.modelcache.core;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Another process that takes and drops kernel locks on files when told to: a JVM started once and
 * driven line by line through its standard input, each command answered before the next is read,
 * so a test knows the lock is held (or gone) when {@link #lock} (or {@link #unlock}) returns.
 *
 * <pre>
 * lock PATH     open PATH (created if missing), lock it exclusively; answers LOCKED
 * unlock PATH   release the lock and close the file; answers UNLOCKED
 * trylock PATH  whether this process could lock PATH now (taking and dropping it); answers FREE or BUSY
 * alive PATH    whether this process judges the holder of PATH alive under kernel locks; answers ALIVE or DEAD
 * </pre>
 */
final class LockHolder implements AutoCloseable {

  private final Process process;
  private final Writer in;
  private final BufferedReader out;

  private LockHolder(Process process) {
    this.process = process;
    this.in = new java.io.OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    this.out =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
  }

  static LockHolder start() throws IOException {
    List<String> cmd = List.of(
        ProcessHandle.current().info().command().orElseThrow(),
        "-XX:-UsePerfData",
        "-Xmx32m",
        "-XX:TieredStopAtLevel=1",
        "-XX:+UseSerialGC",
        "-cp",
        System.getProperty("java.class.path"),
        LockHolder.class.getName());
    return new LockHolder(new ProcessBuilder(cmd).redirectErrorStream(true).start());
  }

  void lock(Path file) throws IOException {
    ask("lock " + file, "LOCKED");
  }

  void unlock(Path file) throws IOException {
    ask("unlock " + file, "UNLOCKED");
  }

  /** Whether this process could take the lock of {@code file} now. */
  boolean free(Path file) throws IOException {
    return ask("trylock " + file, "FREE", "BUSY");
  }

  /** Whether this process judges the holder of {@code file} alive, under kernel locks. */
  boolean judgesAlive(Path file) throws IOException {
    return ask("alive " + file, "ALIVE", "DEAD");
  }

  private void ask(String command, String answer) throws IOException {
    ask(command, answer, answer);
  }

  /** Sends {@code command}; true for answer {@code yes}, false for {@code no}. */
  private synchronized boolean ask(String command, String yes, String no) throws IOException {
    in.write(command + "\n");
    in.flush();
    String line = out.readLine();
    if (!yes.equals(line) && !no.equals(line)) {
      throw new IOException("the lock holder answered '" + line + "' to '" + command + "'");
    }
    return yes.equals(line);
  }

  @Override
  public void close() throws IOException {
    in.close();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  public static void main(String[] args) throws IOException {
    Map<String, FileChannel> held = new HashMap<>();
    PrintStream answers = System.out;
    BufferedReader commands =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = commands.readLine()) != null; ) {
      int space = line.indexOf(' ');
      String verb = line.substring(0, space);
      String file = line.substring(space + 1);
      try {
        if (verb.equals("lock")) {
          FileChannel ch =
              FileChannel.open(Path.of(file), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock lock = ch.lock();
          held.put(file, ch);
          answers.println(lock.isValid() ? "LOCKED" : "NOT LOCKED");
        } else if (verb.equals("unlock")) {
          held.remove(file).close();
          answers.println("UNLOCKED");
        } else if (verb.equals("trylock")) {
          try (FileChannel ch = FileChannel.open(Path.of(file), StandardOpenOption.WRITE);
              FileLock lock = ch.tryLock()) {
            answers.println(lock != null ? "FREE" : "BUSY");
          }
        } else if (verb.equals("alive")) {
          HolderFiles holders = new HolderFiles(
              Liveness.LOCKS, HolderFiles.DEFAULT_EXPIRY, java.time.InstantSource.system());
          answers.println(holders.isAlive(Path.of(file)) ? "ALIVE" : "DEAD");
        } else {
          answers.println("UNKNOWN " + verb);
        }
      } catch (IOException | RuntimeException e) {
        answers.println("ERROR " + e);
      }
      answers.flush();
    }
  }
}
