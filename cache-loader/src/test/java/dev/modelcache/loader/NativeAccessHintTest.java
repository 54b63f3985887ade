package dev.modelcache.loader;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * In a JVM started without native access the loader still loads, the page-cache calls report
 * that they did nothing, and the exact enabling flag is logged once.
 */
class NativeAccessHintTest {
  @TempDir
  Path dir;

  /** Run in the child JVM: loads with every strategy and prints what happened. */
  public static final class Probe {
    private Probe() {}

    public static void main(String[] args) throws IOException {
      Path f = Path.of(args[0]);
      for (ReadStrategy s : ReadStrategy.values()) {
        DigestTensorSink sink = DigestTensorSink.of(DigestTensorSink.Algorithm.CRC32C);
        LoadResult r =
            Loader.builder().strategy(s).dropPagesAfterLoad(true).build().load(f, sink);
        System.out.println("loaded " + s + " " + r.bytesLoaded() + " dropped=" + r.pagesDropped());
      }
      System.out.println("controllable=" + PageCache.isControllable() + " resident="
          + PageCache.residentBytes(f).isPresent());
    }
  }

  private String run(boolean nativeAccess, Path file) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    if (nativeAccess) {
      cmd.add("--enable-native-access=ALL-UNNAMED");
    }
    cmd.addAll(List.of(
        "-cp", System.getProperty("java.class.path"), Probe.class.getName(), file.toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }

  @Test
  void withoutNativeAccessTheLoaderWorksAndNamesTheFlagOnce() throws Exception {
    Path f = dir.resolve("m.safetensors");
    SafetensorsFile file = Corpus.awkward(f, 3);
    String out = run(false, f);
    for (ReadStrategy s : ReadStrategy.values()) {
      assertThat(out).contains("loaded " + s + " " + file.dataSizeBytes() + " dropped=false");
    }
    assertThat(out).contains("controllable=false resident=false");
    String flag = "--enable-native-access=ALL-UNNAMED";
    assertThat(out.split(java.util.regex.Pattern.quote("start the JVM with " + flag), -1))
        .hasSize(2);
  }

  @Test
  void withNativeAccessNothingIsLogged() throws Exception {
    Path f = dir.resolve("m.safetensors");
    Corpus.awkward(f, 4);
    String out = run(true, f);
    assertThat(out)
        .contains("dropped=true")
        .contains("controllable=true resident=true")
        .doesNotContain("native access is not enabled");
  }
}
