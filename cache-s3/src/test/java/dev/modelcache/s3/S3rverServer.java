package dev.modelcache.s3;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * s3rver (the npm package, pinned in {@code cache-s3/src/test/s3rver/package.json}) as a real
 * process on a free loopback port, storing into a fresh temporary directory that is deleted on
 * {@link #close()}.
 *
 * <p>The executable is {@code node_modules/.bin/s3rver} under that directory, found by walking up
 * from the working directory, or the path in the system property {@value #EXECUTABLE_PROPERTY}.
 * Where it or {@code node} is missing, {@link #unavailableReason()} says what is missing and how
 * to install it, and tests skip themselves with that message (a JUnit assumption), so they are
 * reported as skipped, not passed.
 */
final class S3rverServer implements S3Server {
  static final String ACCESS_KEY = "S3RVER";
  static final String SECRET_KEY = "S3RVER";

  /** System property naming an s3rver executable to use instead of the project's install. */
  static final String EXECUTABLE_PROPERTY = "modelcache.s3rver";

  static final Path INSTALL_DIR = Path.of("cache-s3", "src", "test", "s3rver");

  static final String HOW_TO_INSTALL =
      "install it with 'npm ci --prefix " + INSTALL_DIR + "' (needs Node.js and npm; .ci/run does"
          + " this), or point -D" + EXECUTABLE_PROPERTY + "= at an s3rver executable";

  private static final long START_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(30);

  private final Process process;
  private final Path directory;
  private final Path log;
  private final URI endpoint;
  private final S3Client client;
  private final Thread killOnExit;

  private S3rverServer(Process process, Path directory, Path log, int port) {
    this.process = process;
    this.directory = directory;
    this.log = log;
    this.endpoint = URI.create("http://127.0.0.1:" + port);
    this.client = S3Server.plainClient(endpoint, credentials());
    // A test JVM that exits without closing (a failed run, Ctrl-C) must not leave s3rver behind.
    this.killOnExit = new Thread(process::destroyForcibly, "s3rver-kill-on-exit");
    Runtime.getRuntime().addShutdownHook(killOnExit);
  }

  /** Why s3rver cannot be started here (what is missing and how to install it), or null. */
  static String unavailableReason() {
    Path executable = locate();
    String configured = System.getProperty(EXECUTABLE_PROPERTY);
    if (executable == null && configured != null && !configured.isBlank()) {
      return "-D" + EXECUTABLE_PROPERTY + "=" + configured + " is not an executable file: "
          + HOW_TO_INSTALL;
    }
    if (executable == null) {
      return "s3rver is not installed (no " + INSTALL_DIR.resolve("node_modules/.bin/s3rver")
          + " above " + Path.of("").toAbsolutePath() + "): " + HOW_TO_INSTALL;
    }
    if (!onPath("node")) {
      return "s3rver is installed at " + executable + " but Node.js ('node') is not on the PATH:"
          + " install Node.js to run the tests against s3rver";
    }
    return null;
  }

  /** Starts s3rver, or aborts the calling test where it cannot be started here. */
  static S3rverServer start() throws Exception {
    String unavailable = unavailableReason();
    assumeTrue(unavailable == null, unavailable);
    Path executable = locate();
    IllegalStateException last = null;
    boolean legacyOpenSsl = true;
    for (int attempt = 1; attempt <= 3; attempt++) {
      try {
        return launch(executable, freePort(), legacyOpenSsl);
      } catch (PortTaken e) {
        last = e; // another process took the port between our probe and s3rver's bind
      } catch (IllegalStateException e) {
        if (!legacyOpenSsl || !e.getMessage().contains("--openssl-legacy-provider")) {
          throw e;
        }
        last = e; // a Node.js before 17 knows no such option, and needs none
        legacyOpenSsl = false;
      }
    }
    throw last;
  }

  /** The s3rver executable: the system property, else the project's install above the working directory. */
  static Path locate() {
    String configured = System.getProperty(EXECUTABLE_PROPERTY);
    if (configured != null && !configured.isBlank()) {
      Path path = Path.of(configured);
      return Files.isExecutable(path) ? path : null;
    }
    Path bin = Path.of("node_modules", ".bin", "s3rver");
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      // From the repository root (an IDE) or from the module (Maven runs tests there).
      for (Path candidate : List.of(
          dir.resolve(INSTALL_DIR).resolve(bin), dir.resolve("src/test/s3rver").resolve(bin))) {
        if (Files.isExecutable(candidate)) {
          return candidate;
        }
      }
    }
    return null;
  }

  private static boolean onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }

  private static int freePort() throws IOException {
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return probe.getLocalPort();
    }
  }

  private static S3rverServer launch(Path executable, int port, boolean legacyOpenSsl)
      throws Exception {
    Path directory = Files.createTempDirectory("s3rver-");
    Path log = Files.createTempFile("s3rver-", ".log");
    ProcessBuilder builder = new ProcessBuilder(
            executable.toString(),
            "-d",
            directory.toString(),
            "-a",
            "127.0.0.1",
            "-p",
            Integer.toString(port),
            "--silent")
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    if (legacyOpenSsl) {
      // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node.js 17
      // and later) offers only in its legacy provider: without it every truncated listing is a 500.
      String nodeOptions = System.getenv("NODE_OPTIONS");
      builder
          .environment()
          .put(
              "NODE_OPTIONS",
              (nodeOptions == null || nodeOptions.isBlank() ? "" : nodeOptions + " ")
                  + "--openssl-legacy-provider");
    }
    Process process = builder.start();
    S3rverServer server = new S3rverServer(process, directory, log, port);
    try {
      server.awaitListening(port);
      return server;
    } catch (Exception e) {
      server.close();
      throw e;
    }
  }

  private void awaitListening(int port) throws Exception {
    long deadline = System.nanoTime() + START_TIMEOUT_NANOS;
    while (true) {
      if (!process.isAlive()) {
        String output = output();
        String message =
            "s3rver exited with status " + process.exitValue() + " on start: " + output;
        throw output.contains("EADDRINUSE")
            ? new PortTaken(message)
            : new IllegalStateException(message);
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
        return;
      } catch (IOException notYet) {
        // not listening yet
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "s3rver did not listen on port " + port + " within 30 s: " + output());
      }
      Thread.sleep(20);
    }
  }

  private String output() {
    try {
      String text = Files.readString(log, StandardCharsets.UTF_8).strip();
      return text.isEmpty() ? "(no output)" : text;
    } catch (IOException e) {
      return "(output unreadable: " + e + ")";
    }
  }

  static StaticCredentialsProvider staticCredentials() {
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY));
  }

  @Override
  public Kind kind() {
    return Kind.S3RVER;
  }

  @Override
  public URI endpoint() {
    return endpoint;
  }

  @Override
  public StaticCredentialsProvider credentials() {
    return staticCredentials();
  }

  @Override
  public String accessKey() {
    return ACCESS_KEY;
  }

  @Override
  public S3Client client() {
    return client;
  }

  @Override
  public void close() throws IOException {
    client.close();
    try {
      Runtime.getRuntime().removeShutdownHook(killOnExit);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or about to: it kills the process too
    }
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    deleteRecursively(directory);
    Files.deleteIfExists(log);
  }

  private static void deleteRecursively(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.delete(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }

  @Override
  public String toString() {
    return "s3rver at " + endpoint + " (pid " + process.pid() + ")";
  }

  private static final class PortTaken extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    PortTaken(String message) {
      super(message);
    }
  }
}
