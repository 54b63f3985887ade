package dev.modelcache.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The HTTP requests {@code exec} sends to its command's server: health checks and warmup requests,
 * each bounded by a timeout that covers the whole exchange, body included. Only the first bytes of
 * an answer's body are kept, for messages.
 */
final class HttpCheck implements AutoCloseable {

  /** How many bytes of an answer's body a message quotes. */
  static final int QUOTED_BYTES = 200;

  private final HttpClient client;

  HttpCheck() {
    client = HttpClient.newBuilder()
        // The server is exec's own child: go to it directly, whatever proxy the JVM knows of.
        .proxy(HttpClient.Builder.NO_PROXY)
        // Servers that only speak HTTP/1.1 (most model servers) need no upgrade attempt.
        .version(HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NORMAL)
        .build();
  }

  /**
   * What one request got: a status and the first bytes of the body, or why there was no answer.
   *
   * @param status the HTTP status, or 0 when there was no answer
   * @param head the first {@link #QUOTED_BYTES} bytes of the body
   * @param bodyBytes the body's length
   * @param failure why there was no answer ("connection refused"), or null
   * @param nanos how long the exchange took
   */
  record Answer(int status, byte[] head, long bodyBytes, String failure, long nanos) {

    boolean ok() {
      return status >= 200 && status < 300;
    }

    /** The answer for a message: {@code status 503: loading}, {@code connection refused}. */
    String describe() {
      if (failure != null) {
        return failure;
      }
      String text =
          Main.oneLine(new String(head, StandardCharsets.UTF_8)).replaceAll("\\p{Cntrl}", " ");
      if (text.isEmpty()) {
        return "status " + status;
      }
      return "status " + status + ": " + text + (bodyBytes > head.length ? "..." : "");
    }
  }

  /** A GET of {@code url}. */
  Answer get(URI url, Duration timeout) throws InterruptedException {
    return send(HttpRequest.newBuilder(url).GET(), timeout);
  }

  /** A POST of {@code body} to {@code url} as {@code application/json}. */
  Answer postJson(URI url, byte[] body, Duration timeout) throws InterruptedException {
    return send(
        HttpRequest.newBuilder(url)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)),
        timeout);
  }

  private Answer send(HttpRequest.Builder request, Duration timeout) throws InterruptedException {
    long start = System.nanoTime();
    Duration bounded = timeout.isZero() || timeout.isNegative() ? Duration.ofMillis(1) : timeout;
    CompletableFuture<HttpResponse<Head>> exchange = client.sendAsync(
        request.timeout(bounded).build(),
        info -> HttpResponse.BodySubscribers.fromSubscriber(new Head(), h -> h));
    try {
      HttpResponse<Head> response = exchange.get(bounded.toNanos(), TimeUnit.NANOSECONDS);
      Head head = response.body();
      return new Answer(
          response.statusCode(), head.bytes(), head.total, null, System.nanoTime() - start);
    } catch (TimeoutException e) {
      exchange.cancel(true);
      return failed("no answer within " + TimeSpan.format(bounded), start);
    } catch (ExecutionException e) {
      return failed(describe(e.getCause(), bounded), start);
    } catch (InterruptedException e) {
      exchange.cancel(true);
      throw e;
    }
  }

  private static Answer failed(String why, long start) {
    return new Answer(0, new byte[0], 0, why, System.nanoTime() - start);
  }

  /** Why a request got no answer, in a few words. */
  static String describe(Throwable failure, Duration timeout) {
    Throwable t = failure;
    while (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof HttpConnectTimeoutException) {
      return "could not connect within " + TimeSpan.format(timeout);
    }
    if (t instanceof HttpTimeoutException) {
      return "no answer within " + TimeSpan.format(timeout);
    }
    if (t instanceof ConnectException) {
      if (t.getCause() instanceof UnresolvedAddressException) {
        return "unknown host";
      }
      // The JDK's client gives no message when the port has no listener.
      return t.getMessage() == null ? "connection refused" : Main.oneLine(t.getMessage());
    }
    if (t instanceof IOException && t.getMessage() != null) {
      return Main.oneLine(t.getMessage());
    }
    return t.getClass().getSimpleName();
  }

  /** Shuts the client down, abandoning any exchange still under way. */
  @Override
  public void close() {
    client.shutdownNow();
    try {
      client.awaitTermination(Duration.ofSeconds(1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Takes a whole body, keeping only its first bytes. */
  private static final class Head implements Flow.Subscriber<List<ByteBuffer>> {
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
    private long total;

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
      subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> buffers) {
      for (ByteBuffer b : buffers) {
        total += b.remaining();
        int keep = Math.min(b.remaining(), QUOTED_BYTES - kept.size());
        if (keep > 0) {
          byte[] bytes = new byte[keep];
          b.get(bytes);
          kept.write(bytes, 0, keep);
        }
      }
    }

    @Override
    public void onError(Throwable throwable) {}

    @Override
    public void onComplete() {}

    byte[] bytes() {
      return kept.toByteArray();
    }
  }
}
