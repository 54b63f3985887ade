package dev.modelcache.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modelcache.loader.LoadResult;
import dev.modelcache.loader.Loader;
import dev.modelcache.loader.ReadStrategy;
import dev.modelcache.loader.SafetensorsFile;
import dev.modelcache.loader.SafetensorsModel;
import dev.modelcache.loader.TensorInfo;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The sink on the fake device: every byte where it belongs, buffers reused, copies complete. */
class CudaTensorSinkContractTest {
  private static final long BLOCK = 64 * 1024;
  private static final int IN_FLIGHT = 3;

  @TempDir
  static Path tmp;

  static SafetensorsModel model;

  @BeforeAll
  static void writeModel() throws Exception {
    model = SafetensorsModel.open(TestModel.write(tmp.resolve("model")));
  }

  private static Loader loader(ReadStrategy strategy) {
    return Loader.builder()
        .strategy(strategy)
        .blockSizeBytes(BLOCK)
        .inFlight(IN_FLIGHT)
        .build();
  }

  @ParameterizedTest
  @EnumSource(ReadStrategy.class)
  void everyTensorsBytesLandAtItsOffsetInOneDeviceAllocation(ReadStrategy strategy)
      throws Exception {
    FakeDeviceRuntime fake = new FakeDeviceRuntime(1);
    try (CudaTensorSink sink = CudaTensorSink.open(fake, 0)) {
      LoadResult result = sink.load(loader(strategy), model);

      assertThat(fake.pendingCopies())
          .as("streams synchronized before load returns")
          .isZero();
      assertThat(fake.of("device")).as("one cudaMalloc per model").hasSize(1);
      assertThat(sink.devicePointer()).isEqualTo(fake.of("device").getFirst().key);
      assertThat(result.tensorCount()).isEqualTo(7);
      assertThat(sink.bytesCopied())
          .isEqualTo(model.dataSizeBytes())
          .isEqualTo(result.bytesLoaded());

      long previousEnd = 0;
      int i = 0;
      for (SafetensorsFile f : model.files()) {
        byte[] file = Files.readAllBytes(f.path());
        for (TensorInfo t : f.tensors()) {
          CudaTensor d = sink.tensor(t.name());
          assertThat(sink.tensors().get(i++)).isEqualTo(d);
          assertThat(d.dtype()).isEqualTo(t.dtype());
          assertThat(d.shape()).containsExactly(t.shape());
          assertThat(d.byteSize()).isEqualTo(t.byteSize());
          assertThat(d.offset() % CudaTensorSink.DEVICE_ALIGNMENT).isZero();
          assertThat(d.offset())
              .as("in order, not overlapping")
              .isGreaterThanOrEqualTo(previousEnd);
          assertThat(d.devicePointer()).isEqualTo(sink.devicePointer() + d.offset());
          previousEnd = d.offset() + d.byteSize();
          byte[] expected =
              Arrays.copyOfRange(file, (int) t.fileOffset(), (int) (t.fileOffset() + t.byteSize()));
          assertThat(fake.deviceBytes(d.devicePointer(), (int) d.byteSize()))
              .as(t.name())
              .isEqualTo(expected);
        }
      }
      assertThat(sink.deviceBytes()).isEqualTo(previousEnd);
    }
    fake.assertAllFreedOnce();
  }

  @ParameterizedTest
  @EnumSource(
      value = ReadStrategy.class,
      names = {"DIRECT", "BUFFERED"})
  void readsLandInPinnedBuffersThatAreReused(ReadStrategy strategy) throws Exception {
    FakeDeviceRuntime fake = new FakeDeviceRuntime(1);
    try (CudaTensorSink sink = CudaTensorSink.open(fake, 0)) {
      sink.load(loader(strategy), model);
      int pool = strategy == ReadStrategy.DIRECT ? IN_FLIGHT + 1 : 1;
      // The model is ~500 KiB, so about 8 blocks per buffer pool: each buffer was refilled.
      assertThat(fake.calls("cudaHostAlloc")).isEqualTo(pool);
      assertThat(sink.pinnedBufferCount()).isEqualTo(pool);
      assertThat(fake.copySources).hasSizeGreaterThan(pool);
      assertThat(fake.copySources)
          .allSatisfy(src -> assertThat(fake.of("pinned"))
              .anySatisfy(p -> assertThat(within(src, p)).isTrue()));
      // One stream per pinned buffer plus the sink's own.
      assertThat(fake.of("stream")).hasSize(pool + 1);
    }
    fake.assertAllFreedOnce();
  }

  @Test
  void pinnedBuffersAreKeptForTheNextLoadAndFreedOnceAtClose() throws Exception {
    FakeDeviceRuntime fake = new FakeDeviceRuntime(1);
    CudaTensorSink sink = CudaTensorSink.open(fake, 0);
    sink.reserve(model);
    Loader loader = loader(ReadStrategy.DIRECT);
    loader.load(model, sink);
    loader.load(model, sink); // the same tensors again, into the same places
    sink.synchronizeAll();
    assertThat(fake.calls("cudaHostAlloc")).isEqualTo(IN_FLIGHT + 1);
    assertThat(fake.of("pinned")).allSatisfy(p -> assertThat(p.frees).isZero());
    sink.close();
    sink.close();
    fake.assertAllFreedOnce();
    assertThat(fake.calls("cudaFree")).isEqualTo(1);
    assertThat(fake.calls("cudaFreeHost")).isEqualTo(IN_FLIGHT + 1);
  }

  @Test
  void aThreadOtherThanTheOpenersSetsTheDeviceFirst() throws Exception {
    FakeDeviceRuntime fake = new FakeDeviceRuntime(2);
    try (CudaTensorSink sink = CudaTensorSink.open(fake, 1)) {
      int before = fake.calls("cudaSetDevice");
      Thread t = Thread.ofPlatform().start(() -> {
        try {
          sink.load(loader(ReadStrategy.DIRECT), model);
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      });
      t.join();
      assertThat(fake.calls("cudaSetDevice")).isGreaterThan(before);
      assertThat(sink.tensors()).hasSize(7);
      assertThat(sink.device()).isEqualTo(1);
    }
    fake.assertAllFreedOnce();
  }

  private static boolean within(MemorySegment src, FakeDeviceRuntime.Allocation pinned) {
    return src.address() >= pinned.key
        && src.address() + src.byteSize() <= pinned.key + pinned.size;
  }
}
