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
      for (Path f : files
          .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
          .sorted()
          .toList()) {
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
    // The node's limits set once, by the DaemonSet, for every process on the node.
    assertThat(all)
        .filteredOn(inv -> inv.subcommand().equals("config"))
        .extracting(inv -> inv.kind() + " " + String.join(" ", inv.args()))
        .containsExactly(
            "DaemonSet config set max-size 1.5TiB", "DaemonSet config set min-free 5%");
    // A serving pod that awaits the DaemonSet's download instead of racing it, with a fallback.
    assertThat(all).anySatisfy(inv -> {
      assertThat(inv.init()).isTrue();
      assertThat(inv.subcommand()).isEqualTo("await");
      assertThat(inv.args()).contains("--fetch-after-timeout");
      assertThat(inv.args()).anyMatch(a -> a.startsWith("--timeout"));
    });
    // A serving container that runs its server under exec, which leases the model while it runs.
    assertThat(all).anySatisfy(inv -> {
      assertThat(inv.kind()).isEqualTo("Deployment");
      assertThat(inv.init()).isFalse();
      assertThat(inv.subcommand()).isEqualTo("exec");
      assertThat(inv.childCommand()).isNotEmpty();
      assertThat(inv.childCommand()).anyMatch(word -> word.contains("llm-server"));
    });
    // Its two ways to the model's directory: a --link at a fixed path, or MODELCACHE_MODEL_DIR
    // read by a shell (Kubernetes itself does not expand a variable that exec sets).
    assertThat(all).anySatisfy(inv -> {
      assertThat(inv.subcommand()).isEqualTo("exec");
      assertThat(inv.ownArgs()).anyMatch(a -> a.startsWith("--link"));
    });
    assertThat(all).anySatisfy(inv -> {
      assertThat(inv.subcommand()).isEqualTo("exec");
      assertThat(inv.childCommand()).startsWith("/bin/sh", "-c");
      assertThat(inv.childCommand().get(2)).contains("\"$" + ExecCommand.MODEL_DIR_VARIABLE + "\"");
    });
    // A server that takes traffic only once healthy and warmed up: exec waits for its health URL,
    // sends the warmup requests and creates the ready file that its probes test.
    assertThat(all).anySatisfy(inv -> {
      assertThat(inv.kind()).isEqualTo("Deployment");
      assertThat(inv.subcommand()).isEqualTo("exec");
      assertThat(inv.ownArgs())
          .anyMatch(a -> a.startsWith("--wait-http"))
          .anyMatch(a -> a.startsWith("--warmup-http"))
          .anyMatch(a -> a.startsWith("--warmup-body=@"))
          .anyMatch(a -> a.startsWith("--ready-file"));
      assertThat(inv.container().probes()).containsKeys("startupProbe", "readinessProbe");
    });
    // Only the DaemonSet pins: a serving pod's model is leased while served, and evictable after.
    assertThat(all.stream().filter(inv -> inv.ownArgs().contains("--pin")))
        .isNotEmpty()
        .allSatisfy(inv -> assertThat(inv.kind()).isEqualTo("DaemonSet"));
    // The warm step, in an init container after the one that fetches.
    assertThat(all.stream().filter(inv -> inv.subcommand().equals("warm") && inv.init()))
        .isNotEmpty();
    for (var warm : all.stream().filter(inv -> inv.subcommand().equals("warm")).toList()) {
      var names =
          warm.podContainers().stream().map(KubernetesRecipes.Container::name).toList();
      var fetcher = all.stream()
          .filter(inv -> inv.where()
              .startsWith(warm.where().substring(0, warm.where().indexOf(", container"))))
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
    String broken = """
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
            - name: read-only-lease
              image: registry.example.com/modelcache:0.1.0
              args: ["warm", "s3://m/llama/"]
              volumeMounts: [{name: cache, mountPath: /var/cache/modelcache, readOnly: true}]
          containers:
            - name: server
              image: registry.example.com/llm-server:1.0
              volumeMounts: [{name: models, mountPath: /models}]
            - name: no-delimiter
              image: registry.example.com/llm-server-modelcache:1.0
              command: ["modelcache", "exec", "s3://m/llama/", "llm-server", "/models/llama"]
              volumeMounts: [{name: cache, mountPath: /var/cache/modelcache}]
            - name: exec-read-only
              image: registry.example.com/llm-server-modelcache:1.0
              command: ["modelcache", "exec", "s3://m/llama/", "--", "sh", "-c", 'exec llm-server --model "$MODELCACHE_MODEL_DIR"']
              volumeMounts: [{name: cache, mountPath: /var/cache/modelcache, readOnly: true}]
            - name: ready-file-untested
              image: registry.example.com/llm-server-modelcache:1.0
              command: ["modelcache", "exec", "s3://m/llama/", "--ready-file=/tmp/ready", "--", "llm-server"]
              readinessProbe: {exec: {command: [test, -f, /tmp/other]}}
              volumeMounts: [{name: cache, mountPath: /var/cache/modelcache}]
            - name: ready-file-tested
              image: registry.example.com/llm-server-modelcache:1.0
              command: ["modelcache", "exec", "s3://m/llama/", "--wait-http=http://127.0.0.1:8080/health",
                        "--wait-timeout=2m", "--ready-file=/tmp/ready", "--", "llm-server"]
              startupProbe: {exec: {command: [sh, -c, "test -f /tmp/ready"]}, periodSeconds: 5, failureThreshold: 30}
              volumeMounts: [{name: cache, mountPath: /var/cache/modelcache}]
            - name: startup-too-short
              image: registry.example.com/llm-server-modelcache:1.0
              command: ["modelcache", "exec", "s3://m/llama/", "--wait-http=http://127.0.0.1:8080/health",
                        "--ready-file=/tmp/ready", "--", "llm-server"]
              startupProbe: {exec: {command: [test, -f, /tmp/ready]}, periodSeconds: 10, failureThreshold: 30}
              volumeMounts: [{name: cache, mountPath: /var/cache/modelcache}]
          volumes:
            - {name: cache, hostPath: {path: /var/cache/modelcache}}
            - {name: scratch, emptyDir: {}}
            - {name: models, emptyDir: {}}
        """;
    var invocations = KubernetesRecipes.invocations("broken.yaml", broken);
    assertThat(invocations).hasSize(10);
    List<String> problems = new ArrayList<>();
    invocations.forEach(inv -> problems.addAll(KubernetesRecipes.problems(inv)));
    assertThat(problems)
        .anySatisfy(p -> assertThat(p).contains("container typo").contains("--concurency"));
    assertThat(problems)
        .anySatisfy(p -> assertThat(p).contains("container no-timeout").contains("--timeout"));
    assertThat(problems)
        .anySatisfy(p ->
            assertThat(p).contains("container private-cache").contains("not on a hostPath volume"));
    assertThat(problems)
        .anySatisfy(p -> assertThat(p).contains("container server").contains("dangles"));
    assertThat(problems)
        .anySatisfy(
            p -> assertThat(p).contains("container read-only-lease").contains("mounted read-only"));
    assertThat(problems)
        .anySatisfy(
            p -> assertThat(p).contains("container no-delimiter").contains("must follow '--'"));
    // The $ of a command exec runs is its shell's business; the read-only cache is the problem.
    assertThat(problems)
        .anySatisfy(p -> assertThat(p)
            .contains("container exec-read-only")
            .contains("mounted read-only")
            .contains("a lease is a file"));
    assertThat(problems)
        .anySatisfy(
            p -> assertThat(p)
                .contains("container ready-file-untested")
                .contains(
                    "--ready-file /tmp/ready: no readinessProbe or startupProbe of the container tests it"));
    // 30 x 10 s is 5 minutes, less than the default --wait-timeout of 10 minutes.
    assertThat(problems)
        .anySatisfy(p -> assertThat(p)
            .contains("container startup-too-short")
            .contains("the startupProbe gives up after 5m00s, before --wait-timeout 10m00s"));
    assertThat(problems).noneSatisfy(p -> assertThat(p).contains("container ready-file-tested"));
    assertThat(problems).hasSize(9);
  }

  @Test
  void shellScriptsAreSplitIntoCommandLines() {
    assertThat(
            KubernetesRecipes.commandLines(
                List.of(
                    "/bin/sh",
                    "-c",
                    "set -e\nwhile true; do modelcache prefetch 's3://b/a b/' --pin && exec modelcache ls; sleep 5; done")))
        .containsExactly(List.of("prefetch", "s3://b/a b/", "--pin"), List.of("ls"));
  }

  @Test
  void theServerImageCopiesWhatTheModelcacheImageHolds() throws IOException {
    String serverImage = Files.readString(EXAMPLES.resolve("server-image.Dockerfile"));
    String dockerfile = Files.readString(Path.of("..", "Dockerfile"));
    String finalStage = dockerfile.substring(dockerfile.lastIndexOf("\nFROM "));
    List<String> copies =
        serverImage.lines().filter(l -> l.startsWith("COPY --from=modelcache ")).toList();
    assertThat(copies).hasSize(3);
    for (String copy : copies) {
      String[] words = copy.split("\\s+");
      assertThat(words).hasSize(4);
      assertThat(words[3]).as("copied to the same path: " + copy).isEqualTo(words[2]);
      assertThat(finalStage).as("the modelcache image has " + words[2]).contains(words[2]);
    }
    assertThat(copies).anySatisfy(c -> assertThat(c).endsWith(" /usr/local/bin/modelcache"));
    // The recipes that run exec say where their server's image comes from.
    assertThat(Files.readString(EXAMPLES.resolve("prefetch-init-container.yaml")))
        .contains("server-image.Dockerfile");
    assertThat(Files.readString(EXAMPLES.resolve("serving-with-await.yaml")))
        .contains("server-image.Dockerfile");
    assertThat(Files.readString(EXAMPLES.resolve("serving-vllm-warmup.yaml")))
        .contains("server-image.Dockerfile");
  }

  @Test
  void theImageRunsThisMainClass() throws IOException {
    String dockerfile = Files.readString(Path.of("..", "Dockerfile"));
    assertThat(dockerfile)
        .contains(Main.class.getName())
        .contains("ENTRYPOINT [\"modelcache\"]")
        .contains("jlink");
  }
}
