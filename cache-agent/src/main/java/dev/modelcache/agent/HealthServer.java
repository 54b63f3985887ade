package dev.modelcache.agent;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The agent's HTTP endpoints on one port: {@code /metrics} (Prometheus text format),
 * {@code /healthz} (liveness: the loop runs) and {@code /readyz} (readiness: the spec was read and
 * acted on once). A probe that fails gets 503 and a line saying why.
 */
final class HealthServer implements AutoCloseable {

  private final HttpServer server;
  private final ExecutorService executor;

  HealthServer(int port, Supplier<String> metrics, BooleanSupplier alive, BooleanSupplier ready)
      throws IOException {
    server = HttpServer.create(new InetSocketAddress(port), 16);
    executor = Executors.newFixedThreadPool(
        2, Thread.ofPlatform().name("modelcache-agent-http-", 0).daemon().factory());
    server.setExecutor(executor);
    server.createContext(
        "/metrics",
        ex -> respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.get()));
    server.createContext(
        "/healthz", ex -> probe(ex, alive.getAsBoolean(), "the agent's loop has not run recently"));
    server.createContext(
        "/readyz", ex -> probe(ex, ready.getAsBoolean(), "the node's spec has not been read yet"));
    server.start();
  }

  /** The port it listens on (the one asked for, or the one chosen for port 0). */
  int port() {
    return server.getAddress().getPort();
  }

  private static void probe(HttpExchange ex, boolean ok, String whyNot) throws IOException {
    respond(ex, ok ? 200 : 503, "text/plain; charset=utf-8", ok ? "ok\n" : whyNot + "\n");
  }

  private static void respond(HttpExchange ex, int status, String type, String body)
      throws IOException {
    try (ex) {
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", type);
      ex.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
