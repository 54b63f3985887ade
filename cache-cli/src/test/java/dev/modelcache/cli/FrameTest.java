package dev.modelcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The command's frame: help, version, usage errors, and progress reporting. */
class FrameTest {

  @Test
  void helpListsCommandsOnStdout() {
    var r = Cli.plain().run("--help");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout()).contains("Usage: modelcache").contains("--root").contains("--json").contains("Exit status");
    assertThat(r.stderr()).isEmpty();
  }

  @Test
  void everyCommandHasHelp() {
    var top = Cli.plain().run("--help");
    String commands = top.stdout().substring(top.stdout().indexOf("Commands:"));
    var names = commands.lines().filter(l -> l.matches("  [a-z]+  .*")).map(l -> l.strip().split(" ")[0]).toList();
    assertThat(names).contains("prefetch", "await", "ls", "evict", "verify", "inspect", "load", "warm");
    for (String name : names) {
      var r = Cli.plain().run(name, "--help");
      assertThat(r.exitCode()).as(name + ": " + r).isZero();
      assertThat(r.stdout()).startsWith("Usage: modelcache " + name).contains("--root").contains("--json");
      assertThat(r.stderr()).isEmpty();
    }
  }

  @Test
  void versionNamesTheProjectVersion() {
    var r = Cli.plain().run("--version");
    assertThat(r.exitCode()).isZero();
    assertThat(r.stdout()).startsWith("modelcache 0.").contains("Java 25");
  }

  @Test
  void noCommandIsAUsageErrorOnOneLine() {
    var r = Cli.plain().run();
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderrLines()).hasSize(1);
    assertThat(r.stderr()).startsWith("modelcache: missing command");
    assertThat(r.stdout()).isEmpty();
  }

  @Test
  void unknownOptionIsAUsageErrorOnOneLine() {
    var r = Cli.plain().run("--frobnicate");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderrLines()).hasSize(1);
    assertThat(r.stderr()).contains("Unknown option: '--frobnicate'").contains("see 'modelcache --help'");
    assertThat(r.stdout()).isEmpty();
  }

  @Test
  void unknownCommandIsAUsageErrorOnOneLine() {
    var r = Cli.plain().run("frobnicate");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderrLines()).hasSize(1);
    assertThat(r.stderr()).contains("'frobnicate'");
  }

  @Test
  void plainProgressWritesLinesAndASummary() throws Exception {
    var bytes = new ByteArrayOutputStream();
    try (var err = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      try (var p = Progress.start(err, Progress.Style.LINES, "download", 4L << 20, Duration.ofMillis(20))) {
        for (int i = 0; i < 4; i++) {
          p.advance(1L << 20);
          Thread.sleep(40);
        }
      }
    }
    String text = bytes.toString(StandardCharsets.UTF_8);
    assertThat(text).doesNotContain("\r");
    assertThat(text.lines().filter(l -> l.startsWith("download: ") && l.contains(" of 4.00 MiB")).count())
        .isGreaterThanOrEqualTo(2);
    assertThat(text.lines().reduce((a, b) -> b).orElseThrow()).startsWith("download: 4.00 MiB in ");
  }

  @Test
  void terminalProgressRedrawsOneBar() throws Exception {
    var bytes = new ByteArrayOutputStream();
    try (var err = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      try (var p = Progress.start(err, Progress.Style.BAR, "load", 2L << 20, Duration.ofSeconds(5))) {
        p.advance(1L << 20);
        Thread.sleep(450);
        p.advance(1L << 20);
      }
    }
    String text = bytes.toString(StandardCharsets.UTF_8);
    assertThat(text).startsWith("\rload [").contains(" 50% ").contains("100% 2.00 MiB / 2.00 MiB");
    assertThat(text.chars().filter(c -> c == '\n').count()).isEqualTo(1);
    assertThat(text).endsWith(System.lineSeparator());
  }

  @Test
  void progressLinesShowRateAndEta() {
    assertThat(Progress.plainLine("prefetch", 1L << 30, 4L << 30, 512.0 * (1 << 20)))
        .isEqualTo("prefetch: 1.00 GiB of 4.00 GiB (25%), 512 MiB/s, ETA 6s");
    assertThat(Progress.barLine("prefetch", 1L << 30, 4L << 30, 512.0 * (1 << 20)))
        .isEqualTo("prefetch [######..................]  25% 1.00 GiB / 4.00 GiB  512 MiB/s  ETA 6s");
  }

  @Test
  void quietShowsNoProgress() {
    var bytes = new ByteArrayOutputStream();
    try (var err = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      try (var p = Progress.start(err, Progress.Style.NONE, "x", 10, Duration.ofMillis(1))) {
        p.advance(10);
      }
    }
    assertThat(bytes.size()).isZero();
  }
}
