package dev.modelcache.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.abort;

import org.junit.jupiter.api.Test;

/**
 * The real bindings against the installed CUDA runtime. Without a GPU (or driver) opening a sink
 * must fail with {@link CudaUnavailableException} carrying CUDA's own error string; with one, a
 * sink opens and closes. Where no {@code libcudart} is installed the tests are skipped.
 */
class CudaRuntimeBindingTest {

  private static CudaRuntime runtimeOrSkip() throws CudaUnavailableException {
    try {
      return CudaRuntime.load();
    } catch (CudaUnavailableException e) {
      if (e.reason() == CudaUnavailableException.Reason.NO_LIBRARY) {
        abort("no CUDA runtime library on this machine: " + e.getMessage());
      }
      throw e;
    }
  }

  @Test
  void bindsTheInstalledRuntimeAndItsErrorStrings() throws Exception {
    CudaRuntime runtime = runtimeOrSkip();
    assertThat(runtime.description()).matches("\\S*libcudart\\.so\\S*, runtime 1[2-9]\\.\\d+");
    assertThat(runtime.getErrorString(DeviceRuntime.ERROR_MEMORY_ALLOCATION))
        .isEqualTo("out of memory");
    assertThat(runtime.getErrorString(DeviceRuntime.ERROR_NO_DEVICE))
        .isEqualTo("no CUDA-capable device is detected");
  }

  @Test
  void openingReportsNoDeviceOrNoDriverInCudasWordsOrOpens() throws Exception {
    CudaRuntime runtime = runtimeOrSkip();
    int[] count = new int[1];
    int rc = runtime.getDeviceCount(count);
    try (CudaTensorSink sink = CudaTensorSink.open(0)) {
      // A machine with a GPU: the sink opened on it.
      assertThat(rc).isZero();
      assertThat(count[0]).isPositive();
      assertThat(sink.runtimeDescription()).isEqualTo(runtime.description());
    } catch (CudaUnavailableException e) {
      assertThat(e.reason())
          .isIn(
              CudaUnavailableException.Reason.NO_DEVICE, CudaUnavailableException.Reason.NO_DRIVER);
      CudaException cause = (CudaException) e.getCause();
      assertThat(cause.call()).isEqualTo("cudaGetDeviceCount");
      assertThat(cause.error())
          .isEqualTo(rc)
          .isIn(
              DeviceRuntime.ERROR_NO_DEVICE,
              DeviceRuntime.ERROR_INSUFFICIENT_DRIVER,
              DeviceRuntime.ERROR_INITIALIZATION,
              DeviceRuntime.ERROR_STUB_LIBRARY,
              DeviceRuntime.ERROR_SYSTEM_DRIVER_MISMATCH);
      String cudaSays = runtime.getErrorString(rc);
      assertThat(cudaSays).isNotBlank().isEqualTo(cause.errorString());
      assertThat(e.getMessage())
          .contains("error " + rc + " (" + cudaSays + ")")
          .contains(runtime.description())
          .doesNotContain("\n");
      System.out.println("CUDA here: " + e.getMessage());
    }
  }
}
