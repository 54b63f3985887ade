package dev.modelcache.s3;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP/1.1 proxy on loopback, between a client and an S3 server, that breaks ranged GETs
 * on request and records the head of every exchange ({@link #exchanges()}). Each connection
 * carries one request ({@code Connection: close} both ways), so the proxy never has to parse body
 * framing: it relays until the server closes.
 *
 * <p>Faults queued with {@link #inject} apply, in order, to the next GETs that carry a
 * {@code Range} header; everything else passes through unchanged. Requests stay byte-for-byte
 * what the client signed (only the unsigned {@code Connection} header is replaced).
 */
final class FaultInjectingProxy implements AutoCloseable {

  enum Fault {
    /** Answer 503 SlowDown without asking the server. */
    SLOW_DOWN,
    /** Answer 500 InternalError without asking the server. */
    INTERNAL_ERROR,
    /** Send the headers and half the body, then nothing until the client gives up. */
    STALL_MID_BODY,
    /** Send the headers and half the body, then reset the connection (RST). */
    RESET_MID_BODY,
    /** Send the headers and half the body, then close normally (FIN): a truncated body. */
    TRUNCATE_BODY,
    /** Send everything, with one bit of the middle byte of the body flipped. */
    FLIP_BYTE
  }

  private final InetSocketAddress upstream;
  private final ServerSocket listener;
  private final Queue<Fault> faults = new ConcurrentLinkedQueue<>();
  private final AtomicInteger rangedGets = new AtomicInteger();
  private final AtomicInteger injected = new AtomicInteger();
  private final Queue<Exchange> exchanges = new ConcurrentLinkedQueue<>();
  private volatile PartAnswer partAnswer;
  private volatile int hookAtRangedGet = -1;
  private volatile Runnable hook;
  /** Held by each ranged GET while it is counted, and by the hook's action while it runs. */
  private final Object hookLock = new Object();

  private final Thread acceptor;
  private volatile boolean closed;

  FaultInjectingProxy(URI upstreamEndpoint) throws IOException {
    upstream = new InetSocketAddress(upstreamEndpoint.getHost(), upstreamEndpoint.getPort());
    listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    acceptor = Thread.ofPlatform().daemon().name("fault-proxy-accept").start(this::acceptLoop);
  }

  URI endpoint() {
    return URI.create("http://127.0.0.1:" + listener.getLocalPort());
  }

  /** Queues faults for the next ranged GETs, one each. */
  void inject(Fault... next) {
    faults.addAll(List.of(next));
  }

  /**
   * Runs {@code action} once, on the proxy's thread, when the {@code n}-th ranged GET from now
   * arrives, before that GET is forwarded: a way to change the store at a chosen point of a
   * download. Ranged GETs that arrive while it runs wait for it, so every GET after the
   * {@code n}-th sees the store as the action left it.
   */
  void beforeRangedGet(int n, Runnable action) {
    hook = action;
    hookAtRangedGet = rangedGets.get() + n;
  }

  /**
   * How S3 answers {@code HEAD ?partNumber=1} of a multipart object: part 1's length, the part
   * count and the object's ETag (quoted); {@code If-Match} another ETag gets 412.
   */
  record PartAnswer(String keySuffix, String etag, long partBytes, int parts) {}

  /**
   * Answers {@code HEAD ?partNumber=1} of keys ending in {@code answer.keySuffix()} here, as S3
   * does (S3Proxy answers 501), without asking the server; null stops it.
   */
  void answerPartHeads(PartAnswer answer) {
    partAnswer = answer;
  }

  /** Ranged GETs seen so far, faulty or not. */
  int rangedGets() {
    return rangedGets.get();
  }

  /** Faults applied so far. */
  int injected() {
    return injected.get();
  }

  int pendingFaults() {
    return faults.size();
  }

  /** Drops faults not applied yet. */
  void clearFaults() {
    faults.clear();
  }

  /**
   * The head of a request as the client sent it and of the response as the client received it
   * (status line and headers; {@code Connection} as this proxy rewrote it). Recorded before the
   * response reaches the client, so a caller that has its answer finds the exchange here.
   */
  record Exchange(List<String> request, List<String> response) {
    String requestLine() {
      return request.get(0);
    }

    int status() {
      return Integer.parseInt(response.get(0).split(" ")[1]);
    }

    /** The value of a request header, or null. */
    String requestHeader(String name) {
      return header(request, name.toLowerCase(Locale.ROOT));
    }

    /** The value of a response header, or null. */
    String responseHeader(String name) {
      return header(response, name.toLowerCase(Locale.ROOT));
    }

    /** The exchange without the headers that only sign or describe the client. */
    @Override
    public String toString() {
      List<String> shown = new ArrayList<>();
      for (String line : request) {
        String lower = line.toLowerCase(Locale.ROOT);
        if (!(lower.startsWith("authorization:")
            || lower.startsWith("x-amz-date:")
            || lower.startsWith("amz-sdk-")
            || lower.startsWith("user-agent:")
            || lower.startsWith("connection:")
            || lower.startsWith("host:"))) {
          shown.add(line);
        }
      }
      return String.join("\n", shown) + "\n-> " + String.join("\n   ", response);
    }
  }

  /** Every exchange so far, oldest first. */
  List<Exchange> exchanges() {
    return List.copyOf(exchanges);
  }

  /** The last exchange, for probes that send one request at a time. */
  Exchange lastExchange() {
    List<Exchange> all = exchanges();
    if (all.isEmpty()) {
      throw new IllegalStateException("no exchange yet");
    }
    return all.get(all.size() - 1);
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket client = listener.accept();
        Thread.ofVirtual().start(() -> serve(client));
      } catch (IOException e) {
        if (!closed) {
          e.printStackTrace();
        }
      }
    }
  }

  private void serve(Socket client) {
    try (client) {
      InputStream fromClient = client.getInputStream();
      byte[] head = readHead(fromClient);
      if (head == null) {
        return;
      }
      List<String> lines = headLines(head);
      String requestLine = lines.get(0);
      long requestBodyBytes = contentLength(lines);
      String expect = header(lines, "expect");
      if (expect != null && expect.equalsIgnoreCase("100-continue")) {
        // Let the client send its body now; the server's own 100 is dropped below.
        client
            .getOutputStream()
            .write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        client.getOutputStream().flush();
      }
      byte[] requestBody = fromClient.readNBytes((int) Math.max(0, requestBodyBytes));
      if (answeredPartHead(lines, client.getOutputStream())) {
        return;
      }
      boolean rangedGet = requestLine.startsWith("GET ") && header(lines, "range") != null;
      Fault fault = null;
      if (rangedGet) {
        synchronized (hookLock) {
          int seen = rangedGets.incrementAndGet();
          Runnable action = hook;
          if (action != null && seen == hookAtRangedGet) {
            hook = null;
            action.run();
          }
        }
        fault = faults.poll();
        if (fault != null) {
          injected.incrementAndGet();
        }
      }
      OutputStream toClient = client.getOutputStream();
      if (fault == Fault.SLOW_DOWN || fault == Fault.INTERNAL_ERROR) {
        boolean slowDown = fault == Fault.SLOW_DOWN;
        byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>"
                + (slowDown ? "SlowDown" : "InternalError")
                + "</Code><Message>"
                + (slowDown
                    ? "Please reduce your request rate."
                    : "We encountered an internal error.")
                + "</Message></Error>")
            .getBytes(StandardCharsets.UTF_8);
        String response =
            (slowDown ? "HTTP/1.1 503 Slow Down" : "HTTP/1.1 500 Internal Server Error")
                + "\r\nContent-Type: application/xml\r\nContent-Length: "
                + body.length
                + "\r\nConnection: close\r\n\r\n";
        exchanges.add(
            new Exchange(lines, headLines(response.getBytes(StandardCharsets.ISO_8859_1))));
        toClient.write(response.getBytes(StandardCharsets.ISO_8859_1));
        toClient.write(body);
        toClient.flush();
        return;
      }
      try (Socket server = new Socket()) {
        server.connect(upstream, 5000);
        OutputStream toServer = server.getOutputStream();
        toServer.write(withConnectionClose(lines));
        toServer.write(requestBody);
        toServer.flush();
        InputStream fromServer = server.getInputStream();
        List<String> responseLines;
        do {
          byte[] responseHead = readHead(fromServer);
          if (responseHead == null) {
            return;
          }
          responseLines = headLines(responseHead);
        } while (responseLines.get(0).matches("HTTP/1\\.1 1\\d\\d.*")); // interim (100 Continue)
        long bodyBytes = contentLength(responseLines);
        byte[] relayedHead = withConnectionClose(responseLines);
        exchanges.add(new Exchange(lines, headLines(relayedHead)));
        toClient.write(relayedHead);
        if (fault == null || bodyBytes <= 1) {
          fromServer.transferTo(toClient);
          toClient.flush();
          return;
        }
        long half = bodyBytes / 2;
        switch (fault) {
          case RESET_MID_BODY -> {
            copy(fromServer, toClient, half);
            toClient.flush();
            client.setSoLinger(true, 0); // close() now sends RST
          }
          case STALL_MID_BODY -> {
            copy(fromServer, toClient, half);
            toClient.flush();
            // Hold the connection open, silent, until the client closes it or the proxy stops.
            while (!closed && fromClient.read() >= 0) {
              // a well-behaved client sends nothing more
            }
          }
          case TRUNCATE_BODY -> {
            copy(fromServer, toClient, half);
            toClient.flush();
            client.shutdownOutput();
          }
          case FLIP_BYTE -> {
            copy(fromServer, toClient, half);
            int b = fromServer.read();
            toClient.write(b ^ 0x01);
            fromServer.transferTo(toClient);
            toClient.flush();
          }
          default -> throw new IllegalStateException(fault.toString());
        }
      }
    } catch (IOException e) {
      // the client gave up on a broken response: expected in these tests
    }
  }

  /** Answers a {@code HEAD ?partNumber=1} that {@link #partAnswer} covers; false for any other request. */
  private boolean answeredPartHead(List<String> request, OutputStream toClient) throws IOException {
    PartAnswer answer = partAnswer;
    String[] requestLine = request.get(0).split(" ");
    if (answer == null || !requestLine[0].equals("HEAD")) {
      return false;
    }
    String target = requestLine[1];
    int query = target.indexOf('?');
    if (query < 0
        || !target.substring(query + 1).contains("partNumber=1")
        || !target.substring(0, query).endsWith(answer.keySuffix())) {
      return false;
    }
    String ifMatch = header(request, "if-match");
    String response = ifMatch != null && !ifMatch.replace("\"", "").equals(answer.etag())
        ? "HTTP/1.1 412 Precondition Failed\r\nContent-Length: 0\r\n"
        : "HTTP/1.1 200 OK\r\nETag: \"" + answer.etag() + "\"\r\nAccept-Ranges: bytes\r\n"
            + "Content-Length: " + answer.partBytes() + "\r\nx-amz-mp-parts-count: "
            + answer.parts() + "\r\n";
    byte[] head = (response + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
    exchanges.add(new Exchange(request, headLines(head)));
    toClient.write(head);
    toClient.flush();
    return true;
  }

  private static void copy(InputStream in, OutputStream out, long bytes) throws IOException {
    byte[] buffer = new byte[8192];
    long left = bytes;
    while (left > 0) {
      int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
      if (n < 0) {
        throw new IOException("server closed early");
      }
      out.write(buffer, 0, n);
      left -= n;
    }
  }

  /** Reads up to and including the blank line; null if the peer closed first. */
  private static byte[] readHead(InputStream in) throws IOException {
    var head = new ByteArrayOutputStream();
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        return null;
      }
      head.write(b);
      matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
    }
    return head.toByteArray();
  }

  private static List<String> headLines(byte[] head) {
    String text = new String(head, StandardCharsets.ISO_8859_1);
    List<String> lines = new ArrayList<>(List.of(text.split("\r\n")));
    lines.removeIf(String::isEmpty);
    return lines;
  }

  private static String header(List<String> lines, String name) {
    for (String line : lines.subList(1, lines.size())) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).strip().toLowerCase(Locale.ROOT).equals(name)) {
        return line.substring(colon + 1).strip();
      }
    }
    return null;
  }

  private static long contentLength(List<String> lines) {
    String value = header(lines, "content-length");
    return value == null ? -1 : Long.parseLong(value);
  }

  private static byte[] withConnectionClose(List<String> lines) {
    var out = new StringBuilder();
    for (String line : lines) {
      String lower = line.toLowerCase(Locale.ROOT);
      if (lower.startsWith("connection:") || lower.startsWith("keep-alive:")) {
        continue;
      }
      out.append(line).append("\r\n");
    }
    out.append("Connection: close\r\n\r\n");
    return out.toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    closed = true;
    listener.close();
    try {
      acceptor.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
