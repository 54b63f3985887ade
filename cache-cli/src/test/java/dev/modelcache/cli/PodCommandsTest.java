package dev.modelcache.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command as pods run it: in a PID namespace of its own, with the node's cache root mounted at
 * another path than the host's.
 */
class PodCommandsTest {

  @TempDir
  Path tmp;

  private static boolean namespacesWork() throws Exception {
    Process p = new ProcessBuilder(
            "unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "true")
        .redirectErrorStream(true)
        .start();
    p.getInputStream().readAllBytes();
    return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
  }

  /** {@code modelcache args} in new PID and mount namespaces where {@code root} is also at {@code at}. */
  private static ProcessBuilder inPod(Path root, Path at, String... args) {
    List<String> cmd = new ArrayList<>(List.of(
        "unshare",
        "--pid",
        "--fork",
        "--mount-proc",
        "--kill-child",
        "sh",
        "-c",
        "mkdir -p \"$1\" && mount --bind \"$2\" \"$1\" && shift 2 && exec \"$@\"",
        "sh",
        at.toString(),
        root.toString()));
    cmd.addAll(ProcessTest.modelcache(args).command());
    cmd.add(cmd.indexOf("--enable-native-access=ALL-UNNAMED"), "-XX:-UsePerfData");
    return new ProcessBuilder(cmd);
  }

  @Test
  void aLinkMadeInOnePodResolvesOnTheHostThatMountsTheRootElsewhere() throws Exception {
    assumeTrue(namespacesWork(), "skipped: unshare --pid is not permitted here");
    Path model = TestModels.sharded(tmp.resolve("store/llama"), 1024);
    Path root = Files.createDirectories(tmp.resolve("node/var/cache/modelcache"));
    Path podRoot = tmp.resolve("pod/mnt/cache");
    Path out = tmp.resolve("out.json");
    Process p = inPod(
            root,
            podRoot,
            "--root",
            podRoot.toString(),
            "prefetch",
            model.toUri().toString(),
            "--link",
            podRoot.resolve("links/llama").toString(),
            "--json")
        .redirectOutput(out.toFile())
        .redirectError(tmp.resolve("err.txt").toFile())
        .start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue())
        .as(Files.readString(tmp.resolve("err.txt"), StandardCharsets.UTF_8))
        .isZero();
    Map<String, Object> json = Cli.jsonObject(Files.readString(out).strip());
    assertThat((String) json.get("path")).as("the pod's own view").startsWith(podRoot.toString());

    Path link = root.resolve("links/llama");
    assertThat(Files.readSymbolicLink(link)).isRelative();
    assertThat(link.toRealPath())
        .as("the host resolves the pod's link in its own view")
        .startsWith(root.toRealPath().resolve("entries"));
    for (String name :
        List.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")) {
      assertThat(Files.mismatch(link.resolve(name), model.resolve(name))).isEqualTo(-1);
    }
    var ls = Cli.withRoot(root).run("ls", "--json");
    assertThat(ls.exitCode()).isZero();
    assertThat(ls.json()).containsEntry("root", root.toString());
    assertThat(ls.stdout()).doesNotContain(podRoot.toString());
    var warm = Cli.withRoot(root).run("warm", link.toString());
    assertThat(warm.exitCode()).as(warm.toString()).isZero();
  }
}
