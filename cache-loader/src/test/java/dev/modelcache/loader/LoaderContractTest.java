package dev.modelcache.loader;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One contract, every implementation: each strategy through each sink yields the bytes that were
 * written, compared as per-tensor SHA-256, with small blocks so tensors straddle blocks.
 */
class LoaderContractTest {
  @TempDir
  static Path dir;

  static Path model;
  static Map<String, String> expected;

  @BeforeAll
  static void writeModel() throws IOException, NoSuchAlgorithmException {
    model = Files.createDirectory(dir.resolve("model"));
    Corpus.awkward(model.resolve("a.safetensors"), 1);
    SafetensorsWriter.create()
        .tensor("b.x", Dtype.U16, new long[] {70_001}, Corpus.bytes(140_002, 9))
        .tensor("b.y", Dtype.F8_E4M3, new long[] {5}, Corpus.bytes(5, 10))
        .write(model.resolve("b.safetensors"));
    expected = new LinkedHashMap<>();
    for (SafetensorsFile f : SafetensorsModel.open(model).files()) {
      byte[] all = Files.readAllBytes(f.path());
      for (TensorInfo t : f.tensors()) {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(all, (int) t.fileOffset(), (int) t.byteSize());
        expected.put(t.name(), HexFormat.of().formatHex(md.digest()));
      }
    }
  }

  /** A loader configuration; {@code refuseDirect} injects the kernel's EINVAL at the O_DIRECT open. */
  record Config(ReadStrategy strategy, long blockSizeBytes, int inFlight, boolean refuseDirect) {
    Config(ReadStrategy strategy, long blockSizeBytes, int inFlight) {
      this(strategy, blockSizeBytes, inFlight, false);
    }

    Loader loader() {
      Loader.Builder b =
          Loader.builder().strategy(strategy).blockSizeBytes(blockSizeBytes).inFlight(inFlight);
      if (refuseDirect) {
        b.directOpener(p -> {
          throw new java.nio.file.FileSystemException(p.toString(), null, "Invalid argument");
        });
      }
      return b.build();
    }

    ReadStrategy expectedUsed() {
      return refuseDirect ? ReadStrategy.BUFFERED : strategy;
    }
  }

  static Stream<Arguments> matrix() {
    List<Config> configs = List.of(
        new Config(ReadStrategy.MMAP, 4096, 1),
        new Config(ReadStrategy.BUFFERED, 4096, 1),
        new Config(ReadStrategy.BUFFERED, 1 << 20, 1),
        new Config(ReadStrategy.DIRECT, 4096, 1),
        new Config(ReadStrategy.DIRECT, 8192, 3),
        new Config(ReadStrategy.DIRECT, 1 << 20, 4),
        new Config(ReadStrategy.DIRECT, 8192, 2, true));
    List<String> sinks = List.of("offheap", "heap", "sha256", "crc32c", "discard");
    List<Arguments> args = new ArrayList<>();
    for (Config c : configs) {
      for (String s : sinks) {
        args.add(Arguments.of(c, s));
      }
    }
    return args.stream();
  }

  @ParameterizedTest(name = "{0} into {1}")
  @MethodSource("matrix")
  void identicalBytes(Config config, String sinkName) throws Exception {
    SafetensorsModel m = SafetensorsModel.open(model);
    LoadResult result;
    Map<String, String> actual = new LinkedHashMap<>();
    switch (sinkName) {
      case "offheap" -> {
        try (OffHeapTensorSink sink = OffHeapTensorSink.create()) {
          result = config.loader().load(m, sink);
          for (String name : sink.names()) {
            actual.put(name, sha256(sink.segment(name)));
          }
        }
      }
      case "heap" -> {
        HeapTensorSink sink = new HeapTensorSink();
        result = config.loader().load(m, sink);
        sink.arrays().forEach((k, v) -> actual.put(k, sha256(MemorySegment.ofArray(v))));
      }
      case "sha256" -> {
        DigestTensorSink sink = DigestTensorSink.of(DigestTensorSink.Algorithm.SHA_256);
        result = config.loader().load(m, sink);
        actual.putAll(sink.digests());
        assertThat(sink.digests()).isEqualTo(expected);
      }
      case "crc32c" -> {
        DigestTensorSink sink = DigestTensorSink.of(DigestTensorSink.Algorithm.CRC32C);
        result = config.loader().load(m, sink);
        DigestTensorSink reference = DigestTensorSink.of(DigestTensorSink.Algorithm.CRC32C);
        Loader.builder().strategy(ReadStrategy.BUFFERED).build().load(m, reference);
        assertThat(sink.digests()).isEqualTo(reference.digests()).hasSize(expected.size());
        actual.putAll(expected); // the CRC comparison above is this sink's check
      }
      default -> {
        DiscardTensorSink sink = new DiscardTensorSink();
        result = config.loader().load(m, sink);
        assertThat(sink.bytesReceived()).isEqualTo(m.dataSizeBytes());
        assertThat(sink.tensorsReceived()).isEqualTo(expected.size());
        actual.putAll(expected);
      }
    }
    assertThat(actual).containsExactlyEntriesOf(expected);
    assertThat(result.bytesLoaded()).isEqualTo(m.dataSizeBytes());
    assertThat(result.tensorCount()).isEqualTo(expected.size());
    assertThat(result.usedStrategy()).isEqualTo(config.expectedUsed());
    assertThat(result.fallbackReason().isPresent()).isEqualTo(config.refuseDirect());
    if (config.strategy() == ReadStrategy.DIRECT) {
      assertThat(result.bufferPoolBytes())
          .isEqualTo((config.inFlight() + 1L) * config.blockSizeBytes());
    }
  }

  private static String sha256(MemorySegment s) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(s.asByteBuffer());
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
