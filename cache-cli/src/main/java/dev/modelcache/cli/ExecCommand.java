package dev.modelcache.cli;

import dev.modelcache.common.json.JsonObject;
import dev.modelcache.core.EnsureOptions;
import dev.modelcache.core.EntryNotFoundException;
import dev.modelcache.core.Lease;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code modelcache exec SOURCE [options] -- COMMAND [ARGS...]}: run a model server with the model
 * cached and leased for exactly as long as the server runs.
 */
@Command(
    name = "exec",
    customSynopsis = ExecCommand.SYNOPSIS,
    description = {
      "Ensure a model is cached (as prefetch does), lease it, and run COMMAND",
      "with MODELCACHE_MODEL_DIR set to the model's directory: no process evicts",
      "the model while COMMAND runs. SIGTERM, SIGINT and SIGHUP are sent on to",
      "COMMAND; exec waits for it, releases the lease and exits with its status",
      "(128+N if signal N killed it, 127 if it is not found, 126 if it cannot",
      "be run). Everything after '--' is COMMAND and its arguments, options",
      "included. COMMAND owns stdout: --json does not apply (see --report-file).",
      "",
      "For a server: with --wait-http exec polls its health URL until it answers",
      "2xx, then sends the --warmup-http requests, and only then creates",
      "--ready-file (for a probe: test -f PATH). If the server is not ready",
      "within --wait-timeout, exec stops it (SIGTERM, SIGKILL after --stop-grace)",
      "and exits with status 4; a failed warmup request exits with 1."
    })
final class ExecCommand implements Callable<Integer> {

  /** The variable that tells COMMAND where the model is. */
  static final String MODEL_DIR_VARIABLE = "MODELCACHE_MODEL_DIR";

  /** Where a command is looked for when the environment has no PATH, as execvp(3) does. */
  private static final String DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

  static final String SYNOPSIS = "modelcache exec SOURCE [OPTIONS] -- COMMAND [ARGS...]";

  @ParentCommand
  ModelcacheCommand app;

  @Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  SourceArgument source;

  @Mixin
  DownloadOptions download;

  @Mixin
  PrefetchCommand.EntryOptions entryOptions;

  @Mixin
  ReadinessOptions readinessOptions;

  /** Held while the ready file is created or removed, so a signal never leaves one behind. */
  private final Object readyLock = new Object();

  @Parameters(
      index = "1..*",
      arity = "0..*",
      paramLabel = "COMMAND",
      description = "After '--': the command to run and its arguments.")
  List<String> command = new ArrayList<>();

  @Override
  public Integer call() throws IOException, UsageException {
    List<String> argv = childCommand();
    if (app.json()) {
      throw new UsageException("--json does not apply to exec: stdout belongs to " + argv.get(0)
          + "; --report-file PATH writes exec's timings as JSON on exit");
    }
    ReadinessOptions.Plan plan = readinessOptions.plan();
    ExecReport report = new ExecReport(argv.get(0));
    Ending end;
    try {
      prepare(plan.readyFile());
      prepare(plan.reportFile());
      end = execute(argv, plan, report);
    } catch (IOException | UsageException | RuntimeException e) {
      writeReport(
          plan,
          report.exitDocument(ExitCode.of(e).status(), null, Main.describe(ExitCode.unwrap(e))));
      throw e;
    } finally {
      withdrawReady(plan);
    }
    writeReport(plan, report.exitDocument(end.status(), end.childStatus(), end.error()));
    return end.status();
  }

  /** How exec ends: its exit status, COMMAND's (null if it never ran), and the error it printed (or null). */
  private record Ending(int status, Integer childStatus, String error) {}

  private Ending execute(List<String> argv, ReadinessOptions.Plan plan, ExecReport report)
      throws IOException, UsageException {
    ModelSource model = source.model();
    var child = new ProcessBuilder().inheritIO();
    Map<String, String> env = child.environment();
    env.clear();
    env.putAll(app.context().env());
    // Looked up before the model is fetched: a mistyped command should not wait for a download.
    Resolved resolved = resolve(argv.get(0), env.getOrDefault("PATH", DEFAULT_PATH));
    if (resolved.failure() != null) {
      return refuse(argv.get(0), resolved.failure(), resolved.status());
    }
    List<String> commandLine = new ArrayList<>(argv);
    commandLine.set(0, resolved.path());
    child.command(commandLine);
    long start = System.nanoTime();
    Lease lease;
    long downloaded;
    // The lease outlives the cache: it is a holder file this process keeps locked (or renews) until
    // the lease is closed or the process dies. Closing the cache before the
    // command starts gives back its transfer threads, buffers and connections, which a process
    // that only waits for its child has no use for.
    try (ModelCache cache = app.openCache(true, download, model);
        DownloadProgress listener = new DownloadProgress(app, "exec")) {
      lease = ensureAndLease(cache, model, listener);
      downloaded = listener.downloadedBytes();
    }
    try (lease) {
      Path link = entryOptions.link(lease.entry());
      report.cached(lease.entry());
      app.note(PrefetchCommand.summary(lease.entry(), downloaded, System.nanoTime() - start, link)
          + "; running " + argv.get(0));
      env.put(MODEL_DIR_VARIABLE, lease.directory().toString());
      if (downloaded > 0) {
        // The download's direct buffers are freed only when a collection finds them unreachable,
        // and a process that only waits may not collect for as long as the command runs (after a
        // 256 MiB download: 222 MB resident without this, 75 MB with it).
        System.gc();
      }
      return run(argv.get(0), child, plan, report);
    }
  }

  /**
   * The command to run: every word after the first {@code --}.
   *
   * @throws UsageException if there is no {@code --}, nothing after it, or a word before it that is
   *     no option of exec's
   */
  List<String> childCommand() throws UsageException {
    List<String> args = spec.commandLine().getParseResult().expandedArgs();
    int n = command.size();
    int delimiter = args.size() - n - 1;
    boolean afterDelimiter = delimiter >= 0
        && args.get(delimiter).equals("--")
        && args.subList(delimiter + 1, args.size()).equals(command);
    if (!afterDelimiter) {
      if (n == 0) {
        throw new UsageException("no command to run: give it after '--' (" + SYNOPSIS + ")");
      }
      throw new UsageException(
          "'" + command.get(0) + "': the command to run must follow '--' (" + SYNOPSIS + ")");
    }
    if (n == 0) {
      throw new UsageException("no command after '--' (" + SYNOPSIS + ")");
    }
    return List.copyOf(command);
  }

  /**
   * What to add to a parse error of exec: an unknown option is most often one of COMMAND's given
   * without the {@code --} before it.
   *
   * @return the hint, or null for errors of other commands
   */
  static String hint(CommandLine.ParameterException e) {
    if (e instanceof CommandLine.UnmatchedArgumentException
        && e.getCommandLine().getCommandSpec().userObject() instanceof ExecCommand) {
      return "the command to run and its options go after '--': " + SYNOPSIS;
    }
    return null;
  }

  /**
   * Ensures the model and leases it. An entry evicted between the two (by a process that needed the
   * space) is ensured again.
   */
  private Lease ensureAndLease(ModelCache cache, ModelSource model, DownloadProgress listener)
      throws IOException {
    EnsureOptions options = EnsureOptions.DEFAULTS.withPin(entryOptions.pin);
    for (int attempt = 1; ; attempt++) {
      try {
        return cache.lease(cache.ensure(model, options, listener));
      } catch (EntryNotFoundException e) {
        if (attempt == 3) {
          throw e;
        }
      }
    }
  }

  /**
   * Runs the command to its end, forwarding signals to it, and in between brings it to readiness
   * if asked to; how exec ends.
   */
  private Ending run(
      String name, ProcessBuilder builder, ReadinessOptions.Plan plan, ExecReport report) {
    app.context().out().flush();
    app.context().err().flush();
    try (SignalForwarder signals = SignalForwarder.install()) {
      if (plan.readyFile() != null) {
        // Withdrawn before the command hears of the signal: a probe never sees a stopping server
        // ready.
        signals.beforeForwarding(signal -> {
          if (!signal.equals("HUP")) {
            withdrawReady(plan);
          }
        });
      }
      Process child;
      try {
        child = builder.start();
      } catch (IOException e) {
        // Found a moment ago, so it exists: the kernel refused it (a missing interpreter, a bad
        // binary).
        String why =
            Main.oneLine(e.getMessage()).replaceFirst("^Cannot run program \"[^\"]*\"[^:]*: ", "");
        return refuse(name, "cannot be run: " + why, ExitCode.CANNOT_EXECUTE);
      }
      signals.forwardTo(child);
      report.childStarted(child);
      Readiness.Outcome failure = plan.any() ? bringUp(name, child, signals, plan, report) : null;
      String error = null;
      switch (failure) {
        case null -> {}
        case Readiness.Outcome.Failed failed -> {
          error = failed.message();
          app.context().err().println(spec.qualifiedName() + ": " + error + "; stopping " + name);
          app.context().err().flush();
          stop(name, child, plan.stopGrace());
          return new Ending(failed.code().status(), waitFor(child), error);
        }
        case Readiness.Outcome.ChildExited exited -> {
          error = exited.message();
          app.context().err().println(spec.qualifiedName() + ": " + error);
          app.context().err().flush();
        }
        case Readiness.Outcome.StopRequested _ ->
          app.note("exec: asked to stop before " + name + " was ready; waiting for it to exit");
        case Readiness.Outcome.Ready _ -> throw new IllegalStateException("ready is no failure");
      }
      int status = waitFor(child);
      withdrawReady(plan);
      return new Ending(status, status, error);
    }
  }

  /**
   * Brings a started command to readiness: healthy, warmed up, then the ready file and the ready
   * line. Null once ready, else what went wrong.
   */
  private Readiness.Outcome bringUp(
      String name,
      Process child,
      SignalForwarder signals,
      ReadinessOptions.Plan plan,
      ExecReport report) {
    Readiness.Outcome outcome;
    try (var readiness = new Readiness(app, plan, name, report)) {
      outcome = readiness.bringUp(child, signals);
    } catch (InterruptedException e) {
      // Nothing interrupts this thread on purpose; treat it as a failure rather than hang on.
      Thread.currentThread().interrupt();
      return new Readiness.Outcome.Failed(
          ExitCode.FAILURE, "interrupted while waiting for " + name);
    }
    if (!(outcome instanceof Readiness.Outcome.Ready)) {
      return outcome;
    }
    synchronized (readyLock) {
      if (signals.stopRequested()) {
        return new Readiness.Outcome.StopRequested();
      }
      report.ready();
      if (plan.readyFile() != null) {
        try {
          ExecReport.writeAtomically(
              plan.readyFile(), report.readyDocument() + System.lineSeparator());
        } catch (IOException e) {
          report.notReady();
          return new Readiness.Outcome.Failed(
              ExitCode.FAILURE, "--ready-file " + plan.readyFile() + ": " + Main.describe(e));
        }
      }
    }
    app.note("exec: " + report.readyLine()
        + (plan.readyFile() == null ? "" : "; created " + plan.readyFile()));
    return null;
  }

  /** SIGTERM to the command, and SIGKILL if it is still there after {@code grace}. */
  private void stop(String name, Process child, Duration grace) {
    child.destroy(); // SIGTERM
    boolean exited;
    try {
      exited = child.waitFor(grace.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      exited = false;
    }
    if (!exited) {
      app.note("exec: " + name + " did not exit within " + TimeSpan.format(grace)
          + " of SIGTERM (--stop-grace): sending SIGKILL");
      child.destroyForcibly();
    }
  }

  /** Waits for the command to exit; its status (128+N if signal N killed it, as in a shell). */
  private static int waitFor(Process child) {
    while (true) {
      try {
        return child.waitFor();
      } catch (InterruptedException e) {
        // Nothing interrupts this thread on purpose: keep waiting for the command.
      }
    }
  }

  /** Makes room for a file exec writes later: its directory, and no file left by an earlier run. */
  private static void prepare(Path file) throws IOException {
    if (file != null) {
      Files.createDirectories(file.getParent());
      // A ready file left by an exec that was killed, on a volume that outlived its container.
      Files.deleteIfExists(file);
    }
  }

  /** Removes the ready file, if there is one: the command is stopping or gone. */
  private void withdrawReady(ReadinessOptions.Plan plan) {
    if (plan.readyFile() == null) {
      return;
    }
    synchronized (readyLock) {
      try {
        Files.deleteIfExists(plan.readyFile());
      } catch (IOException e) {
        app.context()
            .err()
            .println(spec.qualifiedName() + ": --ready-file " + plan.readyFile()
                + ": cannot remove it: " + Main.describe(e));
        app.context().err().flush();
      }
    }
  }

  private void writeReport(ReadinessOptions.Plan plan, JsonObject document) {
    if (plan.reportFile() == null) {
      return;
    }
    try {
      ExecReport.writeAtomically(plan.reportFile(), document + System.lineSeparator());
    } catch (IOException e) {
      app.context()
          .err()
          .println(spec.qualifiedName() + ": --report-file " + plan.reportFile() + ": "
              + Main.describe(e));
      app.context().err().flush();
    }
  }

  private Ending refuse(String name, String why, ExitCode code) {
    String error = name + ": " + why;
    app.context().err().println(spec.qualifiedName() + ": " + error);
    app.context().err().flush();
    return new Ending(code.status(), null, error);
  }

  /** A command looked up as a shell does: the file, or why it cannot be run and with which status. */
  private record Resolved(String path, String failure, ExitCode status) {
    static Resolved found(Path path) {
      return new Resolved(path.toString(), null, ExitCode.OK);
    }

    static Resolved refused(String failure, ExitCode status) {
      return new Resolved(null, failure, status);
    }
  }

  /**
   * Finds {@code name}: a name with a slash as a path, else in {@code path}'s directories. A file
   * found but not executable is status 126, as in a shell; none found 127.
   */
  private static Resolved resolve(String name, String path) {
    if (name.isEmpty()) {
      return Resolved.refused("command not found", ExitCode.COMMAND_NOT_FOUND);
    }
    try {
      if (name.contains("/")) {
        Path file = Path.of(name);
        if (!Files.exists(file)) {
          return Resolved.refused("no such file or directory", ExitCode.COMMAND_NOT_FOUND);
        }
        if (Files.isDirectory(file)) {
          return Resolved.refused("is a directory", ExitCode.CANNOT_EXECUTE);
        }
        if (!Files.isExecutable(file)) {
          return Resolved.refused("permission denied", ExitCode.CANNOT_EXECUTE);
        }
        return Resolved.found(file);
      }
      Path notExecutable = null;
      for (String dir : path.split(File.pathSeparator, -1)) {
        Path file = Path.of(dir.isEmpty() ? "." : dir).resolve(name);
        if (Files.isRegularFile(file)) {
          if (Files.isExecutable(file)) {
            return Resolved.found(file);
          }
          if (notExecutable == null) {
            notExecutable = file;
          }
        }
      }
      if (notExecutable != null) {
        return Resolved.refused(
            "permission denied (" + notExecutable + ")", ExitCode.CANNOT_EXECUTE);
      }
      return Resolved.refused("command not found", ExitCode.COMMAND_NOT_FOUND);
    } catch (InvalidPathException e) {
      return Resolved.refused("command not found", ExitCode.COMMAND_NOT_FOUND);
    }
  }
}
