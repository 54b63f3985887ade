package dev.modelcache.core;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * A ticker that moves only when told to or when the cache pauses on it: a pause of {@code d}
 * advances it by {@code d} at once. It starts at the wall clock's present (in whole milliseconds, as
 * last uses are recorded), so that files stamped by the file system are not far in its future.
 */
final class ManualTicker implements Ticker {

  private final Instant start = Instant.now().truncatedTo(ChronoUnit.MILLIS);
  private final AtomicLong elapsedNanos = new AtomicLong();
  private final AtomicInteger pauses = new AtomicInteger();
  /** Runs after each pause, with the number of pauses so far; on the pausing thread. */
  volatile IntConsumer afterPause = n -> {};

  @Override
  public Instant instant() {
    return start.plusNanos(elapsedNanos.get());
  }

  @Override
  public long nanos() {
    return elapsedNanos.get();
  }

  @Override
  public void sleep(Duration duration) {
    elapsedNanos.addAndGet(duration.toNanos());
    afterPause.accept(pauses.incrementAndGet());
  }

  /** Moves the ticker on by {@code duration}. */
  void advance(Duration duration) {
    elapsedNanos.addAndGet(duration.toNanos());
  }

  /** How many times the cache paused on this ticker. */
  int pauses() {
    return pauses.get();
  }

  /** How much time has passed on it. */
  Duration elapsed() {
    return Duration.ofNanos(elapsedNanos.get());
  }
}
