package dev.modelcache.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Runs the unit tests of {@code benchmarks/report.py} (the report generator of
 * {@code benchmarks/bench}) with {@code python3 -m unittest}, so that the build fails when its
 * ratio or table logic breaks. Skipped, saying so, where python3 is not installed.
 */
class ReportScriptTest {

  @Test
  void reportGeneratorPassesItsUnitTests() throws IOException, InterruptedException {
    Path tests = Path.of("src/test/python");
    assertThat(tests.resolve("test_report.py")).exists();
    assertThat(Path.of("report.py")).exists();
    Assumptions.assumeTrue(
        python3Available(), "python3 is not on the PATH: report.py's tests not run");
    Path log = Files.createTempFile("report-tests", ".log");
    try {
      ProcessBuilder builder =
          new ProcessBuilder("python3", "-m", "unittest", "discover", "-s", tests.toString(), "-v");
      builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
      Process process =
          builder.redirectErrorStream(true).redirectOutput(log.toFile()).start();
      assertThat(process.waitFor(120, TimeUnit.SECONDS))
          .as("python3 -m unittest finished within 120 s")
          .isTrue();
      String output = Files.readString(log, StandardCharsets.UTF_8);
      assertThat(process.exitValue())
          .as("python3 -m unittest exit status; its output:%n%s", output)
          .isZero();
      assertThat(output).contains("OK").doesNotContain("Ran 0 tests");
    } finally {
      Files.deleteIfExists(log);
    }
  }

  private static boolean python3Available() throws InterruptedException {
    try {
      Process probe = new ProcessBuilder("python3", "--version")
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start();
      return probe.waitFor(30, TimeUnit.SECONDS) && probe.exitValue() == 0;
    } catch (IOException e) {
      return false;
    }
  }
}
