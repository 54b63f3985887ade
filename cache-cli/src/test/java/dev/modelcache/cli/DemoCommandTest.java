package dev.modelcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code modelcache demo} end to end: generate, serve from S3, download, load, and clean up. */
class DemoCommandTest {

  @TempDir
  Path tmp;

  @Test
  @SuppressWarnings("unchecked")
  void demoPlaysTheColdStartStoryAndCleansUp() throws Exception {
    var r = Cli.plain().run("demo", "--size", "64MiB", "--work-dir", tmp.toString(), "--json");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    Map<String, Object> json = r.json();
    var model = (Map<String, Object>) json.get("model");
    long bytes = (Long) model.get("bytes");
    assertThat(bytes).isBetween(48L << 20, 72L << 20);
    assertThat((Long) model.get("files")).isGreaterThanOrEqualTo(2);
    assertThat((Long) model.get("layers")).isGreaterThanOrEqualTo(8);
    assertThat((String) json.get("endpoint")).startsWith("http://127.0.0.1:");

    var phases = (List<Map<String, Object>>) json.get("phases");
    assertThat(phases)
        .extracting(p -> p.get("pod") + " / " + p.get("step"))
        .anyMatch(s -> s.startsWith("pod, no node cache / download from S3"))
        .anyMatch(s -> s.startsWith("DaemonSet / prefetch"))
        .anyMatch(s -> s.startsWith("pod, node cache / ensure: cache hit"))
        .anyMatch(s -> s.startsWith("second pod, same node / load"));
    for (var p : phases) {
      assertThat(((Number) p.get("seconds")).doubleValue()).isNotNegative();
      long phaseBytes = (Long) p.get("bytes");
      String step = (String) p.get("step");
      if (step.startsWith("load")) {
        assertThat(phaseBytes).as(step).isEqualTo(bytes); // every tensor byte
      } else if (step.startsWith("download") || step.startsWith("prefetch")) {
        assertThat(phaseBytes)
            .as(step)
            .isBetween(bytes, bytes + (1 << 20)); // plus index and config.json
      } else {
        assertThat(phaseBytes).as(step).isZero();
      }
    }
    // Each pod's "ready after" is the sum of its steps, and the summary repeats it.
    var ready = (Map<String, Object>) json.get("readySeconds");
    assertThat(readyOf(phases, "pod, no node cache"))
        .isEqualTo(seconds(ready.get("withoutCache")))
        .isCloseTo(
            sumOfSteps(phases, "pod, no node cache"), org.assertj.core.data.Offset.offset(1e-6));
    assertThat(readyOf(phases, "pod, node cache"))
        .isEqualTo(seconds(ready.get("withCache")))
        .isCloseTo(
            sumOfSteps(phases, "pod, node cache"), org.assertj.core.data.Offset.offset(1e-6));
    assertThat(readyOf(phases, "second pod, same node"))
        .isEqualTo(seconds(ready.get("secondPod")))
        .isCloseTo(
            sumOfSteps(phases, "second pod, same node"), org.assertj.core.data.Offset.offset(1e-6));

    try (var left = Files.list(tmp)) {
      assertThat(left.toList()).as("the work directory is removed").isEmpty();
    }
  }

  private static double seconds(Object value) {
    return ((Number) value).doubleValue();
  }

  private static double readyOf(List<Map<String, Object>> phases, String pod) {
    return phases.stream()
        .filter(p -> p.get("pod").equals(pod) && p.get("step").equals("ready after"))
        .mapToDouble(p -> seconds(p.get("seconds")))
        .findFirst()
        .orElseThrow();
  }

  private static double sumOfSteps(List<Map<String, Object>> phases, String pod) {
    return phases.stream()
        .filter(p -> p.get("pod").equals(pod) && !p.get("step").equals("ready after"))
        .mapToDouble(p -> seconds(p.get("seconds")))
        .sum();
  }

  @Test
  void tooSmallASizeIsAUsageError() {
    var r = Cli.plain().run("demo", "--size", "1MiB");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderrLines())
        .containsExactly("modelcache demo: --size must be at least 16MiB, was 1.00 MiB");
  }
}
