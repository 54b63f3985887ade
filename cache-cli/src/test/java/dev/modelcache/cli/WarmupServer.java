package dev.modelcache.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import sun.misc.Signal;

/**
 * A stand-in model server that tests run under {@code modelcache exec}, in a JVM of its own. It
 * answers {@code GET /health} with 503 until it is healthy and 200 after, and any other path as a
 * warmup request. Everything it sees goes into an events file, one line each:
 *
 * <pre>
 * started
 * health 503
 * health 200
 * warmup 1 ready=absent type=application/json body={"prompt":"hi"}
 * term ready=absent
 * </pre>
 *
 * {@code ready=} says whether the ready file existed when the request (or the signal) arrived.
 *
 * <p>Options: {@code --port N} (on 127.0.0.1), {@code --events FILE}, {@code --ready-file PATH},
 * {@code --healthy-after MILLIS} (-1: never; default 0; above 0, the first check is a 503 however
 * late it comes), {@code --warmup-status N} and
 * {@code --warmup-answer TEXT} (default 200, {@code {"ok":true}}), {@code --term-status N} (the
 * status it exits with on SIGTERM, default 42), {@code --ignore-term} (record SIGTERM, go on).
 */
public final class WarmupServer {

  private final Path events;
  private final Path readyFile;
  private final long healthyAt;
  private final boolean answersLoadingFirst;
  private final int warmupStatus;
  private final String warmupAnswer;
  private int warmups;
  private int healthChecks;

  private WarmupServer(Map<String, String> options) {
    events = Path.of(options.get("--events"));
    readyFile = Path.of(options.getOrDefault("--ready-file", "/nonexistent/ready"));
    long after = Long.parseLong(options.getOrDefault("--healthy-after", "0"));
    healthyAt = after < 0 ? Long.MAX_VALUE : System.nanoTime() + after * 1_000_000;
    answersLoadingFirst = after > 0;
    warmupStatus = Integer.parseInt(options.getOrDefault("--warmup-status", "200"));
    warmupAnswer = options.getOrDefault("--warmup-answer", "{\"ok\":true}");
  }

  public static void main(String[] args) throws IOException {
    Map<String, String> options = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--ignore-term")) {
        options.put(args[i], "true");
      } else {
        options.put(args[i], args[++i]);
      }
    }
    var server = new WarmupServer(options);
    int termStatus = Integer.parseInt(options.getOrDefault("--term-status", "42"));
    boolean ignoreTerm = options.containsKey("--ignore-term");
    Signal.handle(new Signal("TERM"), signal -> {
      server.record("term " + server.readyState());
      if (!ignoreTerm) {
        Runtime.getRuntime().halt(termStatus);
      }
    });
    HttpServer http = HttpServer.create(
        new InetSocketAddress(
            InetAddress.getLoopbackAddress(), Integer.parseInt(options.get("--port"))),
        16);
    http.createContext("/", server::handle);
    http.start();
    server.record("started");
  }

  private synchronized void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      byte[] body = exchange.getRequestBody().readAllBytes();
      if (path.equals("/health")) {
        boolean answeredBefore = healthChecks++ > 0;
        boolean healthy =
            System.nanoTime() - healthyAt >= 0 && (answeredBefore || !answersLoadingFirst);
        record("health " + (healthy ? 200 : 503));
        answer(exchange, healthy ? 200 : 503, healthy ? "ok" : "loading");
        return;
      }
      warmups++;
      record("warmup " + warmups + " " + readyState()
          + " type=" + exchange.getRequestHeaders().getFirst("Content-Type")
          + " body=" + new String(body, StandardCharsets.UTF_8).replace('\n', ' '));
      answer(exchange, warmupStatus, warmupAnswer);
    }
  }

  private String readyState() {
    return "ready=" + (Files.exists(readyFile) ? "present" : "absent");
  }

  private static void answer(HttpExchange exchange, int status, String text) throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private synchronized void record(String event) {
    try {
      Files.writeString(
          events,
          event + "\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
