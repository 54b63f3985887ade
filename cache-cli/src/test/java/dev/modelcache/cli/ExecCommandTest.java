package dev.modelcache.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.EntryInUseException;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * {@code modelcache exec}: the model leased for exactly as long as the command runs, signals sent
 * on to it, its exit status passed through. Real processes: the command runs in a JVM started as
 * the launcher starts it, and its child is a shell.
 */
class ExecCommandTest {

  private static final Duration DEADLINE = Duration.ofSeconds(60);

  @TempDir
  Path tmp;

  private Path root;
  private ModelSource source;
  private final List<Process> started = new ArrayList<>();
  private final List<Long> orphans = new ArrayList<>();

  @BeforeEach
  void model() throws IOException {
    Path model = TestModels.sharded(tmp.resolve("store/llama"), 4);
    source = ModelSource.parse(model.toUri().toString());
    root = tmp.resolve("cache");
  }

  @AfterEach
  void killLeftovers() throws InterruptedException {
    for (long pid : orphans) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }
    for (Process p : started) {
      p.destroyForcibly();
      p.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS);
    }
  }

  @Test
  void theChildRunsWithTheModelsDirectoryAndItsStatusIsExecs() throws Exception {
    Path link = tmp.resolve("models/llama");
    // Arguments after '--' that look like options are the child's.
    Process exec = start(
        "exec",
        source.toString(),
        "--link",
        link.toString(),
        "--",
        "sh",
        "-c",
        "printf '%s' \"$MODELCACHE_MODEL_DIR\" > dir; ls \"$MODELCACHE_MODEL_DIR\" > listing;"
            + " printf '%s\\n' \"$@\" > args; echo from-the-child; exit 7",
        "child",
        "--port",
        "8000",
        "-x",
        "--");
    String stdout = new String(exec.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(exec.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    String stderr = new String(exec.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);

    assertThat(exec.exitValue()).as(stderr).isEqualTo(7);
    assertThat(stdout).as("exec writes nothing of its own on stdout").isEqualTo("from-the-child\n");
    assertThat(stderr).contains("downloaded").contains("linked at " + link).contains("running sh");
    CacheEntry entry = entry();
    assertThat(Files.readString(tmp.resolve("dir"))).isEqualTo(entry.directory().toString());
    assertThat(Files.readAllLines(tmp.resolve("listing")))
        .contains(
            "model-00001-of-00002.safetensors",
            "model-00002-of-00002.safetensors",
            "model.safetensors.index.json");
    assertThat(Files.readAllLines(tmp.resolve("args")))
        .containsExactly("--port", "8000", "-x", "--");
    assertThat(link.toRealPath()).isEqualTo(entry.directory().toRealPath());
    assertThat(entry.leaseCount()).isZero();
  }

  @Test
  void theLeaseLivesExactlyAsLongAsTheChild() throws Exception {
    Process exec = start(
        "exec",
        source.toString(),
        "--",
        "sh",
        "-c",
        "echo > running; read line; echo \"$line\" > read");
    awaitFile(exec, tmp.resolve("running"));
    try (ModelCache cache = openCache()) {
      assertThat(cache.getIfPresent(source).orElseThrow().leaseCount()).isEqualTo(1);
      assertThatThrownBy(() -> cache.evict(source)).isInstanceOf(EntryInUseException.class);

      try (OutputStream stdin = exec.getOutputStream()) {
        stdin.write("done\n".getBytes(StandardCharsets.UTF_8));
      }
      assertThat(exec.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
      assertThat(exec.exitValue()).as(stderr(exec)).isZero();
      assertThat(Files.readString(tmp.resolve("read")).strip())
          .as("stdin reaches the child")
          .isEqualTo("done");
      assertThat(cache.getIfPresent(source).orElseThrow().leaseCount()).isZero();
      assertThat(cache.evict(source)).isTrue();
    }
  }

  @ParameterizedTest
  @CsvSource({"TERM, 42", "INT, 43", "HUP, 44"})
  void aSignalToExecReachesTheChildAndExecExitsWithTheChildsStatus(String signal, int status)
      throws Exception {
    // A shell runs a trap only between commands, and a signal that lands as `wait` is starting
    // may not interrupt it: so the shell waits on short sleeps in a loop, and the trap runs
    // within one of them however the signal falls. `env --default-signal` gives exec (and so its
    // child) the signal's default disposition: under nohup SIGHUP is inherited ignored, the JVM
    // then leaves it ignored, and a shell cannot trap a signal ignored on entry.
    Process exec = start(
        List.of("env", "--default-signal=" + signal),
        "exec",
        source.toString(),
        "--",
        "sh",
        "-c",
        "trap 'echo got-" + signal + " > got; exit " + status + "' " + signal + ";"
            + " echo > running; while :; do sleep 0.2 & wait $!; done");
    awaitFile(exec, tmp.resolve("running"));
    kill(signal, exec.pid());

    assertThat(exec.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(Files.readString(tmp.resolve("got")).strip()).isEqualTo("got-" + signal);
    assertThat(exec.exitValue())
        .as("the child's status, so exec waited for it: " + stderr(exec))
        .isEqualTo(status);
    assertThat(entry().leaseCount()).isZero();
  }

  @Test
  void aChildKilledBySignalNGivesExitStatus128PlusN() throws Exception {
    Process exec =
        start("exec", source.toString(), "--", "sh", "-c", "echo > running; exec sleep 600");
    awaitFile(exec, tmp.resolve("running"));
    kill("TERM", exec.pid());
    assertThat(exec.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(exec.exitValue()).as(stderr(exec)).isEqualTo(128 + 15);
    assertThat(entry().leaseCount()).isZero();
  }

  @Test
  void aSigkilledExecLeavesNoLiveLeaseWhileItsOrphanRunsOn() throws Exception {
    Process exec = start(
        "exec",
        source.toString(),
        "--",
        "sh",
        "-c",
        "echo $$ > child.tmp; mv child.tmp child; exec sleep 600");
    awaitFile(exec, tmp.resolve("child"));
    long child = Long.parseLong(Files.readString(tmp.resolve("child")).strip());
    orphans.add(child);
    try (ModelCache cache = openCache()) {
      assertThat(cache.getIfPresent(source).orElseThrow().leaseCount()).isEqualTo(1);

      exec.destroyForcibly();
      assertThat(exec.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
      // Outside a PID namespace nothing kills the child with exec: it runs on, without a lease.
      assertThat(ProcessHandle.of(child).map(ProcessHandle::isAlive)).contains(true);
      try (ModelCache fresh = openCache()) {
        assertThat(fresh.getIfPresent(source).orElseThrow().leaseCount()).isZero();
      }

      ProcessHandle orphan = ProcessHandle.of(child).orElseThrow();
      orphan.destroyForcibly();
      orphan.onExit().get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
      try (ModelCache fresh = openCache()) {
        assertThat(fresh.evict(source)).isTrue();
      }
    }
  }

  /**
   * Runs exec as pid 1 of a PID namespace of its own, as a container's entrypoint, with a shell
   * running {@code script} as its command; returns once the script has created the file "running".
   */
  private Process execAsPidOne(String script) throws Exception {
    assumeTrue(
        canUnsharePidNamespace(), "needs unshare(1) with the rights to make a PID namespace");
    List<String> command = new ArrayList<>(List.of("unshare", "--fork", "--pid", "--mount-proc"));
    command.addAll(ProcessTest.modelcache(
            "--root", root.toString(), "exec", source.toString(), "--", "sh", "-c", script)
        .command());
    Process unshare = new ProcessBuilder(command).directory(tmp.toFile()).start();
    started.add(unshare);
    awaitFile(unshare, tmp.resolve("running"));
    return unshare;
  }

  @Test
  void asPidOneOfAPidNamespaceItsDeathTakesTheChildWithIt() throws Exception {
    Process unshare = execAsPidOne("echo $PPID > parent; echo > running; exec sleep 600");
    assertThat(Files.readString(tmp.resolve("parent")).strip())
        .as("exec's pid in the namespace")
        .isEqualTo("1");
    ProcessHandle exec = unshare.toHandle().children().findFirst().orElseThrow();
    ProcessHandle child = exec.children().findFirst().orElseThrow();
    orphans.add(child.pid());

    exec.destroyForcibly();
    // The kernel kills every process of the namespace when its pid 1 dies.
    child.onExit().get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
    assertThat(child.isAlive()).isFalse();
    assertThat(unshare.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aLeaseTakenByExecAsPidOneHoldsAcrossPidNamespaces() throws Exception {
    Process unshare = execAsPidOne("echo > running; exec sleep 600");
    ProcessHandle exec = unshare.toHandle().children().findFirst().orElseThrow();
    orphans.add(exec.children().findFirst().orElseThrow().pid());
    try (ModelCache cache = openCache()) {
      // Seen from the host's PID namespace, where pid 1 is another process.
      CacheEntry seen = cache.getIfPresent(source).orElseThrow();
      assertThat(seen.leaseCount()).isEqualTo(1);
      assertThat(seen.leases().getFirst().pid()).as("as exec sees itself").isEqualTo(1);
      assertThatThrownBy(() -> cache.evict(source)).isInstanceOf(EntryInUseException.class);
      var ls = Cli.withRoot(root).run("ls");
      assertThat(ls.stdout()).contains("(pid 1)");

      exec.destroyForcibly(); // its namespace, the server included, ends with it
      assertThat(unshare.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
      assertThat(cache.getIfPresent(source).orElseThrow().leaseCount())
          .as("the lease ended with exec")
          .isZero();
      assertThat(cache.evict(source)).isTrue();
    }
  }

  @Test
  void withoutNativeAccessASignalReachesTheChildAsSigterm() throws Exception {
    List<String> command = new ArrayList<>(ProcessTest.modelcache(
            "--root",
            root.toString(),
            "exec",
            source.toString(),
            "--",
            "sh",
            "-c",
            "trap 'kill $sleeper; echo got-TERM > got; exit 42' TERM;"
                + " sleep 600 & sleeper=$!; echo $sleeper > sleeper; echo > running; wait $sleeper")
        .command());
    command.remove("--enable-native-access=ALL-UNNAMED");
    Process exec = new ProcessBuilder(command).directory(tmp.toFile()).start();
    started.add(exec);
    awaitFile(exec, tmp.resolve("running"));
    orphans.add(Long.parseLong(Files.readString(tmp.resolve("sleeper")).strip()));
    kill("INT", exec.pid());

    assertThat(exec.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(Files.readString(tmp.resolve("got")).strip()).isEqualTo("got-TERM");
    assertThat(exec.exitValue()).as(stderr(exec)).isEqualTo(42);
  }

  @Test
  void aCommandThatIsNotFoundIs127AndOneLine() throws Exception {
    var r =
        Cli.withRoot(root).run("exec", source.toString(), "--", "no-such-command-here", "--flag");
    assertThat(r.exitCode()).isEqualTo(127);
    assertThat(r.stdout()).isEmpty();
    assertThat(r.stderr().lines().toList())
        .containsExactly("modelcache exec: no-such-command-here: command not found");
    assertThat(Files.exists(root))
        .as("nothing fetched for a command that cannot run")
        .isFalse();

    var missingPath = Cli.withRoot(root)
        .run("exec", source.toString(), "--", tmp.resolve("nothing-here").toString());
    assertThat(missingPath.exitCode()).isEqualTo(127);
    assertThat(missingPath.stderr().lines().toList())
        .singleElement()
        .asString()
        .endsWith(": no such file or directory");
  }

  @Test
  void aCommandThatCannotBeRunIs126AndTheLeaseIsReleased() throws Exception {
    Path plain = Files.writeString(tmp.resolve("not-executable.sh"), "echo hi\n");
    var r = Cli.withRoot(root).run("exec", source.toString(), "--", plain.toString());
    assertThat(r.exitCode()).isEqualTo(126);
    assertThat(r.stderr().lines().toList())
        .containsExactly("modelcache exec: " + plain + ": permission denied");

    var dir = Cli.withRoot(root).run("exec", source.toString(), "--", tmp.toString());
    assertThat(dir.exitCode()).isEqualTo(126);
    assertThat(dir.stderr().lines().toList())
        .containsExactly("modelcache exec: " + tmp + ": is a directory");

    // Found and executable, but the kernel refuses it: the model was fetched and leased first.
    Path badInterpreter =
        Files.writeString(tmp.resolve("bad-interpreter"), "#!/no/such/interpreter\n");
    Files.setPosixFilePermissions(badInterpreter, PosixFilePermissions.fromString("rwxr-xr-x"));
    var refused =
        Cli.withRoot(root).run("exec", source.toString(), "--", badInterpreter.toString());
    assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(126);
    assertThat(refused
            .stderr()
            .lines()
            .filter(l -> l.startsWith("modelcache exec: " + badInterpreter + ": cannot be run: ")))
        .hasSize(1);
    assertThat(refused.stderr()).doesNotContain("\tat ");
    assertThat(entry().leaseCount()).isZero();
    try (ModelCache cache = openCache()) {
      assertThat(cache.evict(source)).isTrue();
    }
  }

  @Test
  void usageMistakesAreOneLineAndStatusTwo() {
    Cli cli = Cli.withRoot(root);
    for (String[] args : List.of(
        new String[] {"exec", source.toString()},
        new String[] {"exec", source.toString(), "--"},
        new String[] {"exec", source.toString(), "sh", "-c", "true"},
        new String[] {"exec", source.toString(), "sh", "true"},
        new String[] {"exec", source.toString(), "sh", "--", "-c", "true"},
        new String[] {"exec", source.toString(), "--bogus", "--", "true"},
        new String[] {"exec", "--", "true"},
        new String[] {"--json", "exec", source.toString(), "--", "true"})) {
      var r = cli.run(args);
      assertThat(r.exitCode()).as(String.join(" ", args) + ": " + r).isEqualTo(2);
      assertThat(r.stderr().lines().toList())
          .as(String.join(" ", args))
          .singleElement()
          .asString()
          .startsWith("modelcache exec: ");
    }
    assertThat(cli.run("exec", source.toString()).stderr()).contains("after '--'");
    assertThat(cli.run("exec", source.toString(), "sh", "true").stderr())
        .contains("'sh': the command to run must follow '--'");
    assertThat(cli.run("exec", source.toString(), "vllm", "--port", "8000").stderr())
        .contains("Unknown option: '--port'")
        .contains("go after '--'");
    assertThat(Files.exists(root)).isFalse();
  }

  @Test
  void everythingAfterTheDelimiterIsTheCommand() throws Exception {
    var app = new ModelcacheCommand(CommandContext.system());
    CommandLine cl = Main.commandLine(app);
    var parsed = cl.parseArgs(
        "exec",
        "s3://m/llama/",
        "--revision",
        "r1",
        "--link",
        "/models/llama",
        "--",
        "vllm",
        "serve",
        "--port",
        "8000",
        "--revision",
        "x",
        "--");
    var exec = (ExecCommand) parsed.subcommand().commandSpec().userObject();
    assertThat(exec.childCommand())
        .containsExactly("vllm", "serve", "--port", "8000", "--revision", "x", "--");
    assertThat(exec.source.revision).isEqualTo("r1");
    assertThat(exec.entryOptions.link).isEqualTo(Path.of("/models/llama"));
  }

  @Test
  void aWordStartingWithAtIsNoFileOfArgumentsToExpand() throws Exception {
    Path file = Files.writeString(tmp.resolve("body.json"), "--not-an-argument\n");
    CommandLine cl = Main.commandLine(new ModelcacheCommand(CommandContext.system()));
    var parsed = cl.parseArgs(
        "exec", "s3://m/llama/", "--", "curl", "-d", "@" + file, "http://127.0.0.1:8000/");
    var exec = (ExecCommand) parsed.subcommand().commandSpec().userObject();
    assertThat(exec.childCommand())
        .containsExactly("curl", "-d", "@" + file, "http://127.0.0.1:8000/");
  }

  private Process start(String... args) throws IOException {
    return start(List.of(), args);
  }

  /** Starts {@code modelcache ARGS} through {@code prefix} (a command that execs its arguments). */
  private Process start(List<String> prefix, String... args) throws IOException {
    List<String> all = new ArrayList<>(List.of("--root", root.toString()));
    all.addAll(List.of(args));
    ProcessBuilder b = ProcessTest.modelcache(all.toArray(String[]::new));
    List<String> command = new ArrayList<>(prefix);
    command.addAll(b.command());
    Process p = b.command(command).directory(tmp.toFile()).start();
    started.add(p);
    return p;
  }

  private ModelCache openCache() throws IOException {
    return ModelCache.builder().root(root).build();
  }

  private CacheEntry entry() throws IOException {
    try (ModelCache cache = openCache()) {
      return cache.getIfPresent(source).orElseThrow();
    }
  }

  /** Waits until {@code file} exists, failing early if {@code process} exits first. */
  static void awaitFile(Process process, Path file) throws Exception {
    awaitCondition(() -> Files.exists(file), process, "the child to create " + file);
  }

  static void awaitCondition(BooleanSupplier condition, Process process, String what)
      throws Exception {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (!condition.getAsBoolean()) {
      if (!process.isAlive()) {
        throw new AssertionError(
            "exec exited with " + process.exitValue() + " before " + what + ": " + stderr(process));
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(10); // a poll interval with a deadline, not a wait for something to happen
    }
  }

  private static boolean canUnsharePidNamespace() throws InterruptedException {
    try {
      Process p = new ProcessBuilder("unshare", "--fork", "--pid", "--mount-proc", "true")
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start();
      return p.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    }
  }

  static void kill(String signal, long pid) throws Exception {
    Process kill =
        new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
    assertThat(kill.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).isZero();
  }

  static String stderr(Process p) {
    if (p.isAlive()) {
      return "(still running)";
    }
    try {
      return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(stderr unreadable: " + e + ")";
    }
  }
}
