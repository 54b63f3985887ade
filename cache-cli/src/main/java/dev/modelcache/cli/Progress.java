package dev.modelcache.cli;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Shows how far a long operation is, on standard error: a redrawn bar with bytes, rate and ETA on
 * a terminal; a plain line every few seconds otherwise (an init container's log keeps every line,
 * so a bar's carriage returns would only make noise); nothing with {@code --quiet}.
 *
 * <p>Thread-safe: {@link #advance} and {@link #total} may be called from any thread, such as a
 * download's worker threads. Drawing happens on the {@link Ticker}'s thread (one daemon thread
 * of its own in the command), so callers never block on the terminal. {@link #close()} draws the final state once and is idempotent.
 */
final class Progress implements AutoCloseable {

  /** How progress is shown. */
  enum Style {
    /** A bar redrawn in place with carriage returns. */
    BAR,
    /** A line every interval and a final summary line. */
    LINES,
    /** Nothing. */
    NONE
  }

  /**
   * What calls the redraw periodically: a daemon thread in the command, the test itself in tests.
   */
  @FunctionalInterface
  interface Ticker {
    /**
     * Starts calling {@code redraw} every {@code period}; the returned action stops it, and when
     * it returns no redraw runs any more.
     */
    Runnable start(Runnable redraw, Duration period);
  }

  /** Redraws on a daemon thread of its own, so callers never block on the terminal. */
  static final Ticker DAEMON_THREAD = (redraw, period) -> {
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "modelcache-progress");
      t.setDaemon(true);
      return t;
    });
    long millis = Math.max(1, period.toMillis());
    executor.scheduleAtFixedRate(redraw, millis, millis, TimeUnit.MILLISECONDS);
    return () -> {
      executor.shutdownNow();
      try {
        executor.awaitTermination(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
  };

  static final Duration BAR_REFRESH = Duration.ofMillis(200);
  private static final long RATE_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(3);

  private final PrintStream err;
  private final Style style;
  private final String label;
  private final AtomicLong doneBytes = new AtomicLong();
  private final AtomicLong totalBytes;
  private final LongSupplier nanoClock;
  private final long startNanos;
  private final ArrayDeque<long[]> samples = new ArrayDeque<>(); // {nanos, bytes}, guarded by this
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Runnable stopTicker;
  private int lastBarWidth;

  /**
   * @param ticker calls the redraw: {@link Style#BAR} every {@link #BAR_REFRESH}, {@link Style#LINES}
   *     every {@code interval}
   * @param nanoClock the time in nanoseconds, for rates and the elapsed time ({@code System::nanoTime})
   */
  Progress(
      PrintStream err,
      Style style,
      String label,
      long totalBytes,
      Duration interval,
      Ticker ticker,
      LongSupplier nanoClock) {
    this.err = err;
    this.style = style;
    this.label = label;
    this.totalBytes = new AtomicLong(totalBytes);
    this.nanoClock = nanoClock;
    this.startNanos = nanoClock.getAsLong();
    stopTicker = style == Style.NONE
        ? null
        : ticker.start(this::draw, style == Style.BAR ? BAR_REFRESH : interval);
  }

  /**
   * Starts showing progress.
   *
   * @param totalBytes the expected total, or 0 if not known yet
   * @param interval how often a {@link Style#LINES} line is written
   */
  static Progress start(
      PrintStream err, Style style, String label, long totalBytes, Duration interval) {
    return new Progress(err, style, label, totalBytes, interval, DAEMON_THREAD, System::nanoTime);
  }

  /** Sets the expected total once it is known. */
  void total(long bytes) {
    totalBytes.set(bytes);
  }

  /** Counts {@code bytes} more as done. */
  void advance(long bytes) {
    doneBytes.addAndGet(bytes);
  }

  /** Sets the bytes done so far, for sources that report a running total. */
  void done(long bytes) {
    doneBytes.set(bytes);
  }

  long doneBytes() {
    return doneBytes.get();
  }

  private void draw() {
    try {
      long now = nanoClock.getAsLong();
      long done = doneBytes.get();
      double rate = rate(now, done);
      if (style == Style.BAR) {
        String line = barLine(label, done, totalBytes.get(), rate);
        synchronized (this) {
          int pad = Math.max(0, lastBarWidth - line.length());
          lastBarWidth = line.length();
          err.print("\r" + line + " ".repeat(pad));
          err.flush();
        }
      } else {
        err.println(plainLine(label, done, totalBytes.get(), rate));
        err.flush();
      }
    } catch (RuntimeException e) {
      // Drawing must never break the operation it reports on.
    }
  }

  private synchronized double rate(long now, long done) {
    samples.addLast(new long[] {now, done});
    while (samples.size() > 2 && now - samples.peekFirst()[0] > RATE_WINDOW_NANOS) {
      samples.removeFirst();
    }
    long[] first = samples.peekFirst();
    if (now - first[0] <= 0 || samples.size() < 2) {
      return averageRate(now, done);
    }
    return (done - first[1]) * 1e9 / (now - first[0]);
  }

  private double averageRate(long now, long done) {
    long elapsed = now - startNanos;
    return elapsed <= 0 ? 0 : done * 1e9 / elapsed;
  }

  /** Stops drawing and writes the final state (a finished bar, or a summary line). */
  @Override
  public void close() {
    if (!stop()) {
      return;
    }
    long now = nanoClock.getAsLong();
    long done = doneBytes.get();
    Duration elapsed = Duration.ofNanos(now - startNanos);
    synchronized (this) {
      if (style == Style.BAR) {
        String line =
            barLine(label, done, Math.max(done, totalBytes.get()), averageRate(now, done));
        int pad = Math.max(0, lastBarWidth - line.length());
        err.print("\r" + line + " ".repeat(pad) + System.lineSeparator());
      } else {
        err.println(summaryLine(label, done, elapsed));
      }
      err.flush();
    }
  }

  /**
   * Stops drawing and leaves no final state: for an operation that failed before it moved a byte,
   * whose error then stands alone. A bar already drawn is erased.
   */
  void abandon() {
    if (!stop()) {
      return;
    }
    synchronized (this) {
      if (style == Style.BAR && lastBarWidth > 0) {
        err.print("\r" + " ".repeat(lastBarWidth) + "\r");
        err.flush();
      }
    }
  }

  /** Stops the ticker; returns false if already stopped (or never started). */
  private boolean stop() {
    if (!closed.compareAndSet(false, true) || stopTicker == null) {
      return false;
    }
    stopTicker.run();
    return true;
  }

  static String barLine(String label, long done, long total, double bytesPerSecond) {
    int width = 24;
    var sb = new StringBuilder(label).append(' ');
    if (total > 0) {
      int filled = (int) Math.min(width, done * width / total);
      sb.append('[')
          .append("#".repeat(filled))
          .append(".".repeat(width - filled))
          .append("] ");
      sb.append(String.format(Locale.ROOT, "%3d%% ", Math.min(100, done * 100 / total)));
      sb.append(ByteSize.format(done)).append(" / ").append(ByteSize.format(total));
    } else {
      sb.append(ByteSize.format(done));
    }
    sb.append("  ").append(ByteSize.format((long) bytesPerSecond)).append("/s");
    eta(done, total, bytesPerSecond).ifPresent(eta -> sb.append("  ETA ").append(eta));
    return sb.toString();
  }

  static String plainLine(String label, long done, long total, double bytesPerSecond) {
    var sb = new StringBuilder(label).append(": ").append(ByteSize.format(done));
    if (total > 0) {
      sb.append(" of ").append(ByteSize.format(total));
      sb.append(String.format(Locale.ROOT, " (%d%%)", Math.min(100, done * 100 / total)));
    }
    sb.append(", ").append(ByteSize.format((long) bytesPerSecond)).append("/s");
    eta(done, total, bytesPerSecond).ifPresent(eta -> sb.append(", ETA ").append(eta));
    return sb.toString();
  }

  static String summaryLine(String label, long done, Duration elapsed) {
    double seconds = elapsed.toNanos() / 1e9;
    return String.format(
        Locale.ROOT,
        "%s: %s in %.2f s (%s/s)",
        label,
        ByteSize.format(done),
        seconds,
        ByteSize.format(seconds > 0 ? (long) (done / seconds) : 0));
  }

  private static java.util.Optional<String> eta(long done, long total, double bytesPerSecond) {
    // Below 1 KiB/s the rate says more about a stall than about the time left.
    if (total <= 0 || done >= total || bytesPerSecond < 1024) {
      return java.util.Optional.empty();
    }
    long seconds = (long) Math.ceil((total - done) / bytesPerSecond);
    return java.util.Optional.of(
        seconds < 60 ? seconds + "s" : TimeSpan.format(Duration.ofSeconds(seconds)));
  }
}
