package dev.modelcache.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Runs the command in-process with captured streams, as a test's view of one invocation. */
final class Cli {

  private final Map<String, String> env = new HashMap<>();
  private boolean terminal;
  private Duration progressInterval = Duration.ofMillis(100);

  /** A command with its cache root set through the environment, as an init container would. */
  static Cli withRoot(Path root) {
    var cli = new Cli();
    cli.env.put(CacheRoot.ENV, root.toString());
    return cli;
  }

  static Cli plain() {
    return new Cli();
  }

  Cli env(String key, String value) {
    env.put(key, value);
    return this;
  }

  Cli terminal(boolean value) {
    terminal = value;
    return this;
  }

  Cli progressInterval(Duration value) {
    progressInterval = value;
    return this;
  }

  Result run(String... args) {
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    try (var o = new PrintStream(out, true, StandardCharsets.UTF_8);
        var e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      var context = new CommandContext(o, e, env, terminal, progressInterval);
      int status = Main.run(context, args);
      return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
  }

  /** What one run left behind. */
  record Result(int exitCode, String stdout, String stderr) {

    Map<String, Object> json() {
      return JsonReader.object(stdout.strip());
    }

    List<String> stderrLines() {
      return stderr.isEmpty() ? List.of() : List.of(stderr.split("\\R"));
    }

    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
    }
  }
}
