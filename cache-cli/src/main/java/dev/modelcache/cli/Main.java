package dev.modelcache.cli;

import dev.modelcache.common.json.JsonObject;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/** Entry point of the {@code modelcache} command. */
public final class Main {

  /** The subcommands by name, in the order the usage help lists them. */
  private static final Map<String, Supplier<Object>> SUBCOMMANDS = subcommands();

  private Main() {}

  private static Map<String, Supplier<Object>> subcommands() {
    Map<String, Supplier<Object>> m = new LinkedHashMap<>();
    m.put("prefetch", PrefetchCommand::new);
    m.put("await", AwaitCommand::new);
    m.put("exec", ExecCommand::new);
    m.put("ls", LsCommand::new);
    m.put("evict", EvictCommand::new);
    m.put("config", ConfigCommand::new);
    m.put("verify", VerifyCommand::new);
    m.put("inspect", InspectCommand::new);
    m.put("load", LoadCommand::new);
    m.put("warm", WarmCommand::new);
    m.put("demo", DemoCommand::new);
    m.put("agent", AgentCommand::new);
    return Collections.unmodifiableMap(m);
  }

  /** Runs the command and exits with its status. */
  public static void main(String[] args) {
    int status = run(CommandContext.system(), args);
    System.exit(status);
  }

  /**
   * Runs one command line to completion, in-process.
   *
   * @return the exit status (see {@link ExitCode})
   */
  static int run(CommandContext context, String... args) {
    var app = new ModelcacheCommand(context);
    CommandLine cl = commandLineFor(app, args);
    cl.setExecutionStrategy(parseResult -> {
      configureLogging(context, app);
      return new CommandLine.RunLast().execute(parseResult);
    });
    cl.setParameterExceptionHandler((ex, ignored) -> {
      String name = ex.getCommandLine().getCommandSpec().qualifiedName();
      String hint = ExecCommand.hint(ex);
      context
          .err()
          .println(name + ": " + oneLine(ex.getMessage()) + " ("
              + (hint != null ? hint : "see '" + name + " --help'") + ")");
      context.err().flush();
      return ExitCode.USAGE.status();
    });
    cl.setExecutionExceptionHandler((ex, failed, parseResult) -> {
      ExitCode code = ExitCode.of(ex);
      Throwable cause = ExitCode.unwrap(ex);
      String name = failed.getCommandSpec().qualifiedName();
      String message = describe(cause);
      if (ExitCode.isExpected(cause)) {
        context.err().println(name + ": " + message);
      } else {
        context
            .err()
            .println(name + ": internal error: " + message
                + (app.debug() ? "" : " (run with --debug for the stack trace)"));
      }
      if (app.debug()) {
        ex.printStackTrace(context.err());
      }
      context.err().flush();
      if (app.json()) {
        context
            .out()
            .println(JsonObject.create().put("error", message).put("exitCode", code.status()));
        context.out().flush();
      }
      return code.status();
    });
    int status = cl.execute(args);
    context.out().flush();
    context.err().flush();
    return status;
  }

  /** The command tree with every subcommand: also used to check command lines without running them. */
  static CommandLine commandLine(ModelcacheCommand app) {
    return withSubcommands(new CommandLine(app), app, SUBCOMMANDS.keySet());
  }

  /**
   * The command tree that {@code args} need: the one subcommand they name, or every subcommand when
   * they name none (help, version, a misspelt command). Picocli builds a
   * subcommand's model by reflection, and its classes (Java 5 class files) cannot be kept linked in
   * the AOT cache: with all twelve a {@code prefetch} took 140 ms from {@code main} to parsing, with
   * its own alone 95 ms.
   */
  static CommandLine commandLineFor(ModelcacheCommand app, String... args) {
    var cl = new CommandLine(app);
    String named = namedSubcommand(cl.getCommandSpec(), args);
    return withSubcommands(cl, app, named == null ? SUBCOMMANDS.keySet() : Set.of(named));
  }

  /**
   * The subcommand {@code args} run: their first word that is not a global option or an option's
   * value, if it is a subcommand's name; null if there is none, or if a word that looks like an
   * option is not one of {@code top}'s (it might take the next word as its value).
   */
  static String namedSubcommand(CommandSpec top, String... args) {
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("--")) {
        return null;
      }
      if (arg.startsWith("-") && arg.length() > 1) {
        int equals = arg.indexOf('=');
        OptionSpec option = top.findOption(equals < 0 ? arg : arg.substring(0, equals));
        if (option == null) {
          return null;
        }
        if (equals < 0 && option.arity().max() > 0) {
          i++; // its value
        }
        continue;
      }
      return SUBCOMMANDS.containsKey(arg) ? arg : null;
    }
    return null;
  }

  private static CommandLine withSubcommands(
      CommandLine cl, ModelcacheCommand app, Set<String> subcommands) {
    SUBCOMMANDS.forEach((name, make) -> {
      if (subcommands.contains(name)) {
        cl.addSubcommand(name, make.get());
      }
    });
    cl.setOut(new java.io.PrintWriter(app.context().out(), true));
    cl.setErr(new java.io.PrintWriter(app.context().err(), true));
    cl.registerConverter(ByteSize.class, new ByteSize.Converter());
    cl.registerConverter(TimeSpan.class, new TimeSpan.Converter());
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    // A word starting with @ is itself, never a file of arguments to read in its place: exec's
    // COMMAND gets its arguments as given (curl -d @body.json), and an option its value.
    cl.setExpandAtFiles(false);
    return cl;
  }

  /** A failure as one line for the user: what failed and on what (file, key, rule). */
  static String describe(Throwable t) {
    String detail = t.getMessage() == null ? t.getClass().getSimpleName() : oneLine(t.getMessage());
    if (t instanceof FileSystemException fse && fse.getReason() == null && fse.getFile() != null) {
      // The JDK puts only the path in the message of these; say what happened to it.
      String what = switch (fse) {
        case NoSuchFileException e -> "no such file or directory";
        case AccessDeniedException e -> "permission denied";
        case FileAlreadyExistsException e -> "already exists";
        case NotDirectoryException e -> "not a directory";
        case DirectoryNotEmptyException e -> "directory not empty";
        default -> "file system error";
      };
      return what + ": " + fse.getFile()
          + (fse.getOtherFile() == null ? "" : " -> " + fse.getOtherFile());
    }
    if (!ExitCode.isExpected(t)) {
      return t.getClass().getName() + ": " + detail;
    }
    return detail;
  }

  static String oneLine(String message) {
    return message == null ? "" : message.strip().replaceAll("\\s*\\R\\s*", "; ");
  }

  /**
   * The libraries log through {@code System.Logger}, which is java.util.logging here. A command's
   * stderr is for the user: warnings only, on one line each, unless {@code --debug}.
   */
  private static void configureLogging(CommandContext context, ModelcacheCommand app) {
    LogManager.getLogManager().reset();
    Logger root = Logger.getLogger("");
    Level level = app.debug() ? Level.FINE : app.quiet() ? Level.SEVERE : Level.WARNING;
    root.setLevel(level);
    // A handler of our own: ConsoleHandler.setOutputStream would close System.err.
    var formatter = new Formatter() {
      @Override
      public String format(LogRecord record) {
        String line = record.getLevel().getName().toLowerCase(java.util.Locale.ROOT) + ": "
            + formatMessage(record);
        if (record.getThrown() != null && app.debug()) {
          var sw = new java.io.StringWriter();
          record.getThrown().printStackTrace(new java.io.PrintWriter(sw));
          line += System.lineSeparator() + sw;
        }
        return line + System.lineSeparator();
      }
    };
    var handler = new Handler() {
      @Override
      public void publish(LogRecord record) {
        if (isLoggable(record)) {
          context.err().print(formatter.format(record));
          context.err().flush();
        }
      }

      @Override
      public void flush() {
        context.err().flush();
      }

      @Override
      public void close() {
        flush();
      }
    };
    handler.setLevel(level);
    root.addHandler(handler);
  }
}
