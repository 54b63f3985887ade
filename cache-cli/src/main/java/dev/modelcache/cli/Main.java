package dev.modelcache.cli;

import dev.modelcache.common.json.JsonObject;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import picocli.CommandLine;

/** Entry point of the {@code modelcache} command. */
public final class Main {

  private Main() {}

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
    CommandLine cl = commandLine(app);
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
    var cl = new CommandLine(app);
    cl.addSubcommand(new PrefetchCommand());
    cl.addSubcommand(new AwaitCommand());
    cl.addSubcommand(new ExecCommand());
    cl.addSubcommand(new LsCommand());
    cl.addSubcommand(new EvictCommand());
    cl.addSubcommand(new ConfigCommand());
    cl.addSubcommand(new VerifyCommand());
    cl.addSubcommand(new InspectCommand());
    cl.addSubcommand(new LoadCommand());
    cl.addSubcommand(new WarmCommand());
    cl.addSubcommand(new DemoCommand());
    cl.addSubcommand(new AgentCommand());
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
