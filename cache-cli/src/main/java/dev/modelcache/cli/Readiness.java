package dev.modelcache.cli;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The steps between starting {@code exec}'s COMMAND and calling it ready: poll its health URLs
 * until each answers 2xx, then send the warmup requests, all within {@code --wait-timeout} of
 * COMMAND's start. Each step stops as soon as COMMAND exits or a SIGTERM or SIGINT arrives.
 */
final class Readiness implements AutoCloseable {

  /** The pause between two health checks that did not answer 2xx. */
  static final Duration POLL_INTERVAL = Duration.ofMillis(250);

  /** The longest one health check may take (less when the deadline is nearer). */
  static final Duration CHECK_TIMEOUT = Duration.ofSeconds(5);

  /** How it went. */
  sealed interface Outcome {
    /** Healthy and warmed up. */
    record Ready() implements Outcome {}

    /** COMMAND exited first, with {@code status}; {@code message} says before what. */
    record ChildExited(int status, String message) implements Outcome {}

    /** A SIGTERM or SIGINT arrived (and was sent on to COMMAND) before it was ready. */
    record StopRequested() implements Outcome {}

    /** Not healthy in time, or a warmup request failed: exec stops COMMAND and exits with {@code code}. */
    record Failed(ExitCode code, String message) implements Outcome {}
  }

  private final ModelcacheCommand app;
  private final ReadinessOptions.Plan plan;
  private final String name;
  private final ExecReport report;
  private final HttpCheck http = new HttpCheck();

  Readiness(ModelcacheCommand app, ReadinessOptions.Plan plan, String name, ExecReport report) {
    this.app = app;
    this.plan = plan;
    this.name = name;
    this.report = report;
  }

  /** Waits for every health URL, then warms up; returns at the first step that does not succeed. */
  Outcome bringUp(Process child, SignalForwarder signals) throws InterruptedException {
    long deadline = report.childStartedAt() + plan.waitTimeout().toNanos();
    for (URI url : plan.waitUrls()) {
      Outcome failed = awaitHealthy(url, child, signals, deadline);
      if (failed != null) {
        return failed;
      }
    }
    if (!plan.waitUrls().isEmpty()) {
      report.healthy();
    }
    if (plan.warmupUrl() != null) {
      Outcome failed = warmUp(child, signals, deadline);
      if (failed != null) {
        return failed;
      }
      report.warmedUp();
    }
    return new Outcome.Ready();
  }

  /** Polls {@code url} until it answers 2xx; null then, else why not. */
  private Outcome awaitHealthy(URI url, Process child, SignalForwarder signals, long deadline)
      throws InterruptedException {
    boolean first = url.equals(plan.waitUrls().getFirst());
    app.note("exec: waiting " + (first ? "up to " + TimeSpan.format(plan.waitTimeout()) + " " : "")
        + "for " + url + " to answer 2xx");
    long interval = Math.max(1, app.context().progressInterval().toNanos());
    long nextNote = System.nanoTime() + interval;
    HttpCheck.Answer last = null;
    while (true) {
      Outcome interrupted = interruption(child, signals, "before " + url + " answered 2xx");
      if (interrupted != null) {
        return interrupted;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0 && last != null) {
        return new Outcome.Failed(
            ExitCode.TIMED_OUT,
            url + " did not answer 2xx within " + TimeSpan.format(plan.waitTimeout()) + " of "
                + name + "'s start (--wait-timeout; last: " + last.describe() + ")");
      }
      HttpCheck.Answer answer = http.get(url, atMost(CHECK_TIMEOUT, left));
      long now = System.nanoTime();
      if (answer.ok()) {
        app.note(String.format(
            Locale.ROOT,
            "exec: %s answered %d after %.1f s",
            url,
            answer.status(),
            sinceStart(now)));
        return null;
      }
      last = answer;
      if (now - nextNote >= 0) {
        app.note(String.format(
            Locale.ROOT,
            "exec: waiting for %s (%d s, last: %s)",
            url,
            (long) sinceStart(now),
            answer.describe()));
        nextNote = now + interval;
      }
      // Returns at once if the command exits meanwhile.
      child.waitFor(
          Math.max(0, Math.min(POLL_INTERVAL.toNanos(), deadline - now)), TimeUnit.NANOSECONDS);
    }
  }

  /** Sends the warmup requests one after another; null when done, else why not. */
  private Outcome warmUp(Process child, SignalForwarder signals, long deadline)
      throws InterruptedException {
    URI url = plan.warmupUrl();
    int count = plan.warmupCount();
    for (int i = 1; i <= count; i++) {
      String which = "warmup request " + i + " of " + count + " to " + url;
      Outcome interrupted = interruption(child, signals, "before " + which + " was answered");
      if (interrupted != null) {
        return interrupted;
      }
      String timeout =
          "--wait-timeout " + TimeSpan.format(plan.waitTimeout()) + " of " + name + "'s start";
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        if (plan.warmupOptional()) {
          app.note("exec: warning: " + (count - i + 1) + " of " + count
              + " warmup requests not sent: " + timeout + " passed; going on (--warmup-optional)");
          return null;
        }
        return new Outcome.Failed(ExitCode.TIMED_OUT, which + " not sent: " + timeout + " passed");
      }
      HttpCheck.Answer answer = http.postJson(url, plan.warmupBody(), Duration.ofNanos(left));
      report.warmupRequest(answer.ok());
      if (answer.ok()) {
        app.note(String.format(
            Locale.ROOT,
            "exec: %s answered %d in %.1f s",
            which,
            answer.status(),
            answer.nanos() / 1e9));
        continue;
      }
      // A request cut off because the command died is the command's exit, not a failed warmup.
      if (answer.failure() != null
          && child.waitFor(POLL_INTERVAL.toNanos(), TimeUnit.NANOSECONDS)) {
        return new Outcome.ChildExited(
            child.exitValue(),
            name + " exited with status " + child.exitValue() + " before " + which
                + " was answered");
      }
      boolean timedOut = answer.failure() != null && System.nanoTime() - deadline >= 0;
      String why = timedOut
          ? which + ": no answer within " + timeout
          : which + " failed: " + answer.describe();
      if (plan.warmupOptional()) {
        app.note("exec: warning: " + why + "; going on (--warmup-optional)");
        continue;
      }
      return new Outcome.Failed(timedOut ? ExitCode.TIMED_OUT : ExitCode.FAILURE, why);
    }
    return null;
  }

  /** COMMAND's exit or a request to stop, if either has happened; null otherwise. */
  private Outcome interruption(Process child, SignalForwarder signals, String before) {
    if (signals.stopRequested()) {
      return new Outcome.StopRequested();
    }
    if (!child.isAlive()) {
      int status = child.exitValue();
      return new Outcome.ChildExited(status, name + " exited with status " + status + " " + before);
    }
    return null;
  }

  private double sinceStart(long now) {
    return (now - report.childStartedAt()) / 1e9;
  }

  private static Duration atMost(Duration limit, long nanosLeft) {
    return Duration.ofNanos(Math.max(1_000_000, Math.min(limit.toNanos(), nanosLeft)));
  }

  @Override
  public void close() {
    http.close();
  }
}
