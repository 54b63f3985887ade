package dev.modelcache.core;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

/**
 * The time a cache lives by: the wall clock that heartbeats and last uses are stamped with, a
 * monotonic reading that deadlines are measured on, and the pause between polls of another
 * process's download. One ticker per cache, injected by the builder's package-private
 * {@code clock}, so that tests of waits, timeouts and least-recently-used order advance time
 * instead of sleeping.
 *
 * <p>Implementations are thread-safe.
 */
@FunctionalInterface
interface Ticker extends InstantSource {

  /** The system clock, {@link System#nanoTime()} for deadlines and {@link Thread#sleep} to pause. */
  Ticker SYSTEM = new Ticker() {
    @Override
    public Instant instant() {
      return Instant.now();
    }

    @Override
    public long nanos() {
      return System.nanoTime();
    }

    @Override
    public String toString() {
      return "Ticker.SYSTEM";
    }
  };

  /**
   * A monotonic reading in nanoseconds, meaningful only as a difference to another reading of the
   * same ticker. By default, derived from {@link #instant()}.
   */
  default long nanos() {
    Instant now = instant();
    return Math.addExact(Math.multiplyExact(now.getEpochSecond(), 1_000_000_000L), now.getNano());
  }

  /** Lets {@code duration} of this ticker's time pass. By default, {@link Thread#sleep}. */
  default void sleep(Duration duration) throws InterruptedException {
    Thread.sleep(duration);
  }

  /** {@code clock} as a ticker: itself if it is one, else a ticker that reads it and sleeps for real. */
  static Ticker of(InstantSource clock) {
    if (clock instanceof Ticker t) {
      return t;
    }
    return clock::instant;
  }
}
