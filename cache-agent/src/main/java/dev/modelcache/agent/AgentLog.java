package dev.modelcache.agent;

import java.io.PrintStream;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

/**
 * The agent's log: one line per event, in logfmt ({@code time=... level=info event=downloaded
 * model=llama ...}), so that a log pipeline can index it by key. Values with spaces, quotes or
 * {@code =} are quoted. Thread-safe: each line is written with one call.
 */
final class AgentLog {

  private final PrintStream out;
  private final Clock clock;

  AgentLog(PrintStream out, Clock clock) {
    this.out = out;
    this.clock = clock;
  }

  /** A log that drops every line. */
  static AgentLog discarding() {
    return new AgentLog(new PrintStream(PrintStream.nullOutputStream()), Clock.systemUTC());
  }

  void info(String event, Object... keyValues) {
    write("info", event, keyValues);
  }

  void warn(String event, Object... keyValues) {
    write("warn", event, keyValues);
  }

  void error(String event, Object... keyValues) {
    write("error", event, keyValues);
  }

  private void write(String level, String event, Object... keyValues) {
    if (keyValues.length % 2 != 0) {
      throw new IllegalArgumentException(
          "keys and values must come in pairs: " + keyValues.length + " given");
    }
    StringBuilder line = new StringBuilder(128);
    line.append("time=")
        .append(Instant.now(clock).truncatedTo(ChronoUnit.MILLIS))
        .append(" level=")
        .append(level)
        .append(" event=")
        .append(event);
    for (int i = 0; i < keyValues.length; i += 2) {
      line.append(' ')
          .append(keyValues[i])
          .append('=')
          .append(quote(String.valueOf(keyValues[i + 1])));
    }
    out.println(line);
    out.flush();
  }

  static String quote(String value) {
    boolean plain = !value.isEmpty()
        && value.chars().noneMatch(c -> c <= ' ' || c == '"' || c == '=' || c == '\\');
    if (plain) {
      return value;
    }
    StringBuilder q = new StringBuilder(value.length() + 2).append('"');
    for (char c : value.toCharArray()) {
      switch (c) {
        case '"' -> q.append("\\\"");
        case '\\' -> q.append("\\\\");
        case '\n' -> q.append("\\n");
        default ->
          q.append(c < ' ' ? String.format(Locale.ROOT, "\\u%04x", (int) c) : String.valueOf(c));
      }
    }
    return q.append('"').toString();
  }

  /** An exception as a log value: its simple class name and its message, if it has one. */
  static String describe(Throwable e) {
    String message = e.getMessage();
    return e.getClass().getSimpleName()
        + (message == null || message.isBlank() ? "" : ": " + message);
  }
}
