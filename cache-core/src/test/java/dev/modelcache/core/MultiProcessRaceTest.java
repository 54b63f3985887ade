package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Four JVMs ensure one model from the same root at the same moment: the source is read exactly
 * once in total, one process downloads, the others wait for its commit, and all end with the
 * same verified files.
 */
class MultiProcessRaceTest {

  @TempDir
  Path tmp;

  @Test
  void fourProcessesCauseOneDownloadAndAgreeOnTheFiles() throws Exception {
    ModelFixture model =
        ModelFixture.create(tmp.resolve("model"), 31, 3 << 20, 2 << 20, 1 << 20, 777_777, 5);
    Path root = Files.createDirectories(tmp.resolve("cache"));
    Path counts = tmp.resolve("counts.txt");
    Path go = tmp.resolve("go");
    String uri = model.uri("countingfile").toString();
    Map<String, String> props =
        Map.of("modelcache.test.countFile", counts.toString(), "modelcache.test.readDelayMs", "40");

    List<ChildJvm> children = new ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        children.add(ChildJvm.start(
            tmp.resolve("child-" + i + ".log"),
            props,
            true,
            "ensure",
            root.toString(),
            uri,
            Integer.toString(256 << 10),
            "2",
            go.toString()));
      }
      for (ChildJvm c : children) {
        c.awaitLine("READY", Duration.ofSeconds(60));
      }
      Files.createFile(go); // all four call ensure now

      List<String> dirs = new ArrayList<>();
      int downloaders = 0;
      for (ChildJvm c : children) {
        assertThat(c.waitFor(Duration.ofSeconds(90))).as(c.output()).isZero();
        String out = c.output();
        assertThat(out).as(out).contains("VERIFY ok");
        dirs.add(c.awaitLine("DIR ", Duration.ofSeconds(1)).substring(4));
        if (out.contains("DOWNLOADED ")) {
          downloaders++;
        }
      }
      assertThat(downloaders).as("processes that downloaded").isEqualTo(1);
      assertThat(dirs).allMatch(d -> d.equals(dirs.getFirst()));
      assertThat(CountingFileBackend.countedBytes(counts))
          .as("bytes read from the source")
          .isEqualTo(model.sizeBytes());
      assertThat(model.matches(Path.of(dirs.getFirst()))).isTrue();
      try (var staging = Files.list(root.resolve("staging"))) {
        assertThat(staging).as("no staging debris").isEmpty();
      }
    } finally {
      for (ChildJvm c : children) {
        c.close();
      }
    }
  }
}
