package dev.modelcache.core;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * Joins the callers of one cache that ensure the same model at once into one piece of work: the
 * first caller's work runs on the executor, later callers get the same future and their listeners
 * are added to its fan-out. Work leaves the map before its future completes, so a caller that sees
 * the outcome and asks again starts afresh instead of joining a finished attempt.
 *
 * <p>Thread-safe without locks: membership is decided by {@link ConcurrentHashMap#putIfAbsent}
 * and {@link ConcurrentHashMap#remove(Object, Object)}; a {@link ListenerFanout} is itself safe to
 * add to while it delivers events.
 */
final class SingleFlight {

  /** The work of one flight; its listeners are reached through the fan-out. */
  @FunctionalInterface
  interface Work {
    CacheEntry run(ListenerFanout fanout) throws Exception;
  }

  private record Flight(CompletableFuture<CacheEntry> future, ListenerFanout fanout) {}

  private final Map<String, Flight> flights = new ConcurrentHashMap<>();
  private final Executor executor;

  SingleFlight(Executor executor) {
    this.executor = executor;
  }

  /**
   * The future of the flight named {@code key}, started with {@code work} if none is in the air.
   * Never throws: if the executor refuses the work (it was shut down), the future fails with
   * {@code refused}'s exception.
   *
   * @param refused makes the failure for a refused start
   */
  CompletableFuture<CacheEntry> join(
      String key,
      DownloadListener listener,
      Work work,
      Function<RuntimeException, Throwable> refused) {
    Flight created = new Flight(new CompletableFuture<>(), new ListenerFanout());
    Flight existing = flights.putIfAbsent(key, created);
    if (existing != null) {
      existing.fanout().add(listener);
      return existing.future();
    }
    created.fanout().add(listener);
    try {
      executor.execute(() -> {
        CacheEntry result = null;
        Throwable failure = null;
        try {
          result = work.run(created.fanout());
        } catch (Throwable t) {
          failure = t;
        } finally {
          flights.remove(key, created);
        }
        if (failure == null) {
          created.future().complete(result);
        } else {
          created.future().completeExceptionally(failure);
        }
      });
    } catch (RuntimeException e) { // RejectedExecutionException once the executor is shut down
      flights.remove(key, created);
      created.future().completeExceptionally(refused.apply(e));
    }
    return created.future();
  }
}
