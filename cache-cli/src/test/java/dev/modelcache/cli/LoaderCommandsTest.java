package dev.modelcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code inspect}, {@code load} and {@code warm} on real safetensors files. */
class LoaderCommandsTest {

  @TempDir
  Path tmp;

  @Test
  void inspectListsTensorsWithOffsetsAndDigests() throws Exception {
    byte[] a = TestModels.bytes(24, 7);
    byte[] b = TestModels.bytes(8, 8);
    Path file = TestModels.write(
        tmp.resolve("tiny.safetensors"),
        new TestModels.Tensor("a", "F32", new long[] {2, 3}, a),
        new TestModels.Tensor("b", "I64", new long[] {}, b));
    var r = Cli.plain().run("inspect", file.toString(), "--hash", "sha256", "--json");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.json())
        .isEqualTo(Map.of(
            "tensors",
            List.of(
                Map.of(
                    "name",
                    "a",
                    "dtype",
                    "F32",
                    "shape",
                    List.of(2L, 3L),
                    "file",
                    "tiny.safetensors",
                    "dataOffsets",
                    List.of(0L, 24L),
                    "sha256",
                    TestModels.sha256(a)),
                Map.of(
                    "name",
                    "b",
                    "dtype",
                    "I64",
                    "shape",
                    List.of(),
                    "file",
                    "tiny.safetensors",
                    "dataOffsets",
                    List.of(24L, 32L),
                    "sha256",
                    TestModels.sha256(b)))));
    assertThat(List.copyOf(r.json().keySet())).containsExactly("tensors");
  }

  @Test
  void inspectOfAShardedDirectoryNamesEachTensorsFile() {
    Path dir = tmp.resolve("model");
    try {
      TestModels.sharded(dir, 4);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    var r = Cli.plain().run("--json", "inspect", dir.toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    @SuppressWarnings("unchecked")
    var tensors = (List<Map<String, Object>>) r.json().get("tensors");
    assertThat(tensors)
        .extracting(t -> t.get("name") + "@" + t.get("file"))
        .containsExactlyInAnyOrder(
            "model.embed_tokens.weight@model-00001-of-00002.safetensors",
            "model.norm.weight@model-00001-of-00002.safetensors",
            "lm_head.weight@model-00002-of-00002.safetensors");
    assertThat(tensors).allSatisfy(t -> assertThat(t).containsEntry("sha256", null));

    var human = Cli.plain().run("inspect", dir.toString());
    assertThat(human.exitCode()).isZero();
    assertThat(human.stdout())
        .contains("valid safetensors, 3 tensors in 2 files")
        .contains("lm_head.weight");
  }

  @Test
  void invalidSafetensorsExitsThreeNamingTheRule() throws Exception {
    // The header says 8 bytes of F32 [2], but the data section holds 12: trailing bytes.
    Path file = TestModels.writeRaw(
        tmp.resolve("bad.safetensors"),
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
        new byte[12]);
    var r = Cli.plain().run("inspect", file.toString());
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(3);
    assertThat(r.stdout()).isEmpty();
    assertThat(r.stderrLines()).hasSize(1);
    assertThat(r.stderr()).startsWith("modelcache inspect: ").contains("bad.safetensors");

    var json = Cli.plain().run("inspect", "--json", file.toString());
    assertThat(json.exitCode()).isEqualTo(3);
    assertThat(json.json()).containsEntry("exitCode", 3L).containsKey("error");
  }

  @Test
  void truncatedFileExitsThree() throws Exception {
    Path file = tmp.resolve("short.safetensors");
    Files.write(file, new byte[] {1, 2, 3});
    var r = Cli.plain().run("inspect", file.toString());
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(3);
    assertThat(r.stderrLines()).hasSize(1);
    assertThat(r.stderr()).contains("short.safetensors");
  }

  @Test
  void missingFileIsAUsageErrorOnOneLine() {
    var r = Cli.plain().run("inspect", tmp.resolve("nope.safetensors").toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderrLines())
        .containsExactly(
            "modelcache inspect: no such file or directory: " + tmp.resolve("nope.safetensors"));
    assertThat(r.stdout()).isEmpty();
  }

  @Test
  void unknownHashIsAUsageError() throws Exception {
    Path file = TestModels.write(
        tmp.resolve("t.safetensors"),
        new TestModels.Tensor("a", "U8", new long[] {1}, new byte[] {1}));
    var r = Cli.plain().run("inspect", file.toString(), "--hash", "md5");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderrLines()).hasSize(1);
    assertThat(r.stderr()).contains("--hash").contains("md5");
  }

  @Test
  void loadReportsBytesAndThroughputForEachStrategyAndSink() throws Exception {
    Path dir = TestModels.sharded(tmp.resolve("model"), 256);
    long expected = 2L * 256 * 1024 + 16;
    for (String strategy : List.of("mmap", "direct", "buffered")) {
      for (String sink : List.of("discard", "offheap", "digest")) {
        var r = Cli.plain()
            .run("load", dir.toString(), "--strategy", strategy, "--sink", sink, "--json");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        var json = r.json();
        assertThat(json.get("bytes")).isEqualTo(expected);
        assertThat(json.get("requestedStrategy")).isEqualTo(strategy);
        assertThat(json.get("strategy")).isIn(strategy, "buffered");
        if (json.get("strategy").equals(strategy)) {
          assertThat(json.get("fallbackReason")).as("no fallback, no reason").isNull();
          assertThat(r.stderr()).doesNotContain("note:");
        } else {
          assertThat((String) json.get("fallbackReason")).isNotBlank();
        }
        assertThat(json.get("sink")).isEqualTo(sink);
        assertThat(json.get("tensors")).isEqualTo(3L);
        assertThat(json.get("files")).isEqualTo(2L);
        assertThat(((Number) json.get("seconds")).doubleValue()).isPositive();
        double rate = ((Number) json.get("bytesPerSecond")).doubleValue();
        assertThat(rate)
            .isCloseTo(
                expected / ((Number) json.get("seconds")).doubleValue(),
                org.assertj.core.data.Percentage.withPercentage(1));
      }
    }
  }

  @Test
  void loadPrintsAHumanSummaryAndProgressOnStderr() throws Exception {
    Path dir = TestModels.sharded(tmp.resolve("model"), 64);
    var r = Cli.plain().run("load", dir.toString(), "--cold");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout()).startsWith("loaded 128 KiB (3 tensors, 2 files) in ").contains("GiB/s");
    assertThat(r.stderr()).contains("load: 128 KiB in ");

    var quiet = Cli.plain().run("load", dir.toString(), "--quiet");
    assertThat(quiet.exitCode()).isZero();
    assertThat(quiet.stderr()).isEmpty();
  }

  @Test
  void aTerminalGetsABarAndDebugGetsAStackTrace() throws Exception {
    Path dir = TestModels.sharded(tmp.resolve("model"), 64);
    var bar = Cli.plain().terminal(true).run("load", dir.toString());
    assertThat(bar.exitCode()).isZero();
    assertThat(bar.stderr()).startsWith("\rload [").contains("100% 128 KiB / 128 KiB");

    Path bad = TestModels.writeRaw(tmp.resolve("bad.safetensors"), "[1,2]", new byte[0]);
    var debug = Cli.plain().run("--debug", "inspect", bad.toString());
    assertThat(debug.exitCode()).isEqualTo(3);
    assertThat(debug.stderrLines().get(0)).startsWith("modelcache inspect: ");
    assertThat(debug.stderr())
        .contains("SafetensorsFormatException")
        .contains("\tat dev.modelcache.");
  }

  @Test
  void loadOfAnInvalidModelExitsThree() throws Exception {
    Path dir = TestModels.sharded(tmp.resolve("model"), 4);
    Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
    var r = Cli.plain().run("load", dir.toString());
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(3);
    assertThat(r.stderrLines()).hasSize(1);
    assertThat(r.stderr()).contains("model-00002-of-00002.safetensors");
  }

  @Test
  void loadIntoCudaWithoutAGpuExitsOneWithOneLineSayingWhy() throws Exception {
    Path dir = TestModels.sharded(tmp.resolve("model"), 64);
    boolean gpu;
    try (var sink = dev.modelcache.cuda.CudaTensorSink.open(0)) {
      gpu = true;
    } catch (dev.modelcache.cuda.CudaUnavailableException e) {
      gpu = false;
    }
    var r = Cli.plain().run("load", dir.toString(), "--sink", "cuda");
    if (gpu) {
      assertThat(r.exitCode()).as(r.toString()).isZero();
      assertThat(r.stdout()).contains("GiB/s").contains("into the memory of device 0");
      return;
    }
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
    assertThat(r.stdout()).isEmpty();
    assertThat(r.stderrLines()).as(r.toString()).hasSize(1);
    assertThat(r.stderr())
        .startsWith("modelcache load: no ")
        .containsPattern("no usable NVIDIA driver|no CUDA device|no CUDA runtime library found")
        .doesNotContain("\tat ")
        .doesNotContain("Exception");

    var json = Cli.plain().run("load", dir.toString(), "--sink", "cuda:0", "--json");
    assertThat(json.exitCode()).isEqualTo(1);
    assertThat(json.stderrLines()).hasSize(1);
    assertThat((String) json.json().get("error"))
        .isEqualTo(r.stderr().strip().substring("modelcache load: ".length()));
  }

  @Test
  void aBadSinkIsAUsageError() throws Exception {
    Path dir = TestModels.sharded(tmp.resolve("model"), 4);
    for (String bad : List.of("teleport", "cuda:x", "cuda:-1", "digest:0")) {
      var r = Cli.plain().run("load", dir.toString(), "--sink", bad);
      assertThat(r.exitCode()).as(bad).isEqualTo(2);
      assertThat(r.stderrLines()).as(bad).hasSize(1);
      assertThat(r.stderr()).contains("--sink").contains(bad);
    }
  }

  @Test
  void badStrategyIsAUsageError() throws Exception {
    Path dir = TestModels.sharded(tmp.resolve("model"), 4);
    var r = Cli.plain().run("load", dir.toString(), "--strategy", "teleport");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderrLines()).hasSize(1);
    assertThat(r.stderr()).contains("--strategy").contains("teleport");
  }

  @Test
  void warmReadsEveryFileThroughALink() throws Exception {
    Path dir = TestModels.sharded(tmp.resolve("model"), 64);
    Path link = Files.createSymbolicLink(tmp.resolve("current"), dir);
    long total;
    try (var files = Files.list(dir)) {
      total = files.mapToLong(p -> p.toFile().length()).sum();
    }
    var r = Cli.plain().run("warm", link.toString(), "--json");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.json())
        .containsEntry("files", 3L)
        .containsEntry("bytes", total)
        .containsEntry("path", dir.toRealPath().toString());

    var missing = Cli.plain().run("warm", tmp.resolve("absent").toString());
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.stderrLines()).hasSize(1);
  }
}
