package dev.modelcache.cli;

import dev.modelcache.core.EntryNotFoundException;
import dev.modelcache.core.EnsureOptions;
import dev.modelcache.core.Lease;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
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
      "included. COMMAND owns stdout: --json does not apply."
    })
final class ExecCommand implements Callable<Integer> {

  /** The variable that tells COMMAND where the model is. */
  static final String MODEL_DIR_VARIABLE = "MODELCACHE_MODEL_DIR";

  /** Where a command is looked for when the environment has no PATH, as execvp(3) does. */
  private static final String DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

  static final String SYNOPSIS = "modelcache exec SOURCE [OPTIONS] -- COMMAND [ARGS...]";

  @ParentCommand ModelcacheCommand app;

  @Spec CommandLine.Model.CommandSpec spec;

  @Mixin SourceArgument source;

  @Mixin DownloadOptions download;

  @Mixin PrefetchCommand.EntryOptions entryOptions;

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
      throw new UsageException("--json does not apply to exec: stdout belongs to " + argv.get(0));
    }
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
      app.note(PrefetchCommand.summary(lease.entry(), downloaded, System.nanoTime() - start, link)
          + "; running " + argv.get(0));
      env.put(MODEL_DIR_VARIABLE, lease.directory().toString());
      if (downloaded > 0) {
        // The download's direct buffers are freed only when a collection finds them unreachable,
        // and a process that only waits may not collect for as long as the command runs (after a
        // 256 MiB download: 222 MB resident without this, 75 MB with it).
        System.gc();
      }
      return run(argv.get(0), child);
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
    boolean afterDelimiter =
        delimiter >= 0 && args.get(delimiter).equals("--") && args.subList(delimiter + 1, args.size()).equals(command);
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
  private Lease ensureAndLease(ModelCache cache, ModelSource model, DownloadProgress listener) throws IOException {
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

  /** Runs the command to its end, forwarding signals to it; its exit status. */
  private int run(String name, ProcessBuilder builder) {
    app.context().out().flush();
    app.context().err().flush();
    try (SignalForwarder signals = SignalForwarder.install()) {
      Process child;
      try {
        child = builder.start();
      } catch (IOException e) {
        // Found a moment ago, so it exists: the kernel refused it (a missing interpreter, a bad binary).
        String why = Main.oneLine(e.getMessage()).replaceFirst("^Cannot run program \"[^\"]*\"[^:]*: ", "");
        return refuse(name, "cannot be run: " + why, ExitCode.CANNOT_EXECUTE);
      }
      signals.forwardTo(child);
      while (true) {
        try {
          // On Linux a child killed by signal N exits with 128+N here, as in a shell.
          return child.waitFor();
        } catch (InterruptedException e) {
          // Nothing interrupts this thread on purpose: keep waiting for the command.
        }
      }
    }
  }

  private int refuse(String name, String why, ExitCode code) {
    app.context().err().println(spec.qualifiedName() + ": " + name + ": " + why);
    app.context().err().flush();
    return code.status();
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
        return Resolved.refused("permission denied (" + notExecutable + ")", ExitCode.CANNOT_EXECUTE);
      }
      return Resolved.refused("command not found", ExitCode.COMMAND_NOT_FOUND);
    } catch (InvalidPathException e) {
      return Resolved.refused("command not found", ExitCode.COMMAND_NOT_FOUND);
    }
  }
}
