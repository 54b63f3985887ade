package dev.modelcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * No cluster runs here, so the recipes in examples/kubernetes/ are checked the next best way:
 * every {@code modelcache} command line in them goes through the command's own parser, and the
 * pods around them are checked for what a node-local cache needs.
 */
class KubernetesRecipesTest {

  static final Path EXAMPLES = Path.of("..", "examples", "kubernetes");
  static List<KubernetesRecipes.Invocation> all;

  @BeforeAll
  static void readManifests() throws IOException {
    all = new ArrayList<>();
    try (Stream<Path> files = Files.list(EXAMPLES)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList()) {
        all.addAll(KubernetesRecipes.invocations(f));
      }
    }
  }

  @Test
  void everyCommandLineParsesAndFitsItsPod() {
    assertThat(all).hasSizeGreaterThanOrEqualTo(6);
    List<String> problems = new ArrayList<>();
    for (var inv : all) {
      problems.addAll(KubernetesRecipes.problems(inv));
    }
    assertThat(problems).isEmpty();
  }

  @Test
  void theRecipesCoverTheNodeCachePatterns() {
    // An init container that prefetches into the node's cache.
    assertThat(all).anySatisfy(inv -> {
      assertThat(inv.init()).isTrue();
      assertThat(inv.subcommand()).isEqualTo("prefetch");
    });
    // A DaemonSet that keeps models cached and pinned.
    assertThat(all).anySatisfy(inv -> {
      assertThat(inv.kind()).isEqualTo("DaemonSet");
      assertThat(inv.subcommand()).isEqualTo("prefetch");
      assertThat(inv.args()).contains("--pin");
    });
    // A serving pod that awaits the DaemonSet's download instead of racing it, with a fallback.
    assertThat(all).anySatisfy(inv -> {
      assertThat(inv.init()).isTrue();
      assertThat(inv.subcommand()).isEqualTo("await");
      assertThat(inv.args()).contains("--fetch-after-timeout");
      assertThat(inv.args()).anyMatch(a -> a.startsWith("--timeout"));
    });
    // The warm step, in an init container after the one that fetches.
    assertThat(all.stream().filter(inv -> inv.subcommand().equals("warm") && inv.init())).isNotEmpty();
    for (var warm : all.stream().filter(inv -> inv.subcommand().equals("warm")).toList()) {
      var names = warm.podContainers().stream().map(KubernetesRecipes.Container::name).toList();
      var fetcher = all.stream()
          .filter(inv -> inv.where().startsWith(warm.where().substring(0, warm.where().indexOf(", container"))))
          .filter(inv -> List.of("prefetch", "await").contains(inv.subcommand()) && inv.init())
          .findFirst()
          .orElseThrow();
      String fetcherName = fetcher.where().substring(fetcher.where().lastIndexOf(' ') + 1);
      String warmName = warm.where().substring(warm.where().lastIndexOf(' ') + 1);
      assertThat(names.indexOf(fetcherName)).isLessThan(names.indexOf(warmName));
    }
  }

  @Test
  void theCheckCatchesBrokenRecipes() {
    String broken =
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: broken}
        spec:
          initContainers:
            - name: typo
              image: registry.example.com/modelcache:0.1.0
              command: ["modelcache", "prefetch", "s3://m/llama/", "--concurency", "8"]
              volumeMounts: [{name: cache, mountPath: /var/cache/modelcache}]
            - name: no-timeout
              image: registry.example.com/modelcache:0.1.0
              args: ["await", "s3://m/llama/"]
              volumeMounts: [{name: cache, mountPath: /var/cache/modelcache}]
            - name: private-cache
              image: registry.example.com/modelcache:0.1.0
              command: ["sh", "-c", "modelcache prefetch s3://m/llama/ --root /scratch && echo done"]
              volumeMounts: [{name: scratch, mountPath: /scratch}]
            - name: dangling-link
              image: registry.example.com/modelcache:0.1.0
              command: ["modelcache", "prefetch", "s3://m/llama/", "--link", "/models/llama"]
              volumeMounts:
                - {name: cache, mountPath: /var/cache/modelcache}
                - {name: models, mountPath: /models}
          containers:
            - name: server
              image: registry.example.com/llm-server:1.0
              volumeMounts: [{name: models, mountPath: /models}]
          volumes:
            - {name: cache, hostPath: {path: /var/cache/modelcache}}
            - {name: scratch, emptyDir: {}}
            - {name: models, emptyDir: {}}
        """;
    var invocations = KubernetesRecipes.invocations("broken.yaml", broken);
    assertThat(invocations).hasSize(4);
    List<String> problems = new ArrayList<>();
    invocations.forEach(inv -> problems.addAll(KubernetesRecipes.problems(inv)));
    assertThat(problems).anySatisfy(p -> assertThat(p).contains("container typo").contains("--concurency"));
    assertThat(problems).anySatisfy(p -> assertThat(p).contains("container no-timeout").contains("--timeout"));
    assertThat(problems).anySatisfy(p -> assertThat(p).contains("container private-cache").contains("not on a hostPath volume"));
    assertThat(problems).anySatisfy(p -> assertThat(p).contains("container server").contains("dangles"));
    assertThat(problems).hasSize(4);
  }

  @Test
  void shellScriptsAreSplitIntoCommandLines() {
    assertThat(KubernetesRecipes.commandLines(List.of("/bin/sh", "-c",
            "set -e\nwhile true; do modelcache prefetch 's3://b/a b/' --pin && exec modelcache ls; sleep 5; done")))
        .containsExactly(List.of("prefetch", "s3://b/a b/", "--pin"), List.of("ls"));
  }

  @Test
  void theImageRunsThisMainClass() throws IOException {
    String dockerfile = Files.readString(Path.of("..", "Dockerfile"));
    assertThat(dockerfile).contains(Main.class.getName()).contains("ENTRYPOINT [\"modelcache\"]").contains("jlink");
  }
}
