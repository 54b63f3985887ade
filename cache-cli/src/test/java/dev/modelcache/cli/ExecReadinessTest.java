package dev.modelcache.cli;

import static dev.modelcache.cli.ExecCommandTest.awaitCondition;
import static dev.modelcache.cli.ExecCommandTest.awaitFile;
import static dev.modelcache.cli.ExecCommandTest.kill;
import static dev.modelcache.cli.ExecCommandTest.stderr;
import static org.assertj.core.api.Assertions.assertThat;

import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code modelcache exec --wait-http ... --warmup-http ... --ready-file ...}: a server run under exec
 * is ready only once it is healthy and warmed up. Real processes: exec in a JVM as the launcher
 * starts it, and its command a {@link WarmupServer} in another, which records every request it
 * gets and whether the ready file existed then.
 */
class ExecReadinessTest {

  private static final Duration DEADLINE = Duration.ofSeconds(60);

  @TempDir
  Path tmp;

  private Path root;
  private ModelSource source;
  private int port;
  private Path events;
  private Path ready;
  private Path report;
  private final List<Process> started = new ArrayList<>();

  @BeforeEach
  void model() throws IOException {
    Path model = TestModels.sharded(tmp.resolve("store/llama"), 4);
    source = ModelSource.parse(model.toUri().toString());
    root = tmp.resolve("cache");
    port = freePort();
    events = tmp.resolve("events");
    ready = tmp.resolve("run/ready");
    report = tmp.resolve("report.json");
  }

  @AfterEach
  void killLeftovers() throws InterruptedException {
    for (Process p : started) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS);
    }
  }

  @Test
  void theReadyFileAppearsOnlyOnceHealthyAndWarmedUpAndGoesOnSigterm() throws Exception {
    Path body =
        Files.writeString(tmp.resolve("warmup.json"), "{\"prompt\":\"hello\",\"max_tokens\":1}");
    Process exec = start(
        List.of(
            "--wait-http",
            url("/health"),
            "--warmup-http",
            url("/v1/completions"),
            "--warmup-body",
            "@" + body,
            "--warmup-count",
            "3",
            "--ready-file",
            ready.toString(),
            "--report-file",
            report.toString()),
        "--healthy-after",
        "1000");
    awaitFile(exec, ready);

    Map<String, Object> readyJson = Cli.jsonObject(Files.readString(ready).strip());
    List<String> seen = Files.readAllLines(events);
    assertThat(seen.stream().filter(e -> e.startsWith("warmup ")))
        .as("exactly --warmup-count requests")
        .containsExactly(
            "warmup 1 ready=absent type=application/json body={\"prompt\":\"hello\",\"max_tokens\":1}",
            "warmup 2 ready=absent type=application/json body={\"prompt\":\"hello\",\"max_tokens\":1}",
            "warmup 3 ready=absent type=application/json body={\"prompt\":\"hello\",\"max_tokens\":1}");
    assertThat(seen).contains("health 503");
    assertThat(seen.indexOf("health 200"))
        .as("healthy before the first warmup request: " + seen)
        .isPositive()
        .isEqualTo(seen.indexOf(
                "warmup 1 ready=absent type=application/json body={\"prompt\":\"hello\",\"max_tokens\":1}")
            - 1);
    assertThat(seen.stream().filter(e -> e.equals("health 200")))
        .as("polled until the first 2xx, not after")
        .hasSize(1);

    CacheEntry entry = entry();
    assertThat(entry.leaseCount()).isEqualTo(1);
    assertThat(readyJson)
        .containsEntry("ready", true)
        .containsEntry("path", entry.directory().toString())
        .containsEntry("command", javaCommand())
        .containsEntry("warmupRequests", 3L)
        .containsEntry("warmupFailures", 0L)
        .containsKeys("cacheSeconds", "warmupSeconds", "readySeconds");
    assertThat(((Number) readyJson.get("healthySeconds")).doubleValue())
        .as("the server is healthy after 1 s")
        .isGreaterThanOrEqualTo(1.0);
    assertThat(((Number) readyJson.get("readySeconds")).doubleValue())
        .isGreaterThanOrEqualTo(((Number) readyJson.get("healthySeconds")).doubleValue());
    long serverPid = (Long) readyJson.get("pid");
    assertThat(exec.toHandle().children().map(ProcessHandle::pid)).containsExactly(serverPid);

    kill("TERM", exec.pid());
    assertThat(exec.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    String stderr = stderr(exec);
    assertThat(exec.exitValue()).as(stderr).isEqualTo(42);
    assertThat(Files.readAllLines(events))
        .as("the ready file went before the server heard of the signal")
        .last()
        .isEqualTo("term ready=absent");
    assertThat(ready).doesNotExist();
    assertThat(entry().leaseCount()).isZero();
    assertThat(stderr.lines().toList())
        .contains("exec: waiting up to 10m00s for " + url("/health") + " to answer 2xx")
        .anySatisfy(
            l -> assertThat(l).startsWith("exec: " + url("/health") + " answered 200 after "))
        .anySatisfy(l -> assertThat(l)
            .matches(
                "exec: ready in [0-9.]+ s: cache [0-9.]+ s, healthy [0-9.]+ s, warmup [0-9.]+ s \\(3 requests\\); created "
                    + ready));
    Map<String, Object> exit = Cli.jsonObject(Files.readString(report).strip());
    assertThat(exit)
        .containsEntry("exitCode", 42L)
        .containsEntry("childStatus", 42L)
        .containsEntry("error", null)
        .containsEntry("ready", true)
        .containsEntry("warmupRequests", 3L)
        .containsEntry("healthySeconds", readyJson.get("healthySeconds"))
        .containsKey("seconds");
  }

  @Test
  void inlineJsonIsSentOnceAndTheReadyFileGoesWhenTheServerExits() throws Exception {
    Process exec = start(List.of(
        "--wait-http",
        url("/health"),
        "--warmup-http",
        url("/v1/chat/completions"),
        "--warmup-body",
        " {\"messages\":[]}",
        "--ready-file",
        ready.toString()));
    awaitFile(exec, ready);
    assertThat(Files.readAllLines(events).stream().filter(e -> e.startsWith("warmup ")))
        .containsExactly("warmup 1 ready=absent type=application/json body= {\"messages\":[]}");

    // Stopped from outside, not through exec: exec sees its command exit.
    long serverPid = (Long) Cli.jsonObject(Files.readString(ready).strip()).get("pid");
    kill("TERM", serverPid);
    assertThat(exec.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(exec.exitValue()).as(stderr(exec)).isEqualTo(42);
    assertThat(Files.readAllLines(events)).last().isEqualTo("term ready=present");
    assertThat(ready).doesNotExist();
  }

  @Test
  void aServerThatNeverAnswers2xxTimesOutAndIsStoppedWithSigterm() throws Exception {
    Process exec = start(
        List.of(
            "--wait-http",
            url("/health"),
            "--wait-timeout",
            "5s",
            "--ready-file",
            ready.toString(),
            "--report-file",
            report.toString()),
        "--healthy-after",
        "-1");
    assertThat(exec.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    String stderr = stderr(exec);
    assertThat(exec.exitValue()).as(stderr).isEqualTo(ExitCode.TIMED_OUT.status());
    assertThat(errorLines(stderr))
        .containsExactly("modelcache exec: " + url("/health")
            + " did not answer 2xx within 5.0s of " + javaCommand()
            + "'s start (--wait-timeout; last: status 503: loading); stopping " + javaCommand());
    assertThat(Files.readAllLines(events))
        .as("stopped with SIGTERM")
        .last()
        .isEqualTo("term ready=absent");
    assertThat(ready).doesNotExist();
    Map<String, Object> exit = Cli.jsonObject(Files.readString(report).strip());
    assertThat(exit)
        .containsEntry("exitCode", 4L)
        .containsEntry("childStatus", 42L)
        .containsEntry("ready", false)
        .containsEntry("healthySeconds", null)
        .containsEntry("readySeconds", null);
    assertThat((String) exit.get("error")).contains("did not answer 2xx");
    assertThat(
            ProcessHandle.of((Long) exit.get("pid")).map(ProcessHandle::isAlive).orElse(false))
        .isFalse();
    assertThat(entry().leaseCount()).isZero();
  }

  @Test
  void aServerThatIgnoresSigtermIsKilledAfterTheStopGrace() throws Exception {
    Process exec = start(
        List.of(
            "--wait-http",
            url("/health"),
            "--wait-timeout",
            "5s",
            "--stop-grace",
            "1s",
            "--report-file",
            report.toString()),
        "--healthy-after",
        "-1",
        "--ignore-term");
    assertThat(exec.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    String stderr = stderr(exec);
    assertThat(exec.exitValue()).as(stderr).isEqualTo(4);
    assertThat(Files.readAllLines(events))
        .as("SIGTERM first")
        .last()
        .isEqualTo("term ready=absent");
    assertThat(stderr)
        .contains("exec: " + javaCommand()
            + " did not exit within 1.0s of SIGTERM (--stop-grace): sending SIGKILL");
    assertThat(Cli.jsonObject(Files.readString(report).strip()))
        .containsEntry("childStatus", 128L + 9);
  }

  @Test
  void aCommandThatExitsBeforeItIsHealthyGivesItsStatus() throws Exception {
    Process exec = startCommand(
        List.of("--wait-http", url("/health"), "--ready-file", ready.toString()),
        List.of("sh", "-c", "exit 3"));
    assertThat(exec.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    String stderr = stderr(exec);
    assertThat(exec.exitValue()).as(stderr).isEqualTo(3);
    assertThat(errorLines(stderr))
        .containsExactly(
            "modelcache exec: sh exited with status 3 before " + url("/health") + " answered 2xx");
    assertThat(ready).doesNotExist();
    assertThat(entry().leaseCount()).isZero();
  }

  @Test
  void aFailedWarmupIsFatalWithItsStatusAndTheFirstBytesOfItsBody() throws Exception {
    String answer = "{\"error\":\"CUDA out of memory\",\"detail\":\"" + "x".repeat(400) + "\"}";
    Process exec = start(
        List.of(
            "--wait-http",
            url("/health"),
            "--warmup-http",
            url("/v1/completions"),
            "--warmup-body",
            "{}",
            "--warmup-count",
            "2",
            "--ready-file",
            ready.toString()),
        "--warmup-status",
        "500",
        "--warmup-answer",
        answer);
    assertThat(exec.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    String stderr = stderr(exec);
    assertThat(exec.exitValue()).as(stderr).isEqualTo(ExitCode.FAILURE.status());
    String first200 = answer.substring(0, HttpCheck.QUOTED_BYTES);
    assertThat(errorLines(stderr))
        .containsExactly("modelcache exec: warmup request 1 of 2 to " + url("/v1/completions")
            + " failed: status 500: " + first200 + "...; stopping " + javaCommand());
    List<String> seen = Files.readAllLines(events);
    assertThat(seen.stream().filter(e -> e.startsWith("warmup ")))
        .as("the first failure ends the warmup")
        .hasSize(1);
    assertThat(seen).last().isEqualTo("term ready=absent");
    assertThat(ready).doesNotExist();
  }

  @Test
  void withWarmupOptionalAFailedWarmupIsAWarningAndTheServerBecomesReady() throws Exception {
    Process exec = start(
        List.of(
            "--wait-http",
            url("/health"),
            "--warmup-http",
            url("/v1/completions"),
            "--warmup-body",
            "{}",
            "--warmup-count",
            "2",
            "--warmup-optional",
            "--ready-file",
            ready.toString()),
        "--warmup-status",
        "500",
        "--warmup-answer",
        "busy");
    awaitFile(exec, ready);
    assertThat(Cli.jsonObject(Files.readString(ready).strip()))
        .containsEntry("warmupRequests", 2L)
        .containsEntry("warmupFailures", 2L);
    assertThat(Files.readAllLines(events).stream().filter(e -> e.startsWith("warmup ")))
        .hasSize(2);

    kill("TERM", exec.pid());
    assertThat(exec.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    String stderr = stderr(exec);
    assertThat(exec.exitValue()).as(stderr).isEqualTo(42);
    assertThat(stderr.lines().filter(l -> l.startsWith("exec: warning: ")).toList())
        .containsExactly(
            "exec: warning: warmup request 1 of 2 to " + url("/v1/completions")
                + " failed: status 500: busy; going on (--warmup-optional)",
            "exec: warning: warmup request 2 of 2 to " + url("/v1/completions")
                + " failed: status 500: busy; going on (--warmup-optional)");
    assertThat(stderr).contains("(2 requests, 2 failed)");
    assertThat(errorLines(stderr)).isEmpty();
  }

  @Test
  void sigtermWhileWaitingForHealthReachesTheServerAndQuietSaysNothing() throws Exception {
    Process exec = start(
        List.of("--quiet", "--wait-http", url("/health"), "--ready-file", ready.toString()),
        "--healthy-after",
        "-1");
    awaitCondition(() -> eventsContain("health 503"), exec, "the first health check");
    kill("TERM", exec.pid());
    assertThat(exec.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    String stderr = stderr(exec);
    assertThat(exec.exitValue()).as(stderr).isEqualTo(42);
    assertThat(Files.readAllLines(events)).last().isEqualTo("term ready=absent");
    assertThat(stderr)
        .as("--quiet: no notes, and no error for a stop that was asked for")
        .isEmpty();
    assertThat(ready).doesNotExist();
    assertThat(entry().leaseCount()).isZero();
  }

  @Test
  void theReportIsWrittenAlsoWhenTheCommandNeverRan() throws Exception {
    var r = Cli.withRoot(root)
        .run(
            "exec",
            source.toString(),
            "--report-file",
            report.toString(),
            "--ready-file",
            ready.toString(),
            "--",
            "no-such-command-here");
    assertThat(r.exitCode()).isEqualTo(127);
    assertThat(Cli.jsonObject(Files.readString(report).strip()))
        .containsEntry("exitCode", 127L)
        .containsEntry("childStatus", null)
        .containsEntry("pid", null)
        .containsEntry("ready", false)
        .containsEntry("command", "no-such-command-here")
        .containsEntry("error", "no-such-command-here: command not found");
    assertThat(ready).doesNotExist();
  }

  @Test
  void optionsThatNeedAnotherOrCannotBeUsedAreUsageErrors() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("a-directory"));
    String health = url("/health");
    Cli cli = Cli.withRoot(root);
    Map<List<String>, String> cases = new java.util.LinkedHashMap<>();
    cases.put(List.of("--warmup-body", "{}"), "--warmup-body needs --warmup-http");
    cases.put(
        List.of("--wait-http", health, "--warmup-count", "2"),
        "--warmup-count needs --warmup-http");
    cases.put(
        List.of("--wait-http", health, "--warmup-optional"),
        "--warmup-optional needs --warmup-http");
    cases.put(
        List.of("--warmup-http", health, "--warmup-body", "{}"), "--warmup-http needs --wait-http");
    cases.put(List.of("--wait-timeout", "1m"), "--wait-timeout needs --wait-http");
    cases.put(List.of("--stop-grace", "5s"), "--stop-grace needs --wait-http");
    cases.put(
        List.of("--wait-http", health, "--warmup-http", health),
        "--warmup-http needs --warmup-body");
    cases.put(
        List.of(
            "--wait-http",
            health,
            "--warmup-http",
            health,
            "--warmup-body",
            "{}",
            "--warmup-count",
            "0"),
        "--warmup-count 0: at least 1");
    cases.put(
        List.of("--wait-http", "ftp://127.0.0.1/health"), "is not an http:// or https:// URL");
    cases.put(List.of("--wait-http", "127.0.0.1:8000/health"), "is not an http:// or https:// URL");
    cases.put(
        List.of("--wait-http", health, "--warmup-http", health, "--warmup-body", "warmup.json"),
        "give a file as @warmup.json, or the JSON itself");
    cases.put(
        List.of(
            "--wait-http",
            health,
            "--warmup-http",
            health,
            "--warmup-body",
            "@" + tmp.resolve("missing.json")),
        "no such file or directory");
    cases.put(List.of("--wait-http", health, "--wait-timeout", "30"), "add a unit");
    cases.put(List.of("--ready-file", dir.toString()), "is a directory");
    cases.put(
        List.of(
            "--ready-file",
            dir.resolve("f").toString(),
            "--report-file",
            dir.resolve("f").toString()),
        "name the same file");
    for (var c : cases.entrySet()) {
      List<String> args = new ArrayList<>(List.of("exec", source.toString()));
      args.addAll(c.getKey());
      args.addAll(List.of("--", "true"));
      var r = cli.run(args.toArray(String[]::new));
      assertThat(r.exitCode()).as(args + ": " + r).isEqualTo(2);
      assertThat(r.stderr().lines().toList())
          .as(String.join(" ", args))
          .singleElement()
          .asString()
          .startsWith("modelcache exec: ")
          .contains(c.getValue());
    }
    var json = cli.run("--json", "exec", source.toString(), "--", "true");
    assertThat(json.exitCode()).isEqualTo(2);
    assertThat(json.stderr()).contains("--report-file PATH");
    assertThat(root).as("nothing fetched for a command line that is wrong").doesNotExist();
  }

  @Test
  void readinessOptionsGoBeforeTheDelimiterAndTheServersAfterIt() throws Exception {
    CommandLine cl = Main.commandLine(new ModelcacheCommand(CommandContext.system()));
    var parsed = cl.parseArgs(
        "exec",
        "s3://m/llama/",
        "--wait-http",
        "http://127.0.0.1:8000/health",
        "--wait-http=http://127.0.0.1:8000/v1/models",
        "--ready-file",
        "/tmp/ready",
        "--",
        "vllm",
        "serve",
        "--wait-http",
        "x",
        "--ready-file",
        "y");
    var exec = (ExecCommand) parsed.subcommand().commandSpec().userObject();
    assertThat(exec.childCommand())
        .containsExactly("vllm", "serve", "--wait-http", "x", "--ready-file", "y");
    var plan = exec.readinessOptions.plan();
    assertThat(plan.waitUrls())
        .extracting(Object::toString)
        .containsExactly("http://127.0.0.1:8000/health", "http://127.0.0.1:8000/v1/models");
    assertThat(plan.waitTimeout())
        .isEqualTo(ReadinessOptions.DEFAULT_WAIT_TIMEOUT)
        .isEqualTo(Duration.ofMinutes(10));
    assertThat(plan.stopGrace()).isEqualTo(Duration.ofSeconds(30));
    assertThat(plan.readyFile()).isEqualTo(Path.of("/tmp/ready"));
    assertThat(plan.warmupUrl()).isNull();
  }

  /** Starts exec with {@code options} and a {@link WarmupServer} as its command. */
  private Process start(List<String> options, String... serverOptions) throws IOException {
    List<String> server = new ArrayList<>(List.of(
        javaCommand(),
        "-cp",
        System.getProperty("java.class.path"),
        WarmupServer.class.getName(),
        "--port",
        Integer.toString(port),
        "--events",
        events.toString(),
        "--ready-file",
        ready.toString()));
    server.addAll(List.of(serverOptions));
    return startCommand(options, server);
  }

  private Process startCommand(List<String> options, List<String> command) throws IOException {
    List<String> all =
        new ArrayList<>(List.of("--root", root.toString(), "exec", source.toString()));
    all.addAll(options);
    all.add("--");
    all.addAll(command);
    Process p = ProcessTest.modelcache(all.toArray(String[]::new))
        .directory(tmp.toFile())
        .start();
    started.add(p);
    return p;
  }

  private static String javaCommand() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private String url(String path) {
    return "http://127.0.0.1:" + port + path;
  }

  private boolean eventsContain(String event) {
    try {
      return Files.exists(events) && Files.readAllLines(events).contains(event);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** exec's error lines: the notes start with "exec: ", an error with the command's name. */
  private static List<String> errorLines(String stderr) {
    return stderr.lines().filter(l -> l.startsWith("modelcache exec: ")).toList();
  }

  private CacheEntry entry() throws IOException {
    try (ModelCache cache = ModelCache.builder().root(root).build()) {
      return cache.getIfPresent(source).orElseThrow();
    }
  }

  private static int freePort() throws IOException {
    try (var socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
