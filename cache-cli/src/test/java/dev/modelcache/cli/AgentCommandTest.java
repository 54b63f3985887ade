package dev.modelcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code modelcache agent}: its command line, and a run without KServe as a real process. */
class AgentCommandTest {

  @TempDir
  Path tmp;

  @Test
  void withoutANodeNameOrAModelsFileItIsAUsageError() {
    var r = Cli.withRoot(tmp).run("agent");
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.stderr()).contains("NODE_NAME").contains("--models FILE");
  }

  @Test
  void optionsThatNeedKServeAreRefusedWithAModelsFile() throws Exception {
    Path models = Files.writeString(tmp.resolve("models.yaml"), "[]\n");
    var r = Cli.withRoot(tmp.resolve("root"))
        .run("agent", "--models", models.toString(), "--label-node");
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.stderr()).contains("--label-node needs KServe");
    r = Cli.withRoot(tmp.resolve("root"))
        .run("agent", "--models", tmp.resolve("missing.yaml").toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("missing.yaml: no such file");
    r = Cli.withRoot(tmp.resolve("root")).run("agent", "--models", models.toString(), "--json");
    assertThat(r.exitCode()).isEqualTo(2);
  }

  @Test
  void withAModelsFileItKeepsTheModelsLinkedUntilSigterm() throws Exception {
    Path model = TestModels.sharded(tmp.resolve("src/llama"), 64);
    Path models = Files.writeString(
        tmp.resolve("models.yaml"),
        "models:\n  - name: llama\n    source: " + model.toUri() + "\n");
    Path root = tmp.resolve("root");
    Path log = tmp.resolve("agent.log");
    Process agent = ProcessTest.modelcache(
            "agent",
            "--root",
            root.toString(),
            "--models",
            models.toString(),
            "--port",
            "0",
            "--resync",
            "200ms")
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
    try {
      Path link = root.resolve("models/llama");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!Files.isSymbolicLink(link) && agent.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      String out = Files.readString(log, StandardCharsets.UTF_8);
      assertThat(Files.isSymbolicLink(link)).as(out).isTrue();
      try (var files = Files.list(model)) {
        for (Path f : files.toList()) {
          assertThat(Files.mismatch(f, link.resolve(f.getFileName().toString())))
              .isEqualTo(-1);
        }
      }
      assertThat(out)
          .contains("event=agent_started")
          .contains("mode=models-file")
          .contains("event=linked");
      assertThat(Files.exists(link, LinkOption.NOFOLLOW_LINKS)).isTrue();
    } finally {
      agent.destroy(); // SIGTERM
      assertThat(agent.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(agent.exitValue()).as(Files.readString(log)).isIn(0, 143);
  }

  @Test
  void theAgentRecipesCommandLinesParseAndKeepTheCacheOnAHostPath() throws Exception {
    Path dir = Path.of("..", "examples", "kubernetes", "kserve-agent");
    List<KubernetesRecipes.Invocation> found = new ArrayList<>();
    try (var files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        found.addAll(KubernetesRecipes.invocations(f));
      }
    }
    assertThat(found)
        .extracting(KubernetesRecipes.Invocation::subcommand)
        .containsExactly("agent", "agent");
    List<String> problems = new ArrayList<>();
    found.forEach(inv -> problems.addAll(KubernetesRecipes.problems(inv)));
    assertThat(problems).isEmpty();
  }
}
