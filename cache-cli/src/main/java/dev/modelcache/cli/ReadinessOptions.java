package dev.modelcache.cli;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * {@code exec}'s options for a COMMAND that is a server: wait until it answers its health check,
 * send it warmup requests, and only then say it is ready, with a file a Kubernetes probe tests.
 */
final class ReadinessOptions {

  /** How long the server has from its start to become ready, unless {@code --wait-timeout} says. */
  static final Duration DEFAULT_WAIT_TIMEOUT = Duration.ofMinutes(10);

  /** How long a server that exec stops gets between SIGTERM and SIGKILL, unless {@code --stop-grace} says. */
  static final Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(30);

  @Option(
      names = "--wait-http",
      paramLabel = "URL",
      description =
          "After starting COMMAND, poll URL (its health endpoint) until it answers 2xx; repeatable, "
              + "polled in order. If COMMAND exits first, exec exits with its status.")
  List<String> waitHttp = new ArrayList<>();

  @Option(
      names = "--wait-timeout",
      paramLabel = "DURATION",
      description =
          "How long COMMAND has from its start to answer every --wait-http URL and the warmup requests "
              + "(default: 10m). Past it COMMAND is stopped and exec exits with status 4.")
  TimeSpan waitTimeout;

  @Option(
      names = "--warmup-http",
      paramLabel = "URL",
      description =
          "Once COMMAND is healthy, POST --warmup-body to URL (needs --wait-http); each request must answer 2xx.")
  String warmupHttp;

  @Option(
      names = "--warmup-body",
      paramLabel = "@FILE|JSON",
      description =
          "The warmup request's body, sent as application/json: @FILE reads it from FILE, "
              + "anything else is the JSON itself (starting with '{' or '[').")
  String warmupBody;

  @Option(
      names = "--warmup-count",
      paramLabel = "N",
      description = "How many warmup requests to send, one after another (default: 1).")
  Integer warmupCount;

  @Option(
      names = "--warmup-optional",
      description = "A failed warmup request is a warning, and COMMAND becomes ready anyway; "
          + "without it a failure stops COMMAND and exec exits with status 1.")
  boolean warmupOptional;

  @Option(
      names = "--stop-grace",
      paramLabel = "DURATION",
      description =
          "When exec stops COMMAND itself (not healthy in time, a failed warmup): how long COMMAND has "
              + "between SIGTERM and SIGKILL (default: 30s).")
  TimeSpan stopGrace;

  @Option(
      names = "--ready-file",
      paramLabel = "PATH",
      description =
          "Create PATH (atomically, holding the timings as JSON) once the model is cached and leased and "
              + "COMMAND is healthy and warmed up; remove it on SIGTERM or SIGINT and when COMMAND exits. "
              + "For a probe: test -f PATH.")
  Path readyFile;

  @Option(
      names = "--report-file",
      paramLabel = "PATH",
      description =
          "On exit, write exec's timings and outcome to PATH as one JSON document (atomically); "
              + "stdout is COMMAND's, so --json does not apply.")
  Path reportFile;

  /**
   * What these options ask for, checked: URLs parsed, the body read, combinations that mean nothing
   * refused.
   *
   * @param waitUrls the health URLs, in order; empty for none
   * @param waitTimeout how long COMMAND has from its start to be ready
   * @param stopGrace between SIGTERM and SIGKILL when exec stops COMMAND
   * @param warmupUrl where warmup requests go, or null
   * @param warmupBody the warmup requests' body
   * @param warmupCount how many warmup requests
   * @param warmupOptional whether a failed warmup is only a warning
   * @param readyFile the ready file, or null
   * @param reportFile the report file, or null
   */
  record Plan(
      List<URI> waitUrls,
      Duration waitTimeout,
      Duration stopGrace,
      URI warmupUrl,
      byte[] warmupBody,
      int warmupCount,
      boolean warmupOptional,
      Path readyFile,
      Path reportFile) {

    /** Whether exec does anything about readiness: otherwise it runs COMMAND as it always did. */
    boolean any() {
      return !waitUrls.isEmpty() || readyFile != null;
    }
  }

  /**
   * Checks the options and reads the warmup body, before anything is fetched.
   *
   * @throws UsageException for an option that needs another, a URL that is not http(s), a body that
   *     is neither @FILE nor JSON, or a file that cannot be read
   */
  Plan plan() throws UsageException {
    boolean waits = !waitHttp.isEmpty();
    if (!waits) {
      needs(waitTimeout != null, "--wait-timeout", "--wait-http");
      needs(stopGrace != null, "--stop-grace", "--wait-http");
      needs(warmupHttp != null, "--warmup-http", "--wait-http");
    }
    if (warmupHttp == null) {
      needs(warmupBody != null, "--warmup-body", "--warmup-http");
      needs(warmupCount != null, "--warmup-count", "--warmup-http");
      needs(warmupOptional, "--warmup-optional", "--warmup-http");
    } else if (warmupBody == null) {
      throw new UsageException("--warmup-http needs --warmup-body: @FILE or the JSON to send");
    }
    if (warmupCount != null && warmupCount < 1) {
      throw new UsageException("--warmup-count " + warmupCount + ": at least 1");
    }
    List<URI> urls = new ArrayList<>();
    for (String url : waitHttp) {
      urls.add(url("--wait-http", url));
    }
    URI warmupUrl = warmupHttp == null ? null : url("--warmup-http", warmupHttp);
    byte[] body = warmupBody == null ? new byte[0] : body(warmupBody);
    if (readyFile != null
        && reportFile != null
        && readyFile
            .toAbsolutePath()
            .normalize()
            .equals(reportFile.toAbsolutePath().normalize())) {
      throw new UsageException("--ready-file and --report-file name the same file: " + readyFile);
    }
    checkFile("--ready-file", readyFile);
    checkFile("--report-file", reportFile);
    return new Plan(
        List.copyOf(urls),
        waitTimeout == null ? DEFAULT_WAIT_TIMEOUT : waitTimeout.duration(),
        stopGrace == null ? DEFAULT_STOP_GRACE : stopGrace.duration(),
        warmupUrl,
        body,
        warmupCount == null ? 1 : warmupCount,
        warmupOptional,
        readyFile == null ? null : readyFile.toAbsolutePath(),
        reportFile == null ? null : reportFile.toAbsolutePath());
  }

  private static void needs(boolean given, String option, String other) throws UsageException {
    if (given) {
      throw new UsageException(option + " needs " + other);
    }
  }

  private static URI url(String option, String text) throws UsageException {
    URI uri;
    try {
      uri = URI.create(text);
    } catch (IllegalArgumentException e) {
      throw new UsageException(option + " '" + text + "' is not an http:// or https:// URL");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
      throw new UsageException(option + " '" + text + "' is not an http:// or https:// URL");
    }
    return uri;
  }

  /** {@code @FILE} is the file's bytes, as with curl's {@code -d @FILE}; anything else is JSON text. */
  private static byte[] body(String value) throws UsageException {
    if (value.startsWith("@")) {
      Path file = Path.of(value.substring(1));
      if (value.length() == 1) {
        throw new UsageException("--warmup-body '@': give a file after the @");
      }
      try {
        return Files.readAllBytes(file);
      } catch (IOException e) {
        throw new UsageException("--warmup-body " + value + ": " + Main.describe(e));
      }
    }
    String json = value.strip();
    if (!(json.startsWith("{") || json.startsWith("["))) {
      // Most often a file name without its @.
      throw new UsageException("--warmup-body '" + value + "' is not JSON: give a file as @" + value
          + ", or the JSON itself");
    }
    return value.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  private static void checkFile(String option, Path file) throws UsageException {
    if (file != null && Files.isDirectory(file)) {
      throw new UsageException(option + " " + file + " is a directory");
    }
  }
}
