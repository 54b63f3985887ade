package dev.modelcache.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.loader.Loader;
import dev.modelcache.loader.ReadStrategy;
import dev.modelcache.loader.SafetensorsModel;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Failing CUDA calls: the exception names the call and its error, and everything is freed once. */
class CudaTensorSinkFaultTest {
  @TempDir
  static Path tmp;

  static SafetensorsModel model;

  @BeforeAll
  static void writeModel() throws Exception {
    model = SafetensorsModel.open(TestModel.write(tmp.resolve("model")));
  }

  private static Loader loader() {
    return Loader.builder()
        .strategy(ReadStrategy.DIRECT)
        .blockSizeBytes(64 * 1024)
        .inFlight(2)
        .build();
  }

  @Test
  void cudaMallocOutOfMemoryIsReportedWithTheSizeAndReleasesTheSink() throws Exception {
    FakeDeviceRuntime fake = new FakeDeviceRuntime(1);
    fake.deviceCapacity = 1000;
    CudaTensorSink sink = CudaTensorSink.open(fake, 0);
    assertThatThrownBy(() -> sink.load(loader(), model))
        .isInstanceOfSatisfying(CudaOutOfMemoryException.class, e -> {
          assertThat(e.call()).isEqualTo("cudaMalloc");
          assertThat(e.error()).isEqualTo(2);
          assertThat(e.errorString()).isEqualTo("out of memory");
          assertThat(e.requestedBytes()).isGreaterThan(model.dataSizeBytes() - 1);
          assertThat(e.getMessage())
              .startsWith("cudaMalloc failed with CUDA error 2 (out of memory): ")
              .contains(" bytes on device 0 for " + model.path());
        });
    assertThat(fake.calls("cudaHostAlloc")).as("nothing read after the failure").isZero();
    fake.assertAllFreedOnce(); // the copy stream, destroyed at the failure
    assertThatThrownBy(() -> sink.reserve(model))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("released after a failure");
    sink.close();
    sink.close();
    fake.assertAllFreedOnce();
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 5, 9})
  void aFailingCopyMidwayNamesCudaMemcpyAsyncAndFreesEverythingOnce(int failingCall)
      throws Exception {
    FakeDeviceRuntime fake = new FakeDeviceRuntime(1)
        .failOnCall("cudaMemcpyAsync", failingCall, FakeDeviceRuntime.ERROR_ILLEGAL_ADDRESS);
    CudaTensorSink sink = CudaTensorSink.open(fake, 0);
    assertThatThrownBy(() -> sink.load(loader(), model))
        .isInstanceOfSatisfying(CudaException.class, e -> {
          assertThat(e.call()).isEqualTo("cudaMemcpyAsync");
          assertThat(e.error()).isEqualTo(700);
          assertThat(e.getMessage())
              .startsWith(
                  "cudaMemcpyAsync failed with CUDA error 700 (an illegal memory access was encountered): ");
        });
    assertThat(fake.calls("cudaMemcpyAsync")).isEqualTo(failingCall);
    // Freed at the failure: device memory and streams; pinned buffers as the loader gave them back.
    fake.assertAllFreedOnce();
    assertThat(fake.of("pinned")).hasSize(3);
    sink.close();
    sink.close();
    fake.assertAllFreedOnce();
  }

  @Test
  void aFailingSynchronizeNamesCudaStreamSynchronize() throws Exception {
    FakeDeviceRuntime fake = new FakeDeviceRuntime(1)
        .failOnCall("cudaStreamSynchronize", 4, FakeDeviceRuntime.ERROR_ILLEGAL_ADDRESS);
    try (CudaTensorSink sink = CudaTensorSink.open(fake, 0)) {
      assertThatThrownBy(() -> sink.load(loader(), model))
          .isInstanceOfSatisfying(
              CudaException.class, e -> assertThat(e.call()).isEqualTo("cudaStreamSynchronize"));
    }
    fake.assertAllFreedOnce();
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3})
  void aFailingHostAllocFreesTheBuffersAlreadyAllocated(int failingCall) throws Exception {
    FakeDeviceRuntime fake = new FakeDeviceRuntime(1)
        .failOnCall("cudaHostAlloc", failingCall, DeviceRuntime.ERROR_MEMORY_ALLOCATION);
    CudaTensorSink sink = CudaTensorSink.open(fake, 0);
    assertThatThrownBy(() -> sink.load(loader(), model))
        .isInstanceOfSatisfying(CudaOutOfMemoryException.class, e -> {
          assertThat(e.call()).isEqualTo("cudaHostAlloc");
          assertThat(e.requestedBytes()).isEqualTo(64 * 1024);
          assertThat(e.getMessage()).contains("(out of memory)").contains("pinned host memory");
        });
    assertThat(fake.of("pinned")).hasSize(failingCall - 1);
    assertThat(fake.calls("cudaMemcpyAsync")).isZero();
    fake.assertAllFreedOnce();
    sink.close();
    sink.close();
    fake.assertAllFreedOnce();
  }

  @Test
  void aFailingStreamCreateAtOpenLeavesNothingBehind() {
    FakeDeviceRuntime fake = new FakeDeviceRuntime(1).failOnCall("cudaStreamCreate", 1, 999);
    assertThatThrownBy(() -> CudaTensorSink.open(fake, 0))
        .isInstanceOfSatisfying(CudaException.class, e -> {
          assertThat(e.call()).isEqualTo("cudaStreamCreate");
          assertThat(e.error()).isEqualTo(999);
        });
    fake.assertAllFreedOnce();
  }

  @Test
  void closeAfterASuccessfulLoadFreesEachAllocationExactlyOnce() throws Exception {
    FakeDeviceRuntime fake = new FakeDeviceRuntime(1);
    CudaTensorSink sink = CudaTensorSink.open(fake, 0);
    sink.load(loader(), model);
    sink.close();
    sink.close();
    fake.assertAllFreedOnce();
    assertThat(fake.allocations).hasSize(1 + 3 + 3 + 1); // device, 3 pinned, 3 streams, copy stream
    assertThatThrownBy(() -> sink.tensor("norm.weight"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void noDeviceAndNoDriverAreCudaUnavailableWithCudasOwnWords() {
    assertThatThrownBy(
            () -> CudaTensorSink.open(new FakeDeviceRuntime(DeviceRuntime.ERROR_NO_DEVICE, 0), 0))
        .isInstanceOfSatisfying(CudaUnavailableException.class, e -> {
          assertThat(e.reason()).isEqualTo(CudaUnavailableException.Reason.NO_DEVICE);
          assertThat(e.getMessage())
              .startsWith("no CUDA device: cudaGetDeviceCount failed with CUDA error 100"
                  + " (no CUDA-capable device is detected)");
          assertThat(e.getCause()).isInstanceOf(CudaException.class);
        });
    assertThatThrownBy(() -> CudaTensorSink.open(
            new FakeDeviceRuntime(DeviceRuntime.ERROR_INSUFFICIENT_DRIVER, 0), 0))
        .isInstanceOfSatisfying(CudaUnavailableException.class, e -> {
          assertThat(e.reason()).isEqualTo(CudaUnavailableException.Reason.NO_DRIVER);
          assertThat(e.getMessage()).contains("error 35 (CUDA driver version is insufficient");
        });
    assertThatThrownBy(() -> CudaTensorSink.open(new FakeDeviceRuntime(1), 1))
        .isInstanceOfSatisfying(CudaUnavailableException.class, e -> {
          assertThat(e.reason()).isEqualTo(CudaUnavailableException.Reason.NO_DEVICE);
          assertThat(e.getMessage()).startsWith("no CUDA device 1: 1 device(s) visible");
        });
    assertThatThrownBy(() -> CudaTensorSink.open(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void loadingWithoutReservingIsRefusedClearly() throws Exception {
    FakeDeviceRuntime fake = new FakeDeviceRuntime(1);
    try (CudaTensorSink sink = CudaTensorSink.open(fake, 0)) {
      assertThatThrownBy(() -> loader().load(model, sink))
          .hasRootCauseInstanceOf(IllegalStateException.class)
          .rootCause()
          .hasMessageContaining("call reserve(model) before loading");
    }
    fake.assertAllFreedOnce();
  }
}
