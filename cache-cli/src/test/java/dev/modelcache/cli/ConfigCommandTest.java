package dev.modelcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code modelcache config}: limits stored with the cache, applied by every process, overridden by one. */
class ConfigCommandTest {

  @TempDir
  Path tmp;

  Path root;
  String source;
  long modelBytes;
  Cli cli;

  @BeforeEach
  void setUp() throws Exception {
    root = tmp.resolve("cache");
    Path model = TestModels.sharded(tmp.resolve("store/llama"), 256);
    source = model.toUri().toString();
    try (var files = Files.list(model)) {
      modelBytes = files.mapToLong(p -> p.toFile().length()).sum();
    }
    cli = Cli.withRoot(root);
  }

  @Test
  @SuppressWarnings("unchecked")
  void setGetAndUnsetTheCachesLimits() throws Exception {
    var set = cli.run("config", "set", "max-size", "1.5TiB");
    assertThat(set.exitCode()).as(set.toString()).isZero();
    assertThat(set.stdout()).contains("max-size  1.50 TiB (the cache's setting)");
    assertThat(cli.run("config", "set", "min-free", "5%").exitCode()).isZero();
    assertThat(Files.readString(root.resolve("settings.json")))
        .isEqualTo(
            "{\n  \"version\": 1,\n  \"maxBytes\": 1649267441664,\n  \"minFree\": \"5%\"\n}\n");

    var get = cli.run("config", "get", "--json");
    assertThat(get.json())
        .containsEntry("maxSize", 1649267441664L)
        .containsEntry("minFree", "5%")
        .containsEntry("settingsFile", root.resolve("settings.json").toString());
    var limits = (Map<String, Object>) get.json().get("limits");
    assertThat(limits)
        .containsEntry("maxBytes", 1649267441664L)
        .containsEntry("maxBytesSource", "root_settings")
        .containsEntry("minFree", "5%")
        .containsEntry("minFreeSource", "root_settings");
    long total = Files.getFileStore(root).getTotalSpace();
    assertThat((Long) limits.get("minFreeBytes")).isEqualTo((long) Math.ceil(total * 0.05));

    var ls = cli.run("ls");
    assertThat(ls.stdout())
        .contains("limits: max-size 1.50 TiB (the cache's setting), min-free 5% = ")
        .contains("free on the disk; eviction could free 0 B now");
    var lsJson = cli.run("ls", "--json");
    assertThat(lsJson.json()).containsKeys("usableBytes", "evictableBytes");
    assertThat((Map<String, Object>) lsJson.json().get("limits"))
        .containsEntry("maxBytesSource", "root_settings");

    assertThat(cli.run("config", "unset", "max-size").exitCode()).isZero();
    var after = cli.run("config", "get");
    assertThat(after.stdout()).contains("max-size  none (default)").contains("min-free  5% = ");
  }

  @Test
  void settingsWrittenByOneProcessAreAppliedByAnotherAndAnOverrideOnlyByItsOwn() throws Exception {
    Process p = ProcessTest.modelcache(
            "--root", root.toString(), "config", "set", "max-size", Long.toString(modelBytes / 2))
        .redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();

    var refused = cli.run("prefetch", source);
    assertThat(refused.exitCode()).isEqualTo(1);
    // A progress line may come first on a slow machine; the refusal is one line, and the last.
    assertThat(refused.stderrLines())
        .last()
        .asString()
        .startsWith("modelcache prefetch: ")
        .contains("needs " + modelBytes + " bytes")
        .contains("from the root's settings");
    assertThat(refused.stderrLines())
        .allMatch(
            line -> line.startsWith("prefetch: ") || line.startsWith("modelcache prefetch: "),
            "progress or the error");
    assertThat(refused.stderrLines())
        .filteredOn(line -> line.startsWith("modelcache "))
        .hasSize(1);

    var overridden = cli.run("prefetch", source, "--max-size", "0", "--json");
    assertThat(overridden.exitCode()).as(overridden.toString()).isZero();
    assertThat(overridden.stderr())
        .contains("--max-size 0 (no limit) applies to this process only; the cache's setting is "
            + ByteSize.format(modelBytes / 2));
    assertThat(overridden.json()).containsEntry("downloadedBytes", modelBytes);
    assertThat(cli.run("config", "get").stdout())
        .as("nothing written")
        .contains("max-size  " + ByteSize.format(modelBytes / 2));
  }

  @Test
  void badValuesAreUsageErrorsOnOneLine() throws Exception {
    record Case(List<String> args, String message) {}
    for (Case c : List.of(
        new Case(List.of("config", "set", "max-size", "banana"), "max-size: invalid size 'banana'"),
        new Case(List.of("config", "set", "max-size", "-1"), "invalid size '-1'"),
        new Case(
            List.of("config", "set", "max-size", "0"), "'config unset max-size' removes the limit"),
        new Case(List.of("config", "set", "min-free", "120%"), "below 100%"),
        new Case(List.of("config", "set", "min-free", "100%"), "below 100%"),
        new Case(List.of("config", "set", "min-free", "--", "-5%"), "at least 0%"),
        new Case(List.of("config", "set", "min-free", "lots"), "invalid free space 'lots'"),
        new Case(List.of("config", "set", "colour", "blue"), "unknown setting 'colour'"),
        new Case(List.of("config", "unset", "colour"), "unknown setting 'colour'"),
        new Case(List.of("config", "set", "max-size"), "Missing required parameter"),
        new Case(List.of("prefetch", source, "--max-size", "banana"), "invalid size 'banana'"),
        new Case(List.of("prefetch", source, "--min-free", "100%"), "below 100%"))) {
      var r = cli.run(c.args().toArray(String[]::new));
      assertThat(r.exitCode()).as(c.args() + ": " + r).isEqualTo(2);
      assertThat(r.stderrLines())
          .as(c.args().toString())
          .singleElement()
          .asString()
          .contains(c.message());
    }
    assertThat(Files.exists(root.resolve("settings.json")))
        .as("nothing written by a bad value")
        .isFalse();
  }

  @Test
  void aSettingsFileThatDoesNotParseIsReportedNamingIt() throws Exception {
    assertThat(cli.run("config", "set", "max-size", "10GiB").exitCode()).isZero();
    Files.writeString(root.resolve("settings.json"), "{\"version\": 1, \"maxBytes\": \"ten\"}");
    for (String[] args : List.of(
        new String[] {"ls"}, new String[] {"prefetch", source}, new String[] {"config", "get"})) {
      var r = cli.run(args);
      assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
      assertThat(r.stderrLines())
          .singleElement()
          .asString()
          .contains(root.resolve("settings.json").toString())
          .contains("\"maxBytes\" must be a number of bytes");
    }
    var rewritten = cli.run("config", "set", "max-size", "20GiB");
    assertThat(rewritten.exitCode())
        .as("config set cannot mend it either: %s", rewritten)
        .isEqualTo(1);
  }
}
