package dev.modelcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command's frame: help, version, usage errors, and progress reporting. */
class FrameTest {

  @Test
  void helpListsCommandsOnStdout() {
    var r = Cli.plain().run("--help");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout())
        .contains("Usage: modelcache")
        .contains("--root")
        .contains("--json")
        .contains("Exit status");
    assertThat(r.stderr()).isEmpty();
  }

  @Test
  void everyCommandHasHelp() {
    var top = Cli.plain().run("--help");
    String commands = top.stdout().substring(top.stdout().indexOf("Commands:"));
    var names = commands
        .lines()
        .filter(l -> l.matches("  [a-z]+  .*"))
        .map(l -> l.strip().split(" ")[0])
        .toList();
    assertThat(names)
        .contains("prefetch", "await", "ls", "evict", "verify", "inspect", "load", "warm");
    for (String name : names) {
      var r = Cli.plain().run(name, "--help");
      assertThat(r.exitCode()).as(name + ": " + r).isZero();
      assertThat(r.stdout())
          .startsWith("Usage: modelcache " + name)
          .contains("--root")
          .contains("--json");
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
    assertThat(r.stderr())
        .contains("Unknown option: '--frobnicate'")
        .contains("see 'modelcache --help'");
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
  void aCommandLineBuildsOnlyTheSubcommandItNames() {
    var app = new ModelcacheCommand(CommandContext.system());
    var top = new CommandLine(new ModelcacheCommand(CommandContext.system())).getCommandSpec();
    assertThat(Main.namedSubcommand(top, "prefetch", "s3://b/m/")).isEqualTo("prefetch");
    assertThat(Main.namedSubcommand(top, "--root", "/c", "--quiet", "ls")).isEqualTo("ls");
    assertThat(Main.namedSubcommand(top, "--root=/c", "evict", "x")).isEqualTo("evict");
    // An option's value is not the subcommand, even when it reads as one.
    assertThat(Main.namedSubcommand(top, "--root", "prefetch", "ls")).isEqualTo("ls");
    // No subcommand, an unknown one, or an option the top level does not know (it may take the
    // next word as its value): every subcommand, as picocli would see them all.
    assertThat(Main.namedSubcommand(top)).isNull();
    assertThat(Main.namedSubcommand(top, "--help")).isNull();
    assertThat(Main.namedSubcommand(top, "prefech", "s3://b/m/")).isNull();
    assertThat(Main.namedSubcommand(top, "--frobnicate", "ls")).isNull();
    assertThat(Main.namedSubcommand(top, "--", "ls")).isNull();

    assertThat(Main.commandLineFor(app, "--root", "/c", "prefetch", "s3://b/m/").getSubcommands())
        .containsOnlyKeys("prefetch");
    assertThat(Main.commandLineFor(app, "--help").getSubcommands())
        .containsOnlyKeys(Main.commandLine(app).getSubcommands().keySet());
  }

  @Test
  void everySubcommandIsRegisteredUnderItsOwnName() {
    var all = Main.commandLine(new ModelcacheCommand(CommandContext.system())).getSubcommands();
    assertThat(all).hasSize(12);
    all.forEach((name, sub) -> assertThat(sub.getCommandSpec()
            .userObject()
            .getClass()
            .getAnnotation(CommandLine.Command.class)
            .name())
        .isEqualTo(name));
  }

  /** A ticker the test drives by hand, and the clock it moves on. */
  private static final class ManualTicker implements Progress.Ticker {
    private Runnable redraw;
    private Duration period;
    private boolean stopped;
    private long nanos = 1_000_000_000L; // not zero, so a clock read as zero would show

    @Override
    public Runnable start(Runnable redraw, Duration period) {
      assertThat(this.redraw).as("started once").isNull();
      this.redraw = redraw;
      this.period = period;
      return () -> stopped = true;
    }

    /** Lets {@code elapsed} pass, then redraws as the timer would. */
    void tick(Duration elapsed) {
      nanos += elapsed.toNanos();
      assertThat(stopped).as("no redraw after close").isFalse();
      redraw.run();
    }

    long nanoTime() {
      return nanos;
    }
  }

  @Test
  void plainProgressWritesALinePerIntervalWithTheRateOverTheLastSecondsAndASummary() {
    var bytes = new ByteArrayOutputStream();
    var ticker = new ManualTicker();
    try (var err = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      try (var p = new Progress(
          err,
          Progress.Style.LINES,
          "download",
          4L << 20,
          Duration.ofSeconds(20),
          ticker,
          ticker::nanoTime)) {
        assertThat(ticker.period).isEqualTo(Duration.ofSeconds(20));
        p.advance(1L << 20);
        ticker.tick(Duration.ofSeconds(1));
        p.advance(3L << 20);
        ticker.tick(Duration.ofSeconds(1)); // 3 MiB in the last second
        ticker.tick(Duration.ofSeconds(2)); // nothing more: 3 MiB over the 3 s window
      }
    }
    assertThat(ticker.stopped).isTrue();
    assertThat(bytes.toString(StandardCharsets.UTF_8).lines())
        .containsExactly(
            "download: 1.00 MiB of 4.00 MiB (25%), 1.00 MiB/s, ETA 3s",
            "download: 4.00 MiB of 4.00 MiB (100%), 3.00 MiB/s",
            "download: 4.00 MiB of 4.00 MiB (100%), 1.00 MiB/s",
            "download: 4.00 MiB in 4.00 s (1.00 MiB/s)");
  }

  @Test
  void terminalProgressRedrawsOneBarInPlaceAndEndsItWithOneNewline() {
    var bytes = new ByteArrayOutputStream();
    var ticker = new ManualTicker();
    try (var err = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      try (var p = new Progress(
          err,
          Progress.Style.BAR,
          "load",
          2L << 20,
          Duration.ofSeconds(5),
          ticker,
          ticker::nanoTime)) {
        assertThat(ticker.period)
            .as("a bar redraws at its own rate")
            .isEqualTo(Progress.BAR_REFRESH);
        p.advance(1L << 20);
        ticker.tick(Duration.ofMillis(500));
        p.advance(1L << 20);
        ticker.tick(Duration.ofMillis(500));
      }
    }
    String first = "load [############............]  50% 1.00 MiB / 2.00 MiB  2.00 MiB/s  ETA 1s";
    String second = "load [########################] 100% 2.00 MiB / 2.00 MiB  2.00 MiB/s";
    assertThat(Progress.barLine("load", 1L << 20, 2L << 20, 2 << 20)).isEqualTo(first);
    assertThat(bytes.toString(StandardCharsets.UTF_8))
        .isEqualTo("\r" + first + "\r" + second + " ".repeat(first.length() - second.length())
            + "\r" + second + System.lineSeparator());
  }

  @Test
  void progressLinesShowRateAndEta() {
    assertThat(Progress.plainLine("prefetch", 1L << 30, 4L << 30, 512.0 * (1 << 20)))
        .isEqualTo("prefetch: 1.00 GiB of 4.00 GiB (25%), 512 MiB/s, ETA 6s");
    assertThat(Progress.barLine("prefetch", 1L << 30, 4L << 30, 512.0 * (1 << 20)))
        .isEqualTo(
            "prefetch [######..................]  25% 1.00 GiB / 4.00 GiB  512 MiB/s  ETA 6s");
  }

  @Test
  void quietShowsNoProgress() {
    var bytes = new ByteArrayOutputStream();
    try (var err = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      var ticker = new ManualTicker();
      try (var p = new Progress(
          err, Progress.Style.NONE, "x", 10, Duration.ofMillis(1), ticker, ticker::nanoTime)) {
        p.advance(10);
      }
      assertThat(ticker.redraw).as("nothing is scheduled").isNull();
    }
    assertThat(bytes.size()).isZero();
  }
}
