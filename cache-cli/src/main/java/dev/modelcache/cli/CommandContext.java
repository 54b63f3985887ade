package dev.modelcache.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * What a run of the command sees of the outside world: its streams, its environment, whether
 * standard error is a terminal. Tests pass their own, so a whole command runs in-process with
 * captured output.
 *
 * @param out standard output: results only (with {@code --json}, exactly one JSON document)
 * @param err standard error: progress, notes and error lines
 * @param env the environment variables ({@code MODELCACHE_ROOT}, {@code XDG_CACHE_HOME})
 * @param terminal whether standard error is an interactive terminal (draw a progress bar)
 * @param progressInterval how often a plain progress line is written when not on a terminal
 */
record CommandContext(
    PrintStream out,
    PrintStream err,
    Map<String, String> env,
    boolean terminal,
    Duration progressInterval) {

  /** The default interval of plain progress lines: often enough to show life in a pod's log. */
  static final Duration DEFAULT_PROGRESS_INTERVAL = Duration.ofSeconds(5);

  CommandContext {
    env = Map.copyOf(env);
  }

  /** The real process: {@code System.out}, {@code System.err}, the process environment. */
  static CommandContext system() {
    return new CommandContext(
        System.out, System.err, System.getenv(), stderrIsTerminal(), DEFAULT_PROGRESS_INTERVAL);
  }

  /**
   * Whether standard error is a terminal. Since JDK 22 {@code System.console()} exists even when
   * redirected, so ask {@code isTerminal()}, and on Linux also where file descriptor 2 points:
   * {@code modelcache ... 2>log} on a terminal must not fill the log with carriage returns.
   */
  static boolean stderrIsTerminal() {
    var console = System.console();
    if (console == null || !console.isTerminal()) {
      return false;
    }
    Path fd2 = Path.of("/proc/self/fd/2");
    if (!Files.exists(fd2, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return true;
    }
    try {
      String target = Files.readSymbolicLink(fd2).toString();
      return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }
}
