package dev.modelcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command as real processes (JVMs started like the launcher starts them). */
class ProcessTest {

  @TempDir
  Path tmp;

  /** Starts {@code modelcache args...} with the test's class path, as bin/modelcache does with target/lib. */
  static ProcessBuilder modelcache(String... args) {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED",
        "-cp",
        System.getProperty("java.class.path"),
        Main.class.getName()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command);
  }

  @Test
  void aFailingCommandPrintsOneLineOnTheRealStderr() throws Exception {
    Path bad = TestModels.writeRaw(
        tmp.resolve("bad.safetensors"),
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
        new byte[4]);
    Process p = modelcache("inspect", bad.toString()).redirectErrorStream(false).start();
    String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(3);
    assertThat(stdout).isEmpty();
    assertThat(stderr.lines().toList()).hasSize(1);
    assertThat(stderr).startsWith("modelcache inspect: ").contains("bad.safetensors");
  }

  @Test
  void twoProcessesRacingDownloadOnce() throws Exception {
    Path model = TestModels.sharded(tmp.resolve("store/llama"), 8 * 1024); // 16 MiB of tensors
    long modelBytes;
    try (var files = Files.list(model)) {
      modelBytes = files.mapToLong(p -> p.toFile().length()).sum();
    }
    Path root = tmp.resolve("cache");
    List<Process> processes = new ArrayList<>();
    List<Path> outputs = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Path out = tmp.resolve("out-" + i + ".json");
      Path err = tmp.resolve("err-" + i + ".txt");
      outputs.add(out);
      // Small parts and little concurrency keep the download long enough for the two to overlap.
      var pb = modelcache(
              "--root",
              root.toString(),
              "prefetch",
              model.toUri().toString(),
              "--part-size",
              "64KiB",
              "--concurrency",
              "1",
              "--json")
          .redirectOutput(out.toFile())
          .redirectError(err.toFile());
      processes.add(pb.start());
    }
    long downloaded = 0;
    String path = null;
    for (int i = 0; i < 2; i++) {
      Process p = processes.get(i);
      assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("process %d finished", i).isTrue();
      String stderr = Files.readString(tmp.resolve("err-" + i + ".txt"), StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as("exit of process %d, stderr: %s", i, stderr).isZero();
      Map<String, Object> json = Cli.jsonObject(Files.readString(outputs.get(i)).strip());
      assertThat(json).containsEntry("bytes", modelBytes);
      downloaded += (Long) json.get("downloadedBytes");
      if (path == null) {
        path = (String) json.get("path");
      }
      assertThat(json.get("path")).isEqualTo(path);
    }
    assertThat(downloaded)
        .as("bytes read from the source by both processes together")
        .isEqualTo(modelBytes);
    for (String name :
        List.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")) {
      assertThat(Files.mismatch(Path.of(path, name), model.resolve(name))).isEqualTo(-1);
    }
    assertThat(listEntries(root)).hasSize(1);
  }

  @Test
  @SuppressWarnings("unchecked")
  void lsShowsADownloadApartAndAKilledOneResumes() throws Exception {
    Path model = TestModels.sharded(tmp.resolve("store/big"), 32 * 1024); // 64 MiB of tensors
    long modelBytes;
    try (var files = Files.list(model)) {
      modelBytes = files.mapToLong(p -> p.toFile().length()).sum();
    }
    Path root = tmp.resolve("cache");
    Cli cli = Cli.withRoot(root);
    Process downloader = modelcache(
            "--root",
            root.toString(),
            "prefetch",
            model.toUri().toString(),
            "--part-size",
            "64KiB",
            "--concurrency",
            "1",
            "--quiet")
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
    Map<String, Object> seen = null;
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (seen == null && System.nanoTime() < deadline && downloader.isAlive()) {
      if (Files.isDirectory(root)) {
        var ls = cli.run("ls", "--json");
        var downloads = (List<Map<String, Object>>) ls.json().get("downloads");
        if (!downloads.isEmpty() && (Long) downloads.get(0).get("bytesDone") > 0) {
          seen = downloads.get(0);
          assertThat((List<Object>) ls.json().get("entries"))
              .as("an unfinished download is no entry")
              .isEmpty();
        }
      }
      Thread.sleep(20);
    }
    assertThat(seen).as("ls saw the download while it ran").isNotNull();
    assertThat(seen)
        .containsEntry("state", "downloading")
        .containsEntry("writerPid", downloader.pid())
        .containsEntry("sizeBytes", modelBytes)
        .containsEntry("source", model.toUri().toString());

    downloader.destroyForcibly().waitFor();
    var afterKill = cli.run("ls", "--json");
    var interrupted = (List<Map<String, Object>>) afterKill.json().get("downloads");
    assertThat(interrupted)
        .singleElement()
        .satisfies(d -> assertThat(d).containsEntry("state", "interrupted"));

    // The same part size: the journal records completed parts of that size.
    var resumed = cli.run("prefetch", model.toUri().toString(), "--part-size", "64KiB", "--json");
    assertThat(resumed.exitCode()).as(resumed.toString()).isZero();
    assertThat((Long) resumed.json().get("downloadedBytes"))
        .as("a resumed download fetches less than the model")
        .isLessThan(modelBytes);
    assertThat(resumed.stderr()).contains("(the rest resumed from an interrupted download)");
    var done = cli.run("ls", "--json");
    assertThat((List<Object>) done.json().get("downloads")).isEmpty();
    assertThat((List<Object>) done.json().get("entries")).hasSize(1);
    assertThat(cli.run("verify", model.toUri().toString()).exitCode()).isZero();
  }

  @Test
  void awaitWaitsForAnotherProcesssDownloadInsteadOfRacingIt() throws Exception {
    Path model = TestModels.sharded(tmp.resolve("store/served"), 16 * 1024); // 32 MiB of tensors
    long modelBytes;
    try (var files = Files.list(model)) {
      modelBytes = files.mapToLong(p -> p.toFile().length()).sum();
    }
    Path root = tmp.resolve("cache");
    // The DaemonSet's prefetch, slowed down by small parts so the serving pod arrives mid-download.
    Process daemonSet = modelcache(
            "--root",
            root.toString(),
            "prefetch",
            model.toUri().toString(),
            "--part-size",
            "16KiB",
            "--concurrency",
            "1",
            "--quiet")
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
    Cli cli = Cli.withRoot(root);
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (System.nanoTime() < deadline && daemonSet.isAlive()) {
      if (Files.isDirectory(root)
          && !((List<?>) cli.run("ls", "--json").json().get("downloads")).isEmpty()) {
        break;
      }
      Thread.sleep(20);
    }
    var awaited = cli.run(
        "await", model.toUri().toString(), "--timeout", "2m", "--fetch-after-timeout", "--json");
    assertThat(daemonSet.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(daemonSet.exitValue()).isZero();
    assertThat(awaited.exitCode()).as(awaited.toString()).isZero();
    assertThat(awaited.json())
        .containsEntry("downloadedBytes", 0L)
        .containsEntry("bytes", modelBytes);
    assertThat(awaited.stderr()).contains("await: pid " + daemonSet.pid() + " is downloading");
  }

  private static List<Object> listEntries(Path root) throws IOException {
    var r = Cli.withRoot(root).run("ls", "--json");
    @SuppressWarnings("unchecked")
    var entries = (List<Object>) r.json().get("entries");
    return entries;
  }
}
